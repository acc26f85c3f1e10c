// The fake Kiro upstream, driven with plain fetch and our own EventStream decoder.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyRefreshFailure, classifyUpstreamResponse, type ErrorClass } from '../../src/kiro/errors';
import { toKiroEvent, type KiroEvent } from '../../src/kiro/codec/events';
import { EventStreamDecoder, EventStreamError } from '../../src/kiro/codec/eventstream';
import { encodeMessage } from '../support/eventstream-encoder';
import {
  BEARER_INVALID_MESSAGE,
  DEFAULT_MAX_BODY_BYTES,
  FREE_TIER_MODELS,
  LEGACY_MODEL_IDS,
  cutReply,
  cutToolReply,
  delayedReply,
  errorFrameReply,
  hangBeforeHeadersReply,
  resetBeforeHeadersReply,
  exceptionReply,
  fencedJsonReply,
  interleavedToolsReply,
  proseJsonReply,
  slowReply,
  stallReply,
  startFakeUpstream,
  textReply,
  thinkingReply,
  toolReply,
  reasoningReply,
  promptCacheReply,
  promptTokensOf,
  upstreamErrors,
  type FakeAccount,
  type FakeUpstream,
  type KiroGenerateBody,
  type Scenario,
  type ValidationRule,
} from '../support/fake-upstream';
import { fixtureJson, fixtureNames } from '../support/fixtures';
import { BUILDER_ID_PROFILE_ARN } from '../../src/kiro/signin/constants';

let upstream: FakeUpstream;

beforeEach(async () => {
  upstream = await startFakeUpstream();
});

afterEach(async () => {
  await upstream.close();
});

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

