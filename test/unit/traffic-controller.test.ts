import { describe, expect, it } from 'vitest';
import { toDisposable } from '../../src/common/disposable';
import type { Logger } from '../../src/common/logger';
import { Redactor } from '../../src/common/redact';
import type { AccountSummary, HostMessage, TrafficViewConfig } from '../../src/traffic/traffic-protocol';
import { DETAILS_INTERVAL_MS, STATS_IDLE_INTERVAL_MS, TrafficViewController } from '../../src/traffic/traffic-controller';
import { TrafficStore } from '../../src/traffic/traffic-store';
import { ManualTimers } from '../webview/manual-timers';
import { inFlight, sampleRecord, SECRETS } from '../webview/samples';

type Of<T extends HostMessage['type']> = Extract<HostMessage, { type: T }>;

function setup(initial: Partial<TrafficViewConfig> = {}) {
  const timers = new ManualTimers();
  const store = new TrafficStore({ maxEntries: 50, now: () => timers.now() });
  const posted: HostMessage[] = [];
  const logs: { level: string; message: string }[] = [];
  const logger: Logger = {
    trace: () => {},
    debug: () => {},
    info: (message) => logs.push({ level: 'info', message }),
    warn: (message) => logs.push({ level: 'warn', message }),
    error: (message) => logs.push({ level: 'error', message }),
  };
  let config: TrafficViewConfig = { captureBodies: 'redacted', maxEntries: 50, ...initial };
  const configListeners = new Set<() => void>();
  let accounts: AccountSummary[] = [{ label: 'aor…x7Qz', state: 'active', creditsUsed: 10, creditsLimit: 100 }];
  const accountListeners = new Set<() => void>();
  const saved: { fileName: string; contents: string }[] = [];
  const errors: string[] = [];
  let saveFails: Error | undefined;
  const controller = new TrafficViewController({
    store,
    accounts: {
      snapshot: () => accounts,
      onDidChange: (l) => {
        accountListeners.add(l);
        return toDisposable(() => void accountListeners.delete(l));
      },
    },
    config: {
      read: () => config,
      onDidChange: (l) => {
        configListeners.add(l);
        return toDisposable(() => void configListeners.delete(l));
      },
    },
    redactor: new Redactor(),
    logger,
    saveRepro: async (fileName, contents) => {
      if (saveFails) throw saveFails;
      saved.push({ fileName, contents });
    },
    notifyError: (m) => errors.push(m),
    reproEnvironment: () => ({ extensionVersion: '0.1.0', vscodeVersion: '1.100.3', platform: 'linux x64' }),
    timers,
  });
  controller.attach((m) => posted.push(JSON.parse(JSON.stringify(m))));
  const of = <T extends HostMessage['type']>(type: T) => posted.filter((m): m is Of<T> => m.type === type);
  return {
    timers,
    store,
    posted,
    of,
    logs,
    saved,
    errors,
    controller,
    setConfig(next: Partial<TrafficViewConfig>) {
      config = { ...config, ...next };
      for (const l of configListeners) l();
    },
    setAccounts(next: AccountSummary[]) {
      accounts = next;
      for (const l of accountListeners) l();
    },
    failSaves(err: Error) {
      saveFails = err;
    },
    /** Lets the async export handler finish. */
    tick: () => new Promise<void>((resolve) => setTimeout(resolve, 0)),
  };
}

