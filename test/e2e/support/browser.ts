// Debian's Chromium driven by playwright-core (never a browser download).
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ownedTempDir } from './owned-temp';
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

/**
 * Headless unless E2E_HEADED=1 (needs a display); E2E_SLOWMO=<ms> slows every action down.
 * Chromium writes crash reports and caches under HOME/XDG folders even with its own profile
 * folder, so it gets temporary ones, deleted when the browser closes.
 */
export async function launchChromium(): Promise<Browser> {
  requireTool(chromiumPath, 'Chromium');
  const home = ownedTempDir('chromium');
  const slowMo = Number(process.env.E2E_SLOWMO ?? 0);
  try {
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [...chromiumArgs],
      headless: process.env.E2E_HEADED !== '1',
      env: {
        ...process.env,
        HOME: home,
        XDG_CONFIG_HOME: path.join(home, 'config'),
        XDG_CACHE_HOME: path.join(home, 'cache'),
        XDG_DATA_HOME: path.join(home, 'data'),
      },
      ...(slowMo > 0 ? { slowMo } : {}),
    });
    browser.on('disconnected', () => rmSync(home, { recursive: true, force: true }));
    return browser;
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
}
