// What each bundle loads, and when. Activation stays cheap only while dist/extension.js leaves the
// heavy libraries to dist/heavy.js (loaded on first use), and `serve` stays small only while
// sign-in, doctor, the client configurations, the web search, the tokenizer's ranks, express and
// ajv are imported where they are first used. One stray static import pulls them back in; this keeps it
// from happening unnoticed.
import * as esbuild from 'esbuild';
import { getTokenizer } from '@anthropic-ai/tokenizer';
import claude from '@anthropic-ai/tokenizer/claude.json';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Agent, request as undiciRequest } from 'undici';
import type * as Tokens from '../../src/kiro/tokens';
import { describe, expect, it } from 'vitest';
import { nodeBuildOptions, nodePlugins } from '../../build/esbuild-plugins.mjs';

/**
 * The source files a bundle of `entry` holds. With `startUpOnly`, imports made on first use (a
 * dynamic `import()`, or a `require()` inside our code) are left out: what remains is what runs
 * when the bundle loads.
 */
async function bundledInputs(entry: string, options: { startUpOnly?: boolean } = {}): Promise<string[]> {
  const deferred: esbuild.Plugin = {
    name: 'leave-out-deferred-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) =>
        args.kind === 'dynamic-import' || (args.kind === 'require-call' && /(^|\/)src\//.test(args.importer)) ? { path: args.path, external: true } : undefined,
      );
    },
  };
  const result = await esbuild.build({
    ...nodeBuildOptions({ production: true }),
    entryPoints: [entry],
    write: false,
    outfile: 'out.js',
    external: ['vscode'],
    plugins: options.startUpOnly ? [deferred, ...nodePlugins] : nodePlugins,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

const HEAVY = ['node_modules/undici/', 'node_modules/express/', 'node_modules/@anthropic-ai/tokenizer/', 'src/kiro/bpe.ts'];

/** Parts loaded on first use, by the CLI and by heavy.js. */
const ON_FIRST_USE = [
  'src/kiro/signin/flow.ts',
  'src/cli/doctor.ts',
  'src/cli/configure.ts',
  'src/clients/client-config.ts',
  'src/bridge/web-search/web-search.ts',
  'src/kiro/http/web-search.ts',
  'node_modules/@anthropic-ai/tokenizer/claude.json',
  // Only parameterised routes, /health and the 404 need express; structured output needs ajv.
  'node_modules/express/',
  'node_modules/ajv/',
];

const has = (inputs: string[], part: string) => inputs.some((f) => f.includes(part));

describe('extension bundle split', () => {
  it('keeps express, undici and the tokenizer out of extension.js', async () => {
    const inputs = await bundledInputs('src/extension.ts');
    expect(inputs.some((f) => f.startsWith('src/views/container'))).toBe(true);
    for (const heavy of HEAVY)
      expect(
        inputs.filter((f) => f.includes(heavy)),
        heavy,
      ).toEqual([]);
  });

  it('has them in heavy.js', async () => {
    const inputs = await bundledInputs('src/views/heavy-modules.ts');
    for (const heavy of HEAVY) expect(has(inputs, heavy), heavy).toBe(true);
  });
});

describe('parts loaded on first use', () => {
  it('are in the CLI bundle, and none of them runs when it loads', async () => {
    const all = await bundledInputs('src/cli.ts');
    const startUp = await bundledInputs('src/cli.ts', { startUpOnly: true });
    for (const part of ON_FIRST_USE) {
      expect(has(all, part), part).toBe(true);
      expect(has(startUp, part), part).toBe(false);
    }
  });

  it('are in heavy.js too (sign-in, web search, the ranks), loaded on first use', async () => {
    const all = await bundledInputs('src/views/heavy-modules.ts');
    const startUp = await bundledInputs('src/views/heavy-modules.ts', { startUpOnly: true });
    expect(has(startUp, 'src/bridge/http/server.ts')).toBe(true);
    for (const part of ON_FIRST_USE.filter((p) => has(all, p))) expect(has(startUp, part), part).toBe(false);
    for (const part of ['src/kiro/signin/flow.ts', 'src/bridge/web-search/web-search.ts', 'node_modules/@anthropic-ai/tokenizer/claude.json'])
      expect(has(all, part), part).toBe(true);
  });

  it('leave serve with the bridge and nothing else', async () => {
    const startUp = await bundledInputs('src/cli/serve.ts', { startUpOnly: true });
    expect(has(startUp, 'src/bridge/http/server.ts')).toBe(true);
    expect(has(startUp, 'src/kiro/tokens.ts')).toBe(true);
    for (const part of ON_FIRST_USE) expect(has(startUp, part), part).toBe(false);
    // The accounts machinery shares sign-in's endpoints and profile discovery; the flows stay out.
    const flows = ['flow', 'sso-oidc', 'kiro-social', 'loopback', 'pkce', 'verify', 'registration-cache'].map((name) => `src/kiro/signin/${name}.ts`);
    expect(startUp.filter((f) => flows.includes(f))).toEqual([]);
  });

  it('leave config without the accounts service and the HTTP client', async () => {
    const startUp = await bundledInputs('src/cli/config-command.ts', { startUpOnly: true });
    expect(has(startUp, 'src/cli/settings.ts')).toBe(true);
    for (const part of ['src/kiro/accounts/', 'src/cli/accounts.ts', 'node_modules/undici/', 'build/undici-subset.cjs'])
      expect(has(startUp, part), part).toBe(false);
  });
});

describe('the tokenizer in the bundles', () => {
  it('carries the ranks compact and counts what Anthropic’s package counts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kiro-tokens-bundle-'));
    try {
      const outfile = path.join(dir, 'tokens.js');
      await esbuild.build({ ...nodeBuildOptions({ production: true }), entryPoints: ['src/kiro/tokens.ts'], outfile, logLevel: 'silent' });
      const source = readFileSync(outfile, 'utf8');
      // Not tiktoken's rank list (base64 tokens separated by spaces) but the compact form.
      expect(source).not.toContain(claude.bpe_ranks.slice(0, 40));
      expect(source).toContain('firstRank');
      const bundled = createRequire(__filename)(outfile) as typeof Tokens;
      expect(bundled.tokenizerLoaded()).toBe(false);
      const reference = getTokenizer();
      for (const text of ['Hello, how are you today?', 'function add(a, b) {\n  return a + b;\n}', '你好 🎉 <EOT>', 'ﬁ'.repeat(50)]) {
        expect(bundled.countTextUncached(text), text).toBe(reference.encode(text.normalize('NFKC'), 'all').length);
      }
      reference.free();
      expect(bundled.tokenizerLoaded()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the undici stand-in', () => {
  const requireHere = createRequire(__filename);
  const undici = requireHere('undici') as Record<string, unknown>;
  const subset = requireHere('../../build/undici-subset.cjs') as Record<string, unknown>;

  it('hands out undici’s own classes and helpers', () => {
    for (const name of ['Dispatcher', 'Agent', 'EnvHttpProxyAgent', 'errors', 'getGlobalDispatcher', 'setGlobalDispatcher']) {
      expect(subset[name], name).toBeDefined();
      expect(subset[name], name).toBe(undici[name]);
    }
  });

  it('makes requests like undici’s request()', async () => {
    const server = createServer((req, res) => res.end(`${req.method} ${req.url}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const agent = new (undici.Agent as typeof Agent)();
    try {
      const request = subset.request as typeof undiciRequest;
      const answer = await request(`${base}/a?b=1`, { method: 'POST', body: 'x', dispatcher: agent });
      expect([answer.statusCode, await answer.body.text()]).toEqual([200, 'POST /a?b=1']);
      // undici's types leave out `path`, which its request() takes (joined to the origin of the URL).
      const withPath = await request(base, { path: 'c', dispatcher: agent } as never);
      expect(await withPath.body.text()).toBe('GET /c');
      expect(() => request(base, { agent } as never)).toThrow(/unsupported opts.agent/);
    } finally {
      await agent.close();
      server.close();
    }
  });

  it('covers every undici export our code imports', async () => {
    const inputs = await bundledInputs('src/cli.ts');
    // Bundled: the stand-in, never undici's index with fetch, WebSocket and the cache stores.
    expect(has(inputs, 'build/undici-subset.cjs')).toBe(true);
    expect(inputs.filter((f) => /node_modules\/undici\/(index\.js|lib\/web\/(fetch\/index|websocket|cache|cookies)|lib\/(mock|cache)\/)/.test(f))).toEqual([]);
    const imported = new Set<string>();
    for (const file of inputs.filter((f) => f.startsWith('src/'))) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'undici'/g)) {
        for (const name of match[1]!.split(',')) {
          const trimmed = name.trim();
          if (trimmed && !trimmed.startsWith('type ')) imported.add(trimmed.split(/\s+as\s+/)[0]!);
        }
      }
    }
    expect(imported.size).toBeGreaterThan(0);
    for (const name of imported) expect(subset[name], name).toBeDefined();
  });
});
