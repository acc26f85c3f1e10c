// What the front ends see of the accounts: the VS Code side (status bar, account commands, traffic
// header) and the CLI's `accounts` commands read accounts as snapshots and change them through
// `AccountsService`. Snapshots carry no secret.
import type { IDisposable } from '../../common/disposable';
import type { AccountState } from './account-state';
import type { AuthKind } from './credentials';

export type { AccountState } from './account-state';

export interface AccountCredits {
  remaining: number;
  limit: number;
  /** Epoch ms. */
  resetAt?: number;
  usedThisSession: number;
  subscription?: string;
}

export interface AccountSnapshot {
  /** Stable, not derived from a secret in a reversible way. */
  id: string;
  /** E-mail when known, else e.g. "Social aor…x7Qz" or "API key ksk…6d8e" (masked). */
  label: string;
  kind: AuthKind;
  source: 'manual' | 'kiro-ide' | 'env' | 'sign-in';
  state: AccountState;
  /** Human sentence, no secrets. */
  stateReason?: string;
  /** Epoch ms, for cooling_down / quota_exhausted. */
  until?: number;
  credits?: AccountCredits;
  /** Kiro model ids this account can use. */
  models?: string[];
  /** The account priority selection currently uses. */
  active: boolean;
}

export interface AddAccountInput {
  kind: AuthKind;
  /** Social and IdC. */
  refreshToken?: string;
  /** ApiKey: the `ksk_…` key. */
  apiKey?: string;
  clientId?: string;
  clientSecret?: string;
  region?: string;
  label?: string;
  source?: AccountSnapshot['source'];
}

/** What a sign-in knows beyond a pasted token; `add` keeps it with the account. */
export interface AddAccountDetails {
  profileArn?: string;
  /** Github, Google, BuilderId, Enterprise… */
  provider?: string;
  /** A 64-hex device id to keep (a sign-in may have used one already). */
  machineId?: string;
  /** IAM Identity Center start URL. */
  startUrl?: string;
  /** Epoch ms after which the IdC client registration stops working. */
  clientSecretExpiresAt?: number;
}

export interface AccountsService {
  list(): AccountSnapshot[];
  onDidChange(listener: () => void): IDisposable;
  /**
   * Validates with a real refresh (an API key: a usage check with the key) before anything is
   * saved; throws KiroError with a clear message.
   */
  add(input: AddAccountInput & AddAccountDetails): Promise<AccountSnapshot>;
  importKiroIde(options?: { cacheDir?: string }): Promise<AccountSnapshot>;
  remove(id: string): Promise<void>;
  setDisabled(id: string, disabled: boolean): Promise<void>;
  refreshUsage(id?: string): Promise<void>;
  setStrategy(strategy: 'priority' | 'round-robin'): void;
}
