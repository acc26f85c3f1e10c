// The bridge controller with real sockets: real BridgeServers on loopback stand in for "another
// VS Code window", a plain HTTP server for "some other program", and the real /health probe
// decides. Only the follower's poll timer is driven by hand.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bridgeConfig, type BridgeConfig } from '../../src/bridge/config';
import { createBridge } from '../../src/bridge/http/server';
import { nullLogger } from '../../src/common/logger';
import { SingleAccountProvider } from '../support/single-account';
import { BridgeController, type BridgeHandle, type BridgeStatus, type Timers } from '../../src/views/bridge-controller';
import { classify, probePort } from '../../src/clients/health-probe';
import { freePort } from '../support/net';

const KEY = 'kb-controller-test-key-0123456789';

class ManualTimers implements Timers {
  callbacks = new Map<number, () => void>();
  intervals: number[] = [];
  private next = 1;
  setInterval(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.callbacks.set(id, fn);
    this.intervals.push(ms);
    return id;
  }
  clearInterval(handle: unknown): void {
    this.callbacks.delete(handle as number);
  }
  get active(): number {
    return this.callbacks.size;
  }
  /** Runs every pending interval callback once and waits for the work it started. */
  async tick(settle: () => Promise<unknown>): Promise<void> {
    for (const fn of [...this.callbacks.values()]) fn();
    await settle();
  }
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Window {
  controller: BridgeController;
  timers: ManualTimers;
  statuses: BridgeStatus[];
  created: number;
}

/** A "VS Code window": a controller that builds real bridges. */
function openWindow(port: number, overrides: Partial<BridgeConfig> = {}): Window {
  const timers = new ManualTimers();
  const statuses: BridgeStatus[] = [];
  const win: Window = { controller: undefined as unknown as BridgeController, timers, statuses, created: 0 };
  win.controller = new BridgeController({
    readConfig: async () => bridgeConfig({ apiKey: KEY, port, host: '127.0.0.1', ...overrides }),
    createBridge: async (config) => {
      win.created++;
      return createBridge(config, { accounts: new SingleAccountProvider(undefined), logger: nullLogger });
    },
    probe: (host, p) => probePort(host, p, 1500),
    logger: nullLogger,
    timers,
    followPollMs: 30_000,
  });
  win.controller.onDidChange((s) => statuses.push(s));
  cleanups.push(() => win.controller.shutdown());
  return win;
}

async function health(port: number): Promise<Record<string, unknown>> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  return (await response.json()) as Record<string, unknown>;
}

