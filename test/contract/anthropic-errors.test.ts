// Upstream failures as the official SDK sees them: each maps to the matching error class, streams
// that break end with an error (never a fake end_turn), disconnects abort the upstream call, and
// stopping the bridge ends open streams with an error event.
import Anthropic, { type APIError } from '@anthropic-ai/sdk';
import { beforeEach, describe, expect, it } from 'vitest';
import { cutReply, errorFrameReply, exceptionReply, stallReply, textReply, upstreamErrors } from '../support/fake-upstream';
import { failureOf } from '../support/failure';
import { eventually, startHarness, useHarness, type Harness } from './harness';

const MODEL = 'claude-sonnet-4-6';
const ask = { model: MODEL, max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] };

let h: Harness;
useHarness((harness) => (h = harness));

beforeEach(() => {
  h.upstream.clearScripts();
});

const failure = (promise: Promise<unknown>): Promise<APIError> => failureOf(promise, Anthropic.APIError);

/** Collects a stream's events until it ends or throws. */
async function drain(stream: AsyncIterable<Anthropic.RawMessageStreamEvent>): Promise<{ types: string[]; error?: unknown }> {
  const types: string[] = [];
  try {
    for await (const event of stream) types.push(event.type);
    return { types };
  } catch (error) {
    return { types, error };
  }
}

describe('upstream HTTP errors map to the SDK error classes', () => {
  it('CONTENT_LENGTH_EXCEEDS_THRESHOLD → BadRequestError "prompt is too long"', async () => {
    h.upstream.scriptNext(upstreamErrors.contentLengthExceeded());
    const error = await failure(h.client.messages.create(ask));
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.status).toBe(400);
    expect((error.error as { error: { type: string; message: string } }).error.type).toBe('invalid_request_error');
    expect((error.error as { error: { message: string } }).error.message).toMatch(/^prompt is too long/);
  });

  it('the same on a streaming request (no stream was started)', async () => {
    h.upstream.scriptNext(upstreamErrors.contentLengthExceeded());
    const error = await failure(h.client.messages.create({ ...ask, stream: true }));
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error.error as { error: { message: string } }).error.message).toMatch(/^prompt is too long/);
  });

  it('other deterministic 400s say which rule was broken', async () => {
    h.upstream.scriptNext(upstreamErrors.toolConfigMissing());
    const error = await failure(h.client.messages.create(ask));
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.message).toContain('Improperly formed request');
    expect(error.message).toContain('TOOL_CONFIG_MISSING');
  });

  it('402 monthly quota → RateLimitError', async () => {
    h.upstream.scriptNext(upstreamErrors.monthlyLimit());
    const error = await failure(h.client.messages.create(ask));
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(error.message).toContain('quota');
  });

  it('429 throttling → RateLimitError with retry-after', async () => {
    h.upstream.scriptNext(upstreamErrors.throttled(7));
    const error = await failure(h.client.messages.create(ask));
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(error.headers?.get('retry-after')).toBe('7');
    expect((error.error as { error: { type: string } }).error.type).toBe('rate_limit_error');
  });

  it('403 suspended account → PermissionDeniedError', async () => {
    h.upstream.scriptNext(upstreamErrors.suspended());
    const error = await failure(h.client.messages.create(ask));
    expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(error.message).toContain('suspended');
  });

  it('INVALID_MODEL_ID → NotFoundError', async () => {
    h.upstream.scriptNext(upstreamErrors.invalidModel());
    const error = await failure(h.client.messages.create(ask));
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('500 → InternalServerError (api_error), 503 → overloaded_error', async () => {
    h.upstream.scriptNext(upstreamErrors.internal());
    const internal = await failure(h.client.messages.create(ask));
    expect(internal).toBeInstanceOf(Anthropic.InternalServerError);
    expect((internal.error as { error: { type: string } }).error.type).toBe('api_error');

    h.upstream.scriptNext(upstreamErrors.unavailable());
    const unavailable = await failure(h.client.messages.create(ask));
    expect(unavailable).toBeInstanceOf(Anthropic.InternalServerError);
    expect(unavailable.status).toBe(529);
    expect((unavailable.error as { error: { type: string } }).error.type).toBe('overloaded_error');
  });

  it('an exception frame before any content is still a real HTTP error', async () => {
    h.upstream.scriptNext(exceptionReply('ThrottlingException', 'Too many requests, please wait before trying again.'));
    const error = await failure(h.client.messages.create({ ...ask, stream: true }));
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
  });

  it('a rejected refresh token → AuthenticationError asking to sign in again, with no retry loop', async () => {
    const local = await startHarness();
    try {
      await local.client.messages.create(ask);
      local.upstream.account.revokeRefreshToken();
      local.upstream.account.expireAccessTokens();
      const error = await failure(local.client.messages.create(ask));
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(error.message).toContain('sign in again');
      const refreshes = local.upstream.requestsTo('refreshToken').length;
      const second = await failure(local.client.messages.create(ask));
      expect(second).toBeInstanceOf(Anthropic.AuthenticationError);
      // The dead refresh token is not tried again.
      expect(local.upstream.requestsTo('refreshToken').length).toBe(refreshes);
    } finally {
      await local.close();
    }
  });
});

