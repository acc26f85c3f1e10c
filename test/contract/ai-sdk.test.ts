// The Vercel AI SDK (`ai` 7) against the bridge and the fake Kiro upstream, through each of its
// three providers a user points at the bridge: `@ai-sdk/anthropic` (Messages API), and
// `@ai-sdk/openai`'s chat model (Chat Completions) and responses model (Responses API). For each:
// streamText (text in order, usage and finish reason as the bridge counted them), a multi-step
// generateText tool loop (the SDK runs the tool, step 2 carries its result to Kiro), tool-call
// input streamed as deltas the SDK assembles, and reasoning where the provider has a switch for it.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool, type LanguageModel, type ToolSet } from 'ai';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/traffic/traffic';
import { exceptionReply, textReply, toolReply, type KiroGenerateBody } from '../support/fake-upstream';
import { TEST_API_KEY, currentMessage, useHarness, type Harness } from './harness';

const MODEL = 'claude-sonnet-4-5';

let h: Harness;
/** The JSON bodies the SDK sent, in order (read from its own fetch). */
const sentBodies: Record<string, unknown>[] = [];
let providers: { anthropic: ReturnType<typeof createAnthropic>; openai: ReturnType<typeof createOpenAI> };

useHarness((harness) => {
  h = harness;
  const recordingFetch: typeof fetch = async (input, init) => {
    if (typeof init?.body === 'string') sentBodies.push(JSON.parse(init.body) as Record<string, unknown>);
    return fetch(input, init);
  };
  providers = {
    anthropic: createAnthropic({ baseURL: `${harness.url}/v1`, apiKey: TEST_API_KEY, fetch: recordingFetch }),
    openai: createOpenAI({ baseURL: `${harness.url}/v1`, apiKey: TEST_API_KEY, fetch: recordingFetch }),
  };
});

beforeEach(() => {
  h.upstream.clearScripts();
  sentBodies.length = 0;
});

interface Client {
  name: string;
  path: string;
  model: () => LanguageModel;
  /** Provider options that turn reasoning on (low effort / a 4,000-token budget). */
  reasoning: Record<string, Record<string, unknown>>;
  /** The SDK surfaces the reasoning text (its chat model reads no reasoning at all). */
  showsReasoning: boolean;
  /** The SDK sends the reasoning back in step 2 (its chat model drops it from the history). */
  sendsReasoningBack: boolean;
  /** HTTP status of an unknown model name (the Anthropic API answers 400, OpenAI's 404). */
  unknownModelStatus: number;
}

const clients: Client[] = [
  {
    name: '@ai-sdk/anthropic (Messages API)',
    path: '/v1/messages',
    model: () => providers.anthropic(MODEL),
    reasoning: { anthropic: { thinking: { type: 'enabled', budgetTokens: 4000 } } },
    showsReasoning: true,
    sendsReasoningBack: true,
    unknownModelStatus: 400,
  },
  {
    name: '@ai-sdk/openai .chat() (Chat Completions)',
    path: '/v1/chat/completions',
    model: () => providers.openai.chat(MODEL),
    reasoning: { openai: { reasoningEffort: 'low' } },
    showsReasoning: false,
    sendsReasoningBack: false,
    unknownModelStatus: 404,
  },
  {
    name: '@ai-sdk/openai .responses() (Responses API)',
    path: '/v1/responses',
    model: () => providers.openai.responses(MODEL),
    // The SDK sends `reasoning` only to models it knows reason; Kiro's Claude models do. It reads
    // reasoning from summaries only, which it asks for with reasoningSummary.
    reasoning: { openai: { forceReasoning: true, reasoningEffort: 'low', reasoningSummary: 'auto' } },
    showsReasoning: true,
    sendsReasoningBack: true,
    unknownModelStatus: 404,
  },
];

const weatherInput = jsonSchema<{ city: string }>({
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
});

/** The records of the bridge requests finished since `from`, for the given path. */
function recordsSince(from: number, path: string): RequestRecord[] {
  return h.finished.slice(from).filter((r) => r.path === path);
}

