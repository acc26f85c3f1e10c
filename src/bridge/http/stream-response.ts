// The HTTP side of a streamed answer, for every route that streams (the chat pipeline and the web
// search route): the response is committed (200, the SSE headers, the writer's opening) on the
// first write or on the first ping, whichever comes first, so a client waiting on a slow upstream
// sees pings; a ping goes out only after an interval without writes; after a write the client's
// socket cannot take, the producer waits for `drain`.
import type { ServerResponse } from 'node:http';
import type { StreamSink } from './sse';

export interface CommitOptions<W> {
  /** The headers of the 200 (SSE_HEADERS and the API's request id). */
  headers: Record<string, string>;
  pingIntervalSeconds: number;
  /** Makes the stream's writer over the response's sink. */
  writer: (sink: StreamSink) => W;
  /** After the 200 and the opening went out. */
  onCommit: () => void;
  /** After every write (a ping included). */
  onWrite?: () => void;
}

export class StreamCommitter<W extends { start(): boolean; ping(): boolean }> {
  readonly writer: W;
  private isCommitted = false;
  private lastWrite = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: CommitOptions<W>,
  ) {
    this.writer = options.writer({
      write: (chunk: string) => {
        this.lastWrite = Date.now();
        options.onWrite?.();
        return res.write(chunk);
      },
    });
    const intervalMs = Math.max(0.05, options.pingIntervalSeconds) * 1000;
    this.timer = setInterval(() => {
      if (res.writableEnded || Date.now() - this.lastWrite < intervalMs - 5) return;
      this.commit().ping();
    }, intervalMs);
    this.timer.unref();
  }

  get committed(): boolean {
    return this.isCommitted;
  }

  /** Sends the 200 and the stream's opening, once; returns the writer. */
  commit(): W {
    if (this.isCommitted) return this.writer;
    // Headers go out with the first event, in one packet.
    this.res.writeHead(200, this.options.headers);
    this.isCommitted = true;
    this.writer.start();
    this.options.onCommit();
    return this.writer;
  }

  /** Stops the pings. */
  stop(): void {
    clearInterval(this.timer);
  }
}

/** Resolves when the client's socket drained, or closed. */
export function waitForDrain(res: ServerResponse): Promise<void> {
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
