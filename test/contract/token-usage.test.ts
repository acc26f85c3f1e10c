// Kiro's own token counts (metadataEvent.tokenUsage) and its prompt cache, through the official
// SDKs: the real numbers win over the bridge's estimates in every API's final usage, and one
// client session keeps one Kiro conversation id so the cache can hit. The fake upstream's cache
// model (promptCacheReply) reads back the previous prompt of the same account and conversation id,
// as Kiro's cache does, so a hit here means the bridge kept the id stable.
import { beforeEach, describe, expect, it } from 'vitest';
import { formatRecordLine } from '../../src/bridge/traffic';
import { promptCacheReply, promptTokensOf, textReply, type KiroGenerateBody } from '../support/fake-upstream';
import { useHarness, type Harness } from './harness';

const MODEL = 'claude-sonnet-4-6';
const USAGE = { uncachedInputTokens: 120, cacheReadInputTokens: 3000, cacheWriteInputTokens: 400, outputTokens: 57 };

let h: Harness;
useHarness((harness) => (h = harness));

beforeEach(() => {
  h.upstream.clearScripts();
});

const conversationId = () => h.lastKiroBody().conversationState!.conversationId as string;
const lastPromptTokens = () => promptTokensOf(h.lastKiroBody() as KiroGenerateBody);

