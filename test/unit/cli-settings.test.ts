// The CLI's settings: flags > environment > config file > defaults, the parsers' messages, the
// config file's checks (unknown keys with a suggestion, bad values, owner-only writes), and the
// environment the accounts code is given.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigFileError, configFilePath, readConfigFile, updateConfigFile } from '../../src/cli/config-file';
import { accountsEnvironment, DEFAULT_SETTINGS, flagHelp, resolveSettings, SETTINGS, SettingError } from '../../src/cli/settings';

describe('resolveSettings', () => {
  it('takes flags over the environment over the config file over the defaults, and says where each came from', () => {
    const { settings, sources } = resolveSettings({
      flags: { port: '9003' },
      env: { KIRO_BRIDGE_PORT: '9002', KIRO_BRIDGE_STRATEGY: 'round-robin' },
      file: { port: 9001, strategy: 'priority', logFormat: 'json' },
    });
    expect(settings.port).toBe(9003);
    expect(sources.port).toBe('flag');
    expect(settings.strategy).toBe('round-robin');
    expect(sources.strategy).toBe('env');
    expect(settings.logFormat).toBe('json');
    expect(sources.logFormat).toBe('config');
    expect(settings.host).toBe(DEFAULT_SETTINGS.host);
    expect(sources.host).toBe('default');
  });

  it('adds model aliases and origins up across the sources', () => {
    const { settings } = resolveSettings({
      flags: { alias: ['a=claude-sonnet-4-5'], 'allow-origin': ['http://localhost:3000'] },
      env: { KIRO_BRIDGE_MODEL_ALIASES: 'b=claude-opus-4-6, a=claude-haiku-4-5', KIRO_BRIDGE_ALLOWED_ORIGINS: 'http://localhost:5173' },
      file: { modelAliases: { c: 'claude-sonnet-4-6' }, allowedOrigins: ['http://localhost:3000'] },
    });
    // The flag's "a" wins over the variable's.
    expect(settings.modelAliases).toEqual({ a: 'claude-sonnet-4-5', b: 'claude-opus-4-6', c: 'claude-sonnet-4-6' });
    expect(settings.allowedOrigins).toEqual(['http://localhost:3000', 'http://localhost:5173']);
  });

  it('reads sizes, JSON aliases in a variable, and proxies the way kiro/http/proxy does (lower case first)', () => {
    const { settings, sources } = resolveSettings({
      flags: { 'body-limit': '2mb' },
      env: { KIRO_BRIDGE_MODEL_ALIASES: '{"x": "claude-sonnet-4-5"}', https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' },
    });
    expect(settings.bodyLimit).toBe(2 * 1024 * 1024);
    expect(settings.modelAliases).toEqual({ x: 'claude-sonnet-4-5' });
    expect(settings.proxy).toBe('http://lower:1');
    expect(sources.proxy).toBe('env');
  });

  it.each([
    [{ flags: { port: '70000' } }, '--port must be a whole number from 0 to 65535 (got "70000")'],
    [{ env: { KIRO_BRIDGE_LOG_FORMAT: 'xml' } }, 'KIRO_BRIDGE_LOG_FORMAT must be pretty or json (got "xml")'],
    [{ file: { pingIntervalSeconds: 0 } }, 'config file "pingIntervalSeconds" must be a number ≥ 0.05 (got 0)'],
    [{ flags: { 'body-limit': 'huge' } }, '--body-limit must be a size like 50mb'],
    [{ flags: { 'allow-origin': ['localhost:3000'] } }, '--allow-origin must be origins like http://localhost:3000 (got "localhost:3000")'],
    [{ env: { KIRO_BRIDGE_UPSTREAM_BASE: 'ftp://x' } }, 'KIRO_BRIDGE_UPSTREAM_BASE upstream base "ftp://x" must be http(s)'],
    [{ env: { HTTPS_PROXY: 'socks5://p:1' } }, 'HTTPS_PROXY proxy protocol socks5: is not supported'],
  ])('rejects %j naming the source', (input, message) => {
    expect(() => resolveSettings({ env: {}, ...input })).toThrow(SettingError);
    expect(() => resolveSettings({ env: {}, ...input })).toThrow(message);
  });

  it('never repeats the key in an error', () => {
    expect(() => resolveSettings({ env: { KIRO_BRIDGE_API_KEY: '   ' }, file: { apiKey: '' } })).toThrow('config file "apiKey" must not be empty');
  });

  it('every flag is in the help', () => {
    const help = flagHelp();
    for (const spec of SETTINGS.filter((s) => s.flag)) expect(help).toContain(`--${spec.flag} ${spec.valueName}`);
    for (const line of help.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });
});

describe('accountsEnvironment', () => {
  it('fills region, upstream base and proxy from the settings where the environment has none', () => {
    const { settings } = resolveSettings({
      env: {},
      file: { region: 'eu-central-1', upstreamBase: 'http://127.0.0.1:1', proxy: 'http://proxy:8080', noProxy: 'localhost' },
    });
    expect(accountsEnvironment({ PATH: '/bin' }, settings)).toEqual({
      PATH: '/bin',
      KIRO_BRIDGE_REGION: 'eu-central-1',
      KIRO_BRIDGE_UPSTREAM_BASE: 'http://127.0.0.1:1',
      HTTPS_PROXY: 'http://proxy:8080',
      NO_PROXY: 'localhost',
    });
  });

  it("keeps the environment's own proxy and leaves the default region implicit", () => {
    const env = { http_proxy: 'http://mine:3128' };
    const { settings } = resolveSettings({ env, file: { proxy: 'http://file:8080' } });
    const out = accountsEnvironment(env, settings);
    expect(out.HTTPS_PROXY).toBeUndefined();
    expect(out.http_proxy).toBe('http://mine:3128');
    expect(out.KIRO_BRIDGE_REGION).toBeUndefined();
  });
});

describe('the config file', () => {
  let dir: string;
  const env = () => ({ KIRO_BRIDGE_CONFIG_DIR: path.join(dir, 'cfg') });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kiro-cli-config-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is config.json beside accounts.json; a missing file is empty', () => {
    expect(configFilePath(env())).toBe(path.join(dir, 'cfg', 'config.json'));
    expect(readConfigFile(env())).toEqual({ path: path.join(dir, 'cfg', 'config.json'), exists: false, values: {} });
  });

  it('is written owner-only in an owner-only folder, keeping keys it was not asked to change', async () => {
    await updateConfigFile(env(), { port: 9000, logFormat: 'json' });
    await updateConfigFile(env(), { port: 9001, logFormat: undefined });
    const file = configFilePath(env());
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ port: 9001 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(readConfigFile(env()).values).toEqual({ port: 9001 });
  });

  it.each([
    ['{"prot": 1}', 'unknown setting "prot" (did you mean "port"?)'],
    ['{"port": "x"}', '"port" must be a whole number from 0 to 65535 (got "x")'],
    ['[1]', 'must hold a JSON object'],
    ['{"port": 1,', 'is not valid JSON'],
  ])('refuses %s', (text, message) => {
    mkdirSync(path.join(dir, 'cfg'));
    writeFileSync(configFilePath(env()), text);
    expect(() => readConfigFile(env())).toThrow(ConfigFileError);
    expect(() => readConfigFile(env())).toThrow(message);
  });

  it('refuses to save a bad value and leaves the file as it was', async () => {
    await updateConfigFile(env(), { port: 9000 });
    await expect(updateConfigFile(env(), { strategy: 'random' })).rejects.toThrow('"strategy" must be priority or round-robin');
    expect(JSON.parse(readFileSync(configFilePath(env()), 'utf8'))).toEqual({ port: 9000 });
  });
});
