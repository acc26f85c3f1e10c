// The CLI's settings, one table: each setting's flag, environment variable, config-file key,
// default and parser. Precedence is flags > environment > config file > defaults; model aliases
// and allowed origins add up across the sources instead (a flag adds an alias, it does not wipe
// the config file's). Help text and `kiro-bridge config show` are generated from the same table.
import { CAPTURE_MODES, type CaptureMode } from '../traffic/traffic';
import { DEFAULT_CONFIG, parseByteSize } from '../bridge/config';
import { validateUpstreamBase } from '../kiro/http/endpoints';
import type { SelectionStrategy } from '../kiro/accounts/selection';
import { validateProxyUrl } from '../kiro/http/proxy-settings';

export type LogFormat = 'pretty' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json'];

export interface CliSettings {
  port: number;
  host: string;
  strategy: SelectionStrategy;
  logFormat: LogFormat;
  modelAliases: Record<string, string>;
  allowedOrigins: string[];
  pingIntervalSeconds: number;
  requestTimeoutSeconds: number;
  bodyLimit: number;
  thinkingBudget: number;
  captureBodies: CaptureMode;
  region: string;
  upstreamBase?: string;
  /** The key clients must send; unset means a key generated for one run. */
  apiKey?: string;
  /** Outbound proxy for Kiro (HTTPS_PROXY when the environment names none). */
  proxy?: string;
  noProxy?: string;
}

export type SettingKey = keyof CliSettings;
export type SettingSource = 'flag' | 'env' | 'config' | 'default';

export class SettingError extends Error {}

type Kind =
  | { type: 'integer'; min: number; max: number }
  | { type: 'number'; min: number }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'string' }
  | { type: 'size' }
  | { type: 'url' }
  | { type: 'proxy' }
  | { type: 'aliases' }
  | { type: 'origins' };

export interface SettingSpec {
  key: SettingKey;
  /** Long flag name (serve), without the dashes. */
  flag?: string;
  env?: string;
  kind: Kind;
  /** What the help shows as the value, e.g. N or NAME=MODEL. */
  valueName: string;
  describe: string;
  /** Never shown in full by `config show`. */
  secret?: boolean;
}

