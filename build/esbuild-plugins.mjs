// The esbuild options and plugins every Node bundle uses (esbuild.mjs, and the tests that bundle
// the CLI the same way): stand-ins for dependencies whose full size the bridge never uses, and the Claude
// tokenizer's rank list in the form it loads from fastest.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

function substitute(name, file) {
  const path = fileURLToPath(new URL(file, import.meta.url));
  const filter = new RegExp(`^${name}$`);
  return { name: `${name}-subset`, setup: (build) => build.onResolve({ filter }, () => ({ path })) };
}

let bpeModule;

/** src/kiro/bpe.ts, bundled and loaded here, so the build converts with the code that reads. */
function loadBpe(esbuild) {
  bpeModule ??= esbuild
    .build({
      entryPoints: [fileURLToPath(new URL('../src/kiro/bpe.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      write: false,
      logLevel: 'silent',
    })
    .then((result) => {
      const module = { exports: {} };
      new Function('module', 'exports', 'require', result.outputFiles[0].text)(module, module.exports, createRequire(import.meta.url));
      return module.exports;
    });
  return bpeModule;
}

/**
 * @anthropic-ai/tokenizer's claude.json with its rank list in compact form (bpe.ts's
 * CompactRanks): the first count decodes it natively instead of token by token.
 */
const compactClaudeRanks = {
  name: 'compact-claude-ranks',
  setup(build) {
    build.onLoad({ filter: /[\\/]@anthropic-ai[\\/]tokenizer[\\/]claude\.json$/ }, async (args) => {
      const { RankTable } = await loadBpe(build.esbuild);
      const definition = JSON.parse(await readFile(args.path, 'utf8'));
      const compact = RankTable.parse(definition.bpe_ranks).toCompact();
      return {
        contents: `module.exports = ${JSON.stringify({ pat_str: definition.pat_str, special_tokens: definition.special_tokens, compact })};`,
        loader: 'js',
      };
    });
  },
};

/** @type {import('esbuild').Plugin[]} */
export const nodePlugins = [
  // express's iconv-lite (~480 KB of code-page tables) → the subset the bridge can reach.
  substitute('iconv-lite', './iconv-lite-subset.cjs'),
  // undici's index (fetch, WebSocket, caches, mocks: ~9 MB of memory once loaded) → the parts the bridge uses.
  substitute('undici', './undici-subset.cjs'),
  compactClaudeRanks,
];

/**
 * The options every Node bundle is built with (esbuild.mjs, and the tests that bundle the CLI or
 * check what a bundle holds): production builds are minified, development ones keep a linked
 * source map. Callers add the entry point and output.
 * @param {{ production: boolean }} options
 * @returns {import('esbuild').BuildOptions}
 */
export function nodeBuildOptions({ production }) {
  return {
    bundle: true,
    plugins: nodePlugins,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: production,
    sourcemap: production ? false : 'linked',
    sourcesContent: false,
    logLevel: 'warning',
    legalComments: 'none',
    define: { 'process.env.KIRO_BRIDGE_BUILD': JSON.stringify(production ? 'production' : 'development') },
  };
}
