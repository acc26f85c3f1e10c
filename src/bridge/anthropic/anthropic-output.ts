// Neutral OutputEvents → exactly what the Anthropic Messages API sends: the SSE event stream
// (message_start → content_block_start/delta/stop per block, sequential indexes → message_delta
// → message_stop; `ping`; `error`) and the non-streaming Message JSON. The streaming writer's life
// cycle (opening once, one ending, sink and back-pressure) is the shared one in ./sse.
//
// Both outputs run the same block tracker, so a streamed answer accumulated by a client (the
// official SDK's MessageStream) equals the non-streaming Message built from the same events.
import { createHash, randomFillSync } from 'node:crypto';
import { defaultRedactor, type Redactor } from '../../common/redact';
import { KiroError, type ErrorClass } from '../../kiro/errors';
import type { FinishReason, OutputEvent } from '../../kiro/types';
import { internalErrorMessage, isNoRetry, isOverloaded, messageAndRetry } from '../pipeline/error-details';
import { finishOf, UsageMeter, type BuiltOutput, type OutputBase } from '../pipeline/output';
import { SseStreamWriter, sseEvent, type StreamSink } from '../http/sse';

// ---- wire shapes (as in @anthropic-ai/sdk's resources/messages) -------------------------------

export type AnthropicContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

export type AnthropicDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string }
  | { type: 'input_json_delta'; partial_json: string };

export interface AnthropicUsage {
  /** Prompt tokens not read from or written to the cache (the API's meaning). */
  input_tokens: number;
  /** Kiro's cache numbers when it reports them; 0 otherwise, as the API says for an uncached prompt. */
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
  /** A 5xx that a plain retry would only repeat at the user's cost (`x-should-retry: false`). */
  noRetry?: boolean;
}

// ---- ids, signatures, errors --------------------------------------------------------------

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Random bytes drawn 4 KiB at a time: one call to the system's generator per ~170 ids. */
const idEntropy = Buffer.alloc(4096);
let idOffset = idEntropy.length;

/** `msg_` + 24 random base62 characters (the API's own ids look like `msg_01…` + 22). */
export function newMessageId(): string {
  if (idOffset + 24 > idEntropy.length) {
    randomFillSync(idEntropy);
    idOffset = 0;
  }
  let id = 'msg_';
  // 256 % 62 bias is irrelevant for an identifier; uniqueness is what matters.
  for (let i = 0; i < 24; i++) id += BASE62[idEntropy[idOffset + i]! % 62];
  idOffset += 24;
  return id;
}

/** How the bridge's own stand-in signatures start (see thinkingSignature). */
const STAND_IN_SIGNATURE_PREFIX = 'kiro-bridge.';

/**
 * The signature of a thinking block Kiro did not sign: reasoning the bridge split out of
 * `<thinking>` text (or native reasoning whose signature never came). Clients (Claude Code among
 * them) keep and resend thinking blocks only when they carry a signature, so this is a
 * recognisable stand-in: `kiro-bridge.` + a digest of the text. The request parser knows it and
 * sends such thinking back as tagged text; only Kiro's real signatures go back as signatures.
 */
export function thinkingSignature(thinking: string): string {
  return `${STAND_IN_SIGNATURE_PREFIX}${createHash('sha256').update(thinking).digest('base64url')}`;
}

/** A signature the bridge made up (never one Kiro issued). */
export function isStandInSignature(signature: string): boolean {
  return signature.startsWith(STAND_IN_SIGNATURE_PREFIX);
}

const ERROR_TABLE: Record<ErrorClass, { status: number; type: AnthropicErrorType }> = {
  // Claude Code compacts on a 400 whose message starts "prompt is too long" (the classifier's wording).
  prompt_too_long: { status: 400, type: 'invalid_request_error' },
  bad_request: { status: 400, type: 'invalid_request_error' },
  model_unavailable: { status: 404, type: 'not_found_error' },
  token_expired: { status: 401, type: 'authentication_error' },
  // The account's profile, not the client's request or key: a permission problem to fix in Kiro.
  profile_rejected: { status: 403, type: 'permission_error' },
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
  // The upstream's answer was unusable (a gateway's 502), not the client's request.
  invalid_output: { status: 502, type: 'api_error' },
  internal: { status: 500, type: 'api_error' },
};

/**
 * The one table from an error to the client's answer: HTTP status and Anthropic error type for a
 * non-streaming response, the same type for an SSE `error` event. Messages are redacted.
 */