export const SETTINGS: readonly SettingSpec[] = [
  {
    key: 'port',
    flag: 'port',
    env: 'KIRO_BRIDGE_PORT',
    kind: { type: 'integer', min: 0, max: 65535 },
    valueName: 'N',
    describe: `port to listen on (default ${DEFAULT_CONFIG.port}; 0 picks a free one)`,
  },
  {
    key: 'host',
    flag: 'host',
    env: 'KIRO_BRIDGE_HOST',
    kind: { type: 'string' },
    valueName: 'HOST',
    describe: `address to bind (default ${DEFAULT_CONFIG.host}; anything else exposes your Kiro account to the network, guarded only by the key)`,
  },
  {
    key: 'strategy',
    flag: 'strategy',
    env: 'KIRO_BRIDGE_STRATEGY',
    kind: { type: 'enum', values: ['priority', 'round-robin'] },
    valueName: 'NAME',
    describe: 'which account serves: priority (stay on one until it cannot serve; default) or round-robin (take turns)',
  },
  {
    key: 'logFormat',
    flag: 'log-format',
    env: 'KIRO_BRIDGE_LOG_FORMAT',
    kind: { type: 'enum', values: LOG_FORMATS },
    valueName: 'FORMAT',
    describe: 'stderr log lines: pretty (default) or json (one JSON object a line)',
  },
  {
    key: 'modelAliases',
    flag: 'alias',
    env: 'KIRO_BRIDGE_MODEL_ALIASES',
    kind: { type: 'aliases' },
    valueName: 'NAME=MODEL',
    describe: 'accept model NAME as MODEL (repeatable; comma-separated in the variable), e.g. gpt-4o=claude-sonnet-4-5',
  },
  {
    key: 'allowedOrigins',
    flag: 'allow-origin',
    env: 'KIRO_BRIDGE_ALLOWED_ORIGINS',
    kind: { type: 'origins' },
    valueName: 'ORIGIN',
    describe: 'let a browser page on ORIGIN call the bridge (repeatable; comma-separated in the variable)',
  },
  {
    key: 'pingIntervalSeconds',
    flag: 'ping-interval',
    kind: { type: 'number', min: 0.05 },
    valueName: 'S',
    describe: `seconds between SSE pings while waiting for Kiro (default ${DEFAULT_CONFIG.pingIntervalSeconds})`,
  },
  {
    key: 'requestTimeoutSeconds',
    flag: 'timeout',
    kind: { type: 'number', min: 1 },
    valueName: 'S',
    describe: `seconds Kiro may stay silent before the request fails (default ${DEFAULT_CONFIG.requestTimeoutSeconds})`,
  },
  { key: 'bodyLimit', flag: 'body-limit', kind: { type: 'size' }, valueName: 'SIZE', describe: 'largest request body, e.g. 50mb (default 50mb)' },
  {
    key: 'thinkingBudget',
    flag: 'thinking-budget',
    kind: { type: 'integer', min: 1024, max: 1_000_000 },
    valueName: 'N',
    describe: `thinking budget for "-thinking" model names (default ${DEFAULT_CONFIG.thinkingDefaultBudget})`,
  },
  {
    key: 'captureBodies',
    flag: 'capture',
    kind: { type: 'enum', values: CAPTURE_MODES },
    valueName: 'MODE',
    describe: 'keep request bodies in the traffic record: off | redacted | full (default off)',
  },
  {
    key: 'region',
    flag: 'region',
    env: 'KIRO_BRIDGE_REGION',
    kind: { type: 'string' },
    valueName: 'REGION',
    describe: `Kiro region when an account names none (default ${DEFAULT_CONFIG.region})`,
  },
  {
    key: 'upstreamBase',
    env: 'KIRO_BRIDGE_UPSTREAM_BASE',
    kind: { type: 'url' },
    valueName: 'URL',
    describe: 'one base URL replacing every Kiro host (tests, gateways)',
  },
  {
    key: 'apiKey',
    env: 'KIRO_BRIDGE_API_KEY',
    kind: { type: 'string' },
    valueName: 'KEY',
    describe: 'the key clients must send (no flag: other users could read it from the process list)',
    secret: true,
  },
  {
    key: 'proxy',
    env: 'HTTPS_PROXY',
    kind: { type: 'proxy' },
    valueName: 'URL',
    describe: 'reach Kiro through this proxy (HTTPS_PROXY / HTTP_PROXY, either case, win over it)',
  },
  { key: 'noProxy', env: 'NO_PROXY', kind: { type: 'string' }, valueName: 'HOSTS', describe: 'hosts to reach without the proxy (NO_PROXY)' },
];

export const SETTING_KEYS: readonly SettingKey[] = SETTINGS.map((s) => s.key);

export function settingSpec(key: string): SettingSpec | undefined {
  return SETTINGS.find((s) => s.key === key);
}

export const DEFAULT_SETTINGS: CliSettings = {
  port: DEFAULT_CONFIG.port,
  host: DEFAULT_CONFIG.host,
  strategy: 'priority',
  logFormat: 'pretty',
  modelAliases: {},
  allowedOrigins: [],
  pingIntervalSeconds: DEFAULT_CONFIG.pingIntervalSeconds,
  requestTimeoutSeconds: DEFAULT_CONFIG.requestTimeoutSeconds,
  bodyLimit: DEFAULT_CONFIG.bodyLimit,
  thinkingBudget: DEFAULT_CONFIG.thinkingDefaultBudget,
  captureBodies: DEFAULT_CONFIG.captureBodies,
  region: DEFAULT_CONFIG.region,
};

function describeKind(kind: Kind): string {
  switch (kind.type) {
    case 'integer':
      return `a whole number from ${kind.min} to ${kind.max}`;
    case 'number':
      return `a number ≥ ${kind.min}`;
    case 'enum':
      return kind.values.join(' or ');
    case 'size':
      return 'a size like 50mb';
    case 'url':
      return 'an http(s) URL';
    case 'proxy':
      return 'a proxy URL like http://proxy:8080';
    case 'aliases':
      return 'NAME=MODEL pairs';
    case 'origins':
      return 'origins like http://localhost:3000';
    default:
      return 'text';
  }
}

/** Splits "a=b, c=d" or a list of such items into a map. */
function parseAliases(items: readonly unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    if (typeof item !== 'string') throw new SettingError('must be NAME=MODEL text');
    for (const part of item.split(',')) {
      const text = part.trim();
      if (!text) continue;
      const eq = text.indexOf('=');
      if (eq <= 0 || eq === text.length - 1) throw new SettingError(`must look like NAME=MODEL (got "${text.slice(0, 60)}")`);
      out[text.slice(0, eq).trim()] = text.slice(eq + 1).trim();
    }
  }
  return out;
}

