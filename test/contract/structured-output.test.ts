// Structured output through the real clients: the official Anthropic and OpenAI SDKs' parse and
// stream helpers, and the Vercel AI SDK's generateObject / streamObject over @ai-sdk/anthropic
// (which sends output_config.format) and @ai-sdk/openai's chat and responses models. The fake
// upstream answers the way a model asked for JSON only in its prompt does: JSON in a fence, in
// prose, wrong, or wrong twice. Only validated JSON may reach the client; a second failure is the
// API's own error.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import Anthropic from '@anthropic-ai/sdk';
import { jsonSchemaOutputFormat } from '@anthropic-ai/sdk/helpers/json-schema';
import { APICallError, generateObject, jsonSchema, streamObject, type LanguageModel } from 'ai';
import { APIError, type OpenAI } from 'openai';
import { LengthFinishReasonError } from 'openai/error';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  exceptionReply,
  fencedJsonReply,
  proseJsonReply,
  reasoningReply,
  textReply,
  thinkingReply,
  toolReply,
  type KiroGenerateBody,
} from '../support/fake-upstream';
import { failureOf } from '../support/failure';
import { TEST_API_KEY, currentMessage, useHarness, type Harness } from './harness';

const MODEL = 'claude-sonnet-4-5';

const WEATHER = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    temperature: { type: 'number' },
    conditions: { type: 'string', enum: ['sunny', 'cloudy', 'rain'] },
  },
  required: ['city', 'temperature', 'conditions'],
  additionalProperties: false,
} as const;

type Weather = { city: string; temperature: number; conditions: 'sunny' | 'cloudy' | 'rain' };
const GOOD: Weather = { city: 'Paris', temperature: 21.5, conditions: 'sunny' };
/** Fails the schema: the temperature is a string. */
const BAD = { city: 'Paris', temperature: 'warm', conditions: 'sunny' };
const BAD_TEMPERATURE = '/temperature: must be number';

let h: Harness;
let anthropic: Anthropic;
let openai: OpenAI;
useHarness((harness) => {
  h = harness;
  anthropic = harness.client;
  openai = harness.openai();
});

beforeEach(() => {
  h.upstream.clearScripts();
});

const calls = () => h.upstream.generateRequests.length;
const bodies = () => h.upstream.generateBodies;
const lastRecord = () => h.finished.at(-1)!;
const systemPromptOf = (body: KiroGenerateBody) => String(body.conversationState!.history![0]!.userInputMessage!.content);

/** Asserts the second upstream call asked again with the first answer and the validation error. */
function expectCorrectiveRetry(from: number, firstAnswerPart: string, problem: string): void {
  expect(calls() - from).toBe(2);
  const retry = bodies().at(-1)!;
  const history = retry.conversationState!.history!;
  expect(String(history.at(-1)!.assistantResponseMessage!.content)).toContain(firstAnswerPart);
  const correction = String(currentMessage(retry).content);
  expect(correction).toContain('Your previous answer cannot be used');
  expect(correction).toContain(problem);
  // The schema instruction stays in the system prompt of the retry.
  expect(systemPromptOf(retry)).toContain(JSON.stringify(WEATHER));
}

/** SSE event names and data of a raw streamed response. */
async function sseEvents(response: Response): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const text = await response.text();
  return [...text.matchAll(/^event: (\S+)\ndata: (.*)$/gm)].map((m) => ({ event: m[1]!, data: JSON.parse(m[2]!) as Record<string, unknown> }));
}

// ---- Anthropic Messages ---------------------------------------------------------------------

