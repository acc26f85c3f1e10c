// The details pane for the selected request: an overview (attempts, repairs, errors, flags) and
// one tab per body — client request, request sent to Kiro, decoded upstream events in order,
// response sent back. Bodies arrive already redacted by the host; only the active tab is drawn.

import type { TrafficDetails, TrafficRow } from '../../../src/traffic/traffic-protocol';
import { cacheHitRate } from '../../../src/traffic/traffic';
import { codicon, el, setText } from './dom';
import * as fmt from './format';
import { DETAIL_TABS, type DetailTab } from './vscode';

export interface DetailsEvents {
  onClose(): void;
  onExport(id: string): void;
  onTab(tab: DetailTab): void;
}

const TAB_LABELS: Record<DetailTab, string> = {
  overview: 'Overview',
  clientRequest: 'Client request',
  kiroRequest: 'Kiro request',
  upstreamEvents: 'Upstream events',
  response: 'Response',
};

const CAPTURE_NOTES = {
  off: 'Bodies are not captured: kiroBridge.traffic.captureBodies is "off".',
  redacted: 'Long texts are shortened to 256 characters (captureBodies "redacted"). Secrets are always removed.',
  full: 'Secrets are always removed.',
} as const;

export class DetailsPane {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly subtitle: HTMLElement;
  private readonly tabs: HTMLElement & { selectedIndex: number };
  private readonly panels = new Map<DetailTab, HTMLElement>();
  private readonly headers = new Map<DetailTab, HTMLElement>();
  private readonly note: HTMLElement;
  private id: string | null = null;
  private row: TrafficRow | undefined;
  private details: TrafficDetails | null | undefined;
  private tab: DetailTab = 'overview';

  constructor(private readonly events: DetailsEvents) {
    this.title = el('div', { className: 'details-title' });
    this.subtitle = el('div', { className: 'details-subtitle' });
    const exportButton = el(
      'vscode-toolbar-button',
      { attrs: { icon: 'export', label: 'Export repro bundle', title: 'Export repro bundle: one redacted JSON file for a bug report' } },
      'Export repro bundle',
    );
    exportButton.classList.add('export-button');
    exportButton.addEventListener('click', () => {
      if (this.id) this.events.onExport(this.id);
    });
    const copyButton = el('vscode-toolbar-button', { attrs: { icon: 'copy', label: 'Copy this tab as text', title: 'Copy this tab as text' } });
    copyButton.addEventListener('click', () => void this.copyTab());
    const closeButton = el('vscode-toolbar-button', { attrs: { icon: 'close', label: 'Close details', title: 'Close details (Escape)' } });
    closeButton.addEventListener('click', () => this.events.onClose());

    this.tabs = el('vscode-tabs', { attrs: { panel: '' } }) as HTMLElement & { selectedIndex: number };
    for (const tab of DETAIL_TABS) {
      const header = el('vscode-tab-header', { title: TAB_LABELS[tab], attrs: { slot: 'header', 'data-tab': tab } }, TAB_LABELS[tab]);
      const panel = el('vscode-tab-panel', { className: 'details-panel', attrs: { 'data-tab': tab } });
      this.headers.set(tab, header);
      this.panels.set(tab, panel);
      this.tabs.append(header, panel);
    }
    this.tabs.addEventListener('vsc-tabs-select', (e) => {
      const index = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
      const tab = DETAIL_TABS[index];
      if (tab && tab !== this.tab) {
        this.tab = tab;
        this.events.onTab(tab);
        this.renderPanel();
      }
    });
    this.note = el('div', { className: 'details-note' });
    this.element = el(
      'section',
      { className: 'details', attrs: { 'aria-label': 'Request details' } },
      el(
        'div',
        { className: 'details-head' },
        el('div', { className: 'details-heading' }, this.title, this.subtitle),
        el('div', { className: 'details-actions' }, exportButton, copyButton, closeButton),
      ),
      this.note,
      this.tabs,
    );
    this.element.hidden = true;
  }

  get shownId(): string | null {
    return this.id;
  }

  setTab(tab: DetailTab): void {
    this.tab = tab;
    this.tabs.selectedIndex = DETAIL_TABS.indexOf(tab);
    this.renderPanel();
  }

  /** Opens the pane for `id`; the body waits for `setDetails`. */
  show(id: string, row: TrafficRow | undefined): void {
    if (this.id !== id) this.details = undefined;
    this.id = id;
    this.row = row;
    this.element.hidden = false;
    this.renderHead();
    this.renderPanel();
  }

  /** A newer state of the row (from the table) while waiting for or between details. */
  updateRow(row: TrafficRow): void {
    if (row.id !== this.id) return;
    this.row = row;
    this.renderHead();
  }

  setDetails(id: string, details: TrafficDetails | null): void {
    if (id !== this.id) return;
    this.details = details;
    if (details) this.row = details.row;
    this.renderHead();
    this.renderPanel();
  }

  hide(): void {
    this.id = null;
    this.details = undefined;
    this.element.hidden = true;
  }

  private renderHead(): void {
    const row = this.row;
    if (!row) {
      setText(this.title, 'Request');
      setText(this.subtitle, this.id ?? '');
      return;
    }
    const status = row.status === undefined ? 'in flight' : String(row.status);
    setText(this.title, `${row.method} ${row.path} — ${status}`);
    const parts = [row.client, row.modelAsked, fmt.fullTime(row.startedAt)].filter(Boolean);
    setText(this.subtitle, parts.join(' · '));
    const d = this.details;
    const counts: Partial<Record<DetailTab, number | undefined>> = {
      upstreamEvents: d?.upstreamEvents?.length,
    };
    for (const tab of DETAIL_TABS) {
      const n = counts[tab];
      setText(this.headers.get(tab)!, n === undefined ? TAB_LABELS[tab] : `${TAB_LABELS[tab]} (${n})`);
    }
    if (d) {
      const dropped = d.bodiesDropped ? ' Bodies of older requests are not kept.' : '';
      setText(this.note, CAPTURE_NOTES[d.capture] + dropped);
    } else setText(this.note, '');
  }

