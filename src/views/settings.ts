// The `kiroBridge.*` settings: one typed snapshot, read through a single function, with the
// defaults the manifest declares, and a change event that says which keys changed. Secrets are
// never settings (the API key and tokens live in SecretStorage). Pure apart from the small
// VsCodeSettings adapter at the end.
import * as vscode from 'vscode';
import type { IDisposable } from '../common/disposable';
import { CAPTURE_MODES, type CaptureMode } from '../traffic/traffic';
import { bridgeConfig, DEFAULT_CONFIG, type BridgeConfig } from '../bridge/config';

export const SECTION = 'kiroBridge';

/** Every setting key below `kiroBridge.`, as the manifest spells it. */
export const SETTING_KEYS = [
  'port',
  'host',
  'autoStart',
  'accountStrategy',
  'modelAliases',
  'thinking.defaultBudget',
  'requestTimeoutSeconds',
  'pingIntervalSeconds',
  'traffic.maxEntries',
  'traffic.captureBodies',
  'allowedOrigins',
  'region',
  'advanced.upstreamBase',
] as const;

export type SettingKey = (typeof SETTING_KEYS)[number];

/** Settings that only take effect when the bridge (and its accounts) start again. */
export const RESTART_KEYS: readonly SettingKey[] = ['port', 'host', 'region', 'advanced.upstreamBase'];

/** Settings the running bridge picks up at once. */
export const LIVE_KEYS: readonly SettingKey[] = [
  'modelAliases',
  'thinking.defaultBudget',
  'requestTimeoutSeconds',
  'pingIntervalSeconds',
  'traffic.captureBodies',
  'allowedOrigins',
];

/** Mirrors kiro/accounts/selection's strategies (`priority` stays on one account; see there why). */
export const ACCOUNT_STRATEGIES = ['priority', 'round-robin'] as const;
export type AccountStrategySetting = (typeof ACCOUNT_STRATEGIES)[number];

export interface ExtensionSettings {
  port: number;
  host: string;
  autoStart: boolean;
  accountStrategy: AccountStrategySetting;
  modelAliases: Record<string, string>;
  thinkingDefaultBudget: number;
  requestTimeoutSeconds: number;
  pingIntervalSeconds: number;
  trafficMaxEntries: number;
  captureBodies: CaptureMode;
  allowedOrigins: string[];
  region: string;
  /** Replaces every Kiro host (tests, corporate proxies); machine scoped. */
  upstreamBase: string | undefined;
}

export const DEFAULT_SETTINGS: ExtensionSettings = {
  port: DEFAULT_CONFIG.port,
  host: DEFAULT_CONFIG.host,
  autoStart: true,
  accountStrategy: 'priority',
  modelAliases: {},
  thinkingDefaultBudget: DEFAULT_CONFIG.thinkingDefaultBudget,
  requestTimeoutSeconds: DEFAULT_CONFIG.requestTimeoutSeconds,
  pingIntervalSeconds: DEFAULT_CONFIG.pingIntervalSeconds,
  trafficMaxEntries: 500,
  captureBodies: 'redacted',
  allowedOrigins: [],
  region: DEFAULT_CONFIG.region,
  upstreamBase: undefined,
};

export interface ParsedSettings {
  settings: ExtensionSettings;
  /** One line per value that was out of range or of the wrong type (the default was used). */
  problems: string[];
}

/**
 * Reads and checks every setting through `read` (a key below `kiroBridge.` → raw value or
 * undefined). Bad values fall back to the default and are listed, never thrown: a typo in
 * settings.json must not keep the bridge from starting.
 */