describe('Anthropic Messages: output_config.format', () => {
  const format = jsonSchemaOutputFormat(WEATHER);

  it('messages.parse gets the JSON out of a fenced answer, and Kiro gets the schema in its system prompt', async () => {
    const from = calls();
    h.upstream.scriptNext(fencedJsonReply(GOOD, { after: 'Let me know if you need more.' }));
    const message = await anthropic.messages.parse({
      model: MODEL,
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      output_config: { format },
    });
    expect(message.parsed_output).toEqual(GOOD);
    expect(message.content).toHaveLength(1);
    // The JSON as the model wrote it, without the sentence or the fence around it.
    expect(message.content[0]).toMatchObject({ type: 'text', text: JSON.stringify(GOOD, null, 2) });
    expect(message.stop_reason).toBe('end_turn');
    expect(calls() - from).toBe(1);
    const system = systemPromptOf(bodies().at(-1)!);
    expect(system).toContain('Your answer must be a single JSON value that conforms to this JSON Schema');
    expect(system).toContain('"temperature"');
    expect(lastRecord().repairs.some((r) => r.startsWith('structured output: the JSON was taken from a fenced code block'))).toBe(true);
  });

  it('a stream holds thinking back with the answer, then sends it before the validated JSON', async () => {
    h.upstream.scriptNext(thinkingReply('The user wants Paris weather.', `Sure: ${JSON.stringify(GOOD)}`, { chunks: 3 }));
    const stream = anthropic.messages.stream({
      model: MODEL,
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      output_config: { format },
    });
    const textDeltas: string[] = [];
    stream.on('text', (delta) => textDeltas.push(delta));
    const message = await stream.finalMessage();
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect(message.content[0]).toMatchObject({ type: 'thinking', thinking: 'The user wants Paris weather.' });
    expect(message.parsed_output).toEqual(GOOD);
    expect(textDeltas.join('')).toBe(JSON.stringify(GOOD));
  });

  it("Kiro's native reasoning keeps its signature, and Kiro's token counts (over both attempts) are the usage", async () => {
    const reasoning = 'Paris, today: sunny and mild.';
    h.upstream.scriptNext(
      reasoningReply(reasoning, JSON.stringify(BAD), {
        tokenUsage: { uncachedInputTokens: 10, cacheReadInputTokens: 500, cacheWriteInputTokens: 0, outputTokens: 20 },
      }),
      reasoningReply(reasoning, JSON.stringify(GOOD), {
        tokenUsage: { uncachedInputTokens: 30, cacheReadInputTokens: 600, cacheWriteInputTokens: 40, outputTokens: 25 },
      }),
    );
    const message = await anthropic.messages
      .stream({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: 'Weather in Paris?' }], output_config: { format } })
      .finalMessage();
    expect(message.parsed_output).toEqual(GOOD);
    expect(message.content[0]).toEqual({ type: 'thinking', thinking: reasoning, signature: h.upstream.account.signReasoning(reasoning) });
    // The accepted call's numbers, plus the discarded call's prompt (510) and output (20).
    expect(message.usage).toMatchObject({ cache_read_input_tokens: 600, cache_creation_input_tokens: 40, input_tokens: 30 + 510, output_tokens: 25 + 20 });
  });

  it('the deprecated output_format (beta header) works too; a wrong answer is retried once with the validation errors', async () => {
    const from = calls();
    h.upstream.scriptNext(proseJsonReply(BAD, { metering: 0.2 }), fencedJsonReply(GOOD, { metering: 0.3 }));
    const response = await fetch(`${h.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        'x-api-key': TEST_API_KEY,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'structured-outputs-2025-11-13',
      },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 1024,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        output_format: { type: 'json_schema', schema: WEATHER },
      }),
    });
    expect(response.status).toBe(200);
    const message = (await response.json()) as Anthropic.Message;
    expect(message.content).toHaveLength(1);
    expect(JSON.parse((message.content[0] as Anthropic.TextBlock).text)).toEqual(GOOD);
    expectCorrectiveRetry(from, '"temperature":"warm"', BAD_TEMPERATURE);

    const record = lastRecord();
    expect(record.status).toBe(200);
    expect(record.credits).toBeCloseTo(0.5, 5);
    expect(record.attempts).toHaveLength(2);
    expect(record.flags.retried).toBe(true);
    expect(record.repairs.some((r) => r.includes("Kiro's answer was not usable") && r.includes(BAD_TEMPERATURE))).toBe(true);

    // Usage covers both attempts: more than the same answer given at once.
    h.upstream.scriptNext(fencedJsonReply(GOOD));
    const once = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      output_config: { format },
    });
    expect(message.usage.output_tokens).toBeGreaterThan(once.usage.output_tokens);
    expect(message.usage.input_tokens).toBeGreaterThan(once.usage.input_tokens);
  });

  it('wrong twice: a 502 api_error before anything was sent, after exactly two upstream calls', async () => {
    const from = calls();
    h.upstream.scriptNext(proseJsonReply(BAD, { metering: 0.1 }), textReply('I would rather describe the weather in words.', { metering: 0.1 }));
    const error = await failureOf(
      anthropic.messages.create({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: 'Weather?' }], output_config: { format } }),
      Anthropic.InternalServerError,
    );
    expect(error.status).toBe(502);
    expect((error.error as { error: { type: string } }).error.type).toBe('api_error');
    expect(error.message).toContain('did not match the requested JSON schema, also after one retry');
    expect(error.message).toContain('I would rather describe');
    // Two Kiro calls were spent already: the SDKs are told not to spend more on their own.
    expect(error.headers?.get('x-should-retry')).toBe('false');
    expect(calls() - from).toBe(2);
    const record = lastRecord();
    expect(record.status).toBe(502);
    expect(record.credits).toBeCloseTo(0.2, 5);
    expect(record.repairs.some((r) => r.startsWith('structured output: the second answer was not usable either'))).toBe(true);

    // Streamed, with a fast upstream: still a real HTTP error, nothing was committed.
    h.upstream.scriptNext(proseJsonReply(BAD), proseJsonReply(BAD));
    const streamed = await failureOf(
      anthropic.messages
        .stream({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: 'Weather?' }], output_config: { format } })
        .finalMessage(),
      Anthropic.APIError,
    );
    expect(streamed.status).toBe(502);
  });

  it('wrong twice on a stream that pings committed: the in-stream error, and no unvalidated text', async () => {
    h.bridge.updateConfig({ pingIntervalSeconds: 0.05 });
    try {
      const slowBad = (name: string) => ({ name, steps: [{ delayMs: 150 }, { text: `Here: ${JSON.stringify(BAD)}` }] });
      h.upstream.scriptNext(slowBad('bad-1'), slowBad('bad-2'));
      const response = await fetch(`${h.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': TEST_API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          max_tokens: 1024,
          stream: true,
          messages: [{ role: 'user', content: 'Weather?' }],
          output_config: { format: { type: 'json_schema', schema: WEATHER } },
        }),
      });
      expect(response.status).toBe(200);
      const events = await sseEvents(response);
      const names = events.map((e) => e.event);
      expect(names[0]).toBe('message_start');
      expect(names).toContain('ping');
      expect(names).not.toContain('content_block_delta');
      expect(names.at(-1)).toBe('error');
      expect(events.at(-1)!.data).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    } finally {
      h.bridge.updateConfig({ pingIntervalSeconds: 15 });
    }
  });

  it('a turn that calls a tool ends as usual, without validation, and without its side remark', async () => {
    const from = calls();
    h.upstream.scriptNext(toolReply({ name: 'get_weather', input: { city: 'Paris' } }, { text: 'Let me look that up.' }));
    const message = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      ],
      output_config: { format },
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([expect.objectContaining({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } })]);
    expect(calls() - from).toBe(1);
    expect(lastRecord().repairs.some((r) => r.includes('text beside the tool call') && r.includes('dropped'))).toBe(true);
  });

  it('with the web search server tool: a clear 400 (that path cannot validate), before anything is called', async () => {
    const from = calls();
    const error = await failureOf(
      anthropic.messages.create({
        model: MODEL,
        max_tokens: 1024,
        messages: [{ role: 'user', content: 'Weather in Paris, from the web?' }],
        tools: [{ type: 'web_search_20250305', name: 'web_search' }],
        output_config: { format },
      }),
      Anthropic.BadRequestError,
    );
    expect(error.message).toContain('output_config.format: structured output cannot be combined with the web search tool');
    expect(calls()).toBe(from);
  });

  it('a schema that is not JSON Schema is a 400 naming the field, before Kiro is called', async () => {
    const from = calls();
    const error = await failureOf(
      anthropic.messages.create({
        model: MODEL,
        max_tokens: 64,
        messages: [{ role: 'user', content: 'x' }],
        output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'colour' } } } } },
      }),
      Anthropic.BadRequestError,
    );
    expect(error.message).toContain('output_config.format.schema: the schema is not valid JSON Schema');
    expect(calls()).toBe(from);
  });
});

