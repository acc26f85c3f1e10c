// Getting bytes to the client: frame writes with back-pressure and optional re-chunking, and
// pauses that end early when the client goes away or the fake closes.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Writes frames, optionally re-chunked into fixed-size writes; honours back-pressure. */
export class ChunkWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lastWrite: Promise<void> = Promise.resolve();

  /** `chunkBytes` 0 writes each frame as it comes; N > 0 re-chunks the byte stream into N-byte writes. */
  constructor(
    private readonly res: ServerResponse,
    private readonly signal: AbortSignal,
    private readonly chunkBytes: number,
  ) {}

  async write(bytes: Uint8Array): Promise<void> {
    const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.chunkBytes <= 0) return this.emit(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= this.chunkBytes) {
      const all = Buffer.concat(this.pending);
      await this.emit(all.subarray(0, this.chunkBytes));
      const rest = all.subarray(this.chunkBytes);
      this.pending = rest.length ? [rest] : [];
      this.pendingBytes = rest.length;
    }
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const all = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    await this.emit(all);
  }

  /** Resolves once everything written so far has left for the kernel (needed before a cut). */
  async settled(): Promise<void> {
    await this.flush();
    await Promise.race([this.lastWrite, untilAborted(this.signal)]);
  }

  private async emit(chunk: Buffer): Promise<void> {
    if (this.signal.aborted || this.res.destroyed) return;
    let written!: () => void;
    this.lastWrite = new Promise<void>((resolve) => (written = resolve));
    // Node calls the write callback on success and on failure alike.
    if (!this.res.write(chunk, () => written())) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.signal.removeEventListener('abort', done);
          resolve();
        };
        this.res.on('drain', done);
        this.signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}

/** Waits `ms`, or less if `signal` aborts first. Never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves when `signal` aborts. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return sleep(2 ** 31 - 1, signal);
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
