import OpenAI, { APIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ChatCompletionStreamWriter,
  buildChatCompletion,
  chatFinishReason,
  newChatCompletionId,
  type ChatOutputMeta,
} from '../../src/bridge/openai/openai-output';
import { openaiErrorBody, openaiErrorFor, openaiGuardError, OpenAIRequestError } from '../../src/bridge/openai/openai-errors';
import { InvalidRequestError } from '../../src/bridge/anthropic/anthropic-input';
import { Redactor } from '../../src/common/redact';
import { KiroError, type ErrorClass } from '../../src/kiro/errors';
import type { OutputEvent } from '../../src/kiro/types';
import { sseReply, useCannedServer } from '../support/canned-server';
import { assemble, CHAT_SCENARIOS, countTokens, kiroReasoning, kiroText, kiroTool, nativeReasoningEvents, plain } from '../support/output-events';

function meta(overrides: Partial<ChatOutputMeta> = {}): ChatOutputMeta {
  return {
    id: 'chatcmpl-test0123456789abcdefghijklmno',
    model: 'claude-sonnet-4-5',
    created: 1_760_000_000,
    inputTokens: 42,
    countTokens,
    includeUsage: true,
    ...overrides,
  };
}

function sseOf(events: OutputEvent[], m: ChatOutputMeta = meta(), pingFirst = false): string {
  let out = '';
  const writer = new ChatCompletionStreamWriter({ write: (chunk) => ((out += chunk), true) }, m);
  if (pingFirst) writer.ping();
  writer.start();
  // one call per event, as the bridge does while frames arrive
  for (const event of events) writer.write([event]);
  return out;
}

/** Our SSE text → the data payloads, checking the framing (no event: lines, comments allowed). */
function dataOf(text: string): (Record<string, unknown> | '[DONE]')[] {
  expect(text.endsWith('\n\n')).toBe(true);
  const out: (Record<string, unknown> | '[DONE]')[] = [];
  for (const frame of text.slice(0, -2).split('\n\n')) {
    if (frame.startsWith(':')) {
      expect(frame).toBe(': ping');
      continue;
    }
    expect(frame.startsWith('data: ')).toBe(true);
    expect(frame.includes('\n')).toBe(false);
    const data = frame.slice('data: '.length);
    out.push(data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as Record<string, unknown>));
  }
  return out;
}

// ---- a real HTTP server so the official SDK reads our bytes as it reads OpenAI's ------------

const canned = useCannedServer();
let client: OpenAI;

beforeAll(() => {
  client = new OpenAI({ apiKey: 'test-key', baseURL: `${canned.origin}/v1`, maxRetries: 0 });
});

const PARAMS = { model: 'claude-sonnet-4-5', messages: [{ role: 'user' as const, content: 'hi' }] };

/** The SDK's own accumulation of a stream (ChatCompletionStream), and the raw chunks it read. */
async function sdkStream(sse: string) {
  canned.reply = sseReply(sse);
  const stream = client.chat.completions.stream({ ...PARAMS, stream_options: { include_usage: true } });
  const chunks: ChatCompletionChunk[] = [];
  stream.on('chunk', (chunk) => chunks.push(chunk));
  const final = await stream.finalChatCompletion();
  return { final, chunks };
}

/** Drops what the SDK adds for its own parsing helpers (not part of the wire). */
function withoutSdkExtras(completion: unknown): unknown {
  const copy = plain(completion) as { choices: { message: Record<string, unknown> }[]; system_fingerprint?: unknown };
  // The SDK leaves out a null fingerprint.
  if (copy.system_fingerprint === null) delete copy.system_fingerprint;
  for (const choice of copy.choices) {
    delete choice.message.parsed;
    delete choice.message.reasoning_content;
    for (const call of (choice.message.tool_calls as Record<string, unknown>[] | undefined) ?? [])
      delete (call.function as Record<string, unknown>).parsed_arguments;
  }
  return copy;
}