describe("Kiro's token counts win over estimates", () => {
  it('Anthropic: message_delta and the message carry them; message_start still has the estimate', async () => {
    h.upstream.scriptNext(textReply('Counted.', { tokenUsage: USAGE, contextUsage: 40 }));
    const params = { model: MODEL, max_tokens: 64, messages: [{ role: 'user' as const, content: 'Count me.' }] };
    const stream = h.client.messages.stream(params);
    let startUsage: unknown;
    stream.on('streamEvent', (event) => {
      // The SDK updates this object as the stream goes on: keep it as message_start sent it.
      if (event.type === 'message_start') startUsage = structuredClone(event.message.usage);
    });
    const message = await stream.finalMessage();
    const { input_tokens: estimate } = await h.client.messages.countTokens({ model: MODEL, messages: params.messages });
    expect(startUsage).toEqual({ input_tokens: estimate, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, output_tokens: 0 });
    // Kiro's counts win, over its context percentage too.
    expect(message.usage).toMatchObject({ input_tokens: 120, cache_read_input_tokens: 3000, cache_creation_input_tokens: 400, output_tokens: 57 });

    h.upstream.scriptNext(textReply('Counted.', { tokenUsage: USAGE }));
    const plain = await h.client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Count me.' }] });
    expect(plain.usage).toEqual({ input_tokens: 120, cache_read_input_tokens: 3000, cache_creation_input_tokens: 400, output_tokens: 57 });
    const record = h.finished.at(-1)!;
    expect(record).toMatchObject({ inputTokens: 3520, outputTokens: 57, cacheReadTokens: 3000, cacheWriteTokens: 400 });
    expect(formatRecordLine(record)).toContain(' in=3520 out=57 cache=85% ');
  });

  it('Chat Completions: prompt_tokens is the whole prompt, cached_tokens the cache read', async () => {
    const expected = { prompt_tokens: 3520, completion_tokens: 57, total_tokens: 3577, prompt_tokens_details: { cached_tokens: 3000 } };
    h.upstream.scriptNext(textReply('Counted.', { tokenUsage: USAGE }));
    const completion = await h.openai().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Count me.' }] });
    expect(completion.usage).toMatchObject(expected);
    h.upstream.scriptNext(textReply('Counted.', { tokenUsage: USAGE }));
    const stream = await h
      .openai()
      .chat.completions.create({ model: MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Count me.' }] });
    let usage: unknown;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toMatchObject(expected);
  });

  it('Responses: input_tokens is the whole prompt, input_tokens_details.cached_tokens the cache read', async () => {
    h.upstream.scriptNext(textReply('Counted.', { tokenUsage: USAGE }));
    const response = await h.openai().responses.stream({ model: MODEL, input: 'Count me.' }).finalResponse();
    expect(response.usage).toMatchObject({ input_tokens: 3520, input_tokens_details: { cached_tokens: 3000 }, output_tokens: 57, total_tokens: 3577 });
  });

  it('without tokenUsage, estimates stay and no cache numbers are made up', async () => {
    h.upstream.scriptNext(textReply('Estimated.'));
    const message = await h.client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Estimate me.' }] });
    expect(message.usage.cache_read_input_tokens).toBe(0);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    const record = h.finished.at(-1)!;
    expect(record.cacheReadTokens).toBeUndefined();
    expect(formatRecordLine(record)).not.toContain('cache=');
  });
});

describe("one conversation id per client session, so Kiro's prompt cache hits", () => {
  const SESSION = '9b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';

  it('Claude Code: its metadata.user_id session, in the old and the JSON form, keeps one id; the second turn hits', async () => {
    h.upstream.script(promptCacheReply('ok'));
    const legacy = `user_${'5d'.repeat(32)}_account__session_${SESSION}`;
    const json = JSON.stringify({ device_id: '5d'.repeat(32), account_uuid: '', session_id: SESSION });
    const turn1 = [{ role: 'user' as const, content: 'Read the repository and summarise it.' }];
    const first = await h.client.messages.create({ model: MODEL, max_tokens: 64, metadata: { user_id: legacy }, messages: turn1 });
    const firstId = conversationId();
    const firstPrompt = lastPromptTokens();
    expect(first.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: firstPrompt, input_tokens: 0 });

    const second = await h.client.messages.create({
      model: MODEL,
      max_tokens: 64,
      metadata: { user_id: json },
      messages: [...turn1, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'Now list the tests.' }],
    });
    expect(conversationId()).toBe(firstId);
    expect(second.usage.cache_read_input_tokens).toBe(firstPrompt);
    expect(h.finished.at(-1)!.cacheReadTokens).toBe(firstPrompt);

    // Another session is another conversation: nothing to read.
    await h.client.messages.create({ model: MODEL, max_tokens: 64, metadata: { user_id: legacy.replace(SESSION, 'other-session') }, messages: turn1 });
    expect(conversationId()).not.toBe(firstId);
  });

  it('Codex: prompt_cache_key keeps one id across stateless Responses turns', async () => {
    h.upstream.script(promptCacheReply('ok'));
    const openai = h.openai();
    const input = [{ role: 'user' as const, content: 'Fix the failing test.' }];
    await openai.responses.create({ model: MODEL, store: false, prompt_cache_key: 'codex-7f3a', input });
    const firstId = conversationId();
    const firstPrompt = lastPromptTokens();
    const second = await openai.responses.create({
      model: MODEL,
      store: false,
      prompt_cache_key: 'codex-7f3a',
      input: [...input, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'Run it again.' }],
    });
    expect(conversationId()).toBe(firstId);
    expect(second.usage!.input_tokens_details.cached_tokens).toBe(firstPrompt);
  });

  it('OpenAI user keeps one id for Chat Completions; without any session the conversation start does', async () => {
    h.upstream.script(promptCacheReply('ok'));
    const openai = h.openai();
    const turn1 = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'Name a prime.' },
    ];
    const turn2 = [...turn1, { role: 'assistant' as const, content: 'ok' }, { role: 'user' as const, content: 'Another.' }];
    await openai.chat.completions.create({ model: MODEL, user: 'alice', messages: turn1 });
    const withUser = conversationId();
    const hit = await openai.chat.completions.create({ model: MODEL, user: 'alice', messages: turn2 });
    expect(conversationId()).toBe(withUser);
    expect(hit.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThan(0);

    await openai.chat.completions.create({ model: MODEL, messages: turn1 });
    const derived = conversationId();
    expect(derived).not.toBe(withUser);
    const derivedPrompt = lastPromptTokens();
    const derivedHit = await openai.chat.completions.create({ model: MODEL, messages: turn2 });
    expect(conversationId()).toBe(derived);
    expect(derivedHit.usage!.prompt_tokens_details!.cached_tokens).toBe(derivedPrompt);
  });
});
