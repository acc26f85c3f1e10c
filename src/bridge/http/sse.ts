// What every streamed answer shares, whatever the API: the response headers, SSE framing, the
// sink the HTTP layer owns (it reports back-pressure), and the writer's life cycle: the opening is
// written once, before anything else; content events go through the API's tracker in batches; the
// stream ends once, with a finish or with the API's in-stream error, and nothing is written after.
// No express, no sockets: writers build strings.
import type { FinishReason, OutputEvent } from '../../kiro/types';
import type { UsageMeter, UsageTotals } from '../pipeline/output';

/** Response headers for an SSE stream (both APIs send the same). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

/** One named event: `event:` and a `data:` line of JSON. */
export function sseEvent(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A keep-alive as an SSE comment, which every SSE reader skips (never a made-up chunk). */
export const SSE_COMMENT_PING = ': ping\n\n';

export interface StreamSink {
  /** Returns false when the consumer wants the producer to wait (for `drain`). */
  write(chunk: string): boolean;
}

/** How a stream ended: a finish, or the error it reported (in the API's shape). */
export type StreamOutcome<E> = { reason: FinishReason; stopSequence?: string } | { error: E };

/** An API's tracker: OutputEvents → the API's operations (`Op`), with the answer's usage. */
export interface OutputTracker<Op> {
  readonly meter: UsageMeter;
  /** Applies a content or usage event; finish and error are the writer's. */
  apply(event: OutputEvent, ops: Op[]): void;
}

/**
 * The life cycle every API's streaming writer shares. An API says how its stream opens, renders
 * its operations, closes normally and reports an error; a broken event sequence (our bug) still
 * gets the client what came before it and a proper error.
 */
export abstract class SseStreamWriter<Op, E, T extends OutputTracker<Op> = OutputTracker<Op>> {
  private started = false;
  private endedAs: StreamOutcome<E> | undefined;

  protected constructor(
    protected readonly sink: StreamSink,
    protected readonly tracker: T,
  ) {}

  /** True after the normal ending or an error: nothing more will be written. */
  get ended(): boolean {
    return this.endedAs !== undefined;
  }

  /** How the stream ended, for the traffic record. */
  get outcome(): StreamOutcome<E> | undefined {
    return this.endedAs;
  }

  /** Usage so far (final once ended). */
  get usage(): UsageTotals {
    return this.tracker.meter.totals;
  }

  /** Writes the stream's opening. Called by the other writes if the caller did not. */
  start(): boolean {
    if (this.ended) return true;
    const chunk = this.preamble();
    return chunk ? this.sink.write(chunk) : true;
  }

  /** Keep-alive while waiting for upstream bytes (clients ignore it). */
  ping(): boolean {
    if (this.ended) return true;
    return this.sink.write(this.pingChunk());
  }

  /** Writes the events (a finish or error among them ends the stream). Returns the sink's verdict. */
  write(events: readonly OutputEvent[]): boolean {
    if (this.ended || events.length === 0) return true;
    let chunk = this.preamble();
    const ops: Op[] = [];
    try {
      for (const event of events) {
        if (event.type === 'finish') {
          chunk += this.finishChunk(ops, event.reason, event.stopSequence);
          break;
        }
        if (event.type === 'error') {
          chunk += this.render(ops) + this.errorChunk(event.error);
          ops.length = 0;
          break;
        }
        this.tracker.apply(event, ops);
      }
      chunk += this.render(ops);
    } catch (error) {
      // A broken event sequence is our bug; the client still gets what came before it and an error.
      chunk += this.render(ops) + this.errorChunk(error);
    }
    return chunk ? this.sink.write(chunk) : true;
  }

  /** Ends the stream normally: closes what is open, then the API's ending. */
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

  /** Ends the stream with the API's in-stream error (headers are sent: no HTTP status is possible). */
  fail(error: unknown): boolean {
    if (this.ended) return true;
    return this.sink.write(this.preamble() + this.errorChunk(error));
  }

  /** The opening, once; '' after that. */
  protected preamble(): string {
    if (this.started) return '';
    this.started = true;
    return this.opening();
  }

  /** The stream's first events (the message or response envelope, a role chunk). */
  protected abstract opening(): string;
  protected abstract pingChunk(): string;
  /** The operations as SSE text. */
  protected abstract render(ops: Op[]): string;
  /**
   * Closes the answer (throws if it cannot close: our bug) and returns `ops`, with what closing
   * added, rendered and then the normal ending. Leaves `ops` empty.
   */
  protected abstract closeChunk(ops: Op[], reason: FinishReason, stopSequence: string | undefined): string;
  /** The API's error for anything thrown or reported (messages redacted). */
  protected abstract errorInfo(error: unknown): E;
  /** The in-stream error events for `info`. */
  protected abstract errorEvents(info: E): string;

  private finishChunk(ops: Op[], reason: FinishReason, stopSequence: string | undefined): string {
    const chunk = this.closeChunk(ops, reason, stopSequence);
    this.endedAs = stopSequence === undefined ? { reason } : { reason, stopSequence };
    return chunk;
  }

  private errorChunk(error: unknown): string {
    const info = this.errorInfo(error);
    this.endedAs = { error: info };
    return this.errorEvents(info);
  }
}
