// POST /v1/messages: Anthropic request → ChatRequest → Kiro request → upstream → assembled events →
// SSE stream or one Message. The rules that matter to clients:
// - An error before anything was sent is a real HTTP error (status + Anthropic error body). The
//   response is committed (200 + message_start) only when the upstream's first events are in, or
//   when the ping interval passes first (so clients waiting on a slow upstream see pings).
// - A 401/403 "bearer token invalid" (as HTTP status or as the stream's first event) refreshes
//   the token once and retries once; nothing is retried after the first byte went to the client.
// - Once committed, every ending is either message_stop with a real stop reason or an SSE
//   `error` event: never a made-up end_turn.
// - Back-pressure: after a write the client's socket cannot take, the upstream is not read
//   until it drains. A client that goes away aborts the upstream call.
import { randomFillSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KiroAccount } from '../kiro/account';
import type { AccessToken } from '../kiro/auth';
import { generateAssistantResponse, type KiroResponseStream } from '../kiro/client';
import { toKiroRequest } from '../kiro/convert';
import { KiroError } from '../kiro/errors';
import type { KiroEvent } from '../kiro/events';
import { conversationIdFor } from '../kiro/ids';
import { contextWindow, knownModelNames, resolveModel } from '../kiro/models';
import { ResponseAssembler } from '../kiro/assemble';
import { formatRepair } from '../kiro/repairs';
import type { ChatRequest, OutputEvent } from '../kiro/types';
import { InvalidRequestError, parseAnthropicRequest, parseCountTokensRequest } from './anthropic-input';
import {
  ANTHROPIC_SSE_HEADERS,
  AnthropicStreamWriter,
  anthropicErrorFor,
  buildAnthropicMessage,
  type AnthropicOutputMeta,
} from './anthropic-output';
import type { BridgeConfig } from './config';
import { ABORT_CLIENT_GONE, ABORT_SHUTDOWN, type BridgeContext, type BridgeRoute } from './context';
import { sendAnthropicError, sendJson } from './http';
import type { RequestTrace } from './traffic';


const MAX_KNOWN_IN_ERROR = 40;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Random bytes drawn 4 KiB at a time: one call to the system's generator per ~170 ids. */
const idEntropy = Buffer.alloc(4096);
let idOffset = idEntropy.length;

/** `msg_` + 24 random base62 characters, like the API's ids (see anthropic-output's newMessageId). */
function nextMessageId(): string {
  if (idOffset + 24 > idEntropy.length) {
    randomFillSync(idEntropy);
    idOffset = 0;
  }
  let id = 'msg_';
  for (let i = 0; i < 24; i++) id += BASE62[idEntropy[idOffset + i]! % 62];
  idOffset += 24;
  return id;
}

class ModelError extends InvalidRequestError {}

interface Prepared {
  request: ChatRequest;
  kiroModel: string;
  inputTokens: number;
}

/** Validation, model resolution, thinking defaults and the input count: shared with count_tokens. */
async function prepare(body: unknown, context: BridgeContext, countOnly: boolean): Promise<Prepared & { notes: string[] }> {
  const config = context.config();
  const parse = countOnly ? parseCountTokensRequest : parseAnthropicRequest;
  const { request, notes } = parse(body, { defaultThinkingBudget: config.thinkingDefaultBudget });
  const resolved = resolveModel(request.model, { aliases: config.modelAliases });
  if (!resolved) {
    const known = knownModelNames({ aliases: config.modelAliases });
    const listed = known.slice(0, MAX_KNOWN_IN_ERROR).join(', ');
    throw new ModelError(`model: unknown model "${request.model.slice(0, 200)}". Known models: ${listed}${known.length > MAX_KNOWN_IN_ERROR ? ', …' : ''}`);
  }
  if (resolved.thinking && !request.thinking) request.thinking = { budgetTokens: config.thinkingDefaultBudget };
  return { request, notes, kiroModel: resolved.kiroModel, inputTokens: await context.counter.countRequestAsync(request) };
}

