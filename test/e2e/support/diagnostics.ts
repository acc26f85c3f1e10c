// What a failing e2e test prints: a screenshot of every window, the browser's console errors, the
// code-server log, the extension host logs and the extension's output channel(s). All logs are also
// copied to test-output/e2e/logs/<test>/ so CI can keep them.
import * as path from 'node:path';
import { afterEach } from 'vitest';
import type { CodeServer } from './code-server';
import { outputDir } from './paths';
import type { Workbench } from './workbench';

export interface DiagnosticsSubject {
  server?: CodeServer | undefined;
  windows?: (Workbench | undefined)[];
  /** Output channels to print, by name (e.g. the extension's "Kiro Bridge"). */
  outputChannels?: string[];
}

const logLines = { server: 200, extensionHost: 80, channel: 300, console: 30 };

/** Prints everything that helps explain a failure (see the file comment). Never throws. */
export async function printDiagnostics(label: string, subject: DiagnosticsSubject): Promise<void> {
  const out: string[] = [`\n######## e2e diagnostics: ${label} ########`];
  const section = (title: string, body: string) => out.push(`\n===== ${title} =====\n${body.trimEnd()}`);
  const slug = label.replace(/[^\w.-]+/g, '-').slice(0, 80);

  for (const [i, window] of (subject.windows ?? []).entries()) {
    if (!window || window.page.isClosed()) continue;
    const shot = await window.screenshot(`FAILED-${slug}-window${i + 1}`).catch((e: Error) => `screenshot failed: ${e.message}`);
    section(`window ${i + 1} (${window.folder})`, `screenshot: ${shot}`);
    if (window.consoleErrors.length > 0) section(`window ${i + 1} console errors`, tail(window.consoleErrors.join('\n'), logLines.console));
  }

  const server = subject.server;
  if (server) {
    try {
      section('code-server log', tail(server.log(), logLines.server));
      for (const log of server.extensionHostLogs()) section(log.file, tail(log.text, logLines.extensionHost));
      for (const channel of subject.outputChannels ?? []) {
        const logs = server.outputChannelLogs(channel);
        if (logs.length === 0) section(`output channel "${channel}"`, '(none: the extension never created it)');
        for (const log of logs) section(`output channel "${channel}" (${log.file})`, tail(log.text, logLines.channel));
      }
      const saved = path.join(outputDir, 'logs', slug);
      server.saveLogs(saved);
      out.push(`\nlogs saved to ${saved}`);
    } catch (error) {
      section('collecting logs failed', String(error));
    }
  }
  console.error(out.join('\n'));
}

/**
 * Registers an afterEach that prints diagnostics when a test of the file fails. Steps of one
 * scenario usually fail in a cascade, so the full dump comes once, for the first failure.
 */
export function printDiagnosticsOnFailure(subject: () => DiagnosticsSubject): void {
  let printed = false;
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    if (printed) {
      console.error(`e2e: "${context.task.name}" failed too; diagnostics were printed for the first failure`);
      return;
    }
    printed = true;
    await printDiagnostics(context.task.name, subject());
  });
}

function tail(text: string, lines: number): string {
  const all = text.split('\n');
  return all.length <= lines ? text : [`… (${all.length - lines} earlier lines omitted)`, ...all.slice(-lines)].join('\n');
}
