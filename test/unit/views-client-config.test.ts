// Client setup snippets (parsed back by the formats' own rules where we can), the careful merge
// into Claude Code's settings, and the one real test request through a real bridge.
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bridgeConfig } from '../../src/bridge/config';
import { createBridge } from '../../src/bridge/http/server';
import { SingleAccountProvider } from '../support/single-account';
import {
  CLAUDE_ENV_CONFLICTS,
  CLIENT_IDS,
  clientSetup,
  CODEX_KEY_VARIABLE,
  DEFAULT_MODELS,
  envLines,
  modelsFor,
  setupDocument,
} from '../../src/clients/client-config';
import { ClaudeSettingsError, claudeSettingsPath, mergeClaudeEnv, writeClaudeEnv } from '../../src/clients/claude-settings';
import { sendTestRequest } from '../../src/clients/test-request';
import { startHarness, TEST_API_KEY, type Harness } from '../contract/harness';

const input = { baseUrl: 'http://127.0.0.1:8765', apiKey: 'kb-abcDEF_123-xyz0123456789', platform: 'linux' as NodeJS.Platform };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('clientSetup', () => {
  it('every client gets the real URL and key, and a primary block that is one of its blocks', () => {
    for (const id of CLIENT_IDS) {
      const setup = clientSetup(id, input);
      expect(setup.blocks).toContain(setup.primary);
      const all = setup.blocks.map((b) => b.code).join('\n');
      expect(all, id).toContain(input.apiKey);
      expect(all, id).toContain('http://127.0.0.1:8765');
      expect(all).not.toContain('8765//');
    }
  });

  it('Claude Code: an env block with the root URL, the key as a Bearer token, and every model role', () => {
    const setup = clientSetup('claude-code', input);
    const parsed = JSON.parse(setup.primary.code) as { env: Record<string, string> };
    expect(parsed.env).toEqual(setup.claudeEnv);
    expect(parsed.env).toMatchObject({
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:8765',
      ANTHROPIC_AUTH_TOKEN: input.apiKey,
      ANTHROPIC_MODEL: 'claude-sonnet-4-5',
      ANTHROPIC_DEFAULT_HAIKU_MODEL: 'claude-haiku-4-5',
      ANTHROPIC_SMALL_FAST_MODEL: 'claude-haiku-4-5',
    });
    expect(parsed.env.ANTHROPIC_API_KEY).toBeUndefined();
    expect(CLAUDE_ENV_CONFLICTS).toContain('ANTHROPIC_API_KEY');
  });

  it('Continue: apiBase ends in /v1/ so "messages" resolves under it', () => {
    const code = clientSetup('continue', input).primary.code;
    const apiBase = /apiBase: "([^"]+)"/.exec(code)![1]!;
    expect(apiBase).toBe('http://127.0.0.1:8765/v1/');
    expect(new URL('messages', apiBase).href).toBe('http://127.0.0.1:8765/v1/messages');
    expect(code).toMatch(/^models:\n {2}- name: /);
    expect(code).toContain('provider: anthropic');
  });

  it('Codex: a responses-API provider at /v1 that reads the key from an environment variable', () => {
    const setup = clientSetup('codex', input);
    expect(setup.primary.code).toContain('base_url = "http://127.0.0.1:8765/v1"');
    expect(setup.primary.code).toContain('wire_api = "responses"');
    expect(setup.primary.code).toContain(`env_key = "${CODEX_KEY_VARIABLE}"`);
    expect(setup.primary.code).toContain('model_provider = "kiro-bridge"');
    // The key itself is not in config.toml, only in the shell line.
    expect(setup.primary.code).not.toContain(input.apiKey);
    expect(setup.blocks[1]!.code).toBe(`export ${CODEX_KEY_VARIABLE}='${input.apiKey}'`);
  });

  it('Cline and Roo Code: Anthropic with a custom base URL, or OpenAI Compatible at /v1', () => {
    for (const id of ['cline', 'roo-code'] as const) {
      const [anthropic, openai] = clientSetup(id, input).blocks;
      expect(anthropic!.code).toMatch(/Use custom base URL\s+http:\/\/127\.0\.0\.1:8765$/m);
      expect(openai!.code).toMatch(/Base URL\s+http:\/\/127\.0\.0\.1:8765\/v1$/m);
    }
  });

  it('SDK variables in POSIX shell syntax, or PowerShell on Windows', () => {
    const posix = clientSetup('sdk-env', input).primary;
    expect(posix.language).toBe('shellscript');
    expect(posix.code.split('\n')).toEqual([
      `export ANTHROPIC_BASE_URL='http://127.0.0.1:8765'`,
      `export ANTHROPIC_API_KEY='${input.apiKey}'`,
      `export OPENAI_BASE_URL='http://127.0.0.1:8765/v1'`,
      `export OPENAI_API_KEY='${input.apiKey}'`,
    ]);
    const windows = clientSetup('sdk-env', { ...input, platform: 'win32' }).primary;
    expect(windows.language).toBe('powershell');
    expect(windows.code).toContain(`$env:OPENAI_BASE_URL = 'http://127.0.0.1:8765/v1'`);
  });

  it('quotes values that would break a shell line', () => {
    expect(envLines({ A: "it's" }, 'linux').code).toBe(`export A='it'\\''s'`);
    expect(envLines({ A: "it's" }, 'win32').code).toBe(`$env:A = 'it''s'`);
  });

  it('a trailing slash on the base URL does not double up', () => {
    const setup = clientSetup('sdk-env', { ...input, baseUrl: 'http://127.0.0.1:9000/' });
    expect(setup.primary.code).toContain(`'http://127.0.0.1:9000/v1'`);
  });

  it('the document lists every block under its target', () => {
    const setup = clientSetup('codex', input);
    const doc = setupDocument(setup, ['Intro line.']);
    expect(doc).toContain('# Codex CLI → Kiro Bridge');
    expect(doc).toContain('Intro line.');
    expect(doc).toContain('## ~/.codex/config.toml');
    expect(doc).toContain('```toml\n' + setup.primary.code + '\n```');
  });
});

