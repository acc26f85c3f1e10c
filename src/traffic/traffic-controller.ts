// The traffic view's host-side logic without VS Code: it answers the webview's messages, turns
// store changes into batched deltas, and decides when to push (only while a webview is attached,
// has said `ready`, and is visible; a full snapshot on every (re)connect and on resume). The
// provider in traffic-view.ts is a thin adapter that gives it a `post` function.

import { Disposable, toDisposable, type IDisposable } from '../common/disposable';
import type { Logger } from '../common/logger';
import type { Redactor } from '../common/redact';
import { checkWebviewMessage, describeRejected, type AccountSummary, type HostMessage, type TrafficViewConfig, type WebviewMessage } from './traffic-protocol';
import { ChangeBatcher, systemTimers, type ChangeBatch, type Timers } from './traffic-batcher';
import { toDetails, toRows } from './traffic-records';
import { buildReproBundle, reproFileName, serializeReproBundle, type ReproContext } from './traffic-repro';
import type { TrafficChange, TrafficStore } from './traffic-store';

/** Where the header's account list comes from (the account pool, adapted). */
export interface AccountsSource {
  snapshot(): readonly AccountSummary[];
  onDidChange(listener: () => void): IDisposable;
}

/** The view's settings (`kiroBridge.traffic.*`), adapted. */
export interface TrafficConfigSource {
  read(): TrafficViewConfig;
  onDidChange(listener: () => void): IDisposable;
}

export interface TrafficControllerDeps {
  store: TrafficStore;
  accounts: AccountsSource;
  config: TrafficConfigSource;
  redactor: Redactor;
  logger: Logger;
  /** Asks the user where to save and writes the file; resolves when done or cancelled. */
  saveRepro(fileName: string, contents: string): Promise<void>;
  /** Tells the user something went wrong outside the webview (e.g. the record is gone). */
  notifyError(message: string): void;
  /** Environment facts for repro bundles (versions, platform). */
  reproEnvironment?: () => Pick<ReproContext, 'extensionVersion' | 'vscodeVersion' | 'platform' | 'settings'>;
  timers?: Timers;
  /** Flush interval for row deltas (default 100 ms: at most 10 messages a second). */
  flushIntervalMs?: number;
  /** Minimum time between statistics messages. */
  statsIntervalMs?: number;
}

export const STATS_INTERVAL_MS = 1_000;
/**
 * A selected request that is still streaming is re-sent at most this often: its details carry
 * every upstream event so far (up to thousands), scrubbed on each send.
 */
export const DETAILS_INTERVAL_MS = 500;
/** While idle, statistics still go out now and then so the per-minute charts move on. */
export const STATS_IDLE_INTERVAL_MS = 15_000;

