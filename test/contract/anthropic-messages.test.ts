// The official @anthropic-ai/sdk against the bridge and the fake Kiro upstream: text, streaming,
// tools, images, thinking, stop sequences, count_tokens, models.
import Anthropic, { type BadRequestError } from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { beforeEach, describe, expect, it } from 'vitest';
import { UUID_V4 } from '../../src/kiro/request/ids';
import { slowReply, textReply, thinkingReply, toolReply, type KiroGenerateBody } from '../support/fake-upstream';
import { TEST_API_KEY, currentMessage, useHarness, type Harness } from './harness';

// A 2×3 red PNG (real header, so the image token estimate reads its size).
const PNG_2X3 = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAEklEQVR4nGP4z8DAwMDAxAAAJAYBA+o3uu8AAAAASUVORK5CYII=';

const MODEL = 'claude-sonnet-4-6';

let h: Harness;
useHarness((harness) => (h = harness));

beforeEach(() => {
  h.upstream.clearScripts();
});

const current = currentMessage;

describe('text', () => {
  it('answers a plain request with the full message object', async () => {
    h.upstream.scriptNext(textReply('Paris is the capital of France.', { chunks: 3 }));
    const message = await h.client.messages.create({
      model: MODEL,
      max_tokens: 256,
      system: 'Answer in one sentence.',
      messages: [{ role: 'user', content: 'What is the capital of France?' }],
    });
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.id).toMatch(/^msg_/);
    expect(message.model).toBe(MODEL);
    expect(message.content).toEqual([{ type: 'text', text: 'Paris is the capital of France.' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBeGreaterThan(5);
    expect(message.usage.output_tokens).toBeGreaterThan(3);

    const sent = h.upstream.lastGenerate();
    const body = sent.body as KiroGenerateBody;
    expect(current(body).modelId).toBe('claude-sonnet-4.6');
    expect(current(body).content).toContain('What is the capital of France?');
    expect(JSON.stringify(body.conversationState!.history)).toContain('Answer in one sentence.');
    expect(body.profileArn).toBe(h.upstream.account.profileArn);
  });

  it('sends the documented client headers with a stable per-account machineId', async () => {
    await h.client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'one' }] });
    await h.client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'two' }] });
    const [a, b] = h.upstream.generateRequests.slice(-2).map((r) => r.headers);
    for (const headers of [a!, b!]) {
      expect(headers['content-type']).toBe('application/json');
      expect(headers['x-amzn-codewhisperer-optout']).toBe('true');
      expect(headers['x-amzn-kiro-agent-mode']).toBe('vibe');
      expect(headers['amz-sdk-request']).toBe('attempt=1; max=3');
      expect(headers['amz-sdk-invocation-id']).toMatch(UUID_V4);
      expect(headers.authorization).toMatch(/^Bearer aoa/);
      expect(headers['x-amz-user-agent']).toMatch(/^aws-sdk-js\/[\d.]+ KiroIDE-[\d.]+-[0-9a-f]{64}$/);
      expect(headers['user-agent']).toContain(`KiroIDE-`);
      expect(headers['user-agent']).toContain(h.account.machineId);
    }
    expect(a!['amz-sdk-invocation-id']).not.toBe(b!['amz-sdk-invocation-id']);
    expect(a!['x-amz-user-agent']).toBe(b!['x-amz-user-agent']);
  });

  it('streams the exact Anthropic event sequence', async () => {
    h.upstream.scriptNext(textReply('Hello there, streaming world.', { chunks: 4 }));
    const stream = await h.client.messages.create({
      model: MODEL,
      max_tokens: 128,
      stream: true,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types.slice(2, -3).every((t) => t === 'content_block_delta')).toBe(true);
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const text = events
      .filter((e): e is Anthropic.RawContentBlockDeltaEvent => e.type === 'content_block_delta')
      .map((e) => (e.delta.type === 'text_delta' ? e.delta.text : ''))
      .join('');
    expect(text).toBe('Hello there, streaming world.');
    const start = events[0] as Anthropic.RawMessageStartEvent;
    expect(start.message.usage.input_tokens).toBeGreaterThan(0);
    const delta = events.at(-2) as Anthropic.RawMessageDeltaEvent;
    expect(delta.delta.stop_reason).toBe('end_turn');
    expect(delta.usage.output_tokens).toBeGreaterThan(0);
  });

  it('forwards each upstream frame as it arrives', async () => {
    h.upstream.scriptNext(slowReply('alpha beta gamma delta', 4, 150));
    const stream = h.client.messages.stream({ model: MODEL, max_tokens: 128, messages: [{ role: 'user', content: 'drip' }] });
    const framesSentAtEachDelta: number[] = [];
    stream.on('text', () => framesSentAtEachDelta.push(h.upstream.lastGenerate().framesSent));
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'alpha beta gamma delta' }]);
    // The first delta reached the client while the upstream was still sending.
    expect(framesSentAtEachDelta.length).toBeGreaterThanOrEqual(2);
    expect(framesSentAtEachDelta[0]).toBeLessThan(4);
  });

  it('sends ping events while the upstream is silent', async () => {
    h.bridge.updateConfig({ pingIntervalSeconds: 0.1 });
    try {
      h.upstream.scriptNext({ name: 'late', steps: [{ delayMs: 450 }, { text: 'finally' }] });
      const response = await fetch(`${h.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': TEST_API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'wait' }] }),
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
      expect(events[0]).toBe('message_start');
      expect(events.filter((e) => e === 'ping').length).toBeGreaterThanOrEqual(2);
      expect(events.indexOf('ping')).toBeLessThan(events.indexOf('content_block_start'));
      expect(events.at(-1)).toBe('message_stop');
    } finally {
      h.bridge.updateConfig({ pingIntervalSeconds: 15 });
    }
  });

  it('ignores unknown fields and accepts anthropic-version / anthropic-beta headers', async () => {
    h.upstream.scriptNext(textReply('fine'));
    const response = await fetch(`${h.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_API_KEY}`,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14',
      },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 32,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }],
        temperature: 0.2,
        top_k: 5,
        metadata: { user_id: 'user_abc' },
        service_tier: 'auto',
        some_future_field: { anything: true },
      }),
    });
    expect(response.status).toBe(200);
    const message = (await response.json()) as Anthropic.Message;
    expect(message.content).toEqual([{ type: 'text', text: 'fine' }]);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
  });

  it('keeps one conversation id per metadata.user_id session', async () => {
    const ask = (user: string) =>
      h.client.messages.create({ model: MODEL, max_tokens: 16, metadata: { user_id: user }, messages: [{ role: 'user', content: 'x' }] });
    await ask('user_1_session_aaaa');
    const first = (h.upstream.lastGenerate().body as KiroGenerateBody).conversationState!.conversationId;
    await ask('user_1_session_aaaa');
    const second = (h.upstream.lastGenerate().body as KiroGenerateBody).conversationState!.conversationId;
    await ask('user_2_session_bbbb');
    const third = (h.upstream.lastGenerate().body as KiroGenerateBody).conversationState!.conversationId;
    expect(first).toMatch(UUID_V4);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
  });

  it('reports Kiro context usage as input tokens and metering as credits', async () => {
    h.upstream.scriptNext(textReply('measured', { contextUsage: 10, metering: 0.25 }));
    const message = await h.client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    // 10 % of Sonnet 4.5's 200K window.
    expect(message.usage.input_tokens).toBe(20_000);
    const record = h.finished.at(-1)!;
    expect(record.credits).toBe(0.25);
    expect(record.inputTokens).toBe(20_000);
  });
});

describe('tools', () => {
  const weatherTool: Anthropic.Tool = {
    name: 'get_weather',
    description: 'Current weather for a city',
    input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  };

  it('completes a tool-use round trip', async () => {
    h.upstream.scriptNext(toolReply({ name: 'get_weather', input: { city: 'Paris' } }, { text: 'Let me check.' }));
    const first = await h.client.messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content[0]).toEqual({ type: 'text', text: 'Let me check.' });
    const call = first.content[1] as Anthropic.ToolUseBlock;
    expect(call.type).toBe('tool_use');
    expect(call.name).toBe('get_weather');
    expect(call.input).toEqual({ city: 'Paris' });
    const tools = current(h.upstream.lastGenerate().body as KiroGenerateBody).userInputMessageContext!.tools!;
    expect(tools.map((t) => t.toolSpecification!.name)).toEqual(['get_weather']);

    h.upstream.scriptNext(textReply('It is sunny in Paris.'));
    const second = await h.client.messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '22°C and sunny' }] },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'It is sunny in Paris.' }]);
    expect(second.stop_reason).toBe('end_turn');
    const body = h.upstream.lastGenerate().body as KiroGenerateBody;
    const results = current(body).userInputMessageContext!.toolResults!;
    expect(results).toEqual([{ toolUseId: call.id, content: [{ text: '22°C and sunny' }], status: 'success' }]);
    const assistant = body
      .conversationState!.history!.map((e) => e.assistantResponseMessage)
      .filter(Boolean)
      .at(-1)!;
    expect(assistant.toolUses).toEqual([{ toolUseId: call.id, name: 'get_weather', input: { city: 'Paris' } }]);
  });

  it('streams parallel tool calls as separate blocks, each whole, and takes both results back', async () => {
    // Paced frames: even so, each call reaches the client in one delta once Kiro has completed it
    // (a call Kiro cuts off is then never half-sent).
    h.upstream.scriptNext(
      toolReply(
        [
          { name: 'get_weather', input: { city: 'Paris' }, fragments: 4 },
          { name: 'get_weather', input: { city: 'Tokyo' }, fragments: 2 },
        ],
        { frameDelayMs: 15 },
      ),
    );
    const stream = h.client.messages.stream({ model: MODEL, max_tokens: 512, tools: [weatherTool], messages: [{ role: 'user', content: 'Paris and Tokyo?' }] });
    const jsonDeltas: string[] = [];
    stream.on('inputJson', (partial) => jsonDeltas.push(partial));
    const message = await stream.finalMessage();
    const calls = message.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(calls.map((c) => c.input)).toEqual([{ city: 'Paris' }, { city: 'Tokyo' }]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(jsonDeltas).toEqual(['{"city":"Paris"}', '{"city":"Tokyo"}']);
    expect(message.stop_reason).toBe('tool_use');

    h.upstream.scriptNext(textReply('Both done.'));
    await h.client.messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Paris and Tokyo?' },
        { role: 'assistant', content: message.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: calls[0]!.id, content: [{ type: 'text', text: 'sunny' }] },
            { type: 'tool_result', tool_use_id: calls[1]!.id, content: 'city not found', is_error: true },
          ],
        },
      ],
    });
    const results = current(h.upstream.lastGenerate().body as KiroGenerateBody).userInputMessageContext!.toolResults!;
    expect(results.map((r) => [r.toolUseId, r.status])).toEqual([
      [calls[0]!.id, 'success'],
      [calls[1]!.id, 'error'],
    ]);
  });

  it('passes tool_choice on (any → the upstream must use a tool)', async () => {
    h.upstream.scriptNext(toolReply({ name: 'get_weather', input: { city: 'Rome' } }));
    const message = await h.client.messages.create({
      model: MODEL,
      max_tokens: 128,
      tools: [weatherTool],
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'Rome' }],
    });
    expect(message.stop_reason).toBe('tool_use');
    expect((h.upstream.lastGenerate().body as KiroGenerateBody).conversationState!.chatTriggerType).toBe('AUTO');
  });
});

describe('images', () => {
  it('sends base64 images to Kiro', async () => {
    h.upstream.scriptNext(textReply('A red square.'));
    const message = await h.client.messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_2X3 } },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'A red square.' }]);
    expect(current(h.upstream.lastGenerate().body as KiroGenerateBody).images).toEqual([{ format: 'png', source: { bytes: PNG_2X3 } }]);
  });

  it('refuses a URL image with a clear 400', async () => {
    const error = await h.client.messages
      .create({
        model: MODEL,
        max_tokens: 64,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } }] }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as BadRequestError).message).toContain('messages.0.content.0.source.type');
    expect((error as BadRequestError).message).toContain('base64');
  });

  it('accepts images inside tool results', async () => {
    h.upstream.scriptNext(textReply('I see the screenshot.'));
    await h.client.messages.create({
      model: MODEL,
      max_tokens: 64,
      tools: [{ name: 'screenshot', description: 'Takes a screenshot', input_schema: { type: 'object', properties: {} } }],
      messages: [
        { role: 'user', content: 'Take a screenshot' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'screenshot', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_01',
              content: [
                { type: 'text', text: 'done' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_2X3 } },
              ],
            },
          ],
        },
      ],
    });
    const sent = current(h.upstream.lastGenerate().body as KiroGenerateBody);
    expect(sent.images).toEqual([{ format: 'png', source: { bytes: PNG_2X3 } }]);
  });
});

describe('thinking', () => {
  it('returns thinking blocks when thinking is enabled', async () => {
    h.upstream.scriptNext(thinkingReply('The user wants a number. 6 times 7 is 42.', 'The answer is 42.'));
    const message = await h.client.messages.create({
      model: MODEL,
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [{ role: 'user', content: 'What is 6×7?' }],
    });
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const thinking = message.content[0] as Anthropic.ThinkingBlock;
    expect(thinking.thinking).toBe('The user wants a number. 6 times 7 is 42.');
    expect(thinking.signature).toBeTruthy();
    expect(message.content[1]).toEqual({ type: 'text', text: 'The answer is 42.' });
    expect(JSON.stringify(h.upstream.lastGenerate().body)).toContain('<max_thinking_length>2048</max_thinking_length>');
  });

  it('turns thinking on for a -thinking model name, streaming thinking deltas', async () => {
    h.upstream.scriptNext(thinkingReply('Considering.', 'Done.', { chunks: 3 }));
    const stream = h.client.messages.stream({ model: 'claude-sonnet-4-5-thinking', max_tokens: 4096, messages: [{ role: 'user', content: 'go' }] });
    let thinkingText = '';
    stream.on('thinking', (delta) => (thinkingText += delta));
    const message = await stream.finalMessage();
    expect(thinkingText).toBe('Considering.');
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect(message.model).toBe('claude-sonnet-4-5-thinking');
    const sent = h.upstream.lastGenerate().body as KiroGenerateBody;
    expect(current(sent).modelId).toBe('claude-sonnet-4.5');
    expect(JSON.stringify(sent)).toContain('<thinking_mode>');
  });
});

describe('stop sequences', () => {
  it('stops the text before the first stop sequence', async () => {
    h.upstream.scriptNext(textReply('one two STOP three four', { chunks: 5 }));
    const message = await h.client.messages.create({
      model: MODEL,
      max_tokens: 64,
      stop_sequences: ['STOP'],
      messages: [{ role: 'user', content: 'count' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'one two ' }]);
    expect(message.stop_reason).toBe('stop_sequence');
    expect(message.stop_sequence).toBe('STOP');
  });
});

describe('count_tokens', () => {
  const request = {
    model: MODEL,
    system: 'You are terse.',
    messages: [{ role: 'user' as const, content: 'Tell me about the history of the Roman Empire in detail.' }],
  };

  it('counts what message_start reports for the same request', async () => {
    const counted = await h.client.messages.countTokens(request);
    h.upstream.scriptNext(textReply('ok'));
    const stream = await h.client.messages.create({ ...request, max_tokens: 16, stream: true });
    let started: number | undefined;
    for await (const event of stream) if (event.type === 'message_start') started = event.message.usage.input_tokens;
    expect(counted.input_tokens).toBe(started);
    expect(counted.input_tokens).toBeGreaterThan(12);
  });

  it('grows with content and counts tool definitions and images', async () => {
    const base = await h.client.messages.countTokens(request);
    const longer = await h.client.messages.countTokens({
      ...request,
      messages: [{ role: 'user', content: `${request.messages[0]!.content} ${'And then the Byzantine period. '.repeat(20)}` }],
    });
    const withTool = await h.client.messages.countTokens({
      ...request,
      tools: [{ name: 'search', description: 'Search the web', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
    });
    const withImage = await h.client.messages.countTokens({
      ...request,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_2X3 } },
            { type: 'text', text: request.messages[0]!.content },
          ],
        },
      ],
    });
    expect(longer.input_tokens - base.input_tokens).toBeGreaterThan(100);
    // The hidden tool-use prompt (346) plus the definition.
    expect(withTool.input_tokens - base.input_tokens).toBeGreaterThan(346);
    // A 2×3 image is tiny: ceil(6 / 750) = 1 token.
    expect(withImage.input_tokens - base.input_tokens).toBe(1);
  });

  it('counts a pathological prompt (one 300 000-character word) without stalling', async () => {
    const counted = await h.client.messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'z'.repeat(300_000) }] });
    expect(counted.input_tokens).toBeGreaterThan(5_000);
  });

  it('rejects an unknown model like /v1/messages does', async () => {
    const error = await h.client.messages.countTokens({ ...request, model: 'gpt-nonexistent-9' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe('models', () => {
  it('lists models for the Anthropic SDK', async () => {
    const ids: string[] = [];
    for await (const model of h.client.models.list()) {
      expect(model.type).toBe('model');
      expect(typeof model.display_name).toBe('string');
      expect(Number.isNaN(Date.parse(model.created_at))).toBe(false);
      ids.push(model.id);
    }
    expect(ids).toContain('claude-sonnet-4-5');
    expect(ids).toContain('claude-sonnet-4-5-thinking');
    expect(ids).toContain('claude-opus-4-6');
  });

  it('paginates like the Anthropic API', async () => {
    const page = await h.client.models.list({ limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.has_more).toBe(true);
    const next = await h.client.models.list({ limit: 2, after_id: page.data[1]!.id });
    expect(next.data[0]!.id).not.toBe(page.data[0]!.id);
  });

  it('lists the same models for the OpenAI SDK', async () => {
    const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: TEST_API_KEY, maxRetries: 0 });
    const ids: string[] = [];
    for await (const model of openai.models.list()) {
      expect(model.object).toBe('model');
      expect(typeof model.created).toBe('number');
      expect(typeof model.owned_by).toBe('string');
      ids.push(model.id);
    }
    expect(ids).toContain('claude-sonnet-4-5');
  });

  it('retrieves one model and 404s an unknown one', async () => {
    const model = await h.client.models.retrieve('claude-haiku-4-5');
    expect(model.id).toBe('claude-haiku-4-5');
    await expect(h.client.models.retrieve('nope-1')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('rejects an unknown model on /v1/messages with the known names', async () => {
    const error = await h.client.messages
      .create({ model: 'claude-imaginary-9', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const message = (error as BadRequestError).message;
    expect(message).toContain('claude-imaginary-9');
    expect(message).toContain('claude-sonnet-4-5');
  });
});

describe('back-pressure', () => {
  it('stops reading Kiro while the client is not reading, and delivers everything once it does', async () => {
    const frames = 10_000;
    const piece = 'x'.repeat(4000);
    // ~40 MB of answer: more than the loopback socket buffers can hold on both hops, even after
    // Linux grows the bridge's receive buffer (tcp_rmem allows up to 32 MB) while it reads fast.
    h.upstream.scriptNext({ name: 'flood', steps: Array.from({ length: frames }, () => ({ text: piece })) });
    const url = new URL(h.url);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/v1/messages',
          headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY },
        },
        resolve,
      );
      req.on('error', reject);
      req.end(JSON.stringify({ model: MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'flood me' }] }));
    });
    response.pause();
    const record = await h.upstream.waitFor((r) => r.scenario === 'flood');
    // Wait until the upstream stops making progress: its writes are blocked by the bridge.
    let last = -1;
    for (let stable = 0; stable < 5;) {
      await new Promise((r) => setTimeout(r, 100));
      if (record.framesSent === last) stable++;
      else stable = 0;
      last = record.framesSent;
    }
    expect(record.outcome).toBe('pending');
    expect(record.framesSent).toBeLessThan(frames);

    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.resume();
    await new Promise((resolve) => response.on('end', resolve));
    const deltas = [...text.matchAll(/"text":"(x*)"/g)].reduce((n, m) => n + m[1]!.length, 0);
    expect(deltas).toBe(frames * piece.length);
    expect(text.trimEnd().endsWith('event: message_stop\ndata: {"type":"message_stop"}')).toBe(true);
    expect(record.outcome).toBe('completed');
  }, 60_000);
});
