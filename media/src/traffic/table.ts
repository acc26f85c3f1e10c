// The request table: a virtualised grid. Only the rows in (and just around) the viewport exist
// in the DOM, drawn from a small pool of row elements that are re-filled on scroll, so ten
// thousand entries cost the same to scroll as ten.

import type { TrafficRow } from '../../../src/traffic/traffic-protocol';
import { cacheHitRate } from '../../../src/traffic/traffic';
import { codicon, el, setText, toggleClass } from './dom';
import * as fmt from './format';
import { isFailedRow } from './model';

export const ROW_HEIGHT = 24;
const OVERSCAN = 6;

interface Cell {
  text: string;
  title?: string;
}

interface Column {
  id: string;
  title: string;
  /** Right-aligned numbers. */
  numeric?: boolean;
  cell?: (row: TrafficRow) => Cell;
}

function model(row: TrafficRow): Cell {
  const asked = row.modelAsked ?? '';
  const kiro = row.kiroModel ?? '';
  if (asked && kiro && asked !== kiro) return { text: `${asked} → ${kiro}`, title: `Asked for ${asked}, sent to Kiro as ${kiro}` };
  return { text: asked || kiro };
}

function status(row: TrafficRow): Cell {
  if (row.status === undefined) return { text: '…', title: 'In flight' };
  const title = row.errorType ? `${row.status} ${row.errorType}: ${row.errorMessage ?? ''}` : String(row.status);
  return { text: String(row.status), title };
}

function tokens(row: TrafficRow): Cell {
  if (row.inputTokens === undefined && row.outputTokens === undefined) return { text: '' };
  return {
    text: `${fmt.count(row.inputTokens) || '–'} / ${fmt.count(row.outputTokens) || '–'}`,
    title: `${row.inputTokens ?? '?'} input tokens, ${row.outputTokens ?? '?'} output tokens`,
  };
}

/** Kiro's prompt-cache hit rate; empty when Kiro reported no cache numbers. */
function cache(row: TrafficRow): Cell {
  const rate = cacheHitRate(row);
  if (rate === undefined) return { text: '', title: 'Kiro reported no cache numbers for this request' };
  return {
    text: fmt.percent(rate),
    title: `Prompt cache: ${row.cacheReadTokens ?? 0} of ${row.inputTokens ?? 0} input tokens read from Kiro's cache, ${row.cacheWriteTokens ?? 0} written to it`,
  };
}

export const COLUMNS: readonly Column[] = [
  { id: 'time', title: 'Time', cell: (r) => ({ text: fmt.clockTime(r.startedAt), title: fmt.fullTime(r.startedAt) }) },
  { id: 'client', title: 'Client', cell: (r) => ({ text: r.client, title: `${r.client} · ${r.method} ${r.path}` }) },
  { id: 'api', title: 'API', cell: (r) => ({ text: r.api }) },
  { id: 'model', title: 'Model → Kiro', cell: model },
  { id: 'account', title: 'Account', cell: (r) => ({ text: r.account ?? '' }) },
  { id: 'status', title: 'Status', numeric: true, cell: status },
  { id: 'stop', title: 'Stop', cell: (r) => ({ text: r.stopReason ?? '' }) },
  { id: 'ttft', title: 'TTFT', numeric: true, cell: (r) => ({ text: fmt.duration(r.ttftMs), title: 'Time to first token' }) },
  { id: 'duration', title: 'Duration', numeric: true, cell: (r) => ({ text: fmt.duration(r.durationMs) }) },
  { id: 'tokens', title: 'In / out', numeric: true, cell: tokens },
  { id: 'cache', title: 'Cache', numeric: true, cell: cache },
  { id: 'credits', title: 'Credits', numeric: true, cell: (r) => ({ text: fmt.credits(r.credits) }) },
  { id: 'flags', title: 'Flags' },
];

const FLAGS: readonly { key: keyof TrafficRow['flags']; icon: string; label: string }[] = [
  { key: 'streamed', icon: 'pulse', label: 'Streamed' },
  { key: 'retried', icon: 'refresh', label: 'Retried' },
  { key: 'failedOver', icon: 'arrow-swap', label: 'Failed over to another account' },
  { key: 'truncated', icon: 'fold', label: 'Truncated' },
  { key: 'repaired', icon: 'tools', label: 'Request repaired for Kiro' },
];

interface PooledRow {
  node: HTMLDivElement;
  cells: HTMLDivElement[];
  flags: HTMLSpanElement[];
  row: TrafficRow | undefined;
  index: number;
}

export interface TableEvents {
  onSelect(id: string | null): void;
  onScroll(scrollTop: number): void;
}

export class VirtualTable {
  readonly element: HTMLDivElement;
  private readonly body: HTMLDivElement;
  private readonly empty: HTMLDivElement;
  private readonly pool: PooledRow[] = [];
  private rows: readonly TrafficRow[] = [];
  private selectedId: string | null = null;
  private frame = 0;
  private emptyText = '';

