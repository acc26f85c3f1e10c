// The one status bar item: what the bridge is doing (stopped, starting, running on :port, served
// by another window, error), live requests, and the active account's remaining credits; warning
// colours when an account needs attention. `renderStatus` is pure (model → text, tooltip,
// colour); `BridgeStatusBar` applies it, at most every 250 ms while requests stream.
import * as vscode from 'vscode';
import { Disposable } from '../common/disposable';
import type { BridgeStatus } from './bridge-controller';
import type { RequestCounts } from './request-counter';

/** One account as the status bar and menus show it (no secrets: labels are masked or e-mails). */
export interface AccountView {
  id: string;
  label: string;
  /** True for a Kiro API key account (shown as such; it needs a new key, not a sign-in). */
  apiKey?: boolean;
  /** `ready`, `refreshing`, `cooling_down`, `quota_exhausted`, `suspended`, `needs_sign_in`, `disabled`. */
  state: string;
  reason?: string;
  /** The account serving requests now (priority strategy) or next. */
  active: boolean;
  remaining?: number;
  limit?: number;
  /** Epoch ms. */
  resetAt?: number;
  subscription?: string;
}

export interface StatusModel {
  bridge: BridgeStatus;
  requests: RequestCounts;
  /** Undefined while the accounts are still loading. */
  accounts: readonly AccountView[] | undefined;
  strategy?: string;
}

export interface RenderedStatus {
  text: string;
  /** Markdown (trusted: it links to this extension's commands). */
  tooltip: string;
  background: 'warning' | 'error' | undefined;
  accessibilityLabel: string;
}

export const SHOW_MENU_COMMAND = 'kiroBridge.showMenu';

/** A credit balance is low below 10% of the limit, or below 5 when the limit is unknown. */
export function isLow(account: Pick<AccountView, 'remaining' | 'limit'>): boolean {
  if (account.remaining === undefined) return false;
  if (account.limit && account.limit > 0) return account.remaining < account.limit * 0.1;
  return account.remaining < 5;
}

/** States a user has to act on (signing in again, or asking Kiro support). */
const ATTENTION_STATES = new Set(['needs_sign_in', 'suspended']);

export function formatCredits(value: number): string {
  const rounded = Math.abs(value) < 100 ? Math.round(value * 10) / 10 : Math.round(value);
  return rounded.toLocaleString('en-US');
}

function formatDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** Escapes text for a markdown tooltip (labels may contain `_`, `*`, `|`). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

function stateLabel(state: string, apiKey = false): string {
  switch (state) {
    case 'ready':
      return vscode.l10n.t('ready');
    case 'refreshing':
      return vscode.l10n.t('refreshing');
    case 'cooling_down':
      return vscode.l10n.t('cooling down');
    case 'quota_exhausted':
      return vscode.l10n.t('credits used up');
    case 'suspended':
      return vscode.l10n.t('suspended');
    case 'needs_sign_in':
      return apiKey ? vscode.l10n.t('needs a new API key') : vscode.l10n.t('needs sign-in');
    case 'disabled':
      return vscode.l10n.t('disabled');
    default:
      return state;
  }
}

function stateIcon(account: AccountView): string {
  if (ATTENTION_STATES.has(account.state)) return '$(warning)';
  if (account.state === 'disabled') return '$(circle-slash)';
  if (account.state === 'quota_exhausted' || account.state === 'cooling_down') return '$(watch)';
  if (account.active) return '$(star-full)';
  return '$(check)';
}

function activeAccount(accounts: readonly AccountView[]): AccountView | undefined {
  return accounts.find((a) => a.active) ?? accounts.find((a) => a.state === 'ready');
}

