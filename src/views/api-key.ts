// The client API key: generated once, kept in SecretStorage (never a setting), shared by every
// window of the machine (so a follower window copies the same key the serving window checks).
// Two windows that both find no key may each generate one; the last write wins, and the other
// window learns about it through the store's change event and adopts it.
import { Disposable } from '../common/disposable';
import type { Redactor } from '../common/redact';
import type { SecretStore } from '../common/secret-store';

export const API_KEY_SECRET = 'kiroBridge.apiKey';

export class ApiKeyStore extends Disposable {
  private cached: string | undefined;
  private loading: Promise<string> | undefined;
  private readonly listeners = new Set<(key: string) => void>();

  constructor(
    private readonly secrets: SecretStore,
    private readonly generate: () => string,
    private readonly redactor: Redactor,
  ) {
    super();
    this.register(
      secrets.onDidChange((key) => {
        if (key === API_KEY_SECRET) void this.reloadFromStore();
      }),
    );
  }

  /** The key, created and saved on first use. */
  get(): Promise<string> {
    if (this.cached) return Promise.resolve(this.cached);
    this.loading ??= this.loadOrCreate().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** Replaces the key; clients using the old one get 401 from now on. */
  async regenerate(): Promise<string> {
    const key = this.generate();
    await this.secrets.set(API_KEY_SECRET, key);
    this.adopt(key);
    return key;
  }

  /** Fires with the new key after a regenerate here or a change from another window. */
  onDidChange(listener: (key: string) => void): { dispose(): void } {
    this.listeners.add(listener);
    return {
      dispose: () => {
        this.listeners.delete(listener);
      },
    };
  }

  private async loadOrCreate(): Promise<string> {
    const stored = (await this.secrets.get(API_KEY_SECRET))?.trim();
    if (stored) {
      this.cached = stored;
      this.redactor.add(stored);
      return stored;
    }
    const key = this.generate();
    await this.secrets.set(API_KEY_SECRET, key);
    this.cached = key;
    this.redactor.add(key);
    return key;
  }

  private async reloadFromStore(): Promise<void> {
    const stored = (await this.secrets.get(API_KEY_SECRET))?.trim();
    if (stored && stored !== this.cached) this.adopt(stored);
    // A deletion elsewhere: keep using ours until the next start creates and saves a new one.
    if (!stored) this.cached = undefined;
  }

  private adopt(key: string): void {
    // Our own write may also come back as a change event (the memory and file stores send one).
    if (key === this.cached) return;
    // The old key stays registered with the redactor: it may still appear in old log lines.
    this.cached = key;
    this.redactor.add(key);
    for (const listener of [...this.listeners]) listener(key);
  }
}
