// Kiro API keys (`ksk_…`, the Kiro CLI's headless mode) as clients meet them: the official
// Anthropic and OpenAI SDKs against the bridge, the bridge over a real accounts service, the fake
// upstream accepting a key only as a bearer with `tokentype: API_KEY`. A key is checked with one
// usage call, never refreshed, carries no profile, and a key Kiro refuses is final (one upstream
// call, never a loop) — the account asks for a new key.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySecretStore } from '../../src/common/secret-store';
import { accountKey } from '../../src/kiro/accounts/account-store';
import { ENV_API_KEY_ID } from '../../src/kiro/accounts/accounts-service';
import { KiroError } from '../../src/kiro/errors';
import { FREE_TIER_MODELS, textReply } from '../support/fake-upstream';
import { failureOf } from '../support/failure';
import { ACCOUNTS_TEST_KEY, ask, capturedLog, startAccountsHarness, type AccountsHarness } from './accounts-harness';

let h: AccountsHarness | undefined;
const keysSeen = new Set<string>();

afterEach(async () => {
  for (const a of h?.upstream.accounts ?? []) if (a.apiKey) keysSeen.add(a.apiKey);
  await h?.close();
  h = undefined;
});

const openai = (harness: AccountsHarness) => new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: ACCOUNTS_TEST_KEY, maxRetries: 0, timeout: 15_000 });