export function renderStatus(model: StatusModel): RenderedStatus {
  const { bridge, requests } = model;
  const accounts = model.accounts ?? [];
  const active = activeAccount(accounts);
  const attention = accounts.filter((a) => ATTENTION_STATES.has(a.state));
  const low = active !== undefined && isLow(active);
  const noAccount = model.accounts !== undefined && accounts.filter((a) => a.state !== 'disabled').length === 0;

  const parts: string[] = [];
  let label: string;
  switch (bridge.kind) {
    case 'stopped':
      parts.push('$(circle-slash) Kiro');
      label = vscode.l10n.t('Kiro Bridge is stopped');
      break;
    case 'starting':
      parts.push('$(loading~spin) Kiro');
      label = vscode.l10n.t('Kiro Bridge is starting');
      break;
    case 'stopping':
      parts.push('$(loading~spin) Kiro');
      label = vscode.l10n.t('Kiro Bridge is stopping');
      break;
    case 'running':
      parts.push(`$(radio-tower) Kiro :${bridge.port}`);
      parts.push(`${requests.inFlight > 0 ? '$(sync~spin)' : '$(arrow-swap)'} ${requests.served + requests.inFlight}`);
      label = vscode.l10n.t('Kiro Bridge is running on port {0}', bridge.port);
      break;
    case 'following':
      parts.push(`$(link) Kiro :${bridge.port} (${vscode.l10n.t('other window')})`);
      label = vscode.l10n.t('Port {0} is served by another Kiro Bridge window', bridge.port);
      break;
    case 'error':
      parts.push('$(error) Kiro');
      label = bridge.reason === 'foreign' ? vscode.l10n.t('Port {0} is used by another program', bridge.port) : vscode.l10n.t('Kiro Bridge could not start');
      break;
  }
  if (active?.remaining !== undefined) parts.push(`$(credit-card) ${formatCredits(active.remaining)}`);
  if (attention.length || noAccount) parts.push('$(warning)');

  const background = bridge.kind === 'error' ? 'error' : attention.length || low || (noAccount && bridge.kind === 'running') ? 'warning' : undefined;
  const tooltip = renderTooltip(model, active);
  const extra: string[] = [];
  if (attention.length) extra.push(vscode.l10n.t('{0} account(s) need attention', attention.length));
  else if (noAccount) extra.push(vscode.l10n.t('no Kiro account'));
  if (low && active?.remaining !== undefined) extra.push(vscode.l10n.t('credits low: {0} left', formatCredits(active.remaining)));
  return { text: parts.join('  '), tooltip, background, accessibilityLabel: [label, ...extra].join(', ') };
}

function renderTooltip(model: StatusModel, active: AccountView | undefined): string {
  const { bridge, requests } = model;
  const lines: string[] = [];
  switch (bridge.kind) {
    case 'stopped':
      lines.push(`**Kiro Bridge** — ${vscode.l10n.t('stopped')}`);
      break;
    case 'starting':
      lines.push(`**Kiro Bridge** — ${vscode.l10n.t('starting on port {0}…', bridge.port)}`);
      break;
    case 'stopping':
      lines.push(`**Kiro Bridge** — ${vscode.l10n.t('stopping…')}`);
      break;
    case 'running':
      lines.push(`**Kiro Bridge** — ${vscode.l10n.t('running on {0}', bridge.url)}`);
      lines.push('', vscode.l10n.t('Requests: {0} served, {1} in progress, {2} failed', requests.served, requests.inFlight, requests.failed));
      break;
    case 'following': {
      lines.push(`**Kiro Bridge** — ${vscode.l10n.t('{0} is served by another window', bridge.url)}`);
      const peer = bridge.peer;
      const peerFacts = [vscode.l10n.t('version {0}', String(peer.version))];
      if (typeof peer.uptimeSeconds === 'number') peerFacts.push(vscode.l10n.t('up {0}', formatDuration(peer.uptimeSeconds)));
      if (peer.accounts && typeof peer.accounts.total === 'number') peerFacts.push(vscode.l10n.t('{0} account(s)', peer.accounts.total));
      lines.push('', escapeMarkdown(peerFacts.join(' · ')));
      lines.push('', vscode.l10n.t('This window takes over when that one stops. Its traffic shows in that window.'));
      break;
    }
    case 'error':
      lines.push(
        `**Kiro Bridge** — $(error) ${escapeMarkdown(bridge.reason === 'foreign' ? vscode.l10n.t('port {0} is used by another program', bridge.port) : vscode.l10n.t('could not start'))}`,
      );
      lines.push('', escapeMarkdown(bridge.message));
      break;
  }

  const accounts = model.accounts;
  lines.push('');
  if (accounts === undefined) {
    lines.push(vscode.l10n.t('Loading accounts…'));
  } else if (accounts.length === 0) {
    lines.push(`$(warning) ${vscode.l10n.t('No Kiro account yet.')} [${vscode.l10n.t('Sign in')}](command:kiroBridge.signIn)`);
  } else {
    const heading = model.strategy ? vscode.l10n.t('Accounts (strategy: {0})', model.strategy) : vscode.l10n.t('Accounts');
    lines.push(`**${heading}**`, '');
    lines.push(`| | ${vscode.l10n.t('Account')} | ${vscode.l10n.t('State')} | ${vscode.l10n.t('Credits left')} | ${vscode.l10n.t('Resets')} |`);
    lines.push('|---|---|---|---|---|');
    for (const account of accounts) {
      const credits =
        account.remaining === undefined
          ? '—'
          : account.limit
            ? `${formatCredits(account.remaining)} / ${formatCredits(account.limit)}`
            : formatCredits(account.remaining);
      const state = stateLabel(account.state, account.apiKey) + (account.reason && account.state !== 'ready' ? ` — ${account.reason}` : '');
      // A key account named by its e-mail still says it is a key (it is never signed in again).
      const kind = account.apiKey && !account.label.startsWith('API key') ? ` $(key) ${vscode.l10n.t('API key')}` : '';
      lines.push(
        `| ${stateIcon(account)} | ${escapeMarkdown(account.label)}${kind}${account.subscription ? ` (${escapeMarkdown(account.subscription)})` : ''} | ${escapeMarkdown(state)} | ${credits}${isLow(account) ? ' $(warning)' : ''} | ${account.resetAt ? formatDate(account.resetAt) : '—'} |`,
      );
    }
    if (active && isLow(active) && active.remaining !== undefined) {
      lines.push('', `$(warning) ${vscode.l10n.t('{0} has only {1} credits left.', escapeMarkdown(active.label), formatCredits(active.remaining))}`);
    }
  }

  lines.push('', actionLinks(bridge));
  return lines.join('\n');
}

