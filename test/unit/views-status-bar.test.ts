import { beforeEach, describe, expect, it } from 'vitest';
import { mock, MarkdownString, ThemeColor } from '../support/vscode-mock';
import type { RequestRecord } from '../../src/traffic/traffic';
import type { AccountSnapshot } from '../../src/kiro/accounts/accounts-api';
import { toAccountSummary, toAccountView } from '../../src/views/accounts-adapters';
import type { BridgeStatus } from '../../src/views/bridge-controller';
import { RequestCounter } from '../../src/views/request-counter';
import { BridgeStatusBar, formatCredits, isLow, renderStatus, SHOW_MENU_COMMAND, type AccountView, type StatusModel } from '../../src/views/status-bar';

beforeEach(() => mock.reset());

const running: BridgeStatus = { kind: 'running', url: 'http://127.0.0.1:8765', host: '127.0.0.1', port: 8765 };
const idle = { inFlight: 0, served: 0, failed: 0 };

function account(overrides: Partial<AccountView> = {}): AccountView {
  return { id: 'a1', label: 'me@example.com', state: 'ready', active: true, remaining: 420, limit: 550, resetAt: Date.UTC(2026, 11, 1), ...overrides };
}

function model(overrides: Partial<StatusModel> = {}): StatusModel {
  return { bridge: running, requests: idle, accounts: [account()], ...overrides };
}

