// The pool's fail-over loop: real accounts (their tokens come from the fake upstream's refresh
// endpoint), an attempt function that answers with the errors a test scripts, a test clock, and a
// sleep that moves that clock instead of waiting.
import { afterEach, describe, expect, it } from 'vitest';
import { Redactor } from '../../src/common/redact';
import type { Logger } from '../../src/common/logger';
import { KiroAccount } from '../../src/kiro/accounts/account';
import { AccountPool, type AccountLease, type AttemptReport } from '../../src/kiro/accounts/account-pool';
import { KiroError, classifyUpstreamResponse, type ErrorClass } from '../../src/kiro/errors';
import { loadCredentials } from '../../src/kiro/accounts/credentials';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';

let upstream: FakeUpstream | undefined;
let pool: AccountPool | undefined;
const accounts: KiroAccount[] = [];
let clock = Date.UTC(2026, 4, 17, 12, 0, 0);
const sleeps: number[] = [];
const logs: string[] = [];

const logger: Logger = {
  trace: () => {},
  debug: () => {},
  info: (m) => logs.push(`info ${m}`),
  warn: (m) => logs.push(`warn ${m}`),
  error: (m) => logs.push(`error ${m}`),
};

async function setup(count: number, options: ConstructorParameters<typeof AccountPool>[0] = {}): Promise<AccountPool> {
  upstream = await startFakeUpstream({ accounts: Array.from({ length: count }, (_, i) => ({ label: `u${i + 1}` })), now: () => clock });
  pool = new AccountPool({
    logger,
    now: () => clock,
    random: () => 0,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...options,
  });
  const credentials = loadCredentials(upstream.kiroAuthToken()).accounts;
  credentials.forEach((c, i) => {
    const account = new KiroAccount({ credentials: c, upstreamBase: upstream!.baseUrl, redactor: new Redactor(), now: () => clock });
    accounts.push(account);
    pool!.add({ id: `a${i + 1}`, account, source: 'manual' });
  });
  return pool;
}

afterEach(async () => {
  pool?.dispose();
  pool = undefined;
  for (const a of accounts.splice(0)) await a.dispose();
  await upstream?.close();
  upstream = undefined;
  sleeps.length = 0;
  logs.length = 0;
  clock = Date.UTC(2026, 4, 17, 12, 0, 0);
});

type Script = Record<string, (KiroError | 'ok')[]>;

/** An attempt function: per account id, the outcomes of its next attempts (default ok). */
function scripted(script: Script, leases: AccountLease[] = []) {
  return async (lease: AccountLease) => {
    leases.push(lease);
    const next = script[lease.entry.id]?.shift() ?? 'ok';
    if (next !== 'ok') throw next;
    return lease.entry.id;
  };
}

const upstreamError = (status: number, body: unknown, headers: Record<string, string> = {}) => classifyUpstreamResponse(status, JSON.stringify(body), headers);
const quota = () => upstreamError(402, { message: 'You have reached the limit.', reason: 'MONTHLY_REQUEST_COUNT' });
const throttled = (seconds?: number) =>
  upstreamError(429, { message: 'Too many requests, please wait before trying again.' }, seconds === undefined ? {} : { 'retry-after': String(seconds) });
const err = (errorClass: ErrorClass, extra: ConstructorParameters<typeof KiroError>[2] = {}) => new KiroError(errorClass, `scripted ${errorClass}`, extra);

function states(p: AccountPool): Record<string, string> {
  return Object.fromEntries(p.entries().map((e) => [e.id, e.condition().state]));
}