  private renderPanel(): void {
    const panel = this.panels.get(this.tab);
    if (!panel || this.id === null) return;
    for (const [tab, p] of this.panels) if (tab !== this.tab) p.replaceChildren();
    if (this.details === undefined) {
      panel.replaceChildren(el('div', { className: 'details-empty', text: 'Loading…' }));
      return;
    }
    if (this.details === null) {
      panel.replaceChildren(el('div', { className: 'details-empty', text: 'This request is no longer in the list.' }));
      return;
    }
    if (this.tab === 'overview') panel.replaceChildren(this.overview(this.details));
    else panel.replaceChildren(this.body(this.details, this.tab));
  }

  private overview(d: TrafficDetails): HTMLElement {
    const r = d.row;
    const list = el('dl', { className: 'facts' });
    const fact = (name: string, value: string | undefined) => {
      if (value === undefined || value === '') return;
      list.append(el('dt', { text: name }), el('dd', { text: value }));
    };
    fact('Request', `${r.method} ${r.path}`);
    fact('Client', r.client);
    fact('API', r.api);
    fact('Model asked', r.modelAsked);
    fact('Kiro model', r.kiroModel);
    fact('Account', r.account);
    fact('Status', r.status === undefined ? 'in flight' : String(r.status));
    fact('Stop reason', r.stopReason);
    fact('Started', fmt.fullTime(r.startedAt));
    fact('Time to first token', fmt.duration(r.ttftMs));
    fact('Duration', fmt.duration(r.durationMs));
    if (r.inputTokens !== undefined || r.outputTokens !== undefined) {
      fact('Tokens in / out', `${r.inputTokens ?? '?'} / ${r.outputTokens ?? '?'}`);
    }
    const hit = cacheHitRate(r);
    if (hit !== undefined) {
      fact('Prompt cache', `${fmt.percent(hit)} hit: ${r.cacheReadTokens ?? 0} tokens read, ${r.cacheWriteTokens ?? 0} written`);
    }
    fact('Credits', fmt.credits(r.credits));
    const flags = Object.entries(r.flags)
      .filter(([, on]) => on)
      .map(([name]) => name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`));
    fact('Flags', flags.join(', ') || 'none');
    fact('Id', r.id);

    const sections: HTMLElement[] = [list];
    if (d.error) {
      sections.push(
        el('h3', { text: 'Error' }),
        el('div', { className: 'error-box' }, codicon('error'), el('span', { text: ` ${d.error.type}: ${d.error.message}` })),
      );
    }
    if (d.attempts.length) {
      const table = el(
        'table',
        { className: 'attempts' },
        el('thead', {}, el('tr', {}, ...['#', 'Account', 'Status', 'Error class', 'Duration'].map((h) => el('th', { text: h })))),
        el(
          'tbody',
          {},
          ...d.attempts.map((a, i) =>
            el(
              'tr',
              { className: a.status >= 400 || a.status === 0 ? 'failed' : '' },
              el('td', { text: String(i + 1) }),
              el('td', { text: a.account }),
              el('td', { text: a.status === 0 ? 'no connection' : String(a.status) }),
              el('td', { text: a.errorClass ?? '' }),
              el('td', { text: fmt.duration(a.durationMs) }),
            ),
          ),
        ),
      );
      sections.push(el('h3', { text: `Upstream attempts (${d.attempts.length})` }), table);
    }
    sections.push(el('h3', { text: 'Conversion repairs' }));
    sections.push(
      d.repairs.length
        ? el('ul', { className: 'repairs' }, ...d.repairs.map((r) => el('li', { text: r })))
        : el('div', { className: 'muted', text: 'None: the request was sent as converted.' }),
    );
    return el('div', { className: 'overview' }, ...sections);
  }

  private body(d: TrafficDetails, tab: Exclude<DetailTab, 'overview'>): HTMLElement {
    const value = d[tab];
    if (value === undefined) {
      const why =
        d.capture === 'off'
          ? 'Not captured (kiroBridge.traffic.captureBodies is "off").'
          : d.bodiesDropped
            ? 'No longer kept: only the newest requests keep their bodies.'
            : tab === 'upstreamEvents' || tab === 'response'
              ? 'Nothing yet.'
              : 'Not recorded for this request.';
      return el('div', { className: 'details-empty', text: why });
    }
    return el('pre', { className: 'json', text: this.bodyText(value, tab), attrs: { tabindex: '0' } });
  }

  private bodyText(value: unknown, tab: DetailTab): string {
    if (tab === 'upstreamEvents' && Array.isArray(value)) {
      // One event per line, in arrival order: a stream reads better as a log than as a tree.
      return value.map((event, i) => `${String(i + 1).padStart(4)}  ${oneLine(event)}`).join('\n');
    }
    return fmt.prettyJson(value);
  }

  private async copyTab(): Promise<void> {
    const d = this.details;
    if (!d) return;
    const text = this.tab === 'overview' ? fmt.prettyJson(d) : this.bodyText(d[this.tab], this.tab);
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard access can be refused; the text is still selectable in the pane.
    }
  }
}

function oneLine(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