describe('renderStatus', () => {
  it('running: port, request count and the active account credits, no warning', () => {
    const r = renderStatus(model({ requests: { inFlight: 0, served: 12, failed: 1 } }));
    expect(r.text).toBe('$(radio-tower) Kiro :8765  $(arrow-swap) 12  $(credit-card) 420');
    expect(r.background).toBeUndefined();
    expect(r.tooltip).toContain('running on http://127.0.0.1:8765');
    expect(r.tooltip).toContain('Requests: 12 served, 0 in progress, 1 failed');
    expect(r.accessibilityLabel).toBe('Kiro Bridge is running on port 8765');
  });

  it('spins while requests are in flight and counts them', () => {
    const r = renderStatus(model({ requests: { inFlight: 2, served: 5, failed: 0 } }));
    expect(r.text).toContain('$(sync~spin) 7');
  });

  it('each bridge state has its own text', () => {
    const texts = (
      [
        { kind: 'stopped' },
        { kind: 'starting', port: 8765 },
        { kind: 'stopping', port: 8765 },
        {
          kind: 'following',
          url: 'http://127.0.0.1:8765',
          host: '127.0.0.1',
          port: 8765,
          peer: { service: 'kiro-bridge', version: '0.1.0', uptimeSeconds: 3600, accounts: { total: 2, states: [] } },
        },
        { kind: 'error', reason: 'foreign', message: 'HTTP 404 from "nginx"', host: '127.0.0.1', port: 8765 },
      ] as BridgeStatus[]
    ).map((bridge) => renderStatus(model({ bridge, accounts: [] })));
    expect(texts.map((t) => t.text.split('  ')[0])).toEqual([
      '$(circle-slash) Kiro',
      '$(loading~spin) Kiro',
      '$(loading~spin) Kiro',
      '$(link) Kiro :8765 (other window)',
      '$(error) Kiro',
    ]);
    const following = texts[3]!;
    expect(following.tooltip).toContain('is served by another window');
    expect(following.tooltip).toContain('version 0\\.1\\.0 · up 1 h · 2 account\\(s\\)');
    expect(following.accessibilityLabel).toContain('served by another Kiro Bridge window');
    const error = texts[4]!;
    expect(error.background).toBe('error');
    expect(error.tooltip).toContain('port 8765 is used by another program');
    expect(error.tooltip).toContain('HTTP 404 from "nginx"');
  });

  it('warns when an account needs sign-in, and says so in the accessible label', () => {
    const r = renderStatus(
      model({
        accounts: [account(), account({ id: 'a2', label: 'Social aor…x7Qz', state: 'needs_sign_in', active: false, reason: 'refresh token rejected' })],
      }),
    );
    expect(r.background).toBe('warning');
    expect(r.text.endsWith('$(warning)')).toBe(true);
    expect(r.accessibilityLabel).toContain('1 account(s) need attention');
    expect(r.tooltip).toContain('| $(warning) | Social aor…x7Qz | needs sign\\-in — refresh token rejected |');
  });

  it('marks a Kiro API key account, and a refused key asks for a new key rather than a sign-in', () => {
    const key = (overrides: Partial<AccountSnapshot>): AccountSnapshot => ({
      id: 'k1',
      label: 'ci@example.com',
      kind: 'ApiKey',
      source: 'manual',
      state: 'ready',
      active: true,
      ...overrides,
    });
    const r = renderStatus(
      model({
        accounts: [
          toAccountView(key({})),
          toAccountView(
            key({ id: 'k2', label: 'API key ksk…6d8e', state: 'needs_sign_in', active: false, stateReason: 'Kiro rejected the API key; add a new key' }),
          ),
        ],
      }),
    );
    expect(r.tooltip).toContain('| ci@example\\.com $(key) API key | ready |');
    // The masked label already says it is a key.
    expect(r.tooltip).toContain('| $(warning) | API key ksk…6d8e | needs a new API key — Kiro rejected the API key; add a new key |');
    expect(toAccountView(key({})).apiKey).toBe(true);
    expect(toAccountView({ ...key({}), kind: 'Social' }).apiKey).toBeUndefined();
  });

  it('warns when the active account runs low on credits', () => {
    const r = renderStatus(model({ accounts: [account({ remaining: 30, limit: 550 })] }));
    expect(r.background).toBe('warning');
    expect(r.accessibilityLabel).toContain('credits low: 30 left');
    expect(r.tooltip).toContain('has only 30 credits left');
  });

  it('a running bridge with no account at all is a warning with a sign-in link', () => {
    const r = renderStatus(model({ accounts: [] }));
    expect(r.background).toBe('warning');
    expect(r.tooltip).toContain('[Sign in](command:kiroBridge.signIn)');
    // A stopped bridge without accounts is not alarming yet.
    expect(renderStatus(model({ bridge: { kind: 'stopped' }, accounts: [] })).background).toBeUndefined();
  });

  it('the tooltip lists every account with credits and reset dates, and escapes labels', () => {
    const r = renderStatus(
      model({
        strategy: 'priority',
        accounts: [
          account({ label: 'a_b*c@example.com', subscription: 'KIRO PRO' }),
          account({ id: 'b', label: 'second', active: false, remaining: undefined, limit: undefined, resetAt: undefined }),
        ],
      }),
    );
    expect(r.tooltip).toContain('**Accounts (strategy: priority)**');
    expect(r.tooltip).toContain('| $(star-full) | a\\_b\\*c@example\\.com (KIRO PRO) | ready | 420 / 550 | 2026-12-01 |');
    expect(r.tooltip).toContain('| $(check) | second | ready | — | — |');
  });

  it('while accounts load, the tooltip says so and nothing warns', () => {
    const r = renderStatus(model({ accounts: undefined }));
    expect(r.tooltip).toContain('Loading accounts…');
    expect(r.background).toBeUndefined();
  });

  it('offers the actions that fit the state', () => {
    expect(renderStatus(model()).tooltip).toContain('[Stop](command:kiroBridge.stop)');
    expect(renderStatus(model({ bridge: { kind: 'stopped' } })).tooltip).toContain('[Start](command:kiroBridge.start)');
  });

  it('low means under 10% of the limit, or under 5 when the limit is unknown', () => {
    expect(isLow({ remaining: 54, limit: 550 })).toBe(true);
    expect(isLow({ remaining: 55, limit: 550 })).toBe(false);
    expect(isLow({ remaining: 4 })).toBe(true);
    expect(isLow({ remaining: 6 })).toBe(false);
    expect(isLow({})).toBe(false);
  });

  it('credits read well', () => {
    expect(formatCredits(49.87)).toBe('49.9');
    expect(formatCredits(1234.4)).toBe('1,234');
    expect(formatCredits(0)).toBe('0');
  });

  it('is translated through vscode.l10n', () => {
    mock.setL10nBundle({ 'Kiro Bridge is running on port {0}': 'Kiro Bridge 正在端口 {0} 上运行' });
    expect(renderStatus(model()).accessibilityLabel).toBe('Kiro Bridge 正在端口 8765 上运行');
  });
});

