// The official `openai` package against the bridge's /v1/chat/completions and the fake Kiro
// upstream: plain and streamed answers, tool round trips, parallel calls, images, reasoning, the
// usage chunk, pings, every error mapping, and a stream cut in the middle.
import OpenAI, { APIError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { beforeEach, describe, expect, it } from 'vitest';
import { cutReply, exceptionReply, textReply, thinkingReply, toolReply, upstreamErrors, type KiroGenerateBody, type Scenario } from '../support/fake-upstream';
import { failureOf } from '../support/failure';
import { TEST_API_KEY, currentMessage, eventually, startHarness, useHarness, type Harness } from './harness';

// A 2×3 red PNG.
const PNG_2X3 = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAEklEQVR4nGP4z8DAwMDAxAAAJAYBA+o3uu8AAAAASUVORK5CYII=';
const MODEL = 'claude-sonnet-4-5';

let h: Harness;
let openai: OpenAI;
useHarness((harness) => {
  h = harness;
  openai = harness.openai();
});

beforeEach(() => {
  h.upstream.clearScripts();
});

const sent = () => h.lastKiroBody();
const current = (body: KiroGenerateBody = sent()) => currentMessage(body);

/** The failure a call ends in. */
const failure = (promise: Promise<unknown>) => failureOf(promise, APIError);

const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
    strict: true,
  },
};

describe('chat completions: text', () => {
  it('answers a plain request with a full chat.completion and usage', async () => {
    h.upstream.scriptNext(textReply('Paris is the capital of France.', { chunks: 3 }));
    const completion = await openai.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'system', content: 'Answer in one sentence.' },
        { role: 'user', content: 'What is the capital of France?' },
      ],
      max_completion_tokens: 200,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe(MODEL);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'Paris is the capital of France.' });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(5);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(3);
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);

    expect(current().modelId).toBe('claude-sonnet-4.5');
    expect(current().content).toContain('What is the capital of France?');
    expect(JSON.stringify(sent().conversationState!.history)).toContain('Answer in one sentence.');

    const record = h.finished.at(-1)!;
    expect(record).toMatchObject({
      api: 'openai',
      path: '/v1/chat/completions',
      status: 200,
      stream: false,
      modelAsked: MODEL,
      kiroModel: 'claude-sonnet-4.5',
      stopReason: 'end_turn',
      client: 'OpenAI SDK (JS)',
    });
  });

  it('streams chat.completion.chunk objects: role first, content deltas, finish, [DONE]', async () => {
    // frames apart in time, so each goes out as its own delta (a burst is joined into one)
    h.upstream.scriptNext(textReply('Hello there, streaming world.', { chunks: 4, frameDelayMs: 15 }));
    const stream = await openai.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'Say hello' }] });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id && c.model === MODEL)).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Hello there, streaming world.');
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThanOrEqual(2);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null)).toBe(true);

    // the raw wire: data lines only, ending in [DONE]
    h.upstream.scriptNext(textReply('raw'));
    const response = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    const raw = await response.text();
    expect(raw).not.toMatch(/^event:/m);
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('sends the usage chunk when stream_options.include_usage is set', async () => {
    h.upstream.scriptNext(textReply('counted', { contextUsage: 10, metering: 0.5 }));
    const stream = await openai.chat.completions.create({
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    // 10 % of Sonnet 4.5's 200K window
    expect(last.usage).toMatchObject({ prompt_tokens: 20_000, completion_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    const record = h.finished.at(-1)!;
    expect(record).toMatchObject({ inputTokens: 20_000, credits: 0.5, stream: true });

    // and none without it
    h.upstream.scriptNext(textReply('uncounted'));
    const plain = await openai.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const plainChunks: ChatCompletionChunk[] = [];
    for await (const chunk of plain) plainChunks.push(chunk);
    expect(plainChunks.every((c) => c.choices.length === 1 && c.usage === undefined)).toBe(true);
  });

  it('sends SSE comment pings while the upstream is silent, never fake chunks', async () => {
    h.bridge.updateConfig({ pingIntervalSeconds: 0.1 });
    try {
      h.upstream.scriptNext({ name: 'late', steps: [{ delayMs: 450 }, { text: 'finally' }] });
      const response = await fetch(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'wait' }] }),
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      const frames = text.split('\n\n').filter(Boolean);
      expect(frames.filter((f) => f === ': ping').length).toBeGreaterThanOrEqual(2);
      // the role chunk may open the stream; the pings come before any content
      const firstContent = frames.findIndex((f) => f.includes('"content":"finally"'));
      expect(frames.indexOf(': ping')).toBeLessThan(firstContent);
      expect(
        frames.filter((f) => f.startsWith('data: {')).every((f) => (JSON.parse(f.slice(6)) as { object: string }).object === 'chat.completion.chunk'),
      ).toBe(true);
      expect(frames.at(-1)).toBe('data: [DONE]');
    } finally {
      h.bridge.updateConfig({ pingIntervalSeconds: 15 });
    }
  });

  it('stop sequences end the text and finish with stop', async () => {
    h.upstream.scriptNext(textReply('one two STOP three four', { chunks: 5 }));
    const completion = await openai.chat.completions.create({ model: MODEL, stop: ['STOP'], messages: [{ role: 'user', content: 'count' }] });
    expect(completion.choices[0]!.message.content).toBe('one two ');
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(h.finished.at(-1)!.stopReason).toBe('stop_sequence');
  });

  it("Kiro's output limit is finish_reason length", async () => {
    h.upstream.scriptNext(exceptionReply('ContentLengthExceededException', 'too long', { text: 'The beginning of a long' }));
    const completion = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'write a lot' }] });
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'The beginning of a long' } });
    expect(h.finished.at(-1)!.flags.truncated).toBe(true);
  });
});

