// Starts, stops and restarts this window's bridge, and decides what to do when the port is taken.
// No VS Code import: the container injects how to build a bridge (lazily — express and the
// tokenizer load on the first Start only), how to probe a port, and where to log.
//
// Several VS Code windows share one port, because clients hard-code the URL. Before listening,
// the controller asks `GET /health` on the port:
//   nobody there          → start here                        (state "running")
//   another Kiro Bridge   → follow it, poll every ~30 s, take over when the port frees ("following")
//   something else        → error; the UI offers "Change port" / "Retry"   ("error", reason "foreign")
// If listening fails anyway (a race with another window), the same probe decides again.
// Operations are serialised: a Stop during a Start waits for the Start to settle, then stops.
import { Disposable, type IDisposable } from '../common/disposable';
import type { Logger } from '../common/logger';
import type { BridgeConfig } from '../bridge/config';
import { clientBaseUrl } from '../clients/addresses';
import type { PeerHealth, Probe, ProbeResult } from '../clients/health-probe';

/** What the controller needs of a bridge (BridgeServer satisfies it). */
export interface BridgeHandle {
  start(): Promise<{ url: string; host: string; port: number }>;
  stop(): Promise<void>;
  updateConfig(patch: Partial<BridgeConfig>): void;
  readonly inFlightCount: number;
  dispose(): void;
}

export type BridgeStatus =
  | { kind: 'stopped' }
  | { kind: 'starting'; port: number }
  | { kind: 'running'; url: string; host: string; port: number }
  /** Another window (or the CLI) serves the port; this one takes over when it goes away. */
  | { kind: 'following'; url: string; host: string; port: number; peer: PeerHealth }
  | { kind: 'stopping'; port: number }
  | { kind: 'error'; reason: 'foreign' | 'failed'; message: string; host: string; port: number };

