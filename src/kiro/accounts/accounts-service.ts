// The accounts service: the one object both composition roots (the CLI and the extension) build to
// manage Kiro accounts. It owns the pool, keeps it in step with the secret store, checks quota and
// models, imports and follows the Kiro IDE's login, and persists rotated tokens. The VS Code side
// (status bar, account commands, traffic header) and the CLI's `accounts` commands both read it
// through `AccountsService`; the bridge serves requests through `pool`.
//
// Secrets (refresh tokens, client secrets, access tokens) stay in the SecretStore and in memory,
// registered with the Redactor as they load; snapshots carry none of them.
import { createHash, randomBytes } from 'node:crypto';
import type { IDisposable } from '../../common/disposable';
import { nullLogger, type Logger } from '../../common/logger';
import type { Redactor } from '../../common/redact';
import type { SecretStore } from '../../common/secret-store';
import { KiroAccount } from './account';
import type { AccessToken, AdoptedTokens } from './auth';
import { AccountPool, type AccountPoolOptions, type PooledAccount } from './account-pool';
import type { AccountState } from './account-state';
import { AccountStore, type AccountSource, type StoredAccount } from './account-store';
import type { AccountCredentials } from './credentials';
import { persistRotatedRefreshToken } from './credentials-file';
import { deriveMachineId } from '../http/identity';
import { KiroError } from '../errors';
import { defaultKiroCacheDir, KiroIdeImportError, KiroIdeWatcher, readKiroIdeLogin, type KiroIdeLogin } from './kiro-ide';
import { summarizeUsage, UsageFormatError, type UsageSummary } from './quota';
import { createDispatcher, type ProxySettings } from '../http/proxy';
import { fetchAvailableModels, fetchUsageLimits } from '../http/runtime-api';
import type { SelectionStrategy } from './selection';

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
  /** E-mail when known, else e.g. "Social aor…x7Qz" (masked). */
  label: string;
  kind: 'Social' | 'IdC';
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
  kind: 'Social' | 'IdC';
  refreshToken: string;
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
  /** Validates with a real refresh (and a usage check) before anything is saved; throws KiroError with a clear message. */
  add(input: AddAccountInput & AddAccountDetails): Promise<AccountSnapshot>;
  importKiroIde(options?: { cacheDir?: string }): Promise<AccountSnapshot>;
  remove(id: string): Promise<void>;
  setDisabled(id: string, disabled: boolean): Promise<void>;
  refreshUsage(id?: string): Promise<void>;
  setStrategy(strategy: 'priority' | 'round-robin'): void;
}

export interface AccountsServiceDeps {
  secrets: SecretStore;
  redactor: Redactor;
  logger?: Logger;
  now?: () => number;
  /** Replaces every Kiro host (tests, corporate gateways). */
  upstreamBase?: string;
  /** Region when an account names none. */
  region?: string;
  /** Outbound proxy for every Kiro call (each account still gets its own connections). */
  proxy?: ProxySettings;
  strategy?: SelectionStrategy;
  /** Where the Kiro IDE keeps its login (default ~/.aws/sso/cache). */
  kiroCacheDir?: string;
  /** Follow the Kiro IDE's token file for imported accounts. Default true. */
  watchKiroIde?: boolean;
  /** Fewest milliseconds between two automatic usage checks of one account. Default 60 000. */
  usageIntervalMs?: number;
  /** Fail-over tuning and test hooks for the pool. */
  pool?: Omit<AccountPoolOptions, 'logger' | 'now' | 'strategy'>;
  /** Extra options for each KiroAccount (connection limits). */
  accountOptions?: { keepAliveMs?: number; maxConnections?: number };
}

/** Where an account came from, for ones that are not stored (KIRO_AUTH_TOKEN). */
interface EnvOrigin {
  file?: string;
  index: number;
}

const MAX_PERSIST_DELAY_MS = 60_000;
/** Retired refresh-token hashes kept per account. */
const MAX_RETIRED = 8;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function newAccountId(): string {
  return `acc_${randomBytes(9).toString('base64url')}`;
}

export class KiroAccountsService implements AccountsService, IDisposable {
  readonly pool: AccountPool;
  readonly store: AccountStore;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly listeners = new Set<() => void>();
  private readonly envOrigins = new Map<string, EnvOrigin>();
  private readonly ideWatchers = new Map<string, KiroIdeWatcher>();
  private readonly usageTimers = new Map<string, NodeJS.Timeout>();
  private readonly usageInFlight = new Map<string, Promise<void>>();
  /** Ids being added right now (their store write may echo back before they join the pool). */
  private readonly adding = new Set<string>();
  /** Per account: sha256 of refresh tokens it has moved past (never adopted back from a stale copy). */
  private readonly retired = new Map<string, Set<string>>();
  /** Per account: the refresh token in use (what a rotation retires). */
  private readonly currentRefresh = new Map<string, string>();
  private readonly disposables: IDisposable[] = [];
  private changeScheduled = false;
  private disposed = false;
  private started: Promise<void> | undefined;

