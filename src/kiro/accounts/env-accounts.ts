// Accounts from KIRO_AUTH_TOKEN: not stored (they live in the variable or the file it names), first
// in priority, and ids by position (`env-1`, `env-2`…). A refresh token Kiro rotates is written
// back to that file when there is one; an inline variable cannot be updated, so the user is told.
import type { AccountsContext } from './accounts-context';
import type { KiroAccount } from './account';
import type { PooledAccount } from './account-pool';
import type { AccountCredentials } from './credentials';
import { persistRotatedRefreshToken } from './credentials-file';
import type { TokenKeeper } from './token-keeper';

/** Where an account came from: the file KIRO_AUTH_TOKEN named (if any) and its position there. */
interface EnvOrigin {
  file?: string;
  index: number;
}

export class EnvAccounts {
  private readonly origins = new Map<string, EnvOrigin>();

  constructor(
    private readonly ctx: AccountsContext,
    private readonly tokens: TokenKeeper,
    private readonly newAccount: (credentials: AccountCredentials) => KiroAccount,
  ) {}

  /** Adds the accounts not in the pool yet; returns the ones added. */
  add(accounts: readonly AccountCredentials[], file: string | undefined): PooledAccount[] {
    const added: PooledAccount[] = [];
    for (const credentials of accounts) {
      const id = `env-${credentials.index + 1}`;
      if (this.ctx.pool.get(id)) continue;
      const account = this.newAccount(credentials);
      this.origins.set(id, { file, index: credentials.index });
      const entry = this.ctx.pool.add({ id, account, source: 'env', disabled: credentials.disabled });
      account.tokens.onDidRotateRefreshToken((token) => void this.persistRotation(entry, token));
      added.push(entry);
    }
    return added;
  }

  forget(id: string): void {
    this.origins.delete(id);
  }

  private async persistRotation(entry: PooledAccount, refreshToken: string): Promise<void> {
    const origin = this.origins.get(entry.id);
    if (!origin?.file) {
      this.ctx.logger.warn(
        `Kiro rotated the refresh token of ${entry.label}; the one in KIRO_AUTH_TOKEN may stop working after a restart. ` +
          'Point KIRO_AUTH_TOKEN at a file, or save the account with "kiro-bridge accounts add", so the new token is kept.',
      );
      return;
    }
    await this.tokens.retryPersist(entry, () => persistRotatedRefreshToken(origin.file!, origin.index, refreshToken, entry.account.machineId), origin.file);
  }
}
