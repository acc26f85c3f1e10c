// Plan-gated models as clients meet them: Kiro's model list differs per account (Opus left the
// free tier), and INVALID_MODEL_ID is the answer of an account whose plan lacks the model. The
// official OpenAI and Anthropic SDKs against the bridge over a real accounts service: /v1/models
// is the union of what the usable accounts report, naming the accounts behind each entry; a
// request goes to an account that has its model, a refusal is remembered and the next account that
// lists the model tried; with none left the client gets a 404 in its own API's shape.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCredentials } from '../../src/kiro/accounts/credentials';
import { FREE_TIER_MODELS, type FakeAccount, type FakeUpstream } from '../support/fake-upstream';
import { failureOf } from '../support/failure';
import { ACCOUNTS_TEST_KEY, startAccountsHarness, type AccountsHarness } from './accounts-harness';

let h: AccountsHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

const openai = (harness: AccountsHarness) => new OpenAI({ baseURL: `${harness.url}/v1`, apiKey: ACCOUNTS_TEST_KEY, maxRetries: 0, timeout: 15_000 });
const opus = { model: 'claude-opus-4-6', messages: [{ role: 'user' as const, content: 'hi' }] };

type ListedModel = { id: string; object: string; owned_by: string; kiro_model: string; kiro_accounts?: string[] };

function generateCallsOf(upstream: FakeUpstream, account: FakeAccount): string[] {
  return upstream.generateRequests.filter((r) => r.account === account).map((r) => String(r.status));
}

async function addSaved(harness: AccountsHarness, accounts: FakeAccount[]): Promise<void> {
  for (const fake of accounts) await harness.service.add({ kind: 'Social', refreshToken: fake.refreshToken });
  // The model lists arrive in the background after each add.
  await harness.service.refreshUsage();
}

describe('plan-gated models', () => {
  it('/v1/models is the union of what the accounts report, and names the accounts offering each model', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ label: 'free', models: [...FREE_TIER_MODELS] }, { label: 'pro' }] } });
    await addSaved(h, h.upstream.accounts);
    const listed = (await openai(h).models.list()).data as unknown as ListedModel[];
    const byId = new Map(listed.map((m) => [m.id, m]));
    expect(byId.get('claude-sonnet-4-5')?.kiro_accounts).toEqual(['free@example.com', 'pro@example.com']);
    expect(byId.get('claude-opus-4-6')?.kiro_accounts).toEqual(['pro@example.com']);
    expect(byId.get('claude-opus-4-6')).toMatchObject({ object: 'model', owned_by: 'anthropic', kiro_model: 'claude-opus-4.6' });
    // Anthropic's documented fields stay as they are beside the extra one.
    const one = await h.client.models.retrieve('claude-opus-4-6');
    expect(one).toMatchObject({ type: 'model', id: 'claude-opus-4-6', display_name: expect.any(String), created_at: expect.any(String) });
    expect((one as unknown as ListedModel).kiro_accounts).toEqual(['pro@example.com']);

    // Only the free account left: its plan is the whole list, and Opus is not on it.
    await h.service.setDisabled(h.service.list()[1]!.id, true);
    const freeOnly = ((await openai(h).models.list()).data as unknown as ListedModel[]).map((m) => m.id);
    expect(freeOnly).toContain('claude-sonnet-4-5');
    expect(freeOnly).not.toContain('claude-opus-4-6');
  });

  it('a request goes straight to an account whose list has the model (the free one first in priority is not tried)', async () => {
    h = await startAccountsHarness({ upstream: { accounts: [{ label: 'free', models: [...FREE_TIER_MODELS] }, { label: 'pro' }] } });
    await addSaved(h, h.upstream.accounts);
    const [free, pro] = h.upstream.accounts as [FakeAccount, FakeAccount];
    const completion = await openai(h).chat.completions.create(opus);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(generateCallsOf(h.upstream, free)).toEqual([]);
    expect(generateCallsOf(h.upstream, pro)).toEqual(['200']);
  });

  it('INVALID_MODEL_ID from an account whose plan changed: remembered, and an account that lists the model beats one whose list is unknown', async () => {
    h = await startAccountsHarness({
      upstream: { accounts: [{ label: 'downgraded' }, { label: 'unchecked', models: [...FREE_TIER_MODELS] }, { label: 'pro' }] },
    });
    const [downgraded, unchecked, pro] = h.upstream.accounts as [FakeAccount, FakeAccount, FakeAccount];
    await addSaved(h, [downgraded]);
    // A KIRO_AUTH_TOKEN account: its model list is unknown until it is checked.
    h.service.addEnvAccounts(loadCredentials(h.upstream.kiroAuthToken([unchecked])).accounts);
    await h.service.add({ kind: 'Social', refreshToken: pro.refreshToken });
    await expect.poll(() => h!.service.list().find((a) => a.label === 'pro@example.com')?.models).toContain('claude-opus-4.6');
    h.service.pool.reorder([h.service.list().find((a) => a.label === 'downgraded@example.com')!.id, 'env-1']);
    // The plan lost Opus after the list was fetched: the bridge still believes it has it.
    downgraded.models = downgraded.models.filter((m) => !m.modelId.startsWith('claude-opus'));

    const completion = await openai(h).chat.completions.create(opus);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(h.upstream.generateRequests.map((r) => [r.account?.label, r.rejectedBy ?? r.status])).toEqual([
      ['downgraded', 'invalid_model_id'],
      ['pro', 200],
    ]);
    expect(generateCallsOf(h.upstream, unchecked)).toEqual([]);
    // Remembered: the next Opus request does not ask the downgraded account again, and the model
    // list no longer names it for Opus.
    await openai(h).chat.completions.create(opus);
    expect(generateCallsOf(h.upstream, downgraded)).toHaveLength(1);
    const listed = ((await openai(h).models.list()).data as unknown as ListedModel[]).find((m) => m.id === 'claude-opus-4-6');
    expect(listed?.kiro_accounts).toEqual(['pro@example.com']);
  });

  it("no account can use the model: a 404 in each API's own shape, after the accounts that might were asked", async () => {
    h = await startAccountsHarness({
      upstream: {
        accounts: [
          { label: 'free', models: [...FREE_TIER_MODELS] },
          { label: 'other', models: [...FREE_TIER_MODELS] },
        ],
      },
    });
    const [free, other] = h.upstream.accounts as [FakeAccount, FakeAccount];
    // Lists unknown (KIRO_AUTH_TOKEN): both are asked, both refuse.
    h.service.addEnvAccounts(loadCredentials(h.upstream.kiroAuthToken()).accounts);
    const error = await failureOf(openai(h).chat.completions.create(opus), OpenAI.NotFoundError);
    expect(error.status).toBe(404);
    expect(error.code).toBe('model_not_found');
    expect(error.message).toMatch(/no Kiro account can use the model claude-opus-4\.6/);
    expect([generateCallsOf(h.upstream, free), generateCallsOf(h.upstream, other)]).toEqual([['400'], ['400']]);
    // Known now: the next one is answered without calling Kiro.
    const anthropic = await failureOf(h.client.messages.create({ ...opus, max_tokens: 64 }), Anthropic.NotFoundError);
    expect(anthropic.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(h.upstream.generateRequests).toHaveLength(2);
  });
});
