// opencode (test/fixtures/clients/opencode.json) against the bridge: a custom provider through the
// Vercel AI SDK package opencode loads for it (@ai-sdk/openai-compatible, or @ai-sdk/anthropic),
// called the way opencode calls it — two system messages, its prompt-cache hints on the system
// and the last two messages, 32000 output tokens, its User-Agent, the "high" reasoning variant —
// through a multi-step tool loop.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { jsonSchema, stepCountIs, streamText, tool, wrapLanguageModel, type LanguageModel, type ToolSet } from 'ai';
import { beforeEach, describe, expect, it } from 'vitest';
import { thinkingReply } from '../support/fake-upstream';
import { clientFixture, lastAssistantTurn } from './client-fixtures';
import { TEST_API_KEY, currentMessage, useHarness, type Harness } from './harness';

type ProviderOptions = NonNullable<Parameters<typeof streamText>[0]['providerOptions']>;

interface OpencodeFixture {
  call: {
    system: string[];
    headers: Record<string, string>;
    maxOutputTokens: number;
    variants: Record<'openai-compatible' | 'anthropic', { high: ProviderOptions[string] }>;
    cacheHints: Record<string, Record<string, unknown>>;
  };
}

const fixture = clientFixture('opencode.json') as unknown as OpencodeFixture;
// The SDK logs a warning for system messages in `messages`, which opencode sends on purpose.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;
const MODEL = 'claude-sonnet-4-5';

let h: Harness;
const sent: { body: Record<string, unknown>; headers: Headers }[] = [];
useHarness((harness) => (h = harness));
beforeEach(() => {
  h.upstream.clearScripts();
  sent.length = 0;
});

const recordingFetch: typeof fetch = async (input, init) => {
  if (typeof init?.body === 'string') sent.push({ body: JSON.parse(init.body) as Record<string, unknown>, headers: new Headers(init.headers) });
  return fetch(input, init);
};

type PromptMessage = { role: string; content: unknown; providerOptions?: Record<string, unknown> };

/**
 * opencode's cache hints for Claude models: the first two system messages and the last two
 * others get them, on their last content part when they have parts, else on the message.
 */
function withCacheHints(model: LanguageModel, providerId: string): LanguageModel {
  return wrapLanguageModel({
    model: model as Parameters<typeof wrapLanguageModel>[0]['model'],
    middleware: {
      transformParams: async ({ params }) => {
        const prompt = params.prompt as PromptMessage[];
        const system = prompt.filter((m) => m.role === 'system').slice(0, 2);
        const final = prompt.filter((m) => m.role !== 'system').slice(-2);
        for (const message of new Set([...system, ...final])) {
          const parts = message.content;
          if (providerId !== 'anthropic' && Array.isArray(parts) && parts.length > 0) {
            const last = parts[parts.length - 1] as { providerOptions?: Record<string, unknown> };
            last.providerOptions = { ...last.providerOptions, ...fixture.call.cacheHints };
          } else {
            message.providerOptions = { ...message.providerOptions, ...fixture.call.cacheHints };
          }
        }
        return params;
      },
    },
  });
}

const readTool = () =>
  ({
    read: tool({
      description: 'Reads a file from the local filesystem.',
      inputSchema: jsonSchema<{ filePath: string }>({
        type: 'object',
        properties: { filePath: { type: 'string', description: 'The absolute path to the file to read' } },
        required: ['filePath'],
        additionalProperties: false,
      }),
      execute: async ({ filePath }) => ({ output: `${filePath}\n00001| export const answer = 42;`, title: 'src/index.ts', metadata: {} }),
    }),
  }) satisfies ToolSet;

/** What opencode passes to streamText for one turn of a session. */
function opencodeCall(model: LanguageModel, providerOptions: ProviderOptions) {
  return streamText({
    model,
    // opencode puts its system prompt in `messages` (the `ai` it pins allows that without asking).
    allowSystemInMessages: true,
    messages: [
      ...fixture.call.system.map((content) => ({ role: 'system' as const, content })),
      { role: 'user', content: [{ type: 'text', text: 'What does src/index.ts export?' }] },
    ],
    tools: readTool(),
    stopWhen: stepCountIs(5),
    maxOutputTokens: fixture.call.maxOutputTokens,
    headers: fixture.call.headers,
    providerOptions,
    maxRetries: 0,
  });
}

function scriptToolLoop(): void {
  h.upstream.scriptNext(
    {
      name: 'think-then-read',
      steps: [{ thinking: 'Read the file first.' }, { tool: { name: 'read', id: 'tooluse_oc_read1', input: { filePath: '/home/dev/app/src/index.ts' } } }],
    },
    thinkingReply('It has one export.', 'It exports `answer` (42).'),
  );
}

