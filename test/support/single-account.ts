// Single-account set-ups for tests: a pool holding one fixed account (or none, to test the "no
// account" paths), and the first enabled entry of a KIRO_AUTH_TOKEN list. The bridge itself
// always serves from the accounts service's pool.
import { KiroError } from '../../src/kiro/errors';
import type { KiroAccount } from '../../src/kiro/accounts/account';
import { AccountPool, type AccountLease, type AccountPoolOptions, type AccountProvider, type ExecuteOptions } from '../../src/kiro/accounts/account-pool';
import type { AccountCredentials } from '../../src/kiro/accounts/credentials';

/** The first account not disabled. */
export function firstEnabled(accounts: readonly AccountCredentials[]): AccountCredentials | undefined {
  return accounts.find((a) => !a.disabled);
}

/** A pool of (at most) one account, for tests that need one fixed account or none at all. */
export class SingleAccountProvider extends AccountPool implements AccountProvider {
  constructor(
    private readonly account: KiroAccount | undefined,
    private readonly missingReason = 'no Kiro account is configured (set KIRO_AUTH_TOKEN)',
    options: AccountPoolOptions = {},
  ) {
    super(options);
    if (account) this.add({ id: 'single', account, source: 'env' });
  }

  override unavailableReason(model?: string): string {
    return this.account ? super.unavailableReason(model) : this.missingReason;
  }

  override async execute<T>(options: ExecuteOptions, run: (lease: AccountLease) => Promise<T>): Promise<T> {
    if (!this.account) throw new KiroError('no_account', this.missingReason);
    return super.execute(options, run);
  }

  override async dispose(): Promise<void> {
    super.dispose();
    await this.account?.dispose();
  }
}
