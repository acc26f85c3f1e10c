// Writes the bridge's `env` block into Claude Code's user settings, the careful way: keep every
// other key (and every other env entry), drop entries that would override ours, back up the old
// file next to it first, write atomically and owner-only (the file now holds the client key).
// A file that is not valid JSON is never overwritten: the user may be mid-edit. No VS Code import.
import { chmod, copyFile, mkdir, readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';

export class ClaudeSettingsError extends Error {
  override readonly name = 'ClaudeSettingsError';
}

/** Claude Code's user settings file: $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json. */
export function claudeSettingsPath(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  const dir = env.CLAUDE_CONFIG_DIR?.trim() || path.join(home, '.claude');
  return path.join(dir, 'settings.json');
}

export interface EnvMerge {
  text: string;
  /** Keys whose value is new or different. */
  changed: string[];
  /** Conflicting keys that were removed. */
  removed: string[];
}

/**
 * Merges `env` into the settings JSON `existing` (undefined: no file yet) and removes `drop`.
 * Throws ClaudeSettingsError when the text is not a JSON object or its `env` is not an object.
 */
export function mergeClaudeEnv(existing: string | undefined, env: Record<string, string>, drop: readonly string[] = []): EnvMerge {
  let settings: Record<string, unknown> = {};
  if (existing !== undefined && existing.replace(/^\uFEFF/, '').trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing.replace(/^\uFEFF/, ''));
    } catch (error) {
      throw new ClaudeSettingsError(`it is not valid JSON (${(error as Error).message}); fix it, then try again`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ClaudeSettingsError('it does not hold a JSON object');
    settings = parsed as Record<string, unknown>;
  }
  const current = settings.env;
  if (current !== undefined && (current === null || typeof current !== 'object' || Array.isArray(current))) {
    throw new ClaudeSettingsError('its "env" entry is not an object');
  }
  const next: Record<string, unknown> = { ...(current as Record<string, unknown> | undefined) };
  const changed: string[] = [];
  const removed: string[] = [];
  for (const key of drop) {
    if (key in next && !(key in env)) {
      delete next[key];
      removed.push(key);
    }
  }
  for (const [key, value] of Object.entries(env)) {
    if (next[key] !== value) changed.push(key);
    next[key] = value;
  }
  const text = `${JSON.stringify({ ...settings, env: next }, null, 2)}\n`;
  return { text, changed, removed };
}

export interface ClaudeWriteResult extends EnvMerge {
  file: string;
  /** Where the previous file was copied (absent when there was none). */
  backup?: string;
}

/** Merges and writes. `now` names the backup (tests pass a fixed clock). */
export async function writeClaudeEnv(
  file: string,
  env: Record<string, string>,
  drop: readonly string[] = [],
  now: Date = new Date(),
): Promise<ClaudeWriteResult> {
  let existing: string | undefined;
  try {
    existing = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ClaudeSettingsError(`could not read it: ${(error as Error).message}`);
  }
  const merged = mergeClaudeEnv(existing, env, drop);
  let backup: string | undefined;
  if (existing !== undefined) {
    backup = `${file}.kiro-bridge-backup-${now.toISOString().replace(/[:.]/g, '-')}`;
    await copyFile(file, backup);
    // The old file may hold keys too.
    await chmod(backup, 0o600).catch(() => undefined);
  } else {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  }
  await writeFileAtomic(file, merged.text, { mode: 0o600 });
  return { ...merged, file, backup };
}
