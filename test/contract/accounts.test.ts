// The account pool as clients meet it: the official Anthropic SDK against the bridge, the bridge
// over a real accounts service, the fake upstream playing Kiro. Each scenario of the issue:
// single-flight refresh, rotation persisted, a rejected login, quota and throttling fail-over,
// deterministic 400s, INVALID_MODEL_ID routing, no retry after the first byte, a failed token
// write, the Kiro IDE's token file, and no secret in any log line.
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySecretStore } from '../../src/common/secret-store';
import { accountKey } from '../../src/kiro/accounts/account-store';
import { KIRO_IDE_TOKEN_FILE } from '../../src/kiro/accounts/kiro-ide';
import { FREE_TIER_MODELS, cutReply, nextMonthlyReset, textReply, upstreamErrors, type FakeAccount, type FakeUpstream } from '../support/fake-upstream';
import { failureOf } from '../support/failure';
import { ACCOUNTS_TEST_KEY, ask, capturedLog, startAccountsHarness, type AccountsHarness } from './accounts-harness';

let h: AccountsHarness | undefined;
const dirs: string[] = [];
/** Every secret any scenario handled, checked against the log at the end. */
const secretsSeen = new Set<string>([ACCOUNTS_TEST_KEY]);

function remember(upstream: FakeUpstream): void {
  for (const a of upstream.accounts) {
    secretsSeen.add(a.refreshToken);
    for (const t of a.accessTokensIssued) secretsSeen.add(t);
    if (a.clientSecret) secretsSeen.add(a.clientSecret);
  }
}

