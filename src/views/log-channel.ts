// The Logger seam backed by a LogOutputChannel ("Kiro Bridge"): the user picks the level with
// "Developer: Set Log Level…", VS Code adds timestamps. Every line passes through the Redactor
// first, so a secret that slipped into a message still never reaches the channel.
import type * as vscode from 'vscode';
import type { Logger } from '../common/logger';
import type { Redactor } from '../common/redact';

export class OutputChannelLogger implements Logger {
  constructor(
    readonly channel: vscode.LogOutputChannel,
    private readonly redactor: Redactor,
  ) {}

  trace(message: string, ...details: unknown[]): void {
    this.channel.trace(this.line(message, details));
  }

  debug(message: string, ...details: unknown[]): void {
    this.channel.debug(this.line(message, details));
  }

  info(message: string, ...details: unknown[]): void {
    this.channel.info(this.line(message, details));
  }

  warn(message: string, ...details: unknown[]): void {
    this.channel.warn(this.line(message, details));
  }

  error(message: string, ...details: unknown[]): void {
    this.channel.error(this.line(message, details));
  }

  show(): void {
    this.channel.show(true);
  }

  private line(message: string, details: unknown[]): string {
    const extra = details.map((d) => ` ${describe(d)}`).join('');
    return this.redactor.text(message + extra);
  }
}

function describe(detail: unknown): string {
  if (detail instanceof Error) return detail.message;
  if (typeof detail === 'string') return detail;
  try {
    return JSON.stringify(detail);
  } catch {
    return String(detail);
  }
}
