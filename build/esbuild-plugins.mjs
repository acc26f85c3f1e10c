// The esbuild plugins every Node bundle uses (esbuild.mjs, and the tests that bundle the CLI the
// same way): stand-ins for dependencies whose full size the bridge never uses.
import { fileURLToPath } from 'node:url';

function substitute(name, file) {
  const path = fileURLToPath(new URL(file, import.meta.url));
  const filter = new RegExp(`^${name}$`);
  return { name: `${name}-subset`, setup: (build) => build.onResolve({ filter }, () => ({ path })) };
}

/** @type {import('esbuild').Plugin[]} */
export const nodePlugins = [
  // express's iconv-lite (~480 KB of code-page tables) → the subset the bridge can reach.
  substitute('iconv-lite', './iconv-lite-subset.cjs'),
  // undici's index (fetch, WebSocket, caches, mocks: ~9 MB of memory once loaded) → the parts the bridge uses.
  substitute('undici', './undici-subset.cjs'),
];
