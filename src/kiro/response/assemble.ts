// Kiro's decoded response events → neutral OutputEvents, as each frame arrives.
//
// Guarantees to every writer (Anthropic, OpenAI, non-streaming builders):
// - Blocks come one at a time: between `tool_start X` and `tool_end X` only `tool_delta X` (and
//   `usage`) appear. Kiro may interleave tool frames by id; a second tool, or text,
//   arriving while a tool is open is held until that tool ends, then released in arrival order.
//   (Real Kiro streams tools one after another, so in practice nothing waits.)
// - Text is never held back beyond what tag and stop-sequence detection need.
// - Kiro's native reasoning (reasoningContentEvent) comes out as `thinking`, then the
//   `thinking_signature` that ends the block, or as a `redacted_thinking` block. Once native
//   reasoning arrives, `<thinking>` tag detection is off: the model reasons out of band.
// - Kiro's token counts (metadataEvent.tokenUsage) and credits (meteringEvent) come out as `usage`
//   events, read through ../metering so every reader agrees on odd values.
// - The sequence ends with exactly one `finish` or `error`, after which nothing more is emitted.
//   A stream that breaks, ends inside a tool call, or ends with nothing at all ends in an `error`
//   (class `stream_broken`), never in a made-up `end_turn`.
import { KiroError, classifyStreamException } from '../errors';
import type { KiroEvent } from '../codec/events';
import { meteredCredits, reportedTokenUsage } from '../metering';
import { ThinkingSplitter } from './thinking';
import type { FinishReason, OutputEvent } from '../types';

export interface AssembleOptions {
  /** Restores tool names the request converter shortened for Kiro. */
  toolNames?: { fromKiro(name: string): string };
  /** Split `<thinking>…</thinking>` at the head of the answer into thinking events. */
  thinking: boolean;
  /** Stop sequences to emulate (Kiro has none): text stops before the first match. */
  stopSequences?: string[];
}

/**
 * Finds stop sequences in a text stream split into arbitrary fragments. Holds back only the
 * longest tail that is still a prefix of some stop sequence.
 */
export class StopSequenceScanner {
  private readonly sequences: string[];
  private held = '';

  constructor(sequences: readonly string[]) {
    this.sequences = [...new Set(sequences.filter((s) => s.length > 0))];
  }

  get active(): boolean {
    return this.sequences.length > 0;
  }

