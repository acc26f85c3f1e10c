// One Anthropic message made of several pieces: the content of one or more Kiro calls, with
// `server_tool_use` / `web_search_tool_result` blocks (and a plain text block) between them, ending
// with one message_delta whose usage sums every call and counts the searches
// (`usage.server_tool_use.web_search_requests`). Streamed or built as one Message.
//
// The content of each Kiro call still goes through the bridge's own AnthropicStreamWriter /
// buildAnthropicMessage (thinking signatures, tool blocks, token counts), so web-search answers
// look exactly like any other answer. For the stream, each call's writer writes into a sink that
// drops its message envelope and shifts its block indexes behind the blocks already sent.
import { defaultRedactor, type Redactor } from '../../common/redact';
import { KiroError } from '../../kiro/errors';
import type { FinishReason, OutputEvent } from '../../kiro/types';
import {
  anthropicErrorFor,
  AnthropicStreamWriter,
  anthropicUsage,
  blockDeltaEvent,
  blockStartEvent,
  blockStopEvent,
  buildAnthropicMessage,
  errorEvent,
  messageEndEvents,
  messageStartEvent,
  PING_EVENT,
  type AnthropicContentBlock,
  type AnthropicErrorInfo,
  type AnthropicMessage,
  type AnthropicOutputMeta,
  type AnthropicUsage,
} from '../anthropic/anthropic-output';
import type { UsageTotals } from '../pipeline/output';
import type { StreamSink } from '../http/sse';
import type { ServerToolUseBlock, WebSearchToolResultBlock } from './web-search-blocks';

export type ServerBlock = ServerToolUseBlock | WebSearchToolResultBlock;

export interface WebSearchUsage extends AnthropicUsage {
  server_tool_use: { web_search_requests: number; web_fetch_requests: number };
}

/**
 * Stop reasons of a web search answer: the neutral ones, plus the API's `pause_turn` for a turn the
 * bridge stopped after its limit of model calls (the client may send it back to let it continue).
 */
export type WebSearchStopReason = FinishReason | 'pause_turn';

export type WebSearchMessage = Omit<AnthropicMessage, 'content' | 'usage' | 'stop_reason'> & {
  content: (AnthropicContentBlock | ServerBlock)[];
  stop_reason: WebSearchStopReason;
  usage: WebSearchUsage;
};

/** What the web-search orchestrator writes to, streamed or not. */
export interface WebSearchOutput {
  /** Starts the content of one Kiro call whose prompt was estimated at `inputTokens`. */
  beginSegment(inputTokens: number): void;
  /** Content and usage events of the current Kiro call (no finish or error). Returns the sink's verdict. */
  write(events: readonly OutputEvent[]): boolean;
  /** The current Kiro call is over: its open block closes and its counts join the total. */
  endSegment(): boolean;
  serverBlocks(blocks: readonly ServerBlock[]): boolean;
  /** A whole text block written by the bridge (a pure search's summary). */
  text(text: string): boolean;
  /** One search was run against Kiro (counted in `usage.server_tool_use.web_search_requests`). */
  countSearch(): void;
  finish(reason: WebSearchStopReason, stopSequence?: string): boolean;
  /** Totals so far (final after finish), for the traffic record. */
  readonly totals: { inputTokens: number; outputTokens: number; credits?: number; cacheReadTokens?: number; cacheWriteTokens?: number; searches: number };
}

