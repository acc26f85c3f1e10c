// The accounts service: the one object both composition roots (the CLI and the extension) build to
// manage Kiro accounts. It owns the pool and keeps it in step with the secret store; its parts
// check usage and models (usage-checks), keep tokens saved and shared (token-keeper), follow the
// Kiro IDE's login (ide-follower) and hold the KIRO_AUTH_TOKEN accounts (env-accounts). The VS
// Code side and the CLI's `accounts` commands read it through `AccountsService` (accounts-api);
// the bridge serves requests through `pool`.
//
// Secrets (refresh tokens, client secrets, access tokens) stay in the SecretStore and in memory,
// registered with the Redactor as they load; snapshots carry none of them.
import { randomBytes } from 'node:crypto';
import type { IDisposable } from '../../common/disposable';
import { nullLogger, type Logger } from '../../common/logger';
import type { Redactor } from '../../common/redact';
import type { SecretStore } from '../../common/secret-store';
import { KiroAccount } from './account';
import { AccountPool, type AccountPoolOptions, type PooledAccount } from './account-pool';
import { AccountStore, type AccountSource, type StoredAccount } from './account-store';
import type { AccountsContext } from './accounts-context';
import type { AccountSnapshot, AccountsService, AddAccountDetails, AddAccountInput } from './accounts-api';
import { snapshotOf } from './account-snapshot';
import { checkAddInput, validationError } from './account-validation';
import { apiKeyProblem, longLivedSecret, type AccountCredentials } from './credentials';
import { EnvAccounts } from './env-accounts';
import { KiroIdeFollower } from './ide-follower';
import { KiroError } from '../errors';
import { defaultKiroCacheDir, KiroIdeImportError, readKiroIdeLogin, type KiroIdeLogin } from './kiro-ide';
import type { UsageSummary } from './quota';
import { createDispatcher, type ProxySettings } from '../http/proxy';
import type { SelectionStrategy } from './selection';
import { TokenKeeper } from './token-keeper';
import { probeAccount, UsageChecks } from './usage-checks';

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

/** The pool id of the KIRO_API_KEY account. */
export const ENV_API_KEY_ID = 'env-api-key';

function newAccountId(): string {
  return `acc_${randomBytes(9).toString('base64url')}`;
}

export class KiroAccountsService implements AccountsService, IDisposable {
  readonly pool: AccountPool;
  readonly store: AccountStore;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly ctx: AccountsContext;
  private readonly usage: UsageChecks;
  private readonly tokens: TokenKeeper;
  private readonly ide: KiroIdeFollower;
  private readonly envAccounts: EnvAccounts;
  private readonly listeners = new Set<() => void>();
  /** Ids being added right now (their store write may echo back before they join the pool). */
  private readonly adding = new Set<string>();
  private readonly disposables: IDisposable[] = [];
  private changeScheduled = false;
  private disposed = false;
  private started: Promise<void> | undefined;