async function socialRefresh(account: FakeAccount = upstream.account): Promise<string> {
  const res = await fetch(`${upstream.baseUrl}/refreshToken`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: account.refreshToken }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

const TOOL = (name: string, description = `${name} does a thing`) => ({
  toolSpecification: { name, description, inputSchema: { json: { type: 'object', properties: {} } } },
});

/** A valid two-turn conversation with one tool round trip; tests break one rule at a time. */
function validBody(account: FakeAccount = upstream.account): KiroGenerateBody {
  return {
    conversationState: {
      conversationId: 'c0ffee00-0000-4000-8000-000000000001',
      chatTriggerType: 'MANUAL',
      agentTaskType: 'vibe',
      history: [
        { userInputMessage: { content: 'List the files.', modelId: 'claude-sonnet-4.5', origin: 'AI_EDITOR' } },
        {
          assistantResponseMessage: {
            content: 'Looking.',
            toolUses: [{ toolUseId: 'tooluse_aaaaaaaaaaaaaaaaaaaaaa', name: 'listDirectory', input: { path: '.' } }],
          },
        },
      ],
      currentMessage: {
        userInputMessage: {
          content: '',
          modelId: 'claude-sonnet-4.5',
          origin: 'AI_EDITOR',
          userInputMessageContext: {
            tools: [TOOL('listDirectory'), TOOL('readFile')],
            toolResults: [{ toolUseId: 'tooluse_aaaaaaaaaaaaaaaaaaaaaa', content: [{ text: 'a.ts\nb.ts' }], status: 'success' }],
          },
        },
      },
    },
    ...(upstream.streamingProfileOf(account) ? { profileArn: upstream.streamingProfileOf(account) } : {}),
  };
}

async function generate(token: string, body: unknown = validBody(), init: RequestInit = {}): Promise<Response> {
  return fetch(`${upstream.baseUrl}/generateAssistantResponse`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

async function eventsOf(res: Response): Promise<KiroEvent[]> {
  const decoder = new EventStreamDecoder();
  const messages = decoder.push(new Uint8Array(await res.arrayBuffer()));
  decoder.end();
  return messages.map(toKiroEvent);
}

/** Runs one scripted scenario through a fresh token and returns its events. */
async function play(scenario: Scenario, body: unknown = validBody()): Promise<KiroEvent[]> {
  upstream.scriptNext(scenario);
  const res = await generate(await socialRefresh(), body);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
  return eventsOf(res);
}

const textOf = (events: KiroEvent[]) =>
  events
    .filter((e) => e.type === 'assistantResponseEvent')
    .map((e) => (e.json as { content: string }).content)
    .join('');

type ToolFrame = { toolUseId: string; name?: string; input?: string; stop?: boolean };
const toolFrames = (events: KiroEvent[]) => events.filter((e) => e.type === 'toolUseEvent').map((e) => e.json as ToolFrame);

/** Reads a streaming body frame by frame (for tests that act mid-stream). */
function frameReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new EventStreamDecoder();
  const ready: KiroEvent[] = [];
  return {
    async next(): Promise<KiroEvent> {
      while (ready.length === 0) {
        const { done, value } = await reader.read();
        if (done) throw new Error('stream ended');
        ready.push(...decoder.push(value).map(toKiroEvent));
      }
      return ready.shift()!;
    },
    async rest(): Promise<KiroEvent[]> {
      const out = [...ready.splice(0)];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return out;
        out.push(...decoder.push(value).map(toKiroEvent));
      }
    },
    cancel: () => reader.cancel(),
  };
}

// ---------------------------------------------------------------------------------------------
// generateAssistantResponse: scenarios
// ---------------------------------------------------------------------------------------------

describe('generate: scripted scenarios', () => {
  it('answers the default short text when nothing is scripted', async () => {
    const res = await generate(await socialRefresh());
    expect(res.status).toBe(200);
    const events = await eventsOf(res);
    expect(events.every((e) => e.kind === 'event' && e.type === 'assistantResponseEvent')).toBe(true);
    expect(textOf(events)).toBe('Hello from the fake Kiro upstream.');
    const record = await upstream.settled(upstream.lastGenerate());
    expect(record).toMatchObject({ status: 200, outcome: 'completed', scenario: 'text', framesSent: events.length });
    expect(record.account).toBe(upstream.account);
  });

  it('splits text over the requested frames without breaking a code point', async () => {
    const text = 'héllo 🌍 wörld — 你好';
    const events = await play(textReply(text, { chunks: 7 }));
    expect(events).toHaveLength(7);
    expect(textOf(events)).toBe(text);
    for (const e of events) expect((e.json as { content: string }).content).not.toMatch(/[\uD800-\uDBFF]$/);
  });

  it('streams a tool call as start frame, input fragments and a stop frame', async () => {
    const input = { path: 'src/a.ts', lines: [1, 2, 3], note: 'ünïcode' };
    const events = await play(toolReply({ name: 'readFile', id: 'tooluse_fixed_id_0123456789', input, fragments: 4 }, { text: 'Reading.' }));
    expect(textOf(events)).toBe('Reading.');
    const frames = toolFrames(events);
    expect(frames[0]).toEqual({ name: 'readFile', toolUseId: 'tooluse_fixed_id_0123456789' });
    expect(frames.at(-1)).toEqual({ name: 'readFile', stop: true, toolUseId: 'tooluse_fixed_id_0123456789' });
    const fragments = frames.slice(1, -1);
    expect(fragments).toHaveLength(4);
    expect(JSON.parse(fragments.map((f) => f.input).join(''))).toEqual(input);
  });

  it('streams exact fragments verbatim, invalid JSON included', async () => {
    const events = await play(toolReply({ name: 'fsWrite', fragments: ['{"path":"/tmp/x', '","con', 'tent":"unterminated'] }));
    expect(
      toolFrames(events)
        .slice(1, -1)
        .map((f) => f.input),
    ).toEqual(['{"path":"/tmp/x', '","con', 'tent":"unterminated']);
  });

  it('gives generated tool ids the Kiro shape', async () => {
    const events = await play(
      toolReply([
        { name: 'a', input: {} },
        { name: 'b', input: { x: 1 } },
      ]),
    );
    const ids = [...new Set(toolFrames(events).map((f) => f.toolUseId))];
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^tooluse_[A-Za-z0-9_-]{22}$/);
  });

  it('interleaves several tools by id, each assembling to its own input', async () => {
    const a = { pattern: 'TODO', include: '**/*.ts' };
    const b = { command: 'ls -la', cwd: '/work' };
    const events = await play(
      interleavedToolsReply([
        { name: 'grepSearch', id: 'tooluse_A', input: a, fragments: 3 },
        { name: 'executeBash', id: 'tooluse_B', input: b, fragments: 3 },
      ]),
    );
    const frames = toolFrames(events);
    expect(frames.slice(0, 2).map((f) => f.toolUseId)).toEqual(['tooluse_A', 'tooluse_B']);
    // Fragments alternate between the two ids.
    expect(frames.slice(2, 8).map((f) => f.toolUseId)).toEqual(['tooluse_A', 'tooluse_B', 'tooluse_A', 'tooluse_B', 'tooluse_A', 'tooluse_B']);
    const assembled = (id: string) =>
      JSON.parse(
        frames
          .filter((f) => f.toolUseId === id && f.input)
          .map((f) => f.input)
          .join(''),
      );
    expect(assembled('tooluse_A')).toEqual(a);
    expect(assembled('tooluse_B')).toEqual(b);
    expect(
      frames
        .filter((f) => f.stop)
        .map((f) => f.toolUseId)
        .sort(),
    ).toEqual(['tooluse_A', 'tooluse_B']);
  });

  it('sends thinking as <thinking> text, tags split across frames', async () => {
    const events = await play(thinkingReply('Consider the files first.', 'Here is the answer.', { chunks: 9 }));
    expect(events.every((e) => e.type === 'assistantResponseEvent')).toBe(true);
    expect(textOf(events)).toBe('<thinking>Consider the files first.</thinking>\n\nHere is the answer.');
    const contents = events.map((e) => (e.json as { content: string }).content);
    // With 9 chunks over a 47-character thinking part, neither tag arrives whole in one frame.
    expect(contents.some((c) => c.includes('<thinking>'))).toBe(false);
  });

  it('sends native reasoning as reasoningContentEvent frames, signed for the serving account', async () => {
    const events = await play(reasoningReply('Consider the files first.', 'Here.', { chunks: 3, redacted: 'b3BhcXVl' }));
    const reasoning = events.filter((e) => e.type === 'reasoningContentEvent').map((e) => e.json as Record<string, string>);
    expect(reasoning[0]).toEqual({ redactedContent: 'b3BhcXVl' });
    expect(
      reasoning
        .slice(1, -1)
        .map((r) => r.text)
        .join(''),
    ).toBe('Consider the files first.');
    expect(reasoning.slice(1, -1).every((r) => Object.keys(r).join() === 'text')).toBe(true);
    const signature = reasoning.at(-1)!.signature!;
    expect(upstream.account.verifiesReasoning('Consider the files first.', signature)).toBe(true);
    expect(textOf(events)).toBe('Here.');
    // A scripted signature is sent as given; `false` sends none.
    const literal = await play({ steps: [{ reasoning: 'r', signature: 'given' }, { reasoning: 's', signature: false }, { text: 'x' }] });
    expect(literal.filter((e) => e.type === 'reasoningContentEvent').map((e) => e.json)).toEqual([{ text: 'r' }, { signature: 'given' }, { text: 's' }]);
  });

  it("sends Kiro's token counts in a metadataEvent, with their total", async () => {
    const events = await play(
      textReply('ok', { chunks: 1, tokenUsage: { uncachedInputTokens: 3, cacheReadInputTokens: 40, cacheWriteInputTokens: 5, outputTokens: 2 } }),
    );
    expect(events.slice(1)).toEqual([
      {
        kind: 'event',
        type: 'metadataEvent',
        json: { tokenUsage: { uncachedInputTokens: 3, cacheReadInputTokens: 40, cacheWriteInputTokens: 5, outputTokens: 2, totalTokens: 50 } },
      },
    ]);
  });

  it('models the prompt cache: the same conversation id reads the previous prompt back', async () => {
    upstream.script(promptCacheReply('cached answer'));
    const token = await socialRefresh();
    const usageOf = async (body: KiroGenerateBody) => {
      const events = eventsOf(await generate(token, body));
      return ((await events).find((e) => e.type === 'metadataEvent')!.json as { tokenUsage: Record<string, number> }).tokenUsage;
    };
    const first = validBody();
    const prompt = promptTokensOf(first);
    expect(await usageOf(first)).toMatchObject({ cacheReadInputTokens: 0, cacheWriteInputTokens: prompt, uncachedInputTokens: 0 });
    const longer = validBody();
    longer.conversationState!.currentMessage!.userInputMessage!.content = 'and one more thing';
    expect(await usageOf(longer)).toMatchObject({ cacheReadInputTokens: prompt, cacheWriteInputTokens: promptTokensOf(longer) - prompt });
    const elsewhere = validBody();
    elsewhere.conversationState!.conversationId = 'c0ffee00-0000-4000-8000-000000000002';
    expect(await usageOf(elsewhere)).toMatchObject({ cacheReadInputTokens: 0 });
  });

  it('sends JSON the way models wrap it: in a fence after a sentence, or inside prose', async () => {
    const value = { city: 'Paris', temperature: 21.5, tags: ['sunny'] };
    const fenced = await play(fencedJsonReply(value, { after: 'Anything else?' }));
    expect(fenced.length).toBeGreaterThan(1);
    expect(textOf(fenced)).toBe(`Here is the JSON you asked for:\n\n\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\`\n\nAnything else?`);
    const prose = await play(proseJsonReply(value));
    expect(textOf(prose)).toBe(`Sure! The result is ${JSON.stringify(value)} Let me know if you need anything else.`);
  });

  it('sends meteringEvent and contextUsageEvent payloads as Kiro does', async () => {
    const events = await play(textReply('ok', { chunks: 1, contextUsage: 12.5, metering: 0.42 }));
    expect(events.slice(1)).toEqual([
      { kind: 'event', type: 'contextUsageEvent', json: { contextUsagePercentage: 12.5 } },
      { kind: 'event', type: 'meteringEvent', json: { unit: 'credit', unitPlural: 'credits', usage: 0.42 } },
    ]);
  });

  it('sends exception frames after partial output', async () => {
    const events = await play(exceptionReply('ContentLengthExceededException', 'Response too long', { text: 'partial' }));
    expect(events).toEqual([
      { kind: 'event', type: 'assistantResponseEvent', json: { content: 'partial' } },
      { kind: 'exception', type: 'ContentLengthExceededException', json: { message: 'Response too long' } },
    ]);
    const throttled = await play(exceptionReply('ThrottlingException'));
    expect(throttled[0]).toMatchObject({ kind: 'exception', type: 'ThrottlingException' });
  });

  it('cuts a large tool input the ways Kiro does: truncated at stop, empty, unfinished, or by ContentLengthExceededException', async () => {
    const input = { file_path: '/src/big.ts', content: 'line\n'.repeat(50) };
    const whole = JSON.stringify(input);
    const inputOf = (frames: ToolFrame[]) => frames.map((f) => f.input ?? '').join('');

    const truncated = await play(cutToolReply({ name: 'Write', input, cut: 'truncated', keep: 40 }, { text: 'Writing.', metering: 0.3, contextUsage: 12 }));
    expect(textOf(truncated)).toBe('Writing.');
    const frames = toolFrames(truncated);
    expect(frames[0]).toMatchObject({ name: 'Write' });
    expect(inputOf(frames)).toBe(whole.slice(0, 40));
    expect(frames.at(-1)).toMatchObject({ stop: true });
    expect(truncated.slice(-2).map((e) => e.type)).toEqual(['contextUsageEvent', 'meteringEvent']);

    const empty = toolFrames(await play(cutToolReply({ name: 'Write', input, cut: 'empty' })));
    expect(inputOf(empty)).toBe('');
    expect(empty.at(-1)).toMatchObject({ stop: true });

    const unfinished = await play(cutToolReply({ name: 'Write', input, cut: 'unfinished', keep: 30 }, { metering: 1 }));
    expect(inputOf(toolFrames(unfinished))).toBe(whole.slice(0, 30));
    expect(toolFrames(unfinished).some((f) => f.stop)).toBe(false);
    expect(unfinished.at(-1)!.type).toBe('toolUseEvent');

    const limited = await play(cutToolReply({ name: 'Write', input, cut: 'truncated', exception: true }));
    expect(toolFrames(limited).some((f) => f.stop)).toBe(false);
    expect(limited.at(-1)).toMatchObject({ kind: 'exception', type: 'ContentLengthExceededException' });

    const afterRead = toolFrames(await play(cutToolReply({ name: 'Write', input, cut: 'empty' }, { before: [{ name: 'Read', input: { file_path: 'a' } }] })));
    expect(afterRead.filter((f) => f.stop).length).toBe(2);
    expect(afterRead[0]).toMatchObject({ name: 'Read' });
  });

  it('sends :message-type error frames with code and message', async () => {
    const events = await play(errorFrameReply('InternalFailure', 'backend went away', { text: 'a' }));
    expect(events[1]).toEqual({ kind: 'error', type: 'InternalFailure', json: { message: 'backend went away' } });
  });

  it('passes odd raw frames through untouched (a corrupt CRC reaches the client)', async () => {
    const good = encodeMessage({
      headers: { ':event-type': { type: 'string', value: 'assistantResponseEvent' }, ':message-type': { type: 'string', value: 'event' } },
      payload: Buffer.from('{"content":"x"}'),
    });
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length - 6]! ^= 0x01;
    upstream.scriptNext({ steps: [{ frame: good }, { frame: corrupt }] });
    const res = await generate(await socialRefresh());
    const decoder = new EventStreamDecoder();
    let failure: unknown;
    try {
      decoder.push(new Uint8Array(await res.arrayBuffer()));
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(EventStreamError);
    expect((failure as EventStreamError).code).toBe('MESSAGE_CRC_MISMATCH');
    expect((failure as EventStreamError).decoded).toHaveLength(1);
  });

  it('adds modelId to text events when asked, like newer streams', async () => {
    const events = await play({ ...textReply('hi', { chunks: 1 }), echoModelId: true });
    expect(events[0]!.json).toEqual({ content: 'hi', modelId: 'claude-sonnet-4.5' });
  });

  it('re-chunks the byte stream so frames straddle writes, without changing the frames', async () => {
    const scenario = toolReply({ name: 'readFile', input: { path: 'x'.repeat(300) } }, { text: 'some text here' });
    const whole = await play(scenario);
    const chunked = await play({ ...scenario, chunkBytes: 7 });
    expect(chunked).toEqual(whole);
  });

  it('can end a stream with no further frames (a tool that never stops)', async () => {
    const events = await play(toolReply({ name: 'readFile', input: { path: 'a' }, noStop: true }));
    expect(toolFrames(events).some((f) => f.stop)).toBe(false);
    expect((await upstream.settled(upstream.lastGenerate())).outcome).toBe('completed');
  });

  it('can answer a stream with no frames at all', async () => {
    upstream.scriptNext({ name: 'empty', steps: [] });
    const res = await generate(await socialRefresh());
    expect(res.status).toBe(200);
    expect(await eventsOf(res)).toEqual([]);
    expect(await upstream.settled(upstream.lastGenerate())).toMatchObject({ outcome: 'completed', framesSent: 0 });
  });

  it('lets a responder function answer from the request', async () => {
    upstream.script(({ body, callNumber }) => {
      const content = body.conversationState?.currentMessage?.userInputMessage?.content;
      return textReply(`#${callNumber}: ${String(content)}`, { chunks: 1 });
    });
    const token = await socialRefresh();
    const body = validBody();
    body.conversationState!.history = [];
    body.conversationState!.currentMessage!.userInputMessage = { content: 'ping', modelId: 'auto', origin: 'AI_EDITOR' };
    expect(textOf(await eventsOf(await generate(token, body)))).toBe('#1: ping');
    expect(textOf(await eventsOf(await generate(token, body)))).toBe('#2: ping');
  });

  it('consumes per-account one-shots, then server one-shots, then the persistent reply, then the default', async () => {
    const token = await socialRefresh();
    upstream.script(textReply('persistent', { chunks: 1 }));
    upstream.scriptNext(textReply('server-1', { chunks: 1 }), textReply('server-2', { chunks: 1 }));
    upstream.account.scriptNext(textReply('account-1', { chunks: 1 }));
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) answers.push(textOf(await eventsOf(await generate(token))));
    expect(answers).toEqual(['account-1', 'server-1', 'server-2', 'persistent', 'persistent']);
    upstream.clearScripts();
    expect(textOf(await eventsOf(await generate(token)))).toBe('Hello from the fake Kiro upstream.');
  });

  it('rejects a scenario mixing an http step with stream steps', async () => {
    upstream.scriptNext({ steps: [{ text: 'a' }, { http: { status: 500 } }] });
    const res = await generate(await socialRefresh());
    expect(res.status).toBe(500);
    expect(upstream.internalErrors[0]?.message).toMatch(/last step/);
  });
});

