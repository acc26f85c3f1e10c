// The traffic webview's front end. It says `ready`, receives a snapshot and then batched deltas
// from the host (every message validated with the shared protocol module), and keeps only view
// state of its own (filters, selection, scroll, tab) through getState/setState.

import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import 'uplot/dist/uPlot.min.css';
import './traffic.css';

import { checkHostMessage, type HostMessage, type TrafficStats, type TrafficViewConfig } from '../../../src/traffic/traffic-protocol';
import { cacheHitRate } from '../../../src/traffic/traffic';
import { AccountsStrip } from './accounts';
import { Charts } from './charts';
import { DetailsPane } from './details';
import { el, setText } from './dom';
import * as fmt from './format';
import { RowModel, STATUS_FILTERS, type StatusFilter } from './model';
import { VirtualTable } from './table';
import { Host, type ViewState } from './vscode';

type Select = HTMLElement & { value: string };
type TextField = HTMLElement & { value: string };
type ToolbarButton = HTMLElement & { icon: string; label: string | undefined; checked: boolean };

class TrafficApp {
  private readonly host = new Host();
  private readonly state: ViewState = this.host.loadState();
  private readonly model = new RowModel();
  private readonly table: VirtualTable;
  private readonly details: DetailsPane;
  private readonly accounts = new AccountsStrip();
  private readonly charts = new Charts();
  private readonly totals = el('div', { className: 'totals', attrs: { 'aria-live': 'polite' } });
  private readonly header: HTMLElement;
  private readonly filterText: TextField;
  private readonly statusSelect: Select;
  private readonly clientSelect: Select;
  private readonly pauseButton: ToolbarButton;
  private readonly chartsButton: ToolbarButton;
  private readonly banner: HTMLElement;
  private readonly footer = el('div', { className: 'footer', attrs: { role: 'status' } });
  private readonly main: HTMLElement;
  private config: TrafficViewConfig | undefined;
  private stats: TrafficStats | undefined;
  private paused = false;
  private connected = false;
  private restoredScroll = false;
  private clientsKey = '';
  private frame = 0;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(root: HTMLElement) {
    this.model.setFilters(this.state.filters);
    this.table = new VirtualTable({
      onSelect: (id) => this.select(id),
      onScroll: (top) => {
        this.state.scrollTop = top;
        this.saveStateSoon();
      },
    });
    this.details = new DetailsPane({
      onClose: () => this.select(null),
      onExport: (id) => this.host.post({ type: 'exportRepro', id }),
      onTab: (tab) => {
        this.state.tab = tab;
        this.saveStateSoon();
      },
    });
    this.details.setTab(this.state.tab);

    this.header = el('header', { className: 'header' }, this.accounts.element, this.totals, this.charts.element);

    this.filterText = el('vscode-textfield', {
      className: 'filter-text',
      attrs: { placeholder: 'Filter: model, client, status, error…', 'aria-label': 'Filter requests' },
    }) as TextField;
    const filterIcon = el('vscode-icon', { attrs: { name: 'filter', slot: 'content-before' } });
    this.filterText.append(filterIcon);
    this.filterText.value = this.state.filters.text;
    this.filterText.addEventListener('input', () => this.onFilters());

    this.statusSelect = el('vscode-single-select', { className: 'filter-status', attrs: { 'aria-label': 'Status filter' } }) as Select;
    for (const option of STATUS_FILTERS) this.statusSelect.append(el('vscode-option', { attrs: { value: option.value } }, option.label));
    this.statusSelect.value = this.state.filters.status;
    this.statusSelect.addEventListener('change', () => this.onFilters());

    this.clientSelect = el('vscode-single-select', { className: 'filter-client', attrs: { 'aria-label': 'Client filter' } }) as Select;
    this.refreshClients();
    this.clientSelect.addEventListener('change', () => this.onFilters());

    this.pauseButton = el('vscode-toolbar-button', {
      className: 'pause-button',
      attrs: { icon: 'debug-pause', label: 'Pause', title: 'Pause: freeze the list' },
    }) as ToolbarButton;
    this.pauseButton.addEventListener('click', () => this.host.post({ type: 'pause', paused: !this.paused }));
    const clearButton = el('vscode-toolbar-button', { className: 'clear-button', attrs: { icon: 'clear-all', label: 'Clear', title: 'Clear the list' } });
    clearButton.addEventListener('click', () => this.host.post({ type: 'clear' }));
    this.chartsButton = el('vscode-toolbar-button', {
      className: 'charts-button',
      attrs: { icon: 'graph-line', label: 'Show accounts and charts', title: 'Show accounts and charts', toggleable: '' },
    }) as ToolbarButton;
    this.chartsButton.addEventListener('click', () => this.setChartsVisible(!this.state.chartsVisible));

    const toolbar = el(
      'div',
      { className: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Traffic' } },
      this.filterText,
      this.statusSelect,
      this.clientSelect,
      el('div', { className: 'spacer' }),
      this.pauseButton,
      clearButton,
      this.chartsButton,
    );

    const resume = el('vscode-toolbar-button', { attrs: { icon: 'debug-start', label: 'Resume' } }, 'Resume');
    resume.addEventListener('click', () => this.host.post({ type: 'pause', paused: false }));
    this.banner = el('div', { className: 'banner', attrs: { role: 'status' } }, el('span', { className: 'banner-text' }), resume);
    this.banner.hidden = true;

    this.main = el('main', { className: 'main' }, this.table.element, this.details.element);
    root.replaceChildren(this.header, toolbar, this.banner, this.main, this.footer);
    root.removeAttribute('aria-busy');
    this.setChartsVisible(this.state.chartsVisible);
    this.render();

    window.addEventListener('message', (event: MessageEvent) => this.receive(event.data));
    // The webview is torn down when hidden: write pending view state before that happens.
    window.addEventListener('pagehide', () => this.saveStateNow());
    document.addEventListener('visibilitychange', () => this.saveStateNow());
    window.addEventListener('error', (event) => {
      // Chromium reports a benign "ResizeObserver loop" notice as an error event; not ours.
      if (!String(event.message).startsWith('ResizeObserver loop')) this.log('error', `Uncaught: ${event.message}`);
    });
    window.addEventListener('unhandledrejection', (event) => this.log('error', `Unhandled rejection: ${String(event.reason)}`));
    this.host.post({ type: 'ready' });
  }

  private receive(raw: unknown): void {
    const checked = checkHostMessage(raw);
    if (!checked.ok) {
      console.warn(`Kiro Bridge traffic view: ignored a malformed message: ${checked.error}`);
      this.log('warn', `ignored a malformed host message: ${checked.error}`);
      return;
    }
    try {
      this.handle(checked.value);
    } catch (err) {
      this.log('error', `failed to apply a "${checked.value.type}" message: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private handle(message: HostMessage): void {
    switch (message.type) {
      case 'snapshot':
        this.connected = true;
        this.model.replaceAll(message.rows);
        this.config = message.config;
        this.accounts.update(message.accounts);
        this.setStats(message.stats);
        this.setPaused(message.paused, 0);
        this.restoreSelection();
        break;
      case 'records': {
        this.model.apply(message.added, message.updated, message.removed);
        const selected = this.state.selectedId;
        if (selected !== null) {
          const row = this.model.get(selected);
          if (row) this.details.updateRow(row);
        }
        break;
      }
      case 'stats':
        this.setStats(message.stats);
        break;
      case 'accounts':
        this.accounts.update(message.accounts);
        break;
      case 'config':
        this.config = message.config;
        break;
      case 'cleared':
        this.model.clear();
        this.select(null);
        break;
      case 'paused':
        this.setPaused(message.paused, message.pending);
        break;
      case 'details':
        this.details.setDetails(message.id, message.details);
        break;
    }
    this.scheduleRender();
  }

  /** After a snapshot: reopen the row that was selected before the view was hidden. */
  private restoreSelection(): void {
    const id = this.state.selectedId;
    if (id !== null && this.model.get(id)) {
      this.table.setSelected(id);
      this.details.show(id, this.model.get(id));
      this.main.classList.add('with-details');
      this.host.post({ type: 'select', id });
    } else if (id !== null) this.select(null);
    if (!this.restoredScroll) {
      this.restoredScroll = true;
      this.table.setRows(this.model.visible, '');
      this.table.renderNow();
      this.table.scrollTop = this.state.scrollTop;
    }
  }

  private select(id: string | null): void {
    if (id === this.state.selectedId && (id === null || this.details.shownId === id)) return;
    this.state.selectedId = id;
    this.table.setSelected(id);
    if (id === null) {
      this.details.hide();
      this.main.classList.remove('with-details');
    } else {
      this.details.show(id, this.model.get(id));
      this.main.classList.add('with-details');
    }
    this.host.post({ type: 'select', id });
    this.saveStateSoon();
  }

  private onFilters(): void {
    const filters = {
      text: this.filterText.value,
      status: (STATUS_FILTERS.some((o) => o.value === this.statusSelect.value) ? this.statusSelect.value : 'all') as StatusFilter,
      client: this.clientSelect.value,
    };
    if (!this.model.setFilters(filters)) return;
    this.state.filters = filters;
    this.table.scrollTop = 0;
    this.saveStateSoon();
    this.scheduleRender();
  }

  private setStats(stats: TrafficStats): void {
    this.stats = stats;
    this.charts.update(stats);
    // Over the requests Kiro reported cache numbers for, as for one request.
    const hit = cacheHitRate({ cacheReadTokens: stats.cacheReadTokens, inputTokens: stats.cachedPromptTokens });
    const parts = [
      fmt.plural(stats.requests, 'request'),
      `${stats.failed} failed`,
      stats.inFlight ? `${stats.inFlight} in flight` : '',
      `${fmt.credits(stats.credits)} credits`,
      `${fmt.count(stats.inputTokens)} in / ${fmt.count(stats.outputTokens)} out tokens`,
      hit !== undefined ? `cache hit ${fmt.percent(hit)}` : '',
      stats.p50 !== undefined ? `p50 ${fmt.duration(stats.p50)} · p95 ${fmt.duration(stats.p95)}` : '',
    ];
    setText(this.totals, `Session: ${parts.filter(Boolean).join(' · ')}`);
  }

  private setPaused(paused: boolean, pending: number): void {
    this.paused = paused;
    this.pauseButton.icon = paused ? 'debug-start' : 'debug-pause';
    this.pauseButton.label = paused ? 'Resume' : 'Pause';
    this.pauseButton.title = paused ? 'Resume: show new requests again' : 'Pause: freeze the list';
    this.banner.hidden = !paused;
    const text = this.banner.querySelector('.banner-text');
    if (text) {
      setText(
        text,
        pending > 0 ? `Paused: ${pending} new request${pending === 1 ? '' : 's'} not shown yet.` : 'Paused: new requests are not shown until you resume.',
      );
    }
  }

  private setChartsVisible(visible: boolean): void {
    this.state.chartsVisible = visible;
    this.header.hidden = !visible;
    this.charts.element.hidden = !visible;
    this.chartsButton.checked = visible;
    if (visible && this.stats) this.charts.update(this.stats);
    this.saveStateSoon();
  }

  private refreshClients(): void {
    const clients = this.model.clients();
    const selected = this.state.filters.client;
    if (selected && !clients.includes(selected)) clients.push(selected);
    const key = clients.join('\n');
    if (key === this.clientsKey && this.clientSelect.childElementCount > 0) return;
    this.clientsKey = key;
    this.clientSelect.replaceChildren(
      el('vscode-option', { attrs: { value: '' } }, 'All clients'),
      ...clients.map((c) => el('vscode-option', { attrs: { value: c } }, c)),
    );
    this.clientSelect.value = selected;
  }

  private scheduleRender(): void {
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.render();
      });
    }
  }

  private render(): void {
    const visible = this.model.visible;
    const total = this.model.total;
    let empty = '';
    if (!this.connected) empty = 'Connecting…';
    else if (total === 0) empty = 'No requests yet. Point a client at the bridge: each request shows up here as it happens.';
    else if (visible.length === 0) empty = 'No request matches the filters.';
    this.table.setRows(visible, empty);
    this.table.renderNow();
    this.refreshClients();
    const capture = this.config ? ` · bodies: ${this.config.captureBodies}` : '';
    const limit = this.config ? ` (keeps the newest ${this.config.maxEntries})` : '';
    const shown = visible.length === total ? fmt.plural(total, 'request') : `${visible.length} of ${fmt.plural(total, 'request')}`;
    setText(this.footer, `${shown}${limit}${capture}${this.paused ? ' · paused' : ''}`);
  }

  private saveStateSoon(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.host.saveState(this.state);
    }, 150);
  }

  private saveStateNow(): void {
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.host.saveState(this.state);
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    try {
      this.host.post({ type: 'log', level, message: message.slice(0, 4000) });
    } catch {
      // Nothing more to do from inside the webview.
    }
  }
}

const root = document.getElementById('app');
if (root) new TrafficApp(root);
