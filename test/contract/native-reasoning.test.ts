// Kiro's native reasoning (reasoningContentEvent) through the official SDKs: streamed as real
// thinking blocks with Kiro's signature (Anthropic), reasoning_content + reasoning_details (Chat
// Completions) and reasoning items (Responses), and sent back to Kiro unchanged as
// `reasoningContent`. The fake upstream checks every replayed signature against its text and the
// account that issued it, as Kiro does (400 THINKING_SIGNATURE_INVALID otherwise), so a test that
// passes here proves the bridge replays what Kiro gave it byte for byte.
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { reasoningReply, textReply, thinkingReply, type KiroGenerateBody, type RecordedRequest } from '../support/fake-upstream';
import { BUILDER_ID_PROFILE_ARN } from '../../src/kiro/signin/constants';
import { useHarness, type Harness } from './harness';

const MODEL = 'claude-sonnet-4-6';
const REASONING = 'The user wants the weather; I will answer from what I know.';

let h: Harness;
useHarness((harness) => (h = harness));

beforeEach(() => {
  h.upstream.clearScripts();
});

/** The assistant turns of the last Kiro request, past the system pair. */
function assistantTurns(body: KiroGenerateBody) {
  return body.conversationState!.history!.flatMap((entry) => (entry.assistantResponseMessage ? [entry.assistantResponseMessage] : []));
}

/** The generate calls since `before` (requests the fake recorded). */
const callsSince = (before: number): RecordedRequest[] => h.upstream.generateRequests.slice(before);

describe('Anthropic Messages', () => {
  it("streams native reasoning as a thinking block with Kiro's signature, and sends it back unchanged", async () => {
    h.upstream.scriptNext(reasoningReply(REASONING, 'It is sunny in Paris.', { chunks: 4 }));
    const question: Anthropic.MessageParam = { role: 'user', content: 'Weather in Paris?' };
    const stream = h.client.messages.stream({ model: MODEL, max_tokens: 1024, messages: [question] });
    const deltas: string[] = [];
    stream.on('thinking', (delta) => deltas.push(delta));
    const first = await stream.finalMessage();
    const signature = h.upstream.account.signReasoning(REASONING);
    expect(deltas.join('')).toBe(REASONING);
    expect(first.content).toEqual([
      { type: 'thinking', thinking: REASONING, signature },
      { type: 'text', text: 'It is sunny in Paris.' },
    ]);

    const before = h.upstream.generateRequests.length;
    h.upstream.scriptNext(textReply('Bring sunglasses.'));
    const second = await h.client.messages.create({
      model: MODEL,
      max_tokens: 1024,
      messages: [question, { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] }, { role: 'user', content: 'And tomorrow?' }],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'Bring sunglasses.' }]);
    const [call] = callsSince(before);
    expect(call?.status).toBe(200);
    expect(call?.rejectedBy).toBeUndefined();
    const turn = assistantTurns(call!.body as KiroGenerateBody).at(-1)!;
    expect(turn).toEqual({ content: 'It is sunny in Paris.', reasoningContent: { reasoningText: { text: REASONING, signature } } });
  });

  it('non-streaming answers carry the same signed block', async () => {
    h.upstream.scriptNext(reasoningReply(REASONING, 'Sunny.'));
    const message = await h.client.messages.create({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: 'Weather?' }] });
    expect(message.content[0]).toEqual({ type: 'thinking', thinking: REASONING, signature: h.upstream.account.signReasoning(REASONING) });
  });

  it('a changed signature: Kiro refuses it once, and the bridge sends that reasoning as text instead', async () => {
    const before = h.upstream.generateRequests.length;
    h.upstream.scriptNext(textReply('Still fine.'));
    const message = await h.client.messages.create({
      model: MODEL,
      max_tokens: 256,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: REASONING, signature: 'c2lnbmVkIGVsc2V3aGVyZQ==' },
            { type: 'text', text: 'Sunny.' },
          ],
        },
        { role: 'user', content: 'Sure?' },
      ],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Still fine.' }]);
    const [refused, resent] = callsSince(before);
    expect(refused?.rejectedBy).toBe('thinking_signature_invalid');
    expect(resent?.status).toBe(200);
    const turn = assistantTurns(resent!.body as KiroGenerateBody).at(-1)!;
    expect(turn).toEqual({ content: `<thinking>${REASONING}</thinking>\n\nSunny.` });
    expect(h.finished.at(-1)!.repairs).toEqual([
      expect.stringMatching(/^reasoning-as-text: message 1: signed reasoning sent as <thinking> text: Kiro refused its signature/),
    ]);
  });

  it('redacted reasoning streams as a redacted_thinking block; sent back, it is left out with a note', async () => {
    h.upstream.scriptNext(reasoningReply(REASONING, 'Done.', { redacted: 'cmVkYWN0ZWQgYnkgS2lybw==' }));
    const first = await h.client.messages.stream({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: 'Think hard.' }] }).finalMessage();
    expect(first.content.map((b) => b.type)).toEqual(['redacted_thinking', 'thinking', 'text']);
    expect(first.content[0]).toEqual({ type: 'redacted_thinking', data: 'cmVkYWN0ZWQgYnkgS2lybw==' });

    const before = h.upstream.generateRequests.length;
    await h.client.messages.create({
      model: MODEL,
      max_tokens: 256,
      messages: [
        { role: 'user', content: 'Think hard.' },
        { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
        { role: 'user', content: 'Go on.' },
      ],
    });
    const [call] = callsSince(before);
    expect(call?.rejectedBy).toBeUndefined();
    expect(call!.rawBody).not.toContain('cmVkYWN0ZWQgYnkgS2lybw==');
    expect(assistantTurns(call!.body as KiroGenerateBody).at(-1)!.reasoningContent).toEqual({
      reasoningText: { text: REASONING, signature: h.upstream.account.signReasoning(REASONING) },
    });
    expect(h.finished.at(-1)!.repairs).toContain(
      'redacted-thinking-dropped: message 1: redacted reasoning not sent back (Kiro takes back signed reasoning text only)',
    );
  });

  it('the <thinking> tag path stays: its stand-in signature goes back as tagged text, never as a signature', async () => {
    h.upstream.scriptNext(thinkingReply('Tagged thoughts.', 'Answer.'));
    const first = await h.client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'q' }],
    });
    expect(first.content[0]).toMatchObject({ type: 'thinking', thinking: 'Tagged thoughts.', signature: expect.stringMatching(/^kiro-bridge\./) });
    const before = h.upstream.generateRequests.length;
    await h.client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
        { role: 'user', content: 'more' },
      ],
    });
    const [call] = callsSince(before);
    expect(call?.rejectedBy).toBeUndefined();
    expect(assistantTurns(call!.body as KiroGenerateBody).at(-1)).toEqual({ content: '<thinking>Tagged thoughts.</thinking>\n\nAnswer.' });
  });
});