describe('BridgeStatusBar', () => {
  it('shows one item that opens the menu, with a trusted markdown tooltip and theme colours', async () => {
    let current = model({ accounts: [account({ state: 'needs_sign_in' })] });
    const listeners = new Set<() => void>();
    const bar = new BridgeStatusBar({ model: () => current, onDidChange: (l) => (listeners.add(l), { dispose: () => listeners.delete(l) }) }, 10);
    expect(mock.statusBarItems).toHaveLength(1);
    const item = mock.statusBarItems[0]!;
    expect(item.visible).toBe(true);
    expect(item.command).toBe(SHOW_MENU_COMMAND);
    expect(item.text).toContain('Kiro :8765');
    expect(item.backgroundColor).toEqual(new ThemeColor('statusBarItem.warningBackground'));
    expect(item.tooltip).toBeInstanceOf(MarkdownString);
    const tooltip = item.tooltip as MarkdownString;
    expect(tooltip.supportThemeIcons).toBe(true);
    expect(tooltip.isTrusted).toEqual({ enabledCommands: expect.arrayContaining(['kiroBridge.start', 'kiroBridge.signIn']) });

    current = model({ bridge: { kind: 'stopped' } });
    for (const l of listeners) l();
    for (const l of listeners) l();
    await new Promise((r) => setTimeout(r, 40));
    expect(item.text.startsWith('$(circle-slash) Kiro')).toBe(true);
    expect(item.backgroundColor).toBeUndefined();

    bar.dispose();
    expect(item.disposed).toBe(true);
    expect(listeners.size).toBe(0);
  });
});

describe('RequestCounter', () => {
  const record = (id: string, status?: number): RequestRecord =>
    ({
      id,
      startedAt: 0,
      method: 'POST',
      path: '/v1/messages',
      client: 'sdk',
      api: 'anthropic',
      stream: true,
      attempts: [],
      repairs: [],
      flags: { streamed: false, retried: false, failedOver: false, truncated: false, repaired: false },
      status,
    }) as RequestRecord;

  it('counts in-flight, served and failed requests from the records, once per request', () => {
    const counter = new RequestCounter();
    let changes = 0;
    counter.onDidChange(() => changes++);
    counter.update(record('a'));
    counter.update(record('a'));
    counter.update(record('b'));
    expect(counter.counts).toEqual({ inFlight: 2, served: 0, failed: 0 });
    counter.update(record('a', 200));
    counter.update(record('a', 200));
    counter.update(record('b', 529));
    expect(counter.counts).toEqual({ inFlight: 0, served: 2, failed: 1 });
    // A late progress update of a finished request does not bring it back.
    counter.update(record('a'));
    expect(counter.counts.inFlight).toBe(0);
    expect(changes).toBe(4);
  });

  it('forwards every record to the views, and a failing view does not stop the count', () => {
    const counter = new RequestCounter();
    const seen: string[] = [];
    counter.forwardTo({
      update() {
        throw new Error('view broke');
      },
    });
    const sub = counter.forwardTo({ update: (r) => seen.push(`${r.id}:${r.status ?? '-'}`) });
    counter.update(record('x'));
    counter.update(record('x', 200));
    sub.dispose();
    counter.update(record('y'));
    expect(seen).toEqual(['x:-', 'x:200']);
    expect(counter.counts).toEqual({ inFlight: 1, served: 1, failed: 0 });
    counter.clearInFlight();
    expect(counter.counts.inFlight).toBe(0);
  });
});

describe('account adapters', () => {
  const snapshot = (overrides: Partial<AccountSnapshot> = {}): AccountSnapshot => ({
    id: 'a',
    label: 'me@example.com',
    kind: 'Social',
    source: 'manual',
    state: 'ready',
    active: true,
    credits: { remaining: 40, limit: 50, resetAt: 1_800_000_000_000, usedThisSession: 1, subscription: 'KIRO FREE' },
    ...overrides,
  });

  it('the status bar view carries state, credits and reset date', () => {
    expect(toAccountView(snapshot({ stateReason: 'why' }))).toEqual({
      id: 'a',
      label: 'me@example.com',
      state: 'ready',
      reason: 'why',
      active: true,
      remaining: 40,
      limit: 50,
      resetAt: 1_800_000_000_000,
      subscription: 'KIRO FREE',
    });
  });

  it('the traffic header gets its own state words and used credits', () => {
    expect(toAccountSummary(snapshot())).toEqual({ label: 'me@example.com', state: 'active', creditsLimit: 50, creditsUsed: 10, resetsAt: 1_800_000_000_000 });
    expect(toAccountSummary(snapshot({ active: false })).state).toBe('ready');
    expect(toAccountSummary(snapshot({ state: 'needs_sign_in', stateReason: 'sign in again', credits: undefined }))).toEqual({
      label: 'me@example.com',
      state: 'invalid',
      note: 'sign in again',
    });
    expect(toAccountSummary(snapshot({ state: 'quota_exhausted' })).state).toBe('exhausted');
    expect(toAccountSummary(snapshot({ state: 'cooling_down' })).state).toBe('cooldown');
  });
});