  constructor(private readonly deps: AccountsServiceDeps) {
    this.logger = deps.logger ?? nullLogger;
    this.now = deps.now ?? Date.now;
    this.pool = new AccountPool({ ...deps.pool, strategy: deps.strategy, logger: this.logger, now: this.now });
    this.store = new AccountStore(deps.secrets);
    this.disposables.push(
      this.pool.onDidChange((change) => {
        if (change.persist && change.id) void this.persistHealth(change.id);
        if (change.served && change.id) this.scheduleUsageCheck(change.id);
        this.changed();
      }),
      this.store.onDidChange((change) => void this.onStoreChange(change)),
    );
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** Loads the saved accounts and starts following the Kiro IDE's login. Safe to call twice. */
  start(): Promise<void> {
    this.started ??= this.load();
    return this.started;
  }

  private async load(): Promise<void> {
    const { accounts, broken } = await this.store.list();
    for (const id of broken) this.logger.warn(`a saved Kiro account (${id}) could not be read and was skipped`);
    for (const record of accounts) {
      if (this.pool.get(record.id)) continue;
      this.addFromRecord(record);
    }
    // The IDE may have refreshed its login while the bridge was not running.
    const ideDirs = new Set(accounts.filter((r) => r.source === 'kiro-ide' && r.ideCacheDir).map((r) => r.ideCacheDir!));
    for (const dir of ideDirs) await this.onIdeFileChange(dir);
    this.changed();
  }

  /**
   * Checks every enabled account now (token, usage, models), in parallel. The CLI awaits it; the
   * extension lets it run.
   */
  async checkAll(): Promise<void> {
    await Promise.all(this.pool.entries().filter((e) => !e.health.disabled).map((e) => this.checkAccount(e).catch(() => undefined)));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const timer of this.usageTimers.values()) clearTimeout(timer);
    this.usageTimers.clear();
    for (const watcher of this.ideWatchers.values()) watcher.dispose();
    this.ideWatchers.clear();
    for (const d of this.disposables) void d.dispose();
    for (const entry of [...this.pool.entries()]) {
      this.pool.remove(entry.id);
      void entry.account.dispose();
    }
    this.pool.dispose();
    this.store.dispose();
    this.listeners.clear();
  }

  /** Resolves when every store write asked for so far is done (tests, clean shutdown). */
  flush(): Promise<void> {
    return this.store.flush();
  }

  // ---- AccountsService ----------------------------------------------------------------------

  list(): AccountSnapshot[] {
    const active = this.pool.activeId();
    return this.pool.entries().map((entry) => this.snapshot(entry, active));
  }

  get(id: string): AccountSnapshot | undefined {
    const entry = this.pool.get(id);
    return entry ? this.snapshot(entry, this.pool.activeId()) : undefined;
  }

  onDidChange(listener: () => void): IDisposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  setStrategy(strategy: SelectionStrategy): void {
    this.pool.strategy = strategy;
  }

  get strategy(): SelectionStrategy {
    return this.pool.strategy;
  }

  async add(input: AddAccountInput & AddAccountDetails): Promise<AccountSnapshot> {
    await this.start();
    const refreshToken = input.refreshToken?.trim();
    if (!refreshToken) throw new KiroError('bad_request', 'a refresh token is required');
    if (refreshToken.includes('...') || refreshToken.includes('…')) {
      throw new KiroError('bad_request', 'the refresh token looks shortened (it contains "..."); copy the whole value');
    }
    if (input.kind !== 'Social' && input.kind !== 'IdC') throw new KiroError('bad_request', 'the account kind must be "Social" or "IdC"');
    if (input.kind === 'IdC' && (!input.clientId?.trim() || !input.clientSecret?.trim())) {
      throw new KiroError('bad_request', 'an IdC (Builder ID / Identity Center) account needs its clientId and clientSecret');
    }
    if (input.region && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(input.region)) throw new KiroError('bad_request', `"${input.region.slice(0, 30)}" is not an AWS region name`);
    const source = input.source === 'env' ? 'manual' : (input.source ?? 'manual');
    return this.validateAndSave(
      {
        kind: input.kind,
        refreshToken,
        clientId: input.clientId?.trim(),
        clientSecret: input.clientSecret?.trim(),
        region: input.region,
        label: input.label?.trim() || undefined,
        source,
        profileArn: input.profileArn?.trim() || undefined,
        provider: input.provider,
        machineId: input.machineId && /^[0-9a-f]{64}$/i.test(input.machineId) ? input.machineId.toLowerCase() : undefined,
        startUrl: input.startUrl,
        clientSecretExpiresAt: input.clientSecretExpiresAt,
      },
      undefined,
    );
  }

