// The account pool: every account with its health, the selection strategy, and the fail-over loop
// one request runs through (`execute`). The loop asks `decideFailover` what an error means, marks
// the account, and moves on — to a retry after a backoff, a token refresh, or the next account —
// within a bound on attempts. The caller's `run` covers one attempt up to the moment the answer
// may be sent to the client; once it has returned, nothing is retried (the first byte of the
// answer may be on its way), so a failure after that is the caller's to report.
import { nullLogger, type Logger } from '../../common/logger';
import type { IDisposable } from '../../common/disposable';
import type { KiroAccount } from './account';
import type { AccessToken } from './auth';
import { AccountHealth, canServe, type AccountCondition, type HealthMarks } from './account-state';
import type { AccountSource } from './account-store';
import type { AuthKind } from './credentials';
import { KiroError } from '../errors';
import { API_KEY_REJECTED } from './api-key-tokens';
import { DEFAULT_FAILOVER_POLICY, decideFailover, throttleCooldown, type AccountMark, type FailoverPolicy } from './failover';
import type { UsageSummary } from './quota';
import { AccountSelector, type SelectionStrategy } from './selection';

export interface PooledAccountInit {
  /** Stable id (stored accounts: random; KIRO_AUTH_TOKEN accounts: by position). */
  id: string;
  account: KiroAccount;
  source: AccountSource;
  /** A name the user gave it. */
  label?: string;
  email?: string;
  disabled?: boolean;
  health?: HealthMarks;
}

/** One account in the pool, with what the pool knows about it. */
export class PooledAccount {
  readonly id: string;
  readonly account: KiroAccount;
  readonly source: AccountSource;
  readonly kind: AuthKind;
  readonly health: AccountHealth;
  userLabel: string | undefined;
  email: string | undefined;
  /** Kiro model ids from ListAvailableModels (undefined until known). */
  models: string[] | undefined;
  /** Models Kiro refused for this account (INVALID_MODEL_ID) although it may have listed them. */
  readonly lacking = new Set<string>();
  usage: UsageSummary | undefined;
  usageCheckedAt: number | undefined;
  /** Credits the meteringEvents of this process's requests reported. */
  usedThisSession = 0;
  /** Credits metered since the last usage check (subtracted from the last known balance). */
  meteredSinceCheck = 0;

  constructor(init: PooledAccountInit, now: () => number) {
    this.id = init.id;
    this.account = init.account;
    this.source = init.source;
    this.kind = init.account.credentials.auth;
    this.userLabel = init.label;
    this.email = init.email;
    this.health = new AccountHealth(now, init.health, init.disabled ?? false);
  }

  /** The name the user gave it, else the e-mail, else kind + masked refresh token. */
  get label(): string {
    // The masked label is fixed at creation, so records keep one name across token rotations.
    return this.userLabel ?? this.email ?? this.account.label;
  }

  condition(): AccountCondition {
    return this.health.condition(this.account.tokenState === 'refreshing');
  }

  canServe(): boolean {
    return canServe(this.condition().state);
  }

  /** Whether this account may serve `model` (unknown lists count as "maybe"). */
  mayServe(model: string | undefined): boolean {
    if (!model) return true;
    if (this.lacking.has(model)) return false;
    return this.models === undefined || this.models.includes(model);
  }

  /** Whether Kiro's model list for this account names `model` (not just "unknown"). */
  lists(model: string): boolean {
    return this.models !== undefined && this.models.includes(model) && !this.lacking.has(model);
  }

  /** What the account is told when Kiro refuses its credential for good. */
  get needsSignInReason(): string {
    return this.account.isApiKey ? API_KEY_REJECTED : REFRESH_TOKEN_REJECTED;
  }

  /** Models this account can use as far as we know (listed minus refused). */
  usableModels(): string[] | undefined {
    return this.models?.filter((m) => !this.lacking.has(m));
  }

  /** Forgets what failures taught about this account (marks, missing models): a fresh start. */
  resetHealth(): void {
    this.health.reset();
    this.lacking.clear();
  }

  /** Credits left: the last usage check minus what was metered since. */
  get remainingCredits(): number | undefined {
    if (!this.usage) return undefined;
    return Math.max(0, Math.round((this.usage.remaining - this.meteredSinceCheck) * 100) / 100);
  }
}

