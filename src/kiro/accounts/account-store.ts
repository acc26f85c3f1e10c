// Saved accounts, kept in a SecretStore (VS Code SecretStorage in the extension, a 0600 JSON file in
// the CLI): one entry per account plus an index of ids. Refresh tokens, Kiro API keys, client
// secrets and access tokens live only here.
//
// Crash safety: every change of one account is one `set` of its own entry, so a write is either
// the old record or the new one, never half of each. A rotated refresh token is written together
// with the one it replaces (`previousRefreshToken`), so the last token known to work is never
// dropped before its successor is on disk. Adding writes the entry before the index (a crash
// leaves an unlisted entry, not a listed hole); removing drops it from the index first.
import type { IDisposable } from '../../common/disposable';
import type { SecretStore } from '../../common/secret-store';
import type { HealthMarks } from './account-state';
import type { AuthKind } from './credentials';

export type AccountSource = 'manual' | 'kiro-ide' | 'env' | 'sign-in';

export interface StoredAccount {
  v: 1;
  /** Random, stable, not derived from any secret. */
  id: string;
  kind: AuthKind;
  source: Exclude<AccountSource, 'env'>;
  /** A name the user gave the account. */
  label?: string;
  /** From the usage check (isEmailRequired). */
  email?: string;
  /** Github, Google, BuilderId… when known. */
  provider?: string;
  /** Social and IdC accounts (required for them). */
  refreshToken?: string;
  /** ApiKey accounts: the `ksk_…` key (required for them). */
  apiKey?: string;
  /** The refresh token before the last rotation: the last one known to have worked. */
  previousRefreshToken?: string;
  /** The latest access token, so another window or process can use it instead of refreshing. */
  accessToken?: string;
  accessTokenExpiresAt?: number;
  clientId?: string;
  clientSecret?: string;
  region?: string;
  profileArn?: string;
  /** The device id every call of this account carries, kept across token rotations. */
  machineId: string;
  disabled: boolean;
  addedAt: number;
  /** States that outlive a restart (quota exhausted until the reset, suspended, needs sign-in). */
  health?: HealthMarks;
  /** Kiro IDE imports: the folder the IDE's login lives in (watched for refreshed tokens). */
  ideCacheDir?: string;
  /** IAM Identity Center start URL (sign-in). */
  startUrl?: string;
  /** Epoch ms after which the IdC client registration stops working (sign-in). */
  clientSecretExpiresAt?: number;
  /** sha256 of refresh tokens this account used before (never adopted back from a stale copy). */
  retiredTokenHashes?: string[];
}

interface StoredIndex {
  v: 1;
  ids: string[];
}

export const INDEX_KEY = 'kiro-bridge/accounts';
export const ACCOUNT_KEY_PREFIX = 'kiro-bridge/account/';

export function accountKey(id: string): string {
  return `${ACCOUNT_KEY_PREFIX}${id}`;
}

export type StoreChange = { kind: 'index' } | { kind: 'account'; id: string };

function parseIndex(text: string | undefined): string[] {
  if (!text) return [];
  try {
    const parsed = JSON.parse(text) as Partial<StoredIndex>;
    return Array.isArray(parsed.ids) ? parsed.ids.filter((id): id is string => typeof id === 'string' && id.length > 0) : [];
  } catch {
    return [];
  }
}

const KINDS: ReadonlySet<string> = new Set(['Social', 'IdC', 'ApiKey']);
const SOURCES: ReadonlySet<string> = new Set(['manual', 'kiro-ide', 'sign-in']);

/** A stored entry, checked; undefined if it is not a usable account record. */
export function parseStoredAccount(text: string | undefined, id: string): StoredAccount | undefined {
  if (!text) return undefined;
  let parsed: Partial<StoredAccount>;
  try {
    parsed = JSON.parse(text) as Partial<StoredAccount>;
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || parsed.id !== id) return undefined;
  if (!KINDS.has(parsed.kind as string) || typeof parsed.machineId !== 'string') return undefined;
  const secret = parsed.kind === 'ApiKey' ? parsed.apiKey : parsed.refreshToken;
  if (typeof secret !== 'string' || !secret) return undefined;
  return {
    ...(parsed as StoredAccount),
    v: 1,
    source: SOURCES.has(parsed.source as string) ? (parsed.source as StoredAccount['source']) : 'manual',
    disabled: parsed.disabled === true,
    addedAt: typeof parsed.addedAt === 'number' ? parsed.addedAt : 0,
  };
}

export class AccountStore implements IDisposable {
  /** Writes one after another, so a read-modify-write never loses a concurrent change. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly subscription: IDisposable;
  private readonly listeners = new Set<(change: StoreChange) => void>();

  constructor(private readonly secrets: SecretStore) {
    this.subscription = secrets.onDidChange((key) => {
      const change: StoreChange | undefined =
        key === INDEX_KEY ? { kind: 'index' } : key.startsWith(ACCOUNT_KEY_PREFIX) ? { kind: 'account', id: key.slice(ACCOUNT_KEY_PREFIX.length) } : undefined;
      if (change) for (const listener of [...this.listeners]) listener(change);
    });
  }

  /** Changes made elsewhere (another window, another process) — and, with some stores, our own. */
  onDidChange(listener: (change: StoreChange) => void): IDisposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async ids(): Promise<string[]> {
    return parseIndex(await this.secrets.get(INDEX_KEY));
  }

  async get(id: string): Promise<StoredAccount | undefined> {
    return parseStoredAccount(await this.secrets.get(accountKey(id)), id);
  }

  /** Every listed account that reads back whole (a broken entry is skipped, not fatal). */
  async list(): Promise<{ accounts: StoredAccount[]; broken: string[] }> {
    const ids = await this.ids();
    const accounts: StoredAccount[] = [];
    const broken: string[] = [];
    for (const id of ids) {
      const record = await this.get(id);
      if (record) accounts.push(record);
      else broken.push(id);
    }
    return { accounts, broken };
  }

  /** Saves a new or replaced account: its entry first, then the index. */
  save(record: StoredAccount): Promise<void> {
    return this.serial(async () => {
      await this.secrets.set(accountKey(record.id), JSON.stringify(record));
      const ids = await this.ids();
      if (!ids.includes(record.id)) await this.writeIndex([...ids, record.id]);
    });
  }

  /**
   * Changes one account with `change` (given the current record); nothing is written when the
   * account is gone or `change` returns undefined. Resolves with the record written.
   */
  update(id: string, change: (current: StoredAccount) => StoredAccount | undefined): Promise<StoredAccount | undefined> {
    return this.serial(async () => {
      const current = await this.get(id);
      if (!current) return undefined;
      const next = change(current);
      if (!next) return undefined;
      await this.secrets.set(accountKey(id), JSON.stringify(next));
      return next;
    });
  }

  /** Removes an account: out of the index first, then its entry. */
  remove(id: string): Promise<void> {
    return this.serial(async () => {
      const ids = await this.ids();
      if (ids.includes(id)) await this.writeIndex(ids.filter((x) => x !== id));
      await this.secrets.delete(accountKey(id));
    });
  }

  private async writeIndex(ids: string[]): Promise<void> {
    const index: StoredIndex = { v: 1, ids };
    await this.secrets.set(INDEX_KEY, JSON.stringify(index));
  }

  /** Resolves when every write asked for so far has finished. */
  flush(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  dispose(): void {
    this.subscription.dispose();
    this.listeners.clear();
  }
}
