// Coalesces store changes into at most one flush per interval (10 per second by default): the
// bridge may publish a record on every streamed chunk, the webview needs the latest state of each
// changed row a few times a second, not every intermediate one.

import type { IDisposable } from '../common/disposable';

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface ChangeBatch {
  /** Ids first seen since the last flush (in arrival order). */
  added: string[];
  /** Ids the webview already has that changed since the last flush. */
  updated: string[];
  /** Ids the webview has that are gone. */
  removed: string[];
}

export const DEFAULT_FLUSH_INTERVAL_MS = 100;

export class ChangeBatcher implements IDisposable {
  /** id → whether it is new to the receiver. Map keeps arrival order. */
  private readonly pending = new Map<string, boolean>();
  private readonly removed = new Set<string>();
  private timer: unknown;
  private lastFlush = Number.NEGATIVE_INFINITY;
  private disposed = false;

  constructor(
    private readonly flush: (batch: ChangeBatch) => void,
    private readonly intervalMs = DEFAULT_FLUSH_INTERVAL_MS,
    private readonly timers: Timers = systemTimers,
  ) {}

  get hasPending(): boolean {
    return this.pending.size > 0 || this.removed.size > 0;
  }

  upsert(id: string, isNew: boolean): void {
    if (this.disposed) return;
    const known = this.pending.get(id);
    // Once new, stays new until flushed: the receiver has never seen it.
    this.pending.set(id, known === true || isNew);
    if (isNew) this.removed.delete(id);
    this.schedule();
  }

  remove(ids: readonly string[]): void {
    if (this.disposed) return;
    for (const id of ids) {
      const wasNew = this.pending.get(id);
      this.pending.delete(id);
      // A row the receiver never saw needs no removal message.
      if (wasNew !== true) this.removed.add(id);
    }
    this.schedule();
  }

  /** Drops everything pending (the receiver is about to get a full snapshot, or is gone). */
  reset(): void {
    this.pending.clear();
    this.removed.clear();
    this.cancel();
  }

  /** Flushes now if anything is pending, regardless of the interval. */
  flushNow(): void {
    this.cancel();
    if (!this.hasPending || this.disposed) return;
    const batch: ChangeBatch = { added: [], updated: [], removed: [...this.removed] };
    for (const [id, isNew] of this.pending) (isNew ? batch.added : batch.updated).push(id);
    this.pending.clear();
    this.removed.clear();
    this.lastFlush = this.timers.now();
    this.flush(batch);
  }

  dispose(): void {
    this.disposed = true;
    this.reset();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.timers.now());
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.flushNow();
    }, wait);
  }

  private cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