/** POST /v1/messages/count_tokens. */
export async function handleCountTokens(res: ServerResponse, body: unknown, trace: RequestTrace, context: BridgeContext): Promise<void> {
  let prepared: Prepared;
  try {
    prepared = await prepare(body, context, true);
  } catch (error) {
    failBeforeCommit(res, trace, error, context);
    return;
  }
  trace.update({ modelAsked: prepared.request.model, kiroModel: prepared.kiroModel, inputTokens: prepared.inputTokens });
  const answer = { input_tokens: prepared.inputTokens };
  trace.captureResponse(answer);
  sendJson(res, 200, answer);
  trace.finish(200);
}

function failBeforeCommit(res: ServerResponse, trace: RequestTrace, error: unknown, context: BridgeContext): void {
  if (error instanceof InvalidRequestError) {
    sendAnthropicError(res, { status: 400, type: 'invalid_request_error', message: context.redactor.text(error.message) });
    trace.finish(400, { type: 'invalid_request_error', message: error.message });
    return;
  }
  const info = anthropicErrorFor(error, context.redactor);
  if (info.status >= 500) context.logger.warn(`${trace.id}: ${info.type}: ${info.message}`);
  sendAnthropicError(res, info);
  trace.finish(info.status, { type: info.type, message: info.message });
}

function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** One upstream attempt's opening: the stream and its first batch of output events. */
interface Opened {
  upstream: KiroResponseStream;
  batches: AsyncGenerator<KiroEvent[], void, undefined>;
  assembler: ResponseAssembler;
  /** Output of the first batch (already through the assembler). */
  first: OutputEvent[];
  /** The upstream ended within the first read (short answers). */
  ended: boolean;
}

/** POST /v1/messages. */
export async function handleMessages(
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  trace: RequestTrace,
  context: BridgeContext,
  signal: AbortSignal,
): Promise<void> {
  const config = context.config();
  let prepared: Prepared & { notes: string[] };
  try {
    prepared = await prepare(body, context, false);
  } catch (error) {
    failBeforeCommit(res, trace, error, context);
    return;
  }
  const { request, kiroModel, inputTokens } = prepared;
  trace.addRepairs(prepared.notes);
  trace.captureClientRequest(body);
  trace.update({ modelAsked: request.model, kiroModel, stream: request.stream, inputTokens, flags: { streamed: request.stream } });

  const meta: AnthropicOutputMeta = {
    messageId: nextMessageId(),
    model: request.model,
    inputTokens,
    countTokens: (text) => context.counter.text(text),
    contextWindow: contextWindow(kiroModel),
  };

  // Streams commit early when the upstream is slow, so pings can flow.
  let writer: AnthropicStreamWriter | undefined;
  let lastWrite = Date.now();
  let pingTimer: NodeJS.Timeout | undefined;
  const sink = {
    write: (chunk: string) => {
      lastWrite = Date.now();
      return res.write(chunk);
    },
  };
  const commit = (): AnthropicStreamWriter => {
    if (writer) return writer;
    res.writeHead(200, { ...ANTHROPIC_SSE_HEADERS, 'request-id': trace.id });
    // Headers go out with the first event, in one packet.
    writer = new AnthropicStreamWriter(sink, meta, context.redactor);
    writer.start();
    trace.update({ status: 200 });
    return writer;
  };
  if (request.stream) {
    const intervalMs = Math.max(0.05, config.pingIntervalSeconds) * 1000;
    pingTimer = setInterval(() => {
      if (res.writableEnded || Date.now() - lastWrite < intervalMs - 5) return;
      commit().ping();
    }, intervalMs);
    pingTimer.unref();
  }

  let opened: Opened | undefined;
  try {
    const account = context.accounts.acquire();
    if (!account) throw new KiroError('no_account', context.accounts.unavailableReason());
    trace.update({ account: account.label });
    opened = await openUpstream(account, request, kiroModel, trace, context, config, signal);
    if (request.stream) await streamResponse(res, opened, commit, trace, signal);
    else await collectResponse(res, opened, meta, trace, signal);
  } catch (error) {
    if (signal.aborted && signal.reason === ABORT_CLIENT_GONE) {
      trace.finish(499, { type: 'client_closed', message: 'the client closed the connection' });
      return;
    }
    const failure =
      signal.aborted && signal.reason === ABORT_SHUTDOWN
        ? new KiroError('upstream_unavailable', 'the bridge is shutting down; retry the request', { status: 503 })
        : error;
    if (writer || res.headersSent) {
      // Committed: an SSE error event is the only honest ending left.
      const w = writer ?? commit();
      const tail = opened && !opened.assembler.done ? opened.assembler.fail(failure instanceof Error ? failure : new Error(String(failure))) : [];
      if (tail.length) w.write(tail);
      w.fail(failure);
      const info = anthropicErrorFor(failure, context.redactor);
      trace.update({ outputTokens: w.usage.outputTokens });
      if (!res.writableEnded) res.end();
      trace.finish(200, { type: info.type, message: info.message });
    } else {
      failBeforeCommit(res, trace, failure, context);
    }
  } finally {
    if (pingTimer) clearInterval(pingTimer);
    opened?.upstream.cancel();
  }
}