/**
 * Parses one value of `spec` from a flag (string or repeated strings), a variable (string) or
 * the config file (any JSON). Throws SettingError saying what is wrong (without the value for
 * secrets).
 */
export function parseSetting(spec: SettingSpec, raw: unknown): unknown {
  const fail = (detail?: string): never => {
    const shown = spec.secret || raw === undefined ? '' : ` (got ${JSON.stringify(raw).slice(0, 60)})`;
    throw new SettingError(detail ?? `must be ${describeKind(spec.kind)}${shown}`);
  };
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  switch (spec.kind.type) {
    case 'integer':
    case 'number': {
      const n = typeof raw === 'number' ? raw : text !== undefined && text !== '' ? Number(text) : NaN;
      if (!Number.isFinite(n) || n < spec.kind.min) return fail();
      if (spec.kind.type === 'integer' && (!Number.isInteger(n) || n > spec.kind.max)) return fail();
      return n;
    }
    case 'enum':
      if (text === undefined || !spec.kind.values.includes(text)) return fail();
      return text;
    case 'string':
      if (text === undefined || text === '') return fail('must not be empty');
      return text;
    case 'size': {
      const size = typeof raw === 'number' ? raw : text !== undefined ? parseByteSize(text) : undefined;
      if (size === undefined || !Number.isFinite(size) || size <= 0) return fail();
      return Math.floor(size);
    }
    case 'url':
      if (!text) return fail();
      try {
        return validateUpstreamBase(text);
      } catch (error) {
        return fail((error as Error).message);
      }
    case 'proxy':
      if (!text) return fail();
      try {
        validateProxyUrl(text);
      } catch (error) {
        return fail((error as Error).message);
      }
      return text;
    case 'aliases': {
      if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
        const entries = Object.entries(raw as Record<string, unknown>);
        if (entries.some(([k, v]) => !k.trim() || typeof v !== 'string' || !v.trim()))
          return fail('must map model names to model names, e.g. {"gpt-4o": "claude-sonnet-4-5"}');
        return Object.fromEntries(entries.map(([k, v]) => [k.trim(), (v as string).trim()]));
      }
      if (text !== undefined && text.startsWith('{')) {
        try {
          return parseSetting(spec, JSON.parse(text));
        } catch (error) {
          if (error instanceof SettingError) throw error;
          return fail('is not valid JSON');
        }
      }
      return parseAliases(Array.isArray(raw) ? raw : [raw]);
    }
    case 'origins': {
      const items = (Array.isArray(raw) ? raw : [raw]).flatMap((item) => (typeof item === 'string' ? item.split(',') : [item]));
      const out: string[] = [];
      for (const item of items) {
        if (typeof item !== 'string') return fail();
        const origin = item.trim();
        if (!origin) continue;
        if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) return fail(`must be origins like http://localhost:3000 (got "${origin.slice(0, 60)}")`);
        out.push(origin);
      }
      return out;
    }
  }
}

export interface SettingsInput {
  /** Parsed serve flags by flag name (repeatable ones as arrays). */
  flags?: Record<string, string | string[] | boolean | undefined>;
  env: NodeJS.ProcessEnv;
  /** The config file's values (already checked by readConfigFile). */
  file?: Partial<Record<SettingKey, unknown>>;
  fileLabel?: string;
}

export interface ResolvedSettings {
  settings: CliSettings;
  sources: Record<SettingKey, SettingSource>;
}

