// SecretStore over VS Code's SecretStorage (the OS keychain, per extension, shared by every window
// of this machine; in remote windows it lives on the client side, so secrets follow the user).
// VS Code fires `onDidChange` only for changes made by *other* windows (microsoft/vscode#187247),
// which is exactly the SecretStore contract; one store can fire twice (#188460), so listeners
// must be idempotent (re-read the value rather than count events).
import type * as vscode from 'vscode';
import type { IDisposable } from '../common/disposable';
import type { SecretStore } from '../common/secret-store';

export class VsCodeSecretStore implements SecretStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async get(key: string): Promise<string | undefined> {
    return this.secrets.get(key);
  }

  async set(key: string, value: string): Promise<void> {
    await this.secrets.store(key, value);
  }

  async delete(key: string): Promise<void> {
    await this.secrets.delete(key);
  }

  onDidChange(listener: (key: string) => void): IDisposable {
    return this.secrets.onDidChange((e) => listener(e.key));
  }
}