  async importKiroIde(options: { cacheDir?: string } = {}): Promise<AccountSnapshot> {
    await this.start();
    const cacheDir = options.cacheDir ?? this.deps.kiroCacheDir ?? defaultKiroCacheDir();
    let login: KiroIdeLogin;
    try {
      login = await readKiroIdeLogin(cacheDir, this.now());
    } catch (error) {
      if (error instanceof KiroIdeImportError) {
        const errorClass = error.code === 'missing' || error.code.startsWith('registration') ? 'needs_sign_in' : 'bad_request';
        throw new KiroError(errorClass, this.deps.redactor.text(error.message));
      }
      throw error;
    }
    this.registerSecrets(login.refreshToken, login.accessToken, login.clientSecret);
    return this.validateAndSave(
      {
        kind: login.kind,
        refreshToken: login.refreshToken,
        clientId: login.clientId,
        clientSecret: login.clientSecret,
        region: login.region,
        profileArn: login.profileArn,
        email: login.email,
        provider: login.provider,
        source: 'kiro-ide',
        ideCacheDir: cacheDir,
      },
      login,
    );
  }

  async remove(id: string): Promise<void> {
    await this.start();
    const entry = this.pool.get(id);
    if (!entry) throw new KiroError('bad_request', `no account with id ${id}`);
    if (entry.source === 'env') {
      throw new KiroError('bad_request', `${entry.label} comes from KIRO_AUTH_TOKEN; remove it there (or mark it "disabled": true)`);
    }
    this.dropFromPool(id);
    await this.store.remove(id);
    this.changed();
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.start();
    const entry = this.pool.get(id);
    if (!entry) throw new KiroError('bad_request', `no account with id ${id}`);
    entry.health.disabled = disabled;
    if (!disabled) {
      // Turning an account back on is the user's "try it again": lift what only time or luck lifts.
      entry.health.clearSuspended();
      entry.health.clearCooling();
    }
    if (entry.source !== 'env') {
      await this.store.update(id, (r) => ({ ...r, disabled, health: entry.health.persisted() }));
    }
    this.pool.emit({ id });
    if (!disabled) void this.checkAccount(entry).catch(() => undefined);
  }

  async refreshUsage(id?: string): Promise<void> {
    await this.start();
    if (id === undefined) {
      await this.checkAll();
      return;
    }
    const entry = this.pool.get(id);
    if (!entry) throw new KiroError('bad_request', `no account with id ${id}`);
    await this.checkAccount(entry, { models: true });
  }

  // ---- KIRO_AUTH_TOKEN accounts ---------------------------------------------------------------

  /**
   * Adds the accounts of KIRO_AUTH_TOKEN (not stored: they live in the variable or its file).
   * A rotated refresh token is written back to `file` when there is one.
   */
  addEnvAccounts(accounts: readonly AccountCredentials[], options: { file?: string } = {}): PooledAccount[] {
    const added: PooledAccount[] = [];
    for (const credentials of accounts) {
      const id = `env-${credentials.index + 1}`;
      if (this.pool.get(id)) continue;
      const account = this.newKiroAccount(credentials);
      this.envOrigins.set(id, { file: options.file, index: credentials.index });
      const entry = this.pool.add({ id, account, source: 'env', disabled: credentials.disabled });
      account.tokens.onDidRotateRefreshToken((token) => void this.persistEnvRotation(entry, token));
      added.push(entry);
    }
    this.changed();
    return added;
  }

  private async persistEnvRotation(entry: PooledAccount, refreshToken: string): Promise<void> {
    const origin = this.envOrigins.get(entry.id);
    if (!origin?.file) {
      this.logger.warn(
        `Kiro rotated the refresh token of ${entry.label}; the one in KIRO_AUTH_TOKEN may stop working after a restart. ` +
          'Point KIRO_AUTH_TOKEN at a file, or save the account with "kiro-bridge accounts add", so the new token is kept.',
      );
      return;
    }
    await this.retryPersist(entry, () => persistRotatedRefreshToken(origin.file!, origin.index, refreshToken, entry.account.machineId), origin.file);
  }

  // ---- adding -----------------------------------------------------------------------------------

