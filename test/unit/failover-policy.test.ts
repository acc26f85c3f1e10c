// The pure pieces of the pool: fail-over decisions per error class, backoff and cool-down
// arithmetic, account health transitions, and the selection strategies.
import { describe, expect, it } from 'vitest';
import { AccountHealth } from '../../src/kiro/accounts/account-state';
import { KiroError, classifyUpstreamResponse, type ErrorClass } from '../../src/kiro/errors';
import { DEFAULT_FAILOVER_POLICY, backoffDelay, decideFailover, nextMonthStart, throttleCooldown, type AttemptState } from '../../src/kiro/accounts/failover';
import { AccountSelector } from '../../src/kiro/accounts/selection';

const NOW = Date.UTC(2026, 4, 17, 12, 0, 0);
const state = (over: Partial<AttemptState> = {}): AttemptState => ({
  transientRetries: 0,
  refreshed: false,
  throttleStrikes: 1,
  now: NOW,
  random: () => 0.5,
  ...over,
});
const err = (errorClass: ErrorClass, details: ConstructorParameters<typeof KiroError>[2] = {}) => new KiroError(errorClass, errorClass, details);

describe('decideFailover', () => {
  it('returns request-shape errors at once, never on another account', () => {
    for (const body of [
      { message: 'Improperly formed request.', reason: null },
      { message: 'Invalid tool use format.', reason: 'REQUEST_BODY_INVALID' },
      { message: 'x', reason: 'TOOL_CONFIG_MISSING' },
      { message: 'Input is too long.', reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' },
    ]) {
      const error = classifyUpstreamResponse(400, JSON.stringify(body));
      expect(decideFailover(error, state())).toEqual({ action: 'fail' });
    }
  });

  it('tries another account for a model the tier lacks, without a penalty', () => {
    const error = classifyUpstreamResponse(400, JSON.stringify({ message: 'Invalid model', reason: 'INVALID_MODEL_ID' }));
    expect(decideFailover(error, state())).toEqual({ action: 'next', mark: { kind: 'lacks_model' } });
  });

  it('marks a 402 exhausted until the reset Kiro gave, else until the first of next month', () => {
    const reset = new Date(NOW + 3 * 86_400_000);
    expect(decideFailover(err('quota_exhausted', { resetAt: reset }), state())).toEqual({
      action: 'next',
      mark: { kind: 'quota_exhausted', until: reset.getTime() },
    });
    expect(decideFailover(err('quota_exhausted'), state())).toEqual({ action: 'next', mark: { kind: 'quota_exhausted', until: Date.UTC(2026, 5, 1) } });
    expect(nextMonthStart(Date.UTC(2026, 11, 31, 23, 59))).toBe(Date.UTC(2027, 0, 1));
  });

  it('looks a refused profile up again once, then tries another account; a plain 403 is still a token problem', () => {
    const missing = classifyUpstreamResponse(400, JSON.stringify({ message: 'profileArn is required for this request.', reason: null }), {
      'x-amzn-errortype': 'ValidationException',
    });
    const refused = classifyUpstreamResponse(403, JSON.stringify({ message: 'User is not authorized to make this call.' }), {
      'x-amzn-errortype': 'AccessDeniedException',
    });
    for (const error of [missing, refused]) {
      expect(error.errorClass).toBe('profile_rejected');
      expect(decideFailover(error, state())).toEqual({ action: 'reprofile' });
      expect(decideFailover(error, state({ reprofiled: true }))).toEqual({ action: 'next', mark: { kind: 'none' } });
    }
    expect(classifyUpstreamResponse(403, JSON.stringify({ message: 'The bearer token included in the request is invalid.' })).errorClass).toBe('token_expired');
    expect(classifyUpstreamResponse(400, JSON.stringify({ message: 'Improperly formed request.', reason: null })).errorClass).toBe('bad_request');
  });

  it('refreshes a rejected token once, then tries another account without marking this one', () => {
    expect(decideFailover(err('token_expired'), state())).toEqual({ action: 'refresh' });
    expect(decideFailover(err('token_expired'), state({ refreshed: true }))).toEqual({ action: 'next', mark: { kind: 'none' } });
  });

  it('marks suspended and needs-sign-in accounts and moves on', () => {
    expect(decideFailover(err('account_suspended'), state())).toEqual({ action: 'next', mark: { kind: 'suspended' } });
    expect(decideFailover(err('needs_sign_in'), state())).toEqual({ action: 'next', mark: { kind: 'needs_sign_in' } });
  });

  it('retries transient failures a bounded number of times, with growing delays, then moves on', () => {
    const error = err('upstream_unavailable', { status: 503 });
    const first = decideFailover(error, state({ transientRetries: 0, random: () => 0 }));
    const second = decideFailover(error, state({ transientRetries: 1, random: () => 0 }));
    expect(first).toEqual({ action: 'retry', delayMs: 200 });
    expect(second).toEqual({ action: 'retry', delayMs: 400 });
    // Kiro's trouble, not the account's: move on for this request, but mark nothing.
    expect(decideFailover(error, state({ transientRetries: DEFAULT_FAILOVER_POLICY.transientRetries }))).toEqual({ action: 'next', mark: { kind: 'none' } });
  });

  it('retries a stream cut before its first event but not an exception frame', () => {
    expect(decideFailover(err('stream_broken'), state())).toMatchObject({ action: 'retry' });
    expect(decideFailover(err('stream_broken', { reason: 'InternalServerException' }), state())).toEqual({ action: 'fail' });
  });

  it('does not retry timeouts (the client already waited the whole idle limit)', () => {
    expect(decideFailover(err('timeout'), state())).toEqual({ action: 'fail' });
  });

  it('cools a throttled account for retry-after, growing with strikes', () => {
    const decision = decideFailover(err('throttled', { retryAfterSeconds: 7 }), state({ random: () => 0 }));
    expect(decision).toEqual({ action: 'next', mark: { kind: 'cooling_down', until: NOW + 7000 } });
  });
});

describe('backoff and cool-down arithmetic', () => {
  it('backs off exponentially up to the cap with at most 25 % jitter', () => {
    const policy = DEFAULT_FAILOVER_POLICY;
    for (let retry = 0; retry < 8; retry++) {
      const base = Math.min(policy.backoffCapMs, policy.backoffBaseMs * 2 ** retry);
      expect(backoffDelay(retry, policy, () => 0)).toBe(base);
      expect(backoffDelay(retry, policy, () => 0.999)).toBeLessThanOrEqual(Math.round(base * 1.25));
    }
  });

  it('honours retry-after on a first 429 and grows without one', () => {
    const policy = DEFAULT_FAILOVER_POLICY;
    expect(throttleCooldown(1, 3, policy, () => 0)).toBe(3000);
    expect(throttleCooldown(1, undefined, policy, () => 0)).toBe(policy.throttleBaseMs);
    expect(throttleCooldown(3, undefined, policy, () => 0)).toBe(policy.throttleBaseMs * 4);
    expect(throttleCooldown(3, 1, policy, () => 0)).toBe(policy.throttleBaseMs * 4);
    expect(throttleCooldown(30, undefined, policy, () => 0)).toBe(policy.throttleCapMs);
    expect(throttleCooldown(1, 60, policy, () => 0)).toBe(60_000);
    // Jitter never shortens a cool-down below what Kiro asked for.
    expect(throttleCooldown(1, 3, policy, () => 0.9)).toBeGreaterThanOrEqual(3000);
  });
});

describe('AccountHealth', () => {
  it('ends timed states by itself and keeps the others until an event lifts them', () => {
    let now = NOW;
    const health = new AccountHealth(() => now);
    health.markCooling(now + 1000, 'Kiro is throttling');
    expect(health.condition()).toEqual({ state: 'cooling_down', reason: 'Kiro is throttling', until: NOW + 1000 });
    now += 1001;
    expect(health.condition().state).toBe('ready');

    health.markNeedsSignIn('rejected');
    now += 365 * 86_400_000;
    expect(health.condition().state).toBe('needs_sign_in');
    health.clearNeedsSignIn();
    expect(health.condition().state).toBe('ready');
  });

  it('ranks states: disabled, needs sign-in, suspended, exhausted, cooling, refreshing', () => {
    const health = new AccountHealth(() => NOW);
    expect(health.condition(true).state).toBe('refreshing');
    health.markCooling(NOW + 10, 'x');
    expect(health.condition(true).state).toBe('cooling_down');
    health.markExhausted(NOW + 10_000, 'used up');
    expect(health.condition().state).toBe('quota_exhausted');
    health.markSuspended('locked');
    expect(health.condition().state).toBe('suspended');
    health.markNeedsSignIn('rejected');
    expect(health.condition().state).toBe('needs_sign_in');
    health.disabled = true;
    expect(health.condition().state).toBe('disabled');
  });

  it('never shortens a running cool-down', () => {
    const health = new AccountHealth(() => NOW);
    health.markCooling(NOW + 60_000, 'long');
    health.markCooling(NOW + 1000, 'short');
    expect(health.condition().until).toBe(NOW + 60_000);
  });

  it('lifts a quota mark only when the balance grew since the 402', () => {
    const health = new AccountHealth(() => NOW);
    health.markExhausted(NOW + 86_400_000, 'used up', 3);
    health.noteRemaining(3, NOW + 86_400_000, 'used up');
    expect(health.condition().state).toBe('quota_exhausted');
    health.noteRemaining(500, NOW + 86_400_000, 'used up');
    expect(health.condition().state).toBe('ready');
    health.noteRemaining(0, NOW + 5000, 'used up');
    expect(health.condition()).toMatchObject({ state: 'quota_exhausted', until: NOW + 5000 });
  });

  it('persists the marks worth a restart, not cool-downs or passed marks', () => {
    let now = NOW;
    const health = new AccountHealth(() => now);
    health.markCooling(now + 5000, 'x');
    health.markExhausted(now + 10_000, 'used up', 0);
    health.markSuspended('locked');
    expect(health.persisted()).toEqual({ suspended: 'locked', exhaustedUntil: NOW + 10_000, exhaustedReason: 'used up', exhaustedRemaining: 0 });
    now += 20_000;
    expect(health.persisted()).toEqual({ suspended: 'locked' });
    const restored = new AccountHealth(() => now, { suspended: 'locked' });
    expect(restored.condition().state).toBe('suspended');
  });
});

describe('AccountSelector', () => {
  const a = { id: 'a' };
  const b = { id: 'b' };
  const c = { id: 'c' };
  const all = [a, b, c];

  it('priority stays on the account in use while it can serve', () => {
    const selector = new AccountSelector('priority');
    expect(selector.pick(all, all)).toBe(a);
    selector.served('a');
    // a cannot serve: b takes over, and stays even once a is back.
    expect(selector.pick([b, c], all)).toBe(b);
    selector.served('b');
    expect(selector.pick(all, all)).toBe(b);
    selector.forget('b');
    expect(selector.pick(all, all)).toBe(a);
  });

  it('round-robin takes turns and skips accounts that cannot serve', () => {
    const selector = new AccountSelector('round-robin');
    expect([0, 1, 2, 3].map(() => selector.pick(all, all)!.id)).toEqual(['a', 'b', 'c', 'a']);
    expect([0, 1, 2].map(() => selector.pick([a, c], all)!.id)).toEqual(['c', 'a', 'c']);
    expect(selector.pick([], all)).toBeUndefined();
  });
});
