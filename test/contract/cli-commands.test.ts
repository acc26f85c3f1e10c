// The built CLI's other commands as a user runs them, against the fake upstream: doctor (every
// check passing, and each kind of failure with its fix and exit code 1), usage and accounts with
// --json, configure for each client that it writes (kept keys, backups, a key saved for serve),
// config path/show/get/set/unset, and the precedence flags > environment > config file > defaults
// as serve applies it.
import Anthropic from '@anthropic-ai/sdk';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, textReply, type FakeUpstream } from '../support/fake-upstream';
import { buildCli, killChildren, runCli, tempHome, waitServing } from './cli-harness';
import { freePort } from '../support/net';

const KEY = 'kb-cli-commands-key-0123456789abcdef';

let built: Awaited<ReturnType<typeof buildCli>>;
let upstream: FakeUpstream;
let home: ReturnType<typeof tempHome>;
const blockers: Server[] = [];

beforeAll(async () => {
  built = await buildCli();
}, 60_000);

afterAll(() => built.dispose());

beforeEach(async () => {
  upstream = await startFakeUpstream({ accounts: [{ kind: 'social' }] });
  home = tempHome();
});

afterEach(async () => {
  killChildren();
  for (const server of blockers.splice(0)) server.close();
  await upstream.close();
  home.dispose();
});

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { KIRO_AUTH_TOKEN: upstream.kiroAuthToken(), KIRO_BRIDGE_API_KEY: KEY, KIRO_BRIDGE_UPSTREAM_BASE: upstream.baseUrl, ...extra };
}

async function cli(args: string[], extra: Record<string, string | undefined> = {}, stdin?: string) {
  const run = runCli(built.cli, args, home.home, env(extra), { stdin });
  const { code } = await run.exit;
  return { code, out: run.out(), err: run.err() };
}