function actionLinks(bridge: BridgeStatus): string {
  const link = (title: string, command: string) => `[${title}](command:${command})`;
  const links: string[] = [];
  if (bridge.kind === 'running' || bridge.kind === 'following') {
    links.push(
      link(vscode.l10n.t('Stop'), 'kiroBridge.stop'),
      link(vscode.l10n.t('Show Traffic'), 'kiroBridge.showTraffic'),
      link(vscode.l10n.t('Configure Client…'), 'kiroBridge.configureClient'),
    );
  } else {
    links.push(link(vscode.l10n.t('Start'), 'kiroBridge.start'), link(vscode.l10n.t('Show Logs'), 'kiroBridge.showLogs'));
  }
  links.push(link(vscode.l10n.t('Refresh Usage'), 'kiroBridge.refreshUsage'));
  return links.join(' · ');
}

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

export interface StatusSource {
  model(): StatusModel;
  onDidChange(listener: () => void): { dispose(): void };
}

/** Applies `renderStatus` to a status bar item whenever the model changes (throttled). */
export class BridgeStatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastRender = 0;

  constructor(
    private readonly source: StatusSource,
    private readonly throttleMs = 250,
  ) {
    super();
    this.item = this.register(vscode.window.createStatusBarItem('kiroBridge.status', vscode.StatusBarAlignment.Right, 100));
    this.item.name = 'Kiro Bridge';
    this.item.command = SHOW_MENU_COMMAND;
    this.register(source.onDidChange(() => this.schedule()));
    this.register({ dispose: () => this.timer && clearTimeout(this.timer) });
    this.render();
    this.item.show();
  }

  /** Renders now (tests and state changes that should not wait). */
  render(): void {
    if (this.isDisposed) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.lastRender = Date.now();
    const rendered = renderStatus(this.source.model());
    this.item.text = rendered.text;
    const tooltip = new vscode.MarkdownString(rendered.tooltip, true);
    tooltip.isTrusted = { enabledCommands: TOOLTIP_COMMANDS };
    this.item.tooltip = tooltip;
    this.item.backgroundColor = rendered.background ? new vscode.ThemeColor(`statusBarItem.${rendered.background}Background`) : undefined;
    this.item.accessibilityInformation = { label: rendered.accessibilityLabel };
  }

  private schedule(): void {
    if (this.timer || this.isDisposed) return;
    const wait = Math.max(0, this.throttleMs - (Date.now() - this.lastRender));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, wait);
    this.timer.unref?.();
  }
}

const TOOLTIP_COMMANDS = [
  'kiroBridge.start',
  'kiroBridge.stop',
  'kiroBridge.showTraffic',
  'kiroBridge.configureClient',
  'kiroBridge.showLogs',
  'kiroBridge.refreshUsage',
  'kiroBridge.signIn',
];