export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const systemTimers: Timers = {
  setInterval: (fn, ms) => {
    const handle = setInterval(fn, ms);
    handle.unref?.();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export interface BridgeControllerDeps {
  /** The configuration to start with (settings + the client key), read at each start. */
  readConfig(): Promise<BridgeConfig>;
  /** Builds a bridge for `config`; the first call may load the bridge's code. */
  createBridge(config: BridgeConfig): Promise<BridgeHandle>;
  probe: Probe;
  logger: Logger;
  timers?: Timers;
  /** How often a follower checks whether the port has freed up. */
  followPollMs?: number;
}

export const FOLLOW_POLL_MS = 30_000;

export class BridgeController extends Disposable {
  private statusValue: BridgeStatus = { kind: 'stopped' };
  private bridge: BridgeHandle | undefined;
  private pollHandle: unknown;
  private polling = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(status: BridgeStatus) => void>();
  private readonly timers: Timers;

  constructor(private readonly deps: BridgeControllerDeps) {
    super();
    this.timers = deps.timers ?? systemTimers;
    this.register({ dispose: () => this.stopPolling() });
  }

  get status(): BridgeStatus {
    return this.statusValue;
  }

  /** Requests the local bridge is serving now (0 when not running here). */
  get inFlightCount(): number {
    return this.statusValue.kind === 'running' ? (this.bridge?.inFlightCount ?? 0) : 0;
  }

  onDidChange(listener: (status: BridgeStatus) => void): IDisposable {
    this.listeners.add(listener);
    return {
      dispose: () => {
        this.listeners.delete(listener);
      },
    };
  }

  /** Starts (or follows another window's bridge). Resolves with the resulting status. */
  start(): Promise<BridgeStatus> {
    return this.enqueue(() => this.startNow());
  }

  /** Stops serving (or following). */
  stop(): Promise<BridgeStatus> {
    return this.enqueue(() => this.stopNow());
  }

  restart(): Promise<BridgeStatus> {
    return this.enqueue(async () => {
      await this.stopNow();
      return this.startNow();
    });
  }

  /** Passes settings that need no restart to the running bridge. */
  updateLive(patch: Partial<BridgeConfig>): void {
    if (this.statusValue.kind === 'running') this.bridge?.updateConfig(patch);
  }

  /** Stops everything; for `deactivate`, which VS Code gives only a few seconds. */
  async shutdown(): Promise<void> {
    this.stopPolling();
    await this.enqueue(() => this.stopNow());
    this.dispose();
  }

  override dispose(): void {
    this.stopPolling();
    if (this.bridge) {
      // Best effort when not awaited: BridgeServer.dispose stops listening at once.
      this.bridge.dispose();
      this.bridge = undefined;
    }
    super.dispose();
    this.listeners.clear();
  }

  private enqueue(op: () => Promise<BridgeStatus>): Promise<BridgeStatus> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async startNow(): Promise<BridgeStatus> {
    if (this.isDisposed) return this.statusValue;
    if (this.statusValue.kind === 'running') return this.statusValue;
    this.stopPolling();
    let config: BridgeConfig;
    try {
      config = await this.deps.readConfig();
    } catch (error) {
      return this.fail('failed', `could not read the configuration: ${messageOf(error)}`, '127.0.0.1', 0);
    }
    const { host, port } = config;
    this.setStatus({ kind: 'starting', port });

    // Ask first: a follower never loads the bridge's code at all.
    const before = await this.deps.probe(host, port);
    if (before.kind !== 'free') return this.onPortTaken(before, host, port);

    let bridge: BridgeHandle;
    try {
      bridge = await this.deps.createBridge(config);
    } catch (error) {
      this.deps.logger.error(`Kiro Bridge could not be created: ${messageOf(error)}`);
      return this.fail('failed', messageOf(error), host, port);
    }
    try {
      const address = await bridge.start();
      this.bridge = bridge;
      this.deps.logger.info(`Kiro Bridge listening on ${address.url}`);
      return this.setStatus({ kind: 'running', url: address.url, host: address.host, port: address.port });
    } catch (error) {
      bridge.dispose();
      // Lost a race for the port, or the address cannot be bound: ask again who is there.
      const after = await this.deps.probe(host, port);
      if (after.kind !== 'free') return this.onPortTaken(after, host, port);
      this.deps.logger.error(`Kiro Bridge could not start on ${host}:${port}: ${messageOf(error)}`);
      return this.fail('failed', messageOf(error), host, port);
    }
  }

  private onPortTaken(result: Exclude<ProbeResult, { kind: 'free' }>, host: string, port: number): BridgeStatus {
    if (result.kind === 'kiro-bridge') {
      this.deps.logger.info(
        `Port ${port} is served by another Kiro Bridge (version ${result.health.version}); this window follows it and takes over when it stops.`,
      );
      this.startPolling();
      return this.setStatus({ kind: 'following', url: clientBaseUrl(host, port), host, port, peer: result.health });
    }
    this.deps.logger.warn(`Port ${port} on ${host} is used by another program (${result.detail}).`);
    return this.fail('foreign', result.detail, host, port);
  }

  private async stopNow(): Promise<BridgeStatus> {
    this.stopPolling();
    const bridge = this.bridge;
    if (!bridge) {
      return this.statusValue.kind === 'stopped' ? this.statusValue : this.setStatus({ kind: 'stopped' });
    }
    const port = this.statusValue.kind === 'running' ? this.statusValue.port : 0;
    this.setStatus({ kind: 'stopping', port });
    try {
      await bridge.stop();
    } catch (error) {
      this.deps.logger.warn(`Kiro Bridge did not stop cleanly: ${messageOf(error)}`);
    }
    bridge.dispose();
    this.bridge = undefined;
    this.deps.logger.info('Kiro Bridge stopped');
    return this.setStatus({ kind: 'stopped' });
  }

  private startPolling(): void {
    if (this.pollHandle !== undefined) return;
    this.pollHandle = this.timers.setInterval(() => void this.poll(), this.deps.followPollMs ?? FOLLOW_POLL_MS);
  }

  private stopPolling(): void {
    if (this.pollHandle === undefined) return;
    this.timers.clearInterval(this.pollHandle);
    this.pollHandle = undefined;
  }

  /** A follower's check: still served? Then refresh the peer's facts. Free? Take over. */
  private async poll(): Promise<void> {
    if (this.polling || this.statusValue.kind !== 'following') return;
    this.polling = true;
    try {
      const { host, port } = this.statusValue;
      const result = await this.deps.probe(host, port);
      if (this.statusValue.kind !== 'following') return;
      if (result.kind === 'kiro-bridge') {
        this.setStatus({ ...this.statusValue, peer: result.health });
      } else if (result.kind === 'free') {
        this.deps.logger.info(`Port ${port} is free again; this window takes over.`);
        await this.enqueue(() => this.startNow());
      } else {
        this.stopPolling();
        this.fail('foreign', result.detail, host, port);
      }
    } finally {
      this.polling = false;
    }
  }

  private fail(reason: 'foreign' | 'failed', message: string, host: string, port: number): BridgeStatus {
    return this.setStatus({ kind: 'error', reason, message, host, port });
  }

  private setStatus(status: BridgeStatus): BridgeStatus {
    this.statusValue = status;
    for (const listener of [...this.listeners]) {
      try {
        listener(status);
      } catch (error) {
        this.deps.logger.warn(`a bridge status listener failed: ${messageOf(error)}`);
      }
    }
    return status;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
