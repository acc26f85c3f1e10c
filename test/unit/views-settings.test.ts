import { beforeEach, describe, expect, it } from 'vitest';
import { mock } from '../support/vscode-mock';
import { Redactor } from '../../src/common/redact';
import { MemorySecretStore } from '../../src/common/secret-store';
import { API_KEY_SECRET, ApiKeyStore } from '../../src/views/api-key';
import { clientBaseUrl, isLoopbackHost } from '../../src/clients/addresses';
import { DEFAULT_SETTINGS, liveConfigPatch, parseSettings, SETTING_KEYS, toBridgeConfig, VsCodeSettings, type SettingKey } from '../../src/views/settings';
import { VsCodeSecretStore } from '../../src/views/vscode-secret-store';
import { manifest } from '../support/manifest';

beforeEach(() => mock.reset());

describe('parseSettings', () => {
  it('gives the documented defaults when nothing is set', () => {
    const { settings, problems } = parseSettings(() => undefined);
    expect(problems).toEqual([]);
    expect(settings).toEqual(DEFAULT_SETTINGS);
    expect(settings).toMatchObject({ port: 8765, host: '127.0.0.1', captureBodies: 'redacted' });
  });

  it('reads every key', () => {
    const values: Partial<Record<SettingKey, unknown>> = {
      port: 9000,
      host: 'localhost',
      autoStart: false,
      accountStrategy: 'round-robin',
      modelAliases: { 'gpt-4o': 'claude-sonnet-4-5' },
      'thinking.defaultBudget': 8000,
      requestTimeoutSeconds: 120,
      pingIntervalSeconds: 5,
      'traffic.maxEntries': 1000,
      'traffic.captureBodies': 'full',
      allowedOrigins: ['http://localhost:3000/'],
      region: 'eu-central-1',
      'advanced.upstreamBase': 'http://127.0.0.1:9999/',
    };
    const { settings, problems } = parseSettings((k) => values[k]);
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      port: 9000,
      host: 'localhost',
      autoStart: false,
      accountStrategy: 'round-robin',
      modelAliases: { 'gpt-4o': 'claude-sonnet-4-5' },
      thinkingDefaultBudget: 8000,
      requestTimeoutSeconds: 120,
      pingIntervalSeconds: 5,
      trafficMaxEntries: 1000,
      captureBodies: 'full',
      allowedOrigins: ['http://localhost:3000'],
      region: 'eu-central-1',
      upstreamBase: 'http://127.0.0.1:9999',
    });
  });

  it('falls back to the default for each bad value and says which', () => {
    const values: Partial<Record<SettingKey, unknown>> = {
      port: 70000,
      host: '  ',
      autoStart: 'yes',
      accountStrategy: 'random',
      modelAliases: { good: 'claude-sonnet-4-5', bad: 42 },
      'traffic.captureBodies': 'everything',
      allowedOrigins: 'http://x',
      'advanced.upstreamBase': 'ftp://nope',
      requestTimeoutSeconds: -1,
    };
    const { settings, problems } = parseSettings((k) => values[k]);
    expect(settings.port).toBe(8765);
    expect(settings.host).toBe('127.0.0.1');
    expect(settings.autoStart).toBe(DEFAULT_SETTINGS.autoStart);
    expect(settings.accountStrategy).toBe(DEFAULT_SETTINGS.accountStrategy);
    expect(settings.modelAliases).toEqual({ good: 'claude-sonnet-4-5' });
    expect(settings.captureBodies).toBe('redacted');
    expect(settings.allowedOrigins).toEqual([]);
    expect(settings.upstreamBase).toBeUndefined();
    expect(settings.requestTimeoutSeconds).toBe(DEFAULT_SETTINGS.requestTimeoutSeconds);
    for (const key of [
      'port',
      'host',
      'autoStart',
      'accountStrategy',
      'modelAliases',
      'traffic.captureBodies',
      'allowedOrigins',
      'advanced.upstreamBase',
      'requestTimeoutSeconds',
    ]) {
      expect(problems.some((p) => p.startsWith(`kiroBridge.${key}:`))).toBe(true);
    }
  });

  it('agrees with the manifest: every key is declared, with the same default', () => {
    const declared = manifest.contributes.configuration.properties;
    for (const key of SETTING_KEYS) {
      const entry = declared[`kiroBridge.${key}`];
      expect(entry, `kiroBridge.${key} is declared`).toBeDefined();
      const parsed = parseSettings((k) => (k === key ? entry!.default : undefined));
      expect(parsed.problems, `default of kiroBridge.${key} parses`).toEqual([]);
    }
    expect(parseSettings((k) => declared[`kiroBridge.${k}`]?.default).settings).toEqual(DEFAULT_SETTINGS);
    expect(declared['kiroBridge.advanced.upstreamBase']!.scope).toBe('machine');
    expect(declared['kiroBridge.host']!.scope).toBe('machine');
    expect(declared['kiroBridge.accountStrategy']!.enum).toEqual(['priority', 'round-robin']);
  });
});

