// The host side's memory of recent traffic: a bounded ring buffer of RequestRecords fed by the
// bridge through the TrafficSink interface, updated in place by record id, plus the session
// statistics. Nothing else is kept: when the view is closed this buffer is all there is.

import { toDisposable, type IDisposable } from '../common/disposable';
import type { RequestRecord, TrafficSink } from './traffic';
import { BODY_FIELDS } from './traffic-records';
import { TrafficStatsCollector, type TrafficStatsOptions } from './traffic-stats';

export const DEFAULT_MAX_ENTRIES = 500;
export const MIN_MAX_ENTRIES = 10;
export const MAX_MAX_ENTRIES = 10_000;
/**
 * Bodies (client request, Kiro request, events, response) are kept for this many of the newest
 * records only; older rows keep their summary. Bodies can be tens of kilobytes each, and a
 * 10,000-entry buffer of them would hold hundreds of megabytes in the extension host.
 */
export const DEFAULT_BODY_RETENTION = 200;

export type TrafficChange = { type: 'upsert'; id: string; isNew: boolean } | { type: 'removed'; ids: string[] } | { type: 'cleared' };

export interface TrafficStoreOptions {
  maxEntries?: number;
  bodyRetention?: number;
  now?: () => number;
  stats?: TrafficStatsOptions;
}

/** What the store keeps per record: a shallow copy, and whether its bodies were dropped. */
export interface StoredRecord {
  record: RequestRecord;
  bodiesDropped: boolean;
}

export function clampMaxEntries(n: unknown): number {
  if (typeof n !== 'number' || !Number.isFinite(n)) return DEFAULT_MAX_ENTRIES;
  return Math.min(MAX_MAX_ENTRIES, Math.max(MIN_MAX_ENTRIES, Math.floor(n)));
}

export class TrafficStore implements TrafficSink, IDisposable {
  readonly stats: TrafficStatsCollector;
  private slots: (StoredRecord | undefined)[];
  /** Where the next new record goes. */
  private head = 0;
  private count = 0;
  private readonly slotOf = new Map<string, number>();
  private readonly listeners = new Set<(change: TrafficChange) => void>();
  private readonly bodyRetention: number;

  constructor(options: TrafficStoreOptions = {}) {
    this.slots = new Array<StoredRecord | undefined>(clampMaxEntries(options.maxEntries ?? DEFAULT_MAX_ENTRIES));
    this.bodyRetention = Math.max(0, options.bodyRetention ?? DEFAULT_BODY_RETENTION);
    this.stats = new TrafficStatsCollector(options.now ?? Date.now, options.stats);
  }

  get maxEntries(): number {
    return this.slots.length;
  }

  get size(): number {
    return this.count;
  }

  /** TrafficSink: a record arrived or progressed. Never throws into the bridge. */
  update(record: Readonly<RequestRecord>): void {
    if (!record || typeof record.id !== 'string') return;
    this.stats.observe(record);
    const copy: RequestRecord = { ...record, flags: { ...record.flags } };
    const existing = this.slotOf.get(record.id);
    if (existing !== undefined) {
      const stored = this.slots[existing]!;
      stored.record = copy;
      if (stored.bodiesDropped || this.positionOf(existing) >= this.bodyRetention) this.dropBodies(stored);
      this.emit({ type: 'upsert', id: record.id, isNew: false });
      return;
    }
    const removed: string[] = [];
    const evicted = this.slots[this.head];
    if (evicted) {
      this.slotOf.delete(evicted.record.id);
      removed.push(evicted.record.id);
      this.count--;
    }
    this.slots[this.head] = { record: copy, bodiesDropped: false };
    this.slotOf.set(record.id, this.head);
    this.head = (this.head + 1) % this.slots.length;
    this.count++;
    this.trimBodies();
    if (removed.length) this.emit({ type: 'removed', ids: removed });
    this.emit({ type: 'upsert', id: record.id, isNew: true });
  }

  get(id: string): StoredRecord | undefined {
    const slot = this.slotOf.get(id);
    return slot === undefined ? undefined : this.slots[slot];
  }

  /** All records, oldest first. */
  list(): RequestRecord[] {
    const out: RequestRecord[] = [];
    const cap = this.slots.length;
    for (let i = 0; i < this.count; i++) {
      const stored = this.slots[(this.head - this.count + i + cap * 2) % cap];
      if (stored) out.push(stored.record);
    }
    return out;
  }

  /** Forgets every record (the session statistics stay: they describe the session, not the list). */
  clear(): void {
    this.slots = new Array<StoredRecord | undefined>(this.slots.length);
    this.slotOf.clear();
    this.head = 0;
    this.count = 0;
    this.emit({ type: 'cleared' });
  }

  /** Changes the capacity, evicting the oldest records if it shrinks. */
  setMaxEntries(n: number): void {
    const capacity = clampMaxEntries(n);
    if (capacity === this.slots.length) return;
    const stored: StoredRecord[] = [];
    const cap = this.slots.length;
    for (let i = 0; i < this.count; i++) {
      const s = this.slots[(this.head - this.count + i + cap * 2) % cap];
      if (s) stored.push(s);
    }
    const kept = stored.slice(Math.max(0, stored.length - capacity));
    const removed = stored.slice(0, stored.length - kept.length).map((s) => s.record.id);
    this.slots = new Array<StoredRecord | undefined>(capacity);
    this.slotOf.clear();
    kept.forEach((s, i) => {
      this.slots[i] = s;
      this.slotOf.set(s.record.id, i);
    });
    this.count = kept.length;
    this.head = kept.length % capacity;
    if (removed.length) this.emit({ type: 'removed', ids: removed });
  }

  onDidChange(listener: (change: TrafficChange) => void): IDisposable {
    this.listeners.add(listener);
    return toDisposable(() => {
      this.listeners.delete(listener);
    });
  }

  dispose(): void {
    this.listeners.clear();
  }

  /** 0 for the newest record. */
  private positionOf(slot: number): number {
    const cap = this.slots.length;
    return (this.head - 1 - slot + cap) % cap;
  }

  /** The record that just became the (bodyRetention+1)-th newest loses its bodies. */
  private trimBodies(): void {
    if (this.count <= this.bodyRetention) return;
    const cap = this.slots.length;
    const stored = this.slots[(this.head - 1 - this.bodyRetention + cap * 2) % cap];
    if (stored && !stored.bodiesDropped) this.dropBodies(stored);
  }

  private dropBodies(stored: StoredRecord): void {
    let had = stored.bodiesDropped;
    for (const field of BODY_FIELDS) {
      if (stored.record[field] !== undefined) {
        had = true;
        delete stored.record[field];
      }
    }
    stored.bodiesDropped = had;
  }

  private emit(change: TrafficChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch {
        // A broken view must not break the bridge that feeds the store.
      }
    }
  }
}