  private async validateAndSave(
    draft: Omit<StoredAccount, 'v' | 'id' | 'machineId' | 'disabled' | 'addedAt'> & { ideCacheDir?: string; machineId?: string },
    ideLogin: KiroIdeLogin | undefined,
  ): Promise<AccountSnapshot> {
    this.registerSecrets(draft.refreshToken, draft.clientSecret);
    const existing = this.findDuplicate(draft.refreshToken, draft.email, draft.source);
    const machineId = existing?.account.machineId ?? draft.machineId ?? deriveMachineId(undefined, draft.refreshToken);
    const credentials: AccountCredentials = {
      auth: draft.kind,
      refreshToken: draft.refreshToken,
      clientId: draft.clientId,
      clientSecret: draft.clientSecret,
      region: draft.region,
      profileArn: draft.profileArn,
      machineId,
      disabled: false,
      index: 0,
    };
    const account = this.newKiroAccount(credentials);
    // An IDE login comes with an access token: use it while it lasts, so importing does not
    // refresh (and perhaps rotate) the token the running IDE still holds.
    if (ideLogin?.accessToken && ideLogin.expiresAt !== undefined) {
      account.tokens.adopt({ accessToken: ideLogin.accessToken, expiresAt: ideLogin.expiresAt });
    }
    let usage: UsageSummary;
    try {
      let token = await account.getToken();
      try {
        usage = summarizeUsage(await fetchUsageLimits(account, token));
      } catch (error) {
        if (!(error instanceof KiroError) || error.errorClass !== 'token_expired') throw error;
        token = await account.tokens.refreshAfterRejection(token);
        usage = summarizeUsage(await fetchUsageLimits(account, token));
      }
    } catch (error) {
      await account.dispose();
      throw this.validationError(error, ideLogin !== undefined);
    }
    const email = usage.email ?? draft.email;
    const duplicate = existing ?? this.findDuplicate(account.tokens.refreshToken, email, draft.source);
    const id = duplicate?.id ?? newAccountId();
    const record: StoredAccount = {
      v: 1,
      id,
      kind: draft.kind,
      source: draft.source,
      label: draft.label,
      email,
      provider: draft.provider,
      // The refresh may have rotated the token: keep the one that works now, and the one before.
      refreshToken: account.tokens.refreshToken,
      previousRefreshToken: account.tokens.refreshToken !== draft.refreshToken ? draft.refreshToken : undefined,
      clientId: draft.clientId,
      clientSecret: draft.clientSecret,
      region: draft.region,
      profileArn: account.profileArn,
      machineId,
      disabled: false,
      addedAt: this.now(),
      ideCacheDir: draft.ideCacheDir,
      startUrl: draft.startUrl,
      clientSecretExpiresAt: draft.clientSecretExpiresAt,
    };
    // The store may report this very write back (same window): the change handler leaves ids
    // being added alone.
    this.adding.add(id);
    let entry: PooledAccount;
    const position = duplicate ? this.pool.entries().findIndex((e) => e.id === duplicate.id) : -1;
    try {
      await this.store.save(record);
      if (duplicate) this.dropFromPool(duplicate.id);
      if (this.pool.get(id)) this.dropFromPool(id);
      entry = this.addToPool(record, account);
    } catch (error) {
      await account.dispose();
      throw error;
    } finally {
      this.adding.delete(id);
    }
    if (position >= 0) {
      const order = this.pool.entries().map((e) => e.id).filter((x) => x !== id);
      order.splice(position, 0, id);
      this.pool.reorder(order);
    }
    this.applyUsage(entry, usage);
    void this.refreshModels(entry).catch(() => undefined);
    this.logger.info(`${duplicate ? 'updated' : 'added'} Kiro account ${entry.label} (${usage.remaining} of ${usage.limit} credits left)`);
    this.changed();
    return this.snapshot(entry, this.pool.activeId());
  }

  private validationError(error: unknown, fromIde: boolean): KiroError {
    const text = (message: string) => this.deps.redactor.text(message);
    if (error instanceof KiroError) {
      if (error.errorClass === 'needs_sign_in') {
        return new KiroError(
          'needs_sign_in',
          fromIde
            ? 'The Kiro IDE login has expired and can no longer be refreshed. Open the Kiro IDE, sign in again, then import again.'
            : text(`Kiro rejected this refresh token: ${error.message}. Copy a fresh one (sign in to Kiro again) and retry.`),
          { status: error.status },
        );
      }
      if (error.errorClass === 'account_suspended') {
        return new KiroError('account_suspended', 'Kiro reports this account as suspended; it was not added.', { status: error.status });
      }
      return new KiroError(error.errorClass, text(`Could not check the account with Kiro, so it was not added: ${error.message}`), {
        status: error.status,
        retryAfterSeconds: error.retryAfterSeconds,
      });
    }
    if (error instanceof UsageFormatError) {
      return new KiroError('upstream_unavailable', `Kiro's usage answer could not be read (${error.message}); the account was not added.`);
    }
    return new KiroError('internal', text(`Could not check the account: ${(error as Error)?.message ?? String(error)}`));
  }

