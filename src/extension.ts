// Entry point: build the one container, let it register everything, return. Activation does no
// network and loads no bridge code (see views/container.ts); deactivate stops the bridge cleanly.
import type * as vscode from 'vscode';
import { Container } from './views/container';

let container: Container | undefined;

export function activate(context: vscode.ExtensionContext): void {
  container = new Container(context);
  // Disposed by VS Code after deactivate() if deactivate did not get to it.
  context.subscriptions.push(container);
  container.activate();
}

export async function deactivate(): Promise<void> {
  const current = container;
  container = undefined;
  // VS Code gives deactivate a few seconds: stop listening, end in-flight streams, flush writes.
  await current?.shutdown();
}
