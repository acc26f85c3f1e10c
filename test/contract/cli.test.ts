// The built CLI as a user runs it: `kiro-bridge serve` against the fake upstream, the official
// Anthropic and OpenAI SDKs as clients, the summary screen, the request log in both formats,
// SIGTERM and SIGINT while streams are open, a port already in use, and the usage errors.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createServer, type Server } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, stallReply, textReply, type FakeUpstream } from '../support/fake-upstream';
import { buildCli, killChildren, runCli, tempHome, waitServing, type Serving } from './cli-harness';

const KEY = 'kb-cli-test-key-0123456789abcdefgh';
const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };

let built: Awaited<ReturnType<typeof buildCli>>;
let upstream: FakeUpstream;
let home: ReturnType<typeof tempHome>;

beforeAll(async () => {
  built = await buildCli();
}, 60_000);

afterAll(() => built.dispose());

beforeEach(async () => {
  upstream = await startFakeUpstream({ accounts: [{ kind: 'social', rotateRefreshToken: true }] });
  home = tempHome();
});

afterEach(async () => {
  killChildren();
  await upstream.close();
  home.dispose();
});

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { KIRO_AUTH_TOKEN: upstream.kiroAuthToken(), KIRO_BRIDGE_API_KEY: KEY, KIRO_BRIDGE_UPSTREAM_BASE: upstream.baseUrl, ...extra };
}

async function serve(args: string[] = [], extra: Record<string, string | undefined> = {}): Promise<Serving> {
  return waitServing(runCli(built.cli, ['serve', '--port', '0', ...args], home.home, env(extra)));
}