describe('modelsFor', () => {
  it('uses the newest models the accounts have, and never one they lack', () => {
    expect(modelsFor(undefined)).toEqual(DEFAULT_MODELS);
    expect(modelsFor(['auto', 'claude-sonnet-4.5', 'claude-haiku-4.5'])).toEqual({
      main: 'claude-sonnet-4-5',
      fast: 'claude-haiku-4-5',
      strong: 'claude-sonnet-4-5',
    });
    expect(modelsFor(['claude-sonnet-4.5', 'claude-sonnet-4.6', 'claude-haiku-4.5', 'claude-opus-4.6'])).toEqual({
      main: 'claude-sonnet-4-6',
      fast: 'claude-haiku-4-5',
      strong: 'claude-opus-4-6',
    });
    expect(modelsFor(['claude-sonnet-4'])).toEqual({ main: 'claude-sonnet-4', fast: 'claude-sonnet-4', strong: 'claude-sonnet-4' });
    expect(modelsFor(['auto'])).toEqual(DEFAULT_MODELS);
  });

  it('the snippets use the chosen models', () => {
    const models = modelsFor(['claude-sonnet-4.6', 'claude-haiku-4.5']);
    const env = JSON.parse(clientSetup('claude-code', { ...input, models }).primary.code).env;
    expect(env).toMatchObject({
      ANTHROPIC_MODEL: 'claude-sonnet-4-6',
      ANTHROPIC_DEFAULT_HAIKU_MODEL: 'claude-haiku-4-5',
      ANTHROPIC_DEFAULT_OPUS_MODEL: 'claude-sonnet-4-6',
    });
  });
});