describe('toBridgeConfig', () => {
  it('maps settings and the key, and lets in-flight answers finish on stop', () => {
    const config = toBridgeConfig({ ...DEFAULT_SETTINGS, port: 9100, captureBodies: 'off', upstreamBase: 'http://127.0.0.1:1' }, 'kb-key-0123456789');
    expect(config).toMatchObject({ port: 9100, host: '127.0.0.1', apiKey: 'kb-key-0123456789', captureBodies: 'off', upstreamBase: 'http://127.0.0.1:1' });
    expect(config.stopGraceSeconds).toBeGreaterThan(0);
  });

  it('the live patch holds only what the running bridge can change', () => {
    const patch = liveConfigPatch({ ...DEFAULT_SETTINGS, port: 1, host: '0.0.0.0' });
    expect(Object.keys(patch).sort()).toEqual([
      'allowedOrigins',
      'captureBodies',
      'modelAliases',
      'pingIntervalSeconds',
      'requestTimeoutSeconds',
      'thinkingDefaultBudget',
    ]);
  });
});

describe('VsCodeSettings', () => {
  it('reads the kiroBridge section and reports which keys changed', () => {
    const source = new VsCodeSettings();
    mock.setConfig('kiroBridge.port', 9001);
    expect(source.read().settings.port).toBe(9001);
    const changes: string[][] = [];
    const sub = source.onDidChange((changed) => changes.push([...changed]));
    mock.setConfig('kiroBridge.traffic.captureBodies', 'off');
    mock.setConfig('kiroBridge.host', '0.0.0.0');
    mock.setConfig('editor.fontSize', 14);
    expect(changes).toEqual([['traffic.captureBodies'], ['host']]);
    sub.dispose();
    mock.setConfig('kiroBridge.port', 9002);
    expect(changes).toHaveLength(2);
  });

  it('writes user settings', async () => {
    await new VsCodeSettings().update('port', 9200);
    expect(mock.configUpdates).toEqual([{ key: 'kiroBridge.port', value: 9200, target: 1 }]);
    expect(new VsCodeSettings().read().settings.port).toBe(9200);
  });
});

describe('addresses', () => {
  it('knows loopback from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('gives clients a reachable URL for wildcard and IPv6 binds', () => {
    expect(clientBaseUrl('127.0.0.1', 8765)).toBe('http://127.0.0.1:8765');
    expect(clientBaseUrl('0.0.0.0', 8765)).toBe('http://127.0.0.1:8765');
    expect(clientBaseUrl('::', 1)).toBe('http://127.0.0.1:1');
    expect(clientBaseUrl('::1', 2)).toBe('http://[::1]:2');
  });
});

describe('ApiKeyStore', () => {
  it('creates the key once, stores it as a secret and registers it with the redactor', async () => {
    const secrets = new MemorySecretStore();
    const redactor = new Redactor();
    let made = 0;
    const store = new ApiKeyStore(secrets, () => `kb-generated-${++made}-abcdefghijkl`, redactor);
    const [a, b] = await Promise.all([store.get(), store.get()]);
    expect(a).toBe('kb-generated-1-abcdefghijkl');
    expect(b).toBe(a);
    expect(made).toBe(1);
    expect(await secrets.get(API_KEY_SECRET)).toBe(a);
    expect(redactor.text(`key=${a}`)).not.toContain(a);
  });

  it('reuses a stored key', async () => {
    const secrets = new MemorySecretStore();
    await secrets.set(API_KEY_SECRET, 'kb-existing-key-0123456789');
    const store = new ApiKeyStore(secrets, () => 'kb-never', new Redactor());
    expect(await store.get()).toBe('kb-existing-key-0123456789');
  });

  it('regenerate replaces the key and tells listeners', async () => {
    const secrets = new MemorySecretStore();
    const store = new ApiKeyStore(
      secrets,
      (() => {
        let n = 0;
        return () => `kb-key-number-${++n}-0123456789`;
      })(),
      new Redactor(),
    );
    const first = await store.get();
    const seen: string[] = [];
    store.onDidChange((k) => seen.push(k));
    const second = await store.regenerate();
    expect(second).not.toBe(first);
    expect(await store.get()).toBe(second);
    expect(seen).toEqual([second]);
  });

  it('adopts a key another window stored (VS Code only tells other windows)', async () => {
    const context = mock.extensionContext();
    const secrets = new VsCodeSecretStore(context.secrets as never);
    const store = new ApiKeyStore(secrets, () => 'kb-this-window-0123456789', new Redactor());
    expect(await store.get()).toBe('kb-this-window-0123456789');
    const seen: string[] = [];
    store.onDidChange((k) => seen.push(k));
    context.secrets.changeFromOtherWindow(API_KEY_SECRET, 'kb-other-window-0123456789');
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(['kb-other-window-0123456789']);
    expect(await store.get()).toBe('kb-other-window-0123456789');
    // The same value fired twice (VS Code does that) is not a change.
    context.secrets.changeFromOtherWindow(API_KEY_SECRET, 'kb-other-window-0123456789');
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toHaveLength(1);
  });
});