// ---------------------------------------------------------------------------------------------
// generateAssistantResponse: HTTP errors
// ---------------------------------------------------------------------------------------------

describe('generate: upstream HTTP errors', () => {
  const cases: [keyof typeof upstreamErrors, number, Record<string, unknown>, ErrorClass][] = [
    ['improperlyFormed', 400, { message: 'Improperly formed request.', reason: null }, 'bad_request'],
    ['invalidToolUse', 400, { message: 'Invalid tool use format.', reason: 'REQUEST_BODY_INVALID' }, 'bad_request'],
    ['toolConfigMissing', 400, { message: 'Improperly formed request.', reason: 'TOOL_CONFIG_MISSING' }, 'bad_request'],
    ['contentLengthExceeded', 400, { reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' }, 'prompt_too_long'],
    ['invalidModel', 400, { reason: 'INVALID_MODEL_ID' }, 'model_unavailable'],
    ['monthlyLimit', 402, { message: 'You have reached the limit.', reason: 'MONTHLY_REQUEST_COUNT' }, 'quota_exhausted'],
    ['bearerInvalid', 403, { message: BEARER_INVALID_MESSAGE }, 'token_expired'],
    ['suspended', 403, { reason: 'TEMPORARILY_SUSPENDED' }, 'account_suspended'],
    ['throttled', 429, { message: 'Too many requests, please wait before trying again.' }, 'throttled'],
    ['insufficientCapacity', 500, { reason: 'INSUFFICIENT_MODEL_CAPACITY' }, 'upstream_unavailable'],
    ['internal', 500, {}, 'upstream_unavailable'],
    ['unavailable', 503, {}, 'upstream_unavailable'],
  ];

  it.each(cases)('%s → HTTP %i with the upstream body, classified as %s', async (name, status, body, errorClass) => {
    const scenario = (upstreamErrors[name] as () => Scenario)();
    upstream.scriptNext(scenario);
    const res = await generate(await socialRefresh());
    expect(res.status).toBe(status);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject(body);
    expect(res.headers.get('x-amzn-errortype')).toBeTruthy();
    const headers = Object.fromEntries(res.headers);
    expect(classifyUpstreamResponse(res.status, text, headers).errorClass).toBe(errorClass);
  });

  it('sends retry-after with a throttle', async () => {
    upstream.scriptNext(upstreamErrors.throttled(7));
    const res = await generate(await socialRefresh());
    expect(res.headers.get('retry-after')).toBe('7');
    expect(classifyUpstreamResponse(429, await res.text(), Object.fromEntries(res.headers)).retryAfterSeconds).toBe(7);
  });
});

// ---------------------------------------------------------------------------------------------
// generateAssistantResponse: bearer tokens and account state
// ---------------------------------------------------------------------------------------------

describe('generate: bearer tokens, suspension and credits', () => {
  it('refuses a call without a bearer token, or with one the fake never issued', async () => {
    const none = await fetch(`${upstream.baseUrl}/generateAssistantResponse`, { method: 'POST', body: JSON.stringify(validBody()) });
    expect(none.status).toBe(403);
    expect(await none.json()).toEqual({ message: BEARER_INVALID_MESSAGE });
    const forged = await generate('aoa-forged-token-that-the-fake-never-issued-000000');
    expect(forged.status).toBe(403);
    expect(upstream.generateRequests.map((r) => r.refusal)).toEqual(['no bearer token', 'unknown bearer token']);
  });

  it('refuses an expired access token and accepts the refreshed one', async () => {
    const old = await socialRefresh();
    upstream.account.expireAccessTokens();
    const refused = await generate(old);
    expect(refused.status).toBe(403);
    expect(classifyUpstreamResponse(403, await refused.text()).errorClass).toBe('token_expired');
    expect(upstream.lastGenerate().refusal).toBe('access token expired');
    expect(upstream.lastGenerate().account).toBe(upstream.account);
    expect((await generate(await socialRefresh())).status).toBe(200);
  });

  it('expires access tokens on the injected clock after accessTokenTtlSeconds', async () => {
    let clock = Date.UTC(2026, 5, 1);
    const timed = await startFakeUpstream({ now: () => clock, accounts: [{ accessTokenTtlSeconds: 3600 }] });
    try {
      const refreshed = await fetch(`${timed.baseUrl}/refreshToken`, { method: 'POST', body: JSON.stringify({ refreshToken: timed.account.refreshToken }) });
      const { accessToken } = (await refreshed.json()) as { accessToken: string };
      const call = () =>
        fetch(`${timed.baseUrl}/generateAssistantResponse`, {
          method: 'POST',
          headers: { authorization: `Bearer ${accessToken}` },
          body: JSON.stringify(validBody(timed.account)),
        }).then(async (r) => (await r.arrayBuffer(), r.status));
      clock += 3599_000;
      expect(await call()).toBe(200);
      clock += 1_000;
      expect(await call()).toBe(403);
      expect(timed.generateRequests[1]!.refusal).toBe('access token expired');
    } finally {
      await timed.close();
    }
  });

  it('hands out a Kiro IDE token file whose access token works', async () => {
    const file = upstream.account.kiroIdeTokenFile();
    expect(file).toMatchObject({
      refreshToken: upstream.account.refreshToken,
      authMethod: 'social',
      profileArn: upstream.account.profileArn,
      region: 'us-east-1',
    });
    expect(Date.parse(file.expiresAt!)).toBeGreaterThan(Date.now());
    expect((await generate(file.accessToken!)).status).toBe(200);
    expect(upstream.refreshCount()).toBe(0);
  });

  it('answers 403 TEMPORARILY_SUSPENDED for a suspended account', async () => {
    const token = await socialRefresh();
    upstream.account.suspend();
    const res = await generate(token);
    expect(res.status).toBe(403);
    expect(classifyUpstreamResponse(403, await res.text()).errorClass).toBe('account_suspended');
    upstream.account.unsuspend();
    expect((await generate(token)).status).toBe(200);
  });

  it('answers 402 once the account has used its credits (creditsPerCall)', async () => {
    const account = upstream.addAccount({ usage: { limit: 2 }, creditsPerCall: 1 });
    const token = await socialRefresh(account);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await generate(token, validBody(account));
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 402]);
    expect(account.remainingCredits).toBe(0);
    expect(upstream.lastGenerate().refusal).toBe('credits exhausted');
  });

  it('charges the metering of the reply when the account has no fixed price', async () => {
    const token = await socialRefresh();
    await eventsOf(await (upstream.scriptNext(textReply('a', { metering: 0.42 })), generate(token)));
    await eventsOf(await (upstream.scriptNext(textReply('b', { metering: 1.5 })), generate(token)));
    expect(upstream.account.usedCredits).toBeCloseTo(1.92, 10);
    // HTTP error replies cost nothing.
    upstream.scriptNext(upstreamErrors.internal());
    await (await generate(token)).text();
    expect(upstream.account.usedCredits).toBeCloseTo(1.92, 10);
  });

  it('counts free trial and active bonuses towards the remaining credits', async () => {
    const account = upstream.addAccount({
      usage: {
        limit: 50,
        used: 49,
        freeTrial: { limit: 500, used: 498 },
        bonuses: [
          { limit: 10, used: 4 },
          { limit: 100, status: 'EXPIRED' },
        ],
      },
    });
    expect(account.remainingCredits).toBe(1 + 2 + 6);
  });
});

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