export function parseSettings(read: (key: SettingKey) => unknown): ParsedSettings {
  const problems: string[] = [];
  const bad = (key: SettingKey, value: unknown, expected: string) =>
    problems.push(`kiroBridge.${key}: ${JSON.stringify(value)} is not ${expected}; using the default`);

  const integer = (key: SettingKey, fallback: number, min: number, max: number): number => {
    const value = read(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      bad(key, value, `a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const number = (key: SettingKey, fallback: number, min: number, max: number): number => {
    const value = read(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      bad(key, value, `a number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const text = (key: SettingKey, fallback: string): string => {
    const value = read(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || !value.trim()) {
      bad(key, value, 'a non-empty string');
      return fallback;
    }
    return value.trim();
  };
  const oneOf = <T extends string>(key: SettingKey, choices: readonly T[], fallback: T): T => {
    const value = read(key);
    if (value === undefined || value === null) return fallback;
    if (!choices.includes(value as T)) {
      bad(key, value, `one of ${choices.join(', ')}`);
      return fallback;
    }
    return value as T;
  };

  const aliasesRaw = read('modelAliases');
  const modelAliases: Record<string, string> = {};
  if (aliasesRaw !== undefined && aliasesRaw !== null) {
    if (typeof aliasesRaw !== 'object' || Array.isArray(aliasesRaw)) bad('modelAliases', aliasesRaw, 'an object of model names');
    else {
      for (const [from, to] of Object.entries(aliasesRaw as Record<string, unknown>)) {
        if (typeof to === 'string' && from.trim() && to.trim()) modelAliases[from.trim()] = to.trim();
        else problems.push(`kiroBridge.modelAliases: the alias "${from}" needs a model name as its value; ignored`);
      }
    }
  }

  const originsRaw = read('allowedOrigins');
  let allowedOrigins: string[] = [];
  if (originsRaw !== undefined && originsRaw !== null) {
    if (!Array.isArray(originsRaw)) bad('allowedOrigins', originsRaw, 'a list of origins');
    else {
      allowedOrigins = originsRaw.filter((o): o is string => typeof o === 'string' && o.trim() !== '').map((o) => o.trim().replace(/\/+$/, ''));
      if (allowedOrigins.length !== originsRaw.length) problems.push('kiroBridge.allowedOrigins: entries that are not origin strings were ignored');
    }
  }

  const upstreamRaw = read('advanced.upstreamBase');
  let upstreamBase: string | undefined;
  if (typeof upstreamRaw === 'string' && upstreamRaw.trim()) {
    const candidate = upstreamRaw.trim();
    if (/^https?:\/\/[^\s/]+/i.test(candidate)) upstreamBase = candidate.replace(/\/+$/, '');
    else bad('advanced.upstreamBase', upstreamRaw, 'an http(s) URL');
  } else if (upstreamRaw !== undefined && upstreamRaw !== null && upstreamRaw !== '') {
    bad('advanced.upstreamBase', upstreamRaw, 'an http(s) URL');
  }

  const autoStartRaw = read('autoStart');
  let autoStart = DEFAULT_SETTINGS.autoStart;
  if (typeof autoStartRaw === 'boolean') autoStart = autoStartRaw;
  else if (autoStartRaw !== undefined && autoStartRaw !== null) bad('autoStart', autoStartRaw, 'true or false');

  return {
    settings: {
      port: integer('port', DEFAULT_SETTINGS.port, 1, 65535),
      host: text('host', DEFAULT_SETTINGS.host),
      autoStart,
      accountStrategy: oneOf('accountStrategy', ACCOUNT_STRATEGIES, DEFAULT_SETTINGS.accountStrategy),
      modelAliases,
      thinkingDefaultBudget: integer('thinking.defaultBudget', DEFAULT_SETTINGS.thinkingDefaultBudget, 1024, 128_000),
      requestTimeoutSeconds: number('requestTimeoutSeconds', DEFAULT_SETTINGS.requestTimeoutSeconds, 10, 3600),
      pingIntervalSeconds: number('pingIntervalSeconds', DEFAULT_SETTINGS.pingIntervalSeconds, 1, 120),
      trafficMaxEntries: integer('traffic.maxEntries', DEFAULT_SETTINGS.trafficMaxEntries, 10, 10_000),
      captureBodies: oneOf('traffic.captureBodies', CAPTURE_MODES, DEFAULT_SETTINGS.captureBodies),
      allowedOrigins,
      region: text('region', DEFAULT_SETTINGS.region),
      upstreamBase,
    },
    problems,
  };
}

/** The bridge's configuration for these settings and the client key. */
export function toBridgeConfig(settings: ExtensionSettings, apiKey: string): BridgeConfig {
  return bridgeConfig({
    apiKey,
    port: settings.port,
    host: settings.host,
    region: settings.region,
    upstreamBase: settings.upstreamBase,
    pingIntervalSeconds: settings.pingIntervalSeconds,
    requestTimeoutSeconds: settings.requestTimeoutSeconds,
    allowedOrigins: settings.allowedOrigins,
    modelAliases: settings.modelAliases,
    thinkingDefaultBudget: settings.thinkingDefaultBudget,
    captureBodies: settings.captureBodies,
    // In an editor, in-flight answers deserve a moment to finish when the user stops the bridge.
    stopGraceSeconds: 3,
  });
}

/** The part of the bridge configuration the running bridge can take without a restart. */
export function liveConfigPatch(settings: ExtensionSettings): Partial<BridgeConfig> {
  return {
    modelAliases: settings.modelAliases,
    thinkingDefaultBudget: settings.thinkingDefaultBudget,
    requestTimeoutSeconds: settings.requestTimeoutSeconds,
    pingIntervalSeconds: settings.pingIntervalSeconds,
    captureBodies: settings.captureBodies,
    allowedOrigins: settings.allowedOrigins,
  };
}

export interface SettingsSource {
  read(): ParsedSettings;
  /** Fires with the keys that changed. */
  onDidChange(listener: (changed: ReadonlySet<SettingKey>) => void): IDisposable;
  /** Writes a user (global) setting. */
  update(key: SettingKey, value: unknown): Promise<void>;
}

/** The settings as VS Code holds them. */
export class VsCodeSettings implements SettingsSource {
  read(): ParsedSettings {
    const section = vscode.workspace.getConfiguration(SECTION);
    return parseSettings((key) => section.get(key));
  }

  onDidChange(listener: (changed: ReadonlySet<SettingKey>) => void): IDisposable {
    return vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      const changed = new Set(SETTING_KEYS.filter((key) => e.affectsConfiguration(`${SECTION}.${key}`)));
      if (changed.size) listener(changed);
    });
  }

  async update(key: SettingKey, value: unknown): Promise<void> {
    await vscode.workspace.getConfiguration(SECTION).update(key, value, vscode.ConfigurationTarget.Global);
  }
}
