// Loads views/heavy-modules once. In the packaged extension (esbuild defines
// process.env.KIRO_BRIDGE_BUILD) it is the separate bundle dist/heavy.js next to extension.js; the
// other branch is removed by esbuild, so the heavy code is not in extension.js at all. Under the
// test runner the module is imported from source.
import * as path from 'node:path';
import type * as Heavy from './heavy-modules';

export type HeavyModules = typeof Heavy;

let loading: Promise<HeavyModules> | undefined;

export function loadHeavyModules(): Promise<HeavyModules> {
  loading ??= process.env.KIRO_BRIDGE_BUILD
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- a runtime path that esbuild must leave alone
      Promise.resolve().then(() => require(path.join(__dirname, 'heavy.js')) as HeavyModules)
    : import('./heavy-modules');
  return loading;
}
