// The webview's copy of the traffic rows and the filtered, newest-first view the table shows.
// Pure (no DOM), so it is unit-tested under node as well as exercised in the browser tests.

import type { TrafficRow } from '../../../src/traffic/traffic-protocol';

export type StatusFilter = 'all' | 'ok' | 'errors' | '4xx' | '5xx' | 'inflight';

export const STATUS_FILTERS: readonly { value: StatusFilter; label: string }[] = [
  { value: 'all', label: 'All statuses' },
  { value: 'ok', label: 'Succeeded' },
  { value: 'errors', label: 'Failed' },
  { value: '4xx', label: '4xx' },
  { value: '5xx', label: '5xx' },
  { value: 'inflight', label: 'In flight' },
];

export interface Filters {
  /** Whitespace-separated words, all of which must appear somewhere in the row. */
  text: string;
  status: StatusFilter;
  /** Exact client name, or '' for every client. */
  client: string;
}

export const NO_FILTERS: Filters = { text: '', status: 'all', client: '' };

export function isFailedRow(row: TrafficRow): boolean {
  return (row.status !== undefined && row.status >= 400) || row.errorType !== undefined;
}

const haystacks = new WeakMap<TrafficRow, string>();

function haystack(row: TrafficRow): string {
  let text = haystacks.get(row);
  if (text === undefined) {
    text = [
      row.id,
      row.method,
      row.path,
      row.client,
      row.api,
      row.modelAsked,
      row.kiroModel,
      row.account,
      row.status === undefined ? 'pending' : String(row.status),
      row.stopReason,
      row.errorType,
      row.errorMessage,
    ]
      .filter((s) => s !== undefined && s !== '')
      .join('\n')
      .toLowerCase();
    haystacks.set(row, text);
  }
  return text;
}

export function matchesStatus(row: TrafficRow, status: StatusFilter): boolean {
  switch (status) {
    case 'all':
      return true;
    case 'ok':
      return row.status !== undefined && !isFailedRow(row);
    case 'errors':
      return isFailedRow(row);
    case '4xx':
      return row.status !== undefined && row.status >= 400 && row.status < 500;
    case '5xx':
      return row.status !== undefined && row.status >= 500;
    case 'inflight':
      return row.status === undefined;
  }
}

export function matches(row: TrafficRow, filters: Filters, words = splitWords(filters.text)): boolean {
  if (!matchesStatus(row, filters.status)) return false;
  if (filters.client && row.client !== filters.client) return false;
  if (words.length === 0) return true;
  const text = haystack(row);
  return words.every((w) => text.includes(w));
}

function splitWords(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}

export class RowModel {
  /** Oldest first, as they arrived. */
  private rows: TrafficRow[] = [];
  private indexOf = new Map<string, number>();
  private filters: Filters = NO_FILTERS;
  private filtered: TrafficRow[] | undefined;
  private clientCounts = new Map<string, number>();

  get total(): number {
    return this.rows.length;
  }

  get(id: string): TrafficRow | undefined {
    const i = this.indexOf.get(id);
    return i === undefined ? undefined : this.rows[i];
  }

  replaceAll(rows: readonly TrafficRow[]): void {
    this.rows = [];
    this.indexOf.clear();
    this.clientCounts.clear();
    for (const row of rows) this.upsert(row);
    this.filtered = undefined;
  }

  apply(added: readonly TrafficRow[], updated: readonly TrafficRow[], removed: readonly string[]): void {
    if (removed.length) this.remove(removed);
    for (const row of added) this.upsert(row);
    for (const row of updated) this.upsert(row);
    this.filtered = undefined;
  }

  clear(): void {
    this.replaceAll([]);
  }

  /** Returns true if the filters changed. */
  setFilters(filters: Filters): boolean {
    const same = filters.text === this.filters.text && filters.status === this.filters.status && filters.client === this.filters.client;
    if (same) return false;
    this.filters = { ...filters };
    this.filtered = undefined;
    return true;
  }

  /** The rows the table shows: filtered, newest first. Cached until the next change. */
  get visible(): readonly TrafficRow[] {
    if (!this.filtered) {
      const words = splitWords(this.filters.text);
      const out: TrafficRow[] = [];
      for (let i = this.rows.length - 1; i >= 0; i--) {
        const row = this.rows[i]!;
        if (matches(row, this.filters, words)) out.push(row);
      }
      this.filtered = out;
    }
    return this.filtered;
  }

  /** Every client seen in the current rows, sorted. */
  clients(): string[] {
    return [...this.clientCounts.keys()].sort((a, b) => a.localeCompare(b));
  }

  private upsert(row: TrafficRow): void {
    const i = this.indexOf.get(row.id);
    if (i === undefined) {
      this.indexOf.set(row.id, this.rows.length);
      this.rows.push(row);
      this.countClient(row.client, 1);
    } else {
      const old = this.rows[i]!;
      if (old.client !== row.client) {
        this.countClient(old.client, -1);
        this.countClient(row.client, 1);
      }
      this.rows[i] = row;
    }
  }

  private remove(ids: readonly string[]): void {
    const gone = new Set(ids);
    const kept: TrafficRow[] = [];
    for (const row of this.rows) {
      if (gone.has(row.id)) this.countClient(row.client, -1);
      else kept.push(row);
    }
    this.rows = kept;
    this.indexOf.clear();
    kept.forEach((row, i) => this.indexOf.set(row.id, i));
  }

  private countClient(client: string, delta: number): void {
    const n = (this.clientCounts.get(client) ?? 0) + delta;
    if (n > 0) this.clientCounts.set(client, n);
    else this.clientCounts.delete(client);
  }
}