/** The start of a content-block event as AnthropicStreamWriter writes it (type first, index second). */
const BLOCK_EVENT = /^(event: (content_block_(?:start|delta|stop))\ndata: \{"type":"content_block_(?:start|delta|stop)","index":)(\d+)/;

class Totals {
  inputTokens = 0;
  outputTokens = 0;
  credits: number | undefined;
  /** Kiro's cache numbers summed over the calls that reported them. */
  cacheReadTokens: number | undefined;
  cacheWriteTokens: number | undefined;
  searches = 0;

  usage(): WebSearchUsage {
    return {
      ...anthropicUsage(this.inputTokens, this.outputTokens, { read: this.cacheReadTokens, write: this.cacheWriteTokens }),
      server_tool_use: { web_search_requests: this.searches, web_fetch_requests: 0 },
    };
  }

  get totals(): WebSearchOutput['totals'] {
    const totals: WebSearchOutput['totals'] = {
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      credits: this.credits,
      searches: this.searches,
    };
    if (this.cacheReadTokens !== undefined) totals.cacheReadTokens = this.cacheReadTokens;
    if (this.cacheWriteTokens !== undefined) totals.cacheWriteTokens = this.cacheWriteTokens;
    return totals;
  }

  add(usage: UsageTotals): void {
    this.inputTokens += usage.inputTokens;
    this.outputTokens += usage.outputTokens;
    if (usage.credits !== undefined) this.credits = (this.credits ?? 0) + usage.credits;
    if (usage.cacheReadTokens !== undefined) this.cacheReadTokens = (this.cacheReadTokens ?? 0) + usage.cacheReadTokens;
    if (usage.cacheWriteTokens !== undefined) this.cacheWriteTokens = (this.cacheWriteTokens ?? 0) + usage.cacheWriteTokens;
  }
}

export class WebSearchStreamWriter implements WebSearchOutput {
  private nextIndex = 0;
  private started = false;
  private endedAs: { reason: WebSearchStopReason; stopSequence?: string } | { error: AnthropicErrorInfo } | undefined;
  private segment: { writer: AnthropicStreamWriter; offset: number; opened: number } | undefined;
  private readonly sums = new Totals();

  constructor(
    private readonly sink: StreamSink,
    private readonly meta: AnthropicOutputMeta,
    private readonly redactor: Redactor = defaultRedactor,
  ) {}

  get ended(): boolean {
    return this.endedAs !== undefined;
  }

  get outcome(): { reason: WebSearchStopReason; stopSequence?: string } | { error: AnthropicErrorInfo } | undefined {
    return this.endedAs;
  }

  get totals(): WebSearchOutput['totals'] {
    return this.sums.totals;
  }

  start(): boolean {
    const chunk = this.preamble();
    return chunk ? this.sink.write(chunk) : true;
  }

  ping(): boolean {
    if (this.ended) return true;
    return this.sink.write(this.preamble() + PING_EVENT);
  }

  beginSegment(inputTokens: number): void {
    if (this.segment) this.endSegment();
    const segment = { writer: undefined as unknown as AnthropicStreamWriter, offset: this.nextIndex, opened: 0 };
    segment.writer = new AnthropicStreamWriter({ write: (chunk) => this.forward(chunk, segment) }, { ...this.meta, inputTokens }, this.redactor);
    this.segment = segment;
  }

  write(events: readonly OutputEvent[]): boolean {
    if (this.ended || events.length === 0) return true;
    if (!this.segment) this.beginSegment(this.meta.inputTokens);
    const preamble = this.preamble();
    if (preamble) this.sink.write(preamble);
    return this.segment!.writer.write(events);
  }

  endSegment(): boolean {
    const segment = this.segment;
    if (!segment) return true;
    this.segment = undefined;
    // The inner writer closes its open block; its message_delta / message_stop are dropped.
    const verdict = this.ended ? true : segment.writer.finish('end_turn');
    this.sums.add(segment.writer.usage);
    this.nextIndex = segment.offset + segment.opened;
    return verdict;
  }

  serverBlocks(blocks: readonly ServerBlock[]): boolean {
    if (this.ended) return true;
    if (this.segment) this.endSegment();
    let chunk = this.preamble();
    for (const block of blocks) {
      const index = this.nextIndex++;
      if (block.type === 'server_tool_use') {
        // As the API streams it: empty input at the start, the JSON in one input_json_delta.
        const json = JSON.stringify(block.input);
        chunk += blockStartEvent(index, { ...block, input: {} }) + blockDeltaEvent(index, { type: 'input_json_delta', partial_json: json });
        this.sums.outputTokens += this.meta.countTokens(json);
      } else {
        chunk += blockStartEvent(index, block);
      }
      chunk += blockStopEvent(index);
    }
    return this.sink.write(chunk);
  }

  countSearch(): void {
    this.sums.searches++;
  }

  text(text: string): boolean {
    if (this.ended) return true;
    if (this.segment) this.endSegment();
    const index = this.nextIndex++;
    this.sums.outputTokens += this.meta.countTokens(text);
    return this.sink.write(
      this.preamble() + blockStartEvent(index, { type: 'text', text: '' }) + blockDeltaEvent(index, { type: 'text_delta', text }) + blockStopEvent(index),
    );
  }

  finish(reason: WebSearchStopReason, stopSequence?: string): boolean {
    if (this.ended) return true;
    if (this.segment) this.endSegment();
    if (this.ended) return true;
    this.endedAs = stopSequence === undefined ? { reason } : { reason, stopSequence };
    return this.sink.write(this.preamble() + messageEndEvents(reason, stopSequence, this.sums.usage()));
  }

  /** Ends the stream with an SSE `error` event (after anything already sent). */
  fail(error: unknown): boolean {
    if (this.ended) return true;
    const info = anthropicErrorFor(error, this.redactor);
    this.endedAs = { error: info };
    if (this.segment) {
      this.sums.add(this.segment.writer.usage);
      this.segment = undefined;
    }
    return this.sink.write(this.preamble() + errorEvent(info));
  }

  private preamble(): string {
    if (this.started) return '';
    this.started = true;
    return messageStartEvent(this.meta, this.meta.inputTokens);
  }

  /** A Kiro call's SSE → the shared stream: no envelope, indexes shifted, errors end everything. */
  private forward(chunk: string, segment: { offset: number; opened: number }): boolean {
    let out = '';
    for (const event of chunk.split('\n\n')) {
      if (!event) continue;
      const name = /^event: (\S+)/.exec(event)?.[1];
      if (name === 'message_start' || name === 'message_delta' || name === 'message_stop' || name === 'ping') continue;
      if (name === 'error') {
        const data = /\ndata: (.*)$/s.exec(event)?.[1];
        const parsed = data ? (JSON.parse(data) as { error?: { type?: AnthropicErrorInfo['type']; message?: string } }) : {};
        this.endedAs = { error: { status: 200, type: parsed.error?.type ?? 'api_error', message: parsed.error?.message ?? '' } };
        out += `${event}\n\n`;
        continue;
      }
      const match = BLOCK_EVENT.exec(event);
      if (!match) {
        // The writer's format changed under us: fail loudly rather than send misnumbered blocks.
        throw new KiroError('internal', `web search output: unexpected event from the Anthropic writer (${name ?? 'unnamed'})`);
      }
      const inner = Number(match[3]);
      if (match[2] === 'content_block_start') segment.opened = Math.max(segment.opened, inner + 1);
      out += `${match[1]}${inner + segment.offset}${event.slice(match[0].length)}\n\n`;
    }
    return out ? this.sink.write(out) : true;
  }
}

/** The same pieces collected into one Message (non-streaming requests). */
export class WebSearchMessageBuilder implements WebSearchOutput {
  private readonly content: (AnthropicContentBlock | ServerBlock)[] = [];
  private segment: { events: OutputEvent[]; inputTokens: number } | undefined;
  private readonly sums = new Totals();
  private result: WebSearchMessage | undefined;

  constructor(private readonly meta: AnthropicOutputMeta) {}

  get totals(): WebSearchOutput['totals'] {
    return this.sums.totals;
  }

  beginSegment(inputTokens: number): void {
    if (this.segment) this.endSegment();
    this.segment = { events: [], inputTokens };
  }

  write(events: readonly OutputEvent[]): boolean {
    if (!this.segment) this.beginSegment(this.meta.inputTokens);
    this.segment!.events.push(...events);
    return true;
  }

  endSegment(): boolean {
    const segment = this.segment;
    if (!segment) return true;
    this.segment = undefined;
    const built = buildAnthropicMessage([...segment.events, { type: 'finish', reason: 'end_turn' }], { ...this.meta, inputTokens: segment.inputTokens });
    this.content.push(...built.body.content);
    this.sums.add(built);
    return true;
  }

  serverBlocks(blocks: readonly ServerBlock[]): boolean {
    if (this.segment) this.endSegment();
    for (const block of blocks) {
      if (block.type === 'server_tool_use') this.sums.outputTokens += this.meta.countTokens(JSON.stringify(block.input));
      this.content.push(block);
    }
    return true;
  }

  countSearch(): void {
    this.sums.searches++;
  }

  text(text: string): boolean {
    if (this.segment) this.endSegment();
    this.sums.outputTokens += this.meta.countTokens(text);
    this.content.push({ type: 'text', text });
    return true;
  }

  finish(reason: WebSearchStopReason, stopSequence?: string): boolean {
    if (this.segment) this.endSegment();
    this.result = {
      id: this.meta.messageId,
      type: 'message',
      role: 'assistant',
      model: this.meta.model,
      content: this.content,
      stop_reason: reason,
      stop_sequence: stopSequence ?? null,
      stop_details: null,
      usage: this.sums.usage(),
    };
    return true;
  }

  /** The finished Message; throws if finish() was not called. */
  message(): WebSearchMessage {
    if (!this.result) throw new KiroError('internal', 'web search message built before it finished');
    return this.result;
  }
}