  constructor(private readonly deps: AccountsServiceDeps) {
    this.logger = deps.logger ?? nullLogger;
    this.now = deps.now ?? Date.now;
    this.pool = new AccountPool({ ...deps.pool, strategy: deps.strategy, logger: this.logger, now: this.now });
    this.store = new AccountStore(deps.secrets);
    this.ctx = {
      pool: this.pool,
      store: this.store,
      logger: this.logger,
      redactor: deps.redactor,
      now: this.now,
      isDisposed: () => this.disposed,
      changed: () => this.changed(),
      registerSecrets: (...secrets) => {
        for (const secret of secrets) deps.redactor.add(secret);
      },
    };
    this.usage = new UsageChecks(this.ctx, deps.usageIntervalMs ?? 60_000);
    this.tokens = new TokenKeeper(this.ctx);
    this.ide = new KiroIdeFollower(this.ctx, this.tokens, deps.watchKiroIde !== false);
    this.envAccounts = new EnvAccounts(this.ctx, this.tokens, (credentials) => this.newKiroAccount(credentials));
    this.disposables.push(
      this.pool.onDidChange((change) => {
        if (change.persist && change.id) void this.tokens.persistHealth(change.id);
        if (change.served && change.id) this.usage.schedule(change.id);
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
    for (const dir of ideDirs) await this.ide.onFileChange(dir);
    this.changed();
  }

  /**
   * Checks every enabled account now (token, usage, models), in parallel. The CLI awaits it; the
   * extension lets it run.
   */
  async checkAll(): Promise<void> {
    await Promise.all(
      this.pool
        .entries()
        .filter((e) => !e.health.disabled)
        .map((e) => this.usage.check(e).catch(() => undefined)),
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.usage.dispose();
    this.ide.dispose();
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
    return this.pool.entries().map((entry) => snapshotOf(entry, active));
  }

  get(id: string): AccountSnapshot | undefined {
    const entry = this.pool.get(id);
    return entry ? snapshotOf(entry, this.pool.activeId()) : undefined;
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
    return this.validateAndSave(checkAddInput(input), undefined);
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
    this.ctx.registerSecrets(login.refreshToken, login.accessToken, login.clientSecret);
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
      throw new KiroError(
        'bad_request',
        entry.account.isApiKey && entry.id === ENV_API_KEY_ID
          ? `${entry.label} comes from KIRO_API_KEY; unset that variable to remove it`
          : `${entry.label} comes from KIRO_AUTH_TOKEN; remove it there (or mark it "disabled": true)`,
      );
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
    if (!disabled) void this.usage.check(entry).catch(() => undefined);
  }

  async refreshUsage(id?: string): Promise<void> {
    await this.start();
    if (id === undefined) {
      await this.checkAll();
      return;
    }
    const entry = this.pool.get(id);
    if (!entry) throw new KiroError('bad_request', `no account with id ${id}`);
    await this.usage.check(entry, { models: true });
  }

  /**
   * Adds the accounts of KIRO_AUTH_TOKEN (not stored: they live in the variable or its file).
   * A rotated refresh token is written back to `file` when there is one.
   */
  addEnvAccounts(accounts: readonly AccountCredentials[], options: { file?: string } = {}): PooledAccount[] {
    const added = this.envAccounts.add(accounts, options.file);
    this.changed();
    return added;
  }

  /**
   * Adds the Kiro API key of KIRO_API_KEY, as the Kiro CLI's headless mode reads it: not stored,
   * first in priority among the environment's accounts. Undefined if it is in the pool already.
   */
  addEnvApiKey(apiKey: string): PooledAccount | undefined {
    const problem = apiKeyProblem(apiKey);
    if (problem) throw new KiroError('bad_request', `KIRO_API_KEY: ${problem}`);
    if (this.pool.get(ENV_API_KEY_ID)) return undefined;
    this.ctx.registerSecrets(apiKey);
    const account = this.newKiroAccount({ auth: 'ApiKey', apiKey, disabled: false, index: 0 });
    const entry = this.pool.add({ id: ENV_API_KEY_ID, account, source: 'env' });
    this.pool.reorder([ENV_API_KEY_ID]);
    this.changed();
    return entry;
  }

  // ---- adding -----------------------------------------------------------------------------------

  private async validateAndSave(
    draft: Omit<StoredAccount, 'v' | 'id' | 'machineId' | 'disabled' | 'addedAt'> & { ideCacheDir?: string; machineId?: string },
    ideLogin: KiroIdeLogin | undefined,
  ): Promise<AccountSnapshot> {
    this.ctx.registerSecrets(draft.refreshToken, draft.apiKey, draft.clientSecret);
    const credentials = this.credentialsOf({ ...draft, disabled: false });
    const secret = longLivedSecret(credentials);
    const existing = this.findDuplicate(secret, draft.email, draft.source);
    // A login already in the pool keeps its machine id; otherwise KiroAccount derives one.
    const account = this.newKiroAccount({ ...credentials, machineId: existing?.account.machineId ?? credentials.machineId });
    // An IDE login comes with an access token: use it while it lasts, so importing does not
    // refresh (and perhaps rotate) the token the running IDE still holds.
    if (ideLogin?.accessToken && ideLogin.expiresAt !== undefined) {
      account.tokens.adopt({ accessToken: ideLogin.accessToken, expiresAt: ideLogin.expiresAt });
    }
    let usage: UsageSummary;
    try {
      usage = await probeAccount(account);
    } catch (error) {
      await account.dispose();
      throw validationError(error, ideLogin !== undefined, this.deps.redactor, account.isApiKey);
    }
    const email = usage.email ?? draft.email;
    const duplicate = existing ?? this.findDuplicate(account.tokens.refreshToken ?? secret, email, draft.source);
    const id = duplicate?.id ?? newAccountId();
    const record: StoredAccount = {
      v: 1,
      id,
      kind: draft.kind,
      source: draft.source,
      label: draft.label,
      email,
      provider: account.profile.rule === 'builder-id' && draft.kind === 'IdC' ? (draft.provider ?? 'BuilderId') : draft.provider,
      // The refresh may have rotated the token: keep the one that works now, and the one before.
      refreshToken: account.tokens.refreshToken,
      previousRefreshToken: account.tokens.refreshToken !== draft.refreshToken ? draft.refreshToken : undefined,
      apiKey: draft.apiKey,
      clientId: draft.clientId,
      clientSecret: draft.clientSecret,
      region: draft.region,
      profileArn: account.profile.arn,
      machineId: account.machineId,
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
    try {
      await this.store.save(record);
      // An update (id is the duplicate's) takes the duplicate's place.
      entry = this.replaceInPool(id, () => this.addToPool(record, account));
    } catch (error) {
      await account.dispose();
      throw error;
    } finally {
      this.adding.delete(id);
    }
    this.usage.apply(entry, usage);
    void this.usage.refreshModels(entry).catch(() => undefined);
    this.logger.info(`${duplicate ? 'updated' : 'added'} Kiro account ${entry.label} (${usage.remaining} of ${usage.limit} credits left)`);
    this.changed();
    return snapshotOf(entry, this.pool.activeId());
  }

  /** An account already in the pool for the same login (same token or key, or same e-mail). */
  private findDuplicate(secret: string, email: string | undefined, source: AccountSource): PooledAccount | undefined {
    return this.pool
      .entries()
      .find(
        (e) =>
          e.source !== 'env' &&
          (e.account.tokens.refreshToken === secret ||
            longLivedSecret(e.account.credentials) === secret ||
            (email !== undefined && e.email === email) ||
            (source === 'kiro-ide' && e.source === 'kiro-ide' && email === undefined && e.email === undefined)),
      );
  }

  // ---- pool membership ---------------------------------------------------------------------

  private newKiroAccount(credentials: AccountCredentials): KiroAccount {
    const proxy = this.deps.proxy;
    const account: KiroAccount = new KiroAccount({
      // Before refreshing: another window, process or the Kiro IDE may already have a newer token.
      beforeRefresh: (rejected) => this.tokens.beforeRefresh(account, rejected),
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

  private credentialsOf(
    record: Pick<
      StoredAccount,
      'kind' | 'refreshToken' | 'apiKey' | 'clientId' | 'clientSecret' | 'region' | 'profileArn' | 'disabled' | 'provider' | 'startUrl'
    > & {
      machineId?: string;
    },
  ): AccountCredentials {
    const common = {
      region: record.region,
      machineId: record.machineId,
      disabled: record.disabled,
      provider: record.provider,
      startUrl: record.startUrl,
      index: 0,
    };
    if (record.kind === 'ApiKey') return { ...common, auth: 'ApiKey', apiKey: record.apiKey ?? '' };
    return {
      ...common,
      auth: record.kind,
      refreshToken: record.refreshToken ?? '',
      clientId: record.clientId,
      clientSecret: record.clientSecret,
      profileArn: record.profileArn,
    };
  }

  private addFromRecord(record: StoredAccount): PooledAccount {
    this.ctx.registerSecrets(record.refreshToken, record.apiKey, record.previousRefreshToken, record.accessToken, record.clientSecret);
    const account = this.newKiroAccount(this.credentialsOf(record));
    // A saved access token that still lives spares a refresh at start.
    if (record.accessToken && record.accessTokenExpiresAt !== undefined)
      account.tokens.adopt({ accessToken: record.accessToken, expiresAt: record.accessTokenExpiresAt });
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
    this.tokens.track(record, entry);
    if (record.source === 'kiro-ide' && record.ideCacheDir) this.ide.watch(record.ideCacheDir);
    return entry;
  }

  /** Replaces the pool entry `id` with the one `add` puts in, in the same place (or adds it last). */
  private replaceInPool(id: string, add: () => PooledAccount): PooledAccount {
    if (!this.pool.get(id)) return add();
    const order = this.pool.entries().map((e) => e.id);
    this.dropFromPool(id);
    const entry = add();
    this.pool.reorder(order);
    return entry;
  }

  private dropFromPool(id: string): void {
    const entry = this.pool.remove(id);
    this.tokens.forget(id);
    this.usage.forget(id);
    this.envAccounts.forget(id);
    if (entry) void entry.account.dispose();
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
      // A new key saved for this account elsewhere: a key cannot be adopted like a token, so the
      // account is rebuilt from the record, in the same place (and with a fresh state).
      if (entry.account.isApiKey && record.apiKey && record.apiKey !== longLivedSecret(entry.account.credentials)) {
        this.replaceInPool(entry.id, () => this.addFromRecord(record));
        this.logger.info(`the API key of ${entry.label} changed elsewhere (another window or process); using the new one`);
        this.changed();
        return;
      }
      if (entry.health.disabled !== record.disabled) entry.health.disabled = record.disabled;
      if (record.label !== entry.userLabel) entry.userLabel = record.label;
      if (this.tokens.adoptTokens(entry, { refreshToken: record.refreshToken, accessToken: record.accessToken, expiresAt: record.accessTokenExpiresAt })) {
        this.logger.info(`the refresh token of ${entry.label} changed elsewhere (another window or process); using the new one`);
      }
      this.changed();
    } catch (error) {
      this.logger.warn(`could not follow a change of the saved accounts: ${(error as Error).message}`);
    }
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
