// Neutral OutputEvents → exactly what OpenAI's Chat Completions API sends: the stream of
// `chat.completion.chunk` objects (role first, then content / reasoning_content / tool call
// deltas, a finish chunk, the usage chunk when asked, `data: [DONE]`) and the non-streaming
// `chat.completion`. The streaming writer's life cycle (opening once, one ending, sink and
// back-pressure) is the shared one in ./sse.
//
// Both outputs run the same tracker, so a stream accumulated by a client equals the
// non-streaming completion built from the same events.
//
// Kiro's native reasoning keeps its signature (and withheld reasoning its data) in
// `reasoning_details`, OpenRouter's field, which clients built for it (the AI SDK's OpenRouter
// provider, Cline, Roo and Kilo Code) keep and send back unchanged; the reasoning text is also in
// `reasoning_content`, the field DeepSeek-style clients read. Each detail goes out once, whole,
// when its block ends.
import { randomBytes } from 'node:crypto';
import { defaultRedactor, type Redactor } from '../../common/redact';
import { KiroError } from '../../kiro/errors';
import type { FinishReason, OutputEvent } from '../../kiro/types';
import { openaiErrorBody, openaiErrorFor, type OpenAIErrorInfo } from './openai-errors';
import { finishOf, UsageMeter, type BuiltOutput, type OutputBase } from '../pipeline/output';
import { SSE_COMMENT_PING, SseStreamWriter, type StreamSink } from '../http/sse';

// ---- wire shapes (as in the openai package's resources/chat/completions) --------------------

export type ChatFinishReason = 'stop' | 'length' | 'tool_calls';

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatUsage {
  /** Every prompt token, cached or not (the API's meaning). */
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Prompt tokens Kiro read from its cache when it reports them; 0 otherwise, as for an uncached prompt. */
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/** OpenRouter's `reasoning_details` entries: signed reasoning text, or withheld (encrypted) reasoning. */
export type ReasoningDetail =
  | { type: 'reasoning.text'; text: string; signature: string | null; format: 'unknown'; index: number }
  | { type: 'reasoning.encrypted'; data: string; format: 'unknown'; index: number };

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal: null;
  /** The model's reasoning (the field DeepSeek-style clients read). */
  reasoning_content?: string;
  /** Kiro's native reasoning with its signature, to be sent back unchanged. */
  reasoning_details?: ReasoningDetail[];
  tool_calls?: ChatToolCall[];
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: null;
  choices: [{ index: 0; message: ChatCompletionMessage; logprobs: null; finish_reason: ChatFinishReason }];
  usage: ChatUsage;
}

export interface ChatDelta {
  role?: 'assistant';
  content?: string;
  refusal?: null;
  reasoning_content?: string;
  reasoning_details?: ReasoningDetail[];
  tool_calls?: { index: number; id?: string; type?: 'function'; function: { name?: string; arguments: string } }[];
}

/** What both OpenAI APIs' outputs need to know. */
export interface OpenAIOutputMeta extends OutputBase {
  /** `chatcmpl-…` or `resp_…`. */
  id: string;
  /** Unix seconds. */
  created: number;
}

export interface ChatOutputMeta extends OpenAIOutputMeta {
  /** `stream_options.include_usage`: a last chunk with `choices: []` and the usage. */
  includeUsage: boolean;
}

/** `chatcmpl-` + 29 random url-safe characters (OpenAI's ids have the same length). */
export function newChatCompletionId(): string {
  return `chatcmpl-${randomBytes(22).toString('base64url').slice(0, 29)}`;
}

export function chatFinishReason(reason: FinishReason): ChatFinishReason {
  switch (reason) {
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
      return 'length';
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
  }
}

// ---- the shared tracker ---------------------------------------------------------------------

type Run = { kind: 'content' | 'reasoning'; parts: string[] };
type OpenTool = { index: number; id: string; name: string; parts: string[] };

/** OutputEvents → deltas (tool calls indexed 0, 1, …), plus what the final message holds. */
class ChatTracker {
  readonly meter: UsageMeter;
  readonly content: string[] = [];
  readonly reasoning: string[] = [];
  readonly details: ReasoningDetail[] = [];
  readonly calls: ChatToolCall[] = [];
  private run: Run | undefined;
  private tool: OpenTool | undefined;

