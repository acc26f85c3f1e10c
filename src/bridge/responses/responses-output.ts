// Neutral OutputEvents → what OpenAI's Responses API sends: the streaming events (response.created,
// response.in_progress, response.output_item.added, content parts, response.output_text.delta,
// response.reasoning_text.delta, response.function_call_arguments.delta, the .done events,
// response.output_item.done, then response.completed or response.incomplete; every event with a
// sequence_number) and the non-streaming Response object. Output items: a `reasoning` item for
// thinking (raw reasoning text, as reasoning_text content), `message` items for text, and a
// `function_call` (or `custom_tool_call`, for free-form tools) per tool call. A call of a
// flattened namespace member goes back as the member's `name` plus its `namespace`, the pair
// Codex dispatches on.
//
// A reasoning item ends with Kiro's signature when Kiro signed it. With
// `include: ["reasoning.encrypted_content"]` its `encrypted_content` carries the text and the
// signature (./reasoning-envelope), so a stateless client such as Codex gives Kiro its reasoning
// back unchanged; reasoning Kiro withheld is an item of its own with only that field.
//
// Failures after the stream began end it with an `error` event and then `response.failed`
// (Codex reads the latter's error code; the official SDKs raise the former as an APIError).
import { randomBytes } from 'node:crypto';
import { defaultRedactor, type Redactor } from '../../common/redact';
import { KiroError } from '../../kiro/errors';
import type { ChatMessage, FinishReason, OutputEvent } from '../../kiro/types';
import { openaiErrorFor, type OpenAIErrorInfo } from '../openai/openai-errors';
import type { OpenAIOutputMeta } from '../openai/openai-output';
import { finishOf, UsageMeter, type BuiltOutput } from '../pipeline/output';
import { SSE_COMMENT_PING, SseStreamWriter, sseEvent, type StreamSink } from '../http/sse';
import { itemBlocks, type ResponseEcho } from './responses-input';
import { CUSTOM_TOOL_INPUT, type NamespacedName } from './responses-tools';
import { sealReasoning } from './reasoning-envelope';

// ---- wire shapes (as in the openai package's resources/responses) ---------------------------

export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: never[];
  logprobs: never[];
}

export interface ReasoningTextPart {
  type: 'reasoning_text';
  text: string;
}

export interface SummaryTextPart {
  type: 'summary_text';
  text: string;
}

export type ResponseOutputItem =
  | { type: 'message'; id: string; status: 'in_progress' | 'completed'; role: 'assistant'; content: OutputTextPart[] }
  | { type: 'reasoning'; id: string; summary: SummaryTextPart[]; content: ReasoningTextPart[]; encrypted_content?: string }
  | { type: 'function_call'; id: string; call_id: string; name: string; namespace?: string; arguments: string; status: 'in_progress' | 'completed' }
  | { type: 'custom_tool_call'; id: string; call_id: string; name: string; input: string };

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface ResponseObject extends ResponseEcho {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  background: false;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' } | null;
  model: string;
  output: ResponseOutputItem[];
  service_tier: 'default';
  usage: ResponseUsage | null;
}

export interface ResponsesOutputMeta extends OpenAIOutputMeta {
  echo: ResponseEcho;
  /** Tools the client defined as `custom` (free-form input). */
  customTools: ReadonlySet<string>;
  /** Flattened names of namespace members, and the pair each stands for. */
  namespacedTools: ReadonlyMap<string, NamespacedName>;
  /** `include` asked for `reasoning.encrypted_content`. */
  encryptedReasoning?: boolean;
  /**
   * Called with the final Response (completed or incomplete) just before a stream sends it, and
   * its items as the bridge keeps them (reasoning with its envelope): a client may refer to its
   * items (`item_reference`, `previous_response_id`) the moment it reads `response.completed`, so
   * it must be kept by then.
   */
  onFinal?: (response: ResponseObject, items: readonly ResponseOutputItem[]) => void;
}