  /** An account already in the pool for the same login (same token or same e-mail). */
  private findDuplicate(refreshToken: string, email: string | undefined, source: AccountSource): PooledAccount | undefined {
    return this.pool
      .entries()
      .find(
        (e) =>
          e.source !== 'env' &&
          (e.account.tokens.refreshToken === refreshToken ||
            e.account.credentials.refreshToken === refreshToken ||
            (email !== undefined && e.email === email) ||
            (source === 'kiro-ide' && e.source === 'kiro-ide' && email === undefined && e.email === undefined)),
      );
  }

  // ---- pool membership ---------------------------------------------------------------------

  private newKiroAccount(credentials: AccountCredentials): KiroAccount {
    const proxy = this.deps.proxy;
    const account: KiroAccount = new KiroAccount({
      // Before refreshing: another window, process or the Kiro IDE may already have a newer token.
      beforeRefresh: (rejected) => this.beforeRefresh(account, rejected),
      credentials,
      upstreamBase: this.deps.upstreamBase,
      region: this.deps.region,
      redactor: this.deps.redactor,
      logger: this.logger,
      now: this.now,
      keepAliveMs: this.deps.accountOptions?.keepAliveMs,
      maxConnections: this.deps.accountOptions?.maxConnections,
      // Each account its own pool of connections, through the proxy when there is one.
      createDispatcher: proxy
        ? () =>
            createDispatcher(proxy, {
              keepAliveTimeout: this.deps.accountOptions?.keepAliveMs ?? 30_000,
              connections: this.deps.accountOptions?.maxConnections ?? 64,
              headersTimeout: 0,
              bodyTimeout: 0,
            })
        : undefined,
    });
    return account;
  }

  private credentialsOf(record: StoredAccount): AccountCredentials {
    return {
      auth: record.kind,
      refreshToken: record.refreshToken,
      clientId: record.clientId,
      clientSecret: record.clientSecret,
      region: record.region,
      profileArn: record.profileArn,
      machineId: record.machineId,
      disabled: record.disabled,
      index: 0,
    };
  }

  private addFromRecord(record: StoredAccount): PooledAccount {
    this.registerSecrets(record.refreshToken, record.previousRefreshToken, record.accessToken, record.clientSecret);
    const account = this.newKiroAccount(this.credentialsOf(record));
    // A saved access token that still lives spares a refresh at start.
    if (record.accessToken && record.accessTokenExpiresAt !== undefined) account.tokens.adopt({ accessToken: record.accessToken, expiresAt: record.accessTokenExpiresAt });
    return this.addToPool(record, account);
  }

  private addToPool(record: StoredAccount, account: KiroAccount): PooledAccount {
    const entry = this.pool.add({
      id: record.id,
      account,
      source: record.source,
      label: record.label,
      email: record.email,
      disabled: record.disabled,
      health: record.health,
    });
    const retired = new Set(record.retiredTokenHashes ?? []);
    if (record.previousRefreshToken) retired.add(tokenHash(record.previousRefreshToken));
    this.retired.set(record.id, retired);
    this.currentRefresh.set(record.id, account.tokens.refreshToken);
    account.tokens.onDidRotateRefreshToken((token) => {
      const before = this.currentRefresh.get(record.id);
      if (before) retired.add(tokenHash(before));
      this.currentRefresh.set(record.id, token);
      void this.persistRotation(entry, token);
    });
    account.tokens.onDidRefresh((token) => void this.persistAccessToken(entry, token.value, token.expiresAt));
    if (record.source === 'kiro-ide' && record.ideCacheDir) this.watchIde(record.ideCacheDir);
    return entry;
  }

  private dropFromPool(id: string): void {
    const entry = this.pool.remove(id);
    this.currentRefresh.delete(id);
    this.retired.delete(id);
    const timer = this.usageTimers.get(id);
    if (timer) clearTimeout(timer);
    this.usageTimers.delete(id);
    this.envOrigins.delete(id);
    if (entry) void entry.account.dispose();
  }

  // ---- persistence --------------------------------------------------------------------------

  private registerSecrets(...secrets: (string | undefined)[]): void {
    for (const secret of secrets) this.deps.redactor.add(secret);
  }