/** Opens the upstream call, retrying once after a token refresh when Kiro rejects the token. */
async function openUpstream(
  account: KiroAccount,
  request: ChatRequest,
  kiroModel: string,
  trace: RequestTrace,
  context: BridgeContext,
  config: BridgeConfig,
  signal: AbortSignal,
): Promise<Opened> {
  let token: AccessToken = await account.getToken();
  if (signal.aborted) throw signal.reason;
  const converted = toKiroRequest(request, {
    kiroModel,
    profileArn: account.profileArn,
    conversationId: conversationIdFor(request.sessionKey),
    thinkingBudget: request.thinking?.budgetTokens,
  });
  trace.addRepairs(converted.repairs.map(formatRepair));
  trace.captureKiroRequest(converted.body);
  const bodyText = JSON.stringify(converted.body);

  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    const assembler = new ResponseAssembler({ toolNames: converted.toolNames, thinking: request.thinking !== undefined, stopSequences: request.stopSequences });
    let upstream: KiroResponseStream | undefined;
    try {
      upstream = await generateAssistantResponse(account, token, bodyText, {
        signal,
        idleTimeoutMs: config.requestTimeoutSeconds * 1000,
        attempt,
      });
      const batches = upstream.batches();
      const firstRead = await batches.next();
      const first: OutputEvent[] = [];
      if (!firstRead.done) {
        for (const event of firstRead.value) {
          trace.captureUpstreamEvent(event);
          for (const out of assembler.push(event)) first.push(out);
        }
      } else {
        for (const out of assembler.end()) first.push(out);
      }
      // An error as the very first thing (an in-stream AccessDenied, throttling…) is still
      // answerable with a real HTTP error, and a rejected token is still retryable.
      const head = first.find((e) => e.type !== 'usage');
      if (head?.type === 'error') throw head.error;
      trace.addAttempt({ account: account.label, status: 200, durationMs: Date.now() - started });
      return { upstream, batches, assembler, first, ended: firstRead.done === true };
    } catch (error) {
      upstream?.cancel();
      if (signal.aborted) throw error;
      const kiroError = error instanceof KiroError ? error : undefined;
      trace.addAttempt({
        account: account.label,
        status: kiroError?.status ?? (upstream ? 200 : 0),
        errorClass: kiroError?.errorClass ?? 'internal',
        durationMs: Date.now() - started,
      });
      if (kiroError?.errorClass === 'token_expired' && attempt === 1) {
        context.logger.info(`${trace.id}: Kiro rejected the access token of ${account.label}; refreshing once and retrying`);
        token = await account.tokens.refreshAfterRejection(token);
        continue;
      }
      throw error;
    }
  }
}