describe('BridgeController', () => {
  it('starts a bridge that answers /health on the configured port, then stops it and frees the port', async () => {
    const port = await freePort();
    const win = openWindow(port);
    const status = await win.controller.start();
    expect(status).toMatchObject({ kind: 'running', port, url: `http://127.0.0.1:${port}` });
    expect(win.statuses.map((s) => s.kind)).toEqual(['starting', 'running']);
    expect(await health(port)).toMatchObject({ service: 'kiro-bridge', status: 'no_account' });

    expect(await win.controller.stop()).toEqual({ kind: 'stopped' });
    expect(win.statuses.map((s) => s.kind)).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(await probePort('127.0.0.1', port)).toEqual({ kind: 'free' });
  });

  it('a second start while running changes nothing', async () => {
    const port = await freePort();
    const win = openWindow(port);
    await win.controller.start();
    const again = await win.controller.start();
    expect(again.kind).toBe('running');
    expect(win.created).toBe(1);
  });

  it('follows another window that serves the port, without loading a bridge, and takes over when it stops', async () => {
    const port = await freePort();
    const first = openWindow(port);
    const second = openWindow(port);
    await first.controller.start();

    const followed = await second.controller.start();
    expect(followed.kind).toBe('following');
    if (followed.kind !== 'following') throw new Error('unreachable');
    expect(followed.peer.service).toBe('kiro-bridge');
    expect(followed.peer.pid).toBe(process.pid);
    expect(second.created).toBe(0);
    expect(second.timers.active).toBe(1);
    expect(second.timers.intervals).toEqual([30_000]);

    // Still served: the follower only refreshes what it knows about the peer.
    await second.timers.tick(() => new Promise((r) => setTimeout(r, 50)));
    expect(second.controller.status.kind).toBe('following');

    await first.controller.stop();
    await second.timers.tick(async () => {
      for (let i = 0; i < 100 && second.controller.status.kind !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));
    });
    expect(second.controller.status).toMatchObject({ kind: 'running', port });
    expect(second.timers.active).toBe(0);
    expect(await health(port)).toMatchObject({ service: 'kiro-bridge' });

    // And now the first window is the follower.
    expect((await first.controller.start()).kind).toBe('following');
  });

  it('stopping a follower stops the polling and leaves the other window alone', async () => {
    const port = await freePort();
    const first = openWindow(port);
    const second = openWindow(port);
    await first.controller.start();
    await second.controller.start();
    expect(await second.controller.stop()).toEqual({ kind: 'stopped' });
    expect(second.timers.active).toBe(0);
    expect(first.controller.status.kind).toBe('running');
    expect(await health(port)).toMatchObject({ service: 'kiro-bridge' });
  });

  it('reports a port held by another program as a "foreign" error with what it saw, and does not poll', async () => {
    const foreign = http.createServer((_req, res) => {
      res.writeHead(404, { server: 'not-a-bridge/1.0', 'content-type': 'text/html' });
      res.end('<h1>nope</h1>');
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((r) => foreign.close(r)));
    const port = (foreign.address() as AddressInfo).port;
    const win = openWindow(port);
    const status = await win.controller.start();
    expect(status).toMatchObject({ kind: 'error', reason: 'foreign', port });
    if (status.kind !== 'error') throw new Error('unreachable');
    expect(status.message).toContain('HTTP 404');
    expect(status.message).toContain('not-a-bridge/1.0');
    expect(win.created).toBe(0);
    expect(win.timers.active).toBe(0);
  });

  it('a start that loses the race for the port re-asks who is there and follows', async () => {
    const port = await freePort();
    const other = createBridge(bridgeConfig({ apiKey: KEY, port, host: '127.0.0.1' }), { accounts: new SingleAccountProvider(undefined) });
    cleanups.push(() => other.stop());
    let probes = 0;
    const timers = new ManualTimers();
    const controller = new BridgeController({
      readConfig: async () => bridgeConfig({ apiKey: KEY, port, host: '127.0.0.1' }),
      createBridge: async (config) => createBridge(config, { accounts: new SingleAccountProvider(undefined) }),
      // The first probe answers before the other window has bound the port.
      probe: async (host, p) => {
        probes++;
        if (probes === 1) {
          await other.start();
          return { kind: 'free' };
        }
        return probePort(host, p);
      },
      logger: nullLogger,
      timers,
    });
    cleanups.push(() => controller.shutdown());
    const status = await controller.start();
    expect(probes).toBe(2);
    expect(status.kind).toBe('following');
  });

  it('a start that fails for another reason (address not available) is a "failed" error and the window can try again', async () => {
    const port = await freePort();
    const win = openWindow(port, { host: '192.0.2.1' });
    const status = await win.controller.start();
    expect(status).toMatchObject({ kind: 'error', reason: 'failed', host: '192.0.2.1' });
    if (status.kind !== 'error') throw new Error('unreachable');
    expect(status.message).toMatch(/EADDRNOTAVAIL|not allowed|address/i);
  });

  it('serialises operations: a stop issued during a start runs after it', async () => {
    const port = await freePort();
    const win = openWindow(port);
    const starting = win.controller.start();
    const stopping = win.controller.stop();
    expect((await starting).kind).toBe('running');
    expect((await stopping).kind).toBe('stopped');
    expect(await probePort('127.0.0.1', port)).toEqual({ kind: 'free' });
  });

  it('restart stops and starts again on the new configuration', async () => {
    let port = await freePort();
    const timers = new ManualTimers();
    const controller = new BridgeController({
      readConfig: async () => bridgeConfig({ apiKey: KEY, port, host: '127.0.0.1' }),
      createBridge: async (config) => createBridge(config, { accounts: new SingleAccountProvider(undefined) }),
      probe: (host, p) => probePort(host, p),
      logger: nullLogger,
      timers,
    });
    cleanups.push(() => controller.shutdown());
    await controller.start();
    const oldPort = port;
    port = await freePort();
    const status = await controller.restart();
    expect(status).toMatchObject({ kind: 'running', port });
    expect(await probePort('127.0.0.1', oldPort)).toEqual({ kind: 'free' });
  });

  it('passes live settings to the running bridge only', async () => {
    const patches: Partial<BridgeConfig>[] = [];
    const handle: BridgeHandle = {
      start: async () => ({ url: 'http://127.0.0.1:1', host: '127.0.0.1', port: 1 }),
      stop: async () => undefined,
      updateConfig: (patch) => patches.push(patch),
      inFlightCount: 0,
      dispose: () => undefined,
    };
    const controller = new BridgeController({
      readConfig: async () => bridgeConfig({ apiKey: KEY, port: 1 }),
      createBridge: async () => handle,
      probe: async () => ({ kind: 'free' }),
      logger: nullLogger,
      timers: new ManualTimers(),
    });
    controller.updateLive({ requestTimeoutSeconds: 10 });
    expect(patches).toEqual([]);
    await controller.start();
    controller.updateLive({ requestTimeoutSeconds: 20 });
    expect(patches).toEqual([{ requestTimeoutSeconds: 20 }]);
    await controller.shutdown();
  });

  it('a failing configuration read is an error, not a crash', async () => {
    const controller = new BridgeController({
      readConfig: async () => {
        throw new Error('SecretStorage is locked');
      },
      createBridge: async () => {
        throw new Error('must not be called');
      },
      probe: async () => ({ kind: 'free' }),
      logger: nullLogger,
      timers: new ManualTimers(),
    });
    const status = await controller.start();
    expect(status).toMatchObject({ kind: 'error', reason: 'failed' });
    if (status.kind === 'error') expect(status.message).toContain('SecretStorage is locked');
    controller.dispose();
  });
});