describe('Kiro API keys through the bridge', () => {
  it('a key is checked with one usage call and serves both APIs as a bearer with tokentype: API_KEY, no profile and no refresh', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ kind: 'apikey', usage: { email: 'ci@example.com' }, models: [...FREE_TIER_MODELS] }] } });
    const fake = h.upstream.account;
    const key = fake.apiKey!;
    const snapshot = await h.service.add({ kind: 'ApiKey', apiKey: key });
    expect(snapshot).toMatchObject({ kind: 'ApiKey', label: 'ci@example.com', source: 'manual', state: 'ready', credits: { remaining: 50, limit: 50 } });
    expect(h.upstream.requestsTo('usageLimits')).toHaveLength(1);
    expect(h.upstream.refreshCount()).toBe(0);
    // Stored like every other secret (the store only), never in a snapshot.
    expect(JSON.parse((await h.secrets.get(accountKey(snapshot.id)))!)).toMatchObject({ kind: 'ApiKey', apiKey: key });
    expect(JSON.stringify(h.service.list())).not.toContain(key);

    h.upstream.scriptNext(textReply('Answered with a key.'));
    const message = await h.client.messages.create(ask);
    expect(message.content.map((b) => (b.type === 'text' ? b.text : b.type))).toEqual(['Answered with a key.']);
    const sent = h.upstream.lastGenerate();
    expect(sent.headers).toMatchObject({ authorization: `Bearer ${key}`, tokentype: 'API_KEY' });
    expect(sent.body).not.toHaveProperty('profileArn');
    expect(sent.account).toBe(fake);

    const completion = await openai(h).chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(h.upstream.lastGenerate().headers.tokentype).toBe('API_KEY');

    // The model list is asked with the key too, and names the key's account.
    await h.service.refreshUsage(snapshot.id);
    const listing = h.upstream.requestsTo('target').at(-1)!;
    expect(listing).toMatchObject({ target: 'AmazonCodeWhispererService.ListAvailableModels', headers: { tokentype: 'API_KEY' } });
    expect(listing.body).not.toHaveProperty('profileArn');
    const models = (await openai(h).models.list()).data as unknown as { id: string; kiro_accounts?: string[] }[];
    expect(models.find((m) => m.id === 'claude-sonnet-4-5')?.kiro_accounts).toEqual(['ci@example.com']);
    expect(h.upstream.refreshCount()).toBe(0);

    // Machine identity: derived from the key, never from (or showing) the key itself.
    expect(sent.headers['user-agent']).toMatch(/KiroIDE-[\d.]+-[0-9a-f]{64}$/);
    expect(String(sent.headers['user-agent'])).not.toContain(key.slice(4, 20));
    for (const r of h.finished) expect(JSON.stringify(r)).not.toContain(key);
  });

  it('a key Kiro stops accepting is final: one upstream call, the account asks for a new key, nothing loops', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ kind: 'apikey' }] } });
    const fake = h.upstream.account;
    const { id } = await h.service.add({ kind: 'ApiKey', apiKey: fake.apiKey! });
    // The model list is fetched in the background after adding; let it land first.
    await h.upstream.waitFor((r) => r.endpoint === 'target' && r.outcome !== 'pending');
    fake.revokeApiKey();
    const before = h.upstream.requests.length;

    const error = await failureOf(h.client.messages.create(ask), Anthropic.AuthenticationError);
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/Kiro rejected the API key; add a new key/);
    // The refused call and nothing else: no refresh endpoint, no retry on the same key.
    expect(h.upstream.requests.slice(before).map((r) => `${r.endpoint} ${r.refusal ?? ''}`.trim())).toEqual(['generate revoked API key']);
    expect(h.service.get(id)).toMatchObject({ state: 'needs_sign_in', stateReason: 'Kiro rejected the API key; add a new key' });

    // The next request does not reach Kiro at all.
    const again = await failureOf(
      openai(h).chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }),
      OpenAI.APIError,
    );
    expect(again.status).toBe(401);
    expect(again.code).toBe('kiro_sign_in_required');
    expect(again.message).toMatch(/API key was rejected; add a new key/);
    expect(h.upstream.requests.length).toBe(before + 1);
  });

  it('a key Kiro refuses, or one that is not a key, is not saved and says why', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [] } });
    const refused = await failureOf(h.service.add({ kind: 'ApiKey', apiKey: 'ksk_neverIssuedByKiro00000000' }), KiroError);
    expect(refused.errorClass).toBe('needs_sign_in');
    expect(refused.message).toMatch(/^Kiro rejected this API key; it was not added\./);
    expect(h.upstream.requestsTo('usageLimits').map((r) => r.refusal)).toEqual(['unknown API key']);
    const malformed = await failureOf(h.service.add({ kind: 'ApiKey', apiKey: 'aor-a-refresh-token-pasted-by-mistake' }), KiroError);
    expect(malformed).toMatchObject({ errorClass: 'bad_request', message: 'a Kiro API key starts with "ksk_"' });
    expect(h.upstream.requestsTo('usageLimits')).toHaveLength(1);
    expect(h.service.list()).toEqual([]);
    expect(await h.secrets.get('kiro-bridge/accounts')).toBeUndefined();
  });

  it('KIRO_API_KEY: an unsaved account, first in priority, that "remove" points back to the variable; a saved key survives a restart', async () => {
    const secrets = new MemorySecretStore();
    h = await startAccountsHarness({ secrets, upstream: { accounts: [{ label: 'social' }, { kind: 'apikey' }, { kind: 'apikey' }] } });
    const [social, envKey, savedKey] = h.upstream.accounts;
    await h.service.add({ kind: 'Social', refreshToken: social!.refreshToken });
    await h.service.add({ kind: 'ApiKey', apiKey: savedKey!.apiKey! });
    h.service.addEnvApiKey(envKey!.apiKey!);
    expect(h.service.list().map((a) => [a.id === ENV_API_KEY_ID ? 'env' : a.kind, a.active])).toEqual([
      ['env', true],
      ['Social', false],
      ['ApiKey', false],
    ]);
    await h.client.messages.create(ask);
    expect(h.upstream.lastGenerate().account).toBe(envKey);
    const removal = await failureOf(h.service.remove(ENV_API_KEY_ID), KiroError);
    expect(removal.message).toMatch(/comes from KIRO_API_KEY; unset that variable to remove it/);
    expect(() => h!.service.addEnvApiKey('not-a-key')).toThrow(/KIRO_API_KEY: a Kiro API key starts with "ksk_"/);

    // Restart: the saved key loads from the store and serves; the variable's does not come back by itself.
    const restarted = await h.restart();
    const kinds = restarted.list().map((a) => a.kind);
    expect(kinds).toEqual(['Social', 'ApiKey']);
    await restarted.setDisabled(restarted.list()[0]!.id, true);
    const served = await restarted.pool.execute({}, async (lease) => lease.token);
    expect(served).toMatchObject({ value: savedKey!.apiKey, tokenType: 'API_KEY' });
  });

  it('a new key added for the same account in another window replaces the refused one there too', async () => {
    h = await startAccountsHarness({
      upstream: {
        accounts: [
          { kind: 'apikey', usage: { email: 'ci@example.com' } },
          { kind: 'apikey', usage: { email: 'ci@example.com' } },
        ],
      },
    });
    const [oldKey, newKey] = h.upstream.accounts;
    const { id } = await h.service.add({ kind: 'ApiKey', apiKey: oldKey!.apiKey! });
    oldKey!.revokeApiKey();
    await failureOf(h.client.messages.create(ask), Anthropic.AuthenticationError);
    expect(h.service.get(id)!.state).toBe('needs_sign_in');

    // Another window (a second service over the same store) adds the new key: same e-mail, same account.
    const other = await h.restart();
    const replaced = await other.add({ kind: 'ApiKey', apiKey: newKey!.apiKey! });
    expect(replaced.id).toBe(id);
    await expect.poll(() => h!.service.get(id)?.state).toBe('ready');
    h.upstream.scriptNext(textReply('served with the new key'));
    expect((await h.client.messages.create(ask)).content.map((b) => (b.type === 'text' ? b.text : b.type))).toEqual(['served with the new key']);
    expect(h.upstream.lastGenerate().headers.authorization).toBe(`Bearer ${newKey!.apiKey}`);
  });

  it('no key reaches any log line', () => {
    expect(keysSeen.size).toBeGreaterThan(0);
    const log = capturedLog.join('\n');
    for (const key of keysSeen) expect(log).not.toContain(key);
  });
});