export interface AttemptReport {
  accountId: string;
  /** The account's label for records (e-mail or masked token). */
  account: string;
  /** Kiro's HTTP status (0: no answer; 200: the attempt succeeded). */
  status: number;
  errorClass?: string;
  durationMs: number;
}

export interface AccountLease {
  entry: PooledAccount;
  account: KiroAccount;
  token: AccessToken;
  /** 1-based attempt on this account for this request (for `amz-sdk-request`). */
  attempt: number;
}

export interface ExecuteOptions {
  /** The Kiro model id asked for (routes around accounts that lack it). */
  model?: string;
  signal?: AbortSignal;
  /** Each finished attempt, success or failure (traffic records). */
  onAttempt?: (report: AttemptReport) => void;
  /** An account was chosen for the next attempt. */
  onAccount?: (entry: PooledAccount) => void;
}

/**
 * Where the bridge gets accounts for a request: the account pool below, which picks one, fails
 * over by error class, and bounds the attempts. `run` covers one attempt up to the moment its
 * answer may reach the client; nothing is retried after that.
 */
export interface AccountProvider {
  execute<T>(options: ExecuteOptions, run: (lease: AccountLease) => Promise<T>): Promise<T>;
  /** Every account, for status displays. */
  all(): readonly KiroAccount[];
  /** Why no account can serve right now ('' when one can), for status and error messages. */
  unavailableReason(): string;
  /** Kiro model ids at least one usable account can use; undefined when not known. */
  availableModels(): ReadonlySet<string> | undefined;
  /** Per Kiro model id, the labels of the usable accounts whose model list names it. */
  modelAccounts?(): ReadonlyMap<string, readonly string[]>;
}

export interface AccountPoolOptions {
  strategy?: SelectionStrategy;
  policy?: Partial<FailoverPolicy>;
  /** Upstream calls one request may make in all. Default 6. */
  maxAttempts?: number;
  /**
   * The longest one request waits for a throttled account when none can serve. Default 2 s:
   * longer waits go back to the client as a 429 with retry-after, so it paces itself and the user
   * sees why (users ask for pacing they can see), instead of a request hanging inside the bridge.
   */
  maxWaitMs?: number;
  logger?: Logger;
  now?: () => number;
  /** Abortable sleep (tests replace it to move a test clock). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface PoolChange {
  /** The account whose state changed, if one did. */
  id?: string;
  /** Whether a persisted mark changed (the store should save it). */
  persist?: boolean;
  /** The account just served a request (a usage check may be due). */
  served?: boolean;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function asKiroError(error: unknown): KiroError {
  if (error instanceof KiroError) return error;
  return new KiroError('internal', error instanceof Error ? error.message : String(error), { cause: error });
}

/** The account's sentence once Kiro refused its refresh token. */
const REFRESH_TOKEN_REJECTED = 'Kiro rejected the refresh token; sign in again';

const MARK_REASON: Record<Exclude<AccountMark['kind'], 'needs_sign_in'>, string> = {
  quota_exhausted: 'monthly credits used up',
  cooling_down: 'backing off',
  suspended: 'Kiro suspended this account',
  lacks_model: '',
  none: '',
};

export class AccountPool implements AccountProvider, IDisposable {
  private readonly list: PooledAccount[] = [];
  private readonly selector: AccountSelector;
  private readonly policy: FailoverPolicy;
  private readonly maxAttempts: number;
  private readonly maxWaitMs: number;
  private readonly logger: Logger;
  readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly listeners = new Set<(change: PoolChange) => void>();
  /** What to tell a client when there is no account at all (each front end names its own way to add one). */
  noAccountMessage = 'no Kiro account is configured';
  private readonly unsubscribers = new Map<string, () => void>();

  constructor(options: AccountPoolOptions = {}) {
    this.selector = new AccountSelector(options.strategy ?? 'priority');
    this.policy = { ...DEFAULT_FAILOVER_POLICY, ...options.policy };
    this.maxAttempts = options.maxAttempts ?? 6;
    this.maxWaitMs = options.maxWaitMs ?? 2000;
    this.logger = options.logger ?? nullLogger;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
  }

  // ---- membership -------------------------------------------------------------------------

  get strategy(): SelectionStrategy {
    return this.selector.strategy;
  }

