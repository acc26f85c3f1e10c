// Kiro's decoded response events → neutral OutputEvents, as each frame arrives.
//
// Guarantees to every writer (Anthropic, OpenAI, non-streaming builders):
// - A tool call is emitted whole, once its input is complete: `tool_start X`, one `tool_delta X`
//   with the input text, `tool_end X`, nothing in between. Clients run a tool as soon as its block
//   closes, and an input Kiro cut short is only known to be cut at its end, so a call is never
//   half-sent (./cut-tool says what replaces a cut one). Kiro may interleave tool frames by id;
//   a second tool, or text, arriving while a tool is being collected is held until that tool
//   ends, then released in arrival order. (Real Kiro streams tools one after another, so in
//   practice nothing waits.)
// - Text is never held back beyond what tag and stop-sequence detection need.
// - Kiro's native reasoning (reasoningContentEvent) comes out as `thinking`, then the
//   `thinking_signature` that ends the block, or as a `redacted_thinking` block. Once native
//   reasoning arrives, `<thinking>` tag detection is off: the model reasons out of band.
// - Kiro's token counts (metadataEvent.tokenUsage) and credits (meteringEvent) come out as `usage`
//   events, read through ../metering so every reader agrees on odd values.
// - The sequence ends with exactly one `finish` or `error`, after which nothing more is emitted.
//   A stream that breaks or ends with nothing at all ends in an `error` (class `stream_broken`),
//   never in a made-up `end_turn`. A tool call Kiro cut off ends the answer with a note and
//   `max_tokens` (./cut-tool).
import { KiroError, classifyStreamException } from '../errors';
import type { KiroEvent } from '../codec/events';
import { meteredCredits, reportedTokenUsage } from '../metering';
import { cutToolNote, cutToolNotice } from './cut-tool';
import { ThinkingSplitter } from './thinking';
import type { FinishReason, OutputEvent } from '../types';