export class TrafficViewController extends Disposable {
  private post: ((message: HostMessage) => void) | undefined;
  private ready = false;
  private visible = true;
  private paused = false;
  private pendingWhilePaused = 0;
  private selectedId: string | null = null;
  private config: TrafficViewConfig;
  private readonly batcher: ChangeBatcher;
  private readonly timers: Timers;
  private readonly statsIntervalMs: number;
  private statsTimer: unknown;
  private detailsTimer: unknown;
  private lastDetailsAt = Number.NEGATIVE_INFINITY;
  private statsTimerIdle = false;
  private lastStatsAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: TrafficControllerDeps) {
    super();
    this.timers = deps.timers ?? systemTimers;
    this.statsIntervalMs = deps.statsIntervalMs ?? STATS_INTERVAL_MS;
    this.config = deps.config.read();
    deps.store.setMaxEntries(this.config.maxEntries);
    this.batcher = this.register(new ChangeBatcher((batch) => this.flush(batch), deps.flushIntervalMs, this.timers));
    this.register(deps.store.onDidChange((change) => this.onStoreChange(change)));
    this.register(deps.accounts.onDidChange(() => this.sendAccounts()));
    this.register(deps.config.onDidChange(() => this.onConfigChange()));
    this.register(
      toDisposable(() => {
        this.cancelStats();
        this.cancelDetails();
      }),
    );
  }

  /** True while messages are being pushed to a webview. */
  get live(): boolean {
    return this.post !== undefined && this.ready && this.visible;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** A webview appeared; nothing is sent until it says `ready`. */
  attach(post: (message: HostMessage) => void, visible = true): void {
    this.post = post;
    this.ready = false;
    this.visible = visible;
    this.batcher.reset();
  }

  /** The webview was disposed. */
  detach(): void {
    this.post = undefined;
    this.ready = false;
    this.batcher.reset();
    this.cancelStats();
    this.cancelDetails();
  }

  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    if (!visible) {
      this.batcher.reset();
      this.cancelStats();
      this.cancelDetails();
    } else if (this.post && this.ready) {
      // A retained webview kept its state but missed the deltas: resync. (A webview that was
      // torn down while hidden reloads and says `ready` again, which also resyncs.)
      this.sendSnapshot();
    }
  }

  /** Entry point for every message from the webview; anything malformed is logged and dropped. */
  receive(raw: unknown): void {
    const checked = checkWebviewMessage(raw);
    if (!checked.ok) {
      this.deps.logger.warn(`Traffic view: ignored a malformed message (${describeRejected(raw)}): ${checked.error}`);
      return;
    }
    this.handle(checked.value);
  }

  /** The repro bundle for one record as the file name and text to save, or undefined if gone. */
  buildRepro(id: string): { fileName: string; contents: string } | undefined {
    const stored = this.deps.store.get(id);
    if (!stored) return undefined;
    const context: ReproContext = {
      ...(this.deps.reproEnvironment?.() ?? {}),
      capture: this.config.captureBodies,
      now: this.timers.now(),
      bodiesDropped: stored.bodiesDropped,
    };
    const bundle = buildReproBundle(stored.record, context, this.deps.redactor);
    return { fileName: reproFileName(stored.record), contents: serializeReproBundle(bundle, this.deps.redactor) };
  }

  private handle(message: WebviewMessage): void {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.sendSnapshot();
        return;
      case 'select':
        this.selectedId = message.id;
        if (message.id !== null) this.sendDetails(message.id);
        return;
      case 'exportRepro':
        void this.exportRepro(message.id);
        return;
      case 'clear':
        this.deps.store.clear();
        return;
      case 'pause':
        this.setPaused(message.paused);
        return;
      case 'log': {
        const text = `Traffic view: ${this.deps.redactor.text(message.message)}`;
        if (message.level === 'error') this.deps.logger.error(text);
        else if (message.level === 'warn') this.deps.logger.warn(text);
        else this.deps.logger.info(text);
        return;
      }
    }
  }

  private setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    this.pendingWhilePaused = 0;
    this.batcher.reset();
    if (!this.live) return;
    if (paused) this.send({ type: 'paused', paused: true, pending: 0 });
    else this.sendSnapshot();
  }

  private async exportRepro(id: string): Promise<void> {
    const repro = this.buildRepro(id);
    if (!repro) {
      this.deps.notifyError('That request is no longer in the traffic list, so it cannot be exported.');
      return;
    }
    try {
      await this.deps.saveRepro(repro.fileName, repro.contents);
    } catch (err) {
      const message = this.deps.redactor.text(err instanceof Error ? err.message : String(err));
      this.deps.logger.error(`Traffic view: could not save the repro bundle: ${message}`);
      this.deps.notifyError(`Could not save the repro bundle: ${message}`);
    }
  }

  private onStoreChange(change: TrafficChange): void {
    if (change.type === 'cleared') {
      this.selectedId = null;
      this.batcher.reset();
      this.pendingWhilePaused = 0;
      if (this.live) this.send({ type: 'cleared' });
      this.scheduleStats();
      return;
    }
    if (!this.live) return;
    if (change.type === 'removed') this.batcher.remove(change.ids);
    else {
      if (this.paused && change.isNew) this.pendingWhilePaused++;
      this.batcher.upsert(change.id, change.isNew);
    }
    this.scheduleStats();
  }

  private flush(batch: ChangeBatch): void {
    if (!this.live) return;
    if (this.paused) {
      // The table is frozen; only say how much is waiting. `removed` is replayed by the
      // snapshot on resume.
      this.send({ type: 'paused', paused: true, pending: this.pendingWhilePaused });
      return;
    }
    const { store, redactor } = this.deps;
    const rows = (ids: string[]) =>
      toRows(
        ids.flatMap((id) => {
          const stored = store.get(id);
          return stored ? [stored.record] : [];
        }),
        redactor,
      );
    this.send({ type: 'records', added: rows(batch.added), updated: rows(batch.updated), removed: batch.removed });
    const selected = this.selectedId;
    if (selected !== null && (batch.updated.includes(selected) || batch.added.includes(selected))) this.scheduleDetails();
    else if (selected !== null && batch.removed.includes(selected)) this.send({ type: 'details', id: selected, details: null });
  }

  private sendSnapshot(): void {
    if (!this.live) return;
    this.batcher.reset();
    this.pendingWhilePaused = 0;
    const { store, redactor } = this.deps;
    this.lastStatsAt = this.timers.now();
    this.send({
      type: 'snapshot',
      rows: toRows(store.list(), redactor),
      stats: store.stats.snapshot(),
      accounts: this.accounts(),
      config: this.config,
      paused: this.paused,
    });
    if (this.selectedId !== null) this.sendDetails(this.selectedId);
    this.scheduleIdleStats();
  }

  /** Re-sends the selected request's details, trailing its changes by at most DETAILS_INTERVAL_MS. */
  private scheduleDetails(): void {
    if (this.detailsTimer !== undefined) return;
    const wait = Math.max(0, this.lastDetailsAt + DETAILS_INTERVAL_MS - this.timers.now());
    this.detailsTimer = this.timers.setTimeout(() => {
      this.detailsTimer = undefined;
      if (this.selectedId !== null) this.sendDetails(this.selectedId);
    }, wait);
  }

  private cancelDetails(): void {
    if (this.detailsTimer !== undefined) this.timers.clearTimeout(this.detailsTimer);
    this.detailsTimer = undefined;
  }

  private sendDetails(id: string): void {
    this.cancelDetails();
    if (!this.live) return;
    this.lastDetailsAt = this.timers.now();
    const stored = this.deps.store.get(id);
    if (!stored) {
      this.send({ type: 'details', id, details: null });
      return;
    }
    const details = toDetails(stored.record, this.config.captureBodies, this.deps.redactor);
    if (stored.bodiesDropped) details.bodiesDropped = true;
    this.send({ type: 'details', id, details });
  }

  private sendAccounts(): void {
    if (this.live) this.send({ type: 'accounts', accounts: this.accounts() });
  }

  private accounts(): AccountSummary[] {
    const redactor = this.deps.redactor;
    try {
      return this.deps.accounts.snapshot().map((a) => ({ ...a, label: redactor.text(a.label), ...(a.note ? { note: redactor.text(a.note) } : {}) }));
    } catch (err) {
      this.deps.logger.warn(`Traffic view: could not read the accounts: ${redactor.text(String(err))}`);
      return [];
    }
  }

  private onConfigChange(): void {
    const next = this.deps.config.read();
    const captureChanged = next.captureBodies !== this.config.captureBodies;
    this.config = next;
    this.deps.store.setMaxEntries(next.maxEntries);
    if (!this.live) return;
    this.send({ type: 'config', config: next });
    if (captureChanged && this.selectedId !== null) this.sendDetails(this.selectedId);
  }

  /** Statistics go out at most once per `statsIntervalMs`, trailing the latest change. */
  private scheduleStats(): void {
    if (!this.live) return;
    const wait = Math.max(0, this.lastStatsAt + this.statsIntervalMs - this.timers.now());
    this.restartStatsTimer(wait);
  }

  private scheduleIdleStats(): void {
    this.restartStatsTimer(STATS_IDLE_INTERVAL_MS, true);
  }

  private restartStatsTimer(wait: number, idle = false): void {
    if (this.statsTimer !== undefined) {
      // A pending send after a change already covers this one; an idle tick gives way to it.
      if (idle || !this.statsTimerIdle) return;
      this.cancelStats();
    }
    this.statsTimerIdle = idle;
    this.statsTimer = this.timers.setTimeout(() => {
      this.statsTimer = undefined;
      if (!this.live) return;
      this.lastStatsAt = this.timers.now();
      this.send({ type: 'stats', stats: this.deps.store.stats.snapshot() });
      this.scheduleIdleStats();
    }, wait);
  }

  private cancelStats(): void {
    if (this.statsTimer !== undefined) this.timers.clearTimeout(this.statsTimer);
    this.statsTimer = undefined;
  }

  private send(message: HostMessage): void {
    try {
      this.post?.(message);
    } catch (err) {
      this.deps.logger.warn(`Traffic view: could not post a message: ${this.deps.redactor.text(String(err))}`);
    }
  }
}