function lastAssistantTurn(body: KiroGenerateBody) {
  return body
    .conversationState!.history!.map((e) => e.assistantResponseMessage)
    .filter(Boolean)
    .at(-1)!;
}

describe.each(clients)('$name', (client) => {
  it('streamText: the text arrives in order, with the finish reason and the usage the bridge counted', async () => {
    const text = 'The quick brown fox jumps over the lazy dog, twice.';
    h.upstream.scriptNext(textReply(text, { chunks: 5, frameDelayMs: 15 }));
    const from = h.finished.length;
    const result = streamText({ model: client.model(), system: 'Answer in one sentence.', prompt: 'Tell me about the fox.' });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);

    expect(deltas.join('')).toBe(text);
    expect(deltas.length).toBeGreaterThan(1);
    expect(await result.finishReason).toBe('stop');
    const [record] = recordsSince(from, client.path);
    expect(record).toMatchObject({ status: 200, stream: true, stopReason: 'end_turn', client: 'Vercel AI SDK' });
    const usage = await result.usage;
    expect(usage.inputTokens).toBe(record!.inputTokens);
    expect(usage.outputTokens).toBe(record!.outputTokens);
    expect(usage.inputTokens).toBeGreaterThan(5);
    expect(usage.outputTokens).toBeGreaterThan(5);
    expect(usage.totalTokens).toBe(usage.inputTokens! + usage.outputTokens!);
    const kiro = h.lastKiroBody();
    expect(currentMessage(kiro).content).toContain('Tell me about the fox.');
    expect(JSON.stringify(kiro.conversationState!.history)).toContain('Answer in one sentence.');
  });

  it("streamText: an answer Kiro cut at its output limit finishes with 'length'", async () => {
    h.upstream.scriptNext(exceptionReply('ContentLengthExceededException', 'Output too long', { text: 'A long answer that' }));
    const result = streamText({ model: client.model(), prompt: 'Write a long essay.' });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('A long answer that');
    expect(await result.finishReason).toBe('length');
  });

  it('generateText runs a multi-step tool loop: the SDK runs the tool, step 2 carries its result to Kiro, the final text arrives', async () => {
    h.upstream.scriptNext(
      toolReply({ name: 'weather', id: 'tooluse_weather1', input: { city: 'Paris' } }, { text: 'Let me check.' }),
      textReply('It is sunny in Paris, 21 °C.'),
    );
    const executed: unknown[] = [];
    const tools = {
      weather: tool({
        description: 'The current weather of a city',
        inputSchema: weatherInput,
        execute: async (input) => {
          executed.push(input);
          return { city: input.city, sky: 'sunny', celsius: 21 };
        },
      }),
    } satisfies ToolSet;
    const generateCalls = h.upstream.generateRequests.length;
    const from = h.finished.length;

    const result = await generateText({ model: client.model(), tools, stopWhen: stepCountIs(5), prompt: 'What is the weather in Paris?' });

    expect(executed).toEqual([{ city: 'Paris' }]);
    expect(result.steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    expect(result.steps[0]!.text).toBe('Let me check.');
    expect(result.steps[0]!.toolCalls).toMatchObject([{ toolName: 'weather', toolCallId: 'tooluse_weather1', input: { city: 'Paris' } }]);
    expect(result.text).toBe('It is sunny in Paris, 21 °C.');
    expect(h.upstream.generateRequests.length).toBe(generateCalls + 2);

    // Step 2 as Kiro received it: the call in the history, its result as the current turn.
    const step2 = h.lastKiroBody();
    const assistant = lastAssistantTurn(step2);
    expect(assistant.content).toContain('Let me check.');
    expect(assistant.toolUses).toEqual([{ toolUseId: 'tooluse_weather1', name: 'weather', input: { city: 'Paris' } }]);
    expect(currentMessage(step2).userInputMessageContext!.toolResults).toEqual([
      { toolUseId: 'tooluse_weather1', content: [{ text: JSON.stringify({ city: 'Paris', sky: 'sunny', celsius: 21 }) }], status: 'success' },
    ]);
    expect(JSON.stringify(step2.conversationState!.history)).toContain('What is the weather in Paris?');

    // The usage the SDK adds up is what the bridge counted for the two requests.
    const records = recordsSince(from, client.path);
    expect(records.map((r) => r.stopReason)).toEqual(['tool_use', 'end_turn']);
    expect(result.totalUsage.inputTokens).toBe(records[0]!.inputTokens! + records[1]!.inputTokens!);
    expect(result.totalUsage.outputTokens).toBe(records[0]!.outputTokens! + records[1]!.outputTokens!);
  });

  it('streamText streams tool calls (each input whole, once Kiro completed it), which the SDK assembles into each call', async () => {
    const file = { path: 'src/greeting.ts', content: 'export const greeting = "héllo, wörld";\n' };
    h.upstream.scriptNext(
      toolReply(
        [
          { name: 'write_file', id: 'tooluse_write1', input: file, fragments: 6 },
          { name: 'weather', id: 'tooluse_weather2', input: { city: 'Oslo' }, fragments: 3 },
        ],
        { frameDelayMs: 10 },
      ),
    );
    const tools = {
      write_file: tool({
        description: 'Writes a file',
        inputSchema: jsonSchema<{ path: string; content: string }>({
          type: 'object',
          properties: { path: { type: 'string' }, content: { type: 'string' } },
          required: ['path', 'content'],
        }),
      }),
      weather: tool({ description: 'The current weather of a city', inputSchema: weatherInput }),
    } satisfies ToolSet;
    const result = streamText({ model: client.model(), tools, prompt: 'Write the greeting file, then check Oslo.' });
    const deltas = new Map<string, string[]>();
    const started: string[] = [];
    const calls: { toolCallId: string; toolName: string; input: unknown }[] = [];
    for await (const part of result.fullStream) {
      if (part.type === 'tool-input-start') started.push(`${part.id}:${part.toolName}`);
      if (part.type === 'tool-input-delta') deltas.set(part.id, [...(deltas.get(part.id) ?? []), part.delta]);
      if (part.type === 'tool-call') calls.push({ toolCallId: part.toolCallId, toolName: part.toolName, input: part.input });
      if (part.type === 'error') throw part.error;
    }

    expect(started).toEqual(['tooluse_write1:write_file', 'tooluse_weather2:weather']);
    // The bridge holds a call's input until Kiro finished it (a cut input must never reach an agent).
    expect(deltas.get('tooluse_write1')).toHaveLength(1);
    expect(JSON.parse(deltas.get('tooluse_write1')!.join(''))).toEqual(file);
    expect(JSON.parse(deltas.get('tooluse_weather2')!.join(''))).toEqual({ city: 'Oslo' });
    expect(calls).toEqual([
      { toolCallId: 'tooluse_write1', toolName: 'write_file', input: file },
      { toolCallId: 'tooluse_weather2', toolName: 'weather', input: { city: 'Oslo' } },
    ]);
    expect(await result.finishReason).toBe('tool-calls');
  });

  it('reasoning on: Kiro thinks within the asked budget, the thinking stays out of the text, and the tool loop keeps it', async () => {
    h.upstream.scriptNext(
      {
        name: 'think-then-call',
        steps: [
          { thinking: 'The weather tool answers this.' },
          { text: 'Checking.' },
          { tool: { name: 'weather', id: 'tooluse_weather3', input: { city: 'Rome' } } },
        ],
      },
      { name: 'think-then-answer', steps: [{ thinking: 'Sunny, say so.' }, { text: 'Sunny in Rome.' }] },
    );
    const tools = {
      weather: tool({ description: 'The current weather of a city', inputSchema: weatherInput, execute: async () => ({ sky: 'sunny' }) }),
    } satisfies ToolSet;
    const result = await generateText({
      model: client.model(),
      tools,
      stopWhen: stepCountIs(5),
      providerOptions: client.reasoning as never,
      prompt: 'Weather in Rome?',
    });

    expect(result.text).toBe('Sunny in Rome.');
    expect(result.steps.map((s) => s.text)).toEqual(['Checking.', 'Sunny in Rome.']);
    const step2 = h.lastKiroBody();
    expect(JSON.stringify(step2)).toContain('<max_thinking_length>4000</max_thinking_length>');
    expect(result.totalUsage.outputTokens).toBeGreaterThan(0);
    if (client.showsReasoning) expect(result.steps.map((s) => s.reasoningText)).toEqual(['The weather tool answers this.', 'Sunny, say so.']);
    // Step 1's thinking goes back to Kiro with its turn when the SDK sends it back.
    expect(String(lastAssistantTurn(step2).content).includes('<thinking>The weather tool answers this.</thinking>')).toBe(client.sendsReasoningBack);
    expect(lastAssistantTurn(step2).toolUses).toEqual([{ toolUseId: 'tooluse_weather3', name: 'weather', input: { city: 'Rome' } }]);
  });

  it('a bridge refusal reaches the SDK as an APICallError with the status and the message', async () => {
    const model =
      client.path === '/v1/messages'
        ? providers.anthropic('claude-nonexistent-9')
        : client.path === '/v1/chat/completions'
          ? providers.openai.chat('claude-nonexistent-9')
          : providers.openai.responses('claude-nonexistent-9');
    const error = await generateText({ model, prompt: 'hi', maxRetries: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as APICallError).statusCode).toBe(client.unknownModelStatus);
    expect((error as APICallError).message).toContain('unknown model "claude-nonexistent-9"');
  });
});

