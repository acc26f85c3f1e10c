// The code-server and Chromium one e2e file runs on: the packaged VSIX is built (or taken from
// E2E_VSIX), code-server is launched with it and Chromium started before the file's tests, and both
// are closed after them; a failing test prints the diagnostics of the windows the file opened.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium } from './browser';
import type { CodeServer } from './code-server';
import { printDiagnosticsOnFailure } from './diagnostics';
import { extension, packageVsix } from './vsix';
import type { Workbench } from './workbench';

export interface VsCodeSessionOptions {
  /** Launches code-server with the packaged VSIX installed. */
  launch: (vsix: string) => Promise<CodeServer>;
  /** The workbench windows the tests opened (for the diagnostics). */
  windows: () => (Workbench | undefined)[];
  /** Runs once code-server and Chromium are closed. */
  afterClose?: () => Promise<void>;
}

/** Registers the file's set-up and tear-down; returns code-server and Chromium (throws if they did not start). */
export function useVsCode(options: VsCodeSessionOptions): () => { server: CodeServer; browser: Browser } {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;

  printDiagnosticsOnFailure(() => ({ server, windows: options.windows(), outputChannels: [extension.displayName] }));

  beforeAll(async () => {
    server = await options.launch(packageVsix());
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
    await options.afterClose?.();
  });

  return () => {
    if (!server || !browser) throw new Error('code-server or Chromium did not start');
    return { server, browser };
  };
}
