// Live request counts for the status bar, read off the traffic records the bridge publishes: a
// record without a status is in flight; one with a status is done (failed when ≥ 400). Also
// fans records out to further sinks (the traffic view's store), so the bridge gets one sink.
import type { IDisposable } from '../common/disposable';
import type { RequestRecord, TrafficSink } from '../traffic/traffic';

export interface RequestCounts {
  inFlight: number;
  served: number;
  failed: number;
}

export class RequestCounter implements TrafficSink {
  private readonly open = new Set<string>();
  private readonly finished = new Set<string>();
  private served = 0;
  private failed = 0;
  private readonly listeners = new Set<() => void>();
  private readonly sinks: TrafficSink[] = [];

  /** Also hands every record to `sink` (errors there never reach the bridge). */
  forwardTo(sink: TrafficSink): IDisposable {
    this.sinks.push(sink);
    return {
      dispose: () => {
        const i = this.sinks.indexOf(sink);
        if (i >= 0) this.sinks.splice(i, 1);
      },
    };
  }

  get counts(): RequestCounts {
    return { inFlight: this.open.size, served: this.served, failed: this.failed };
  }

  onDidChange(listener: () => void): IDisposable {
    this.listeners.add(listener);
    return {
      dispose: () => {
        this.listeners.delete(listener);
      },
    };
  }

  update(record: Readonly<RequestRecord>): void {
    for (const sink of this.sinks) {
      try {
        sink.update(record);
      } catch {
        // A view's failure must not break the request that produced the record.
      }
    }
    if (!record || typeof record.id !== 'string') return;
    const before = [this.open.size, this.served];
    if (record.status === undefined) {
      if (!this.finished.has(record.id)) this.open.add(record.id);
    } else if (!this.finished.has(record.id)) {
      this.open.delete(record.id);
      this.finished.add(record.id);
      this.served++;
      if (record.status >= 400) this.failed++;
      // Remember finished ids only as long as a late progress update could still arrive.
      if (this.finished.size > 2048) this.finished.delete(this.finished.values().next().value as string);
    }
    if (this.open.size !== before[0] || this.served !== before[1]) this.emit();
  }

  /** Requests cut off by a stop never finish: forget them. */
  clearInFlight(): void {
    if (this.open.size === 0) return;
    this.open.clear();
    this.emit();
  }

  private emit(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
