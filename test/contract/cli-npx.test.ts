// The npm package as a user gets it: `npm pack` of this package.json (its .npmignore decides what
// ships), installed with --offline into an empty folder — which only works because the package has
// no runtime dependencies — then `npx kiro-bridge --version` and `npx kiro-bridge serve` against
// the fake upstream, one OpenAI SDK request, and SIGTERM sent to npx itself.
//
// The package is staged in a temporary folder (package.json, .npmignore, README, LICENSE,
// CHANGELOG, a fresh minified bundle, and decoys that must not ship) so that packing never reads
// a dist/ another test is rebuilding; `npm pack --ignore-scripts` skips the prepack build for the
// same reason.
import OpenAI from 'openai';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, textReply, type FakeUpstream } from '../support/fake-upstream';
import { buildCli, killChildren, root, spawnWith, tempHome, waitServing } from './cli-harness';

const run = promisify(execFile);
const KEY = 'kb-npx-test-key-0123456789abcdefghij';
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
  name: string;
  dependencies?: object;
  bin: Record<string, string>;
};

let upstream: FakeUpstream;
let home: ReturnType<typeof tempHome>;
let tarball: string;
let packedFiles: string[];
let app: string;
/** The bridge process under npx (from /health), killed after the tests if it is still there. */
let bridgePid: number | undefined;

/** npm with nothing from the caller's npm configuration, its own cache, and no update check. */
function npmEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home.home,
    npm_config_cache: path.join(home.home, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
}

beforeAll(async () => {
  upstream = await startFakeUpstream({ accounts: [{ kind: 'social' }] });
  home = tempHome();
  const stage = path.join(home.home, 'stage');
  mkdirSync(path.join(stage, 'dist'), { recursive: true });
  for (const file of ['package.json', '.npmignore', 'README.md', 'LICENSE', 'CHANGELOG.md']) copyFileSync(path.join(root, file), path.join(stage, file));
  const built = await buildCli({ production: true });
  copyFileSync(built.cli, path.join(stage, 'dist', 'cli.js'));
  built.dispose();
  // What a developer's tree also holds and the package must leave out.
  for (const decoy of [
    'dist/cli.js.map',
    'dist/extension.js',
    'dist/heavy.js',
    'src/cli.ts',
    'media/dist/traffic.js',
    `kiro-bridge-${pkg.version}.vsix`,
    'test/x.test.ts',
  ]) {
    mkdirSync(path.dirname(path.join(stage, decoy)), { recursive: true });
    writeFileSync(path.join(stage, decoy), 'decoy');
  }
  const packs = path.join(home.home, 'packs');
  mkdirSync(packs);
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packs], { cwd: stage, env: npmEnv() });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(packs, packed!.filename);
  packedFiles = packed!.files.map((f) => f.path).sort();

  app = path.join(home.home, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'empty-app', version: '1.0.0', private: true }));
  // --offline: nothing may need the registry.
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app, env: npmEnv() });
}, 120_000);

afterAll(async () => {
  killChildren();
  if (bridgePid) {
    try {
      process.kill(bridgePid, 'SIGKILL');
    } catch {
      // Gone already, as it should be.
    }
  }
  await upstream.close();
  home.dispose();
});

describe('the npm package', () => {
  it('ships only the bundle, README, LICENSE, CHANGELOG and package.json, and depends on nothing', () => {
    expect(packedFiles).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'dist/cli.js', 'package.json']);
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.bin).toEqual({ 'kiro-bridge': 'dist/cli.js' });
    // Installed offline into an empty folder: the package and nothing else.
    expect(readdirSync(path.join(app, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual(['kiro-bridge']);
    expect(existsSync(path.join(app, 'node_modules', 'kiro-bridge', 'node_modules'))).toBe(false);
    expect(readFileSync(path.join(app, 'node_modules', 'kiro-bridge', 'dist', 'cli.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('npx kiro-bridge --version prints the package version', async () => {
    const { stdout } = await run('npx', ['--offline', 'kiro-bridge', '--version'], { cwd: app, env: npmEnv() });
    expect(stdout).toBe(`${pkg.version}\n`);
  });

  it('npx kiro-bridge serve answers the OpenAI SDK, and stops when npx gets SIGTERM', async () => {
    const npx = spawnWith(
      'npx',
      ['--offline', 'kiro-bridge', 'serve', '--port', '0'],
      home.home,
      {
        ...npmEnv(),
        KIRO_AUTH_TOKEN: upstream.kiroAuthToken(),
        KIRO_BRIDGE_API_KEY: KEY,
        KIRO_BRIDGE_UPSTREAM_BASE: upstream.baseUrl,
      },
      { cwd: app },
    );
    const bridge = await waitServing(npx);
    bridgePid = ((await (await fetch(`${bridge.url}/health`)).json()) as { pid: number }).pid;
    expect(bridgePid).not.toBe(npx.child.pid);
    upstream.scriptNext(textReply('Hello from npx.'));
    const client = new OpenAI({ baseURL: `${bridge.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]!.message.content).toBe('Hello from npx.');

    // npx runs the bin through a shell that does not pass SIGTERM on; the bridge notices that
    // npm is gone and stops by itself, releasing the port.
    npx.child.kill('SIGTERM');
    await npx.exit;
    await expect
      .poll(
        () =>
          fetch(`${bridge.url}/health`).then(
            () => 'listening',
            () => 'stopped',
          ),
        { timeout: 10_000, interval: 200 },
      )
      .toBe('stopped');
  });
});
