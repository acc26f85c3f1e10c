// Debian's Chromium driven by playwright-core (never a browser download).
import { chromium, type Browser } from 'playwright-core';
import { chromiumPath, requireTool } from './paths';

/**
 * Flags verified on these machines: no sandbox (CI runs as root), no GPU, and none of Chromium's
 * background connections, which this machine's closed network refuses many at a time.
 */
export const chromiumArgs: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Headless unless E2E_HEADED=1 (needs a display); E2E_SLOWMO=<ms> slows every action down. */
export async function launchChromium(): Promise<Browser> {
  requireTool(chromiumPath, 'Chromium');
  const slowMo = Number(process.env.E2E_SLOWMO ?? 0);
  return chromium.launch({
    executablePath: chromiumPath,
    args: [...chromiumArgs],
    headless: process.env.E2E_HEADED !== '1',
    ...(slowMo > 0 ? { slowMo } : {}),
  });
}