export function anthropicErrorFor(error: unknown, redactor: Redactor = defaultRedactor): AnthropicErrorInfo {
  if (!(error instanceof KiroError)) return { status: 500, type: 'api_error', message: redactor.text(internalErrorMessage(error)) };
  // Overloaded is Anthropic's own 529, which clients retry with backoff.
  const { status, type } = isOverloaded(error) ? ({ status: 529, type: 'overloaded_error' } as const) : (ERROR_TABLE[error.errorClass] ?? ERROR_TABLE.internal);
  const { message, retryAfterSeconds } = messageAndRetry(error);
  const info: AnthropicErrorInfo = { status, type, message: redactor.text(message) };
  if (retryAfterSeconds !== undefined) info.retryAfterSeconds = retryAfterSeconds;
  if (isNoRetry(error)) info.noRetry = true;
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

/** Usage as the API reports it: uncached prompt tokens, the cache's share, and the output. */
export function anthropicUsage(inputTokens: number, outputTokens: number, cache: { read?: number; write?: number } = {}): AnthropicUsage {
  const read = cache.read ?? 0;
  const write = cache.write ?? 0;
  return {
    input_tokens: Math.max(0, inputTokens - read - write),
    cache_creation_input_tokens: write,
    cache_read_input_tokens: read,
    output_tokens: outputTokens,
  };
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
    const meter = this.meter;
    return {
      input_tokens: meter.uncachedInputTokens,
      cache_creation_input_tokens: meter.cacheWriteTokens ?? 0,
      cache_read_input_tokens: meter.cacheReadTokens ?? 0,
      output_tokens: meter.outputTokens,
    };
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
      case 'thinking_signature': {
        // Kiro's signature ends its reasoning block; one that comes alone signs an empty block.
        if (this.open?.kind !== 'thinking') {
          this.close(ops);
          const index = this.nextIndex++;
          this.open = { kind: 'thinking', index, parts: [] };
          ops.push({ op: 'start', index, block: { type: 'thinking', thinking: '', signature: '' } });
        }
        this.close(ops, event.signature);
        return;
      }
      case 'redacted_thinking': {
        this.close(ops);
        const index = this.nextIndex++;
        const block: AnthropicContentBlock = { type: 'redacted_thinking', data: event.data };
        // The API sends a redacted block whole in its content_block_start, with no deltas.
        ops.push({ op: 'start', index, block });
        ops.push({ op: 'stop', index, block });
        return;
      }
      case 'usage':
        this.meter.observe(event);
        return;
      case 'finish':
      case 'error':
        return;
      default: {
        const _exhaustive: never = event;
        return _exhaustive;
      }
    }
  }

  /**
   * Closes the open block, if any (a tool block can only be closed by its tool_end). A thinking
   * block gets Kiro's `signature` when it has one, else the bridge's stand-in.
   */
  close(ops: BlockOp[], signature?: string): void {
    const open = this.open;
    if (!open) return;
    if (open.kind === 'tool') {
      throw new KiroError('internal', `tool call ${open.id} was interrupted by another block before its input ended`);
    }
    this.open = undefined;
    const text = open.parts.join('');
    if (open.kind === 'text') {
      this.meter.text(text);
      ops.push({ op: 'stop', index: open.index, block: { type: 'text', text } });
    } else {
      this.meter.reasoning(text);
      const signed = signature ?? thinkingSignature(text);
      ops.push({ op: 'delta', index: open.index, delta: { type: 'signature_delta', signature: signed } });
      ops.push({ op: 'stop', index: open.index, block: { type: 'thinking', thinking: text, signature: signed } });
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

/** content_block_start for any block (the web search writer's server blocks too). */
export function blockStartEvent(index: number, block: object): string {
  return sseEvent('content_block_start', { type: 'content_block_start', index, content_block: block });
}

/**
 * content_block_delta is the hot path (one per upstream frame): written from a template so only
 * the payload string goes through JSON.stringify. Same bytes as sseEvent() would produce.
 */
export function blockDeltaEvent(index: number, delta: AnthropicDelta): string {
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

export function blockStopEvent(index: number): string {
  return sseEvent('content_block_stop', { type: 'content_block_stop', index });
}

function opToSse(op: BlockOp): string {
  switch (op.op) {
    case 'start':
      return blockStartEvent(op.index, op.block);
    case 'delta':
      return blockDeltaEvent(op.index, op.delta);
    case 'stop':
      return blockStopEvent(op.index);
  }
}

/** message_start: the message envelope, empty, with the prompt's tokens. */
export function messageStartEvent(meta: AnthropicOutputMeta, inputTokens: number): string {
  const message: AnthropicMessage = {
    id: meta.messageId,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    stop_details: null,
    usage: anthropicUsage(inputTokens, 0),
  };
  return sseEvent('message_start', { type: 'message_start', message });
}

/** message_delta (stop reason and final usage) and message_stop. */
export function messageEndEvents(reason: string, stopSequence: string | undefined, usage: AnthropicUsage): string {
  return (
    sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: reason, stop_sequence: stopSequence ?? null, stop_details: null }, usage }) +
    sseEvent('message_stop', { type: 'message_stop' })
  );
}

export const PING_EVENT = sseEvent('ping', { type: 'ping' });

export function errorEvent(info: AnthropicErrorInfo): string {
  return sseEvent('error', anthropicErrorBody(info));
}

/**
 * The Messages API stream: message_start, then content_block_start/delta/stop per block with
 * sequential indexes, message_delta and message_stop; `ping`; `error`. A failure leaves open
 * blocks as they are, as the API does: the client discards the message.
 */
export class AnthropicStreamWriter extends SseStreamWriter<BlockOp, AnthropicErrorInfo, BlockTracker> {
  constructor(
    sink: StreamSink,
    private readonly meta: AnthropicOutputMeta,
    private readonly redactor: Redactor = defaultRedactor,
  ) {
    super(sink, new BlockTracker(meta));
  }

  /** The opening goes out before Kiro answers: it carries the bridge's estimate of the prompt. */
  protected opening(): string {
    return messageStartEvent(this.meta, this.meta.inputTokens);
  }

  protected pingChunk(): string {
    return this.preamble() + PING_EVENT;
  }

  protected render(ops: BlockOp[]): string {
    let out = '';
    for (const op of ops) out += opToSse(op);
    return out;
  }

  protected closeChunk(ops: BlockOp[], reason: FinishReason, stopSequence: string | undefined): string {
    this.tracker.close(ops);
    const blocks = this.render(ops);
    ops.length = 0;
    return blocks + messageEndEvents(reason, stopSequence, this.tracker.usage());
  }

  protected errorInfo(error: unknown): AnthropicErrorInfo {
    return anthropicErrorFor(error, this.redactor);
  }

  protected errorEvents(info: AnthropicErrorInfo): string {
    return errorEvent(info);
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