describe('@ai-sdk/openai .responses(): earlier output items by reference', () => {
  it('step 2 refers to step 1 by item_reference (the response is stored), and Kiro still gets the whole turn', async () => {
    h.upstream.scriptNext(
      {
        name: 'think-text-call',
        steps: [{ thinking: 'I need the tool.' }, { text: 'One moment.' }, { tool: { name: 'weather', id: 'tooluse_weather4', input: { city: 'Lima' } } }],
      },
      textReply('Cloudy in Lima.'),
    );
    const tools = {
      weather: tool({ description: 'The current weather of a city', inputSchema: weatherInput, execute: async () => ({ sky: 'cloudy' }) }),
    } satisfies ToolSet;
    const result = await generateText({
      model: providers.openai.responses(MODEL),
      tools,
      stopWhen: stepCountIs(5),
      providerOptions: { openai: { forceReasoning: true, reasoningEffort: 'low' } },
      prompt: 'Weather in Lima?',
    });
    expect(result.text).toBe('Cloudy in Lima.');

    const [first, second] = sentBodies;
    expect(first).not.toHaveProperty('store');
    const references = (second!.input as { type?: string; id?: string }[]).filter((item) => item.type === 'item_reference');
    expect(references.map((r) => r.id!.slice(0, 3))).toEqual(['rs_', 'msg']);
    const assistant = lastAssistantTurn(h.lastKiroBody());
    expect(assistant.content).toContain('<thinking>I need the tool.</thinking>');
    expect(assistant.content).toContain('One moment.');
    expect(assistant.toolUses).toEqual([{ toolUseId: 'tooluse_weather4', name: 'weather', input: { city: 'Lima' } }]);
  });

  it('with store: false the SDK sends the items themselves, and the loop works the same', async () => {
    h.upstream.scriptNext(toolReply({ name: 'weather', id: 'tooluse_weather5', input: { city: 'Kyiv' } }, { text: 'Looking.' }), textReply('Snow in Kyiv.'));
    const tools = {
      weather: tool({ description: 'The current weather of a city', inputSchema: weatherInput, execute: async () => ({ sky: 'snow' }) }),
    } satisfies ToolSet;
    const result = await generateText({
      model: providers.openai.responses(MODEL),
      tools,
      stopWhen: stepCountIs(5),
      providerOptions: { openai: { store: false } },
      prompt: 'Weather in Kyiv?',
    });
    expect(result.text).toBe('Snow in Kyiv.');
    expect(JSON.stringify(sentBodies[1])).not.toContain('item_reference');
    expect(lastAssistantTurn(h.lastKiroBody())).toMatchObject({ content: 'Looking.', toolUses: [{ toolUseId: 'tooluse_weather5' }] });
  });
});