describe('Claude Code settings', () => {
  const env = { ANTHROPIC_BASE_URL: 'http://127.0.0.1:8765', ANTHROPIC_AUTH_TOKEN: 'kb-new-key-0123456789' };

  it('lives in ~/.claude unless CLAUDE_CONFIG_DIR says otherwise', () => {
    expect(claudeSettingsPath({}, '/home/u')).toBe(path.join('/home/u', '.claude', 'settings.json'));
    expect(claudeSettingsPath({ CLAUDE_CONFIG_DIR: '/cfg' }, '/home/u')).toBe(path.join('/cfg', 'settings.json'));
  });

  it('keeps other keys and env entries, updates ours, drops conflicting ones', () => {
    const existing = JSON.stringify({
      model: 'opus',
      permissions: { allow: ['Bash(ls)'] },
      env: { FOO: 'bar', ANTHROPIC_API_KEY: 'sk-old', ANTHROPIC_BASE_URL: 'https://old' },
    });
    const merged = mergeClaudeEnv(existing, env, CLAUDE_ENV_CONFLICTS);
    const parsed = JSON.parse(merged.text);
    expect(parsed).toEqual({
      model: 'opus',
      permissions: { allow: ['Bash(ls)'] },
      env: { FOO: 'bar', ANTHROPIC_BASE_URL: 'http://127.0.0.1:8765', ANTHROPIC_AUTH_TOKEN: 'kb-new-key-0123456789' },
    });
    expect(merged.changed.sort()).toEqual(['ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL']);
    expect(merged.removed).toEqual(['ANTHROPIC_API_KEY']);
  });

  it('starts a new file when there is none (or it is empty, or has a BOM)', () => {
    expect(JSON.parse(mergeClaudeEnv(undefined, env).text)).toEqual({ env });
    expect(JSON.parse(mergeClaudeEnv('  \n', env).text)).toEqual({ env });
    expect(JSON.parse(mergeClaudeEnv('\uFEFF{"a":1}', env).text)).toEqual({ a: 1, env });
  });

  it('refuses to touch a file it cannot understand', () => {
    expect(() => mergeClaudeEnv('{ "env": { ', env)).toThrow(ClaudeSettingsError);
    expect(() => mergeClaudeEnv('[1,2]', env)).toThrow(/JSON object/);
    expect(() => mergeClaudeEnv('{"env": "x"}', env)).toThrow(/"env"/);
  });

  it('writes owner-only, with a backup of the old file next to it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kb-claude-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'settings.json');
    const old = JSON.stringify({ theme: 'dark', env: { ANTHROPIC_API_KEY: 'sk-old' } });
    await writeFile(file, old);
    const result = await writeClaudeEnv(file, env, CLAUDE_ENV_CONFLICTS, new Date('2026-11-27T10:00:00.000Z'));
    expect(result.backup).toBe(`${file}.kiro-bridge-backup-2026-11-27T10-00-00-000Z`);
    expect(await readFile(result.backup!, 'utf8')).toBe(old);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ theme: 'dark', env });
    if (process.platform !== 'win32') {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(result.backup!)).mode & 0o777).toBe(0o600);
    }
  });

  it('creates the folder when Claude Code was never run, and leaves a broken file as it was', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kb-claude-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const fresh = path.join(dir, 'new', '.claude', 'settings.json');
    const result = await writeClaudeEnv(fresh, env);
    expect(result.backup).toBeUndefined();
    expect(JSON.parse(await readFile(fresh, 'utf8'))).toEqual({ env });

    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{ "env": ');
    await expect(writeClaudeEnv(broken, env)).rejects.toThrow(ClaudeSettingsError);
    expect(await readFile(broken, 'utf8')).toBe('{ "env": ');
    expect((await readdir(dir)).filter((f) => f.includes('backup'))).toEqual([]);
  });
});

describe('sendTestRequest', () => {
  let harness: Harness;

  it('gets a reply through a real bridge and a fake Kiro', async () => {
    harness = await startHarness();
    cleanups.push(() => harness.close());
    const result = await sendTestRequest(harness.url, TEST_API_KEY, 'claude-sonnet-4-5');
    expect(result.ok).toBe(true);
    expect(result.status).toBe(200);
    expect(typeof result.reply).toBe('string');
    expect(harness.finished.at(-1)).toMatchObject({ status: 200, stream: false });
  });

  it('reports the bridge error for a wrong key', async () => {
    harness = await startHarness();
    cleanups.push(() => harness.close());
    const result = await sendTestRequest(harness.url, 'kb-wrong-key-0123456789', 'claude-sonnet-4-5');
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.error).toMatch(/^authentication_error: /);
  });

  it('reports a bridge without accounts, and a port nobody listens on', async () => {
    const bridge = createBridge(bridgeConfig({ apiKey: TEST_API_KEY, port: 0 }), { accounts: new SingleAccountProvider(undefined, 'no Kiro account yet') });
    const { url, port } = await bridge.start();
    const noAccount = await sendTestRequest(url, TEST_API_KEY, 'claude-sonnet-4-5');
    expect(noAccount.ok).toBe(false);
    expect(noAccount.error).toContain('no Kiro account yet');
    await bridge.stop();
    const nobody = await sendTestRequest(`http://127.0.0.1:${port}`, TEST_API_KEY, 'claude-sonnet-4-5');
    expect(nobody).toMatchObject({ ok: false, status: 0, error: 'nothing is listening there' });
  });
});
