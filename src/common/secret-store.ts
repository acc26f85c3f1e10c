// Where secrets live. The extension backs this with VS Code's SecretStorage (the OS keychain);
// the CLI with a 0600 JSON file; tests with memory. Values are strings (callers store JSON).
import type { IDisposable } from './disposable';

export interface SecretStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Fires when a key changes from elsewhere (another window, another process, a file edit). */
  onDidChange(listener: (key: string) => void): IDisposable;
}

/** In-memory store: tests, and a session-only fallback. */
export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, string>();
  private readonly listeners = new Set<(key: string) => void>();

  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }

  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
    this.emit(key);
  }

  async delete(key: string): Promise<void> {
    if (this.values.delete(key)) this.emit(key);
  }

  onDidChange(listener: (key: string) => void): IDisposable {
    this.listeners.add(listener);
    return {
      dispose: () => {
        this.listeners.delete(listener);
      },
    };
  }

  /** All keys (for tests; VS Code's SecretStorage has no key listing at engine 1.100). */
  keys(): string[] {
    return [...this.values.keys()];
  }

  private emit(key: string): void {
    for (const listener of [...this.listeners]) listener(key);
  }
}