afterEach(async () => {
  if (h) {
    remember(h.upstream);
    await h.close();
  }
  h = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const failure = (promise: Promise<unknown>) => failureOf(promise, Anthropic.APIError);

function generateCalls(upstream: FakeUpstream, account: FakeAccount): number {
  return upstream.requestsTo('generate').filter((r) => r.account?.id === account.id).length;
}

async function addAll(harness: AccountsHarness): Promise<string[]> {
  const ids: string[] = [];
  for (const fake of harness.upstream.accounts) {
    const snapshot = await harness.service.add({
      kind: fake.kind === 'idc' ? 'IdC' : 'Social',
      refreshToken: fake.refreshToken,
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
    });
    ids.push(snapshot.id);
  }
  return ids;
}

describe('account pool through the bridge', () => {
  it('50 concurrent requests on an expired token cause exactly one refresh', async () => {
    h = await startAccountsHarness();
    await addAll(h);
    const fake = h.upstream.account;
    expect(fake.refreshes).toBe(1);
    h.clock.now += 2 * 3600_000;
    const release = fake.holdRefreshes();
    const requests = Array.from({ length: 50 }, () => h!.client.messages.create(ask));
    await h.upstream.waitFor((r) => r.endpoint === 'refreshToken' && r.outcome === 'pending');
    release();
    const answers = await Promise.all(requests);
    expect(answers.every((m) => m.stop_reason === 'end_turn')).toBe(true);
    expect(fake.refreshes).toBe(2);
    expect(h.upstream.requestsTo('refreshToken')).toHaveLength(2);
  });

  it('a rotated refresh token is saved (with the one before it), and a restart uses it', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ rotateRefreshToken: true }] } });
    const [id] = await addAll(h);
    const fake = h.upstream.account;
    const first = fake.refreshToken;
    h.clock.now += 2 * 3600_000;
    await h.client.messages.create(ask);
    expect(fake.refreshToken).not.toBe(first);
    await h.service.flush();
    const record = JSON.parse((await h.secrets.get(accountKey(id!)))!);
    expect(record.refreshToken).toBe(fake.refreshToken);
    expect(record.previousRefreshToken).toBe(first);

    const restarted = await h.restart();
    await restarted.refreshUsage(id);
    expect(restarted.get(id!)!.state).toBe('ready');
  });

  it('a rejected refresh token: needs sign-in, a clear 401, and no retry storm', async () => {
    h = await startAccountsHarness();
    const [id] = await addAll(h);
    h.upstream.account.revokeRefreshToken();
    h.clock.now += 2 * 3600_000;
    const refreshesBefore = h.upstream.requestsTo('refreshToken').length;
    for (let i = 0; i < 20; i++) {
      const error = await failure(h.client.messages.create(ask));
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(error.message).toMatch(/sign in again/);
    }
    expect(h.upstream.requestsTo('refreshToken').length - refreshesBefore).toBe(1);
    expect(h.service.get(id!)).toMatchObject({ state: 'needs_sign_in' });
  });

  it('402: the next account serves, and the first stays exhausted until its reset', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ label: 'first', usage: { limit: 1 }, creditsPerCall: 1 }, { label: 'second' }] } });
    const [firstId, secondId] = await addAll(h);
    const [first, second] = h.upstream.accounts as [FakeAccount, FakeAccount];
    await h.client.messages.create(ask);
    expect(generateCalls(h.upstream, first)).toBe(1);

    const served = await h.client.messages.create(ask);
    expect(served.stop_reason).toBe('end_turn');
    expect(generateCalls(h.upstream, second)).toBe(1);
    const reset = nextMonthlyReset(h.clock.now) * 1000;
    expect(h.service.get(firstId!)).toMatchObject({ state: 'quota_exhausted', until: reset, active: false });
    expect(h.service.get(secondId!)).toMatchObject({ state: 'ready', active: true });
    const record = h.finished.at(-1)!;
    expect(record.attempts.map((a) => [a.account, a.status, a.errorClass])).toEqual([
      ['first@example.com', 402, 'quota_exhausted'],
      ['second@example.com', 200, undefined],
    ]);
    expect(record.flags.failedOver).toBe(true);

    // Until the reset, the first account is not asked again.
    for (let i = 0; i < 3; i++) await h.client.messages.create(ask);
    expect(generateCalls(h.upstream, first)).toBe(2);
    // The reset comes: Kiro restores the credits and the account is usable again.
    h.clock.now = reset + 1000;
    first.usedCredits = 0;
    expect(h.service.get(firstId!)!.state).toBe('ready');
  });

  it('429: the account cools down for retry-after, requests meanwhile fail fast, then it recovers', async () => {
    h = await startAccountsHarness();
    const [id] = await addAll(h);
    h.upstream.scriptNext(upstreamErrors.throttled(30));
    const throttled = await failure(h.client.messages.create(ask));
    expect(throttled).toBeInstanceOf(Anthropic.RateLimitError);
    expect(throttled.headers?.get('retry-after')).toBe('30');
    expect(h.service.get(id!)).toMatchObject({ state: 'cooling_down' });

    const callsBefore = h.upstream.requestsTo('generate').length;
    h.clock.now += 10_000;
    const meanwhile = await failure(h.client.messages.create(ask));
    expect(meanwhile).toBeInstanceOf(Anthropic.RateLimitError);
    expect(Number(meanwhile.headers?.get('retry-after'))).toBeGreaterThanOrEqual(20);
    expect(h.upstream.requestsTo('generate').length).toBe(callsBefore);

    h.clock.now += 60_000;
    expect((await h.client.messages.create(ask)).stop_reason).toBe('end_turn');
    expect(h.service.get(id!)).toMatchObject({ state: 'ready' });
  });

  it('a 429 on one account moves the request to the next', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ label: 'a' }, { label: 'b' }] } });
    await addAll(h);
    const [a, b] = h.upstream.accounts as [FakeAccount, FakeAccount];
    a.scriptNext(upstreamErrors.throttled(5));
    expect((await h.client.messages.create(ask)).stop_reason).toBe('end_turn');
    expect(generateCalls(h.upstream, a)).toBe(1);
    expect(generateCalls(h.upstream, b)).toBe(1);
  });

  it('a deterministic 400 is returned at once and touches no other account', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ label: 'a' }, { label: 'b' }, { label: 'c' }] } });
    const ids = await addAll(h);
    const [a, b, c] = h.upstream.accounts as [FakeAccount, FakeAccount, FakeAccount];
    a.scriptNext(upstreamErrors.toolConfigMissing());
    const error = await failure(h.client.messages.create(ask));
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(generateCalls(h.upstream, a)).toBe(1);
    expect(generateCalls(h.upstream, b) + generateCalls(h.upstream, c)).toBe(0);
    expect(ids.map((id) => h!.service.get(id)!.state)).toEqual(['ready', 'ready', 'ready']);
  });

  it('INVALID_MODEL_ID: the request goes to an account that has the model, and /v1/models lists what some account can use', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ label: 'free', models: [...FREE_TIER_MODELS] }, { label: 'pro' }] } });
    // KIRO_AUTH_TOKEN accounts: their model lists are not fetched until checked, so the first
    // opus request meets Kiro's INVALID_MODEL_ID.
    const { loadCredentials } = await import('../../src/kiro/accounts/credentials');
    h.service.addEnvAccounts(loadCredentials(h.upstream.kiroAuthToken()).accounts);
    const [free, pro] = h.upstream.accounts as [FakeAccount, FakeAccount];
    const opus = { ...ask, model: 'claude-opus-4-6' };
    expect((await h.client.messages.create(opus)).stop_reason).toBe('end_turn');
    expect(
      h.upstream
        .requestsTo('generate')
        .filter((r) => r.account?.id === free.id)
        .map((r) => r.rejectedBy),
    ).toEqual(['invalid_model_id']);
    expect(generateCalls(h.upstream, pro)).toBe(1);
    // Remembered: the next opus request goes straight to the account that has it; others stay put.
    await h.client.messages.create(opus);
    expect(generateCalls(h.upstream, free)).toBe(1);
    expect(generateCalls(h.upstream, pro)).toBe(2);

    await h.service.refreshUsage();
    const models = await h.client.models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids).toContain('claude-opus-4-6');
    await h.service.setDisabled('env-2', true);
    const freeOnly = (await h.client.models.list()).data.map((m) => m.id);
    expect(freeOnly).toContain('claude-sonnet-4-5');
    expect(freeOnly).not.toContain('claude-opus-4-6');
    // Nobody left who has opus: a 404 naming the model.
    const missing = await failure(h.client.messages.create(opus));
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect(missing.message).toMatch(/claude-opus-4\.6/);
  });

  it('a model id only an account reported serves web search as it serves /v1/messages', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ label: 'pro', models: [...FREE_TIER_MODELS, 'claude-opus-4.9'] }] } });
    await addAll(h);
    await h.service.refreshUsage();
    const search = {
      model: 'claude-opus-4.9',
      max_tokens: 64,
      messages: [{ role: 'user' as const, content: 'Perform a web search for the query: node 24' }],
      tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const }],
    };
    const answer = await h.client.messages.create(search);
    expect(answer.content.map((b) => b.type)).toContain('web_search_tool_result');
    expect((await h.client.messages.create({ ...ask, model: 'claude-opus-4.9' })).stop_reason).toBe('end_turn');
  });

  it('no retry once the first byte went to the client', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ label: 'a' }, { label: 'b' }] } });
    await addAll(h);
    const [a, b] = h.upstream.accounts as [FakeAccount, FakeAccount];
    a.scriptNext(cutReply('Here is the first part of a long answer that will be cut.', 6, 3));
    const stream = h.client.messages.stream(ask);
    let text = '';
    stream.on('text', (t) => (text += t));
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(text.length).toBeGreaterThan(0);
    expect(generateCalls(h.upstream, a)).toBe(1);
    expect(generateCalls(h.upstream, b)).toBe(0);
  });

  it('counts the credits Kiro meters, and checks usage after use at most once a minute', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ label: 'metered', usage: { limit: 50, used: 10 } }] } });
    const [id] = await addAll(h);
    expect(h.service.get(id!)!.credits).toMatchObject({ remaining: 40, usedThisSession: 0 });
    const usageCalls = () => h!.upstream.requestsTo('usageLimits').length;
    const before = usageCalls();
    h.clock.now += 61_000;
    for (let i = 0; i < 3; i++) {
      h.upstream.scriptNext(textReply('metered answer', { metering: 0.25 }));
      await h.client.messages.create(ask);
    }
    // Three answers of 0.25 credits each, counted from their meteringEvents.
    expect(h.service.get(id!)!.credits!.usedThisSession).toBe(0.75);
    // One usage check for the three requests (the next is a minute away), and it agrees.
    await expect.poll(usageCalls, { timeout: 5000 }).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(usageCalls()).toBe(before + 1);
    expect(h.service.get(id!)!.credits).toMatchObject({ remaining: 39.25, usedThisSession: 0.75 });
  });

  it('a failed token write keeps the working token: the bridge serves on, saves it later, and a restart works', async () => {
    const inner = new MemorySecretStore();
    let failWrites = 0;
    const flaky = {
      get: (key: string) => inner.get(key),
      delete: (key: string) => inner.delete(key),
      onDidChange: (listener: (key: string) => void) => inner.onDidChange(listener),
      async set(key: string, value: string) {
        if (failWrites > 0) {
          failWrites--;
          throw new Error('EIO: the disk went away mid-write');
        }
        await inner.set(key, value);
      },
    };
    h = await startAccountsHarness({ secrets: flaky, upstream: { accounts: [{ rotateRefreshToken: true }] } });
    const [id] = await addAll(h);
    const fake = h.upstream.account;
    failWrites = 1;
    h.clock.now += 2 * 3600_000;
    expect((await h.client.messages.create(ask)).stop_reason).toBe('end_turn');
    // Rotated: the old token no longer works; the new one is only in memory until the retry.
    expect((await h.client.messages.create(ask)).stop_reason).toBe('end_turn');
    await expect.poll(async () => JSON.parse((await inner.get(accountKey(id!)))!).refreshToken, { timeout: 5000 }).toBe(fake.refreshToken);
    expect(capturedLog.some((l) => l.includes('could not save the rotated refresh token'))).toBe(true);
    const restarted = await h.restart();
    await restarted.refreshUsage(id);
    expect(restarted.get(id!)!.state).toBe('ready');
  });
});