describe('TrafficViewController', () => {
  it('sends nothing until the webview is ready, then a full snapshot', () => {
    const t = setup();
    t.store.update(sampleRecord(0));
    t.store.update(sampleRecord(1));
    t.timers.advance(1_000);
    expect(t.posted).toEqual([]);
    t.controller.receive({ type: 'ready' });
    expect(t.posted).toHaveLength(1);
    const snapshot = t.of('snapshot')[0]!;
    expect(snapshot.rows.map((r) => r.id)).toEqual(['req-00000', 'req-00001']);
    expect(snapshot.rows[0]).not.toHaveProperty('clientRequest');
    expect(snapshot.accounts).toEqual([{ label: 'aor…x7Qz', state: 'active', creditsUsed: 10, creditsLimit: 100 }]);
    expect(snapshot.config).toEqual({ captureBodies: 'redacted', maxEntries: 50 });
    expect(snapshot.paused).toBe(false);
    expect(snapshot.stats.requests).toBe(2);
  });

  it('batches store changes into deltas, at most one per 100 ms', () => {
    const t = setup();
    t.controller.receive({ type: 'ready' });
    t.posted.length = 0;
    const record = sampleRecord(2);
    t.store.update(inFlight(record));
    for (let i = 0; i < 30; i++) t.store.update({ ...inFlight(record), outputTokens: i });
    t.store.update(sampleRecord(3));
    t.timers.advance(0);
    expect(t.of('records')).toHaveLength(1);
    expect(t.of('records')[0]!.added.map((r) => r.id)).toEqual(['req-00002', 'req-00003']);
    expect(t.of('records')[0]!.added[0]!.outputTokens).toBe(29);
    t.store.update(record);
    t.timers.advance(50);
    expect(t.of('records')).toHaveLength(1);
    t.timers.advance(50);
    expect(t.of('records')).toHaveLength(2);
    expect(t.of('records')[1]).toEqual({ type: 'records', added: [], updated: [expect.objectContaining({ id: 'req-00002', status: 200 })], removed: [] });
  });

  it('reports evicted rows as removed', () => {
    const t = setup({ maxEntries: 10 });
    for (let i = 0; i < 10; i++) t.store.update(sampleRecord(i));
    t.controller.receive({ type: 'ready' });
    t.store.update(sampleRecord(10));
    t.timers.advance(100);
    expect(t.of('records')[0]).toMatchObject({ removed: ['req-00000'], added: [{ id: 'req-00010' }] });
  });

  it('stops pushing while hidden and resyncs with a snapshot when shown', () => {
    const t = setup();
    t.controller.receive({ type: 'ready' });
    t.controller.setVisible(false);
    t.posted.length = 0;
    t.store.update(sampleRecord(0));
    t.timers.advance(STATS_IDLE_INTERVAL_MS * 2);
    expect(t.posted).toEqual([]);
    t.controller.setVisible(true);
    expect(t.posted.map((m) => m.type)).toEqual(['snapshot']);
    expect(t.of('snapshot')[0]!.rows.map((r) => r.id)).toEqual(['req-00000']);
  });

  it('waits for a new ready after the webview is recreated', () => {
    const t = setup();
    t.controller.receive({ type: 'ready' });
    t.controller.detach();
    const second: HostMessage[] = [];
    t.controller.attach((m) => second.push(m));
    t.store.update(sampleRecord(0));
    t.timers.advance(1_000);
    expect(second).toEqual([]);
    t.controller.receive({ type: 'ready' });
    expect(second.map((m) => m.type)).toEqual(['snapshot']);
  });

  it('answers select with redacted details and follows the selected request as it progresses', () => {
    const t = setup({ captureBodies: 'full' });
    const record = sampleRecord(4, { kiroRequest: { headers: { Authorization: `Bearer ${SECRETS.accessToken}` } } });
    t.store.update(inFlight(record));
    t.controller.receive({ type: 'ready' });
    t.controller.receive({ type: 'select', id: record.id });
    let details = t.of('details');
    expect(details).toHaveLength(1);
    expect(details[0]!.details!.row.status).toBeUndefined();
    expect(JSON.stringify(details[0])).not.toContain(SECRETS.accessToken);
    expect(details[0]!.details!.kiroRequest).toEqual({ headers: { Authorization: '[REDACTED]' } });
    // While it streams, the selected request's details follow it at most twice a second.
    for (let i = 1; i <= 20; i++) {
      t.store.update({ ...inFlight(record), outputTokens: i });
      t.timers.advance(50);
    }
    expect(t.of('details').length).toBe(3);
    t.store.update(record);
    t.timers.advance(DETAILS_INTERVAL_MS);
    details = t.of('details');
    expect(details).toHaveLength(4);
    expect(details[3]!.details!.row.status).toBe(200);
    // Unrelated rows do not resend the details.
    t.store.update(sampleRecord(5));
    t.timers.advance(DETAILS_INTERVAL_MS);
    expect(t.of('details')).toHaveLength(4);
    t.controller.receive({ type: 'select', id: 'req-unknown' });
    expect(t.of('details').at(-1)).toEqual({ type: 'details', id: 'req-unknown', details: null });
  });

  it('tells the webview when the selected request is evicted', () => {
    const t = setup({ maxEntries: 10 });
    for (let i = 0; i < 10; i++) t.store.update(sampleRecord(i));
    t.controller.receive({ type: 'ready' });
    t.controller.receive({ type: 'select', id: 'req-00000' });
    t.store.update(sampleRecord(10));
    t.timers.advance(100);
    expect(t.of('details').at(-1)).toEqual({ type: 'details', id: 'req-00000', details: null });
  });

  it('freezes the table while paused, counts what waits, and resyncs on resume', () => {
    const t = setup();
    t.store.update(sampleRecord(0));
    t.controller.receive({ type: 'ready' });
    t.controller.receive({ type: 'pause', paused: true });
    expect(t.posted.at(-1)).toEqual({ type: 'paused', paused: true, pending: 0 });
    t.store.update(sampleRecord(1));
    t.store.update(sampleRecord(2));
    t.store.update(sampleRecord(0, { stopReason: 'max_tokens' }));
    t.timers.advance(100);
    expect(t.of('records')).toEqual([]);
    expect(t.posted.at(-1)).toEqual({ type: 'paused', paused: true, pending: 2 });
    expect(t.controller.isPaused).toBe(true);
    t.controller.receive({ type: 'pause', paused: false });
    const resync = t.of('snapshot').at(-1)!;
    expect(resync.paused).toBe(false);
    expect(resync.rows.map((r) => r.id)).toEqual(['req-00000', 'req-00001', 'req-00002']);
    expect(resync.rows[0]!.stopReason).toBe('max_tokens');
  });

  it('keeps the pause across a hide and a reload of the webview', () => {
    const t = setup();
    t.controller.receive({ type: 'ready' });
    t.controller.receive({ type: 'pause', paused: true });
    t.controller.detach();
    t.controller.attach((m) => t.posted.push(m));
    t.controller.receive({ type: 'ready' });
    expect(t.of('snapshot').at(-1)!.paused).toBe(true);
  });

  it('clears the store and tells the webview', () => {
    const t = setup();
    for (let i = 0; i < 3; i++) t.store.update(sampleRecord(i));
    t.controller.receive({ type: 'ready' });
    t.controller.receive({ type: 'clear' });
    expect(t.store.size).toBe(0);
    expect(t.posted.at(-1)).toEqual({ type: 'cleared' });
  });

  it('exports a repro bundle through the save callback', async () => {
    const t = setup();
    t.store.update(sampleRecord(7, { clientRequest: { headers: { 'x-api-key': SECRETS.clientKey } } }));
    t.controller.receive({ type: 'ready' });
    t.controller.receive({ type: 'exportRepro', id: 'req-00007' });
    await t.tick();
    expect(t.saved).toHaveLength(1);
    expect(t.saved[0]!.fileName).toMatch(/^kiro-bridge-repro-\d{8}-\d{6}-req-00007\.json$/);
    const bundle = JSON.parse(t.saved[0]!.contents);
    expect(bundle).toMatchObject({ kind: 'kiro-bridge-repro', capture: 'redacted', environment: { extensionVersion: '0.1.0', vscodeVersion: '1.100.3' } });
    expect(bundle.request.id).toBe('req-00007');
    expect(t.saved[0]!.contents).not.toContain(SECRETS.clientKey);
  });

  it('says so when the request to export is gone or the save fails', async () => {
    const t = setup();
    t.controller.receive({ type: 'ready' });
    t.controller.receive({ type: 'exportRepro', id: 'req-gone' });
    await t.tick();
    expect(t.errors).toEqual(['That request is no longer in the traffic list, so it cannot be exported.']);
    t.store.update(sampleRecord(1));
    t.failSaves(new Error(`EACCES writing /tmp/x with ${SECRETS.clientKey}`));
    t.controller.receive({ type: 'exportRepro', id: 'req-00001' });
    await t.tick();
    expect(t.errors[1]).toContain('Could not save the repro bundle: EACCES');
    expect(t.errors[1]).not.toContain(SECRETS.clientKey);
    expect(t.logs.some((l) => l.level === 'error' && l.message.includes('EACCES'))).toBe(true);
  });

  it('applies setting changes: resizes the store, tells the webview, re-sends details on a capture change', () => {
    const t = setup({ captureBodies: 'full' });
    for (let i = 0; i < 30; i++) t.store.update(sampleRecord(i));
    t.controller.receive({ type: 'ready' });
    t.controller.receive({ type: 'select', id: 'req-00029' });
    expect(t.of('details')[0]!.details!.clientRequest).toBeDefined();
    t.setConfig({ maxEntries: 20, captureBodies: 'off' });
    expect(t.store.size).toBe(20);
    expect(t.of('config').at(-1)).toEqual({ type: 'config', config: { captureBodies: 'off', maxEntries: 20 } });
    const details = t.of('details').at(-1)!;
    expect(details.details!.capture).toBe('off');
    expect(details.details!.clientRequest).toBeUndefined();
    t.timers.advance(100);
    expect(t.of('records').at(-1)!.removed).toHaveLength(10);
  });

  it('forwards account changes, redacting what the pool reports', () => {
    const t = setup();
    t.controller.receive({ type: 'ready' });
    t.setAccounts([{ label: SECRETS.refreshToken, state: 'suspended', note: `token ${SECRETS.accessToken} rejected` }]);
    const accounts = t.of('accounts').at(-1)!.accounts;
    expect(accounts[0]!.state).toBe('suspended');
    expect(JSON.stringify(accounts)).not.toContain(SECRETS.refreshToken);
    expect(JSON.stringify(accounts)).not.toContain(SECRETS.accessToken);
  });

  it('sends statistics at most once a second while busy, and now and then while idle', () => {
    const t = setup();
    t.controller.receive({ type: 'ready' });
    for (let ms = 0; ms < 3_000; ms += 50) {
      t.store.update(sampleRecord(ms));
      t.timers.advance(50);
    }
    const busy = t.of('stats').length;
    expect(busy).toBeGreaterThanOrEqual(2);
    expect(busy).toBeLessThanOrEqual(3);
    t.timers.advance(STATS_IDLE_INTERVAL_MS * 3);
    expect(t.of('stats').length - busy).toBe(3);
    expect(t.of('stats').at(-1)!.stats.requests).toBe(60);
  });

  it('logs and drops malformed messages, and relays webview logs redacted', () => {
    const t = setup();
    t.controller.receive({ type: 'select', id: 42 });
    t.controller.receive('ready');
    expect(t.posted).toEqual([]);
    expect(t.logs.map((l) => l.level)).toEqual(['warn', 'warn']);
    expect(t.logs[0]!.message).toContain('id: expected a string');
    t.controller.receive({ type: 'log', level: 'error', message: `render failed near ${SECRETS.openaiKey}` });
    expect(t.logs[2]!.level).toBe('error');
    expect(t.logs[2]!.message).toContain('render failed near [REDACTED]');
  });

  it('stops everything on dispose', () => {
    const t = setup();
    t.controller.receive({ type: 'ready' });
    t.controller.dispose();
    t.posted.length = 0;
    t.store.update(sampleRecord(0));
    t.setAccounts([]);
    t.timers.advance(STATS_IDLE_INTERVAL_MS * 2);
    expect(t.posted).toEqual([]);
  });
});