describe('OpenAI Chat Completions', () => {
  type ReasoningMessage = OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string; reasoning_details?: Record<string, unknown>[] };

  it('reasoning_content has the text, reasoning_details the signed block; sent back, Kiro gets it unchanged', async () => {
    h.upstream.scriptNext(reasoningReply(REASONING, 'Sunny.'));
    const openai = h.openai();
    const first = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Weather?' }] });
    const message = first.choices[0]!.message as ReasoningMessage;
    const signature = h.upstream.account.signReasoning(REASONING);
    expect(message.reasoning_content).toBe(REASONING);
    expect(message.reasoning_details).toEqual([{ type: 'reasoning.text', text: REASONING, signature, format: 'unknown', index: 0 }]);

    const before = h.upstream.generateRequests.length;
    await openai.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: message.content,
          reasoning_content: message.reasoning_content,
          reasoning_details: message.reasoning_details,
        } as OpenAI.Chat.ChatCompletionAssistantMessageParam,
        { role: 'user', content: 'Tomorrow?' },
      ],
    });
    const [call] = callsSince(before);
    expect(call?.rejectedBy).toBeUndefined();
    expect(assistantTurns(call!.body as KiroGenerateBody).at(-1)).toEqual({
      content: 'Sunny.',
      reasoningContent: { reasoningText: { text: REASONING, signature } },
    });
  });

  it('streams the reasoning as reasoning_content deltas and the signed block once, when it ends', async () => {
    h.upstream.scriptNext(reasoningReply(REASONING, 'Sunny.', { chunks: 3 }));
    const stream = await h.openai().chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'Weather?' }] });
    let reasoning = '';
    const details: unknown[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { reasoning_content?: string; reasoning_details?: unknown[] } | undefined;
      reasoning += delta?.reasoning_content ?? '';
      if (delta?.reasoning_details) details.push(...delta.reasoning_details);
    }
    expect(reasoning).toBe(REASONING);
    expect(details).toEqual([{ type: 'reasoning.text', text: REASONING, signature: h.upstream.account.signReasoning(REASONING), format: 'unknown', index: 0 }]);
  });
});