describe('the /health probe', () => {
  it('says "free" when nothing listens', async () => {
    expect(await probePort('127.0.0.1', await freePort())).toEqual({ kind: 'free' });
  });

  it('recognises only answers that carry the bridge signature', () => {
    expect(classify(200, undefined, JSON.stringify({ service: 'kiro-bridge', version: '1.2.3' }))).toMatchObject({ kind: 'kiro-bridge' });
    expect(classify(200, 'agent-maestro', JSON.stringify({ name: 'Agent Maestro', status: 'ok' }))).toMatchObject({ kind: 'other' });
    expect(classify(200, undefined, JSON.stringify({ service: 'kiro-bridge' }))).toMatchObject({ kind: 'other' });
    expect(classify(503, undefined, JSON.stringify({ service: 'kiro-bridge', version: '1' }))).toMatchObject({ kind: 'other' });
    expect(classify(200, undefined, 'not json')).toMatchObject({ kind: 'other' });
  });

  it('gives up on a process that accepts the connection but never answers', async () => {
    const silent = http.createServer(() => {
      // Never answers.
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      silent.closeAllConnections();
      return new Promise((r) => silent.close(r));
    });
    const result = await probePort('127.0.0.1', (silent.address() as AddressInfo).port, 300);
    expect(result.kind).toBe('other');
    if (result.kind === 'other') expect(result.detail).toContain('did not answer');
  });

  it('probes a wildcard bind through loopback', async () => {
    const port = await freePort();
    const bridge = createBridge(bridgeConfig({ apiKey: KEY, port, host: '0.0.0.0' }), { accounts: new SingleAccountProvider(undefined) });
    await bridge.start();
    cleanups.push(() => bridge.stop());
    expect((await probePort('0.0.0.0', port)).kind).toBe('kiro-bridge');
  });
});