  constructor(private readonly events: TableEvents) {
    const head = el(
      'div',
      { className: 'tr thead', attrs: { role: 'row', 'aria-rowindex': '1' } },
      ...COLUMNS.map((c) => el('div', { className: `th col-${c.id}${c.numeric ? ' num' : ''}`, text: c.title, attrs: { role: 'columnheader' } })),
    );
    this.body = el('div', { className: 'tbody', attrs: { role: 'rowgroup' } });
    this.empty = el('div', { className: 'table-empty' });
    this.element = el(
      'div',
      { className: 'table-scroll', attrs: { role: 'grid', tabindex: '0', 'aria-label': 'Requests, newest first', 'aria-rowcount': '1' } },
      el('div', { className: 'table-inner' }, head, this.body),
      this.empty,
    );
    this.element.addEventListener('scroll', () => {
      this.schedule();
      this.events.onScroll(this.element.scrollTop);
    });
    this.body.addEventListener('click', (e) => {
      const node = (e.target as Element).closest<HTMLElement>('.tr');
      const id = node?.dataset.id;
      if (id) this.events.onSelect(id === this.selectedId ? null : id);
    });
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.schedule()).observe(this.element);
  }

  /** The rows to show (already filtered, newest first). */
  setRows(rows: readonly TrafficRow[], emptyText: string): void {
    this.rows = rows;
    this.emptyText = emptyText;
    this.schedule();
  }

  setSelected(id: string | null): void {
    this.selectedId = id;
    this.schedule();
  }

  get scrollTop(): number {
    return this.element.scrollTop;
  }

  set scrollTop(value: number) {
    this.element.scrollTop = value;
    this.schedule();
  }

  /** Draws now (normally on the next animation frame). */
  renderNow(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.render();
  }

  private schedule(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.renderNow());
  }

  private render(): void {
    const total = this.rows.length;
    this.body.style.height = `${total * ROW_HEIGHT}px`;
    this.element.setAttribute('aria-rowcount', String(total + 1));
    toggleClass(this.empty, 'shown', total === 0);
    setText(this.empty, total === 0 ? this.emptyText : '');

    const viewport = Math.max(this.element.clientHeight - ROW_HEIGHT, ROW_HEIGHT);
    const first = Math.max(0, Math.floor(this.element.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const wanted = Math.min(total - first, Math.ceil(viewport / ROW_HEIGHT) + OVERSCAN * 2);
    while (this.pool.length < wanted) this.pool.push(this.createRow());
    for (let i = 0; i < this.pool.length; i++) {
      const pooled = this.pool[i]!;
      const index = first + i;
      const row = i < wanted ? this.rows[index] : undefined;
      if (!row) {
        if (pooled.row !== undefined) {
          pooled.row = undefined;
          pooled.node.hidden = true;
        }
        continue;
      }
      this.fill(pooled, row, index);
    }
  }

  private createRow(): PooledRow {
    const cells = COLUMNS.map((c) => el('div', { className: `td col-${c.id}${c.numeric ? ' num' : ''}`, attrs: { role: 'gridcell' } }));
    const flags = FLAGS.map((f) => {
      const icon = codicon(f.icon, f.label);
      icon.classList.add('flag', `flag-${f.key}`);
      return icon;
    });
    cells[cells.length - 1]!.append(...flags);
    const node = el('div', { className: 'tr', attrs: { role: 'row' } }, ...cells);
    node.hidden = true;
    this.body.append(node);
    return { node, cells, flags, row: undefined, index: -1 };
  }

  private fill(pooled: PooledRow, row: TrafficRow, index: number): void {
    const { node } = pooled;
    if (pooled.index !== index) {
      node.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
      node.setAttribute('aria-rowindex', String(index + 2));
      pooled.index = index;
    }
    node.hidden = false;
    const selected = row.id === this.selectedId;
    toggleClass(node, 'selected', selected);
    node.setAttribute('aria-selected', String(selected));
    if (pooled.row === row) return;
    pooled.row = row;
    node.dataset.id = row.id;
    toggleClass(node, 'failed', isFailedRow(row));
    toggleClass(node, 'inflight', row.status === undefined);
    COLUMNS.forEach((column, i) => {
      if (!column.cell) return;
      const cell = column.cell(row);
      const td = pooled.cells[i]!;
      setText(td, cell.text);
      const title = cell.title ?? cell.text;
      if (td.title !== title) td.title = title;
    });
    FLAGS.forEach((f, i) => {
      pooled.flags[i]!.hidden = !row.flags[f.key];
    });
  }

  private ensureVisible(index: number): void {
    const top = index * ROW_HEIGHT;
    const viewport = this.element.clientHeight - ROW_HEIGHT;
    if (top < this.element.scrollTop) this.element.scrollTop = top;
    else if (top + ROW_HEIGHT > this.element.scrollTop + viewport) this.element.scrollTop = top + ROW_HEIGHT - viewport;
  }

  private onKey(e: KeyboardEvent): void {
    if (this.rows.length === 0) return;
    const current = this.selectedId === null ? -1 : this.rows.findIndex((r) => r.id === this.selectedId);
    const page = Math.max(1, Math.floor((this.element.clientHeight - ROW_HEIGHT) / ROW_HEIGHT) - 1);
    let next: number;
    switch (e.key) {
      case 'ArrowDown':
        next = Math.min(this.rows.length - 1, current + 1);
        break;
      case 'ArrowUp':
        next = Math.max(0, current - 1);
        break;
      case 'PageDown':
        next = Math.min(this.rows.length - 1, current + page);
        break;
      case 'PageUp':
        next = Math.max(0, current - page);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = this.rows.length - 1;
        break;
      case 'Escape':
        if (this.selectedId !== null) this.events.onSelect(null);
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    const row = this.rows[next];
    if (!row) return;
    this.ensureVisible(next);
    this.events.onSelect(row.id);
  }
}
