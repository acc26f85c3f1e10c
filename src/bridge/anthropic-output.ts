// Neutral OutputEvents → exactly what the Anthropic Messages API sends: the SSE event stream
// (message_start → content_block_start/delta/stop per block, sequential indexes → message_delta
// → message_stop; `ping`; `error`) and the non-streaming Message JSON. No express, no sockets:
// the streaming writer writes strings to a sink the HTTP layer owns (and reports back-pressure).
//
// Both outputs run the same block tracker, so a streamed answer accumulated by a client (the
// official SDK's MessageStream) equals the non-streaming Message built from the same events.
import { createHash, randomBytes } from 'node:crypto';
import { defaultRedactor, type Redactor } from '../common/redact';
import { KiroError, type ErrorClass } from '../kiro/errors';
import type { FinishReason, OutputEvent } from '../kiro/types';
import { finishOf, UsageMeter, type BuiltOutput, type OutputBase, type UsageTotals } from './output';

// ---- wire shapes (as in @anthropic-ai/sdk's resources/messages) -------------------------------

export type AnthropicContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

export type AnthropicDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string }
  | { type: 'input_json_delta'; partial_json: string };

export interface AnthropicUsage {
  input_tokens: number;
  /** Kiro has no prompt cache; reported as 0 like the API does for uncached requests. */
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
}

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: FinishReason | null;
  stop_sequence: string | null;
  stop_details: null;
  usage: AnthropicUsage;
}

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'overloaded_error'
  | 'api_error';

export interface AnthropicErrorInfo {
  status: number;
  type: AnthropicErrorType;
  message: string;
  /** For a `retry-after` header. */
  retryAfterSeconds?: number;
}

/** Response headers for an Anthropic SSE stream. */
export const ANTHROPIC_SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

