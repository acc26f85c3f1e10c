// The API-neutral part of serving a chat request, shared by /v1/messages, /v1/chat/completions and
// /v1/responses: client request → ChatRequest (by the API's parser) → model → Kiro request →
// upstream → assembled events → the API's SSE writer or JSON builder. Each API contributes a
// ChatApi (parse, write, build, error shape); everything below lives here once:
// - An error before anything was sent is a real HTTP error (status + the API's error body). The
//   response is committed (200 + the stream's opening) only when the upstream's first events are
//   in, or when the ping interval passes first (so clients waiting on a slow upstream see pings).
// - The account pool serves the upstream call (./upstream-open): it refreshes a rejected token
//   once, fails over between accounts by error class, and bounds the attempts; nothing is
//   retried after the first byte of the answer went to the client.
// - Once committed, every ending is either a real finish or the API's in-stream error: never a
//   made-up end_turn.
// - Back-pressure: after a write the client's socket cannot take, the upstream is not read
//   until it drains. A client that goes away aborts the upstream call.
// - One traffic record per request, updated as it goes.
// - A request that wants JSON (a response format) is answered only once its whole answer has
//   been validated (./structured-output): one more upstream call may be made to correct it.
import type { ServerResponse } from 'node:http';
import type { Redactor } from '../../common/redact';
import { KiroError } from '../../kiro/errors';
import { contextWindow, knownModelNames, resolveModel } from '../../kiro/models';
import type { ChatRequest, FinishReason, OutputEvent } from '../../kiro/types';
import type { BridgeConfig } from '../config';
import { ABORT_CLIENT_GONE, ABORT_SHUTDOWN, type BridgeContext, type RouteCall } from '../context';
import { sendJson } from '../http/http';
import type { BuiltOutput, OutputBase, UsageTotals } from './output';
import { SSE_HEADERS, type StreamSink } from '../http/sse';
import { StreamCommitter, waitForDrain } from '../http/stream-response';
import type { RequestTrace } from '../traffic';
import type { SchemaValidator } from './json-schema-validator';
import { checkResponseFormat, structuredAnswer } from './structured-output';
import { openUpstream, readAll, readAnswer, type Opened } from './upstream-open';

/** An error as the client's API answers it (status, error type, message). */
export interface ApiErrorInfo {
  status: number;
  type: string;
  message: string;
  retryAfterSeconds?: number;
  /** A 5xx that a plain retry would only repeat at the user's cost (`x-should-retry: false`). */
  noRetry?: boolean;
}

/** What the pipeline needs from an API's streaming writer (AnthropicStreamWriter, …). */
export interface ApiStreamWriter {
  readonly ended: boolean;
  /** How the stream ended: a finish, or the error it reported. */
  readonly outcome: { reason: FinishReason; stopSequence?: string } | { error: { type: string; message: string } } | undefined;
  readonly usage: UsageTotals;
  /** Writes the stream's opening (if any). */
  start(): boolean;
  /** Keep-alive while the upstream is silent. */
  ping(): boolean;
  write(events: readonly OutputEvent[]): boolean;
  /** Ends the stream with the API's in-stream error. */
  fail(error: unknown): boolean;
}

/** One validated request in one client API: what to send Kiro, and how to answer. */
export interface Exchange {
  request: ChatRequest;
  /** What was accepted but dropped or changed (traffic record). */
  notes: string[];
  /** The client turned thinking off explicitly (wins over a `-thinking` model name). */
  thinkingOff?: boolean;
  streamWriter(sink: StreamSink, base: OutputBase, redactor: Redactor): ApiStreamWriter;
  /** Throws the error the events ended with (answered with errorFor). */
  build(events: readonly OutputEvent[], base: OutputBase): BuiltOutput;
  /** The whole answer reached the client (a finish, not an error): e.g. remember it. */
  delivered?(): void;
}

export interface ChatApi {
  /** Validates and maps the body; throws the API's request errors. */
  parse(body: unknown, options: { defaultThinkingBudget: number }): Exchange;
  /** The error for a model name nobody knows (its message lists the known names). */
  unknownModel(message: string): Error;
  /** The one table from any error to this API's answer (messages redacted). */
  errorFor(error: unknown, redactor: Redactor): ApiErrorInfo;
  sendError(res: ServerResponse, info: ApiErrorInfo, headers: Record<string, string>): void;
  /** Headers naming the request (Anthropic's `request-id`, OpenAI's `x-request-id`). */
  idHeaders(requestId: string): Record<string, string>;
}

const MAX_KNOWN_IN_ERROR = 40;

export interface Prepared {
  exchange: Exchange;
  request: ChatRequest;
  kiroModel: string;
  inputTokens: number;
  /** The response format's schema validator (checked before Kiro is called). */
  validator?: SchemaValidator;
}