  /** Saves a rotated refresh token (with the one before it), retrying until it is on disk. */
  private async persistRotation(entry: PooledAccount, refreshToken: string): Promise<void> {
    if (entry.source === 'env') return;
    this.registerSecrets(refreshToken);
    await this.retryPersist(
      entry,
      async () => {
        await this.store.update(entry.id, (r) => {
          if (r.refreshToken === refreshToken) return undefined;
          // Still ours? A newer token from elsewhere wins (its rotation happened after ours).
          if (entry.account.tokens.refreshToken !== refreshToken) return undefined;
          const access = entry.account.tokens.currentToken;
          return {
            ...r,
            previousRefreshToken: r.refreshToken,
            refreshToken,
            retiredTokenHashes: [...(this.retired.get(entry.id) ?? [])].slice(-MAX_RETIRED),
            accessToken: access?.value ?? r.accessToken,
            accessTokenExpiresAt: access?.expiresAt ?? r.accessTokenExpiresAt,
            profileArn: entry.account.profileArn ?? r.profileArn,
          };
        });
      },
      'the secret store',
    );
  }

  /** Runs `write` until it succeeds, backing off; the token in memory keeps working meanwhile. */
  private async retryPersist(entry: PooledAccount, write: () => Promise<void>, where: string): Promise<void> {
    for (let attempt = 0; !this.disposed; attempt++) {
      try {
        await write();
        if (attempt > 0) this.logger.info(`saved the rotated refresh token of ${entry.label} to ${where}`);
        return;
      } catch (error) {
        const delay = Math.min(MAX_PERSIST_DELAY_MS, 500 * 2 ** attempt);
        this.logger.warn(
          `could not save the rotated refresh token of ${entry.label} to ${where} (${this.deps.redactor.text((error as Error).message)}); ` +
            `the bridge keeps using it and tries again in ${Math.round(delay / 1000)} s`,
        );
        await new Promise((resolve) => setTimeout(resolve, delay).unref?.());
      }
    }
  }

  /** Saves the access token a refresh of ours obtained, so other windows and processes can use it. */
  private async persistAccessToken(entry: PooledAccount, accessToken: string, expiresAt: number): Promise<void> {
    if (entry.source === 'env') return;
    try {
      await this.store.update(entry.id, (r) =>
        r.accessToken === accessToken ? undefined : { ...r, accessToken, accessTokenExpiresAt: expiresAt, profileArn: entry.account.profileArn ?? r.profileArn },
      );
    } catch (error) {
      // Only a convenience for other windows; the token in memory is what this one uses.
      this.logger.debug(`could not save the access token of ${entry.label}: ${this.deps.redactor.text((error as Error).message)}`);
    }
  }

  /**
   * Takes tokens another client holds for this account: a refresh token we have not moved past,
   * and an access token that lives longer than ours. Returns whether the refresh token changed.
   */
  private adoptTokens(entry: PooledAccount, tokens: AdoptedTokens): boolean {
    const retired = this.retired.get(entry.id) ?? new Set<string>();
    const before = entry.account.tokens.refreshToken;
    const refreshToken = tokens.refreshToken && !retired.has(tokenHash(tokens.refreshToken)) ? tokens.refreshToken : undefined;
    this.registerSecrets(refreshToken, tokens.accessToken);
    entry.account.tokens.adopt({ ...tokens, refreshToken });
    const changed = entry.account.tokens.refreshToken !== before;
    if (changed) {
      retired.add(tokenHash(before));
      this.currentRefresh.set(entry.id, entry.account.tokens.refreshToken);
      entry.health.clearNeedsSignIn();
      this.pool.emit({ id: entry.id, persist: true });
    }
    return changed;
  }

  /** TokenManager's beforeRefresh: the saved entry and the Kiro IDE's file may hold newer tokens. */
  private async beforeRefresh(account: KiroAccount, _rejected: AccessToken | undefined): Promise<void> {
    const entry = this.pool.entries().find((e) => e.account === account);
    if (!entry || entry.source === 'env' || this.disposed) return;
    const record = await this.store.get(entry.id);
    if (!record) return;
    this.adoptTokens(entry, { refreshToken: record.refreshToken, accessToken: record.accessToken, expiresAt: record.accessTokenExpiresAt });
    if (entry.source === 'kiro-ide' && record.ideCacheDir) {
      const login = await readKiroIdeLogin(record.ideCacheDir, this.now()).catch(() => undefined);
      if (login && this.sameLogin(record, login) && this.adoptTokens(entry, login)) await this.saveAdoptedRefreshToken(entry, 'the Kiro IDE');
    }
  }

  /** Whether the IDE is still signed in to this account (not someone else's since the import). */
  private sameLogin(record: StoredAccount, login: KiroIdeLogin): boolean {
    if (record.kind !== login.kind) return false;
    if (record.email && login.email && record.email !== login.email) return false;
    // A Social profile ARN names the account; an IdC login its client registration.
    if (record.profileArn && login.profileArn && record.profileArn !== login.profileArn) return false;
    if (record.kind === 'IdC' && record.clientId && login.clientId && record.clientId !== login.clientId) return false;
    return true;
  }

