// The CLI's config file: config.json beside accounts.json in the platform's config folder
// (KIRO_BRIDGE_CONFIG_DIR overrides it), holding any of the settings in settings.ts. Checked when
// read — an unknown key (a typo) or a bad value is an error naming the file and the key, never
// silently ignored. Written atomically and owner-only: it may hold the bridge key.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { configDir } from './cli-base';
import { parseSetting, SETTING_KEYS, SettingError, settingSpec, type SettingKey } from './settings';

export const CONFIG_FILE_NAME = 'config.json';

export interface ConfigFile {
  path: string;
  exists: boolean;
  values: Partial<Record<SettingKey, unknown>>;
}

export class ConfigFileError extends Error {}

export function configFilePath(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), CONFIG_FILE_NAME);
}

/** The known key closest to a typo (edit distance ≤ 3), for "did you mean". */
function closestKey(key: string): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  let best: { key: string; d: number } | undefined;
  for (const known of SETTING_KEYS) {
    const d = distance(key.toLowerCase(), known.toLowerCase());
    if (d <= 3 && (!best || d < best.d)) best = { key: known, d };
  }
  return best?.key;
}

export function unknownKeyMessage(key: string): string {
  const guess = closestKey(key);
  return `unknown setting "${key.slice(0, 40)}"${guess ? ` (did you mean "${guess}"?)` : ''}; known: ${SETTING_KEYS.join(', ')}`;
}

/** Checks parsed JSON as a config object; throws ConfigFileError naming the key. */
export function checkConfigValues(parsed: unknown, label: string): Partial<Record<SettingKey, unknown>> {
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigFileError(`${label} must hold a JSON object, e.g. {"port": 8765}`);
  const values: Partial<Record<SettingKey, unknown>> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (key === '$schema' || key.startsWith('//')) continue;
    const spec = settingSpec(key);
    if (!spec) throw new ConfigFileError(`${label}: ${unknownKeyMessage(key)}`);
    if (value === null) continue;
    try {
      parseSetting(spec, value);
    } catch (error) {
      if (error instanceof SettingError) throw new ConfigFileError(`${label}: "${key}" ${error.message}`);
      throw error;
    }
    values[spec.key] = value;
  }
  return values;
}

/** Reads and checks the config file; a missing file is an empty one. */
export function readConfigFile(env: NodeJS.ProcessEnv): ConfigFile {
  const file = configFilePath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path: file, exists: false, values: {} };
    throw new ConfigFileError(`could not read ${file}: ${(error as Error).message}`);
  }
  if (text.replace(/^\uFEFF/, '').trim() === '') return { path: file, exists: true, values: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ConfigFileError(`${file} is not valid JSON (${(error as Error).message})`);
  }
  return { path: file, exists: true, values: checkConfigValues(parsed, file) };
}

/**
 * Sets (or, with undefined, removes) keys in the config file, keeping every other key as it is.
 * The folder is created owner-only; the file is written atomically with mode 0600.
 */
export async function updateConfigFile(env: NodeJS.ProcessEnv, patch: Partial<Record<SettingKey, unknown>>): Promise<ConfigFile> {
  const current = readConfigFile(env);
  let raw: Record<string, unknown> = {};
  if (current.exists) {
    try {
      raw = JSON.parse(readFileSync(current.path, 'utf8').replace(/^\uFEFF/, '') || '{}') as Record<string, unknown>;
    } catch {
      raw = {};
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete raw[key];
    else raw[key] = value;
  }
  const values = checkConfigValues(raw, current.path);
  await mkdir(path.dirname(current.path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(current.path, `${JSON.stringify(raw, null, 2)}\n`, { mode: 0o600 });
  return { path: current.path, exists: true, values };
}