  /** Returns the text safe to release and, on a match, the sequence (text stops before it). */
  push(text: string): { text: string; matched?: string } {
    if (!this.active) return { text };
    const buffer = this.held + text;
    // The model would have stopped where a sequence is first complete: earliest end wins, and
    // of two ending together the longer (earlier-starting) one.
    let best: { start: number; end: number; sequence: string } | undefined;
    for (const sequence of this.sequences) {
      const start = buffer.indexOf(sequence);
      if (start === -1) continue;
      const end = start + sequence.length;
      if (!best || end < best.end || (end === best.end && start < best.start)) best = { start, end, sequence };
    }
    if (best) {
      this.held = '';
      return { text: buffer.slice(0, best.start), matched: best.sequence };
    }
    const keep = this.partialSuffix(buffer);
    this.held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep) };
  }

  /** The text run ended (tool call or end of stream): release what was held. */
  flush(): string {
    const held = this.held;
    this.held = '';
    return held;
  }

  private partialSuffix(buffer: string): number {
    let longest = 0;
    for (const sequence of this.sequences) {
      const max = Math.min(sequence.length - 1, buffer.length);
      for (let n = max; n > longest; n--) {
        if (buffer.endsWith(sequence.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}

interface ToolCall {
  id: string;
  name: string;
  json: string;
  stopped: boolean;
}

/** Native reasoning, as it goes out: thinking text, the signature that ends it, or redacted data. */
type ReasoningOutput = Extract<OutputEvent, { type: 'thinking' | 'thinking_signature' | 'redacted_thinking' }>;

type Pending = { kind: 'text'; text: string } | { kind: 'tool'; tool: ToolCall } | { kind: 'reasoning'; events: ReasoningOutput[] };

/**
 * A reasoningContentEvent's parts, in the order they go out. Kiro sends `{text}` fragments, then
 * `{signature}`, or `{redactedContent}` (base64) for reasoning it withheld; one peer also reads
 * the text as `content` and finds the payload nested under `reasoningContentEvent`, so both are
 * accepted.
 */
function reasoningOutputs(json: Record<string, unknown>): ReasoningOutput[] {
  const frame = typeof json.reasoningContentEvent === 'object' && json.reasoningContentEvent !== null ? (json.reasoningContentEvent as Record<string, unknown>) : json;
  const out: ReasoningOutput[] = [];
  const redacted = frame.redactedContent;
  if (typeof redacted === 'string' && redacted) out.push({ type: 'redacted_thinking', data: redacted });
  const text = typeof frame.text === 'string' ? frame.text : typeof frame.content === 'string' ? frame.content : '';
  if (text) out.push({ type: 'thinking', text });
  const signature = frame.signature;
  if (typeof signature === 'string' && signature) out.push({ type: 'thinking_signature', signature });
  return out;
}

interface ToolUseFrame {
  toolUseId?: unknown;
  name?: unknown;
  input?: unknown;
  stop?: unknown;
}

/** How much of a cut-off tool input to quote in the error (enough to recognise it). */
const CUT_INPUT_PREVIEW = 80;

function describeTool(tool: ToolCall): string {
  return tool.name ? `${tool.name} (${tool.id})` : tool.id;
}

export class ResponseAssembler {
  private readonly toolNames?: { fromKiro(name: string): string };
  /** Splits `<thinking>` text; dropped once Kiro sends native reasoning. */
  private splitter?: ThinkingSplitter;
  private readonly stops: StopSequenceScanner;
  private readonly tools = new Map<string, ToolCall>();
  /** The tool whose block is open in the output (its deltas flow straight through). */
  private openTool: ToolCall | undefined;
  /** Text and tools that arrived while another tool was open, in arrival order. */
  private readonly pending: Pending[] = [];
  private completedTools = 0;
  private sawContent = false;
  private credits = 0;
  private finished = false;

  constructor(options: AssembleOptions) {
    this.toolNames = options.toolNames;
    if (options.thinking) this.splitter = new ThinkingSplitter();
    this.stops = new StopSequenceScanner(options.stopSequences ?? []);
  }

  /** A finish or error has been emitted (e.g. a stop sequence matched: the caller aborts upstream). */
  get done(): boolean {
    return this.finished;
  }

  push(event: KiroEvent): OutputEvent[] {
    const out: OutputEvent[] = [];
    if (this.finished) return out;
    if (event.kind === 'error') {
      this.failWith(out, classifyStreamException(event.type, event.json));
      return out;
    }
    if (event.kind === 'exception') {
      if (event.type === 'ContentLengthExceededException') this.outputLimitReached(out);
      else this.failWith(out, classifyStreamException(event.type, event.json));
      return out;
    }
    const json = (event.json ?? {}) as Record<string, unknown>;
    switch (event.type) {
      case 'assistantResponseEvent': {
        const content = json.content;
        if (typeof content === 'string' && content) {
          this.sawContent = true;
          if (this.openTool || this.pending.length) this.pending.push({ kind: 'text', text: content });
          else this.text(out, content);
        }
        break;
      }
      case 'toolUseEvent':
        this.toolUse(out, json as ToolUseFrame);
        break;
      case 'reasoningContentEvent': {
        const events = reasoningOutputs(json);
        if (events.length === 0) break;
        this.sawContent = true;
        if (this.openTool || this.pending.length) this.pending.push({ kind: 'reasoning', events });
        else this.reasoning(out, events);
        break;
      }
      case 'meteringEvent': {
        const credits = meteredCredits(json);
        if (credits !== undefined) {
          this.credits += credits;
          out.push({ type: 'usage', credits: this.credits });
        }
        // One peer reads token counts from meteringEvent as well.
        this.tokenUsage(out, json);
        break;
      }
      case 'metadataEvent':
      case 'messageMetadataEvent':
        this.tokenUsage(out, json);
        break;
      case 'contextUsageEvent': {
        const percentage = json.contextUsagePercentage;
        if (typeof percentage === 'number' && Number.isFinite(percentage)) {
          out.push({ type: 'usage', contextUsagePercentage: percentage });
        }
        break;
      }
      default:
        // initial-response, followupPromptEvent, codeReferenceEvent, supplementaryWebLinksEvent,
        // invalidStateEvent, …: nothing a client can use.
        break;
    }
    return out;
  }

  /** Upstream finished normally: flush, then exactly one finish or error. */
  end(): OutputEvent[] {
    const out: OutputEvent[] = [];
    if (this.finished) return out;
    const unfinished = this.unfinishedTool();
    if (unfinished) {
      this.failWith(out, this.cutToolError(unfinished, 'the stream ended before the tool call was complete'));
      return out;
    }
    this.endTextRun(out);
    if (this.finished) return out;
    if (!this.sawContent) {
      this.failWith(out, new KiroError('stream_broken', 'Kiro ended the response without sending any content'));
      return out;
    }
    this.finish(out, this.completedTools > 0 ? 'tool_use' : 'end_turn');
    return out;
  }

  /** Upstream broke (cut connection, decode error): flush buffered text, then an error. */
  fail(error: Error): OutputEvent[] {
    const out: OutputEvent[] = [];
    if (this.finished) return out;
    if (error instanceof KiroError) {
      this.failWith(out, error);
      return out;
    }
    const unfinished = this.unfinishedTool();
    const lost = unfinished ? `; the ${describeTool(unfinished)} tool call was cut off and was not executed` : '';
    this.failWith(out, new KiroError('stream_broken', `Kiro stream broke: ${error.message}${lost}`, { cause: error }));
    return out;
  }

  private tokenUsage(out: OutputEvent[], json: unknown): void {
    const tokens = reportedTokenUsage(json);
    if (tokens) out.push({ type: 'usage', tokens });
  }

  // ---- native reasoning -------------------------------------------------------------------

  private reasoning(out: OutputEvent[], events: readonly ReasoningOutput[]): void {
    // The answer text so far ends here: release what tag and stop-sequence detection held. The
    // model reasons out of band from now on, so `<thinking>` in its text is just text.
    this.endTextRun(out);
    if (this.finished) return;
    this.splitter = undefined;
    for (const event of events) out.push(event);
  }

  // ---- text -------------------------------------------------------------------------------

  private text(out: OutputEvent[], content: string): void {
    if (!this.splitter) {
      this.answerText(out, content);
      return;
    }
    for (const piece of this.splitter.push(content)) {
      if (this.finished) return;
      if (piece.kind === 'thinking') out.push({ type: 'thinking', text: piece.text });
      else this.answerText(out, piece.text);
    }
  }

  /** Answer text (not thinking) on its way out, through stop-sequence detection. */
  private answerText(out: OutputEvent[], text: string): void {
    if (this.finished) return;
    const { text: safe, matched } = this.stops.push(text);
    if (safe) out.push({ type: 'text', text: safe });
    if (matched !== undefined) this.finish(out, 'stop_sequence', matched);
  }

  /** The current run of text ends (a tool block follows, or the stream ends): release holdbacks. */
  private endTextRun(out: OutputEvent[]): void {
    if (this.splitter) {
      for (const piece of this.splitter.flush()) {
        if (this.finished) return;
        if (piece.kind === 'thinking') out.push({ type: 'thinking', text: piece.text });
        else this.answerText(out, piece.text);
      }
    }
    if (this.finished) return;
    const held = this.stops.flush();
    if (held) out.push({ type: 'text', text: held });
  }

  // ---- tools ------------------------------------------------------------------------------

  private toolUse(out: OutputEvent[], frame: ToolUseFrame): void {
    const id = typeof frame.toolUseId === 'string' ? frame.toolUseId : '';
    if (!id) return; // a tool frame without an id cannot be attributed to any call
    let tool = this.tools.get(id);
    if (!tool) {
      tool = { id, name: '', json: '', stopped: false };
      this.tools.set(id, tool);
      this.sawContent = true;
      if (this.openTool || this.pending.length) this.pending.push({ kind: 'tool', tool });
    } else if (tool.stopped) {
      return; // frames after stop (a repeated stop) add nothing
    }
    // Keep the first non-empty name; later frames may repeat or omit it.
    if (!tool.name && typeof frame.name === 'string' && frame.name) tool.name = frame.name;

    let fragment = '';
    if (typeof frame.input === 'string') fragment = frame.input;
    else if (frame.input !== undefined && frame.input !== null) fragment = JSON.stringify(frame.input);
    tool.json += fragment;
    if (frame.stop === true) tool.stopped = true;

    if (tool === this.openTool) {
      if (fragment) out.push({ type: 'tool_delta', id, json: fragment });
      if (tool.stopped) this.closeTool(out, tool);
    } else if (!this.openTool && !this.pending.length) {
      this.openNext(out, tool);
    }
    this.drainPending(out);
  }

  /** Opens `tool` (once its name is known), replaying input that arrived before it could open. */
  private openNext(out: OutputEvent[], tool: ToolCall): void {
    if (!tool.name) {
      if (tool.stopped) this.failWith(out, new KiroError('stream_broken', `Kiro sent tool call ${tool.id} without a tool name`));
      else if (!this.pending.some((p) => p.kind === 'tool' && p.tool === tool)) this.pending.unshift({ kind: 'tool', tool });
      return;
    }
    this.endTextRun(out);
    if (this.finished) return;
    const name = this.toolNames ? this.toolNames.fromKiro(tool.name) : tool.name;
    out.push({ type: 'tool_start', id: tool.id, name });
    this.openTool = tool;
    if (tool.json) out.push({ type: 'tool_delta', id: tool.id, json: tool.json });
    if (tool.stopped) this.closeTool(out, tool);
  }

  private closeTool(out: OutputEvent[], tool: ToolCall): void {
    this.openTool = undefined;
    const input = this.parseInput(tool);
    if (input instanceof KiroError) {
      this.failWith(out, input);
      return;
    }
    this.completedTools++;
    out.push({ type: 'tool_end', id: tool.id, input });
  }

  /** Releases what waited behind a tool, in order, until another tool has to stay open. */
  private drainPending(out: OutputEvent[]): void {
    while (!this.finished && !this.openTool && this.pending.length) {
      const next = this.pending[0]!;
      if (next.kind === 'text') {
        this.pending.shift();
        this.text(out, next.text);
        continue;
      }
      if (next.kind === 'reasoning') {
        this.pending.shift();
        this.reasoning(out, next.events);
        continue;
      }
      // A tool waits at the head of the queue until its name arrives (openNext fails it if it
      // stopped without one).
      if (!next.tool.name && !next.tool.stopped) return;
      this.pending.shift();
      this.openNext(out, next.tool);
    }
  }

  private parseInput(tool: ToolCall): unknown {
    const text = tool.json.trim();
    if (!text) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Peers fall back to `{}` here and so execute a tool with its arguments silently dropped;
      // an input that does not parse was cut off upstream, so it must not be run.
      return this.cutToolError(tool, 'its input is not complete JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return new KiroError('stream_broken', `Kiro sent tool call ${describeTool(tool)} with an input that is not a JSON object`);
    }
    return parsed;
  }

  private cutToolError(tool: ToolCall, why: string): KiroError {
    const tail = tool.json.length > CUT_INPUT_PREVIEW ? `…${tool.json.slice(-CUT_INPUT_PREVIEW)}` : tool.json;
    return new KiroError(
      'stream_broken',
      `the tool call input was cut off: ${describeTool(tool)} stopped after ${tool.json.length} characters of input (${why}); ` +
        `the call was not executed. Large tool inputs can exceed what Kiro streams in one response: write big content in smaller pieces.` +
        (tail ? ` Input ended with: ${JSON.stringify(tail)}` : ''),
      { reason: 'TOOL_INPUT_TRUNCATED' },
    );
  }

  private unfinishedTool(): ToolCall | undefined {
    for (const tool of this.tools.values()) if (!tool.stopped) return tool;
    return undefined;
  }

  // ---- endings ----------------------------------------------------------------------------

  /** In-stream ContentLengthExceededException: Kiro cut the output at its length limit. */
  private outputLimitReached(out: OutputEvent[]): void {
    const unfinished = this.unfinishedTool();
    if (unfinished) {
      // A tool call cut by the limit has partial input: never hand it over as a tool_use.
      this.failWith(out, this.cutToolError(unfinished, 'Kiro reached its output length limit'));
      return;
    }
    this.endTextRun(out);
    if (this.finished) return;
    // Complete tool calls before the cut are valid and were what the model wanted to run, so
    // tool_use wins over max_tokens: a client only runs tools on `tool_use`.
    this.finish(out, this.completedTools > 0 ? 'tool_use' : 'max_tokens');
  }

  private finish(out: OutputEvent[], reason: FinishReason, stopSequence?: string): void {
    this.finished = true;
    out.push(stopSequence === undefined ? { type: 'finish', reason } : { type: 'finish', reason, stopSequence });
  }

  private failWith(out: OutputEvent[], error: Error): void {
    // Text already received is the user's; release it before the error unless a tool block is
    // open (text cannot follow a half tool call in any client format).
    if (!this.openTool) {
      this.endTextRun(out);
      if (this.finished) return; // a held stop sequence completed on flush: that is the ending
    }
    this.finished = true;
    out.push({ type: 'error', error });
  }
}