const scenarios = CHAT_SCENARIOS;

describe('chat.completion.chunk stream read by the official SDK', () => {
  for (const [name, build] of Object.entries(scenarios)) {
    it(`${name}: the SDK's accumulated completion equals the non-streaming completion`, async () => {
      const events = build();
      const expected = buildChatCompletion(events, meta()).body;
      const { final, chunks } = await sdkStream(sseOf(events, meta(), true));
      expect(withoutSdkExtras(final)).toEqual(withoutSdkExtras(expected));
      // The SDK keeps only the last reasoning fragment; the fragments together are the reasoning.
      const reasoning = chunks.map((c) => (c.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '').join('');
      expect(reasoning).toBe(expected.choices[0].message.reasoning_content ?? '');
    });
  }

  it('the details are what a client expects', async () => {
    const events = scenarios['thinking, text and two tools']!();
    const { body, stopReason } = buildChatCompletion(events, meta());
    expect(stopReason).toBe('tool_use');
    expect(body).toMatchObject({ id: meta().id, object: 'chat.completion', created: meta().created, model: 'claude-sonnet-4-5' });
    const [choice] = body.choices;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe('I will look.');
    expect(choice.message.reasoning_content).toBe('Let me check "</thinking>" handling.');
    expect(choice.message.tool_calls!.map((c) => c.id)).toEqual(['tooluse_AAAAAAAAAAAAAAAAAAAAAA', 'tooluse_BBBBBBBBBBBBBBBBBBBBBB']);
    expect(JSON.parse(choice.message.tool_calls![0]!.function.arguments)).toEqual({
      file_path: '/a/b.ts',
      limit: 20,
      nested: { x: [1, 2.5, -300, true, null, 'é\n'] },
    });
    expect(choice.message.tool_calls![1]!.function).toEqual({ name: 'Glob', arguments: '{"pattern":"**/*.md"}' });
  });

  it('a tool call with no streamed input has "{}" as its arguments, streamed and not', async () => {
    const events = scenarios['a tool with no input']!();
    expect(buildChatCompletion(events, meta()).body.choices[0].message).toMatchObject({
      content: null,
      tool_calls: [{ id: 't1', type: 'function', function: { name: 'now', arguments: '{}' } }],
    });
    const { final } = await sdkStream(sseOf(events));
    expect(final.choices[0]!.message.tool_calls![0]!.function.arguments).toBe('{}');
  });

  it('finish reasons: stop, tool_calls, length', () => {
    expect(buildChatCompletion(scenarios['stop sequence']!(), meta()).body.choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { content: 'one two ' },
    });
    expect(buildChatCompletion(scenarios['max_tokens with nothing emitted']!(), meta()).body.choices[0]).toMatchObject({
      finish_reason: 'length',
      message: { content: null },
    });
    expect(chatFinishReason('end_turn')).toBe('stop');
    expect(chatFinishReason('tool_use')).toBe('tool_calls');
  });

  it('the SDK parses the non-streaming completion too', async () => {
    const { body } = buildChatCompletion(scenarios['thinking, text and two tools']!(), meta());
    canned.reply = { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const parsed = await client.chat.completions.create(PARAMS);
    expect(parsed).toEqual(body);
  });

  it('a mid-stream error reaches the SDK as an APIError with the mapped code, after the text', async () => {
    const events = assemble([kiroText('partial answer'), { kind: 'exception', type: 'ThrottlingException', json: { message: 'Too many requests' } }]);
    canned.reply = sseReply(sseOf(events));
    const stream = client.chat.completions.stream(PARAMS);
    let seen = '';
    stream.on('content', (delta) => (seen += delta));
    const failure = await stream.finalChatCompletion().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(APIError);
    expect((failure as APIError).code).toBe('rate_limit_exceeded');
    expect((failure as APIError).type).toBe('rate_limit_error');
    expect((failure as APIError).message).toMatch(/Too many requests/);
    expect(seen).toBe('partial answer');
  });

  it('a cut-off tool call reaches the SDK as the note and finish_reason length, never as a tool call to run', async () => {
    const events = assemble([kiroTool({ toolUseId: 'W', name: 'Write', input: '{"content":"<html>' }), kiroTool({ toolUseId: 'W', stop: true })]);
    canned.reply = sseReply(sseOf(events));
    const completion = await client.chat.completions.stream(PARAMS).finalChatCompletion();
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(completion.choices[0]!.message.content).toMatch(/^\[Kiro Bridge: the Write tool call was cut off/);
    const built = buildChatCompletion(events, meta()).body;
    expect(built.choices[0]!.finish_reason).toBe('length');
    expect(built.choices[0]!.message.tool_calls).toBeUndefined();
  });
});

describe('ChatCompletionStreamWriter: the wire format', () => {
  it('role chunk first, then deltas, a finish chunk, the usage chunk, [DONE]', () => {
    const payloads = dataOf(sseOf(scenarios['thinking, text and two tools']!()));
    expect(payloads.at(-1)).toBe('[DONE]');
    const chunks = payloads.slice(0, -1) as Record<string, unknown>[];
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({
        id: meta().id,
        object: 'chat.completion.chunk',
        created: meta().created,
        model: 'claude-sonnet-4-5',
        system_fingerprint: null,
      });
    }
    expect(chunks[0]!.choices).toEqual([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual({
      prompt_tokens: 42,
      completion_tokens: expect.any(Number),
      total_tokens: expect.any(Number),
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: expect.any(Number) },
    });
    const finish = chunks.at(-2)!;
    expect(finish.choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' }]);
    // with include_usage every other chunk says usage: null, as OpenAI's do
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();

    const deltas = chunks.slice(1, -2).map((c) => (c.choices as { delta: Record<string, unknown> }[])[0]!.delta);
    const kinds = deltas.map((d) => Object.keys(d).join(','));
    // reasoning first, then content, then the tool calls
    expect(kinds.indexOf('content')).toBeGreaterThan(kinds.lastIndexOf('reasoning_content'));
    expect(kinds.indexOf('tool_calls')).toBeGreaterThan(kinds.lastIndexOf('content'));
    const calls = deltas.flatMap((d) => (d.tool_calls as Record<string, unknown>[] | undefined) ?? []);
    expect(calls[0]).toEqual({ index: 0, id: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA', type: 'function', function: { name: 'Read', arguments: '' } });
    expect(
      calls
        .filter((c) => c.index === 0)
        .slice(1)
        .every((c) => Object.keys(c).join() === 'index,function'),
    ).toBe(true);
    const second = calls.filter((c) => c.index === 1);
    expect(second[0]).toMatchObject({ id: 'tooluse_BBBBBBBBBBBBBBBBBBBBBB', function: { name: 'Glob' } });
  });

  it('without include_usage: no usage chunk and no usage fields', () => {
    const payloads = dataOf(sseOf(scenarios['plain text']!(), meta({ includeUsage: false })));
    const chunks = payloads.slice(0, -1) as Record<string, unknown>[];
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    expect((chunks.at(-1)!.choices as { finish_reason: string }[])[0]!.finish_reason).toBe('stop');
  });

  it('counts output tokens over text, reasoning and tool calls with the injected tokenizer', () => {
    const events: OutputEvent[] = [
      { type: 'thinking', text: 'abcdefgh' },
      { type: 'text', text: 'abcd' },
      { type: 'text', text: 'e' },
      { type: 'tool_start', id: 't', name: 'abc' },
      { type: 'tool_delta', id: 't', json: '{"a":' },
      { type: 'tool_delta', id: 't', json: '1}' },
      { type: 'tool_end', id: 't', input: { a: 1 } },
      { type: 'usage', contextUsagePercentage: 12.5 },
      { type: 'usage', credits: 0.3 },
      { type: 'finish', reason: 'tool_use' },
    ];
    // reasoning 8 → 2, text "abcde" → 2, tool call: 10 overhead + name 1 + json 2
    const expected = {
      prompt_tokens: 25_000,
      completion_tokens: 17,
      total_tokens: 25_017,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 2 },
    };
    const m = meta({ contextWindow: 200_000 });
    const built = buildChatCompletion(events, m);
    expect(built.body.usage).toEqual(expected);
    expect(built).toMatchObject({ inputTokens: 25_000, outputTokens: 17, credits: 0.3 });
    let out = '';
    const writer = new ChatCompletionStreamWriter({ write: (c) => ((out += c), true) }, m);
    writer.write(events);
    expect((dataOf(out).at(-2) as Record<string, unknown>).usage).toEqual(expected);
    expect(writer.usage).toEqual({ inputTokens: 25_000, outputTokens: 17, credits: 0.3 });
    // without a window the estimate stays
    expect(buildChatCompletion(events, meta()).body.usage.prompt_tokens).toBe(42);
  });

  it('pings are SSE comments, never chunks, and need no role chunk first', () => {
    let out = '';
    const writer = new ChatCompletionStreamWriter({ write: (c) => ((out += c), true) }, meta());
    writer.ping();
    writer.ping();
    expect(out).toBe(': ping\n\n: ping\n\n');
    writer.write([{ type: 'text', text: 'a' }]);
    writer.finish('end_turn');
    const payloads = dataOf(out);
    expect(payloads).toHaveLength(5);
    expect(writer.outcome).toEqual({ reason: 'end_turn' });
  });

  it('fail(): an error chunk in OpenAI shape, no [DONE], and nothing afterwards', () => {
    let out = '';
    const writer = new ChatCompletionStreamWriter({ write: (c) => ((out += c), true) }, meta());
    writer.write([{ type: 'text', text: 'a' }]);
    writer.fail(new KiroError('upstream_unavailable', 'Kiro has no capacity', { reason: 'INSUFFICIENT_MODEL_CAPACITY' }));
    writer.write([{ type: 'text', text: 'late' }]);
    writer.finish('end_turn');
    writer.ping();
    const payloads = dataOf(out);
    expect(payloads).toHaveLength(3);
    expect(payloads.at(-1)).toEqual({ error: { message: 'Kiro has no capacity', type: 'server_error', param: null, code: 'overloaded' } });
    expect(out).not.toContain('[DONE]');
    expect(writer.outcome).toMatchObject({ error: { status: 503, code: 'overloaded' } });
  });

  it('an event sequence that breaks the call discipline becomes an internal error, not broken SSE', () => {
    let out = '';
    const writer = new ChatCompletionStreamWriter({ write: (c) => ((out += c), true) }, meta());
    writer.write([
      { type: 'tool_start', id: 'a', name: 'x' },
      { type: 'text', text: 'interrupts the tool' },
    ]);
    const payloads = dataOf(out);
    expect(payloads).toHaveLength(3);
    expect(payloads.at(-1)).toMatchObject({ error: { type: 'server_error' } });
    expect(writer.ended).toBe(true);
    expect(() => buildChatCompletion([{ type: 'tool_delta', id: 'zz', json: '{}' }], meta())).toThrow(KiroError);
  });

  it("passes the sink's back-pressure verdict back to the caller", () => {
    const verdicts = [true, false, true];
    const writer = new ChatCompletionStreamWriter({ write: () => verdicts.shift()! }, meta());
    expect(writer.start()).toBe(true);
    expect(writer.write([{ type: 'text', text: 'a' }])).toBe(false);
    expect(writer.ping()).toBe(true);
  });

  it('buildChatCompletion throws the error the events ended with, or an internal error without an ending', () => {
    const error = new KiroError('throttled', 'slow down');
    expect(() =>
      buildChatCompletion(
        [
          { type: 'text', text: 'a' },
          { type: 'error', error },
        ],
        meta(),
      ),
    ).toThrow(error);
    expect(() => buildChatCompletion([{ type: 'text', text: 'a' }], meta())).toThrow(/without a finish/);
  });

  it('chat completion ids look like OpenAI ids and are unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newChatCompletionId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^chatcmpl-[A-Za-z0-9_-]{29}$/);
  });
});

describe('openaiErrorFor: one table for streaming and non-streaming errors', () => {
  const table: [ErrorClass, number, string, string | null][] = [
    ['prompt_too_long', 400, 'invalid_request_error', 'context_length_exceeded'],
    ['bad_request', 400, 'invalid_request_error', null],
    ['model_unavailable', 404, 'invalid_request_error', 'model_not_found'],
    ['token_expired', 401, 'authentication_error', 'kiro_token_rejected'],
    ['needs_sign_in', 401, 'authentication_error', 'kiro_sign_in_required'],
    ['account_suspended', 403, 'permission_error', 'kiro_account_suspended'],
    ['quota_exhausted', 429, 'insufficient_quota', 'insufficient_quota'],
    ['throttled', 429, 'rate_limit_error', 'rate_limit_exceeded'],
    ['upstream_unavailable', 502, 'server_error', 'upstream_unavailable'],
    ['no_account', 503, 'server_error', 'no_kiro_account'],
    ['stream_broken', 502, 'server_error', 'stream_broken'],
    ['timeout', 504, 'server_error', 'timeout'],
    ['internal', 500, 'server_error', null],
  ];
  for (const [errorClass, status, type, code] of table) {
    it(`${errorClass} → ${status} ${type} ${code}`, () => {
      expect(openaiErrorFor(new KiroError(errorClass, `msg for ${errorClass}`))).toEqual({
        status,
        type,
        code,
        message: `msg for ${errorClass}`,
        param: errorClass === 'prompt_too_long' ? 'messages' : null,
      });
    });
  }

  it('the context error names the conversation field of the API', () => {
    expect(openaiErrorFor(new KiroError('prompt_too_long', 'prompt is too long'), undefined, 'input').param).toBe('input');
  });

  it('capacity problems are 503 overloaded', () => {
    expect(openaiErrorFor(new KiroError('upstream_unavailable', 'x', { reason: 'INSUFFICIENT_MODEL_CAPACITY' }))).toMatchObject({
      status: 503,
      code: 'overloaded',
    });
  });

  it('throttling carries retry-after and says when to try again (Codex reads it from the message)', () => {
    const info = openaiErrorFor(new KiroError('throttled', 'Kiro is throttling requests', { retryAfterSeconds: 2.5 }));
    expect(info).toMatchObject({ retryAfterSeconds: 2.5 });
    expect(info.message).toMatch(/try again in 3s/);
    const resetAt = new Date(Date.now() + 3_600_000);
    const quota = openaiErrorFor(new KiroError('quota_exhausted', 'Kiro quota exhausted', { resetAt }));
    expect(quota.message).toContain(resetAt.toISOString());
    expect(quota.retryAfterSeconds).toBeGreaterThan(3500);
  });

  it('request errors keep their field and code; shared validators name their field too', () => {
    expect(openaiErrorFor(new OpenAIRequestError('model: no such model', 'model', 'model_not_found', 404))).toEqual({
      status: 404,
      type: 'invalid_request_error',
      message: 'model: no such model',
      param: 'model',
      code: 'model_not_found',
    });
    expect(openaiErrorFor(new InvalidRequestError('messages.0.content: bad'))).toMatchObject({ status: 400, param: 'messages.0.content', code: null });
  });

  it('anything else is a 500 server_error, and messages are redacted', () => {
    expect(openaiErrorFor(new TypeError('x is undefined'))).toEqual({
      status: 500,
      type: 'server_error',
      message: 'internal error: x is undefined',
      param: null,
      code: null,
    });
    const redactor = new Redactor();
    redactor.add('super-secret-refresh-token');
    const info = openaiErrorFor(new KiroError('bad_request', 'echo: super-secret-refresh-token and Bearer abcdefghijklmnop'), redactor);
    expect(info.message).not.toContain('super-secret-refresh-token');
    expect(info.message).not.toContain('abcdefghijklmnop');
  });

  it('guard failures: a bad key is invalid_api_key, a stopping bridge a retryable 503', () => {
    expect(openaiGuardError({ status: 401, type: 'authentication_error', message: 'invalid API key' })).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(openaiGuardError({ status: 529, type: 'overloaded_error', message: 'stopping' })).toMatchObject({ status: 503, type: 'server_error' });
    expect(openaiGuardError({ status: 413, type: 'request_too_large', message: 'big' })).toMatchObject({ status: 413, code: 'request_too_large' });
  });

  it('the error body has the API shape', () => {
    expect(openaiErrorBody({ type: 'invalid_request_error', message: 'm', param: 'p', code: 'c' })).toEqual({
      error: { message: 'm', type: 'invalid_request_error', param: 'p', code: 'c' },
    });
  });
});

describe("Chat Completions: Kiro's native reasoning and token counts", () => {
  const SIGNATURE = 'EqQBCkgIARABGAIiQKiroSignature0123456789+/==';

  it('reasoning_content carries the text; reasoning_details the signed block, once, when it ends', () => {
    const payloads = dataOf(sseOf(nativeReasoningEvents())).filter((p): p is Record<string, unknown> => p !== '[DONE]');
    const deltas = payloads.map((p) => (p.choices as { delta?: Record<string, unknown> }[])[0]?.delta).filter(Boolean) as Record<string, unknown>[];
    expect(
      deltas
        .filter((d) => d.reasoning_content !== undefined)
        .map((d) => d.reasoning_content)
        .join(''),
    ).toBe('The user wants a file listing.');
    const details = deltas.filter((d) => d.reasoning_details !== undefined).map((d) => d.reasoning_details);
    expect(details).toEqual([[{ type: 'reasoning.text', text: 'The user wants a file listing.', signature: SIGNATURE, format: 'unknown', index: 0 }]]);
    const { message } = buildChatCompletion(nativeReasoningEvents(), meta()).body.choices[0];
    expect(message.reasoning_content).toBe('The user wants a file listing.');
    expect(message.reasoning_details).toEqual(details[0]);
  });

  it('redacted reasoning is a reasoning.encrypted detail; tag-split reasoning has no details', () => {
    const events = assemble([kiroReasoning({ redactedContent: 'b3BhcXVl' }), kiroReasoning({ text: 'r', signature: 's' }), kiroText('ok')]);
    expect(buildChatCompletion(events, meta()).body.choices[0].message.reasoning_details).toEqual([
      { type: 'reasoning.encrypted', data: 'b3BhcXVl', format: 'unknown', index: 0 },
      { type: 'reasoning.text', text: 'r', signature: 's', format: 'unknown', index: 1 },
    ]);
    expect(buildChatCompletion(scenarios['thinking, text and two tools']!(), meta()).body.choices[0].message.reasoning_details).toBeUndefined();
  });

  it("usage: Kiro's counts, the whole prompt in prompt_tokens and the cache read in cached_tokens", async () => {
    const usage = {
      prompt_tokens: 3520,
      completion_tokens: 57,
      total_tokens: 3577,
      prompt_tokens_details: { cached_tokens: 3000 },
      completion_tokens_details: { reasoning_tokens: 8 },
    };
    expect(buildChatCompletion(nativeReasoningEvents(), meta()).body.usage).toEqual(usage);
    const { final } = await sdkStream(sseOf(nativeReasoningEvents()));
    expect(final.usage).toEqual(usage);
  });
});
