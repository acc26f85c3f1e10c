// The built CLI as a user runs it: `node dist/cli.js serve` against the fake upstream, one SDK
// request, SIGTERM, a clean exit. Builds dist/ first (esbuild, a second or two).
import Anthropic from '@anthropic-ai/sdk';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, stallReply, textReply, type FakeUpstream } from '../support/fake-upstream';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const KEY = 'kb-cli-test-key-0123456789abcdefgh';

let upstream: FakeUpstream;
const children: ChildProcess[] = [];
let tempDir: string;

beforeAll(async () => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'pipe' });
  upstream = await startFakeUpstream({ accounts: [{ kind: 'social', rotateRefreshToken: true }] });
  tempDir = mkdtempSync(path.join(tmpdir(), 'kiro-bridge-cli-'));
}, 60_000);

afterAll(async () => {
  await upstream.close();
  rmSync(tempDir, { recursive: true, force: true });
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Running {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[], env: Record<string, string | undefined>): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Running['exit'] } {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    // A home and config folder of its own: never the user's saved accounts or Kiro IDE login.
    env: { PATH: process.env.PATH, HOME: tempDir, KIRO_BRIDGE_CONFIG_DIR: path.join(tempDir, 'config'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function serve(env: Record<string, string | undefined>): Promise<Running> {
  const started = run(['serve', '--port', '0'], env);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const match = /listening on (http:\/\/\S+)/.exec(started.stdout());
    if (match) return { ...started, url: match[1]! };
    if (started.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the CLI did not start:\n${started.stdout()}\n${started.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('kiro-bridge serve', () => {
  it('serves an SDK request and exits cleanly on SIGTERM', async () => {
    const bridge = await serve({
      KIRO_AUTH_TOKEN: upstream.kiroAuthToken(),
      KIRO_BRIDGE_API_KEY: KEY,
      KIRO_BRIDGE_UPSTREAM_BASE: upstream.baseUrl,
    });
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    upstream.scriptNext(textReply('Hello from the CLI test.'));
    const client = new Anthropic({ baseURL: bridge.url, apiKey: KEY, maxRetries: 0 });
    const message = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the CLI test.' }]);

    bridge.child.kill('SIGTERM');
    const { code } = await bridge.exit;
    expect(code).toBe(0);
    // One line per finished request on stderr, and nothing secret anywhere.
    expect(bridge.stderr()).toMatch(/200 POST \/v1\/messages claude-sonnet-4-6→claude-sonnet-4\.6 .*Anthropic SDK \(JS\)/);
    expect(bridge.stderr()).toContain('stopped');
    const everything = bridge.stdout() + bridge.stderr();
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain(upstream.account.refreshToken);
  });

  it('ends an open stream with an error event on SIGINT, then exits', async () => {
    const bridge = await serve({
      KIRO_AUTH_TOKEN: upstream.kiroAuthToken(),
      KIRO_BRIDGE_API_KEY: KEY,
      KIRO_BRIDGE_UPSTREAM_BASE: upstream.baseUrl,
    });
    upstream.scriptNext(stallReply('streaming forever'));
    const client = new Anthropic({ baseURL: bridge.url, apiKey: KEY, maxRetries: 0 });
    const stream = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const iterator = stream[Symbol.asyncIterator]();
    for (;;) {
      const next = await iterator.next();
      if (next.done || next.value.type === 'content_block_delta') break;
    }
    bridge.child.kill('SIGINT');
    const error = await (async () => {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return undefined;
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((await bridge.exit).code).toBe(0);
  });

  it('prints a generated key when KIRO_BRIDGE_API_KEY is unset, and keeps a rotated refresh token in the credentials file', async () => {
    const file = path.join(tempDir, 'accounts.json');
    writeFileSync(file, upstream.kiroAuthToken());
    const bridge = await serve({ KIRO_AUTH_TOKEN: file, KIRO_BRIDGE_UPSTREAM_BASE: upstream.baseUrl });
    const key = /API key[^:]*: (kb-\S+)/.exec(bridge.stdout())?.[1];
    expect(key).toBeDefined();
    const client = new Anthropic({ baseURL: bridge.url, apiKey: key!, maxRetries: 0 });
    await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
    // The fake rotates on every refresh; the file must now hold the token that works.
    const deadline = Date.now() + 5000;
    let saved: { refreshToken: string; machineId?: string }[] = [];
    while (Date.now() < deadline) {
      saved = JSON.parse(readFileSync(file, 'utf8')) as typeof saved;
      if (saved[0]!.refreshToken === upstream.account.refreshToken) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(saved[0]!.refreshToken).toBe(upstream.account.refreshToken);
    expect(saved[0]!.machineId).toMatch(/^[0-9a-f]{64}$/);
    bridge.child.kill('SIGTERM');
    expect((await bridge.exit).code).toBe(0);
  });

  it('without credentials says how to provide them and exits non-zero', async () => {
    const started = run(['serve'], {});
    const { code } = await started.exit;
    expect(code).toBe(2);
    expect(started.stderr()).toContain('KIRO_AUTH_TOKEN');
    expect(started.stderr()).toContain('refreshToken');
  });

  it('rejects bad flags with a usage hint', async () => {
    const started = run(['serve', '--port', 'eighty'], { KIRO_AUTH_TOKEN: upstream.kiroAuthToken() });
    expect((await started.exit).code).toBe(2);
    expect(started.stderr()).toContain('--port');
  });

  it('prints help', async () => {
    const started = run(['--help'], {});
    expect((await started.exit).code).toBe(0);
    expect(started.stdout()).toContain('serve');
    expect(started.stdout()).toContain('KIRO_BRIDGE_UPSTREAM_BASE');
  });
});