async function blockedPort(): Promise<number> {
  const server = createServer();
  blockers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

function noSecrets(text: string): void {
  expect(text).not.toContain(upstream.account.refreshToken);
  for (const token of upstream.account.accessTokensIssued) expect(text).not.toContain(token);
}

interface Report {
  version: string;
  ok: boolean;
  checks: { id: string; title: string; status: string; detail: string; fix?: string }[];
}

function check(report: Report, id: string) {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check "${id}" in ${JSON.stringify(report.checks.map((c) => c.id))}`);
  return found;
}

describe('kiro-bridge doctor', () => {
  it('passes every check, sends one real request, and prints the same in JSON', async () => {
    upstream.scriptNext(textReply('ready'));
    const port = String(await freePort());
    const human = await cli(['doctor', '--port', port]);
    expect(human.code).toBe(0);
    // Plain ASCII through a pipe.
    expect(human.out).toMatch(/\[ok\]\s+Node\.js\s+\d+\.\d+\.\d+ \(needs 20\.18\.1 or newer\)/);
    expect(human.out).toMatch(/\[ok\]\s+Kiro reachable\s+http:\/\/127\.0\.0\.1:\d+ answered HTTP \d+ in \d+ ms \(direct\)/);
    expect(human.out).toMatch(/\[ok\]\s+Account 1 \(.+@example\.com\)\s+token refreshed; 50 of 50 credits left/);
    expect(human.out).toMatch(new RegExp(`\\[ok\\]\\s+Port\\s+127\\.0\\.0\\.1:${port} is free`));
    expect(human.out).toMatch(/\[ok\]\s+Test request\s+claude-sonnet-4-\d answered "ready" in \d+\.\d s/);
    expect(human.out).toContain('All checks passed.');
    for (const fancy of ['✓', '✗', '\u001b[']) expect(human.out).not.toContain(fancy);
    expect(upstream.requestsTo('generate')).toHaveLength(1);

    upstream.scriptNext(textReply('ready'));
    const json = await cli(['doctor', '--json', '--port', port]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.out) as Report;
    expect(report).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), ok: true });
    expect(report.checks.map((c) => c.id)).toEqual(['node', 'config', 'accounts', 'upstream', 'account:1', 'port', 'request']);
    for (const c of report.checks) {
      expect(c.status).toBe('pass');
      expect(c.title).toEqual(expect.any(String));
      expect(c.detail).toEqual(expect.any(String));
    }
    noSecrets(human.out + human.err + json.out + json.err);
  });

  it('fails with the fix when the refresh token was revoked, and skips the request (exit 1)', async () => {
    const known = upstream.kiroAuthToken();
    upstream.account.revokeRefreshToken();
    const result = await cli(['doctor', '--json', '--port', String(await freePort())], { KIRO_AUTH_TOKEN: known });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as Report;
    expect(report.ok).toBe(false);
    expect(check(report, 'upstream').status).toBe('pass');
    const account = check(report, 'account:1');
    expect(account.status).toBe('fail');
    expect(account.fix).toContain('KIRO_AUTH_TOKEN');
    expect(check(report, 'request')).toMatchObject({ status: 'skip' });
    expect(upstream.requestsTo('generate')).toHaveLength(0);
  });

  it('fails when Kiro cannot be reached, saying to check the network or proxy', async () => {
    const closed = await freePort();
    const result = await cli(['doctor', '--json', '--no-request', '--port', String(await freePort())], {
      KIRO_BRIDGE_UPSTREAM_BASE: `http://127.0.0.1:${closed}`,
    });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as Report;
    const upstreamCheck = check(report, 'upstream');
    expect(upstreamCheck.status).toBe('fail');
    expect(upstreamCheck.detail).toContain('ECONNREFUSED');
    expect(upstreamCheck.detail).toContain('(direct)');
    expect(upstreamCheck.fix).toContain('HTTPS_PROXY');
    // The account could not be refreshed either: a failure, not "ready".
    expect(check(report, 'account:1')).toMatchObject({ status: 'fail', detail: expect.stringContaining('could not refresh or check it') });
    expect(check(report, 'request')).toMatchObject({ status: 'skip', detail: 'skipped (--no-request)' });
  });

  it('fails the port check when another program holds it, with the flag to move', async () => {
    const port = await blockedPort();
    const result = await cli(['doctor', '--no-request', '--port', String(port)]);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(new RegExp(`\\[FAIL\\]\\s+Port\\s+127\\.0\\.0\\.1:${port} is in use by another program`));
    expect(result.out).toContain(`fix: use another port: --port ${port + 1}`);
    expect(result.out).toMatch(/1 of \d+ checks failed\./);
  });

  it('fails the accounts check when there is no account anywhere', async () => {
    const result = await cli(['doctor', '--json', '--port', String(await freePort())], { KIRO_AUTH_TOKEN: undefined });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as Report;
    expect(check(report, 'accounts')).toMatchObject({ status: 'fail' });
    expect(check(report, 'accounts').fix).toContain('kiro-bridge accounts login');
  });

  it('reports a broken config file as a failed check, not a crash', async () => {
    mkdirSync(path.join(home.home, 'config'), { recursive: true });
    writeFileSync(path.join(home.home, 'config', 'config.json'), '{"prot": 9000}');
    const result = await cli(['doctor', '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as Report;
    expect(check(report, 'config').status).toBe('fail');
    expect(check(report, 'config').detail).toContain('unknown setting "prot" (did you mean "port"?)');
  });

  it('uses colour and ✓ only when asked (FORCE_COLOR), never with NO_COLOR', async () => {
    const forced = await cli(['doctor', '--no-request', '--port', String(await freePort())], { FORCE_COLOR: '1' });
    expect(forced.code).toBe(0);
    expect(forced.out).toContain('\u001b[32m');
    const plain = await cli(['doctor', '--no-request', '--port', String(await freePort())], { NO_COLOR: '1' });
    expect(plain.out).not.toContain('\u001b[');
    expect(plain.out).toContain('[ok]');
  });
});

describe('kiro-bridge usage and accounts --json', () => {
  it('usage prints the credits; --json gives the account snapshots', async () => {
    const human = await cli(['usage']);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/credits: 50 left of 50, resets \d{4}-\d\d-\d\d/);
    const json = await cli(['usage', '--json']);
    expect(json.code).toBe(0);
    const list = JSON.parse(json.out) as {
      id: string;
      label: string;
      kind: string;
      source: string;
      state: string;
      credits: { remaining: number; limit: number };
      models: string[];
    }[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ kind: 'Social', source: 'env', state: 'ready', credits: { remaining: 50, limit: 50 } });
    expect(list[0]!.models.length).toBeGreaterThan(0);
    const accounts = await cli(['accounts', 'list', '--json']);
    expect(accounts.code).toBe(0);
    expect(JSON.parse(accounts.out)).toEqual([expect.objectContaining({ id: list[0]!.id, label: list[0]!.label, state: 'ready' })]);
    noSecrets(human.out + human.err + json.out + json.err + accounts.out + accounts.err);
  });

  it('accounts add and remove print the account as JSON with --json', async () => {
    const extra = upstream.addAccount({ label: 'extra' });
    const added = await cli(['accounts', 'add', '--json'], {}, `${extra.refreshToken}\n`);
    expect(added.code).toBe(0);
    const { added: account, file } = JSON.parse(added.out) as { added: { id: string; label: string; source: string; state: string }; file: string };
    expect(account).toMatchObject({ label: 'extra@example.com', source: 'manual', state: 'ready' });
    expect(file).toBe(path.join(home.home, 'config', 'accounts.json'));
    const removed = await cli(['accounts', 'remove', account.id, '--json']);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.out)).toMatchObject({ removed: { id: account.id, label: 'extra@example.com' } });
    noSecrets(added.out + added.err + removed.out + removed.err);
    expect(added.out + added.err).not.toContain(extra.refreshToken);
  });

  it('usage of an unknown account is a usage error (exit 2)', async () => {
    const result = await cli(['usage', '7']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('no account "7"');
  });
});