describe('chat completions: tools', () => {
  it('completes a tool round trip, the tool message paired with the call it answers', async () => {
    h.upstream.scriptNext(toolReply({ name: 'get_weather', input: { city: 'Paris' } }, { text: 'Let me check.' }));
    const first = await openai.chat.completions.create({ model: MODEL, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe('Let me check.');
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    if (call.type !== 'function') throw new Error('not a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    const spec = current().userInputMessageContext!.tools![0]!.toolSpecification!;
    expect(spec.name).toBe('get_weather');
    // strict-mode keywords Kiro does not need are cleaned away; the schema's meaning stays
    expect(JSON.stringify(spec.inputSchema)).toContain('"city"');

    h.upstream.scriptNext(textReply('It is sunny in Paris.'));
    const second = await openai.chat.completions.create({
      model: MODEL,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather in Paris?' }, choice.message, { role: 'tool', tool_call_id: call.id, content: '22°C and sunny' }],
    });
    expect(second.choices[0]!.message.content).toBe('It is sunny in Paris.');
    expect(current().userInputMessageContext!.toolResults).toEqual([{ toolUseId: call.id, content: [{ text: '22°C and sunny' }], status: 'success' }]);
    const assistant = sent()
      .conversationState!.history!.map((e) => e.assistantResponseMessage)
      .filter(Boolean)
      .at(-1)!;
    expect(assistant.toolUses).toEqual([{ toolUseId: call.id, name: 'get_weather', input: { city: 'Paris' } }]);
    // paired as sent: nothing had to be reshaped (placeholders for empty content are routine)
    expect(h.finished.at(-1)!.repairs.filter((r) => /orphan|unanswered|merged|duplicate|misplaced/.test(r))).toEqual([]);
  });

  it('streams parallel tool calls with their own indexes, each whole, and takes both results back', async () => {
    h.upstream.scriptNext(
      toolReply(
        [
          { name: 'get_weather', input: { city: 'Paris' }, fragments: 4 },
          { name: 'get_weather', input: { city: 'Tokyo' }, fragments: 2 },
        ],
        { frameDelayMs: 15 },
      ),
    );
    const stream = openai.chat.completions.stream({
      model: MODEL,
      tools: [weatherTool],
      parallel_tool_calls: true,
      messages: [{ role: 'user', content: 'Paris and Tokyo?' }],
    });
    const fragments: { index: number; arguments: string }[] = [];
    stream.on('chunk', (chunk) => {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? [])
        if (call.function?.arguments) fragments.push({ index: call.index, arguments: call.function.arguments });
    });
    const completion = await stream.finalChatCompletion();
    const calls = completion.choices[0]!.message.tool_calls!;
    expect(calls.map((c) => (c.type === 'function' ? JSON.parse(c.function.arguments) : null))).toEqual([{ city: 'Paris' }, { city: 'Tokyo' }]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    // each call's arguments arrived whole (once Kiro completed the call), tagged with its index
    expect(fragments).toEqual([
      { index: 0, arguments: '{"city":"Paris"}' },
      { index: 1, arguments: '{"city":"Tokyo"}' },
    ]);

    h.upstream.scriptNext(textReply('Both done.'));
    await openai.chat.completions.create({
      model: MODEL,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Paris and Tokyo?' },
        { role: 'assistant', content: null, tool_calls: calls },
        { role: 'tool', tool_call_id: calls[0]!.id, content: 'sunny' },
        { role: 'tool', tool_call_id: calls[1]!.id, content: [{ type: 'text', text: 'rain' }] },
      ],
    });
    expect(current().userInputMessageContext!.toolResults!.map((r) => [r.toolUseId, r.content])).toEqual([
      [calls[0]!.id, [{ text: 'sunny' }]],
      [calls[1]!.id, [{ text: 'rain' }]],
    ]);
  });

  it('tool_choice: required → Kiro is asked to use a tool; a named function too', async () => {
    h.upstream.scriptNext(toolReply({ name: 'get_weather', input: { city: 'Rome' } }));
    const completion = await openai.chat.completions.create({
      model: MODEL,
      tools: [weatherTool],
      tool_choice: 'required',
      messages: [{ role: 'user', content: 'Rome' }],
    });
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(sent().conversationState!.chatTriggerType).toBe('AUTO');
    h.upstream.scriptNext(toolReply({ name: 'get_weather', input: { city: 'Oslo' } }));
    await openai.chat.completions.create({
      model: MODEL,
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      messages: [{ role: 'user', content: 'Oslo' }],
    });
    expect(sent().conversationState!.chatTriggerType).toBe('AUTO');
  });
});

describe('chat completions: images and reasoning', () => {
  it('sends data-URL images to Kiro', async () => {
    h.upstream.scriptNext(textReply('A red rectangle.'));
    const completion = await openai.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_2X3}`, detail: 'auto' } },
          ],
        },
      ],
    });
    expect(completion.choices[0]!.message.content).toBe('A red rectangle.');
    expect(current().images).toEqual([{ format: 'png', source: { bytes: PNG_2X3 } }]);
  });

  it('refuses a remote image URL with a clear 400 naming the field', async () => {
    const calls = h.upstream.generateRequests.length;
    const error = await failure(
      openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }],
      }),
    );
    expect(error.status).toBe(400);
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe('messages[0].content[0].image_url.url');
    expect(error.message).toMatch(/data URL/);
    expect(h.upstream.generateRequests.length).toBe(calls);
  });

  it('reasoning_effort turns thinking on and the reasoning comes back as reasoning_content', async () => {
    h.upstream.scriptNext(thinkingReply('6 times 7 is 42.', 'The answer is 42.', { chunks: 3 }));
    const stream = await openai.chat.completions.create({
      model: MODEL,
      stream: true,
      reasoning_effort: 'high',
      messages: [{ role: 'user', content: 'What is 6×7?' }],
    });
    let reasoning = '';
    let content = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? '';
      content += delta?.content ?? '';
    }
    expect(reasoning).toBe('6 times 7 is 42.');
    expect(content).toBe('The answer is 42.');
    expect(JSON.stringify(sent())).toContain('<max_thinking_length>32000</max_thinking_length>');

    h.upstream.scriptNext(thinkingReply('Considering.', 'Done.'));
    const completion = await openai.chat.completions.create({ model: 'claude-sonnet-4-5-thinking', messages: [{ role: 'user', content: 'go' }] });
    expect(completion.choices[0]!.message).toMatchObject({ content: 'Done.', reasoning_content: 'Considering.' });
    expect(completion.model).toBe('claude-sonnet-4-5-thinking');
    expect(completion.usage!.completion_tokens_details!.reasoning_tokens).toBeGreaterThan(0);
    expect(JSON.stringify(sent())).toContain('<thinking_mode>enabled</thinking_mode>');

    // reasoning_effort "none" wins over the model name
    h.upstream.scriptNext(textReply('Quick.'));
    await openai.chat.completions.create({
      model: 'claude-sonnet-4-5-thinking',
      reasoning_effort: 'none' as never,
      messages: [{ role: 'user', content: 'go' }],
    });
    expect(JSON.stringify(sent())).not.toContain('<thinking_mode>');
  });
});

describe('chat completions: errors in OpenAI shape', () => {
  const ask = (extra: Record<string, unknown> = {}, client = openai) =>
    client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], ...extra });

  /**
   * A bridge and upstream of their own, answering every call with `error`: the account pool
   * remembers what a failure says about an account (exhausted, cooling down, suspended, lacking
   * a model) and may retry transient ones, so each mapping is checked on a fresh account.
   */
  async function isolated(error: Scenario): Promise<{ error: APIError; local: Harness }> {
    const local = await startHarness();
    try {
      local.upstream.script(error);
      const client = local.openai();
      return { error: await failure(ask({}, client)), local };
    } finally {
      await local.close();
    }
  }

  it('prompt too long → 400 context_length_exceeded', async () => {
    const { error } = await isolated(upstreamErrors.contentLengthExceeded());
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.code).toBe('context_length_exceeded');
    expect(error.param).toBe('messages');
  });

  it('quota used up → 429 insufficient_quota', async () => {
    const { error } = await isolated(upstreamErrors.monthlyLimit());
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe('insufficient_quota');
    expect(error.type).toBe('insufficient_quota');
  });

  it('throttling → 429 rate_limit_exceeded with retry-after', async () => {
    const { error } = await isolated(upstreamErrors.throttled(7));
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.headers?.get('retry-after')).toBe('7');
    expect(error.message).toMatch(/try again in 7s/);
  });

  it('a model the account lacks → 404 model_not_found; an unknown name too, listing the known ones', async () => {
    const { error: tier } = await isolated(upstreamErrors.invalidModel());
    expect(tier).toBeInstanceOf(OpenAI.NotFoundError);
    expect(tier.code).toBe('model_not_found');
    const calls = h.upstream.generateRequests.length;
    const unknown = await failure(ask({ model: 'gpt-imaginary-9' }));
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.code).toBe('model_not_found');
    expect(unknown.param).toBe('model');
    expect(unknown.message).toContain('claude-sonnet-4-5');
    expect(h.upstream.generateRequests.length).toBe(calls);
  });

  it('a malformed-request 400 from Kiro → 400 invalid_request_error', async () => {
    const { error } = await isolated(upstreamErrors.improperlyFormed());
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.type).toBe('invalid_request_error');
    expect(error.headers?.get('x-should-retry')).toBe('false');
  });

  it('suspended account → 403; upstream 5xx → 502; capacity → 503', async () => {
    expect((await isolated(upstreamErrors.suspended())).error.status).toBe(403);
    const server = (await isolated(upstreamErrors.internal())).error;
    expect(server.status).toBe(502);
    expect(server.type).toBe('server_error');
    const capacity = (await isolated(upstreamErrors.insufficientCapacity())).error;
    expect(capacity.status).toBe(503);
    expect(capacity.code).toBe('overloaded');
  });

  it('a rejected token is refreshed once and the call retried, invisibly', async () => {
    h.upstream.scriptNext(upstreamErrors.bearerInvalid(), textReply('after refresh'));
    const completion = await ask();
    expect(completion.choices[0]!.message.content).toBe('after refresh');
    expect(h.finished.at(-1)!.attempts.map((a) => a.errorClass ?? 'ok')).toEqual(['token_expired', 'ok']);
  });

  it('n > 1 and audio output are refused before Kiro is called', async () => {
    const calls = h.upstream.generateRequests.length;
    const n = await failure(ask({ n: 2 }));
    expect(n.status).toBe(400);
    expect(n.param).toBe('n');
    const audio = await failure(ask({ modalities: ['text', 'audio'] }));
    expect(audio.param).toBe('modalities');
    expect(h.upstream.generateRequests.length).toBe(calls);
  });

  it('bridge refusals are OpenAI-shaped too: bad key, bad JSON, unknown route', async () => {
    const badKey = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'kb-wrong', maxRetries: 0 });
    const auth = await failure(badKey.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }));
    expect(auth).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(auth.code).toBe('invalid_api_key');

    const response = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: '{"model": "x", ',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { type: string; message: string; param: unknown; code: unknown } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/not valid JSON/);
    expect(body.error).toHaveProperty('param');
    expect(body.error).toHaveProperty('code');

    // a base URL without /v1: an OpenAI-shaped 404 that says what to fix
    const noV1 = new OpenAI({ baseURL: h.url, apiKey: TEST_API_KEY, maxRetries: 0 });
    const missing = await failure(noV1.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }));
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing.code).toBe('unknown_url');
    expect(missing.message).toMatch(/did you mean \/v1\/chat\/completions\?/);
  });
});

describe('chat completions: a stream that breaks', () => {
  it('a cut mid-stream ends in an error chunk the SDK raises, never a normal finish', async () => {
    h.upstream.scriptNext(cutReply('This answer will be cut off in the middle.', 4, 2));
    const stream = openai.chat.completions.stream({ model: MODEL, messages: [{ role: 'user', content: 'go' }] });
    let seen = '';
    stream.on('content', (delta) => (seen += delta));
    const error = await failure(stream.finalChatCompletion());
    expect(error.type).toBe('server_error');
    expect(seen.length).toBeGreaterThan(0);
    expect('This answer will be cut off in the middle.'.startsWith(seen)).toBe(true);
    await eventually(() => h.finished.at(-1)?.path === '/v1/chat/completions' && h.finished.at(-1)?.error !== undefined, 5000, 'the record');
    expect(h.finished.at(-1)!.status).toBe(200);

    // the wire: the error chunk, and no finish_reason or [DONE]
    h.upstream.scriptNext(cutReply('Cut again here, once more for the raw view.', 4, 2));
    const response = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'go' }] }),
    });
    const raw = await response.text();
    const payloads = raw
      .split('\n\n')
      .filter((f) => f.startsWith('data: '))
      .map((f) => f.slice(6));
    expect(payloads).not.toContain('[DONE]');
    const last = JSON.parse(payloads.at(-1)!) as { error?: { type: string; code: string } };
    expect(last.error).toMatchObject({ type: 'server_error' });
    expect(raw).not.toMatch(/"finish_reason":"stop"/);
  });

  it('an exception frame mid-stream reaches the client with its mapped code', async () => {
    h.upstream.scriptNext(exceptionReply('ThrottlingException', 'Too many requests', { text: 'partial' }));
    const stream = openai.chat.completions.stream({ model: MODEL, messages: [{ role: 'user', content: 'go' }] });
    const error = await failure(stream.finalChatCompletion());
    expect(error.code).toBe('rate_limit_exceeded');
  });

  it('a client that goes away aborts the upstream call', async () => {
    h.upstream.scriptNext({ name: 'slow', frameDelayMs: 200, steps: [{ text: 'one two three four five six seven eight', chunks: 8 }] });
    const controller = new AbortController();
    const stream = await openai.chat.completions.create(
      { model: MODEL, stream: true, messages: [{ role: 'user', content: 'go' }] },
      { signal: controller.signal },
    );
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) {
        controller.abort();
        break;
      }
    }
    await h.upstream.waitFor((r) => r.endpoint === 'generate' && r.outcome === 'aborted');
    await eventually(() => h.finished.at(-1)?.status === 499, 5000, 'the 499 record');
  });
});