  set strategy(strategy: SelectionStrategy) {
    if (this.selector.strategy === strategy) return;
    this.selector.strategy = strategy;
    this.emit({});
  }

  entries(): readonly PooledAccount[] {
    return this.list;
  }

  get(id: string): PooledAccount | undefined {
    return this.list.find((e) => e.id === id);
  }

  /** Adds an account (last in priority); the pool does not own it until `add` returns. */
  add(init: PooledAccountInit): PooledAccount {
    if (this.get(init.id)) throw new Error(`account ${init.id} is already in the pool`);
    const entry = new PooledAccount(init, this.now);
    this.list.push(entry);
    const off = entry.account.tokens.onDidChangeState((state) => {
      if (state === 'needs_sign_in' && entry.condition().state !== 'needs_sign_in') {
        entry.health.markNeedsSignIn(entry.needsSignInReason);
        this.emit({ id: entry.id, persist: true });
      } else {
        this.emit({ id: entry.id });
      }
    });
    const offMeter = entry.account.onDidMeter((credits) => this.recordCredits(entry.id, credits));
    this.unsubscribers.set(entry.id, () => {
      off();
      offMeter();
    });
    this.emit({ id: entry.id });
    return entry;
  }

  /** Takes an account out (the caller disposes its KiroAccount). */
  remove(id: string): PooledAccount | undefined {
    const at = this.list.findIndex((e) => e.id === id);
    if (at < 0) return undefined;
    const [entry] = this.list.splice(at, 1);
    this.unsubscribers.get(id)?.();
    this.unsubscribers.delete(id);
    this.selector.forget(id);
    this.emit({ id });
    return entry;
  }

  /** Puts the accounts in this priority order (ids not named keep their order, after). */
  reorder(ids: readonly string[]): void {
    const named = ids.map((id) => this.get(id)).filter((e): e is PooledAccount => e !== undefined);
    const rest = this.list.filter((e) => !named.includes(e));
    this.list.splice(0, this.list.length, ...named, ...rest);
    this.emit({});
  }