describe('kiro-bridge configure', () => {
  const claudeFile = () => path.join(home.home, '.claude', 'settings.json');

  it('prints the settings and, without a terminal or --yes, writes nothing', async () => {
    const result = await cli(['configure', 'claude-code', '--port', '9123']);
    expect(result.code).toBe(0);
    const json = /\{[\s\S]*\}/.exec(result.out)![0];
    expect(JSON.parse(json)).toMatchObject({ env: { ANTHROPIC_BASE_URL: 'http://127.0.0.1:9123', ANTHROPIC_AUTH_TOKEN: KEY } });
    expect(result.err).toContain('configure claude-code --yes');
    expect(existsSync(claudeFile())).toBe(false);
  });

  it('claude-code --yes merges into the settings file (other keys kept, a conflicting key removed, a backup made)', async () => {
    mkdirSync(path.dirname(claudeFile()), { recursive: true });
    writeFileSync(claudeFile(), JSON.stringify({ theme: 'dark', env: { ANTHROPIC_API_KEY: 'sk-old', MY_VAR: 'kept' } }));
    const result = await cli(['configure', 'claude-code', '--yes', '--port', '9124']);
    expect(result.code).toBe(0);
    const settings = JSON.parse(readFileSync(claudeFile(), 'utf8')) as { theme: string; env: Record<string, string> };
    expect(settings.theme).toBe('dark');
    expect(settings.env).toMatchObject({ MY_VAR: 'kept', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9124', ANTHROPIC_AUTH_TOKEN: KEY });
    expect(settings.env.ANTHROPIC_API_KEY).toBeUndefined();
    const backups = readdirSync(path.dirname(claudeFile())).filter((f) => f.startsWith('settings.json.kiro-bridge-backup-'));
    expect(backups).toHaveLength(1);
    expect(JSON.parse(readFileSync(path.join(path.dirname(claudeFile()), backups[0]!), 'utf8'))).toMatchObject({ env: { ANTHROPIC_API_KEY: 'sk-old' } });
    expect(result.out).toContain('env.ANTHROPIC_API_KEY removed');
  });

  it('without any key, --yes saves a new one in the config file, and serve then uses it', async () => {
    const port = await freePort();
    const result = await cli(['configure', 'claude-code', '--yes', '--port', String(port)], { KIRO_BRIDGE_API_KEY: undefined });
    expect(result.code).toBe(0);
    expect(result.err).toMatch(/Saved a new bridge key \(kb-…[\w-]{4}\)/);
    const configFile = path.join(home.home, 'config', 'config.json');
    const saved = JSON.parse(readFileSync(configFile, 'utf8')) as { apiKey: string };
    expect(saved.apiKey).toMatch(/^kb-[\w-]{40,}$/);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(claudeFile(), 'utf8')) as { env: Record<string, string> };
    expect(written.env.ANTHROPIC_AUTH_TOKEN).toBe(saved.apiKey);

    const bridge = await waitServing(runCli(built.cli, ['serve', '--port', String(port)], home.home, env({ KIRO_BRIDGE_API_KEY: undefined })));
    expect(bridge.out()).toMatch(/API key\s+kb-…[\w-]{4}\s+\(apiKey in .*config\.json\)/);
    upstream.scriptNext(textReply('configured'));
    const client = new Anthropic({ baseURL: written.env.ANTHROPIC_BASE_URL, authToken: written.env.ANTHROPIC_AUTH_TOKEN, apiKey: null, maxRetries: 0 });
    const answer = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.content).toEqual([{ type: 'text', text: 'configured' }]);
    bridge.child.kill('SIGTERM');
    expect((await bridge.exit).code).toBe(0);
  });

  it('codex --yes sets the model and the provider table in config.toml, keeping the rest', async () => {
    const file = path.join(home.home, '.codex', 'config.toml');
    mkdirSync(path.dirname(file), { recursive: true });
    const before = [
      'model = "gpt-5"',
      'approval_policy = "on-request"',
      'notes = """',
      '[not.a.table]',
      '"""',
      '',
      '[model_providers.other]',
      'name = "Other"',
      'base_url = "https://other.example/v1"',
      '',
      '[profiles.fast]',
      'model = "o4-mini"',
      '',
    ].join('\n');
    writeFileSync(file, before);
    const first = await cli(['configure', 'codex', '--yes', '--port', '9125']);
    expect(first.code).toBe(0);
    const after = readFileSync(file, 'utf8');
    expect(after).toContain('model = "claude-sonnet-4-');
    expect(after).not.toContain('model = "gpt-5"');
    expect(after).toContain('model_provider = "kiro-bridge"');
    expect(after).toContain('approval_policy = "on-request"');
    expect(after).toContain('notes = """\n[not.a.table]\n"""');
    expect(after).toContain('[model_providers.other]\nname = "Other"');
    expect(after).toContain('[profiles.fast]\nmodel = "o4-mini"');
    expect(after).toContain(
      '[model_providers.kiro-bridge]\nname = "Kiro Bridge"\nbase_url = "http://127.0.0.1:9125/v1"\nenv_key = "KIRO_BRIDGE_API_KEY"\nwire_api = "responses"',
    );
    expect(after).not.toContain(KEY);
    expect(first.out).toMatch(/model: "gpt-5" → "claude-sonnet-4-\d"/);
    // Again with another port: the table is replaced, not repeated.
    expect((await cli(['configure', 'codex', '--yes', '--port', '9126'])).code).toBe(0);
    const again = readFileSync(file, 'utf8');
    expect(again.match(/\[model_providers\.kiro-bridge\]/g)).toHaveLength(1);
    expect(again).toContain('base_url = "http://127.0.0.1:9126/v1"');
    expect(readdirSync(path.dirname(file)).filter((f) => f.includes('kiro-bridge-backup'))).toHaveLength(2);
  });

  it("continue --yes adds its models after the user's own, and replaces them on the next run", async () => {
    const file = path.join(home.home, '.continue', 'config.yaml');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(
      file,
      ['name: Mine', 'version: 1.0.0', 'models:', '  - name: Local', '    provider: ollama', '    model: llama3', 'rules:', '  - be brief', ''].join('\n'),
    );
    expect((await cli(['configure', 'continue', '--yes', '--port', '9127'])).code).toBe(0);
    expect((await cli(['configure', 'continue', '--yes', '--port', '9128'])).code).toBe(0);
    const after = readFileSync(file, 'utf8');
    expect(after.startsWith('name: Mine\nversion: 1.0.0\nmodels:\n  - name: Local\n    provider: ollama\n    model: llama3\n  # >>> kiro-bridge')).toBe(true);
    expect(after).toContain('rules:\n  - be brief');
    expect(after.match(/>>> kiro-bridge/g)).toHaveLength(1);
    expect(after).toContain('apiBase: "http://127.0.0.1:9128/v1/"');
    expect(after).not.toContain('9127');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('env --yes writes the variables owner-only and sources them once from the shell startup file', async () => {
    const rc = path.join(home.home, '.bashrc');
    writeFileSync(rc, 'alias ll="ls -l"\n');
    for (let i = 0; i < 2; i++) expect((await cli(['configure', 'env', '--yes', '--port', '9129'], { SHELL: '/bin/bash' })).code).toBe(0);
    const text = readFileSync(rc, 'utf8');
    expect(text.startsWith('alias ll="ls -l"\n')).toBe(true);
    expect(text.match(/>>> kiro-bridge/g)).toHaveLength(1);
    expect(text).not.toContain(KEY);
    const envFile = path.join(home.home, 'config', 'env.sh');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const vars = readFileSync(envFile, 'utf8');
    expect(vars).toContain(`export KIRO_BRIDGE_API_KEY='${KEY}'`);
    expect(vars).toContain("export OPENAI_BASE_URL='http://127.0.0.1:9129/v1'");
    expect(vars).toContain("export ANTHROPIC_BASE_URL='http://127.0.0.1:9129'");
  });

  it('refuses an unknown client (exit 2) and leaves a file it cannot parse alone (exit 1)', async () => {
    const unknown = await cli(['configure', 'vim']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown client "vim"');
    mkdirSync(path.dirname(claudeFile()), { recursive: true });
    writeFileSync(claudeFile(), '{"theme": "dark",');
    const broken = await cli(['configure', 'claude-code', '--yes']);
    expect(broken.code).toBe(1);
    expect(broken.err).toContain('did not change');
    expect(readFileSync(claudeFile(), 'utf8')).toBe('{"theme": "dark",');
  });
});

describe('kiro-bridge config and the precedence of settings', () => {
  it("path, set, get, unset and show with each value's source", async () => {
    const file = path.join(home.home, 'config', 'config.json');
    expect((await cli(['config', 'path'])).out).toBe(`${file}\n`);
    const help = await cli(['config', 'set', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('set KEY VALUE');
    expect((await cli(['config', 'set', 'port', '9001'])).code).toBe(0);
    expect((await cli(['config', 'set', 'modelAliases', 'gpt-4o=claude-sonnet-4-5'])).code).toBe(0);
    expect((await cli(['config', 'set', 'logFormat', 'xml'])).code).toBe(2);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ port: 9001, modelAliases: { 'gpt-4o': 'claude-sonnet-4-5' } });
    expect((await cli(['config', 'get', 'port'])).out).toBe('9001\n');

    const sources = async (extra: Record<string, string | undefined>, flags: string[] = []) => {
      const shown = JSON.parse((await cli(['config', 'show', '--json', ...flags], extra)).out) as {
        settings: Record<string, { value: unknown; source: string }>;
      };
      return shown.settings;
    };
    expect((await sources({})).port).toEqual({ value: 9001, source: 'config' });
    expect((await sources({ KIRO_BRIDGE_PORT: '9002' })).port).toEqual({ value: 9002, source: 'env' });
    expect((await sources({ KIRO_BRIDGE_PORT: '9002' }, ['--port', '9003'])).port).toEqual({ value: 9003, source: 'flag' });
    expect((await sources({})).host).toEqual({ value: '127.0.0.1', source: 'default' });
    // The key is masked in show.
    expect((await sources({})).apiKey).toEqual({ value: expect.stringMatching(/^kb-…/), source: 'env' });
    // Aliases add up across sources.
    expect((await sources({ KIRO_BRIDGE_MODEL_ALIASES: 'o3=claude-opus-4-6' }, ['--alias', 'x=claude-haiku-4-5'])).modelAliases!.value).toEqual({
      'gpt-4o': 'claude-sonnet-4-5',
      o3: 'claude-opus-4-6',
      x: 'claude-haiku-4-5',
    });

    expect((await cli(['config', 'unset', 'port'])).code).toBe(0);
    expect((await sources({})).port).toEqual({ value: 8765, source: 'default' });
  });

  it('serve takes its settings from the config file unless the environment or a flag says otherwise', async () => {
    const port = await freePort();
    expect((await cli(['config', 'set', 'port', String(port)])).code).toBe(0);
    expect((await cli(['config', 'set', 'logFormat', 'json'])).code).toBe(0);
    expect((await cli(['config', 'set', 'modelAliases', 'my-model=claude-sonnet-4-5'])).code).toBe(0);
    const bridge = await waitServing(runCli(built.cli, ['serve'], home.home, env()));
    expect(bridge.url).toBe(`http://127.0.0.1:${port}`);
    upstream.scriptNext(textReply('aliased'));
    const client = new Anthropic({ baseURL: bridge.url, apiKey: KEY, maxRetries: 0 });
    const answer = await client.messages.create({ model: 'my-model', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.content).toEqual([{ type: 'text', text: 'aliased' }]);
    bridge.child.kill('SIGTERM');
    expect((await bridge.exit).code).toBe(0);
    // JSON from the config file…
    const lines = bridge
      .err()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; model?: string; kiroModel?: string });
    expect(lines.find((l) => l.msg === 'request')).toMatchObject({ model: 'my-model', kiroModel: 'claude-sonnet-4.5' });

    // …pretty from the environment, and the port from the flag.
    const flagPort = await freePort();
    const second = await waitServing(runCli(built.cli, ['serve', '--port', String(flagPort)], home.home, env({ KIRO_BRIDGE_LOG_FORMAT: 'pretty' })));
    expect(second.url).toBe(`http://127.0.0.1:${flagPort}`);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
    expect(second.err()).toContain('[info] stopped');
  });

  it('serve refuses a config file with an unknown key (exit 2), naming the file and the likely key', async () => {
    mkdirSync(path.join(home.home, 'config'), { recursive: true });
    writeFileSync(path.join(home.home, 'config', 'config.json'), '{"logformat": "json"}');
    const result = await cli(['serve']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('config.json: unknown setting "logformat" (did you mean "logFormat"?)');
  });
});
