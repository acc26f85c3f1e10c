// Usage and model checks of pooled accounts: a check asks Kiro for the credits left (and, when not
// known yet or asked for, the models the plan has), applies them to the account, and marks the
// account when Kiro refuses its login (an access token Kiro calls expired is refreshed once; an API
// key it refuses is final). After an account serves a request a check is scheduled, at
// most one per account per interval, so the credits shown stay close to Kiro's count.
import type { AccountsContext } from './accounts-context';
import type { PooledAccount } from './account-pool';
import { KiroError } from '../errors';
import { summarizeUsage, type UsageSummary } from './quota';
import { fetchAvailableModels, fetchUsageLimits } from '../http/runtime-api';
import type { KiroAccount } from './account';

/**
 * A token (refreshing if needed) and a usage check; a token Kiro calls expired is refreshed once
 * (an API key Kiro refuses becomes `needs_sign_in`: there is no other to try), and a profile it
 * refuses is looked up again once.
 */
export async function probeAccount(account: KiroAccount): Promise<UsageSummary> {
  let token = await account.getToken();
  try {
    return summarizeUsage(await fetchUsageLimits(account, token));
  } catch (error) {
    if (!(error instanceof KiroError)) throw error;
    if (error.errorClass === 'profile_rejected' && account.profile.canLookUpAgain) {
      await account.profile.lookUpAgain(token);
      return summarizeUsage(await fetchUsageLimits(account, token));
    }
    if (error.errorClass !== 'token_expired') throw error;
    token = await account.refreshAfterRejection(token);
    return summarizeUsage(await fetchUsageLimits(account, token));
  }
}

export class UsageChecks {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: AccountsContext,
    /** Fewest milliseconds between two automatic usage checks of one account. */
    private readonly intervalMs: number,
  ) {}

  /** Token, usage and (if unknown or asked) models of one account; errors mark the account. */
  check(entry: PooledAccount, options: { models?: boolean } = {}): Promise<void> {
    const running = this.inFlight.get(entry.id);
    if (running) return running;
    const work = (async () => {
      try {
        const usage = await probeAccount(entry.account);
        if (this.ctx.pool.get(entry.id) !== entry) return;
        this.apply(entry, usage);
        if (options.models || entry.models === undefined) await this.refreshModels(entry);
      } catch (error) {
        this.noteFailure(entry, error);
        throw error;
      } finally {
        this.inFlight.delete(entry.id);
        this.ctx.changed();
      }
    })();
    this.inFlight.set(entry.id, work);
    return work;
  }

  /** Takes a usage answer into the account: credits, e-mail, and the "used up" mark. */
  apply(entry: PooledAccount, usage: UsageSummary): void {
    const { ctx } = this;
    entry.usage = usage;
    entry.usageCheckedAt = ctx.now();
    entry.meteredSinceCheck = 0;
    if (usage.email && usage.email !== entry.email) {
      entry.email = usage.email;
      if (entry.source !== 'env') void ctx.store.update(entry.id, (r) => (r.email === usage.email ? undefined : { ...r, email: usage.email }));
    }
    const before = JSON.stringify(entry.health.persisted());
    // With paid overage on, 0 left does not stop requests: only a real 402 marks the account.
    if (!usage.overageEnabled || usage.remaining > 0) entry.health.noteRemaining(usage.remaining, usage.resetAt, 'monthly credits used up');
    if (JSON.stringify(entry.health.persisted()) !== before) ctx.pool.emit({ id: entry.id, persist: true });
  }

  async refreshModels(entry: PooledAccount): Promise<void> {
    try {
      const token = await entry.account.getToken();
      const { models } = await fetchAvailableModels(entry.account, token);
      if (models.length > 0) {
        entry.models = models;
        // A fresh list from Kiro is the better word on what the tier has.
        for (const m of [...entry.lacking]) if (!models.includes(m)) entry.lacking.delete(m);
      }
    } catch (error) {
      this.ctx.logger.debug(`model list of ${entry.label} unavailable: ${this.ctx.redactor.text((error as Error).message)}`);
    }
    this.ctx.changed();
  }

  /** After a request: check usage now if the last check is an interval old, else once it is. */
  schedule(id: string): void {
    const { ctx } = this;
    if (ctx.isDisposed() || this.timers.has(id)) return;
    const entry = ctx.pool.get(id);
    if (!entry) return;
    const due = (entry.usageCheckedAt ?? 0) + this.intervalMs;
    // A short pause lets the answer's metering settle on Kiro's side.
    const delay = Math.max(1000, due - ctx.now());
    const timer = setTimeout(() => {
      this.timers.delete(id);
      const current = ctx.pool.get(id);
      if (current && !current.health.disabled) void this.check(current).catch(() => undefined);
    }, delay);
    timer.unref?.();
    this.timers.set(id, timer);
  }

  /** Stops the scheduled check of an account that left the pool. */
  forget(id: string): void {
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private noteFailure(entry: PooledAccount, error: unknown): void {
    const { ctx } = this;
    const message = ctx.redactor.text((error as Error)?.message ?? String(error));
    if (error instanceof KiroError) {
      if (error.errorClass === 'needs_sign_in' && entry.condition().state !== 'needs_sign_in') {
        entry.health.markNeedsSignIn(entry.needsSignInReason);
        ctx.pool.emit({ id: entry.id, persist: true });
      } else if (error.errorClass === 'account_suspended') {
        entry.health.markSuspended('Kiro suspended this account');
        ctx.pool.emit({ id: entry.id, persist: true });
      }
    }
    ctx.logger.warn(`usage check of ${entry.label} failed: ${message}`);
  }
}
