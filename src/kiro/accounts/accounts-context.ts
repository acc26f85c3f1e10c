// What the accounts service's parts share: the pool, the store, the clock and logger, and the
// service's change notice. Each part (usage checks, token keeping, the IDE follower, KIRO_AUTH_TOKEN
// accounts) gets this one object instead of a reference back to the service.
import type { Logger } from '../../common/logger';
import type { Redactor } from '../../common/redact';
import type { AccountPool } from './account-pool';
import type { AccountStore } from './account-store';

export interface AccountsContext {
  readonly pool: AccountPool;
  readonly store: AccountStore;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly now: () => number;
  /** True once the service is disposed: background work stops. */
  isDisposed(): boolean;
  /** Tells the service's listeners (once per tick, however many things changed). */
  changed(): void;
  /** Registers secrets with the redactor as they appear. */
  registerSecrets(...secrets: (string | undefined)[]): void;
}