function hexId(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

/** `resp_` + 48 hex characters, like OpenAI's. */
export function newResponseId(): string {
  return hexId('resp');
}

/** A streaming event before its sequence number is assigned. */
type ResponseEvent = { type: string } & Record<string, unknown>;

// ---- the shared tracker ---------------------------------------------------------------------

type OpenItem =
  | { kind: 'message'; index: number; id: string; parts: string[] }
  /** `summarised`: the reasoning also goes out as a summary part (the client asked for summaries). */
  | { kind: 'reasoning'; index: number; id: string; parts: string[]; summarised: boolean }
  | { kind: 'call'; index: number; id: string; callId: string; name: string; namespace?: string; custom: boolean; parts: string[] };

/** `{namespace}` for a call of a namespace member, else nothing (the field is left out). */
function namespaceOf(call: { namespace?: string }): { namespace?: string } {
  return call.namespace === undefined ? {} : { namespace: call.namespace };
}

/** OutputEvents → output items (and the streaming events that build them), plus usage. */
class ResponseTracker {
  readonly meter: UsageMeter;
  /**
   * Finished items, in output order, as the bridge keeps them: reasoning items always carry their
   * envelope (the stored conversation needs the signature); `visible` is what the client gets.
   */
  readonly items: ResponseOutputItem[] = [];
  private open: OpenItem | undefined;

  constructor(private readonly meta: ResponsesOutputMeta) {
    this.meter = new UsageMeter(meta);
  }

  apply(event: OutputEvent, out: ResponseEvent[]): void {
    switch (event.type) {
      case 'text':
      case 'thinking': {
        if (!event.text) return;
        const kind = event.type === 'text' ? 'message' : 'reasoning';
        if (this.open?.kind === 'call') throw new KiroError('internal', `${event.type} arrived inside tool call ${this.open.callId}`);
        const current = this.open;
        let item: Exclude<OpenItem, { kind: 'call' }>;
        if (current !== undefined && current.kind === kind) {
          item = current;
        } else {
          this.close(out);
          if (kind === 'message') {
            item = { kind, index: this.items.length, id: hexId('msg'), parts: [] };
            out.push({
              type: 'response.output_item.added',
              output_index: item.index,
              item: { id: item.id, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
            });
            out.push({
              type: 'response.content_part.added',
              item_id: item.id,
              output_index: item.index,
              content_index: 0,
              part: { type: 'output_text', annotations: [], logprobs: [], text: '' },
            });
          } else {
            item = this.openReasoning(out, this.meta.echo.reasoning.summary !== null);
          }
          this.open = item;
        }
        item.parts.push(event.text);
        if (item.kind === 'message') {
          out.push({ type: 'response.output_text.delta', item_id: item.id, output_index: item.index, content_index: 0, delta: event.text });
        } else {
          out.push({ type: 'response.reasoning_text.delta', item_id: item.id, output_index: item.index, content_index: 0, delta: event.text });
          if (item.summarised)
            out.push({ type: 'response.reasoning_summary_text.delta', item_id: item.id, output_index: item.index, summary_index: 0, delta: event.text });
        }
        return;
      }
      case 'tool_start': {
        // Throws if a call is still open: calls come one at a time (the assembler's promise).
        this.close(out);
        const custom = this.meta.customTools.has(event.name);
        const member = custom ? undefined : this.meta.namespacedTools.get(event.name);
        const name = member?.name ?? event.name;
        const item: OpenItem = {
          kind: 'call',
          index: this.items.length,
          id: hexId(custom ? 'ctc' : 'fc'),
          callId: event.id,
          name,
          namespace: member?.namespace,
          custom,
          parts: [],
        };
        this.open = item;
        out.push({
          type: 'response.output_item.added',
          output_index: item.index,
          item: custom
            ? { id: item.id, type: 'custom_tool_call', call_id: item.callId, name, input: '' }
            : { id: item.id, type: 'function_call', call_id: item.callId, name, ...namespaceOf(item), arguments: '', status: 'in_progress' },
        });
        return;
      }
      case 'tool_delta': {
        const call = this.openCall(event.id, 'tool_delta');
        if (!event.json) return;
        call.parts.push(event.json);
        // A custom tool's input is the string inside the JSON: sent whole when the call ends.
        if (!call.custom) out.push({ type: 'response.function_call_arguments.delta', item_id: call.id, output_index: call.index, delta: event.json });
        return;
      }
      case 'tool_end': {
        const call = this.openCall(event.id, 'tool_end');
        this.open = undefined;
        const args = call.parts.join('');
        this.meter.toolCall(call.name, args);
        if (call.custom) {
          const value = (event.input as Record<string, unknown> | undefined)?.[CUSTOM_TOOL_INPUT];
          const input = typeof value === 'string' ? value : JSON.stringify(event.input ?? {});
          const item: ResponseOutputItem = { id: call.id, type: 'custom_tool_call', call_id: call.callId, name: call.name, input };
          out.push({ type: 'response.custom_tool_call_input.delta', item_id: call.id, output_index: call.index, delta: input });
          out.push({ type: 'response.custom_tool_call_input.done', item_id: call.id, output_index: call.index, input });
          out.push({ type: 'response.output_item.done', output_index: call.index, item });
          this.items.push(item);
          return;
        }
        let finalArgs = args;
        if (finalArgs === '') {
          // No input streamed: clients JSON.parse the arguments, and "" is not JSON.
          finalArgs = JSON.stringify(event.input ?? {});
          out.push({ type: 'response.function_call_arguments.delta', item_id: call.id, output_index: call.index, delta: finalArgs });
        }
        const item: ResponseOutputItem = {
          id: call.id,
          type: 'function_call',
          call_id: call.callId,
          name: call.name,
          ...namespaceOf(call),
          arguments: finalArgs,
          status: 'completed',
        };
        out.push({ type: 'response.function_call_arguments.done', item_id: call.id, output_index: call.index, name: call.name, arguments: finalArgs });
        out.push({ type: 'response.output_item.done', output_index: call.index, item });
        this.items.push(item);
        return;
      }
      case 'thinking_signature': {
        // Kiro's signature ends its reasoning item; one that comes alone signs an empty item.
        if (this.open?.kind !== 'reasoning') {
          this.close(out);
          // No text to summarise.
          this.open = this.openReasoning(out, false);
        }
        this.close(out, event.signature);
        return;
      }
      case 'redacted_thinking': {
        this.close(out);
        const index = this.items.length;
        const id = hexId('rs');
        out.push({ type: 'response.output_item.added', output_index: index, item: { id, type: 'reasoning', summary: [], content: [] } });
        const item: ResponseOutputItem = { id, type: 'reasoning', summary: [], content: [], encrypted_content: sealReasoning({ redacted: event.data }) };
        out.push({ type: 'response.output_item.done', output_index: index, item: this.visible(item) });
        this.items.push(item);
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

  /** An item as the client gets it: reasoning envelopes only when `include` asked for them. */
  visible(item: ResponseOutputItem): ResponseOutputItem {
    if (item.type !== 'reasoning' || item.encrypted_content === undefined || this.meta.encryptedReasoning) return item;
    const { encrypted_content: _envelope, ...rest } = item;
    return rest;
  }

  /** The finished items as the client gets them. */
  visibleItems(): ResponseOutputItem[] {
    return this.items.map((item) => this.visible(item));
  }

  /**
   * Closes the open message or reasoning item (a tool call is closed only by its tool_end); a
   * reasoning item takes Kiro's `signature` when it has one.
   */
  close(out: ResponseEvent[], signature?: string): void {
    const open = this.open;
    if (!open) return;
    if (open.kind === 'call') throw new KiroError('internal', `tool call ${open.callId} was interrupted before its input ended`);
    this.open = undefined;
    const text = open.parts.join('');
    if (open.kind === 'message') {
      this.meter.text(text);
      const part: OutputTextPart = { type: 'output_text', annotations: [], logprobs: [], text };
      const item: ResponseOutputItem = { id: open.id, type: 'message', status: 'completed', role: 'assistant', content: [part] };
      out.push({ type: 'response.output_text.done', item_id: open.id, output_index: open.index, content_index: 0, text, logprobs: [] });
      out.push({ type: 'response.content_part.done', item_id: open.id, output_index: open.index, content_index: 0, part });
      out.push({ type: 'response.output_item.done', output_index: open.index, item });
      this.items.push(item);
    } else {
      this.meter.reasoning(text);
      const part: ReasoningTextPart = { type: 'reasoning_text', text };
      const summary: SummaryTextPart[] = open.summarised ? [{ type: 'summary_text', text }] : [];
      const encrypted_content = sealReasoning({ text, signature });
      const item: ResponseOutputItem = { id: open.id, type: 'reasoning', summary, content: [part], encrypted_content };
      if (open.summarised) {
        out.push({ type: 'response.reasoning_summary_text.done', item_id: open.id, output_index: open.index, summary_index: 0, text });
        out.push({ type: 'response.reasoning_summary_part.done', item_id: open.id, output_index: open.index, summary_index: 0, part: summary[0] });
      }
      out.push({ type: 'response.reasoning_text.done', item_id: open.id, output_index: open.index, content_index: 0, text });
      out.push({ type: 'response.content_part.done', item_id: open.id, output_index: open.index, content_index: 0, part });
      out.push({ type: 'response.output_item.done', output_index: open.index, item: this.visible(item) });
      this.items.push(item);
    }
  }

  usage(): ResponseUsage {
    const { inputTokens, outputTokens, reasoningTokens, cacheReadTokens } = this.meter;
    return {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: cacheReadTokens ?? 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: reasoningTokens },
      total_tokens: inputTokens + outputTokens,
    };
  }

  /**
   * Opens a reasoning item. Kiro's reasoning is the model's own text, sent as `reasoning_text`;
   * when the client asked for summaries (`reasoning.summary`: Codex always, the AI SDK when
   * configured — both read only the summary), the same text also goes out as the summary, since
   * Kiro writes no separate one.
   */
  private openReasoning(out: ResponseEvent[], summarised: boolean): Extract<OpenItem, { kind: 'reasoning' }> {
    const item: Extract<OpenItem, { kind: 'reasoning' }> = { kind: 'reasoning', index: this.items.length, id: hexId('rs'), parts: [], summarised };
    out.push({ type: 'response.output_item.added', output_index: item.index, item: { id: item.id, type: 'reasoning', summary: [], content: [] } });
    if (summarised)
      out.push({
        type: 'response.reasoning_summary_part.added',
        item_id: item.id,
        output_index: item.index,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      });
    out.push({ type: 'response.content_part.added', item_id: item.id, output_index: item.index, content_index: 0, part: { type: 'reasoning_text', text: '' } });
    return item;
  }

  private openCall(id: string, what: string): Extract<OpenItem, { kind: 'call' }> {
    const open = this.open;
    if (open?.kind !== 'call' || open.callId !== id) throw new KiroError('internal', `${what} for tool call ${id}, which is not the open item`);
    return open;
  }
}

function responseObject(
  meta: ResponsesOutputMeta,
  status: ResponseStatus,
  output: ResponseOutputItem[],
  usage: ResponseUsage | null,
  error: OpenAIErrorInfo | null,
): ResponseObject {
  return {
    id: meta.id,
    object: 'response',
    created_at: meta.created,
    status,
    background: false,
    error: error ? { code: error.code ?? 'server_error', message: error.message } : null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    ...meta.echo,
    model: meta.model,
    output,
    service_tier: 'default',
    usage,
  };
}

function statusOf(reason: FinishReason): 'completed' | 'incomplete' {
  return reason === 'max_tokens' ? 'incomplete' : 'completed';
}

/**
 * The output items as the assistant turn of a conversation (for previous_response_id): the items
 * as the bridge keeps them, so Kiro's reasoning keeps its signature.
 */
export function outputAsMessage(output: readonly ResponseOutputItem[]): ChatMessage {
  // The bridge's own items: nothing in them to note.
  const notes: string[] = [];
  return { role: 'assistant', content: output.flatMap((item, i) => itemBlocks(item, `output[${i}]`, notes)) };
}

// ---- streaming ------------------------------------------------------------------------------

export class ResponsesStreamWriter extends SseStreamWriter<ResponseEvent, OpenAIErrorInfo, ResponseTracker> {
  private sequence = 0;
  private final: ResponseObject | undefined;

  constructor(
    sink: StreamSink,
    private readonly meta: ResponsesOutputMeta,
    private readonly redactor: Redactor = defaultRedactor,
  ) {
    super(sink, new ResponseTracker(meta));
  }

  /** The last Response object sent (completed, incomplete or failed), once the stream ended. */
  get response(): ResponseObject | undefined {
    return this.final;
  }

  /** response.created + response.in_progress. */
  protected opening(): string {
    const response = responseObject(this.meta, 'in_progress', [], null, null);
    return this.render([
      { type: 'response.created', response },
      { type: 'response.in_progress', response },
    ]);
  }

  protected pingChunk(): string {
    return SSE_COMMENT_PING;
  }

  protected render(events: ResponseEvent[]): string {
    let out = '';
    for (const event of events) {
      const sequence = this.sequence++;
      if (event.type === 'response.output_text.delta') {
        // The hot path (one per upstream frame): only the text goes through JSON.stringify.
        out += `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":${sequence},"item_id":"${event.item_id as string}","output_index":${event.output_index as number},"content_index":0,"delta":${JSON.stringify(event.delta)},"logprobs":[]}\n\n`;
      } else {
        const { type, ...rest } = event;
        out += sseEvent(type, { type, sequence_number: sequence, ...rest });
      }
    }
    return out;
  }

  /** What closing adds, then response.completed or response.incomplete. */
  protected closeChunk(out: ResponseEvent[], reason: FinishReason): string {
    this.tracker.close(out);
    const status = statusOf(reason);
    this.final = responseObject(this.meta, status, this.tracker.visibleItems(), this.tracker.usage(), null);
    this.meta.onFinal?.(this.final, this.tracker.items);
    out.push({ type: status === 'completed' ? 'response.completed' : 'response.incomplete', response: this.final });
    const chunk = this.render(out);
    out.length = 0;
    return chunk;
  }

  protected errorInfo(error: unknown): OpenAIErrorInfo {
    return openaiErrorFor(error, this.redactor, 'input');
  }

  protected errorEvents(info: OpenAIErrorInfo): string {
    this.final = responseObject(this.meta, 'failed', this.tracker.visibleItems(), this.tracker.usage(), info);
    return this.render([
      // The documented fields, and the error object the official SDKs raise as an APIError.
      {
        type: 'error',
        code: info.code,
        message: info.message,
        param: info.param,
        error: { type: info.type, code: info.code, message: info.message, param: info.param },
      },
      { type: 'response.failed', response: this.final },
    ]);
  }
}

// ---- non-streaming --------------------------------------------------------------------------

/**
 * The Response for a non-streaming request, and its items as the bridge keeps them (for the
 * store); throws the error when the events end in one.
 */
export function buildResponse(events: readonly OutputEvent[], meta: ResponsesOutputMeta): BuiltOutput<ResponseObject> & { items: ResponseOutputItem[] } {
  const tracker = new ResponseTracker(meta);
  const ignored: ResponseEvent[] = [];
  const finish = finishOf(events, (event) => {
    tracker.apply(event, ignored);
    ignored.length = 0;
  });
  tracker.close(ignored);
  const body = responseObject(meta, statusOf(finish.reason), tracker.visibleItems(), tracker.usage(), null);
  return { body, items: tracker.items, stopReason: finish.reason, ...tracker.meter.totals };
}
