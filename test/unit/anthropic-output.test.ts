import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AnthropicStreamWriter,
  anthropicErrorBody,
  anthropicErrorFor,
  buildAnthropicMessage,
  isStandInSignature,
  newMessageId,
  thinkingSignature,
  type AnthropicOutputMeta,
} from '../../src/bridge/anthropic/anthropic-output';
import { Redactor } from '../../src/common/redact';
import { KiroError, type ErrorClass } from '../../src/kiro/errors';
import type { OutputEvent } from '../../src/kiro/types';
import { sseReply, useCannedServer } from '../support/canned-server';
import { assemble, CHAT_SCENARIOS, countTokens, kiroReasoning, kiroText, kiroTool, nativeReasoningEvents, plain } from '../support/output-events';

function meta(overrides: Partial<AnthropicOutputMeta> = {}): AnthropicOutputMeta {
  return { messageId: 'msg_test0123456789abcdefghij', model: 'claude-sonnet-4-5', inputTokens: 42, countTokens, ...overrides };
}

function sseOf(events: OutputEvent[], m: AnthropicOutputMeta = meta(), pingFirst = false): string {
  let out = '';
  const writer = new AnthropicStreamWriter({ write: (chunk) => ((out += chunk), true) }, m);
  writer.start();
  if (pingFirst) writer.ping();
  // one call per event, as the bridge does while frames arrive
  for (const event of events) writer.write([event]);
  return out;
}

/** Parses our SSE text back into [event name, data] pairs, checking the framing as it goes. */
function parseSse(text: string): { event: string; data: Record<string, unknown> }[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((frame) => {
      const lines = frame.split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^event: [a-z_]+$/);
      expect(lines[1]).toMatch(/^data: /);
      const event = lines[0]!.slice('event: '.length);
      const data = JSON.parse(lines[1]!.slice('data: '.length)) as Record<string, unknown>;
      expect(data.type).toBe(event);
      return { event, data };
    });
}

// ---- a real HTTP server so the official SDK reads our bytes as it reads Anthropic's ----------

const canned = useCannedServer();
let client: Anthropic;

beforeAll(() => {
  client = new Anthropic({ apiKey: 'test-key', baseURL: `${canned.origin}`, maxRetries: 0 });
});

async function sdkStreamFinalMessage(sse: string) {
  canned.reply = sseReply(sse);
  const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
  // `parsed_output` is the SDK's own addition (structured-output parsing), not part of the wire.
  const { parsed_output: parsedOutput, ...message } = await stream.finalMessage();
  expect(parsedOutput).toBeNull();
  return message;
}

const scenarios = CHAT_SCENARIOS;