  constructor(
    meta: OpenAIOutputMeta,
    /** Keep the text for a final message (the streaming writer does not need it). */
    private readonly keep: boolean,
  ) {
    this.meter = new UsageMeter(meta);
  }

  apply(event: OutputEvent, deltas: ChatDelta[]): void {
    switch (event.type) {
      case 'text':
      case 'thinking': {
        if (!event.text) return;
        const kind = event.type === 'text' ? 'content' : 'reasoning';
        if (this.tool) throw new KiroError('internal', `${event.type} arrived inside tool call ${this.tool.id}`);
        if (this.run?.kind !== kind) {
          this.closeRun();
          this.run = { kind, parts: [] };
        }
        this.run.parts.push(event.text);
        if (this.keep) (kind === 'content' ? this.content : this.reasoning).push(event.text);
        deltas.push(kind === 'content' ? { content: event.text } : { reasoning_content: event.text });
        return;
      }
      case 'tool_start': {
        this.closeRun();
        if (this.tool) throw new KiroError('internal', `tool call ${this.tool.id} was interrupted by tool call ${event.id}`);
        this.tool = { index: this.calls.length, id: event.id, name: event.name, parts: [] };
        // A placeholder keeps the indexes of calls in order; filled on tool_end.
        this.calls.push({ id: event.id, type: 'function', function: { name: event.name, arguments: '' } });
        deltas.push({ tool_calls: [{ index: this.tool.index, id: event.id, type: 'function', function: { name: event.name, arguments: '' } }] });
        return;
      }
      case 'tool_delta': {
        const tool = this.openTool(event.id, 'tool_delta');
        if (!event.json) return;
        tool.parts.push(event.json);
        deltas.push({ tool_calls: [{ index: tool.index, function: { arguments: event.json } }] });
        return;
      }
      case 'tool_end': {
        const tool = this.openTool(event.id, 'tool_end');
        let args = tool.parts.join('');
        if (args === '') {
          // No input streamed: clients JSON.parse the arguments, and "" is not JSON.
          args = JSON.stringify(event.input ?? {});
          deltas.push({ tool_calls: [{ index: tool.index, function: { arguments: args } }] });
        }
        this.calls[tool.index]!.function.arguments = args;
        this.meter.toolCall(tool.name, args);
        this.tool = undefined;
        return;
      }
      case 'thinking_signature': {
        if (this.tool) throw new KiroError('internal', `a reasoning signature arrived inside tool call ${this.tool.id}`);
        const reasoning = this.run?.kind === 'reasoning';
        const closed = this.closeRun();
        const text = reasoning ? closed : '';
        this.addDetail({ type: 'reasoning.text', text, signature: event.signature, format: 'unknown', index: this.details.length }, deltas);
        return;
      }
      case 'redacted_thinking':
        if (this.tool) throw new KiroError('internal', `redacted reasoning arrived inside tool call ${this.tool.id}`);
        this.closeRun();
        this.addDetail({ type: 'reasoning.encrypted', data: event.data, format: 'unknown', index: this.details.length }, deltas);
        return;
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

  private addDetail(detail: ReasoningDetail, deltas: ChatDelta[]): void {
    this.details.push(detail);
    deltas.push({ reasoning_details: [detail] });
  }

  /** The answer is complete: count the open run. A tool call still open is our bug. */
  end(): void {
    if (this.tool) throw new KiroError('internal', `the response finished inside tool call ${this.tool.id}`);
    this.closeRun();
  }

  usage(): ChatUsage {
    const { inputTokens, outputTokens, reasoningTokens, cacheReadTokens } = this.meter;
    return {
      prompt_tokens: inputTokens,
      completion_tokens: outputTokens,
      total_tokens: inputTokens + outputTokens,
      prompt_tokens_details: { cached_tokens: cacheReadTokens ?? 0 },
      completion_tokens_details: { reasoning_tokens: reasoningTokens },
    };
  }

  /** Counts the open run of text or reasoning and closes it; returns its text ('' when none was open). */
  private closeRun(): string {
    const run = this.run;
    if (!run) return '';
    this.run = undefined;
    const text = run.parts.join('');
    if (run.kind === 'content') this.meter.text(text);
    else this.meter.reasoning(text);
    return text;
  }

  private openTool(id: string, what: string): OpenTool {
    if (this.tool?.id !== id) throw new KiroError('internal', `${what} for tool call ${id}, which is not the open call`);
    return this.tool;
  }
}

// ---- streaming ------------------------------------------------------------------------------

/**
 * The `chat.completion.chunk` stream. A failure ends it with an error chunk (`{"error": {…}}`,
 * which the official SDKs raise as an APIError) and no `[DONE]`: a stream that broke must never
 * read as a normal finish.
 */
export class ChatCompletionStreamWriter extends SseStreamWriter<ChatDelta, OpenAIErrorInfo, ChatTracker> {
  /** Every chunk is `head + delta + tail`: only the delta goes through JSON.stringify. */
  private readonly head: string;
  private readonly tail: string;
  private readonly usageField: string;

  constructor(
    sink: StreamSink,
    private readonly meta: ChatOutputMeta,
    private readonly redactor: Redactor = defaultRedactor,
  ) {
    super(sink, new ChatTracker(meta, false));
    this.usageField = meta.includeUsage ? ',"usage":null' : '';
    this.head = `data: {"id":${JSON.stringify(meta.id)},"object":"chat.completion.chunk","created":${meta.created},"model":${JSON.stringify(meta.model)},"system_fingerprint":null,"choices":[{"index":0,"delta":`;
    this.tail = `,"logprobs":null,"finish_reason":null}]${this.usageField}}\n\n`;
  }

  /** The role chunk. */
  protected opening(): string {
    return `${this.head}{"role":"assistant","content":"","refusal":null}${this.tail}`;
  }

  protected pingChunk(): string {
    return SSE_COMMENT_PING;
  }

  protected render(deltas: readonly ChatDelta[]): string {
    let out = '';
    for (const delta of deltas) {
      // Text deltas are the hot path (one per upstream frame): written from a template.
      if (delta.content !== undefined && Object.keys(delta).length === 1) out += `${this.head}{"content":${JSON.stringify(delta.content)}}${this.tail}`;
      else out += this.head + JSON.stringify(delta) + this.tail;
    }
    return out;
  }

  /** The finish chunk, the usage chunk (if asked), `[DONE]`. */
  protected closeChunk(deltas: ChatDelta[], reason: FinishReason): string {
    this.tracker.end();
    let out = this.render(deltas);
    deltas.length = 0;
    out += `${this.head}{},"logprobs":null,"finish_reason":"${chatFinishReason(reason)}"}]${this.usageField}}\n\n`;
    if (this.meta.includeUsage) {
      out += `data: ${JSON.stringify({
        id: this.meta.id,
        object: 'chat.completion.chunk',
        created: this.meta.created,
        model: this.meta.model,
        system_fingerprint: null,
        choices: [],
        usage: this.tracker.usage(),
      })}\n\n`;
    }
    return `${out}data: [DONE]\n\n`;
  }

  protected errorInfo(error: unknown): OpenAIErrorInfo {
    return openaiErrorFor(error, this.redactor);
  }

  protected errorEvents(info: OpenAIErrorInfo): string {
    return `data: ${JSON.stringify(openaiErrorBody(info))}\n\n`;
  }
}

// ---- non-streaming --------------------------------------------------------------------------

/**
 * The completion for a non-streaming request, from the complete event list. Throws the error
 * when the events end in one (the HTTP layer answers with openaiErrorFor), and an internal
 * KiroError when they end without a finish.
 */
export function buildChatCompletion(events: readonly OutputEvent[], meta: OpenAIOutputMeta): BuiltOutput<ChatCompletion> {
  const tracker = new ChatTracker(meta, true);
  const ignored: ChatDelta[] = [];
  const finish = finishOf(events, (event) => {
    tracker.apply(event, ignored);
    ignored.length = 0;
  });
  tracker.end();
  const content = tracker.content.join('');
  const message: ChatCompletionMessage = {
    role: 'assistant',
    // No text is null (as beside tool calls), which is also what a client accumulating the
    // stream ends up with.
    content: content === '' ? null : content,
    refusal: null,
  };
  if (tracker.reasoning.length > 0) message.reasoning_content = tracker.reasoning.join('');
  if (tracker.details.length > 0) message.reasoning_details = tracker.details;
  if (tracker.calls.length > 0) message.tool_calls = tracker.calls;
  const body: ChatCompletion = {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: [{ index: 0, message, logprobs: null, finish_reason: chatFinishReason(finish.reason) }],
    usage: tracker.usage(),
  };
  return { body, stopReason: finish.reason, ...tracker.meter.totals };
}