/** The environment value of a setting; proxies are read as kiro/http/proxy reads them (lower case first, HTTP_PROXY too). */
function envValue(spec: SettingSpec, env: NodeJS.ProcessEnv): string | undefined {
  if (!spec.env) return undefined;
  const names =
    spec.key === 'proxy' ? ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] : spec.key === 'noProxy' ? ['no_proxy', 'NO_PROXY'] : [spec.env];
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/** Applies flags > environment > config file > defaults. Throws SettingError naming the source. */
export function resolveSettings(input: SettingsInput): ResolvedSettings {
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS, modelAliases: {}, allowedOrigins: [] };
  const sources = Object.fromEntries(SETTING_KEYS.map((k) => [k, 'default'])) as Record<SettingKey, SettingSource>;
  const apply = (spec: SettingSpec, raw: unknown, source: SettingSource, label: string) => {
    let value: unknown;
    try {
      value = parseSetting(spec, raw);
    } catch (error) {
      if (error instanceof SettingError) throw new SettingError(`${label} ${error.message}`);
      throw error;
    }
    if (spec.kind.type === 'aliases') value = { ...(settings[spec.key] as Record<string, string>), ...(value as Record<string, string>) };
    if (spec.kind.type === 'origins') value = [...new Set([...(settings[spec.key] as string[]), ...(value as string[])])];
    settings[spec.key] = value;
    sources[spec.key] = source;
  };
  for (const spec of SETTINGS) {
    const fromFile = input.file?.[spec.key];
    if (fromFile !== undefined) apply(spec, fromFile, 'config', `${input.fileLabel ?? 'config file'} "${spec.key}"`);
    const fromEnv = envValue(spec, input.env);
    if (fromEnv !== undefined) apply(spec, fromEnv, 'env', spec.env!);
    const fromFlag = spec.flag ? input.flags?.[spec.flag] : undefined;
    if (fromFlag !== undefined && typeof fromFlag !== 'boolean') apply(spec, fromFlag, 'flag', `--${spec.flag}`);
  }
  return { settings: settings as unknown as CliSettings, sources };
}

/** parseArgs options for every setting that has a flag. */
export function settingFlags(): Record<string, { type: 'string'; multiple?: boolean }> {
  const out: Record<string, { type: 'string'; multiple?: boolean }> = {};
  for (const spec of SETTINGS) {
    if (!spec.flag) continue;
    out[spec.flag] = spec.kind.type === 'aliases' || spec.kind.type === 'origins' ? { type: 'string', multiple: true } : { type: 'string' };
  }
  return out;
}

/**
 * The environment the accounts code reads (region, upstream base, proxy), with the config file's
 * values filled in where the environment has none: the accounts service keeps reading only
 * variables, and the precedence stays in this module.
 */
export function accountsEnvironment(env: NodeJS.ProcessEnv, settings: CliSettings): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  // The default region stays implicit, as before there were settings.
  if (settings.region !== DEFAULT_SETTINGS.region || env.KIRO_BRIDGE_REGION?.trim()) out.KIRO_BRIDGE_REGION = settings.region;
  if (settings.upstreamBase) out.KIRO_BRIDGE_UPSTREAM_BASE = settings.upstreamBase;
  const hasProxy = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((n) => env[n]?.trim());
  if (!hasProxy && settings.proxy) out.HTTPS_PROXY = settings.proxy;
  const hasNoProxy = ['NO_PROXY', 'no_proxy'].some((n) => env[n]?.trim());
  if (!hasNoProxy && settings.noProxy) out.NO_PROXY = settings.noProxy;
  return out;
}

/** Help rows `  LEFT  description`, the description wrapped to fit 100 columns. */
export function helpRows(rows: readonly (readonly [string, string])[], width = 100): string {
  const left = Math.max(...rows.map(([l]) => l.length)) + 2;
  const room = Math.max(30, width - 2 - left);
  const wrap = (text: string): string[] => {
    const lines: string[] = [];
    let line = '';
    for (const word of text.split(' ')) {
      if (line && line.length + 1 + word.length > room) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    return [...lines, line];
  };
  return rows
    .map(([l, d]) =>
      wrap(d)
        .map((text, i) => `  ${(i === 0 ? l : '').padEnd(left)}${text}`)
        .join('\n'),
    )
    .join('\n');
}

/** The help lines for the settings that have a flag, then the command's own. */
export function flagHelp(own: readonly (readonly [string, string])[] = []): string {
  return helpRows([...SETTINGS.filter((s) => s.flag).map((s) => [`--${s.flag} ${s.valueName}`, s.describe] as const), ...own]);
}

/** Every setting's variable and config key, for help and the README. */
export function settingsTable(): string {
  const rows = SETTINGS.map((s) => [s.key, s.flag ? `--${s.flag}` : '–', s.env ?? '–'] as const);
  const w0 = Math.max(...rows.map((r) => r[0].length), 'config key'.length) + 2;
  const w1 = Math.max(...rows.map((r) => r[1].length), 'flag'.length) + 2;
  return [['config key', 'flag', 'environment'] as const, ...rows].map(([a, b, c]) => `  ${a.padEnd(w0)}${b.padEnd(w1)}${c}`).join('\n');
}