  /** Writes a refresh token adopted from elsewhere into our own entry (ours is dead now). */
  private async saveAdoptedRefreshToken(entry: PooledAccount, from: string): Promise<void> {
    const refreshToken = entry.account.tokens.refreshToken;
    this.logger.info(`${from} refreshed the login of ${entry.label}; the bridge uses its new token`);
    await this.store
      .update(entry.id, (r) =>
        r.refreshToken === refreshToken
          ? undefined
          : {
              ...r,
              previousRefreshToken: r.refreshToken,
              refreshToken,
              retiredTokenHashes: [...(this.retired.get(entry.id) ?? [])].slice(-MAX_RETIRED),
              health: entry.health.persisted(),
            },
      )
      .catch((error: Error) => this.logger.warn(`could not save the adopted token of ${entry.label}: ${this.deps.redactor.text(error.message)}`));
  }

  private async persistHealth(id: string): Promise<void> {
    const entry = this.pool.get(id);
    if (!entry || entry.source === 'env') return;
    const health = entry.health.persisted();
    try {
      await this.store.update(id, (r) => (JSON.stringify(r.health ?? {}) === JSON.stringify(health) ? undefined : { ...r, health }));
    } catch (error) {
      this.logger.warn(`could not save the state of ${entry.label}: ${(error as Error).message}`);
    }
  }

  /** Another window or process changed the store: follow it. */
  private async onStoreChange(change: { kind: 'index' } | { kind: 'account'; id: string }): Promise<void> {
    if (this.disposed || !this.started) return;
    await this.started;
    try {
      if (change.kind === 'index') {
        const ids = await this.store.ids();
        for (const entry of [...this.pool.entries()]) {
          if (entry.source !== 'env' && !ids.includes(entry.id)) this.dropFromPool(entry.id);
        }
        for (const id of ids) {
          if (this.pool.get(id) || this.adding.has(id)) continue;
          const record = await this.store.get(id);
          if (record && !this.pool.get(id) && !this.adding.has(id)) this.addFromRecord(record);
        }
        this.changed();
        return;
      }
      const entry = this.pool.get(change.id);
      const record = await this.store.get(change.id);
      if (!entry || !record) return;
      if (entry.health.disabled !== record.disabled) entry.health.disabled = record.disabled;
      if (record.label !== entry.userLabel) entry.userLabel = record.label;
      if (this.adoptTokens(entry, { refreshToken: record.refreshToken, accessToken: record.accessToken, expiresAt: record.accessTokenExpiresAt })) {
        this.logger.info(`the refresh token of ${entry.label} changed elsewhere (another window or process); using the new one`);
      }
      this.changed();
    } catch (error) {
      this.logger.warn(`could not follow a change of the saved accounts: ${(error as Error).message}`);
    }
  }

  // ---- the Kiro IDE login ---------------------------------------------------------------------

  private watchIde(cacheDir: string): void {
    if (this.deps.watchKiroIde === false || this.ideWatchers.has(cacheDir) || this.disposed) return;
    this.ideWatchers.set(cacheDir, new KiroIdeWatcher(cacheDir, () => void this.onIdeFileChange(cacheDir)));
  }

  /** The IDE wrote its token file: adopt a token it refreshed or rotated (so we never log it out). */
  async onIdeFileChange(cacheDir: string): Promise<void> {
    if (this.disposed) return;
    let login: KiroIdeLogin;
    try {
      login = await readKiroIdeLogin(cacheDir, this.now());
    } catch (error) {
      this.logger.debug(`Kiro IDE login file not usable right now: ${this.deps.redactor.text((error as Error).message)}`);
      return;
    }
    this.registerSecrets(login.refreshToken, login.accessToken, login.clientSecret);
    for (const entry of [...this.pool.entries()]) {
      if (entry.source !== 'kiro-ide') continue;
      const record = await this.store.get(entry.id);
      if (!record || record.ideCacheDir !== cacheDir || !this.sameLogin(record, login)) continue;
      if (this.adoptTokens(entry, login)) await this.saveAdoptedRefreshToken(entry, 'the Kiro IDE');
      this.changed();
    }
  }

  // ---- usage and models -------------------------------------------------------------------------

  /** Token, usage and (if unknown or asked) models of one account; errors mark the account. */
  private checkAccount(entry: PooledAccount, options: { models?: boolean } = {}): Promise<void> {
    const running = this.usageInFlight.get(entry.id);
    if (running) return running;
    const work = (async () => {
      try {
        const token = await entry.account.getToken();
        const usage = summarizeUsage(await fetchUsageLimits(entry.account, token));
        if (this.pool.get(entry.id) !== entry) return;
        this.applyUsage(entry, usage);
        if (options.models || entry.models === undefined) await this.refreshModels(entry);
      } catch (error) {
        this.noteCheckFailure(entry, error);
        throw error;
      } finally {
        this.usageInFlight.delete(entry.id);
        this.changed();
      }
    })();
    this.usageInFlight.set(entry.id, work);
    return work;
  }