async function streamResponse(
  res: ServerResponse,
  opened: Opened,
  commit: () => AnthropicStreamWriter,
  trace: RequestTrace,
  signal: AbortSignal,
): Promise<void> {
  const { assembler, batches } = opened;
  const writer = commit();
  const emit = async (events: OutputEvent[]) => {
    if (events.length === 0) return;
    if (events.some((e) => e.type !== 'usage')) trace.markFirstByte();
    writer.write(events.length > 1 ? coalesceDeltas(events) : events);
    if (res.writableNeedDrain) await waitForDrain(res);
  };
  await emit(opened.first);
  if (!opened.ended && !assembler.done) {
    for await (const batch of batches) {
      const out: OutputEvent[] = [];
      for (const event of batch) {
        if (trace.capture !== 'off') trace.captureUpstreamEvent(event);
        const produced = assembler.push(event);
        for (let i = 0; i < produced.length; i++) out.push(produced[i]!);
        if (assembler.done) break;
      }
      await emit(out);
      if (signal.aborted) throw signal.reason;
      // A stop sequence matched: the answer is complete, stop reading the upstream.
      if (assembler.done) break;
    }
  }
  if (!assembler.done) await emit(assembler.end());
  if (signal.aborted) throw signal.reason;
  const outcome = writer.outcome;
  const usage = writer.usage;
  trace.update({
    stopReason: outcome && 'reason' in outcome ? outcome.reason : undefined,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    credits: usage.credits,
    flags: { truncated: outcome !== undefined && 'reason' in outcome && outcome.reason === 'max_tokens' },
  });
  res.end();
  if (outcome && 'error' in outcome) trace.finish(200, { type: outcome.error.type, message: outcome.error.message });
  else trace.finish(200);
}

/**
 * Joins adjacent deltas of the same block that arrived together (text with text, thinking with
 * thinking, input fragments of the same tool), so a burst of frames becomes one SSE delta per
 * block instead of one per frame. Frames that arrive one by one are still sent one by one.
 */
export function coalesceDeltas(events: readonly OutputEvent[]): OutputEvent[] {
  const out: OutputEvent[] = [];
  for (const event of events) {
    const last = out[out.length - 1];
    if (last && (event.type === 'text' || event.type === 'thinking') && last.type === event.type) {
      out[out.length - 1] = { type: event.type, text: last.text + event.text };
    } else if (last && event.type === 'tool_delta' && last.type === 'tool_delta' && last.id === event.id) {
      out[out.length - 1] = { type: 'tool_delta', id: event.id, json: last.json + event.json };
    } else {
      out.push(event);
    }
  }
  return out;
}

async function collectResponse(
  res: ServerResponse,
  opened: Opened,
  meta: AnthropicOutputMeta,
  trace: RequestTrace,
  signal: AbortSignal,
): Promise<void> {
  const { assembler, batches } = opened;
  const events: OutputEvent[] = [...opened.first];
  if (!opened.ended && !assembler.done) {
    for await (const batch of batches) {
      for (const event of batch) {
        if (trace.capture !== 'off') trace.captureUpstreamEvent(event);
        const produced = assembler.push(event);
        for (let i = 0; i < produced.length; i++) events.push(produced[i]!);
        if (assembler.done) break;
      }
      if (signal.aborted) throw signal.reason;
      if (assembler.done) break;
    }
  }
  if (!assembler.done) for (const out of assembler.end()) events.push(out);
  const message = buildAnthropicMessage(events, meta);
  let credits: number | undefined;
  for (const event of events) if (event.type === 'usage' && event.credits !== undefined) credits = event.credits;
  trace.markFirstByte();
  trace.update({
    stopReason: message.stop_reason ?? undefined,
    inputTokens: message.usage.input_tokens,
    outputTokens: message.usage.output_tokens,
    credits,
    flags: { truncated: message.stop_reason === 'max_tokens' },
  });
  trace.captureResponse(message);
  sendJson(res, 200, message, { 'request-id': trace.id });
  trace.finish(200);
}

export const messagesRoute: BridgeRoute = {
  method: 'POST',
  path: '/v1/messages',
  api: 'anthropic',
  handle: ({ req, res, body, trace, context, signal }) => handleMessages(req, res, body, trace, context, signal),
};

export const countTokensRoute: BridgeRoute = {
  method: 'POST',
  path: '/v1/messages/count_tokens',
  api: 'count_tokens',
  handle: ({ res, body, trace, context }) => handleCountTokens(res, body, trace, context),
};