function email(): string {
  return `${upstream.account.label}@example.com`;
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function noSecrets(text: string): void {
  expect(text).not.toContain(KEY);
  expect(text).not.toContain(upstream.account.refreshToken);
  for (const token of upstream.account.accessTokensIssued) expect(text).not.toContain(token);
}

async function readUntil(iterator: AsyncIterator<unknown>, done: (value: unknown) => boolean): Promise<void> {
  for (;;) {
    const next = await iterator.next();
    if (next.done || done(next.value)) return;
  }
}

async function drain(iterator: AsyncIterator<unknown>): Promise<unknown> {
  try {
    for (;;) if ((await iterator.next()).done) return undefined;
  } catch (error) {
    return error;
  }
}

describe('kiro-bridge serve', () => {
  it('prints the summary, serves both SDKs (plain and streamed), logs one line per request and exits 0 on SIGTERM', async () => {
    const bridge = await serve();
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const summary = bridge.out();
    expect(summary).toContain(`Kiro Bridge ${pkg.version} listening on ${bridge.url}`);
    // The key from the environment is only hinted at; the client lines refer to the variable.
    expect(summary).toMatch(/API key\s+kb-…[\w-]{4}\s+\(KIRO_BRIDGE_API_KEY\)/);
    expect(summary).toContain(`export ANTHROPIC_BASE_URL='${bridge.url}'`);
    expect(summary).toContain('export ANTHROPIC_AUTH_TOKEN="$KIRO_BRIDGE_API_KEY"');
    expect(summary).toContain(`export OPENAI_BASE_URL='${bridge.url}/v1'`);
    expect(summary).toContain('export OPENAI_API_KEY="$KIRO_BRIDGE_API_KEY"');
    // The account with the credits the first check found.
    expect(summary).toMatch(
      new RegExp(`Accounts\\s+1\\*?\\s+${escaped(email())}\\s+Social, env\\s+ready\\s+50 of 50 credits left, resets \\d{4}-\\d\\d-\\d\\d`),
    );
    // Plain output through a pipe: no colour codes.
    expect(summary).not.toContain('\u001b[');

    const anthropic = new Anthropic({ baseURL: bridge.url, apiKey: KEY, maxRetries: 0 });
    upstream.scriptNext(textReply('Hello from the CLI test.'));
    const message = await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the CLI test.' }]);

    const openai = new OpenAI({ baseURL: `${bridge.url}/v1`, apiKey: KEY, maxRetries: 0 });
    upstream.scriptNext(textReply('Hello, OpenAI.'));
    const completion = await openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]!.message.content).toBe('Hello, OpenAI.');

    upstream.scriptNext(textReply('Streamed.', { chunks: 3 }));
    const stream = await openai.chat.completions.create({ model: 'claude-sonnet-4-5', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Streamed.');

    bridge.child.kill('SIGTERM');
    expect((await bridge.exit).code).toBe(0);
    const log = bridge.err();
    expect(log).toMatch(
      new RegExp(
        `200 POST /v1/messages claude-sonnet-4-6→claude-sonnet-4\\.6 end_turn \\d+ms in=\\d+ out=\\d+ .*acct=${escaped(email())} Anthropic SDK \\(JS\\)`,
      ),
    );
    expect(log).toMatch(/200 POST \/v1\/chat\/completions claude-sonnet-4-5→claude-sonnet-4\.5 end_turn .*OpenAI SDK \(JS\)/);
    expect(log).toMatch(/200 POST \/v1\/chat\/completions claude-sonnet-4-5→claude-sonnet-4\.5 stream end_turn \d+ms ttft=\d+ms/);
    expect(log.match(/ POST \/v1\//g)).toHaveLength(3);
    expect(log).toContain('stopped');
    noSecrets(bridge.out() + bridge.err());
  });

  it('--log-format json writes one JSON object a line, with the request fields and nothing secret', async () => {
    const bridge = await serve(['--log-format', 'json']);
    upstream.scriptNext(textReply('json log'));
    const openai = new OpenAI({ baseURL: `${bridge.url}/v1`, apiKey: KEY, maxRetries: 0 });
    await openai.responses.create({ model: 'claude-sonnet-4-5', input: 'hi' });
    // A request with a wrong key is logged too (401), without the key it carried.
    const wrong = new OpenAI({ baseURL: `${bridge.url}/v1`, apiKey: 'kb-wrong-key-0123456789abcdefghij', maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    bridge.child.kill('SIGTERM');
    expect((await bridge.exit).code).toBe(0);

    const lines = bridge.err().trim().split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const entry of parsed) {
      expect(typeof entry.time).toBe('string');
      expect(['debug', 'info', 'warn', 'error']).toContain(entry.level);
    }
    const requests = parsed.filter((e) => e.msg === 'request');
    const served = requests.find((e) => e.path === '/v1/responses')!;
    expect(served).toMatchObject({
      level: 'info',
      method: 'POST',
      api: 'responses',
      model: 'claude-sonnet-4-5',
      kiroModel: 'claude-sonnet-4.5',
      account: email(),
      status: 200,
      stopReason: 'end_turn',
      stream: false,
      attempts: 1,
      retried: false,
    });
    expect(served.durationMs).toEqual(expect.any(Number));
    expect(served.inputTokens).toEqual(expect.any(Number));
    expect(served.outputTokens).toEqual(expect.any(Number));
    const refused = requests.find((e) => e.status === 401)!;
    expect(refused).toMatchObject({ level: 'warn', method: 'GET', path: '/v1/models' });
    expect(bridge.err()).not.toContain('kb-wrong-key-0123456789abcdefghij');
    noSecrets(bridge.out() + bridge.err());
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s ends the open streams of both APIs with an error, then exits 0', async (signal) => {
    const bridge = await serve();
    const anthropic = new Anthropic({ baseURL: bridge.url, apiKey: KEY, maxRetries: 0 });
    const openai = new OpenAI({ baseURL: `${bridge.url}/v1`, apiKey: KEY, maxRetries: 0 });
    upstream.scriptNext(stallReply('streaming forever'), stallReply('streaming forever too'));
    const first = (await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'hi' }] }))[
      Symbol.asyncIterator
    ]();
    await readUntil(first, (event) => (event as { type: string }).type === 'content_block_delta');
    const second = (await openai.chat.completions.create({ model: 'claude-sonnet-4-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }))[
      Symbol.asyncIterator
    ]();
    await readUntil(second, (chunk) => Boolean((chunk as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content));

    bridge.child.kill(signal);
    const [anthropicError, openaiError] = await Promise.all([drain(first), drain(second)]);
    expect(anthropicError).toBeInstanceOf(Anthropic.APIError);
    expect(openaiError).toBeInstanceOf(OpenAI.APIError);
    expect(await bridge.exit).toEqual({ code: 0, signal: null });
    expect(bridge.err()).toContain(`${signal} received, stopping (2 request(s) in flight)`);
  });

  it('exits 1 with a clear message when the port is taken, naming another Kiro Bridge when that is who holds it', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const taken = runCli(built.cli, ['serve', '--port', String(port)], home.home, env());
      expect((await taken.exit).code).toBe(1);
      expect(taken.err()).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(taken.err()).toMatch(new RegExp(`Fix: pick another port with --port ${port + 1}`));
      expect(taken.out()).not.toContain('listening');
    } finally {
      blocker.close();
    }

    const first = await serve();
    const firstPort = new URL(first.url).port;
    const second = runCli(built.cli, ['serve', '--port', firstPort], home.home, env());
    expect((await second.exit).code).toBe(1);
    expect(second.err()).toMatch(/a Kiro Bridge \d+\.\d+\.\d+ already serves there/);
    first.child.kill('SIGTERM');
    expect((await first.exit).code).toBe(0);
  });

  it('generates and prints a key when none is set, and keeps a rotated refresh token in the credentials file', async () => {
    const file = path.join(home.home, 'accounts.json');
    writeFileSync(file, upstream.kiroAuthToken());
    const bridge = await serve([], { KIRO_AUTH_TOKEN: file, KIRO_BRIDGE_API_KEY: undefined });
    const key = /API key\s+(kb-\S+)/.exec(bridge.out())?.[1];
    expect(key).toMatch(/^kb-[\w-]{40,}$/);
    expect(bridge.out()).toContain('generated for this run');
    expect(bridge.out()).toContain(`export ANTHROPIC_AUTH_TOKEN='${key}'`);
    const client = new Anthropic({ baseURL: bridge.url, apiKey: key!, maxRetries: 0 });
    await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
    // The fake rotates on every refresh; the file must now hold the token that works.
    await expect
      .poll(() => (JSON.parse(readFileSync(file, 'utf8')) as { refreshToken: string }[])[0]!.refreshToken, { timeout: 5000 })
      .toBe(upstream.account.refreshToken);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { machineId?: string }[];
    expect(saved[0]!.machineId).toMatch(/^[0-9a-f]{64}$/);
    bridge.child.kill('SIGTERM');
    expect((await bridge.exit).code).toBe(0);
    // The key was printed on stdout, for the user; the log on stderr never shows it.
    expect(bridge.err()).not.toContain(key);
  });

  it('without credentials says how to provide them and exits 2', async () => {
    const started = runCli(built.cli, ['serve'], home.home, {});
    expect((await started.exit).code).toBe(2);
    expect(started.err()).toContain('KIRO_AUTH_TOKEN');
    expect(started.err()).toContain('refreshToken');
  });

  it.each([
    [['serve', '--port', 'eighty'], '--port must be a whole number from 0 to 65535 (got "eighty")'],
    [['serve', '--strategy', 'random'], '--strategy must be priority or round-robin'],
    [['serve', '--log-format', 'xml'], '--log-format must be pretty or json'],
    [['serve', '--alias', 'gpt-4o'], '--alias must look like NAME=MODEL'],
    [['serve', '--no-such-flag'], "Unknown option '--no-such-flag'"],
    [['serve', '--port', '99999'], '--port must be a whole number from 0 to 65535'],
  ])('rejects %j with exit 2 and says why', async (args, message) => {
    const started = runCli(built.cli, args, home.home, env());
    expect((await started.exit).code).toBe(2);
    expect(started.err()).toContain(message);
    expect(started.err()).toContain('kiro-bridge serve --help');
  });

  it('rejects a bad environment value, naming the variable', async () => {
    const started = runCli(built.cli, ['serve'], home.home, env({ KIRO_BRIDGE_PORT: 'x' }));
    expect((await started.exit).code).toBe(2);
    expect(started.err()).toContain('KIRO_BRIDGE_PORT must be a whole number');
  });
});

describe('kiro-bridge help and version', () => {
  it("--version prints package.json's version", async () => {
    for (const flag of ['--version', '-v']) {
      const started = runCli(built.cli, [flag], home.home);
      expect((await started.exit).code).toBe(0);
      expect(started.out()).toBe(`${pkg.version}\n`);
    }
  });

  it.each([
    [['--help'], ['serve', 'accounts', 'usage', 'doctor', 'configure', 'config', 'Exit codes']],
    [
      ['serve', '--help'],
      ['--log-format FORMAT', '--port N', 'KIRO_BRIDGE_UPSTREAM_BASE', 'Exit codes'],
    ],
    [
      ['accounts', '--help'],
      ['import-kiro', 'login', '--json'],
    ],
    [['usage', '--help'], ['usage [ACCOUNT]']],
    [
      ['doctor', '--help'],
      ['--no-request', '--json', 'Exit codes'],
    ],
    [
      ['configure', '--help'],
      ['claude-code', 'codex', 'continue', 'env', '--yes'],
    ],
    [
      ['config', '--help'],
      ['path', 'show', 'KIRO_BRIDGE_LOG_FORMAT', 'precedence'],
    ],
    [['help', 'doctor'], ['--no-request']],
  ])('%j prints its help and exits 0', async (args, words) => {
    const started = runCli(built.cli, args, home.home);
    expect((await started.exit).code).toBe(0);
    for (const word of words) expect(started.out()).toContain(word);
  });

  it('an unknown command is a usage error (exit 2)', async () => {
    const started = runCli(built.cli, ['serv'], home.home);
    expect((await started.exit).code).toBe(2);
    expect(started.err()).toContain('unknown command "serv"');
  });
});