describe('living beside the Kiro IDE', () => {
  function ideDir(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiro-ide-cache-'));
    dirs.push(dir);
    return dir;
  }

  function writeIdeFile(dir: string, content: unknown): void {
    const tmp = path.join(dir, `${KIRO_IDE_TOKEN_FILE}.tmp`);
    writeFileSync(tmp, JSON.stringify(content));
    renameSync(tmp, path.join(dir, KIRO_IDE_TOKEN_FILE));
  }

  /** What the IDE does when it refreshes: a refresh of its own, then its file rewritten. */
  async function ideRefreshes(upstream: FakeUpstream, fake: FakeAccount, dir: string): Promise<void> {
    const answer = await fetch(`${upstream.baseUrl}/refreshToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: fake.refreshToken }),
    });
    expect(answer.status).toBe(200);
    writeIdeFile(dir, fake.kiroIdeTokenFile());
  }

  it('imports the IDE login and adopts a token the IDE rotated (file watcher)', async () => {
    const dir = ideDir();
    h = await startAccountsHarness({ upstream: { accounts: [{ label: 'ide', rotateRefreshToken: true }] }, service: { watchKiroIde: true } });
    const fake = h.upstream.account;
    writeIdeFile(dir, fake.kiroIdeTokenFile());
    const imported = await h.service.importKiroIde({ cacheDir: dir });
    expect(imported).toMatchObject({ source: 'kiro-ide', label: 'ide@example.com', state: 'ready' });
    // The IDE's access token was still good: importing did not refresh (and so did not rotate).
    expect(fake.refreshes).toBe(0);

    const before = fake.refreshToken;
    await ideRefreshes(h.upstream, fake, dir);
    expect(fake.refreshToken).not.toBe(before);
    await expect.poll(async () => JSON.parse((await h!.secrets.get(accountKey(imported.id)))!).refreshToken, { timeout: 5000 }).toBe(fake.refreshToken);

    // Our access token expires: the bridge refreshes with the IDE's new token, not the dead one.
    h.clock.now += 2 * 3600_000;
    fake.expireAccessTokens();
    expect((await h.client.messages.create(ask)).stop_reason).toBe('end_turn');
    expect(h.upstream.requestsTo('refreshToken').filter((r) => r.status !== 200)).toHaveLength(0);
  });

  it('on a token error, re-reads the IDE file before refreshing (no watcher needed)', async () => {
    const dir = ideDir();
    h = await startAccountsHarness({ upstream: { accounts: [{ label: 'ide', rotateRefreshToken: true }] }, service: { watchKiroIde: false } });
    const fake = h.upstream.account;
    writeIdeFile(dir, fake.kiroIdeTokenFile());
    const imported = await h.service.importKiroIde({ cacheDir: dir });
    await ideRefreshes(h.upstream, fake, dir);
    // Kiro rejects our (older) access token; the IDE's file has a newer one.
    fake.expireAccessTokens();
    const ideAccess = fake.kiroIdeTokenFile().accessToken;
    writeIdeFile(dir, { ...fake.kiroIdeTokenFile(), accessToken: ideAccess });
    const refreshesBefore = fake.refreshes;
    expect((await h.client.messages.create(ask)).stop_reason).toBe('end_turn');
    // Adopted the IDE's access token: no refresh of ours, so the IDE's refresh token stays valid.
    expect(fake.refreshes).toBe(refreshesBefore);
    expect(h.service.get(imported.id)!.state).toBe('ready');
  });

  it('says clearly what is missing', async () => {
    h = await startAccountsHarness();
    const dir = ideDir();
    await expect(h.service.importKiroIde({ cacheDir: dir })).rejects.toThrow(/No Kiro IDE login found/);
    writeIdeFile(dir, { ...h.upstream.account.kiroIdeTokenFile(), authMethod: 'IdC', clientIdHash: 'abcdef' });
    await expect(h.service.importKiroIde({ cacheDir: dir })).rejects.toThrow(/client registration .* is missing/);
    // A login whose refresh token Kiro no longer takes, and whose access token has expired.
    const fake = h.upstream.account;
    const file = fake.kiroIdeTokenFile();
    fake.revokeRefreshToken();
    writeIdeFile(dir, { ...file, expiresAt: new Date(h.clock.now - 60_000).toISOString() });
    await expect(h.service.importKiroIde({ cacheDir: dir })).rejects.toThrow(/expired and can no longer be refreshed/);
    expect(h.service.list()).toEqual([]);
  });
});

describe('logs', () => {
  // Runs after every scenario above (tests in a file run in order): every line the bridge and the
  // accounts service logged, unredacted, against every token, client secret and key they handled.
  it('never carry a token, a client secret or the API key', () => {
    expect(capturedLog.length).toBeGreaterThan(10);
    expect(secretsSeen.size).toBeGreaterThan(10);
    for (const line of capturedLog) {
      for (const secret of secretsSeen) {
        if (line.includes(secret)) throw new Error(`a secret reached the log: ${line.slice(0, 300).split(secret).join('<SECRET>')}`);
      }
    }
  });
});