describe('Anthropic SSE read by the official SDK', () => {
  for (const [name, build] of Object.entries(scenarios)) {
    it(`${name}: the SDK's accumulated message equals the non-streaming message`, async () => {
      const events = build();
      const expected = buildAnthropicMessage(events, meta()).body;
      const streamed = await sdkStreamFinalMessage(sseOf(events, meta(), true));
      expect(plain(streamed)).toEqual(plain(expected));
    });
  }

  it('the details are what a client expects', async () => {
    const events = scenarios['thinking, text and two tools']!();
    const message = buildAnthropicMessage(events, meta()).body;
    expect(message.id).toBe(meta().messageId);
    expect(message.model).toBe('claude-sonnet-4-5');
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use']);
    expect(message.content[0]).toEqual({
      type: 'thinking',
      thinking: 'Let me check "</thinking>" handling.',
      signature: thinkingSignature('Let me check "</thinking>" handling.'),
    });
    expect(message.content[2]).toEqual({
      type: 'tool_use',
      id: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA',
      name: 'Read',
      input: { file_path: '/a/b.ts', limit: 20, nested: { x: [1, 2.5, -300, true, null, 'é\n'] } },
    });
    const streamed = await sdkStreamFinalMessage(sseOf(events));
    expect(streamed.usage.output_tokens).toBe(message.usage.output_tokens);
    expect(streamed.content[0]).toMatchObject({ type: 'thinking', signature: message.content[0]!.type === 'thinking' ? message.content[0]!.signature : '' });
  });

  it('stop_sequence reaches the SDK with the sequence', async () => {
    const streamed = await sdkStreamFinalMessage(sseOf(scenarios['stop sequence']!()));
    expect(streamed.stop_reason).toBe('stop_sequence');
    expect(streamed.stop_sequence).toBe('three');
    expect(streamed.content).toEqual([{ type: 'text', text: 'one two ' }]);
  });

  it('the SDK parses the non-streaming message too', async () => {
    const message = buildAnthropicMessage(scenarios['thinking, text and two tools']!(), meta()).body;
    canned.reply = { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) };
    const parsed = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect(parsed).toEqual(message);
  });

  it('a mid-stream error reaches the SDK as an APIError of the mapped type, after the text', async () => {
    const events = assemble([kiroText('partial answer'), { kind: 'exception', type: 'ThrottlingException', json: { message: 'Too many requests' } }]);
    canned.reply = sseReply(sseOf(events));
    const stream = client.messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    let seen = '';
    stream.on('text', (delta) => (seen += delta));
    const failure = await stream.finalMessage().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(APIError);
    expect((failure as APIError).type).toBe('rate_limit_error');
    expect((failure as APIError).message).toMatch(/Too many requests/);
    expect(seen).toBe('partial answer');
  });

  it('a cut-off tool call reaches the SDK as the note and max_tokens, never as a tool_use to run', async () => {
    const events = assemble([kiroTool({ toolUseId: 'W', name: 'Write', input: '{"content":"<html>' }), kiroTool({ toolUseId: 'W', stop: true })]);
    canned.reply = sseReply(sseOf(events));
    const message = await client.messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.content).toEqual([{ type: 'text', text: expect.stringMatching(/^\[Kiro Bridge: the Write tool call was cut off/) }]);
    const built = buildAnthropicMessage(events, meta()).body;
    expect(built.stop_reason).toBe('max_tokens');
    expect(built.content.map((b) => b.type)).toEqual(['text']);
  });
});

