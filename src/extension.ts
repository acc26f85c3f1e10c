import type * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // Composition root arrives with the extension issue; activation stays cheap.
}

export function deactivate(): void {}