describe('generate: request validation', () => {
  type Mutation = (body: KiroGenerateBody) => void;
  const state = (b: KiroGenerateBody) => b.conversationState!;
  const current = (b: KiroGenerateBody) => state(b).currentMessage!.userInputMessage!;
  const history = (b: KiroGenerateBody) => state(b).history!;
  const assistant = (b: KiroGenerateBody) => history(b)[1]!.assistantResponseMessage!;
  const tools = (b: KiroGenerateBody) => current(b).userInputMessageContext!.tools!;
  const results = (b: KiroGenerateBody) => current(b).userInputMessageContext!.toolResults!;

  const cases: [ValidationRule, Mutation, Record<string, unknown>][] = [
    ['missing_conversation_state', (b) => delete b.conversationState, { message: 'Improperly formed request.', reason: null }],
    ['missing_current_message', (b) => delete state(b).currentMessage, { reason: null }],
    ['content_not_string', (b) => (current(b).content = ['not', 'a', 'string']), { reason: null }],
    ['model_id_missing', (b) => delete current(b).modelId, { reason: null }],
    [
      'invalid_model_id',
      (b) => (current(b).modelId = 'claude-imaginary-9'),
      { message: 'Invalid model. Please select a different model to continue.', reason: 'INVALID_MODEL_ID' },
    ],
    ['history_not_array', (b) => (state(b).history = {} as never), { reason: null }],
    [
      'history_entry_invalid',
      (b) => history(b).splice(1, 1, { userInputMessage: { content: 'x' }, assistantResponseMessage: { content: 'y' } }),
      { reason: null },
    ],
    [
      'history_starts_with_assistant',
      (b) => history(b).unshift({ assistantResponseMessage: { content: 'I go first' } }, { userInputMessage: { content: 'fine', modelId: 'auto' } }),
      { reason: null },
    ],
    [
      'history_not_alternating',
      (b) => history(b).push({ assistantResponseMessage: { content: 'twice' } }),
      { message: 'Improperly formed request.', reason: null },
    ],
    [
      'history_ends_with_user',
      (b) => {
        history(b).push({ userInputMessage: { content: 'and again', modelId: 'claude-sonnet-4.5' } });
        delete current(b).userInputMessageContext!.toolResults;
      },
      { reason: null },
    ],
    ['empty_assistant_content', (b) => (assistant(b).content = ''), { reason: null }],
    [
      'tool_spec_invalid',
      (b) => tools(b).push({ toolSpecification: { description: 'nameless', inputSchema: { json: {} } } }),
      { reason: 'REQUEST_BODY_INVALID' },
    ],
    [
      'tool_description_empty',
      (b) => (tools(b)[1]!.toolSpecification!.description = ''),
      { message: 'Invalid tool use format.', reason: 'REQUEST_BODY_INVALID' },
    ],
    ['tool_name_too_long', (b) => tools(b).push(TOOL('t'.repeat(65))), { message: 'Invalid tool use format.', reason: 'REQUEST_BODY_INVALID' }],
    ['tool_schema_invalid', (b) => (tools(b)[1]!.toolSpecification!.inputSchema = { json: 'object' }), { reason: 'REQUEST_BODY_INVALID' }],
    ['tool_config_missing', (b) => tools(b).splice(0, 1), { message: 'Improperly formed request.', reason: 'TOOL_CONFIG_MISSING' }],
    ['tool_use_input_not_object', (b) => (assistant(b).toolUses![0]!.input = '{"path":"."}'), { reason: null }],
    [
      'duplicate_tool_use_id',
      (b) => assistant(b).toolUses!.push({ toolUseId: 'tooluse_aaaaaaaaaaaaaaaaaaaaaa', name: 'readFile', input: {} }),
      { reason: null },
    ],
    ['tool_result_unmatched', (b) => (results(b)[0]!.toolUseId = 'tooluse_from_nowhere'), { reason: null }],
    ['tool_result_invalid', (b) => (results(b)[0]!.content = 'plain string'), { reason: null }],
    ['image_invalid', (b) => (current(b).images = [{ format: 'png', source: { url: 'https://example.com/a.png' } }]), { reason: null }],
    [
      'reasoning_content_invalid',
      (b) => (assistant(b).reasoningContent = { text: 'flat', signature: 'sig' }),
      { message: 'Improperly formed request.', reason: 'REQUEST_BODY_INVALID' },
    ],
    [
      'thinking_signature_invalid',
      (b) => (assistant(b).reasoningContent = { reasoningText: { text: 'forged', signature: 'bm90IGlzc3VlZA==' } }),
      { message: 'Improperly formed request.', reason: 'THINKING_SIGNATURE_INVALID' },
    ],
  ];

  it.each(cases)('rejects %s with the upstream 400 body', async (rule, mutate, body) => {
    const token = await socialRefresh();
    const valid = validBody();
    expect((await generate(token, valid)).status).toBe(200);
    const broken = validBody();
    mutate(broken);
    const res = await generate(token, broken);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-fake-kiro-rule')).toBe(rule);
    expect(await res.json()).toMatchObject(body);
    expect(upstream.lastGenerate().rejectedBy).toBe(rule);
    expect(upstream.lastGenerate().refusal).toBeTruthy();
  });

  it('accepts reasoning its account signed for exactly that text; refuses a changed text or another account', async () => {
    const other = upstream.addAccount({ kind: 'social' });
    const signed = (account: FakeAccount, text: string, signature: string) => {
      const body = validBody(account);
      body.conversationState!.history![1]!.assistantResponseMessage!.reasoningContent = { reasoningText: { text, signature } };
      return body;
    };
    const token = await socialRefresh();
    const signature = upstream.account.signReasoning('Let me look.');
    expect((await generate(token, signed(upstream.account, 'Let me look.', signature))).status).toBe(200);
    const changed = await generate(token, signed(upstream.account, 'Let me look!', signature));
    expect(changed.status).toBe(400);
    expect(changed.headers.get('x-fake-kiro-rule')).toBe('thinking_signature_invalid');
    const elsewhere = await generate(await socialRefresh(other), signed(other, 'Let me look.', signature));
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.json()).toEqual({ message: 'Improperly formed request.', reason: 'THINKING_SIGNATURE_INVALID' });
  });

  it('answers a body that is not JSON like the upstream', async () => {
    const res = await generate(await socialRefresh(), '{"conversationState": ');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: 'The request body is not valid JSON.' });
    expect(upstream.lastGenerate().rejectedBy).toBe('body_not_json');
  });

  it('accepts a single-turn request with no history and no tools', async () => {
    const body: KiroGenerateBody = {
      conversationState: {
        conversationId: 'x',
        chatTriggerType: 'MANUAL',
        currentMessage: { userInputMessage: { content: 'hi', modelId: 'auto', origin: 'AI_EDITOR', userInputMessageContext: {} } },
      },
      profileArn: upstream.account.profileArn,
    };
    expect((await generate(await socialRefresh(), body)).status).toBe(200);
  });

  it('accepts whitespace assistant content (the 2026 placeholder) and base64 images', async () => {
    const body = validBody();
    body.conversationState!.history![1]!.assistantResponseMessage!.content = ' ';
    body.conversationState!.currentMessage!.userInputMessage!.images = [{ format: 'png', source: { bytes: 'iVBORw0KGgo=' } }];
    expect((await generate(await socialRefresh(), body)).status).toBe(200);
  });

  it('serves a model only to the accounts whose tier has it', async () => {
    const free = upstream.addAccount({ models: [...FREE_TIER_MODELS] });
    const body = validBody(free);
    body.conversationState!.currentMessage!.userInputMessage!.modelId = 'claude-opus-4.6';
    const res = await generate(await socialRefresh(free), body);
    expect(res.status).toBe(400);
    expect(classifyUpstreamResponse(400, await res.text()).errorClass).toBe('model_unavailable');
    expect((await generate(await socialRefresh(), { ...body, profileArn: upstream.account.profileArn })).status).toBe(200);
  });

  it('answers CONTENT_LENGTH_EXCEEDS_THRESHOLD above the configured input size', async () => {
    upstream.validation = { maxInputChars: 1_000 };
    const body = validBody();
    body.conversationState!.currentMessage!.userInputMessage!.content = 'x'.repeat(1_001);
    const res = await generate(await socialRefresh(), body);
    expect(res.status).toBe(400);
    expect(classifyUpstreamResponse(400, await res.text()).errorClass).toBe('prompt_too_long');
    body.conversationState!.currentMessage!.userInputMessage!.content = 'x'.repeat(500);
    expect((await generate(await socialRefresh(), body)).status).toBe(200);
  });

  it('refuses a raw body over ~600 KB before reading it, with CONTENT_LENGTH_EXCEEDS_THRESHOLD', async () => {
    const token = await socialRefresh();
    const body = validBody();
    const sized = (bytes: number) => {
      body.conversationState!.currentMessage!.userInputMessage!.content = '';
      const overhead = Buffer.byteLength(JSON.stringify(body));
      // Multi-byte characters, so bytes and characters differ: the limit is in UTF-8 bytes.
      body.conversationState!.currentMessage!.userInputMessage!.content = 'é'.repeat(Math.floor((bytes - overhead) / 2)) + 'x'.repeat((bytes - overhead) % 2);
      expect(Buffer.byteLength(JSON.stringify(body))).toBe(bytes);
      return body;
    };
    upstream.validation = { maxInputChars: 10_000_000 };
    const over = await generate(token, sized(DEFAULT_MAX_BODY_BYTES + 1));
    expect(over.status).toBe(400);
    expect(over.headers.get('x-fake-kiro-rule')).toBe('body_too_large');
    const said = await over.text();
    expect(JSON.parse(said)).toEqual({ message: 'Input content length exceeds threshold.', reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' });
    expect(classifyUpstreamResponse(400, said).errorClass).toBe('prompt_too_long');
    expect(upstream.lastGenerate().rejectedBy).toBe('body_too_large');
    expect((await generate(token, sized(DEFAULT_MAX_BODY_BYTES))).status).toBe(200);
    upstream.validation = { maxBodyBytes: 5_000 };
    expect((await generate(token, sized(5_001))).status).toBe(400);
    expect((await generate(token, sized(5_000))).status).toBe(200);
  });

  it('demands the profile each kind of login must send, and refuses a wrong one', async () => {
    const token = await socialRefresh();
    const body = validBody();
    delete body.profileArn;
    const missing = await generate(token, body);
    expect(missing.status).toBe(400);
    expect(missing.headers.get('x-fake-kiro-rule')).toBe('profile_arn_missing');
    expect(await missing.json()).toEqual({ message: 'profileArn is required for this request.', reason: null });
    expect(classifyUpstreamResponse(400, JSON.stringify({ message: 'profileArn is required for this request.', reason: null })).errorClass).toBe(
      'profile_rejected',
    );

    const wrong = await generate(token, { ...body, profileArn: 'arn:aws:codewhisperer:us-east-1:111111111111:profile/SOMEONEELSE' });
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('x-fake-kiro-rule')).toBe('profile_arn_refused');
    const refusal = await wrong.text();
    expect(classifyUpstreamResponse(403, refusal, { 'x-amzn-errortype': 'AccessDeniedException' }).errorClass).toBe('profile_rejected');
    expect((await generate(token, validBody())).status).toBe(200);

    // A Builder ID login: Kiro's fixed placeholder; an Identity Center login: one of its profiles.
    const builder = upstream.addAccount({ kind: 'idc' });
    const builderToken = builder.issueAccessToken();
    expect((await generate(builderToken, body)).status).toBe(400);
    expect((await generate(builderToken, { ...body, profileArn: BUILDER_ID_PROFILE_ARN })).status).toBe(200);
    const enterprise = upstream.addAccount({ kind: 'idc', idcType: 'enterprise' });
    const enterpriseToken = enterprise.issueAccessToken();
    const [own] = upstream.profileArnsOf(enterprise);
    expect(own).toMatch(/^arn:aws:codewhisperer:/);
    expect((await generate(enterpriseToken, { ...body, profileArn: BUILDER_ID_PROFILE_ARN })).status).toBe(403);
    expect((await generate(enterpriseToken, { ...body, profileArn: own })).status).toBe(200);

    upstream.validation = { skip: ['profile_arn_missing'] };
    expect((await generate(token, body)).status).toBe(200);
  });

  it('answers ListAvailableProfiles for Identity Center logins and refuses Builder ID ones', async () => {
    const list = (token: string) =>
      fetch(`${upstream.baseUrl}/`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'AmazonCodeWhispererService.ListAvailableProfiles',
        },
        body: JSON.stringify({ maxResults: 10 }),
      });
    const builder = await list(upstream.addAccount({ kind: 'idc' }).issueAccessToken());
    expect(builder.status).toBe(403);
    expect(await builder.json()).toMatchObject({ message: 'AWS Builder ID is not supported for this operation.' });
    const enterprise = upstream.addAccount({ kind: 'idc', idcType: 'enterprise' });
    const listed = await list(enterprise.issueAccessToken());
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { profiles: { arn: string }[] }).profiles.map((p) => p.arn)).toEqual(upstream.profileArnsOf(enterprise));
  });

  it('can skip single rules or switch body validation off (auth still checked)', async () => {
    const token = await socialRefresh();
    const body = validBody();
    body.conversationState!.history!.push({ assistantResponseMessage: { content: '' } });
    upstream.validation = { skip: ['history_not_alternating'] };
    expect((await generate(token, body)).headers.get('x-fake-kiro-rule')).toBe('empty_assistant_content');
    upstream.validation = { enabled: false };
    expect((await generate(token, body)).status).toBe(200);
    expect((await generate(token, 'not json at all')).status).toBe(200);
    expect((await generate('aoaNotIssuedByTheFake000000000000', body)).status).toBe(403);

    const lax = await startFakeUpstream({ validate: false });
    try {
      expect(lax.validation.enabled).toBe(false);
    } finally {
      await lax.close();
    }
  });
});