/** What every writer and builder needs to know about the request it answers. */
export function outputBase(request: ChatRequest, kiroModel: string, inputTokens: number, context: BridgeContext): OutputBase {
  return { model: request.model, inputTokens, countTokens: (text) => context.counter.text(text), contextWindow: contextWindow(kiroModel) };
}

/**
 * Resolves the request's model to a Kiro model id (throwing `unknownModel` with the known names
 * otherwise), and turns thinking on for a thinking model unless the client turned it off.
 */
export function resolveRequestModel(
  request: ChatRequest,
  config: BridgeConfig,
  options: { available: ReadonlySet<string> | undefined; thinkingOff?: boolean; unknownModel: (message: string) => Error },
): string {
  const resolved = resolveModel(request.model, { aliases: config.modelAliases, available: options.available });
  if (!resolved) {
    const known = knownModelNames({ aliases: config.modelAliases });
    const listed = known.slice(0, MAX_KNOWN_IN_ERROR).join(', ');
    throw options.unknownModel(
      `model: unknown model "${request.model.slice(0, 200)}". Known models: ${listed}${known.length > MAX_KNOWN_IN_ERROR ? ', …' : ''}`,
    );
  }
  if (resolved.thinking && !request.thinking && !options.thinkingOff) request.thinking = { budgetTokens: config.thinkingDefaultBudget };
  return resolved.kiroModel;
}

/** Validation, model resolution, thinking defaults and the input count. */
export async function prepare(api: ChatApi, body: unknown, context: BridgeContext): Promise<Prepared> {
  const config = context.config();
  const exchange = api.parse(body, { defaultThinkingBudget: config.thinkingDefaultBudget });
  const { request } = exchange;
  const kiroModel = resolveRequestModel(request, config, {
    // Model ids an account reported that the bridge does not know yet pass through as they are.
    available: context.accounts.availableModels(),
    thinkingOff: exchange.thinkingOff,
    unknownModel: api.unknownModel,
  });
  const validator = request.responseFormat ? await checkResponseFormat(request.responseFormat) : undefined;
  // Counting yields to the event loop now and then, so a long first prompt does not stall other streams.
  return { exchange, request, kiroModel, inputTokens: await context.counter.countRequestAsync(request), validator };
}

/** Answers an error before anything was sent, and closes the record. */
export function failBeforeCommit(api: ChatApi, res: ServerResponse, trace: RequestTrace, error: unknown, context: BridgeContext): void {
  const info = api.errorFor(error, context.redactor);
  if (info.status >= 500) context.logger.warn(`${trace.id}: ${info.type}: ${info.message}`);
  api.sendError(res, info, api.idHeaders(trace.id));
  trace.finish(info.status, { type: info.type, message: info.message });
}

/**
 * True when the request was aborted because the client went away: nobody is left to answer, and
 * the record is closed as 499.
 */
export function finishIfClientGone(signal: AbortSignal, trace: RequestTrace): boolean {
  if (!signal.aborted || signal.reason !== ABORT_CLIENT_GONE) return false;
  trace.finish(499, { type: 'client_closed', message: 'the client closed the connection' });
  return true;
}

/** The error to answer with: a bridge shutting down is a retryable 503, not what the abort threw. */
export function failureToAnswer(error: unknown, signal: AbortSignal): unknown {
  return signal.aborted && signal.reason === ABORT_SHUTDOWN
    ? new KiroError('upstream_unavailable', 'the bridge is shutting down; retry the request', { status: 503 })
    : error;
}

/** Serves one chat request of any API, start to finish; it answers every failure itself. */
export async function serveChat(api: ChatApi, call: RouteCall): Promise<void> {
  const { res, body, trace, context, signal } = call;
  const config = context.config();
  let prepared: Prepared;
  try {
    prepared = await prepare(api, body, context);
  } catch (error) {
    failBeforeCommit(api, res, trace, error, context);
    return;
  }
  const { exchange, request, kiroModel, inputTokens, validator } = prepared;
  trace.addRepairs(exchange.notes);
  trace.captureClientRequest(body);
  trace.update({ modelAsked: request.model, kiroModel, stream: request.stream, inputTokens, flags: { streamed: request.stream } });

  const base = outputBase(request, kiroModel, inputTokens, context);
  // Streams commit early when the upstream is slow, so pings can flow.
  const stream = request.stream
    ? new StreamCommitter(res, {
        headers: { ...SSE_HEADERS, ...api.idHeaders(trace.id) },
        pingIntervalSeconds: config.pingIntervalSeconds,
        writer: (sink) => exchange.streamWriter(sink, base, context.redactor),
        onCommit: () => trace.update({ status: 200 }),
      })
    : undefined;

  let opened: Opened | undefined;
  try {
    // The account pool picks the account and fails over between attempts (./upstream-open).
    opened = await openUpstream(request, kiroModel, trace, context, config, signal, { inputTokens });
    if (request.responseFormat) {
      const events = await structuredAnswer(request, opened, validator, {
        trace,
        signal,
        base,
        reopen: async (retry) => {
          opened?.upstream.cancel();
          opened = await openUpstream(retry, kiroModel, trace, context, config, signal, { inputTokens, recordConversion: false });
          return opened;
        },
      });
      if (stream) streamComplete(res, events, stream, exchange, base, trace);
      else sendAnswer(api, res, events, exchange, base, trace);
    } else if (stream) {
      await streamResponse(res, opened, stream, exchange, base, trace, signal);
    } else {
      await collectResponse(api, res, opened, exchange, base, trace, signal);
    }
  } catch (error) {
    if (finishIfClientGone(signal, trace)) return;
    const failure = failureToAnswer(error, signal);
    if (stream && (stream.committed || res.headersSent)) {
      // Committed: the API's in-stream error is the only honest ending left.
      const writer = stream.commit();
      // A structured answer wrote nothing before it was validated: no open block to close.
      const tail =
        opened && !opened.assembler.done && !request.responseFormat
          ? opened.assembler.fail(failure instanceof Error ? failure : new Error(String(failure)))
          : [];
      if (tail.length) writer.write(tail);
      writer.fail(failure);
      const info = api.errorFor(failure, context.redactor);
      trace.update({ outputTokens: writer.usage.outputTokens });
      if (!res.writableEnded) res.end();
      trace.finish(200, { type: info.type, message: info.message });
    } else {
      failBeforeCommit(api, res, trace, failure, context);
    }
  } finally {
    stream?.stop();
    opened?.upstream.cancel();
  }
}

