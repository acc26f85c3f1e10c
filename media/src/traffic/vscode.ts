// The webview's side of the VS Code API: posting typed messages and keeping UI state across
// hide/show with getState/setState (the host keeps the data; the webview keeps only its view).

import type { WebviewMessage } from '../../../src/traffic/traffic-protocol';
import { NO_FILTERS, STATUS_FILTERS, type Filters, type StatusFilter } from './model';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export const DETAIL_TABS = ['overview', 'clientRequest', 'kiroRequest', 'upstreamEvents', 'response'] as const;
export type DetailTab = (typeof DETAIL_TABS)[number];

export interface ViewState {
  filters: Filters;
  selectedId: string | null;
  scrollTop: number;
  tab: DetailTab;
  chartsVisible: boolean;
}

export const DEFAULT_STATE: ViewState = {
  filters: NO_FILTERS,
  selectedId: null,
  scrollTop: 0,
  tab: 'overview',
  chartsVisible: true,
};

/** Saved state comes back from an older session of this webview: take only what still fits. */
export function restoreState(saved: unknown): ViewState {
  if (typeof saved !== 'object' || saved === null) return { ...DEFAULT_STATE };
  const s = saved as Record<string, unknown>;
  const f = (typeof s.filters === 'object' && s.filters !== null ? s.filters : {}) as Record<string, unknown>;
  const status = STATUS_FILTERS.some((o) => o.value === f.status) ? (f.status as StatusFilter) : 'all';
  return {
    filters: {
      text: typeof f.text === 'string' ? f.text.slice(0, 500) : '',
      status,
      client: typeof f.client === 'string' ? f.client.slice(0, 200) : '',
    },
    selectedId: typeof s.selectedId === 'string' ? s.selectedId : null,
    scrollTop: typeof s.scrollTop === 'number' && s.scrollTop >= 0 ? s.scrollTop : 0,
    tab: DETAIL_TABS.includes(s.tab as DetailTab) ? (s.tab as DetailTab) : 'overview',
    chartsVisible: typeof s.chartsVisible === 'boolean' ? s.chartsVisible : true,
  };
}

export class Host {
  private readonly api: VsCodeApi;

  constructor() {
    this.api = acquireVsCodeApi();
  }

  post(message: WebviewMessage): void {
    this.api.postMessage(message);
  }

  loadState(): ViewState {
    return restoreState(this.api.getState());
  }

  saveState(state: ViewState): void {
    this.api.setState(state);
  }
}
