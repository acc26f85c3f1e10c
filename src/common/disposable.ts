// The lifecycle pattern every long-lived object follows (after vscode-livepreview's Disposable):
// whatever owns a listener, timer, socket or server registers it with `register`, and one
// `dispose()` releases everything in reverse order, once.

export interface IDisposable {
  dispose(): void | Promise<void>;
}

export function toDisposable(release: () => void | Promise<void>): IDisposable {
  return { dispose: release };
}

export abstract class Disposable implements IDisposable {
  private readonly owned: IDisposable[] = [];
  private disposed = false;

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  /** Takes ownership of `item`; if this object is already disposed, releases it at once. */
  protected register<T extends IDisposable>(item: T): T {
    if (this.disposed) void item.dispose();
    else this.owned.push(item);
    return item;
  }

  /** Releases everything registered, newest first. Safe to call more than once. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    while (this.owned.length) {
      try {
        void this.owned.pop()!.dispose();
      } catch {
        // One failing release must not keep the others alive.
      }
    }
  }
}