describe('AccountPool.execute', () => {
  it('serves from the first account and stays there (priority)', async () => {
    const p = await setup(3);
    const served = [];
    for (let i = 0; i < 4; i++) served.push(await p.execute({}, scripted({})));
    expect(served).toEqual(['a1', 'a1', 'a1', 'a1']);
    expect(p.activeId()).toBe('a1');
  });

  it('takes turns with round-robin', async () => {
    const p = await setup(3, { strategy: 'round-robin' });
    const served = [];
    for (let i = 0; i < 4; i++) served.push(await p.execute({}, scripted({})));
    expect(served).toEqual(['a1', 'a2', 'a3', 'a1']);
  });

  it('402: the next account serves and the first stays exhausted until its reset', async () => {
    const p = await setup(2);
    const reports: AttemptReport[] = [];
    const script: Script = { a1: [quota()] };
    expect(await p.execute({ onAttempt: (r) => reports.push(r) }, scripted(script))).toBe('a2');
    expect(reports.map((r) => [r.accountId, r.status, r.errorClass])).toEqual([
      ['a1', 402, 'quota_exhausted'],
      ['a2', 200, undefined],
    ]);
    const a1 = p.get('a1')!.condition();
    expect(a1.state).toBe('quota_exhausted');
    expect(a1.until).toBe(Date.UTC(2026, 5, 1));
    // Later requests go straight to a2, without touching a1 again.
    const leases: AccountLease[] = [];
    await p.execute({}, scripted({}, leases));
    expect(leases.map((l) => l.entry.id)).toEqual(['a2']);
    // After the reset a1 can serve again.
    clock = Date.UTC(2026, 5, 1) + 1;
    expect(p.get('a1')!.condition().state).toBe('ready');
  });

  it('every account exhausted: a 429-class quota error with the earliest reset', async () => {
    const p = await setup(2);
    const error = await p.execute({}, scripted({ a1: [quota()], a2: [quota()] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KiroError);
    expect((error as KiroError).errorClass).toBe('quota_exhausted');
    expect((error as KiroError).resetAt?.getTime()).toBe(Date.UTC(2026, 5, 1));
    expect((error as KiroError).message).toMatch(/Social aor…\S{4}: quota exhausted until 2026-06-01/);
  });

  it('a deterministic 400 is returned at once and touches no other account', async () => {
    const p = await setup(3);
    const leases: AccountLease[] = [];
    const bad = upstreamError(400, { message: 'Improperly formed request.', reason: null });
    const error = await p.execute({}, scripted({ a1: [bad] }, leases)).catch((e: unknown) => e);
    expect(error).toBe(bad);
    expect(leases.map((l) => l.entry.id)).toEqual(['a1']);
    expect(states(p)).toEqual({ a1: 'ready', a2: 'ready', a3: 'ready' });
    expect(sleeps).toEqual([]);
  });

  it('INVALID_MODEL_ID: routes to an account that has the model and remembers which lacks it', async () => {
    const p = await setup(2);
    const invalid = upstreamError(400, { message: 'Invalid model. Please select a different model to continue.', reason: 'INVALID_MODEL_ID' });
    expect(await p.execute({ model: 'claude-opus-4.6' }, scripted({ a1: [invalid] }))).toBe('a2');
    expect(p.get('a1')!.lacking.has('claude-opus-4.6')).toBe(true);
    expect(p.get('a1')!.condition().state).toBe('ready');
    // The same model goes straight to a2; another model still goes to the sticky account (a2
    // served last) or to a1 when a2 cannot.
    const leases: AccountLease[] = [];
    await p.execute({ model: 'claude-opus-4.6' }, scripted({}, leases));
    expect(leases.map((l) => l.entry.id)).toEqual(['a2']);
    // Nobody has it: a model error (404 to clients), not a quota or auth one.
    const none = await p.execute({ model: 'claude-opus-4.6' }, scripted({ a2: [invalid] })).catch((e: unknown) => e);
    expect((none as KiroError).errorClass).toBe('model_unavailable');
    expect((none as KiroError).message).toMatch(/no Kiro account can use the model claude-opus-4\.6/);
  });

  it('429: the account cools down (honouring retry-after), the next serves, and the first recovers', async () => {
    const p = await setup(2);
    expect(await p.execute({}, scripted({ a1: [throttled(30)] }))).toBe('a2');
    expect(p.get('a1')!.condition()).toMatchObject({ state: 'cooling_down', until: clock + 30_000 });
    clock += 30_001;
    expect(p.get('a1')!.condition().state).toBe('ready');
  });

  it('429 on the only account: waits out a short cool-down and retries; a long one fails with retry-after', async () => {
    const p = await setup(1);
    expect(await p.execute({}, scripted({ a1: [throttled(2)] }))).toBe('a1');
    expect(sleeps).toEqual([2000]);

    const error = await p.execute({}, scripted({ a1: [throttled(120)] })).catch((e: unknown) => e);
    expect((error as KiroError).errorClass).toBe('throttled');
    // Kiro's own retry-after goes back to the client.
    expect((error as KiroError).retryAfterSeconds).toBe(120);
    // While it rests, requests fail fast without calling Kiro, saying how long is left.
    const leases: AccountLease[] = [];
    clock += 20_000;
    await expect(p.execute({}, scripted({}, leases))).rejects.toMatchObject({ errorClass: 'throttled', retryAfterSeconds: 100 });
    expect(leases).toEqual([]);
    clock += 100_001;
    expect(await p.execute({}, scripted({}, leases))).toBe('a1');
  });

  it('retries 5xx and network failures with backoff, then moves on, within the attempt bound', async () => {
    const p = await setup(3, { maxAttempts: 5 });
    const unavailable = () => upstreamError(503, { message: 'Service Unavailable' });
    const leases: AccountLease[] = [];
    const value = await p.execute(
      {},
      scripted({ a1: [unavailable(), unavailable(), unavailable()], a2: [err('upstream_unavailable', { status: 0 })] }, leases),
    );
    expect(value).toBe('a2');
    // Kiro's outage is not a1's fault: it is not marked.
    expect(p.get('a1')!.condition().state).toBe('ready');
    expect(leases.map((l) => [l.entry.id, l.attempt])).toEqual([
      ['a1', 1],
      ['a1', 2],
      ['a1', 3],
      ['a2', 1],
      ['a2', 2],
    ]);
    expect(sleeps).toEqual([200, 400, 200]);

    // Everything failing: at most maxAttempts upstream calls, then the last error.
    const all: Script = { a1: Array(9).fill(unavailable()), a2: Array(9).fill(unavailable()), a3: Array(9).fill(unavailable()) };
    const calls: AccountLease[] = [];
    await expect(p.execute({}, scripted(all, calls))).rejects.toMatchObject({ errorClass: 'upstream_unavailable' });
    expect(calls).toHaveLength(5);
  });

  it('a rejected token is refreshed once and retried once on the same account', async () => {
    const p = await setup(2);
    const rejected = () => upstreamError(403, { message: 'The bearer token included in the request is invalid.' });
    const leases: AccountLease[] = [];
    expect(await p.execute({}, scripted({ a1: [rejected()] }, leases))).toBe('a1');
    expect(leases.map((l) => [l.entry.id, l.attempt])).toEqual([
      ['a1', 1],
      ['a1', 2],
    ]);
    expect(leases[1]!.token.value).not.toBe(leases[0]!.token.value);
    expect(upstream!.refreshCount(upstream!.accounts[0]!.refreshToken)).toBe(2);
    // Rejected again right after a refresh: serve from the next, without a mark on a1.
    expect(await p.execute({}, scripted({ a1: [rejected(), rejected()] }))).toBe('a2');
    expect(p.get('a1')!.condition().state).toBe('ready');
  });

  it('a revoked refresh token: needs sign-in, the next account serves, and no refresh is retried', async () => {
    const p = await setup(2);
    upstream!.accounts[0]!.revokeRefreshToken();
    expect(await p.execute({}, scripted({}))).toBe('a2');
    expect(p.get('a1')!.condition()).toMatchObject({ state: 'needs_sign_in' });
    const refreshesBefore = upstream!.requestsTo('refreshToken').length;
    for (let i = 0; i < 10; i++) await p.execute({}, scripted({}));
    clock += 24 * 3600_000;
    for (let i = 0; i < 10; i++) await p.execute({}, scripted({}));
    // Only a2's refresh after its token expired: a1's rejected token was never tried again.
    expect(upstream!.requestsTo('refreshToken').length - refreshesBefore).toBe(1);
    expect(upstream!.requestsTo('refreshToken').filter((r) => r.status !== 200)).toHaveLength(1);
    expect(logs.some((l) => l.startsWith('error') && l.includes('needs a new sign-in'))).toBe(true);
  });

  it('a suspended account is marked, reported, and skipped', async () => {
    const p = await setup(2);
    const suspended = upstreamError(403, { message: 'Your User ID (d-1) temporarily is suspended. We have locked your account as a security precaution.' });
    expect(await p.execute({}, scripted({ a1: [suspended] }))).toBe('a2');
    expect(p.get('a1')!.condition()).toMatchObject({ state: 'suspended', reason: 'Kiro suspended this account' });
    expect(logs.some((l) => l.startsWith('error') && l.includes('is suspended'))).toBe(true);
    expect(p.get('a1')!.health.persisted()).toEqual({ suspended: 'Kiro suspended this account' });
  });

  it('an exception frame is not retried', async () => {
    const p = await setup(2);
    const leases: AccountLease[] = [];
    const frame = err('stream_broken', { reason: 'InternalServerException' });
    await expect(p.execute({}, scripted({ a1: [frame] }, leases))).rejects.toBe(frame);
    expect(leases).toHaveLength(1);
  });

  it('stops trying when the client goes away', async () => {
    const p = await setup(1);
    const controller = new AbortController();
    const leases: AccountLease[] = [];
    const run = async (lease: AccountLease) => {
      leases.push(lease);
      controller.abort(new Error('client gone'));
      throw upstreamError(503, {});
    };
    await expect(p.execute({ signal: controller.signal }, run)).rejects.toBeInstanceOf(KiroError);
    expect(leases).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('no accounts: a clear no_account error', async () => {
    const p = new AccountPool();
    await expect(p.execute({}, async () => 'x')).rejects.toMatchObject({
      errorClass: 'no_account',
      message: expect.stringMatching(/no Kiro account is configured/),
    });
  });

  it('lists the models at least one usable account has, once every list is known', async () => {
    const p = await setup(2);
    expect(p.availableModels()).toBeUndefined();
    p.get('a1')!.models = ['auto', 'claude-sonnet-4.5'];
    p.get('a2')!.models = ['auto', 'claude-opus-4.6'];
    p.get('a2')!.lacking.add('auto');
    expect([...p.availableModels()!].sort()).toEqual(['auto', 'claude-opus-4.6', 'claude-sonnet-4.5']);
    p.get('a2')!.health.disabled = true;
    expect([...p.availableModels()!].sort()).toEqual(['auto', 'claude-sonnet-4.5']);
  });
});