describe('AnthropicStreamWriter: the wire format', () => {
  it('frames: message_start, blocks with sequential indexes, message_delta, message_stop', () => {
    const frames = parseSse(sseOf(scenarios['thinking, text and two tools']!()));
    expect(frames[0]!.event).toBe('message_start');
    expect(frames[0]!.data.message).toEqual({
      id: meta().messageId,
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      stop_details: null,
      usage: { input_tokens: 42, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
    });
    expect(frames.slice(-2).map((f) => f.event)).toEqual(['message_delta', 'message_stop']);

    // every block: start, deltas at its own index, stop; indexes 0, 1, 2… never overlapping
    let open: number | undefined;
    let next = 0;
    for (const { event, data } of frames.slice(1, -2)) {
      if (event === 'content_block_start') {
        expect(open).toBeUndefined();
        expect(data.index).toBe(next++);
        open = data.index as number;
      } else if (event === 'content_block_delta') expect(data.index).toBe(open);
      else if (event === 'content_block_stop') {
        expect(data.index).toBe(open);
        open = undefined;
      } else throw new Error(`unexpected ${event}`);
    }
    expect(next).toBe(4);

    const thinkingDeltas = frames.filter((f) => f.event === 'content_block_delta' && f.data.index === 0).map((f) => (f.data.delta as { type: string }).type);
    expect(thinkingDeltas.at(-1)).toBe('signature_delta');
    expect(new Set(thinkingDeltas.slice(0, -1))).toEqual(new Set(['thinking_delta']));
    const toolStart = frames.find((f) => f.event === 'content_block_start' && f.data.index === 2)!;
    expect(toolStart.data.content_block).toEqual({ type: 'tool_use', id: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA', name: 'Read', input: {} });
  });

  it('counts output tokens over text, thinking and tool calls with the injected tokenizer', () => {
    const events: OutputEvent[] = [
      { type: 'thinking', text: 'abcdefgh' },
      { type: 'text', text: 'abcd' },
      { type: 'text', text: 'e' },
      { type: 'tool_start', id: 't', name: 'abc' },
      { type: 'tool_delta', id: 't', json: '{"a":' },
      { type: 'tool_delta', id: 't', json: '1}' },
      { type: 'tool_end', id: 't', input: { a: 1 } },
      { type: 'finish', reason: 'tool_use' },
    ];
    // thinking 8 → 2, text "abcde" → 2, tool name 3 → 1 and json 7 → 2
    const delta = parseSse(sseOf(events)).find((f) => f.event === 'message_delta')!;
    expect(delta.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null, stop_details: null },
      usage: { input_tokens: 42, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 7 },
    });
    expect(buildAnthropicMessage(events, meta()).body.usage.output_tokens).toBe(7);
  });

  it("replaces the input estimate with Kiro's context usage when the window is known", () => {
    const events: OutputEvent[] = [
      { type: 'text', text: 'x' },
      { type: 'usage', contextUsagePercentage: 12.5 },
      { type: 'usage', credits: 0.3 },
      { type: 'finish', reason: 'end_turn' },
    ];
    let out = '';
    const writer = new AnthropicStreamWriter({ write: (c) => ((out += c), true) }, meta({ contextWindow: 200_000 }));
    writer.write(events);
    const delta = parseSse(out).find((f) => f.event === 'message_delta')!;
    expect((delta.data.usage as { input_tokens: number }).input_tokens).toBe(25_000);
    expect(writer.usage).toEqual({ inputTokens: 25_000, outputTokens: 1, credits: 0.3 });
    expect(buildAnthropicMessage(events, meta({ contextWindow: 200_000 })).body.usage.input_tokens).toBe(25_000);
    // without a window the estimate stays
    expect(buildAnthropicMessage(events, meta()).body.usage.input_tokens).toBe(42);
  });

  it('writes message_start once, on its own or before the first content', () => {
    let out = '';
    const writer = new AnthropicStreamWriter({ write: (c) => ((out += c), true) }, meta());
    writer.write([{ type: 'text', text: 'a' }]);
    writer.start();
    writer.ping();
    writer.finish('end_turn');
    expect(parseSse(out).map((f) => f.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'ping',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(writer.ended).toBe(true);
    expect(writer.outcome).toEqual({ reason: 'end_turn' });
  });

  it('fail(): an error event with the mapped type, no message_stop, and nothing afterwards', () => {
    let out = '';
    const writer = new AnthropicStreamWriter({ write: (c) => ((out += c), true) }, meta());
    writer.write([{ type: 'text', text: 'a' }]);
    writer.fail(new KiroError('upstream_unavailable', 'Kiro has no capacity', { reason: 'INSUFFICIENT_MODEL_CAPACITY' }));
    writer.write([{ type: 'text', text: 'late' }]);
    writer.finish('end_turn');
    writer.ping();
    const frames = parseSse(out);
    expect(frames.map((f) => f.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'error']);
    expect(frames.at(-1)!.data).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Kiro has no capacity' } });
  });

  it('an event sequence that breaks block discipline becomes an internal error, not broken SSE', () => {
    let out = '';
    const writer = new AnthropicStreamWriter({ write: (c) => ((out += c), true) }, meta());
    writer.write([
      { type: 'tool_start', id: 'a', name: 'x' },
      { type: 'text', text: 'interrupts the tool' },
    ]);
    const frames = parseSse(out);
    expect(frames.map((f) => f.event)).toEqual(['message_start', 'content_block_start', 'error']);
    expect(frames.at(-1)!.data.error).toMatchObject({ type: 'api_error' });
    expect(writer.ended).toBe(true);
    expect(() => buildAnthropicMessage([{ type: 'tool_delta', id: 'zz', json: '{}' }], meta())).toThrow(KiroError);
  });

  it("passes the sink's back-pressure verdict back to the caller", () => {
    const verdicts = [true, false, true];
    const writer = new AnthropicStreamWriter({ write: () => verdicts.shift()! }, meta());
    expect(writer.start()).toBe(true);
    expect(writer.write([{ type: 'text', text: 'a' }])).toBe(false);
    expect(writer.ping()).toBe(true);
  });

  it('buildAnthropicMessage throws the error the events ended with, or an internal error without an ending', () => {
    const error = new KiroError('throttled', 'slow down');
    expect(() =>
      buildAnthropicMessage(
        [
          { type: 'text', text: 'a' },
          { type: 'error', error },
        ],
        meta(),
      ),
    ).toThrow(error);
    expect(() => buildAnthropicMessage([{ type: 'text', text: 'a' }], meta())).toThrow(/without a finish/);
  });
});

describe('anthropicErrorFor: one table for streaming and non-streaming errors', () => {
  const table: [ErrorClass, number, string][] = [
    ['prompt_too_long', 400, 'invalid_request_error'],
    ['bad_request', 400, 'invalid_request_error'],
    ['model_unavailable', 404, 'not_found_error'],
    ['token_expired', 401, 'authentication_error'],
    ['needs_sign_in', 401, 'authentication_error'],
    ['account_suspended', 403, 'permission_error'],
    ['quota_exhausted', 429, 'rate_limit_error'],
    ['throttled', 429, 'rate_limit_error'],
    ['upstream_unavailable', 502, 'api_error'],
    ['no_account', 503, 'api_error'],
    ['stream_broken', 502, 'api_error'],
    ['timeout', 504, 'timeout_error'],
    ['internal', 500, 'api_error'],
  ];
  for (const [errorClass, status, type] of table) {
    it(`${errorClass} → ${status} ${type}`, () => {
      expect(anthropicErrorFor(new KiroError(errorClass, `msg for ${errorClass}`))).toEqual({ status, type, message: `msg for ${errorClass}` });
    });
  }

  it('keeps "prompt is too long" at the start of the message (clients compact on it)', () => {
    const info = anthropicErrorFor(new KiroError('prompt_too_long', 'prompt is too long: Input is too long.'));
    expect(info.message.startsWith('prompt is too long')).toBe(true);
  });

  it('capacity problems are overloaded (529)', () => {
    expect(anthropicErrorFor(new KiroError('upstream_unavailable', 'x', { reason: 'INSUFFICIENT_MODEL_CAPACITY' }))).toMatchObject({
      status: 529,
      type: 'overloaded_error',
    });
    expect(anthropicErrorFor(new KiroError('upstream_unavailable', 'x', { status: 503 }))).toMatchObject({ status: 529, type: 'overloaded_error' });
  });

  it('carries retry-after for throttling and the reset time for an exhausted quota', () => {
    expect(anthropicErrorFor(new KiroError('throttled', 'slow', { retryAfterSeconds: 30 }))).toMatchObject({ retryAfterSeconds: 30 });
    const resetAt = new Date(Date.now() + 3_600_000);
    const quota = anthropicErrorFor(new KiroError('quota_exhausted', 'Kiro quota exhausted', { resetAt }));
    expect(quota.message).toContain(resetAt.toISOString());
    expect(quota.retryAfterSeconds).toBeGreaterThan(3500);
    expect(quota.retryAfterSeconds).toBeLessThanOrEqual(3600);
  });

  it('anything else is a 500 api_error, and messages are redacted', () => {
    expect(anthropicErrorFor(new TypeError('x is undefined'))).toEqual({ status: 500, type: 'api_error', message: 'internal error: x is undefined' });
    const redactor = new Redactor();
    redactor.add('super-secret-refresh-token');
    const info = anthropicErrorFor(new KiroError('bad_request', 'echo: super-secret-refresh-token and Bearer abcdefghijklmnop'), redactor);
    expect(info.message).not.toContain('super-secret-refresh-token');
    expect(info.message).not.toContain('abcdefghijklmnop');
  });

  it('the error body has the API shape', () => {
    expect(anthropicErrorBody({ type: 'rate_limit_error', message: 'slow' })).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'slow' } });
  });
});