export interface AssembleOptions {
  /** Restores tool names the request converter shortened for Kiro. */
  toolNames?: { fromKiro(name: string): string };
  /** Split `<thinking>…</thinking>` at the head of the answer into thinking events. */
  thinking: boolean;
  /** Stop sequences to emulate (Kiro has none): text stops before the first match. */
  stopSequences?: string[];
  /**
   * The properties a tool's input requires (by the client's tool name): an empty input for a
   * tool that requires some is a call Kiro cut off.
   */
  requiredInput?: (name: string) => readonly string[] | undefined;
  /** What was dropped or changed on the way (for the traffic record). */
  onNote?: (note: string) => void;
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

/** Events that carry only usage: still read after a cut tool call ended the answer's content. */
const USAGE_EVENTS: ReadonlySet<string> = new Set(['meteringEvent', 'contextUsageEvent', 'metadataEvent', 'messageMetadataEvent']);

type Pending = { kind: 'text'; text: string } | { kind: 'tool'; tool: ToolCall } | { kind: 'reasoning'; events: ReasoningOutput[] };

/**
 * A reasoningContentEvent's parts, in the order they go out. Kiro sends `{text}` fragments, then
 * `{signature}`, or `{redactedContent}` (base64) for reasoning it withheld; one peer also reads
 * the text as `content` and finds the payload nested under `reasoningContentEvent`, so both are
 * accepted.
 */
function reasoningOutputs(json: Record<string, unknown>): ReasoningOutput[] {
  const frame =
    typeof json.reasoningContentEvent === 'object' && json.reasoningContentEvent !== null ? (json.reasoningContentEvent as Record<string, unknown>) : json;
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

function describeTool(tool: ToolCall): string {
  return tool.name ? `${tool.name} (${tool.id})` : tool.id;
}

export class ResponseAssembler {
  private readonly toolNames?: { fromKiro(name: string): string };
  private readonly requiredInput?: (name: string) => readonly string[] | undefined;
  private readonly onNote?: (note: string) => void;
  /** Splits `<thinking>` text; dropped once Kiro sends native reasoning. */
  private splitter?: ThinkingSplitter;
  private readonly stops: StopSequenceScanner;
  private readonly tools = new Map<string, ToolCall>();
  /** The tool being collected: the next block of the output, emitted whole when it stops. */
  private openTool: ToolCall | undefined;
  /** Text and tools that arrived while another tool was open, in arrival order. */
  private readonly pending: Pending[] = [];
  private completedTools = 0;
  private sawContent = false;
  /** The last block emitted was answer text (a note after it starts a new paragraph). */
  private textLast = false;
  /**
   * A tool call Kiro cut off: the answer's content is over (its note was emitted); only usage
   * is still read, and the next ending of any kind finishes the answer.
   */
  private cut = false;
  private credits = 0;
  private finished = false;

  constructor(options: AssembleOptions) {
    this.toolNames = options.toolNames;
    this.requiredInput = options.requiredInput;
    this.onNote = options.onNote;
    if (options.thinking) this.splitter = new ThinkingSplitter();
    this.stops = new StopSequenceScanner(options.stopSequences ?? []);
  }

  /** A finish or error has been emitted (e.g. a stop sequence matched: the caller aborts upstream). */
  get done(): boolean {
    return this.finished;
  }

  /**
   * The output of one Kiro event, appended to `out` (a caller reading a batch passes one array for
   * all of it) and returned.
   */
  push(event: KiroEvent, out: OutputEvent[] = []): OutputEvent[] {
    if (this.finished) return out;
    if (event.kind === 'error' || event.kind === 'exception') {
      // After a cut the answer is complete; whatever Kiro says next only ends it.
      if (this.cut) this.finishCut(out);
      else if (event.kind === 'exception' && event.type === 'ContentLengthExceededException') this.outputLimitReached(out);
      else this.failWith(out, classifyStreamException(event.type, event.json));
      return out;
    }
    const json = (event.json ?? {}) as Record<string, unknown>;
    // After a cut only usage is still read (credits, context, Kiro's token counts).
    if (this.cut && !USAGE_EVENTS.has(event.type)) return out;
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
    if (this.cut) {
      this.finishCut(out);
      return out;
    }
    const unfinished = this.unfinishedTool();
    if (unfinished) {
      // Kiro closes the stream in the middle of a call it cut (no stop frame, no context usage).
      this.cutOff(out, unfinished, 'the stream ended before the call was complete');
      this.finishCut(out);
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
    if (this.cut) {
      // The answer was complete at the cut; only the usage after it is lost.
      this.finishCut(out);
      return out;
    }
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
    this.textLast = false;
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
    if (safe) {
      out.push({ type: 'text', text: safe });
      this.textLast = true;
    }
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
    if (held) {
      out.push({ type: 'text', text: held });
      this.textLast = true;
    }
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
      if (tool.stopped) this.closeTool(out, tool);
    } else if (!this.openTool && !this.pending.length) {
      this.openNext(out, tool);
    }
    this.drainPending(out);
  }

  /** Starts collecting `tool` (once its name is known); it is emitted when it stops. */
  private openNext(out: OutputEvent[], tool: ToolCall): void {
    if (!tool.name) {
      if (tool.stopped) this.failWith(out, new KiroError('stream_broken', `Kiro sent tool call ${tool.id} without a tool name`));
      else if (!this.pending.some((p) => p.kind === 'tool' && p.tool === tool)) this.pending.unshift({ kind: 'tool', tool });
      return;
    }
    // Text before the call goes out now: it is complete, whatever happens to the call.
    this.endTextRun(out);
    if (this.finished) return;
    this.openTool = tool;
    if (tool.stopped) this.closeTool(out, tool);
  }

  /** The tool stopped: emit it whole, or, if Kiro cut its input, the note instead. */
  private closeTool(out: OutputEvent[], tool: ToolCall): void {
    this.openTool = undefined;
    const input = this.parseInput(tool);
    if (input instanceof KiroError) {
      this.failWith(out, input);
      return;
    }
    if (typeof input === 'string') {
      this.cutOff(out, tool, input);
      return;
    }
    const name = this.clientName(tool);
    this.completedTools++;
    this.textLast = false;
    out.push({ type: 'tool_start', id: tool.id, name });
    if (tool.json) out.push({ type: 'tool_delta', id: tool.id, json: tool.json });
    out.push({ type: 'tool_end', id: tool.id, input });
  }

  private clientName(tool: ToolCall): string {
    return this.toolNames ? this.toolNames.fromKiro(tool.name) : tool.name;
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

  /**
   * The input object; a string saying why the input was cut off; or a KiroError for an input
   * that is whole but not an object.
   */
  private parseInput(tool: ToolCall): Record<string, unknown> | string | KiroError {
    const text = tool.json.trim();
    let parsed: unknown = {};
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // Peers fall back to `{}` here and so execute a tool with its arguments silently dropped;
        // an input that does not parse was cut off upstream, so it must not be run.
        return 'its input is not complete JSON';
      }
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return new KiroError('stream_broken', `Kiro sent tool call ${describeTool(tool)} with an input that is not a JSON object`);
    }
    const input = parsed as Record<string, unknown>;
    // Kiro also ends cut calls with an empty input; a tool that needs properties never takes one.
    const required = this.requiredInput?.(this.clientName(tool));
    if (required?.length && Object.keys(input).length === 0)
      return `its input is empty, but ${required.join(', ')} ${required.length === 1 ? 'is' : 'are'} required`;
    return input;
  }

  /**
   * Kiro cut `tool`'s input: the call is dropped, the note goes out in its place, and the answer's
   * content is over (what arrived behind the call is dropped too).
   */
  private cutOff(out: OutputEvent[], tool: ToolCall, why: string): void {
    this.openTool = undefined;
    this.cut = true;
    const call = { name: tool.name ? this.clientName(tool) : 'unnamed', id: tool.id, input: tool.json };
    const behind = this.pending.length;
    this.pending.length = 0;
    this.onNote?.(cutToolNote(call, why) + (behind ? `; ${behind} later part(s) of the answer dropped with it` : ''));
    out.push({ type: 'text', text: `${this.textLast ? '\n\n' : ''}${cutToolNotice(call)}` });
    this.textLast = true;
  }

  /** The ending after a cut: complete calls before it still run (`tool_use`). */
  private finishCut(out: OutputEvent[]): void {
    this.finish(out, this.completedTools > 0 ? 'tool_use' : 'max_tokens');
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
      this.cutOff(out, unfinished, 'Kiro reached its output length limit');
      this.finishCut(out);
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
    // Text already received is the user's; release what is held before the error. (A tool being
    // collected is simply never emitted; the text before it went out when it started.)
    this.endTextRun(out);
    if (this.finished) return; // a held stop sequence completed on flush: that is the ending
    this.finished = true;
    out.push({ type: 'error', error });
  }
}