async function streamResponse(
  res: ServerResponse,
  opened: Opened,
  stream: StreamCommitter<ApiStreamWriter>,
  exchange: Exchange,
  base: OutputBase,
  trace: RequestTrace,
  signal: AbortSignal,
): Promise<void> {
  const writer = stream.commit();
  // The traffic record's response of a stream is the one answer its events add up to.
  const sent: OutputEvent[] | undefined = trace.capture === 'off' ? undefined : [];
  await readAnswer(opened, trace, signal, async (events) => {
    if (events.length === 0) return;
    if (sent) for (const event of events) sent.push(event);
    if (events.some((e) => e.type !== 'usage')) trace.markFirstByte();
    writer.write(events.length > 1 ? coalesceDeltas(events) : events);
    if (res.writableNeedDrain) await waitForDrain(res);
  });
  if (signal.aborted) throw signal.reason;
  endStream(res, writer, exchange, base, trace, sent);
}

/** Streams an answer that is already complete (structured output, validated before it is sent). */
function streamComplete(
  res: ServerResponse,
  events: readonly OutputEvent[],
  stream: StreamCommitter<ApiStreamWriter>,
  exchange: Exchange,
  base: OutputBase,
  trace: RequestTrace,
): void {
  const writer = stream.commit();
  trace.markFirstByte();
  writer.write(events);
  endStream(res, writer, exchange, base, trace, trace.capture === 'off' ? undefined : events);
}

/** After the stream's last event: the record's usage and outcome, and the response's end. */
function endStream(
  res: ServerResponse,
  writer: ApiStreamWriter,
  exchange: Exchange,
  base: OutputBase,
  trace: RequestTrace,
  sent: readonly OutputEvent[] | undefined,
): void {
  const outcome = writer.outcome;
  trace.recordOutcome(outcome && 'reason' in outcome ? outcome.reason : undefined, writer.usage);
  res.end();
  if (outcome && 'error' in outcome) {
    trace.finish(200, { type: outcome.error.type, message: outcome.error.message });
  } else {
    exchange.delivered?.();
    // After delivered(): building must not replace what a stream remembers (Responses' store).
    if (sent) {
      try {
        trace.captureResponse(exchange.build(sent, base).body);
      } catch {
        // A record that cannot be built must never fail a delivered answer.
      }
    }
    trace.finish(200);
  }
}

/**
 * Joins adjacent deltas of the same block that arrived together (text with text, thinking with
 * thinking, input fragments of the same tool), so a burst of frames becomes one delta per block
 * instead of one per frame. Frames that arrive one by one are still sent one by one.
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
  api: ChatApi,
  res: ServerResponse,
  opened: Opened,
  exchange: Exchange,
  base: OutputBase,
  trace: RequestTrace,
  signal: AbortSignal,
): Promise<void> {
  sendAnswer(api, res, await readAll(opened, trace, signal), exchange, base, trace);
}

/** Builds the non-streaming answer from the complete event list and sends it. */
function sendAnswer(api: ChatApi, res: ServerResponse, events: readonly OutputEvent[], exchange: Exchange, base: OutputBase, trace: RequestTrace): void {
  const answer = exchange.build(events, base);
  trace.markFirstByte();
  trace.recordOutcome(answer.stopReason, answer);
  trace.captureResponse(answer.body);
  sendJson(res, 200, answer.body, api.idHeaders(trace.id));
  exchange.delivered?.();
  trace.finish(200);
}