describe('ids', () => {
  it('message ids are msg_ + 24 base62 characters, and unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newMessageId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^msg_[0-9A-Za-z]{24}$/);
  });

  it('thinking signatures are stable per text and differ between texts', () => {
    expect(thinkingSignature('a')).toBe(thinkingSignature('a'));
    expect(thinkingSignature('a')).not.toBe(thinkingSignature('b'));
    expect(thinkingSignature('a')).toMatch(/^kiro-bridge\.[A-Za-z0-9_-]{43}$/);
  });
});

describe("Kiro's native reasoning and token counts", () => {
  const SIGNATURE = 'EqQBCkgIARABGAIiQKiroSignature0123456789+/==';

  it("thinking blocks carry Kiro's signature; only tag-split reasoning gets the stand-in", async () => {
    const message = buildAnthropicMessage(nativeReasoningEvents(), meta()).body;
    expect(message.content[0]).toEqual({ type: 'thinking', thinking: 'The user wants a file listing.', signature: SIGNATURE });
    expect(isStandInSignature(SIGNATURE)).toBe(false);
    const tagged = buildAnthropicMessage(CHAT_SCENARIOS['thinking, text and two tools']!(), meta()).body.content[0];
    expect(tagged?.type === 'thinking' && isStandInSignature(tagged.signature)).toBe(true);
    // The SDK reads the signature from the signature_delta.
    const streamed = await sdkStreamFinalMessage(sseOf(nativeReasoningEvents()));
    expect(streamed.content[0]).toEqual({ type: 'thinking', thinking: 'The user wants a file listing.', signature: SIGNATURE });
  });

  it('redacted reasoning is a redacted_thinking block; a signature alone signs an empty thinking block', async () => {
    const events = assemble([kiroReasoning({ redactedContent: 'b3BhcXVl' }), kiroReasoning({ signature: 'sig-only' }), kiroText('ok')]);
    const frames = parseSse(sseOf(events));
    expect(frames.filter((f) => f.event === 'content_block_start').map((f) => f.data.content_block)).toEqual([
      { type: 'redacted_thinking', data: 'b3BhcXVl' },
      { type: 'thinking', thinking: '', signature: '' },
      { type: 'text', text: '' },
    ]);
    const expected = [
      { type: 'redacted_thinking', data: 'b3BhcXVl' },
      { type: 'thinking', thinking: '', signature: 'sig-only' },
      { type: 'text', text: 'ok' },
    ];
    expect(buildAnthropicMessage(events, meta()).body.content).toEqual(expected);
    expect((await sdkStreamFinalMessage(sseOf(events))).content).toEqual(expected);
  });

  it("Kiro's token counts win in message_delta and the message; message_start keeps the estimate", () => {
    const frames = parseSse(sseOf(nativeReasoningEvents()));
    const start = frames.find((f) => f.event === 'message_start')!.data.message as { usage: unknown };
    expect(start.usage).toEqual({ input_tokens: 42, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 });
    const reported = { input_tokens: 120, cache_creation_input_tokens: 400, cache_read_input_tokens: 3000, output_tokens: 57 };
    expect(frames.find((f) => f.event === 'message_delta')!.data.usage).toEqual(reported);
    const built = buildAnthropicMessage(nativeReasoningEvents(), meta());
    expect(built.body.usage).toEqual(reported);
    // The traffic record gets the whole prompt and the cache's share of it.
    expect(built).toMatchObject({ inputTokens: 3520, outputTokens: 57, credits: 0.2, cacheReadTokens: 3000, cacheWriteTokens: 400 });
  });

  it("Kiro's counts win over its context percentage, whatever the order", () => {
    const events: OutputEvent[] = [
      { type: 'text', text: 'x' },
      { type: 'usage', tokens: { uncachedInputTokens: 5, cacheReadInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 2 } },
      { type: 'usage', contextUsagePercentage: 50 },
      { type: 'finish', reason: 'end_turn' },
    ];
    expect(buildAnthropicMessage(events, meta({ contextWindow: 200_000 })).body.usage).toEqual({
      input_tokens: 5,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 2,
    });
  });
});
