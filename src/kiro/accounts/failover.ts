// What to do after an upstream attempt failed, by error class (docs/architecture.md#error-taxonomy,
// docs/kiro-protocol.md#retries-and-fail-over). The rule behind every line: help the request
// without burning accounts. A request-shape error is the same on every account (one proxy once
// crippled 149 of 253 accounts by rotating one bad request), so it is returned at once; an
// account-level error moves on to the next account and marks the first; transient errors get a few
// spaced retries.
import type { KiroError } from '../errors';

export type FailoverDecision =
  /** Give the error to the client now. */
  | { action: 'fail' }
  /** Refresh the access token (once) and try the same account again. */
  | { action: 'refresh' }
  /** Look the account's profile up again (once) and try the same account again. */
  | { action: 'reprofile' }
  /** Wait, then try the same account again. */
  | { action: 'retry'; delayMs: number }
  /** Mark the account (see `mark`) and try another one. */
  | { action: 'next'; mark: AccountMark };

export type AccountMark =
  | { kind: 'quota_exhausted'; until: number }
  | { kind: 'cooling_down'; until: number }
  | { kind: 'suspended' }
  | { kind: 'needs_sign_in' }
  /** This account lacks the model; others may have it (no penalty). */
  | { kind: 'lacks_model' }
  /** Nothing to remember: the account only failed this request. */
  | { kind: 'none' };

export interface FailoverPolicy {
  /** Retries of a transient failure on one account before moving on. */
  transientRetries: number;
  /** First transient backoff; doubles per retry up to `backoffCapMs`, plus up to 25 % jitter. */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** First 429 cool-down; doubles per strike in a row up to `throttleCapMs`, plus up to 20 % jitter. */
  throttleBaseMs: number;
  throttleCapMs: number;
}

export const DEFAULT_FAILOVER_POLICY: FailoverPolicy = {
  transientRetries: 2,
  backoffBaseMs: 200,
  backoffCapMs: 2000,
  throttleBaseMs: 5000,
  throttleCapMs: 5 * 60_000,
};

export interface AttemptState {
  /** Transient retries already spent on this account for this request. */
  transientRetries: number;
  /** Whether the token of this account was already refreshed for this request. */
  refreshed: boolean;
  /** Whether the profile of this account was already looked up again for this request. */
  reprofiled?: boolean;
  /** 429s in a row on this account (including this one). */
  throttleStrikes: number;
  now: number;
  random: () => number;
}

/** 00:00 UTC on the first of next month (when Kiro resets monthly credits). */
export function nextMonthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Exponential backoff with jitter: base × 2^n, capped, plus up to 25 % (as kiro.rs backs off). */
export function backoffDelay(retry: number, policy: FailoverPolicy, random: () => number): number {
  const base = Math.min(policy.backoffCapMs, policy.backoffBaseMs * 2 ** retry);
  return Math.round(base * (1 + 0.25 * random()));
}

/**
 * How long a throttled account rests: what `retry-after` asked for on a first 429; a backoff that
 * grows with every 429 in a row otherwise (never less than `retry-after`); plus jitter so several
 * accounts do not come back at the same moment.
 */
export function throttleCooldown(strikes: number, retryAfterSeconds: number | undefined, policy: FailoverPolicy, random: () => number): number {
  const backoff = Math.min(policy.throttleCapMs, policy.throttleBaseMs * 2 ** Math.max(0, strikes - 1));
  const wait = retryAfterSeconds === undefined ? backoff : Math.max(retryAfterSeconds * 1000, strikes > 1 ? backoff : 0);
  return Math.round(wait * (1 + 0.2 * random()));
}

/** Transport-level failures worth another try: no HTTP answer, a 5xx, a cut before any event. */
function isTransient(error: KiroError): boolean {
  if (error.errorClass === 'upstream_unavailable') return true;
  // A stream cut before its first event carries no exception type; an exception or error frame
  // does (`reason`), and may be deterministic, so it is not retried.
  return error.errorClass === 'stream_broken' && !error.reason;
}

export function decideFailover(error: KiroError, state: AttemptState, policy: FailoverPolicy = DEFAULT_FAILOVER_POLICY): FailoverDecision {
  switch (error.errorClass) {
    case 'bad_request':
    case 'prompt_too_long':
    case 'internal':
    case 'no_account':
    case 'invalid_output':
    case 'timeout':
      // Timeouts: the client already waited the whole idle limit once; it decides whether to wait again.
      return { action: 'fail' };
    case 'model_unavailable':
      return { action: 'next', mark: { kind: 'lacks_model' } };
    case 'quota_exhausted':
      return { action: 'next', mark: { kind: 'quota_exhausted', until: error.resetAt?.getTime() ?? nextMonthStart(state.now) } };
    case 'account_suspended':
      return { action: 'next', mark: { kind: 'suspended' } };
    case 'needs_sign_in':
      return { action: 'next', mark: { kind: 'needs_sign_in' } };
    case 'profile_rejected':
      if (!state.reprofiled) return { action: 'reprofile' };
      // The profile Kiro lists was refused too: this login cannot serve; another account may.
      return { action: 'next', mark: { kind: 'none' } };
    case 'token_expired':
      if (!state.refreshed) return { action: 'refresh' };
      // A fresh token rejected again: try another account for this request. No mark: the next
      // request refreshes again, and a sole account must not fail fast on a guess.
      return { action: 'next', mark: { kind: 'none' } };
    case 'throttled':
      return {
        action: 'next',
        mark: { kind: 'cooling_down', until: state.now + throttleCooldown(state.throttleStrikes, error.retryAfterSeconds, policy, state.random) },
      };
    case 'upstream_unavailable':
    case 'stream_broken':
      if (!isTransient(error)) return { action: 'fail' };
      if (state.transientRetries < policy.transientRetries) {
        return { action: 'retry', delayMs: backoffDelay(state.transientRetries, policy, state.random) };
      }
      // Kiro's trouble, not the account's: another account may get through, but no mark, so a
      // sole account is tried again by the next request instead of failing fast.
      return { action: 'next', mark: { kind: 'none' } };
  }
}