describe('OpenAI Responses', () => {
  it('a stateless client (Codex) gets the reasoning back to Kiro unchanged from encrypted_content alone', async () => {
    h.upstream.scriptNext(reasoningReply(REASONING, 'Sunny.'));
    const openai = h.openai();
    const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'Weather?' }];
    const first = await openai.responses
      .stream({ model: MODEL, input, store: false, include: ['reasoning.encrypted_content'], prompt_cache_key: 'codex-session-1' })
      .finalResponse();
    const reasoning = first.output[0] as OpenAI.Responses.ResponseReasoningItem;
    expect(reasoning.type).toBe('reasoning');
    expect(reasoning.content).toEqual([{ type: 'reasoning_text', text: REASONING }]);
    expect(reasoning.encrypted_content).toMatch(/^kiro-bridge\.reasoning\.v1\./);

    // Codex sends reasoning items back with their summary and encrypted_content only, never
    // their reasoning_text content.
    const replayed = first.output.map((item) =>
      item.type === 'reasoning' ? { type: 'reasoning' as const, id: item.id, summary: item.summary, encrypted_content: item.encrypted_content } : item,
    ) as OpenAI.Responses.ResponseInputItem[];
    const before = h.upstream.generateRequests.length;
    h.upstream.scriptNext(textReply('Tomorrow too.'));
    await openai.responses.create({
      model: MODEL,
      store: false,
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 'codex-session-1',
      input: [...input, ...replayed, { role: 'user', content: 'Tomorrow?' }],
    });
    const [call] = callsSince(before);
    expect(call?.rejectedBy).toBeUndefined();
    expect(assistantTurns(call!.body as KiroGenerateBody).at(-1)).toEqual({
      content: 'Sunny.',
      reasoningContent: { reasoningText: { text: REASONING, signature: h.upstream.account.signReasoning(REASONING) } },
    });
  });

  it('without include, no envelope goes to the client, and previous_response_id still replays the signature', async () => {
    h.upstream.scriptNext(reasoningReply(REASONING, 'Sunny.'));
    const openai = h.openai();
    const first = await openai.responses.create({ model: MODEL, input: 'Weather?' });
    expect(first.output[0]).not.toHaveProperty('encrypted_content');
    const before = h.upstream.generateRequests.length;
    await openai.responses.create({ model: MODEL, input: 'Tomorrow?', previous_response_id: first.id });
    const [call] = callsSince(before);
    expect(call?.rejectedBy).toBeUndefined();
    expect(assistantTurns(call!.body as KiroGenerateBody).at(-1)!.reasoningContent).toEqual({
      reasoningText: { text: REASONING, signature: h.upstream.account.signReasoning(REASONING) },
    });
  });
});

describe('a Builder ID account (its streaming profile is a placeholder, not a known ARN)', () => {
  let builder: Harness;
  useHarness((harness) => (builder = harness), { upstream: { accounts: [{ kind: 'idc' }] } });

  it('resends the reasoning as text with the same profile as the refused first attempt', async () => {
    const before = builder.upstream.generateRequests.length;
    builder.upstream.scriptNext(textReply('Still fine.'));
    const message = await builder.client.messages.create({
      model: MODEL,
      max_tokens: 256,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: REASONING, signature: 'c2lnbmVkIGVsc2V3aGVyZQ==' },
            { type: 'text', text: 'Sunny.' },
          ],
        },
        { role: 'user', content: 'Sure?' },
      ],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Still fine.' }]);
    const [refused, resent] = builder.upstream.generateRequests.slice(before);
    expect(refused?.rejectedBy).toBe('thinking_signature_invalid');
    expect(resent?.rejectedBy).toBeUndefined();
    expect(resent?.status).toBe(200);
    expect((resent!.body as KiroGenerateBody).profileArn).toBe(BUILDER_ID_PROFILE_ARN);
  });
});