// ---- OpenAI Chat Completions ----------------------------------------------------------------

describe('OpenAI Chat Completions: response_format', () => {
  const responseFormat = {
    type: 'json_schema' as const,
    json_schema: { name: 'weather', schema: WEATHER as unknown as Record<string, unknown>, strict: true },
  };

  it('chat.completions.parse reads the JSON the bridge took out of prose', async () => {
    h.upstream.scriptNext(proseJsonReply(GOOD));
    const completion = await openai.chat.completions.parse({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      response_format: responseFormat,
    });
    const choice = completion.choices[0]!;
    expect(choice.message.parsed).toEqual(GOOD);
    expect(choice.message.content).toBe(JSON.stringify(GOOD));
    expect(choice.finish_reason).toBe('stop');
    expect(systemPromptOf(bodies().at(-1)!)).toContain('named "weather"');
  });

  it('streamed, with a retry: only the validated JSON is streamed, and usage covers both attempts', async () => {
    const from = calls();
    h.upstream.scriptNext(fencedJsonReply(BAD), proseJsonReply(GOOD));
    const stream = openai.chat.completions.stream({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      response_format: responseFormat,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    stream.on('content.delta', ({ delta }) => deltas.push(delta));
    const completion = await stream.finalChatCompletion();
    // The stream helper parses only zod-made formats; the content is the JSON either way.
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual(GOOD);
    expect(deltas.join('')).toBe(JSON.stringify(GOOD));
    expect(deltas.some((d) => d.includes('Sure') || d.includes('```'))).toBe(false);
    expectCorrectiveRetry(from, '"temperature": "warm"', BAD_TEMPERATURE);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(20);
    expect(lastRecord().outputTokens).toBe(completion.usage!.completion_tokens);
  });

  it('json_object: any JSON object; an array is not one, and is corrected', async () => {
    h.upstream.scriptNext(textReply('```json\n[1, 2, 3]\n```'), textReply('{"numbers": [1, 2, 3]}'));
    const completion = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Three numbers as JSON' }],
      response_format: { type: 'json_object' },
    });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ numbers: [1, 2, 3] });
    expect(String(currentMessage(bodies().at(-1)!).content)).toContain('(root): must be a JSON object');
  });

  it('wrong twice: 502 server_error with code invalid_structured_output', async () => {
    h.upstream.scriptNext(proseJsonReply(BAD), proseJsonReply(BAD));
    const error = await failureOf(
      openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Weather?' }], response_format: responseFormat }),
      APIError,
    );
    expect(error.status).toBe(502);
    expect(error.type).toBe('server_error');
    expect(error.code).toBe('invalid_structured_output');
    expect(error.headers?.get('x-should-retry')).toBe('false');
    expect(error.message).toContain(BAD_TEMPERATURE);
  });

  it("an answer cut at Kiro's output limit is length-finished JSON, which the SDK reports as such", async () => {
    h.upstream.scriptNext(exceptionReply('ContentLengthExceededException', 'Output too long', { text: 'Here:\n```json\n{"city": "Par' }));
    const completion = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather?' }],
      response_format: responseFormat,
    });
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.choices[0]!.message.content).toBe('{"city": "Par');

    h.upstream.scriptNext(exceptionReply('ContentLengthExceededException', 'Output too long', { text: '{"city": "Par' }));
    await failureOf(
      openai.chat.completions.parse({ model: MODEL, messages: [{ role: 'user', content: 'Weather?' }], response_format: responseFormat }),
      LengthFinishReasonError,
    );
  });
});