// ---- ids, signatures, errors --------------------------------------------------------------

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `msg_` + 24 random base62 characters (the API's own ids look like `msg_01…` + 22). */
export function newMessageId(): string {
  const bytes = randomBytes(24);
  let id = 'msg_';
  // 256 % 62 bias is irrelevant for an identifier; uniqueness is what matters.
  for (const byte of bytes) id += BASE62[byte % 62];
  return id;
}

/**
 * Kiro gives no thinking signature, and clients (Claude Code among them) keep and resend thinking
 * blocks only when they carry one. We send a synthetic, recognisable one: `kiro-bridge.` + a
 * digest of the thinking text. It would not verify at Anthropic (nothing Kiro produces could);
 * our own request converter ignores signatures and sends the thinking back as tagged text.
 */
export function thinkingSignature(thinking: string): string {
  return `kiro-bridge.${createHash('sha256').update(thinking).digest('base64url')}`;
}

const ERROR_TABLE: Record<ErrorClass, { status: number; type: AnthropicErrorType }> = {
  // Claude Code compacts on a 400 whose message starts "prompt is too long" (the classifier's wording).
  prompt_too_long: { status: 400, type: 'invalid_request_error' },
  bad_request: { status: 400, type: 'invalid_request_error' },
  model_unavailable: { status: 404, type: 'not_found_error' },
  token_expired: { status: 401, type: 'authentication_error' },
  needs_sign_in: { status: 401, type: 'authentication_error' },
  account_suspended: { status: 403, type: 'permission_error' },
  quota_exhausted: { status: 429, type: 'rate_limit_error' },
  throttled: { status: 429, type: 'rate_limit_error' },
  upstream_unavailable: { status: 502, type: 'api_error' },
  // Nothing the client can fix by re-sending its key: not an authentication_error (clients
  // answer those by asking the user to log in to Anthropic).
  no_account: { status: 503, type: 'api_error' },
  stream_broken: { status: 502, type: 'api_error' },
  // The SDKs know the API's own gateway timeout (504 timeout_error).
  timeout: { status: 504, type: 'timeout_error' },
  internal: { status: 500, type: 'api_error' },
};

/**
 * The one table from an error to the client's answer: HTTP status and Anthropic error type for a
 * non-streaming response, the same type for an SSE `error` event. Messages are redacted.
 */
export function anthropicErrorFor(error: unknown, redactor: Redactor = defaultRedactor): AnthropicErrorInfo {
  if (!(error instanceof KiroError)) {
    const message = error instanceof Error ? error.message : String(error);
    return { status: 500, type: 'api_error', message: redactor.text(`internal error: ${message}`) };
  }
  let { status, type } = ERROR_TABLE[error.errorClass] ?? ERROR_TABLE.internal;
  // No capacity for the model is Anthropic's "overloaded" (529), which clients retry with backoff.
  if (error.errorClass === 'upstream_unavailable' && (error.reason === 'INSUFFICIENT_MODEL_CAPACITY' || error.status === 503 || error.status === 529)) {
    status = 529;
    type = 'overloaded_error';
  }
  let message = error.message;
  let retryAfterSeconds = error.retryAfterSeconds;
  if (error.errorClass === 'quota_exhausted' && error.resetAt) {
    const seconds = Math.ceil((error.resetAt.getTime() - Date.now()) / 1000);
    if (seconds > 0) retryAfterSeconds ??= seconds;
    if (!message.includes(error.resetAt.toISOString())) message += ` (resets at ${error.resetAt.toISOString()})`;
  }
  const info: AnthropicErrorInfo = { status, type, message: redactor.text(message) };
  if (retryAfterSeconds !== undefined) info.retryAfterSeconds = retryAfterSeconds;
  return info;
}

/** The error body the API sends (as JSON, or as the data of an SSE `error` event). */
export function anthropicErrorBody(info: Pick<AnthropicErrorInfo, 'type' | 'message'>): {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
} {
  return { type: 'error', error: { type: info.type, message: info.message } };
}

// ---- the shared block tracker -------------------------------------------------------------

export interface AnthropicOutputMeta extends OutputBase {
  messageId: string;
}

/** Usage as the API reports it. */
export function anthropicUsage(inputTokens: number, outputTokens: number): AnthropicUsage {
  return { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: outputTokens };
}

type BlockOp =
  | { op: 'start'; index: number; block: AnthropicContentBlock }
  | { op: 'delta'; index: number; delta: AnthropicDelta }
  | { op: 'stop'; index: number; block: AnthropicContentBlock };

type OpenBlock =
  | { kind: 'text'; index: number; parts: string[] }
  | { kind: 'thinking'; index: number; parts: string[] }
  | { kind: 'tool'; index: number; id: string; name: string; parts: string[] };

/** OutputEvents → block operations with sequential indexes, plus usage accounting. */
class BlockTracker {
  /** Text and thinking count whole; a tool call counts its name and input JSON, with no overhead. */
  readonly meter: UsageMeter;
  private nextIndex = 0;
  private open: OpenBlock | undefined;

  constructor(meta: AnthropicOutputMeta) {
    this.meter = new UsageMeter(meta, 0);
  }

  usage(): AnthropicUsage {
    return anthropicUsage(this.meter.inputTokens, this.meter.outputTokens);
  }

  /** Applies a content or usage event; finish/error are the caller's. */
  apply(event: OutputEvent, ops: BlockOp[]): void {
    switch (event.type) {
      case 'text':
      case 'thinking': {
        if (!event.text) return;
        let block: OpenBlock;
        if (this.open && this.open.kind === event.type) {
          block = this.open;
        } else {
          this.close(ops);
          block = { kind: event.type, index: this.nextIndex++, parts: [] };
          this.open = block;
          ops.push({
            op: 'start',
            index: block.index,
            block: event.type === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' },
          });
        }
        block.parts.push(event.text);
        ops.push({
          op: 'delta',
          index: block.index,
          delta: event.type === 'text' ? { type: 'text_delta', text: event.text } : { type: 'thinking_delta', thinking: event.text },
        });
        return;
      }
      case 'tool_start': {
        this.close(ops);
        const index = this.nextIndex++;
        this.open = { kind: 'tool', index, id: event.id, name: event.name, parts: [] };
        ops.push({ op: 'start', index, block: { type: 'tool_use', id: event.id, name: event.name, input: {} } });
        return;
      }
      case 'tool_delta': {
        const tool = this.openTool(event.id, 'tool_delta');
        if (!event.json) return;
        tool.parts.push(event.json);
        ops.push({ op: 'delta', index: tool.index, delta: { type: 'input_json_delta', partial_json: event.json } });
        return;
      }
      case 'tool_end': {
        const tool = this.openTool(event.id, 'tool_end');
        this.meter.toolCall(tool.name, tool.parts.join(''));
        this.open = undefined;
        ops.push({ op: 'stop', index: tool.index, block: { type: 'tool_use', id: tool.id, name: tool.name, input: event.input } });
        return;
      }
      case 'usage':
        this.meter.observe(event);
        return;
      case 'finish':
      case 'error':
        return;
    }
  }

  /** Closes the open block, if any (a tool block can only be closed by its tool_end). */
  close(ops: BlockOp[]): void {
    const open = this.open;
    if (!open) return;
    if (open.kind === 'tool') {
      throw new KiroError('internal', `tool call ${open.id} was interrupted by another block before its input ended`);
    }
    this.open = undefined;
    const text = open.parts.join('');
    this.meter.text(text);
    if (open.kind === 'text') {
      ops.push({ op: 'stop', index: open.index, block: { type: 'text', text } });
    } else {
      const signature = thinkingSignature(text);
      ops.push({ op: 'delta', index: open.index, delta: { type: 'signature_delta', signature } });
      ops.push({ op: 'stop', index: open.index, block: { type: 'thinking', thinking: text, signature } });
    }
  }

  private openTool(id: string, what: string): Extract<OpenBlock, { kind: 'tool' }> {
    const open = this.open;
    if (open?.kind !== 'tool' || open.id !== id) {
      throw new KiroError('internal', `${what} for tool call ${id}, which is not the open block`);
    }
    return open;
  }
}

// ---- streaming -----------------------------------------------------------------------------

export interface AnthropicSink {
  /** Returns false when the consumer wants the producer to wait (for `drain`). */
  write(chunk: string): boolean;
}

function sse(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * content_block_delta is the hot path (one per upstream frame): written from a template so only
 * the payload string goes through JSON.stringify. Same bytes as sse() would produce.
 */
function deltaSse(index: number, delta: AnthropicDelta): string {
  let body: string;
  switch (delta.type) {
    case 'text_delta':
      body = `"text":${JSON.stringify(delta.text)}`;
      break;
    case 'thinking_delta':
      body = `"thinking":${JSON.stringify(delta.thinking)}`;
      break;
    case 'signature_delta':
      body = `"signature":${JSON.stringify(delta.signature)}`;
      break;
    case 'input_json_delta':
      body = `"partial_json":${JSON.stringify(delta.partial_json)}`;
      break;
  }
  return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"${delta.type}",${body}}}\n\n`;
}

function opToSse(op: BlockOp): string {
  switch (op.op) {
    case 'start':
      return sse('content_block_start', { type: 'content_block_start', index: op.index, content_block: op.block });
    case 'delta':
      return deltaSse(op.index, op.delta);
    case 'stop':
      return sse('content_block_stop', { type: 'content_block_stop', index: op.index });
  }
}

export class AnthropicStreamWriter {
  private readonly tracker: BlockTracker;
  private started = false;
  private endedAs: { reason: FinishReason; stopSequence?: string } | { error: AnthropicErrorInfo } | undefined;

  constructor(
    private readonly sink: AnthropicSink,
    private readonly meta: AnthropicOutputMeta,
    private readonly redactor: Redactor = defaultRedactor,
  ) {
    this.tracker = new BlockTracker(meta);
  }

  /** True after message_stop or an error event: nothing more will be written. */
  get ended(): boolean {
    return this.endedAs !== undefined;
  }

  /** How the stream ended, for the traffic record. */
  get outcome(): { reason: FinishReason; stopSequence?: string } | { error: AnthropicErrorInfo } | undefined {
    return this.endedAs;
  }

  /** Usage so far (final once ended): tokens as reported to the client, and Kiro's credits. */
  get usage(): UsageTotals {
    return this.tracker.meter.totals;
  }

  /** message_start. Called by write() if the caller did not. */
  start(): boolean {
    if (this.ended) return true;
    const chunk = this.preamble();
    return chunk ? this.sink.write(chunk) : true;
  }

  /** Keep-alive while waiting for upstream bytes (clients ignore it). */
  ping(): boolean {
    if (this.ended) return true;
    return this.sink.write(this.preamble() + sse('ping', { type: 'ping' }));
  }

  /** Writes the events (a finish or error among them ends the stream). Returns the sink's verdict. */
  write(events: readonly OutputEvent[]): boolean {
    if (this.ended || events.length === 0) return true;
    let chunk = this.preamble();
    const ops: BlockOp[] = [];
    try {
      for (const event of events) {
        if (event.type === 'finish') {
          chunk += this.finishChunk(ops, event.reason, event.stopSequence);
          break;
        }
        if (event.type === 'error') {
          chunk += ops.map(opToSse).join('') + this.errorChunk(event.error);
          ops.length = 0;
          break;
        }
        this.tracker.apply(event, ops);
      }
      chunk += ops.map(opToSse).join('');
    } catch (error) {
      // A broken event sequence is our bug; the client still gets what came before it and a
      // proper error event.
      chunk += ops.map(opToSse).join('') + this.errorChunk(error);
    }
    return chunk ? this.sink.write(chunk) : true;
  }

  /** Ends the stream normally: closes the open block, message_delta, message_stop. */
  finish(reason: FinishReason, stopSequence?: string): boolean {
    if (this.ended) return true;
    let chunk = this.preamble();
    try {
      chunk += this.finishChunk([], reason, stopSequence);
    } catch (error) {
      chunk += this.errorChunk(error);
    }
    return this.sink.write(chunk);
  }

  /**
   * Ends the stream with an SSE `error` event (headers are sent, so no HTTP status is possible).
   * Open blocks are left as they are, as the API does: the client discards the message.
   */
  fail(error: unknown): boolean {
    if (this.ended) return true;
    return this.sink.write(this.preamble() + this.errorChunk(error));
  }

  private preamble(): string {
    if (this.started) return '';
    this.started = true;
    const message: AnthropicMessage = {
      id: this.meta.messageId,
      type: 'message',
      role: 'assistant',
      model: this.meta.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      stop_details: null,
      usage: { ...this.tracker.usage(), output_tokens: 0 },
    };
    return sse('message_start', { type: 'message_start', message });
  }

  private finishChunk(ops: BlockOp[], reason: FinishReason, stopSequence: string | undefined): string {
    this.tracker.close(ops);
    this.endedAs = stopSequence === undefined ? { reason } : { reason, stopSequence };
    return (
      ops.splice(0).map(opToSse).join('') +
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: reason, stop_sequence: stopSequence ?? null, stop_details: null },
        usage: this.tracker.usage(),
      }) +
      sse('message_stop', { type: 'message_stop' })
    );
  }

  private errorChunk(error: unknown): string {
    const info = anthropicErrorFor(error, this.redactor);
    this.endedAs = { error: info };
    return sse('error', anthropicErrorBody(info));
  }
}

// ---- non-streaming -------------------------------------------------------------------------

/**
 * The Message for a non-streaming request, from the complete event list, with its usage for the
 * traffic record. Throws the error when the events end in one (the HTTP layer answers with
 * anthropicErrorFor), and an internal KiroError when they end without a finish.
 */
export function buildAnthropicMessage(events: readonly OutputEvent[], meta: AnthropicOutputMeta): BuiltOutput<AnthropicMessage> {
  const tracker = new BlockTracker(meta);
  const content: AnthropicContentBlock[] = [];
  const ops: BlockOp[] = [];
  const collect = () => {
    for (const op of ops.splice(0)) if (op.op === 'stop') content[op.index] = op.block;
  };
  const finish = finishOf(events, (event) => {
    tracker.apply(event, ops);
    collect();
  });
  tracker.close(ops);
  collect();
  const body: AnthropicMessage = {
    id: meta.messageId,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content,
    stop_reason: finish.reason,
    stop_sequence: finish.stopSequence ?? null,
    stop_details: null,
    usage: tracker.usage(),
  };
  return { body, stopReason: finish.reason, ...tracker.meter.totals };
}