  private noteCheckFailure(entry: PooledAccount, error: unknown): void {
    const message = this.deps.redactor.text((error as Error)?.message ?? String(error));
    if (error instanceof KiroError) {
      if (error.errorClass === 'needs_sign_in' && entry.condition().state !== 'needs_sign_in') {
        entry.health.markNeedsSignIn('Kiro rejected the refresh token; sign in again');
        this.pool.emit({ id: entry.id, persist: true });
      } else if (error.errorClass === 'account_suspended') {
        entry.health.markSuspended('Kiro suspended this account');
        this.pool.emit({ id: entry.id, persist: true });
      }
    }
    this.logger.warn(`usage check of ${entry.label} failed: ${message}`);
  }

  private applyUsage(entry: PooledAccount, usage: UsageSummary): void {
    entry.usage = usage;
    entry.usageCheckedAt = this.now();
    entry.meteredSinceCheck = 0;
    if (usage.email && usage.email !== entry.email) {
      entry.email = usage.email;
      if (entry.source !== 'env') void this.store.update(entry.id, (r) => (r.email === usage.email ? undefined : { ...r, email: usage.email }));
    }
    const before = JSON.stringify(entry.health.persisted());
    // With paid overage on, 0 left does not stop requests: only a real 402 marks the account.
    if (!usage.overageEnabled || usage.remaining > 0) entry.health.noteRemaining(usage.remaining, usage.resetAt, 'monthly credits used up');
    if (JSON.stringify(entry.health.persisted()) !== before) this.pool.emit({ id: entry.id, persist: true });
  }

  private async refreshModels(entry: PooledAccount): Promise<void> {
    try {
      const token = await entry.account.getToken();
      const { models } = await fetchAvailableModels(entry.account, token);
      if (models.length > 0) {
        entry.models = models;
        // A fresh list from Kiro is the better word on what the tier has.
        for (const m of [...entry.lacking]) if (!models.includes(m)) entry.lacking.delete(m);
      }
    } catch (error) {
      this.logger.debug(`model list of ${entry.label} unavailable: ${this.deps.redactor.text((error as Error).message)}`);
    }
    this.changed();
  }

  /** After a request: check usage now if the last check is a minute old, else once it is. */
  private scheduleUsageCheck(id: string): void {
    if (this.disposed || this.usageTimers.has(id)) return;
    const entry = this.pool.get(id);
    if (!entry) return;
    const interval = this.deps.usageIntervalMs ?? 60_000;
    const due = (entry.usageCheckedAt ?? 0) + interval;
    // A short pause lets the answer's metering settle on Kiro's side.
    const delay = Math.max(1000, due - this.now());
    const timer = setTimeout(() => {
      this.usageTimers.delete(id);
      const current = this.pool.get(id);
      if (current && !current.health.disabled) void this.checkAccount(current).catch(() => undefined);
    }, delay);
    timer.unref?.();
    this.usageTimers.set(id, timer);
  }

  // ---- snapshots --------------------------------------------------------------------------------

  private snapshot(entry: PooledAccount, activeId: string | undefined): AccountSnapshot {
    const condition = entry.condition();
    const snapshot: AccountSnapshot = {
      id: entry.id,
      label: entry.label,
      kind: entry.kind,
      source: entry.source,
      state: condition.state,
      active: entry.id === activeId,
    };
    if (condition.reason) snapshot.stateReason = condition.reason;
    if (condition.until !== undefined) snapshot.until = condition.until;
    if (entry.usage) {
      snapshot.credits = {
        remaining: entry.remainingCredits ?? entry.usage.remaining,
        limit: entry.usage.limit,
        usedThisSession: Math.round(entry.usedThisSession * 1000) / 1000,
      };
      if (entry.usage.resetAt !== undefined) snapshot.credits.resetAt = entry.usage.resetAt;
      if (entry.usage.subscription) snapshot.credits.subscription = entry.usage.subscription;
    }
    const models = entry.usableModels();
    if (models) snapshot.models = models;
    return snapshot;
  }

  /** Tells listeners once per tick, however many things changed. */
  private changed(): void {
    if (this.changeScheduled || this.disposed) return;
    this.changeScheduled = true;
    queueMicrotask(() => {
      this.changeScheduled = false;
      for (const listener of [...this.listeners]) {
        try {
          listener();
        } catch (error) {
          this.logger.warn(`accounts listener failed: ${(error as Error).message}`);
        }
      }
    });
  }
}
