// A SecretStore in one JSON file, owner-only (0600, folder 0700): the CLI's keychain stand-in.
// Every write replaces the whole file atomically (write-file-atomic: temp file, fsync, rename), so
// a crash mid-write leaves the previous file intact, never a half-written one. Another process
// changing the file (a second `kiro-bridge accounts …` beside a running `serve`) is noticed by a
// folder watch plus stat polling, and reported through `onDidChange` key by key. Our own writes
// are not echoed (as with VS Code's SecretStorage in the same window).
import { mkdirSync, unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import { chmod, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { IDisposable } from './disposable';
import type { SecretStore } from './secret-store';

interface FileShape {
  v: 1;
  secrets: Record<string, string>;
}

export type AtomicWrite = (file: string, text: string, options: { mode: number }) => Promise<void>;

export interface FileSecretStoreOptions {
  /** Watch the file for changes by other processes. Default true. */
  watch?: boolean;
  /** Stat polling interval of the watch (ms). Default 2000. */
  pollMs?: number;
  /** The atomic writer (tests inject failures). Default write-file-atomic with fsync. */
  write?: AtomicWrite;
}

export class SecretFileError extends Error {
  override readonly name = 'SecretFileError';
}

const defaultWrite: AtomicWrite = (file, text, options) => writeFileAtomic(file, text, { mode: options.mode, fsync: true });

export class FileSecretStore implements SecretStore, IDisposable {
  private cache: Map<string, string> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(key: string) => void>();
  private watcher: FSWatcher | undefined;
  private polling = false;
  private reloadTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  private readonly write: AtomicWrite;

  constructor(
    readonly file: string,
    private readonly options: FileSecretStoreOptions = {},
  ) {
    this.write = options.write ?? defaultWrite;
    if (options.watch ?? true) this.startWatching();
  }

  async get(key: string): Promise<string | undefined> {
    const map = this.cache ?? (await this.load());
    return map.get(key);
  }

  set(key: string, value: string): Promise<void> {
    return this.change((map) => {
      map.set(key, value);
    });
  }

  delete(key: string): Promise<void> {
    return this.change((map) => {
      map.delete(key);
    });
  }

  onDidChange(listener: (key: string) => void): IDisposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  /** Reads the file fresh (a missing file is an empty store). */
  private async load(): Promise<Map<string, string>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') {
        this.cache = new Map();
        return this.cache;
      }
      throw new SecretFileError(`cannot read ${this.file}: ${(error as Error).message}`);
    }
    let parsed: Partial<FileShape>;
    try {
      parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as Partial<FileShape>;
    } catch {
      // Never overwrite what we cannot read: the user may be able to repair it.
      throw new SecretFileError(`${this.file} is not valid JSON; fix it or move it away (it holds your Kiro accounts)`);
    }
    const map = new Map<string, string>();
    if (parsed && typeof parsed.secrets === 'object' && parsed.secrets) {
      for (const [key, value] of Object.entries(parsed.secrets)) if (typeof value === 'string') map.set(key, value);
    }
    this.cache = map;
    return map;
  }

  /** Read-modify-write of the whole file, one at a time, starting from what is on disk now. */
  private change(mutate: (map: Map<string, string>) => void): Promise<void> {
    const work = async () => {
      const before = this.cache;
      const onDisk = await this.load();
      // Another process may have written since we last read, and the watch may not have reported
      // it yet: once this fresh read is the cache, that reload would find nothing new, so the
      // outside change is reported from here.
      const outside = before ? changedKeys(before, onDisk) : [];
      const map = new Map(onDisk);
      mutate(map);
      const body: FileShape = { v: 1, secrets: Object.fromEntries(map) };
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await this.write(this.file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
      // A file created by an older version or by hand may be looser than owner-only.
      await chmod(this.file, 0o600).catch(() => undefined);
      this.cache = map;
      this.report(outside);
    };
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private startWatching(): void {
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (!name || name.toString() === base) this.scheduleReload();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // The folder does not exist yet; polling notices the file once it appears.
    }
    watchFile(this.file, { interval: this.options.pollMs ?? 2000, persistent: false }, this.onStat);
    this.polling = true;
  }

  private readonly onStat = (current: { mtimeMs: number; size: number }, previous: { mtimeMs: number; size: number }) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) this.scheduleReload();
  };

  private scheduleReload(): void {
    if (this.disposed) return;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      void this.reload();
    }, 50);
    this.reloadTimer.unref?.();
  }

  /** Re-reads the file after an outside change and reports the keys whose values changed. */
  private async reload(): Promise<void> {
    // Let our own pending writes land first, so they are not reported as outside changes.
    await this.queue;
    if (this.disposed) return;
    const before = this.cache;
    let after: Map<string, string>;
    try {
      after = await this.load();
    } catch {
      return; // A half-edited file: keep what we had, try again on the next change.
    }
    if (!before) return;
    this.report(changedKeys(before, after));
  }

  private report(keys: Iterable<string>): void {
    for (const key of keys) for (const listener of [...this.listeners]) listener(key);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.watcher?.close();
    if (this.polling) unwatchFile(this.file, this.onStat);
    this.listeners.clear();
  }
}

/** Keys whose values differ between two reads of the file (added, changed or removed). */
function changedKeys(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): Set<string> {
  const changed = new Set<string>();
  for (const [key, value] of after) if (before.get(key) !== value) changed.add(key);
  for (const key of before.keys()) if (!after.has(key)) changed.add(key);
  return changed;
}