describe('opencode, custom provider through @ai-sdk/openai-compatible', () => {
  it("a tool loop with reasoning: opencode shows the reasoning, step 2 carries it and the tool output to Kiro, usage is the bridge's", async () => {
    scriptToolLoop();
    const provider = createOpenAICompatible({ name: 'kiro', baseURL: `${h.url}/v1`, apiKey: TEST_API_KEY, includeUsage: true, fetch: recordingFetch });
    const from = h.finished.length;
    const result = opencodeCall(withCacheHints(provider.chatModel(MODEL), 'kiro'), { kiro: fixture.call.variants['openai-compatible'].high });
    for await (const part of result.fullStream) if (part.type === 'error') throw part.error;

    expect(await result.text).toBe('It exports `answer` (42).');
    expect((await result.steps).map((s) => s.reasoningText)).toEqual(['Read the file first.', 'It has one export.']);

    // What opencode sent: its cache hints, reasoning effort, output limit, usage request and User-Agent.
    const [first] = sent;
    expect(first!.body).toMatchObject({ model: MODEL, max_tokens: 32000, reasoning_effort: 'high', stream: true, stream_options: { include_usage: true } });
    const messages = first!.body.messages as Record<string, unknown>[];
    expect(messages.map((m) => [m.role, m.cache_control])).toEqual([
      ['system', { type: 'ephemeral' }],
      ['system', { type: 'ephemeral' }],
      ['user', { type: 'ephemeral' }],
    ]);
    expect(first!.headers.get('user-agent')).toMatch(/^opencode\/1\.0\.150/);

    const records = h.finished.slice(from);
    expect(records.map((r) => [r.client, r.status, r.stopReason])).toEqual([
      ['OpenCode', 200, 'tool_use'],
      ['OpenCode', 200, 'end_turn'],
    ]);
    const usage = await result.totalUsage;
    expect(usage.inputTokens).toBe(records[0]!.inputTokens! + records[1]!.inputTokens!);
    expect(usage.outputTokens).toBe(records[0]!.outputTokens! + records[1]!.outputTokens!);

    const kiro = h.lastKiroBody();
    expect(JSON.stringify(kiro.conversationState!.history)).toContain('<max_thinking_length>32000</max_thinking_length>');
    expect(JSON.stringify(kiro.conversationState!.history)).toContain('You are opencode, an interactive CLI tool');
    // Step 2: the reasoning opencode sent back as reasoning_content, the call and its output.
    expect(lastAssistantTurn(kiro)).toMatchObject({
      content: expect.stringContaining('<thinking>Read the file first.</thinking>'),
      toolUses: [{ toolUseId: 'tooluse_oc_read1', name: 'read', input: { filePath: '/home/dev/app/src/index.ts' } }],
    });
    const [toolResult] = currentMessage(kiro).userInputMessageContext!.toolResults!;
    expect(toolResult).toMatchObject({ toolUseId: 'tooluse_oc_read1', status: 'success' });
    expect(JSON.parse((toolResult!.content as { text: string }[])[0]!.text)).toMatchObject({
      output: '/home/dev/app/src/index.ts\n00001| export const answer = 42;',
    });
  });
});

describe('opencode, custom provider through @ai-sdk/anthropic', () => {
  it('the same loop over the Messages API: cache hints on the system and messages, thinking from the "high" variant', async () => {
    scriptToolLoop();
    const provider = createAnthropic({ baseURL: `${h.url}/v1`, apiKey: TEST_API_KEY, fetch: recordingFetch });
    const result = opencodeCall(withCacheHints(provider(MODEL), 'kiro-anthropic'), { anthropic: fixture.call.variants.anthropic.high });
    for await (const part of result.fullStream) if (part.type === 'error') throw part.error;

    expect(await result.text).toBe('It exports `answer` (42).');
    expect((await result.steps).map((s) => s.reasoningText)).toEqual(['Read the file first.', 'It has one export.']);
    const first = sent[0]!.body;
    // The provider adds the thinking budget to opencode's output limit.
    expect(first).toMatchObject({ max_tokens: 32000 + 16000, thinking: { type: 'enabled', budget_tokens: 16000 } });
    expect(JSON.stringify(first.system)).toContain('"cache_control":{"type":"ephemeral"}');
    expect(JSON.stringify(first.messages)).toContain('"cache_control":{"type":"ephemeral"}');
    expect(h.finished.at(-1)).toMatchObject({ client: 'OpenCode', status: 200, stopReason: 'end_turn' });
    const kiro = h.lastKiroBody();
    expect(JSON.stringify(kiro.conversationState!.history)).toContain('<max_thinking_length>16000</max_thinking_length>');
    expect(lastAssistantTurn(kiro).content).toContain('<thinking>Read the file first.</thinking>');
  });
});
