// The profile ARN as clients meet it: the official SDKs against the bridge over a real accounts
// service, the fake upstream demanding the profile each kind of login must send (Social: its own;
// Builder ID: Kiro's fixed placeholder; IAM Identity Center: one ListAvailableProfiles lists; API
// key: none) and refusing a wrong one. An Identity Center login is looked up once, kept with the
// account, and looked up again when Kiro refuses the profile.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { accountKey } from '../../src/kiro/accounts/account-store';
import { BUILDER_ID_PROFILE_ARN } from '../../src/kiro/signin/constants';
import { textReply, type FakeUpstream, type RecordedRequest } from '../support/fake-upstream';
import { failureOf } from '../support/failure';
import { ACCOUNTS_TEST_KEY, ask, startAccountsHarness, type AccountsHarness } from './accounts-harness';

let h: AccountsHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const lookups = (upstream: FakeUpstream): RecordedRequest[] =>
  upstream.requestsTo('target').filter((r) => r.target === 'AmazonCodeWhispererService.ListAvailableProfiles');
const profileOf = (request: RecordedRequest): unknown => (request.body as { profileArn?: unknown }).profileArn;
const arn = (region: string, id: string) => `arn:aws:codewhisperer:${region}:123456789012:profile/${id}`;

async function addIdc(harness: AccountsHarness, region?: string) {
  const fake = harness.upstream.account;
  return harness.service.add({ kind: 'IdC', refreshToken: fake.refreshToken, clientId: fake.clientId, clientSecret: fake.clientSecret, region });
}

describe('profiles through the bridge', () => {
  it('an Identity Center login pasted as a token: its profile is looked up once, kept, and sent on generate and usage', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ kind: 'idc', idcType: 'enterprise' }] } });
    const { id } = await addIdc(h);
    const [profile] = h.upstream.profileArnsOf(h.upstream.account);
    expect(lookups(h.upstream)).toHaveLength(1);
    // Asked before the validating usage check, which then carries it (Identity Center needs it there too).
    expect(h.upstream.requestsTo('usageLimits')[0]!.query.profileArn).toBe(profile);
    expect(JSON.parse((await h.secrets.get(accountKey(id)))!)).toMatchObject({ profileArn: profile });

    h.upstream.scriptNext(textReply('From the right profile.'));
    const message = await h.client.messages.create(ask);
    expect(message.content.map((b) => (b.type === 'text' ? b.text : b.type))).toEqual(['From the right profile.']);
    expect(profileOf(h.upstream.lastGenerate())).toBe(profile);

    // A restart uses the saved profile without asking again.
    const restarted = await h.restart();
    await restarted.pool.execute({}, async (lease) => expect(lease.account.profile.forStreaming).toBe(profile));
    expect(lookups(h.upstream)).toHaveLength(1);
  });

  it("of several profiles, the one in the login's region is taken; the data plane follows it", async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ kind: 'idc', idcType: 'enterprise' }] } });
    h.upstream.signIn.profiles = [
      { arn: arn('us-east-1', 'USTEAM'), profileName: 'US team' },
      { arn: arn('eu-central-1', 'EUTEAM'), profileName: 'EU team' },
    ];
    await addIdc(h, 'eu-central-1');
    await h.client.messages.create(ask);
    expect(profileOf(h.upstream.lastGenerate())).toBe(arn('eu-central-1', 'EUTEAM'));
    const [entry] = h.service.pool.entries();
    // Without an upstream base the account would now call q.eu-central-1 (the profile's region).
    expect(entry!.account.profile.arn).toBe(arn('eu-central-1', 'EUTEAM'));
  });

  it('Kiro refusing the profile (the user was moved to another one) is looked up again and the same request succeeds', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ kind: 'idc', idcType: 'enterprise' }] } });
    h.upstream.signIn.profiles = [{ arn: arn('us-east-1', 'OLD'), profileName: 'Old' }];
    const { id } = await addIdc(h);
    await h.upstream.waitFor((r) => r.target === 'AmazonCodeWhispererService.ListAvailableModels' && r.outcome !== 'pending');
    h.upstream.signIn.profiles = [{ arn: arn('us-east-1', 'NEW'), profileName: 'New' }];
    h.upstream.clearRecords();

    const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: ACCOUNTS_TEST_KEY, maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(h.upstream.requests.map((r) => `${r.endpoint} ${r.status} ${r.rejectedBy ?? ''}`.trim())).toEqual([
      'generate 403 profile_arn_refused',
      'target 200',
      'generate 200',
    ]);
    expect(profileOf(h.upstream.generateRequests[1]!)).toBe(arn('us-east-1', 'NEW'));
    await h.service.flush();
    expect(JSON.parse((await h.secrets.get(accountKey(id)))!)).toMatchObject({ profileArn: arn('us-east-1', 'NEW') });
    // The traffic record shows both attempts.
    expect(h.finished.at(-1)!.attempts?.map((a) => a.status)).toEqual([403, 200]);
  });

  it('a profile Kiro refuses and cannot replace reaches the client as a permission error, once', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ kind: 'idc', idcType: 'enterprise' }] } });
    await addIdc(h);
    await h.upstream.waitFor((r) => r.target === 'AmazonCodeWhispererService.ListAvailableModels' && r.outcome !== 'pending');
    // The administrator took every profile away: nothing to look up.
    h.upstream.signIn.profiles = [];
    h.upstream.clearRecords();
    const error = await failureOf(h.client.messages.create(ask), Anthropic.PermissionDeniedError);
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/Kiro needs a profile for this account and none is known for it .*: profileArn is required for this request\./);
    expect(h.upstream.requests.map((r) => r.endpoint)).toEqual(['generate', 'target', 'generate']);
  });

  it('a Builder ID login pasted as a token: Kiro says so once, the fixed profile goes on generate and none on usage checks', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ kind: 'idc' }] } });
    const { id } = await addIdc(h);
    expect(lookups(h.upstream).map((r) => r.status)).toEqual([403]);
    expect(h.upstream.requestsTo('usageLimits').map((r) => [r.status, r.query.profileArn])).toEqual([[200, undefined]]);
    expect(JSON.parse((await h.secrets.get(accountKey(id)))!)).toMatchObject({ provider: 'BuilderId' });
    expect(JSON.parse((await h.secrets.get(accountKey(id)))!).profileArn).toBeUndefined();
    await h.client.messages.create(ask);
    expect(profileOf(h.upstream.lastGenerate())).toBe(BUILDER_ID_PROFILE_ARN);
    await h.service.refreshUsage(id);
    expect(h.upstream.requestsTo('usageLimits').at(-1)!.query.profileArn).toBeUndefined();

    // Known after a restart: no second lookup.
    const restarted = await h.restart();
    await restarted.pool.execute({}, async (lease) => expect(lease.account.profile.forStreaming).toBe(BUILDER_ID_PROFILE_ARN));
    expect(lookups(h.upstream)).toHaveLength(1);
  });

  it('web search (MCP) carries the profile in its header as Kiro demands', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ kind: 'idc', idcType: 'enterprise' }] } });
    await addIdc(h);
    const answer = await h.client.messages.create({
      ...ask,
      messages: [{ role: 'user', content: 'Perform a web search for the query: kiro profiles' }],
      tools: [{ type: 'web_search_20250305', name: 'web_search' }],
    });
    expect(answer.content.map((b) => b.type)).toContain('web_search_tool_result');
    expect(h.upstream.requestsTo('mcp').map((r) => [r.status, r.headers['x-amzn-kiro-profile-arn']])).toEqual([
      [200, h.upstream.profileArnsOf(h.upstream.account)[0]],
    ]);
  });
});