describe('broken streams', () => {
  it('a stream cut mid-way ends with an error, never end_turn', async () => {
    h.upstream.scriptNext(cutReply('this answer will be cut off in the middle', 6, 3));
    const stream = await h.client.messages.create({ ...ask, stream: true });
    const { types, error } = await drain(stream);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(types).toContain('content_block_delta');
    expect(types).not.toContain('message_delta');
    expect(types).not.toContain('message_stop');
    const record = h.finished.at(-1)!;
    expect(record.error?.type).toBe('api_error');
    expect(record.stopReason).toBeUndefined();
  });

  it('the SDK MessageStream rejects on a cut stream', async () => {
    h.upstream.scriptNext(cutReply('partial answer here', 4, 2));
    const stream = h.client.messages.stream(ask);
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIError);
  });

  it('an error frame after some text becomes an SSE error event', async () => {
    h.upstream.scriptNext(errorFrameReply('InternalFailure', 'something broke upstream', { text: 'Starting the answer' }));
    const stream = await h.client.messages.create({ ...ask, stream: true });
    const { types, error } = await drain(stream);
    expect(types).toContain('content_block_delta');
    expect(types).not.toContain('message_stop');
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(String((error as Error).message)).toContain('something broke upstream');
  });

  it('an upstream stream that ends with nothing in it is an error, not an empty end_turn', async () => {
    h.upstream.scriptNext({ name: 'empty', steps: [] });
    // Known before anything was sent, so it is a real HTTP error rather than an error event.
    const error = await failure(h.client.messages.create({ ...ask, stream: true }));
    expect(error.status).toBe(502);
    expect(error.message).toContain('without sending any content');
  });

  it('a stream that ends inside a tool call (Kiro cutting it) never hands over a half tool call: the note and max_tokens', async () => {
    h.upstream.scriptNext({ name: 'tool-cut', steps: [{ tool: { name: 'Write', input: { path: 'a.ts', content: 'x'.repeat(200) }, noStop: true } }] });
    const stream = await h.client.messages.create({
      ...ask,
      stream: true,
      tools: [
        { name: 'Write', description: 'Write a file', input_schema: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } } } },
      ],
    });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.some((e) => e.type === 'content_block_start' && e.content_block.type === 'tool_use')).toBe(false);
    expect(events.find((e) => e.type === 'message_delta')).toMatchObject({ delta: { stop_reason: 'max_tokens' } });
    expect(events.at(-1)!.type).toBe('message_stop');
  });

  it('a non-streaming request whose upstream stream breaks gets an HTTP error', async () => {
    h.upstream.scriptNext(cutReply('partial', 4, 2));
    const error = await failure(h.client.messages.create(ask));
    expect(error.status).toBe(502);
  });

  it('in-stream ContentLengthExceededException ends the turn with max_tokens', async () => {
    h.upstream.scriptNext(exceptionReply('ContentLengthExceededException', 'output too long', { text: 'A long answer that' }));
    const message = await h.client.messages.create(ask);
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.content).toEqual([{ type: 'text', text: 'A long answer that' }]);
    expect(h.finished.at(-1)!.flags.truncated).toBe(true);
  });
});