// ---- OpenAI Responses ----------------------------------------------------------------------

describe('OpenAI Responses: text.format', () => {
  const textFormat = { format: { type: 'json_schema' as const, name: 'weather', schema: WEATHER as unknown as Record<string, unknown>, strict: true } };

  it('responses.parse reads the JSON, and the response echoes the format', async () => {
    h.upstream.scriptNext(fencedJsonReply(GOOD));
    const response = await openai.responses.parse({ model: MODEL, input: 'Weather in Paris?', text: textFormat });
    expect(response.output_parsed).toEqual(GOOD);
    expect(response.output_text).toBe(JSON.stringify(GOOD, null, 2));
    expect(response.text?.format).toMatchObject({ type: 'json_schema', name: 'weather' });
  });

  it('streamed with a retry: the output_text deltas are the validated JSON only', async () => {
    const from = calls();
    h.upstream.scriptNext(textReply('The weather is lovely in Paris today.'), fencedJsonReply(GOOD));
    const stream = openai.responses.stream({ model: MODEL, input: 'Weather in Paris?', text: textFormat });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const response = await stream.finalResponse();
    expect(response.status).toBe('completed');
    // The stream helper parses only zod-made formats; the text is the JSON either way.
    expect(deltas.join('')).toBe(JSON.stringify(GOOD, null, 2));
    expect(JSON.parse(deltas.join(''))).toEqual(GOOD);
    expectCorrectiveRetry(from, 'The weather is lovely', 'the answer contains no JSON object or array');
  });

  it('wrong twice, streamed after pings: an error event and response.failed with the code', async () => {
    h.bridge.updateConfig({ pingIntervalSeconds: 0.05 });
    try {
      const slowBad = (name: string) => ({ name, steps: [{ delayMs: 150 }, { text: JSON.stringify(BAD) }] });
      h.upstream.scriptNext(slowBad('bad-1'), slowBad('bad-2'));
      const response = await fetch(`${h.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, input: 'Weather?', stream: true, text: textFormat }),
      });
      expect(response.status).toBe(200);
      const events = await sseEvents(response);
      const names = events.map((e) => e.event);
      expect(names.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
      expect(names).not.toContain('response.output_text.delta');
      expect(names.slice(-2)).toEqual(['error', 'response.failed']);
      expect(events.at(-1)!.data).toMatchObject({ response: { status: 'failed', error: { code: 'invalid_structured_output' } } });
    } finally {
      h.bridge.updateConfig({ pingIntervalSeconds: 15 });
    }
  });
});

// ---- Vercel AI SDK ---------------------------------------------------------------------------

describe('AI SDK generateObject / streamObject', () => {
  const schema = jsonSchema<Weather>(WEATHER as unknown as Parameters<typeof jsonSchema>[0]);
  const models = (): [string, LanguageModel][] => {
    const anthropicProvider = createAnthropic({ baseURL: `${h.url}/v1`, apiKey: TEST_API_KEY });
    const openaiProvider = createOpenAI({ baseURL: `${h.url}/v1`, apiKey: TEST_API_KEY });
    return [
      ['@ai-sdk/anthropic', anthropicProvider(MODEL)],
      ['@ai-sdk/openai chat', openaiProvider.chat(MODEL)],
      ['@ai-sdk/openai responses', openaiProvider.responses(MODEL)],
    ];
  };

  it('generateObject gets the object on all three APIs, fenced, in prose, or after a retry', async () => {
    const replies = [() => [fencedJsonReply(GOOD)], () => [proseJsonReply(GOOD)], () => [proseJsonReply(BAD), fencedJsonReply(GOOD)]];
    for (const [name, model] of models()) {
      for (const reply of replies) {
        const from = calls();
        const scripted = reply();
        h.upstream.scriptNext(...scripted);
        const result = await generateObject({ model, schema, prompt: 'Weather in Paris?', maxRetries: 0 });
        expect(result.object, name).toEqual(GOOD);
        expect(calls() - from, name).toBe(scripted.length);
        // The bridge read the request's format (for @ai-sdk/anthropic: output_config.format, not
        // a forced "json" tool, which would leave the schema out of the system prompt).
        expect(systemPromptOf(bodies().at(-1)!), name).toContain('"enum":["sunny","cloudy","rain"]');
        expect(currentMessage(bodies().at(-1)!).userInputMessageContext?.tools, name).toBeUndefined();
      }
    }
  });

  it('streamObject streams the validated object on all three APIs', async () => {
    for (const [name, model] of models()) {
      h.upstream.scriptNext(fencedJsonReply(GOOD));
      const result = streamObject({ model, schema, prompt: 'Weather in Paris?', maxRetries: 0 });
      const partials: unknown[] = [];
      for await (const partial of result.partialObjectStream) partials.push(partial);
      expect(await result.object, name).toEqual(GOOD);
      expect(partials.at(-1), name).toEqual(GOOD);
    }
  });

  it('wrong twice: generateObject fails with the API call error (502), on all three APIs', async () => {
    for (const [name, model] of models()) {
      h.upstream.scriptNext(proseJsonReply(BAD), proseJsonReply(BAD));
      const error = await failureOf(generateObject({ model, schema, prompt: 'Weather?', maxRetries: 0 }), APICallError);
      expect(error.statusCode, name).toBe(502);
      expect(error.message, name).toContain('also after one retry');
    }
  });
});
