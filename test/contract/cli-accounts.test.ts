// The built CLI as a user runs it, with accounts saved by `kiro-bridge accounts …`: import the
// Kiro IDE's login, serve from the saved accounts, follow an account added by another process while
// serving, and fall back to the IDE's login when nothing is saved. The CLI is bundled to a temporary
// file of its own (so this file never races another test's build of dist/).
import Anthropic from '@anthropic-ai/sdk';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KIRO_IDE_TOKEN_FILE } from '../../src/kiro/accounts/kiro-ide';
import { startFakeUpstream, textReply, type FakeUpstream } from '../support/fake-upstream';
import { buildCli } from './cli-harness';

const root = path.resolve(__dirname, '..', '..');
const KEY = 'kb-cli-accounts-test-key-0123456789ab';
let built: Awaited<ReturnType<typeof buildCli>>;
let cli: string;
let upstream: FakeUpstream;
let home: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // The same bundle as dist/cli.js (the build's plugins included), in a folder of its own.
  built = await buildCli();
  cli = built.cli;
}, 60_000);
afterAll(() => built.dispose());

beforeEach(async () => {
  upstream = await startFakeUpstream({ accounts: [{ label: 'ide-user' }, { label: 'extra' }] });
  home = mkdtempSync(path.join(tmpdir(), 'kiro-cli-home-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await upstream.close();
  rmSync(home, { recursive: true, force: true });
});

function run(args: string[], stdin?: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      KIRO_BRIDGE_CONFIG_DIR: path.join(home, 'config'),
      KIRO_BRIDGE_API_KEY: KEY,
      KIRO_BRIDGE_UPSTREAM_BASE: upstream.baseUrl,
      ...extraEnv,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  if (stdin !== undefined) child.stdin!.end(stdin);
  else child.stdin!.end();
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function serve(extraEnv: NodeJS.ProcessEnv = {}) {
  const started = run(['serve', '--port', '0'], undefined, extraEnv);
  // The summary (accounts and credits) follows the "listening on" line once the accounts are checked.
  await expect
    .poll(() => (/More clients/.test(started.out()) ? 'summary' : started.child.exitCode !== null ? 'exited' : undefined), { timeout: 15_000 })
    .toBeDefined();
  const url = /listening on (http:\/\/\S+)/.exec(started.out())?.[1];
  if (!url) throw new Error(`serve did not start:\n${started.out()}\n${started.err()}`);
  return { ...started, url, client: new Anthropic({ baseURL: url, apiKey: KEY, maxRetries: 0 }) };
}

function writeIdeLogin(): string {
  const cache = path.join(home, '.aws', 'sso', 'cache');
  mkdirSync(cache, { recursive: true });
  writeFileSync(path.join(cache, KIRO_IDE_TOKEN_FILE), JSON.stringify(upstream.accounts[0]!.kiroIdeTokenFile()));
  return cache;
}

function noSecrets(text: string): void {
  for (const account of upstream.accounts) {
    expect(text).not.toContain(account.refreshToken);
    for (const token of account.accessTokensIssued) expect(text).not.toContain(token);
  }
  expect(text).not.toContain(KEY);
}

const ask = { model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user' as const, content: 'hi' }] };

describe('kiro-bridge accounts and serve', () => {
  it('imports the IDE login, lists it, serves from it, and sees an account another process adds', async () => {
    const cache = writeIdeLogin();
    const imported = run(['accounts', 'import-kiro', '--cache-dir', cache]);
    expect(await imported.exit).toBe(0);
    expect(imported.out()).toContain('Imported the Kiro IDE login: ide-user@example.com (Social)');

    const listed = run(['accounts', 'list']);
    expect(await listed.exit).toBe(0);
    expect(listed.out()).toMatch(/1\*?\s+ide-user@example\.com\s+Social\s+kiro-ide\s+ready\s+50 \/ 50/);

    const bridge = await serve();
    expect(bridge.out()).toMatch(/Accounts\s+1\*?\s+ide-user@example\.com\s+Social, kiro-ide\s+ready/);
    upstream.scriptNext(textReply('served from a saved account'));
    const answer = await bridge.client.messages.create(ask);
    expect(answer.content).toEqual([{ type: 'text', text: 'served from a saved account' }]);

    // Another process saves a second account; the running bridge picks it up from the file.
    const added = run(['accounts', 'add', '--label', 'extra'], `${upstream.accounts[1]!.refreshToken}\n`);
    expect(await added.exit).toBe(0);
    expect(added.out()).toContain('Added extra (Social)');
    // Exhaust the first account: the bridge fails over to the one added while it ran.
    upstream.accounts[0]!.usage.used = 50;
    await expect.poll(async () => (await bridge.client.messages.create(ask)).stop_reason, { timeout: 10_000, interval: 200 }).toBe('end_turn');
    expect(upstream.requestsTo('generate').some((r) => r.account?.id === upstream.accounts[1]!.id && r.status === 200)).toBe(true);

    bridge.child.kill('SIGTERM');
    expect(await bridge.exit).toBe(0);
    const saved = readFileSync(path.join(home, 'config', 'accounts.json'), 'utf8');
    expect(saved).toContain(upstream.accounts[1]!.refreshToken);
    noSecrets(imported.out() + imported.err() + listed.out() + listed.err() + bridge.out() + bridge.err() + added.out() + added.err());
  });

  it('with nothing saved, serve imports the Kiro IDE login from ~/.aws/sso/cache', async () => {
    writeIdeLogin();
    const bridge = await serve();
    expect(bridge.err()).toMatch(/imported the Kiro IDE login \(ide-user@example\.com\)/);
    expect((await bridge.client.messages.create(ask)).stop_reason).toBe('end_turn');
    bridge.child.kill('SIGTERM');
    expect(await bridge.exit).toBe(0);
  });

  it('with no account anywhere, says how to add one and exits 2', async () => {
    const started = run(['serve', '--port', '0']);
    expect(await started.exit).toBe(2);
    expect(started.err()).toMatch(/No Kiro IDE login found/);
    expect(started.err()).toContain('kiro-bridge accounts import-kiro');
    expect(started.err()).toContain('KIRO_AUTH_TOKEN');
  });

  it('Kiro API keys: "accounts add --api-key" reads the key from stdin and saves it; KIRO_API_KEY alone is enough to serve', async () => {
    const saved = upstream.addAccount({ kind: 'apikey', label: 'saved-key' });
    const fromEnv = upstream.addAccount({ kind: 'apikey', label: 'env-key' });
    const added = run(['accounts', 'add', '--api-key'], `${saved.apiKey}\n`);
    expect(await added.exit).toBe(0);
    expect(added.out()).toContain('Added saved-key@example.com (Kiro API key): 50 of 50 credits left.');
    expect(readFileSync(path.join(home, 'config', 'accounts.json'), 'utf8')).toContain(saved.apiKey!);
    rmSync(path.join(home, 'config', 'accounts.json'));

    const bridge = await serve({ KIRO_API_KEY: fromEnv.apiKey! });
    expect(bridge.out()).toMatch(/Accounts\s+1\*?\s+env-key@example\.com\s+ApiKey, env\s+ready/);
    upstream.scriptNext(textReply('served with KIRO_API_KEY'));
    expect((await bridge.client.messages.create(ask)).content).toEqual([{ type: 'text', text: 'served with KIRO_API_KEY' }]);
    expect(upstream.lastGenerate().headers).toMatchObject({ authorization: `Bearer ${fromEnv.apiKey}`, tokentype: 'API_KEY' });
    bridge.child.kill('SIGTERM');
    expect(await bridge.exit).toBe(0);
    const everything = added.out() + added.err() + bridge.out() + bridge.err();
    expect(everything).not.toContain(saved.apiKey!);
    expect(everything).not.toContain(fromEnv.apiKey!);

    const malformed = run(['serve', '--port', '0'], undefined, { KIRO_API_KEY: 'not-a-key' });
    expect(await malformed.exit).toBe(2);
    expect(malformed.err()).toContain('KIRO_API_KEY: a Kiro API key starts with "ksk_"');
  });

  it('rejects an unknown strategy', async () => {
    const started = run(['serve', '--strategy', 'random']);
    expect(await started.exit).toBe(2);
    expect(started.err()).toContain('--strategy must be priority or round-robin');
  });
});