describe('timeouts', () => {
  it('an upstream that stays silent longer than the request timeout → 504 timeout_error', async () => {
    h.bridge.updateConfig({ requestTimeoutSeconds: 0.3 });
    try {
      h.upstream.scriptNext(stallReply());
      const error = await failure(h.client.messages.create(ask));
      expect(error.status).toBe(504);
      expect((error.error as { error: { type: string } }).error.type).toBe('timeout_error');
      await h.upstream.waitFor((r) => r.endpoint === 'generate' && r.scenario === 'stall' && r.outcome === 'aborted');
    } finally {
      h.bridge.updateConfig({ requestTimeoutSeconds: 300 });
    }
  });

  it('a stream that goes silent mid-way ends with a timeout error event', async () => {
    h.bridge.updateConfig({ requestTimeoutSeconds: 0.3 });
    try {
      h.upstream.scriptNext(stallReply('some words, then silence'));
      const stream = await h.client.messages.create({ ...ask, stream: true });
      const { types, error } = await drain(stream);
      expect(types).toContain('content_block_delta');
      expect(types).not.toContain('message_stop');
      expect(error).toBeInstanceOf(Anthropic.APIError);
      expect(String((error as Error).message)).toContain('silent');
    } finally {
      h.bridge.updateConfig({ requestTimeoutSeconds: 300 });
    }
  });
});

describe('disconnects and shutdown', () => {
  it('a client that disconnects early aborts the upstream call', async () => {
    h.upstream.scriptNext(stallReply('first words'));
    const controller = new AbortController();
    const stream = await h.client.messages.create({ ...ask, stream: true }, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    // Read until the first text arrives, then walk away.
    for (;;) {
      const next = await iterator.next();
      if (next.done || next.value.type === 'content_block_delta') break;
    }
    controller.abort();
    const record = await h.upstream.waitFor((r) => r.endpoint === 'generate' && r.outcome === 'aborted');
    expect(record.scenario).toBe('stall');
    await eventually(() => h.finished.at(-1)?.status === 499, 5000, 'the bridge to record the disconnect');
    expect(h.bridge.inFlightCount).toBe(0);
  });

  it('stopping the bridge ends an open stream with an error event', async () => {
    const local = await startHarness();
    try {
      local.upstream.scriptNext(stallReply('an answer that never ends'));
      const stream = await local.client.messages.create({ ...ask, stream: true });
      const iterator = stream[Symbol.asyncIterator]();
      const types: string[] = [];
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        types.push(next.value.type);
        if (next.value.type === 'content_block_delta') break;
      }
      const stopped = local.bridge.stop();
      let error: unknown;
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          types.push(next.value.type);
        }
      } catch (e) {
        error = e;
      }
      await stopped;
      expect(error).toBeInstanceOf(Anthropic.APIError);
      expect(String((error as Error).message)).toContain('shutting down');
      expect(types).not.toContain('message_stop');
      expect(local.bridge.state).toBe('stopped');
      await local.upstream.waitFor((r) => r.endpoint === 'generate' && r.outcome !== 'pending');
    } finally {
      await local.close();
    }
  });

  it('a request waiting for the upstream when the bridge stops gets an overloaded error', async () => {
    const local = await startHarness();
    try {
      local.upstream.scriptNext({ name: 'slow-start', steps: [{ delayMs: 10_000 }, { text: 'late' }] });
      const pending = local.client.messages.create(ask).catch((e: unknown) => e);
      await local.upstream.waitFor((r) => r.endpoint === 'generate');
      await local.bridge.stop();
      const error = (await pending) as APIError;
      expect(error).toBeInstanceOf(Anthropic.InternalServerError);
      expect(error.status).toBe(529);
    } finally {
      await local.close();
    }
  });

  it('keeps serving after all of the above', async () => {
    h.upstream.scriptNext(textReply('still here'));
    const message = await h.client.messages.create(ask);
    expect(message.content).toEqual([{ type: 'text', text: 'still here' }]);
  });
});