describe('generate: real Kiro IDE request captures', () => {
  const captures = fixtureNames('.json').filter((f) => f.startsWith('kiroIDE_captured_req'));

  it('finds the captures', () => {
    expect(captures.length).toBeGreaterThanOrEqual(5);
  });

  it.each(captures)('%s is accepted by the Aug-2025 rules it was sent under', async (name) => {
    const account = upstream.addAccount({ models: [...LEGACY_MODEL_IDS] });
    // Kiro did not demand a profile in 2025 (the original proxy removed it then and worked); the captures carry none.
    upstream.validation = { emptyAssistantContent: 'allow-with-tool-uses', skip: ['profile_arn_missing'] };
    const res = await generate(await socialRefresh(account), fixtureJson(name));
    expect(upstream.lastGenerate().refusal).toBeUndefined();
    expect(res.status).toBe(200);
  });

  it.each(captures)('%s passes the 2026 rules once empty assistant turns carry a placeholder', async (name) => {
    const account = upstream.addAccount({ models: [...LEGACY_MODEL_IDS] });
    const token = await socialRefresh(account);
    // The 2026 rules also demand the account's profile, which the 2025 captures lack.
    const body = { ...fixtureJson<KiroGenerateBody>(name), profileArn: account.profileArn };
    const empties = body.conversationState!.history!.filter((h) => h.assistantResponseMessage?.content === '');
    const res = await generate(token, body);
    if (empties.length > 0) {
      // The captures predate the 2026 upstream, which rejects empty assistant content.
      expect(res.status).toBe(400);
      expect(upstream.lastGenerate().rejectedBy).toBe('empty_assistant_content');
    } else {
      expect(res.status).toBe(200);
    }
    for (const entry of empties) entry.assistantResponseMessage!.content = ' ';
    expect((await generate(token, body)).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// Token refresh
// ---------------------------------------------------------------------------------------------

describe('Social /refreshToken', () => {
  it('issues an access token with expiresIn and profileArn, and counts the calls', async () => {
    const account = upstream.addAccount({ accessTokenTtlSeconds: 900 });
    const res = await fetch(`${upstream.baseUrl}/refreshToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: account.refreshToken }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ accessToken: account.accessToken, expiresIn: 900, profileArn: account.profileArn });
    expect(body.accessToken).toMatch(/^aoa/);
    expect(account.profileArn).toMatch(/^arn:aws:codewhisperer:us-east-1:\d{12}:profile\/[A-Z0-9_-]+$/);
    expect(account.refreshToken).toMatch(/^aor/);
    expect(account.refreshToken.length).toBeGreaterThanOrEqual(100);
    expect(upstream.refreshCount(account.refreshToken)).toBe(1);
    expect(upstream.refreshCount(upstream.account.refreshToken)).toBe(0);
    expect(account.refreshes).toBe(1);
    expect(upstream.requestsTo('refreshToken')[0]!.account).toBe(account);
  });

  it('rotates the refresh token when configured; the old one then fails', async () => {
    const account = upstream.addAccount({ rotateRefreshToken: true });
    const first = account.refreshToken;
    const post = (refreshToken: string) =>
      fetch(`${upstream.baseUrl}/refreshToken`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }) });
    const rotated = (await (await post(first)).json()) as { refreshToken?: string };
    expect(rotated.refreshToken).toBe(account.refreshToken);
    expect(rotated.refreshToken).not.toBe(first);
    const stale = await post(first);
    expect(stale.status).toBe(401);
    const text = await stale.text();
    expect(JSON.parse(text)).toEqual({ message: 'Invalid refresh token provided' });
    expect(classifyRefreshFailure(401, text).errorClass).toBe('needs_sign_in');
    expect((await post(rotated.refreshToken!)).status).toBe(200);
    expect(upstream.refreshCount(first)).toBe(2);
    expect(upstream.refreshCount()).toBe(3);
    expect(account.refreshes).toBe(2);
  });

  it('rejects revoked tokens, missing tokens, and IdC tokens', async () => {
    const idc = upstream.addAccount({ kind: 'idc' });
    const social = upstream.addAccount();
    const revoked = social.refreshToken;
    social.revokeRefreshToken();
    for (const body of [{ refreshToken: revoked }, { refreshToken: idc.refreshToken }, {}]) {
      const res = await fetch(`${upstream.baseUrl}/refreshToken`, { method: 'POST', body: JSON.stringify(body) });
      expect([400, 401]).toContain(res.status);
      await res.text();
    }
    expect(upstream.requestsTo('refreshToken').every((r) => r.refusal)).toBe(true);
  });

  it('can hold refreshes until released, so concurrent ones overlap (each is still counted)', async () => {
    const account = upstream.addAccount();
    const release = account.holdRefreshes();
    const post = () =>
      fetch(`${upstream.baseUrl}/refreshToken`, { method: 'POST', body: JSON.stringify({ refreshToken: account.refreshToken }) }).then((r) => r.json());
    const first = post();
    const second = post();
    await upstream.waitFor((r) => r.endpoint === 'refreshToken' && r.seq === 2);
    expect(upstream.requestsTo('refreshToken').map((r) => r.outcome)).toEqual(['pending', 'pending']);
    expect(account.refreshes).toBe(0);
    release();
    const answers = (await Promise.all([first, second])) as { accessToken: string }[];
    expect(new Set(answers.map((a) => a.accessToken)).size).toBe(2);
    expect(upstream.refreshCount(account.refreshToken)).toBe(2);
    expect(account.refreshes).toBe(2);
  });

  it('issues nothing for a slow refresh the client gave up on (IdC too)', async () => {
    const idc = upstream.addAccount({ kind: 'idc', refreshDelayMs: 60_000 });
    const controller = new AbortController();
    const pending = fetch(`${upstream.baseUrl}/token`, {
      method: 'POST',
      body: JSON.stringify({ clientId: idc.clientId, clientSecret: idc.clientSecret, grantType: 'refresh_token', refreshToken: idc.refreshToken }),
      signal: controller.signal,
    });
    await upstream.waitFor((r) => r.endpoint === 'oidcToken');
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect((await upstream.waitFor((r) => r.endpoint === 'oidcToken' && r.outcome !== 'pending')).outcome).toBe('aborted');
    expect(idc.refreshes).toBe(0);
    expect(idc.accessToken).toBeUndefined();
  });

  it('plays a scripted refresh failure once', async () => {
    upstream.account.failNextRefresh({ status: 500, body: { message: 'boom' } });
    const post = () => fetch(`${upstream.baseUrl}/refreshToken`, { method: 'POST', body: JSON.stringify({ refreshToken: upstream.account.refreshToken }) });
    expect((await post()).status).toBe(500);
    expect((await post()).status).toBe(200);
  });
});

describe('IdC /token', () => {
  const post = (body: unknown) =>
    fetch(`${upstream.baseUrl}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('refreshes with client id and secret; the token works on generate', async () => {
    const idc = upstream.addAccount({ kind: 'idc', accessTokenTtlSeconds: 3600 });
    expect(idc.profileArn).toBeUndefined();
    const res = await post({ clientId: idc.clientId, clientSecret: idc.clientSecret, grantType: 'refresh_token', refreshToken: idc.refreshToken });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accessToken: string; expiresIn: number; tokenType: string };
    expect(body).toEqual({ accessToken: idc.accessToken, expiresIn: 3600, tokenType: 'Bearer' });
    expect(upstream.refreshCount(idc.refreshToken)).toBe(1);
    const gen = await generate(body.accessToken, validBody(idc));
    expect(gen.status).toBe(200);
    expect(upstream.lastGenerate().account).toBe(idc);
  });

  it('rotates when configured', async () => {
    const idc = upstream.addAccount({ kind: 'idc', rotateRefreshToken: true });
    const old = idc.refreshToken;
    const body = (await (await post({ clientId: idc.clientId, clientSecret: idc.clientSecret, grantType: 'refresh_token', refreshToken: old })).json()) as {
      refreshToken: string;
    };
    expect(body.refreshToken).toBe(idc.refreshToken);
    const stale = await post({ clientId: idc.clientId, clientSecret: idc.clientSecret, grantType: 'refresh_token', refreshToken: old });
    expect(((await stale.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it.each([
    ['wrong client secret', { clientSecret: 'not-the-secret' }, 'invalid_client'],
    ['unknown client', { clientId: 'nobody' }, 'invalid_client'],
    ['bad refresh token', { refreshToken: 'aorNotTheToken' }, 'invalid_grant'],
    ['other grant type', { grantType: 'password' }, 'unsupported_grant_type'],
  ])('answers 400 for a %s', async (_label, override, error) => {
    const idc = upstream.addAccount({ kind: 'idc' });
    const res = await post({ clientId: idc.clientId, clientSecret: idc.clientSecret, grantType: 'refresh_token', refreshToken: idc.refreshToken, ...override });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error });
    expect(res.headers.get('x-amzn-errortype')).toMatch(/Exception$/);
    if (error !== 'unsupported_grant_type') expect(classifyRefreshFailure(400, text).errorClass).toBe('needs_sign_in');
    expect(idc.refreshes).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// getUsageLimits, ListAvailableModels, MCP
// ---------------------------------------------------------------------------------------------

describe('GET /getUsageLimits', () => {
  const query = 'isEmailRequired=true&origin=AI_EDITOR&resourceType=AGENTIC_REQUEST';

  async function usage(token: string, q = query): Promise<Response> {
    return fetch(`${upstream.baseUrl}/getUsageLimits?${q}`, { headers: { authorization: `Bearer ${token}` } });
  }

  it('answers the 2025-10 CREDIT schema from the account, and records the query', async () => {
    const reset = Date.UTC(2026, 11, 1) / 1000;
    const account = upstream.addAccount({
      usage: { limit: 50, used: 3.21, freeTrial: { limit: 500, used: 10, expiry: 1_757_293_897.4 }, bonuses: [{ limit: 20, used: 5 }], nextDateReset: reset },
      creditsPerCall: 0.5,
    });
    const token = await socialRefresh(account);
    await (await generate(token, validBody(account))).arrayBuffer();
    const res = await usage(token, `${query}&profileArn=${encodeURIComponent(account.profileArn!)}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usageBreakdownList: Record<string, unknown>[]; nextDateReset: number; subscriptionInfo: object };
    const credit = body.usageBreakdownList[0]!;
    expect(credit).toMatchObject({
      resourceType: 'CREDIT',
      usageLimit: 50,
      usageLimitWithPrecision: 50,
      currentUsage: 3,
      currentUsageWithPrecision: 3.71,
      nextDateReset: reset,
      freeTrialInfo: { freeTrialStatus: 'ACTIVE', freeTrialExpiry: 1_757_293_897.4, usageLimitWithPrecision: 500, currentUsageWithPrecision: 10 },
      bonuses: [{ status: 'ACTIVE', usageLimit: 20, currentUsage: 5 }],
    });
    expect(body.nextDateReset).toBe(reset);
    expect(body.subscriptionInfo).toMatchObject({ subscriptionTitle: 'KIRO FREE' });
    const recorded = upstream.requestsTo('usageLimits')[0]!;
    expect(recorded.query).toMatchObject({ origin: 'AI_EDITOR', resourceType: 'AGENTIC_REQUEST', profileArn: account.profileArn });
    expect(recorded.account).toBe(account);
  });

  it('can answer in the legacy VIBE/SPEC shape of the Aug-2025 capture', async () => {
    const account = upstream.addAccount({ usage: { legacy: true, freeTrial: { limit: 100 } } });
    const body = (await (await usage(await socialRefresh(account))).json()) as Record<string, unknown>;
    const captured = fixtureJson<Record<string, unknown>>('getUsageLimits_response_2025-08_legacy_VIBE_SPEC.json');
    const keys = (o: unknown) => Object.keys(o as object).sort();
    expect(keys(body)).toEqual(keys(captured));
    const list = body.usageBreakdownList as Record<string, unknown>[];
    const capturedList = captured.usageBreakdownList as Record<string, unknown>[];
    expect(list.map((b) => b.resourceType)).toEqual(capturedList.map((b) => b.resourceType));
    expect(keys(list[0])).toEqual(keys(capturedList[0]));
    expect(keys(list[0]!.freeTrialInfo)).toEqual(keys(capturedList[0]!.freeTrialInfo));
  });

  it('plays a scripted usage answer once', async () => {
    const token = await socialRefresh();
    upstream.account.scriptNextUsage({ status: 500, body: { message: 'usage backend down' } });
    expect((await usage(token)).status).toBe(500);
    expect((await usage(token)).status).toBe(200);
  });

  it('needs a valid bearer token but still answers for a suspended account', async () => {
    expect((await usage('aoaNotATokenOfTheFake0000000000')).status).toBe(403);
    const token = await socialRefresh();
    upstream.account.suspend();
    expect((await usage(token)).status).toBe(200);
  });
});

describe('POST / with x-amz-target', () => {
  const call = (token: string, target: string, profileArn = upstream.account.profileArn) =>
    fetch(`${upstream.baseUrl}/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
      body: JSON.stringify({ origin: 'AI_EDITOR', profileArn }),
    });

  it('lists the models of the account tier', async () => {
    const free = upstream.addAccount({ models: [...FREE_TIER_MODELS], defaultModel: 'claude-sonnet-4.5' });
    const res = await call(await socialRefresh(free), 'AmazonCodeWhispererService.ListAvailableModels', free.profileArn);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { defaultModel: { modelId: string }; models: { modelId: string; tokenLimits: object }[] };
    expect(body.defaultModel).toEqual({ modelId: 'claude-sonnet-4.5' });
    expect(body.models.map((m) => m.modelId)).toEqual([...FREE_TIER_MODELS]);
    expect(body.models[1]).toMatchObject({
      modelName: 'Claude Sonnet 4.5',
      rateMultiplier: 1.3,
      tokenLimits: { maxInputTokens: 200_000, maxOutputTokens: 64_000 },
    });
    expect(upstream.requestsTo('target')[0]).toMatchObject({ target: 'AmazonCodeWhispererService.ListAvailableModels', body: { origin: 'AI_EDITOR' } });
  });

  it('answers 400 UnknownOperationException for any other target, 403 when suspended', async () => {
    const token = await socialRefresh();
    const unknown = await call(token, 'AmazonCodeWhispererService.DoSomethingElse');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ __type: 'com.amazon.coral.service#UnknownOperationException' });
    upstream.account.suspend();
    expect((await call(token, 'AmazonCodeWhispererService.ListAvailableModels')).status).toBe(403);
  });
});

describe('POST /mcp web_search', () => {
  it('answers tools/call web_search with the scripted results as a JSON string', async () => {
    upstream.webSearchResults = [{ title: 'Kiro', url: 'https://kiro.dev/docs', snippet: 'Docs' }];
    const res = await fetch(`${upstream.baseUrl}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await socialRefresh()}`,
        'content-type': 'application/json',
        'x-amzn-kiro-profile-arn': upstream.account.profileArn!,
      },
      body: JSON.stringify({ id: 'web_search_1', jsonrpc: '2.0', method: 'tools/call', params: { name: 'web_search', arguments: { query: 'kiro docs' } } }),
    });
    const body = (await res.json()) as { id: string; result: { content: { text: string }[] } };
    expect(body.id).toBe('web_search_1');
    const payload = JSON.parse(body.result.content[0]!.text) as { results: Record<string, unknown>[]; totalResults: number; query: string };
    expect(payload).toMatchObject({ totalResults: 1, query: 'kiro docs' });
    expect(payload.results[0]).toMatchObject({ title: 'Kiro', url: 'https://kiro.dev/docs', snippet: 'Docs', domain: 'kiro.dev', id: 'result-1' });
  });
});

describe('Kiro API keys', () => {
  const withKey = (key: string, tokentype?: string) => ({ authorization: `Bearer ${key}`, ...(tokentype ? { tokentype } : {}) });

  it('accepts a key only with tokentype: API_KEY, on every data-plane call, and no profile', async () => {
    const keyed = upstream.addAccount({ kind: 'apikey' });
    const key = keyed.apiKey!;
    expect(key).toMatch(/^ksk_/);
    const body = validBody(keyed);
    expect(body.profileArn).toBeUndefined();
    const plain = await generate(key, body);
    expect(plain.status).toBe(403);
    expect(upstream.lastGenerate().refusal).toBe('API key without tokentype: API_KEY');
    const ok = await generate(key, body, { headers: { ...withKey(key, 'API_KEY'), 'content-type': 'application/json' } });
    expect(ok.status).toBe(200);
    expect(upstream.lastGenerate().account).toBe(keyed);
    const usage = await fetch(`${upstream.baseUrl}/getUsageLimits?origin=AI_EDITOR&resourceType=AGENTIC_REQUEST`, { headers: withKey(key, 'API_KEY') });
    expect(usage.status).toBe(200);
    // A key belongs to its own profile: one sent along is refused.
    const profiled = await generate(
      key,
      { ...body, profileArn: upstream.account.profileArn },
      { headers: { ...withKey(key, 'API_KEY'), 'content-type': 'application/json' } },
    );
    expect(profiled.status).toBe(403);
    expect(upstream.lastGenerate().rejectedBy).toBe('profile_arn_refused');
  });

  it('refuses an unknown or revoked key like an invalid bearer token, and never refreshes one', async () => {
    const keyed = upstream.addAccount({ kind: 'apikey' });
    const key = keyed.apiKey!;
    const unknown = await generate('ksk_unknownKeyThatKiroNeverIssued0000', validBody(keyed), {
      headers: { ...withKey('ksk_unknownKeyThatKiroNeverIssued0000', 'API_KEY'), 'content-type': 'application/json' },
    });
    expect(unknown.status).toBe(403);
    expect(classifyUpstreamResponse(403, await unknown.text()).errorClass).toBe('token_expired');
    expect(upstream.lastGenerate().refusal).toBe('unknown API key');
    keyed.revokeApiKey();
    const revoked = await generate(key, validBody(keyed), { headers: { ...withKey(key, 'API_KEY'), 'content-type': 'application/json' } });
    expect(revoked.status).toBe(403);
    expect(upstream.lastGenerate()).toMatchObject({ refusal: 'revoked API key', account: keyed });
    // An OAuth access token passed off as an API key is refused too.
    const token = await socialRefresh();
    expect((await generate(token, validBody(), { headers: { ...withKey(token, 'API_KEY'), 'content-type': 'application/json' } })).status).toBe(403);
    expect(keyed.credential()).toEqual({ auth: 'ApiKey', apiKey: '' });
  });
});

describe('profiles on runtime calls', () => {
  it("needs an Identity Center login's profile, and refuses a Builder ID token sent with the placeholder", async () => {
    const enterprise = upstream.addAccount({ kind: 'idc', idcType: 'enterprise' });
    const enterpriseToken = enterprise.issueAccessToken();
    const usage = (token: string, profileArn?: string) =>
      fetch(`${upstream.baseUrl}/getUsageLimits?origin=AI_EDITOR${profileArn ? `&profileArn=${encodeURIComponent(profileArn)}` : ''}`, {
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await usage(enterpriseToken)).status).toBe(400);
    expect((await usage(enterpriseToken, upstream.profileArnsOf(enterprise)[0])).status).toBe(200);
    const builderToken = upstream.addAccount({ kind: 'idc' }).issueAccessToken();
    expect((await usage(builderToken)).status).toBe(200);
    const placeholder = await usage(builderToken, BUILDER_ID_PROFILE_ARN);
    expect(placeholder.status).toBe(403);
    expect(placeholder.headers.get('x-fake-kiro-rule')).toBe('profile_placeholder_refused');
    // Social: optional, but never another's.
    expect((await usage(await socialRefresh())).status).toBe(200);
    expect((await usage(await socialRefresh(), BUILDER_ID_PROFILE_ARN)).status).toBe(403);
  });

  it('demands the profile header on MCP as on generate', async () => {
    const search = (headers: Record<string, string>) =>
      fetch(`${upstream.baseUrl}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ id: 'w', jsonrpc: '2.0', method: 'tools/call', params: { name: 'web_search', arguments: { query: 'q' } } }),
      });
    const token = await socialRefresh();
    expect((await search({ authorization: `Bearer ${token}` })).status).toBe(400);
    expect((await search({ authorization: `Bearer ${token}`, 'x-amzn-kiro-profile-arn': upstream.account.profileArn! })).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// Delivery: cut, slow drip, client disconnect, close
// ---------------------------------------------------------------------------------------------

describe('delivery: cut connections, slow drips, disconnects and close()', () => {
  it('destroys the socket after N frames', async () => {
    upstream.scriptNext(cutReply('abcdefgh', 4, 2));
    const res = await generate(await socialRefresh());
    expect(res.status).toBe(200);
    const reader = frameReader(res);
    expect(textOf([await reader.next(), await reader.next()])).toBe('abcd');
    await expect(reader.rest()).rejects.toThrow();
    const record = await upstream.settled(upstream.lastGenerate());
    expect(record).toMatchObject({ outcome: 'cut', framesSent: 2 });
  });

  it('records an aborted call when the client goes away during a slow drip', async () => {
    upstream.scriptNext(slowReply('x'.repeat(50), 50, 100));
    const controller = new AbortController();
    const res = await generate(await socialRefresh(), validBody(), { signal: controller.signal });
    const reader = frameReader(res);
    await reader.next();
    controller.abort();
    const record = await upstream.waitFor((r) => r.endpoint === 'generate' && r.outcome === 'aborted');
    expect(record.framesSent).toBeLessThan(50);
    expect(record.finishedAt).toBeDefined();
  });

  it('records an aborted call when the client leaves a stalled stream', async () => {
    upstream.scriptNext(stallReply('first'));
    const controller = new AbortController();
    const res = await generate(await socialRefresh(), validBody(), { signal: controller.signal });
    expect(textOf([await frameReader(res).next()])).toBe('first');
    controller.abort();
    const record = await upstream.waitFor((r) => r.outcome === 'aborted');
    expect(record).toMatchObject({ scenario: 'stall', framesSent: 1 });
  });

  it('close() ends an open slow stream without hanging, and the client sees the cut', async () => {
    const own = await startFakeUpstream();
    own.script(slowReply('y'.repeat(100), 100, 200));
    const tokenRes = await fetch(`${own.baseUrl}/refreshToken`, { method: 'POST', body: JSON.stringify({ refreshToken: own.account.refreshToken }) });
    const { accessToken } = (await tokenRes.json()) as { accessToken: string };
    const res = await fetch(`${own.baseUrl}/generateAssistantResponse`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}` },
      body: JSON.stringify(validBody(own.account)),
    });
    const reader = frameReader(res);
    await reader.next();
    await own.close();
    await expect(reader.rest()).rejects.toThrow();
    expect(own.generateRequests[0]!.outcome).toBe('closed');
    await own.close(); // idempotent
  });

  it('can drop the connection before any response byte', async () => {
    upstream.scriptNext(resetBeforeHeadersReply());
    await expect(generate(await socialRefresh())).rejects.toThrow();
    const record = await upstream.settled(upstream.lastGenerate());
    expect(record.outcome).toBe('cut');
    expect(record.status).toBeUndefined();
  });

  it('can hold every byte back until the client gives up', async () => {
    upstream.scriptNext(hangBeforeHeadersReply());
    const controller = new AbortController();
    const pending = generate(await socialRefresh(), validBody(), { signal: controller.signal });
    await upstream.waitFor((r) => r.endpoint === 'generate');
    controller.abort();
    await expect(pending).rejects.toThrow();
    const record = await upstream.waitFor((r) => r.endpoint === 'generate' && r.outcome !== 'pending');
    expect(record).toMatchObject({ outcome: 'aborted', framesSent: 0 });
    expect(record.status).toBeUndefined();
  });

  it('delays an HTTP error, and drops it if the client leaves first', async () => {
    const token = await socialRefresh();
    upstream.scriptNext(delayedReply(upstreamErrors.unavailable(), 5));
    expect((await generate(token)).status).toBe(503);

    upstream.scriptNext(delayedReply(upstreamErrors.unavailable(), 60_000));
    const controller = new AbortController();
    const pending = generate(token, validBody(), { signal: controller.signal });
    await upstream.waitFor((r) => r.seq === 3);
    controller.abort();
    await expect(pending).rejects.toThrow();
    const record = await upstream.waitFor((r) => r.seq === 3 && r.outcome !== 'pending');
    expect(record.outcome).toBe('aborted');
    expect(record.status).toBeUndefined();
  });

  it('delays a stream with its headers held back (slow first byte)', async () => {
    upstream.scriptNext(delayedReply(textReply('late', { chunks: 1 }), 5));
    const res = await generate(await socialRefresh());
    expect(textOf(await eventsOf(res))).toBe('late');
  });

  it('waitFor rejects with a summary instead of hanging', async () => {
    await (await generate('aoaNope000000000000000000000')).text();
    await expect(upstream.waitFor((r) => r.endpoint === 'usageLimits', 50)).rejects.toThrow(/#1 POST \/generateAssistantResponse → 403/);
  });

  it('answers unknown paths with 404 and records them', async () => {
    const res = await fetch(`${upstream.baseUrl}/nothing/here`);
    expect(res.status).toBe(404);
    await res.text();
    expect(upstream.requests[0]).toMatchObject({ endpoint: 'unknown', path: '/nothing/here', status: 404 });
  });
});

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

describe('records', () => {
  it('keep headers, parsed body and the authorising account of each call', async () => {
    const token = await socialRefresh();
    await (
      await fetch(`${upstream.baseUrl}/generateAssistantResponse`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-amzn-codewhisperer-optout': 'true' },
        body: JSON.stringify(validBody()),
      })
    ).arrayBuffer();
    const [refresh, gen] = upstream.requests;
    expect(refresh!.headers.authorization).toBeUndefined();
    expect(gen!.headers['x-amzn-codewhisperer-optout']).toBe('true');
    expect(gen!.headers.authorization).toBe(`Bearer ${token}`);
    expect(gen!.body).toEqual(validBody());
    expect((gen!.body as KiroGenerateBody).profileArn).toBe(upstream.account.profileArn);
    expect(upstream.generateBodies).toEqual([validBody()]);
    expect(gen!.seq).toBe(2);
  });

  it('take routes and grants added later (the seam for the sign-in endpoints)', async () => {
    upstream.route('POST', '/client/register', 'oidcRegister', (call, kit) =>
      kit.reply(call, { status: 200, body: { clientId: 'cid', clientSecret: 'secret', echoed: call.record.body } }),
    );
    upstream.grants.set('urn:ietf:params:oauth:grant-type:device_code', (_call, body) =>
      body.deviceCode === 'approved' ? { status: 200, body: { accessToken: 'aoa-device' } } : { status: 400, body: { error: 'authorization_pending' } },
    );
    const registered = await fetch(`${upstream.baseUrl}/client/register`, { method: 'POST', body: JSON.stringify({ clientName: 'Kiro Bridge' }) });
    expect(await registered.json()).toEqual({ clientId: 'cid', clientSecret: 'secret', echoed: { clientName: 'Kiro Bridge' } });
    const poll = (deviceCode: string) =>
      fetch(`${upstream.baseUrl}/token`, { method: 'POST', body: JSON.stringify({ grantType: 'urn:ietf:params:oauth:grant-type:device_code', deviceCode }) });
    expect((await poll('pending')).status).toBe(400);
    expect(await (await poll('approved')).json()).toEqual({ accessToken: 'aoa-device' });
    expect(upstream.requests.map((r) => r.endpoint)).toEqual(['oidcRegister', 'oidcToken', 'oidcToken']);
    expect(upstream.requests[1]!.refusal).toBe('authorization_pending');
  });

  it('produce a KIRO_AUTH_TOKEN for every account', () => {
    const idc = upstream.addAccount({ kind: 'idc' });
    expect(JSON.parse(upstream.kiroAuthToken())).toEqual([
      { auth: 'Social', refreshToken: upstream.account.refreshToken },
      { auth: 'IdC', refreshToken: idc.refreshToken, clientId: idc.clientId, clientSecret: idc.clientSecret },
    ]);
  });
});

describe('compression of JSON answers', () => {
  function rawPost(url: string, body: string, acceptEncoding: string): Promise<{ headers: Record<string, unknown>; bytes: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'accept-encoding': acceptEncoding, 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, bytes: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('gzips a refresh answer for a client that accepts gzip, only when enabled', async () => {
    const body = JSON.stringify({ refreshToken: upstream.account.refreshToken });
    const plain = await rawPost(`${upstream.baseUrl}/refreshToken`, body, 'gzip, compress, deflate, br');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(plain.bytes.toString('utf8'))).toHaveProperty('accessToken');

    upstream.compress = true;
    const gz = await rawPost(`${upstream.baseUrl}/refreshToken`, body, 'gzip, compress, deflate, br');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.bytes).toString('utf8'))).toMatchObject({ accessToken: upstream.account.accessToken, expiresIn: 3600 });

    const identity = await rawPost(`${upstream.baseUrl}/refreshToken`, body, 'identity');
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(identity.bytes.toString('utf8'))).toHaveProperty('accessToken');
  });
});

describe('standalone entry (fake-upstream-main.ts)', () => {
  it('prints a base URL and KIRO_AUTH_TOKEN, serves, and exits cleanly on SIGTERM', async () => {
    const root = path.resolve(__dirname, '..', '..');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/fake-upstream-main.ts', '--echo'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      while (!/KIRO_AUTH_TOKEN=.*\n/.test(out)) {
        const [chunk] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => [''])])) as [string];
        if (chunk === '') throw new Error(`fake upstream exited early: ${out}`);
        out += chunk;
      }
      const baseUrl = /^FAKE_KIRO_BASE_URL=(.*)$/m.exec(out)![1]!;
      const credentials = JSON.parse(/^KIRO_AUTH_TOKEN=(.*)$/m.exec(out)![1]!) as { auth: string; refreshToken: string }[];
      expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(credentials).toHaveLength(1);
      expect(credentials[0]!.auth).toBe('Social');

      const refreshed = await fetch(`${baseUrl}/refreshToken`, { method: 'POST', body: JSON.stringify({ refreshToken: credentials[0]!.refreshToken }) });
      const { accessToken, profileArn } = (await refreshed.json()) as { accessToken: string; profileArn: string };
      const body: KiroGenerateBody = {
        conversationState: { conversationId: 'e2e', currentMessage: { userInputMessage: { content: 'ping', modelId: 'auto', origin: 'AI_EDITOR' } } },
        profileArn,
      };
      const res = await fetch(`${baseUrl}/generateAssistantResponse`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}` },
        body: JSON.stringify(body),
      });
      expect(textOf(await eventsOf(res))).toBe('You said: ping');

      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