  onDidChange(listener: (change: PoolChange) => void): IDisposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  /** Tells listeners an account's state or facts changed (persist: a mark worth saving changed). */
  emit(change: PoolChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.logger.warn(`account pool listener failed: ${(error as Error).message}`);
      }
    }
  }

  // ---- what the bridge asks -------------------------------------------------------------

  /** The account priority selection uses now: the last that served if it still can, else the next pick. */
  activeId(): string | undefined {
    const usable = this.list.filter((e) => e.canServe());
    return (usable.find((e) => e.id === this.selector.active) ?? usable[0])?.id;
  }

  /** Every account, for status displays. */
  all(): readonly KiroAccount[] {
    return this.list.map((e) => e.account);
  }

  /** Per Kiro model id, the labels of the accounts that can serve and whose model list names it. */
  modelAccounts(): Map<string, string[]> {
    const byModel = new Map<string, string[]>();
    for (const entry of this.list) {
      if (!entry.canServe()) continue;
      for (const model of entry.usableModels() ?? []) {
        const labels = byModel.get(model);
        if (labels) labels.push(entry.label);
        else byModel.set(model, [entry.label]);
      }
    }
    return byModel;
  }

  /** Kiro model ids at least one account that can serve may use; undefined when no list is known. */
  availableModels(): Set<string> | undefined {
    const usable = this.list.filter((e) => e.canServe());
    if (usable.length === 0) return undefined;
    if (usable.some((e) => e.models === undefined)) return undefined;
    const models = new Set<string>();
    for (const entry of usable) for (const model of entry.usableModels() ?? []) models.add(model);
    return models;
  }

  /** Why no account can serve (for errors and status lines); '' when one can. */
  unavailableReason(model?: string): string {
    if (this.list.length === 0) return this.noAccountMessage;
    if (this.list.some((e) => e.canServe() && e.mayServe(model))) return '';
    return this.describeUnavailable(model);
  }

  /** Credits a meteringEvent reported for a request served by `id`. */
  recordCredits(id: string, credits: number): void {
    const entry = this.get(id);
    if (!entry || !(credits > 0)) return;
    entry.usedThisSession += credits;
    entry.meteredSinceCheck += credits;
    this.emit({ id });
  }

  // ---- the fail-over loop -----------------------------------------------------------------

  /**
   * Runs `run` on an account, failing over as `decideFailover` says, until it returns, a failure
   * must go to the client, or the attempts run out. Throws the KiroError the client should see.
   */
  async execute<T>(options: ExecuteOptions, run: (lease: AccountLease) => Promise<T>): Promise<T> {
    const { model, signal } = options;
    /** Accounts that failed this request in a way another try now would not fix. */
    const skipped = new Set<string>();
    /** Accounts throttled during this request: worth waiting for when nothing else can serve. */
    const throttled = new Set<string>();
    let lastError: KiroError | undefined;
    let attempts = 0;
    let entry: PooledAccount | undefined;
    let accountAttempt = 0;
    let transientRetries = 0;
    let refreshed = false;
    let reprofiled = false;
    let rejected: AccessToken | undefined;
    let waited = 0;
    /** An account of this request lacked the model: prefer accounts whose list names it. */
    let preferListing = false;

    while (attempts < this.maxAttempts) {
      if (signal?.aborted) throw signal.reason;
      if (!entry) {
        entry = this.pick(model, skipped, preferListing);
        if (!entry) {
          const wait = this.waitForCooling(model, skipped, throttled);
          if (wait !== undefined && waited + wait <= this.maxWaitMs) {
            waited += wait;
            this.logger.info(`no Kiro account can serve right now; waiting ${Math.ceil(wait / 100) / 10}s for one to cool down`);
            await this.sleep(wait, signal);
            for (const id of throttled) skipped.delete(id);
            throttled.clear();
            continue;
          }
          throw this.unavailableError(model, lastError);
        }
        if (accountAttempt > 0 || skipped.size > 0) this.logger.info(`trying Kiro account ${entry.label}`);
        accountAttempt = 0;
        transientRetries = 0;
        refreshed = false;
        reprofiled = false;
        rejected = undefined;
        options.onAccount?.(entry);
      }

      // A token first (refreshing if needed; failures here are account failures too).
      let token: AccessToken;
      try {
        token = rejected ? await entry.account.refreshAfterRejection(rejected) : await entry.account.getToken();
        rejected = undefined;
      } catch (error) {
        if (signal?.aborted) throw signal.reason ?? error;
        const failure = asKiroError(error);
        lastError = failure;
        // A rejected refresh token needs a sign-in; a throttled refresh rests the account; any
        // other refresh failure (network, 5xx) only skips it for this request.
        let mark: AccountMark = { kind: 'none' };
        if (failure.errorClass === 'needs_sign_in') mark = { kind: 'needs_sign_in' };
        else if (failure.errorClass === 'throttled') {
          entry.health.throttleStrikes++;
          throttled.add(entry.id);
          mark = {
            kind: 'cooling_down',
            until: this.now() + throttleCooldown(entry.health.throttleStrikes, failure.retryAfterSeconds, this.policy, this.random),
          };
        }
        this.apply(entry, mark, failure);
        skipped.add(entry.id);
        entry = undefined;
        continue;
      }

      attempts++;
      accountAttempt++;
      const started = this.now();
      try {
        const value = await run({ entry, account: entry.account, token, attempt: accountAttempt });
        options.onAttempt?.({ accountId: entry.id, account: entry.label, status: 200, durationMs: this.now() - started });
        entry.health.served();
        entry.health.clearCooling();
        this.selector.served(entry.id);
        this.emit({ id: entry.id, served: true });
        return value;
      } catch (error) {
        if (signal?.aborted) throw error;
        const failure = asKiroError(error);
        lastError = failure;
        options.onAttempt?.({
          accountId: entry.id,
          account: entry.label,
          status: failure.status ?? 0,
          errorClass: failure.errorClass,
          durationMs: this.now() - started,
        });
        if (failure.errorClass === 'throttled') {
          entry.health.throttleStrikes++;
          throttled.add(entry.id);
        }
        const decision = decideFailover(
          failure,
          {
            transientRetries,
            refreshed,
            reprofiled,
            throttleStrikes: entry.health.throttleStrikes,
            now: this.now(),
            random: this.random,
          },
          this.policy,
        );
        switch (decision.action) {
          case 'fail':
            throw failure;
          case 'refresh':
            refreshed = true;
            rejected = token;
            this.logger.info(`Kiro rejected the access token of ${entry.label}; refreshing it once`);
            continue;
          case 'reprofile':
            reprofiled = true;
            if (entry.account.profile.canLookUpAgain) {
              this.logger.info(`Kiro refused the profile of ${entry.label}; looking it up again`);
              await entry.account.profile.lookUpAgain(token);
              continue;
            }
            // A fixed profile (Social, Builder ID): asking again changes nothing; try another account.
            skipped.add(entry.id);
            entry = undefined;
            continue;
          case 'retry':
            transientRetries++;
            this.logger.info(`${failure.message}; retrying ${entry.label} in ${decision.delayMs} ms`);
            await this.sleep(decision.delayMs, signal);
            continue;
          case 'next':
            this.apply(entry, decision.mark, failure, model);
            if (decision.mark.kind === 'lacks_model') preferListing = true;
            skipped.add(entry.id);
            entry = undefined;
            continue;
        }
      }
    }
    throw lastError ?? new KiroError('no_account', 'no Kiro account could serve the request');
  }

  private pick(model: string | undefined, skipped: ReadonlySet<string>, preferListing = false): PooledAccount | undefined {
    const eligible = this.list.filter((e) => !skipped.has(e.id) && e.canServe() && e.mayServe(model));
    // After an INVALID_MODEL_ID, an account Kiro says has the model beats one whose list is unknown.
    const listing = preferListing && model ? eligible.filter((e) => e.lists(model)) : [];
    return this.selector.pick(listing.length > 0 ? listing : eligible, this.list);
  }

  /**
   * How long to wait for an account that is only cooling down (and may serve the model), if that
   * is within `maxWaitMs`. Accounts that failed this request for another reason are not waited for.
   */
  private waitForCooling(model: string | undefined, skipped: ReadonlySet<string>, throttled: ReadonlySet<string>): number | undefined {
    const now = this.now();
    let soonest: number | undefined;
    for (const entry of this.list) {
      const condition = entry.condition();
      if (condition.state !== 'cooling_down' || condition.until === undefined || !entry.mayServe(model)) continue;
      // An account that failed this request is waited for only if it was throttled (a cool-down).
      if (skipped.has(entry.id) && !throttled.has(entry.id)) continue;
      soonest = soonest === undefined ? condition.until : Math.min(soonest, condition.until);
    }
    if (soonest === undefined) return undefined;
    const wait = soonest - now;
    return wait <= this.maxWaitMs ? Math.max(1, wait) : undefined;
  }

  /** Applies a fail-over mark to the account and tells listeners. */
  private apply(entry: PooledAccount, mark: AccountMark, error: KiroError, model?: string): void {
    const reason = this.reasonFor(entry, mark, error);
    switch (mark.kind) {
      case 'quota_exhausted':
        entry.health.markExhausted(mark.until, reason, entry.remainingCredits);
        this.logger.warn(`Kiro account ${entry.label}: ${reason}; using another account until ${new Date(mark.until).toISOString()}`);
        break;
      case 'cooling_down':
        entry.health.markCooling(mark.until, reason);
        this.logger.warn(`Kiro account ${entry.label}: ${reason}; resting for ${Math.ceil((mark.until - this.now()) / 1000)} s`);
        break;
      case 'suspended':
        entry.health.markSuspended(reason);
        this.logger.error(`Kiro account ${entry.label} is suspended: ${reason}. Check the account with Kiro support; the bridge will not use it.`);
        break;
      case 'needs_sign_in':
        entry.health.markNeedsSignIn(reason);
        this.logger.error(`Kiro account ${entry.label} needs a new sign-in: ${reason}`);
        break;
      case 'lacks_model':
        if (model) {
          entry.lacking.add(model);
          this.logger.info(`Kiro account ${entry.label} cannot use ${model}; trying an account that can`);
        }
        break;
      case 'none':
        break;
    }
    this.emit({ id: entry.id, persist: mark.kind !== 'lacks_model' && mark.kind !== 'none' && mark.kind !== 'cooling_down' });
  }

  private reasonFor(entry: PooledAccount, mark: AccountMark, error: KiroError): string {
    if (mark.kind === 'cooling_down') {
      return error.status === 429 || error.errorClass === 'throttled'
        ? 'Kiro is throttling this account (HTTP 429)'
        : `Kiro asked to back off (${error.errorClass})`;
    }
    if (mark.kind === 'needs_sign_in') return `${entry.needsSignInReason}${error.status ? ` (HTTP ${error.status})` : ''}`;
    if (mark.kind === 'suspended') return MARK_REASON.suspended;
    return MARK_REASON[mark.kind];
  }

  private describeUnavailable(model: string | undefined): string {
    const parts = this.list.map((e) => {
      const c = e.condition();
      if (canServe(c.state) && !e.mayServe(model)) return `${e.label}: cannot use ${model}`;
      const until = c.until ? ` until ${new Date(c.until).toISOString()}` : '';
      return `${e.label}: ${c.state.replace(/_/g, ' ')}${until}${c.reason ? ` (${c.reason})` : ''}`;
    });
    return `no Kiro account can serve this request — ${parts.join('; ')}`;
  }

  /**
   * The error for "nobody can serve". A failure seen by this request keeps its class, status,
   * retry-after and reset date (so a lone throttled account gives the client Kiro's own
   * retry-after); with several accounts the message says what each one is doing. Without one, the
   * states decide: the account back soonest shapes it.
   */
  private unavailableError(model: string | undefined, lastError: KiroError | undefined): KiroError {
    if (this.list.length === 0) return new KiroError('no_account', this.noAccountMessage);
    const states = this.list.map((e) => ({ entry: e, condition: e.condition() }));
    const usable = states.filter((s) => canServe(s.condition.state));
    const description = this.describeUnavailable(model);
    if (model && usable.length > 0 && usable.every((s) => !s.entry.mayServe(model))) {
      return new KiroError('model_unavailable', `no Kiro account can use the model ${model} — ${usable.map((s) => s.entry.label).join(', ')} lack it`, {
        reason: 'INVALID_MODEL_ID',
      });
    }
    const soonest = (state: string) =>
      states
        .filter((s) => s.condition.state === state && s.condition.until !== undefined)
        .map((s) => s.condition.until!)
        .sort((a, b) => a - b)[0];
    if (lastError) {
      const message = this.list.length > 1 ? `${lastError.message} (${description})` : lastError.message;
      const exhaustedUntil = lastError.errorClass === 'quota_exhausted' ? soonest('quota_exhausted') : undefined;
      const coolingUntil = lastError.errorClass === 'throttled' ? soonest('cooling_down') : undefined;
      return new KiroError(lastError.errorClass, message, {
        status: lastError.status,
        reason: lastError.reason,
        retryAfterSeconds: lastError.retryAfterSeconds ?? (coolingUntil !== undefined ? Math.max(1, Math.ceil((coolingUntil - this.now()) / 1000)) : undefined),
        resetAt: lastError.resetAt ?? (exhaustedUntil !== undefined ? new Date(exhaustedUntil) : undefined),
        account: lastError.account,
        cause: lastError,
      });
    }
    const timed = states
      .filter((s) => (s.condition.state === 'cooling_down' || s.condition.state === 'quota_exhausted') && s.condition.until !== undefined)
      .sort((a, b) => a.condition.until! - b.condition.until!);
    const first = timed[0];
    if (first && usable.length === 0) {
      const until = first.condition.until!;
      if (first.condition.state === 'quota_exhausted')
        return new KiroError('quota_exhausted', `Kiro quota exhausted: ${description}`, { resetAt: new Date(until), status: 402 });
      return new KiroError('throttled', `Kiro is throttling requests: ${description}`, {
        retryAfterSeconds: Math.max(1, Math.ceil((until - this.now()) / 1000)),
        status: 429,
      });
    }
    if (usable.length === 0 && states.every((s) => s.condition.state === 'needs_sign_in')) {
      const what = states.every((s) => s.entry.account.isApiKey)
        ? 'the Kiro API key was rejected; add a new key'
        : 'the Kiro login needs a new sign-in; sign in again';
      return new KiroError('needs_sign_in', `${what} (${description})`);
    }
    if (usable.length === 0 && states.every((s) => s.condition.state === 'suspended'))
      return new KiroError('account_suspended', `Kiro account suspended: ${description}`, { status: 403 });
    return new KiroError('no_account', description);
  }

  dispose(): void {
    for (const off of this.unsubscribers.values()) off();
    this.unsubscribers.clear();
    this.listeners.clear();
  }
}
