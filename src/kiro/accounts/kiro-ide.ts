// The Kiro IDE's own login (docs/kiro-protocol.md#kiro-ide-login): read
// `~/.aws/sso/cache/kiro-auth-token.json` (and, for Builder ID / Identity Center logins, the client
// registration `{clientIdHash}.json` beside it) so the bridge can import a copy, and watch it so a
// token the running IDE refreshed or rotated is adopted. Kiro's files are only ever read.
import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { IDisposable } from '../../common/disposable';
import type { AuthKind } from './credentials';

export const KIRO_IDE_TOKEN_FILE = 'kiro-auth-token.json';

/** `~/.aws/sso/cache` (`%USERPROFILE%\.aws\sso\cache` on Windows). */
export function defaultKiroCacheDir(home: string = homedir()): string {
  return path.join(home, '.aws', 'sso', 'cache');
}

export type KiroIdeErrorCode = 'missing' | 'unreadable' | 'invalid' | 'unsupported' | 'registration_missing' | 'registration_invalid' | 'registration_expired';

export class KiroIdeImportError extends Error {
  override readonly name = 'KiroIdeImportError';
  constructor(
    readonly code: KiroIdeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface KiroIdeLogin {
  kind: AuthKind;
  refreshToken: string;
  /** The IDE's current access token, when the file has one. */
  accessToken?: string;
  /** Epoch ms when `accessToken` expires. */
  expiresAt?: number;
  profileArn?: string;
  region?: string;
  /** Github, Google, BuilderId, Enterprise… */
  provider?: string;
  email?: string;
  clientId?: string;
  clientSecret?: string;
  /** Epoch ms when the IdC client registration expires. */
  registrationExpiresAt?: number;
  /** The token file this came from. */
  file: string;
}

/**
 * `expiresAt` in the forms the IDE writes: ISO-8601 with `Z` and milliseconds, or with `+00:00`
 * and microseconds (which `Date.parse` rejects in some engines), or epoch seconds / milliseconds.
 */
export function parseExpiresAt(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value > 1e12 ? Math.round(value) : Math.round(value * 1000);
  if (typeof value !== 'string' || !value.trim()) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return parseExpiresAt(Number(text));
  // Keep at most milliseconds: "2026-01-02T03:04:05.123456+00:00" → "…05.123+00:00".
  const normalised = text.replace(/(\.\d{3})\d+/, '$1').replace(/ /, 'T');
  const ms = Date.parse(normalised);
  return Number.isNaN(ms) ? undefined : ms;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function str(obj: Record<string, unknown>, key: string): string | undefined {
  const value = obj[key];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

function parseJsonObject(text: string, what: string, code: KiroIdeErrorCode): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripBom(text));
  } catch {
    // Never quote the content: it is full of secrets.
    throw new KiroIdeImportError(code, `${what} is not valid JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new KiroIdeImportError(code, `${what} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

async function readText(file: string, missing: KiroIdeErrorCode, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new KiroIdeImportError(missing, `${what} was not found (${file})`);
    throw new KiroIdeImportError('unreadable', `${what} could not be read (${code ?? (error as Error).message}: ${file})`);
  }
}

function kindOf(authMethod: string | undefined, provider: string | undefined, hasRegistration: boolean): AuthKind | undefined {
  const method = authMethod?.toLowerCase();
  if (method === 'social') return 'Social';
  if (method === 'idc' || method === 'builderid' || method === 'builder-id' || method === 'iam_identity_center') return 'IdC';
  if (method === undefined) {
    const p = provider?.toLowerCase();
    if (p === 'github' || p === 'google') return 'Social';
    if (p === 'builderid' || p === 'enterprise' || hasRegistration) return 'IdC';
    return 'Social';
  }
  return undefined;
}

/**
 * Reads the IDE login from `cacheDir`. Errors are KiroIdeImportError with a message a user can act
 * on, never quoting a token.
 */
export async function readKiroIdeLogin(cacheDir: string = defaultKiroCacheDir(), now: number = Date.now()): Promise<KiroIdeLogin> {
  const file = path.join(cacheDir, KIRO_IDE_TOKEN_FILE);
  const text = await readText(file, 'missing', 'The Kiro IDE login file').catch((error: unknown) => {
    if (error instanceof KiroIdeImportError && error.code === 'missing') {
      throw new KiroIdeImportError(
        'missing',
        `No Kiro IDE login found at ${file}. Open the Kiro IDE and sign in, then import again (or add the account by hand).`,
      );
    }
    throw error;
  });
  const token = parseJsonObject(text, `The Kiro IDE login file (${file})`, 'invalid');
  const refreshToken = str(token, 'refreshToken');
  if (!refreshToken) throw new KiroIdeImportError('invalid', `The Kiro IDE login file (${file}) has no refresh token; sign in to Kiro again.`);
  const clientIdHash = str(token, 'clientIdHash');
  const authMethod = str(token, 'authMethod');
  const provider = str(token, 'provider');
  const kind = kindOf(authMethod, provider, Boolean(clientIdHash || str(token, 'clientId')));
  if (!kind) {
    throw new KiroIdeImportError(
      'unsupported',
      `The Kiro IDE is signed in with "${authMethod?.slice(0, 40)}", which the bridge cannot refresh yet; sign in to Kiro with GitHub, Google, Builder ID or IAM Identity Center.`,
    );
  }

  const login: KiroIdeLogin = {
    kind,
    refreshToken,
    accessToken: str(token, 'accessToken'),
    expiresAt: parseExpiresAt(token.expiresAt),
    profileArn: str(token, 'profileArn'),
    region: str(token, 'region'),
    provider,
    email: str(token, 'email'),
    file,
  };

  if (kind === 'IdC') {
    let clientId = str(token, 'clientId');
    let clientSecret = str(token, 'clientSecret');
    if (!clientId || !clientSecret) {
      if (!clientIdHash || !/^[A-Za-z0-9._-]+$/.test(clientIdHash)) {
        throw new KiroIdeImportError(
          'registration_missing',
          `The Kiro IDE login is a Builder ID / IAM Identity Center login, but ${file} does not name its client registration (clientIdHash). Sign in to Kiro again, then import again.`,
        );
      }
      const registrationFile = path.join(cacheDir, `${clientIdHash}.json`);
      const registrationText = await readText(registrationFile, 'registration_missing', 'The client registration').catch((error: unknown) => {
        if (error instanceof KiroIdeImportError && error.code === 'registration_missing') {
          throw new KiroIdeImportError(
            'registration_missing',
            `The Kiro IDE login is a Builder ID / IAM Identity Center login, but its client registration ${registrationFile} is missing. Sign in to Kiro again, then import again.`,
          );
        }
        throw error;
      });
      const registration = parseJsonObject(registrationText, `The client registration (${registrationFile})`, 'registration_invalid');
      clientId = str(registration, 'clientId');
      clientSecret = str(registration, 'clientSecret');
      if (!clientId || !clientSecret) {
        throw new KiroIdeImportError(
          'registration_invalid',
          `The client registration ${registrationFile} has no clientId/clientSecret. Sign in to Kiro again, then import again.`,
        );
      }
      login.registrationExpiresAt = parseExpiresAt(registration.expiresAt);
      login.region ??= str(registration, 'region');
    }
    login.clientId = clientId;
    login.clientSecret = clientSecret;
    if (login.registrationExpiresAt !== undefined && login.registrationExpiresAt <= now) {
      throw new KiroIdeImportError(
        'registration_expired',
        `The Kiro IDE's client registration expired on ${new Date(login.registrationExpiresAt).toISOString().slice(0, 10)}, so its login can no longer be refreshed. Sign in to Kiro again, then import again.`,
      );
    }
  }
  return login;
}

export interface WatchOptions {
  /** Coalesce bursts of events (an atomic replace fires several). Default 150 ms. */
  debounceMs?: number;
  /** Stat polling as a safety net where directory watching misses events. Default 5 s; 0 turns it off. */
  pollMs?: number;
}

/**
 * Calls `onChange` (debounced) whenever the IDE's token file may have changed: created, replaced,
 * rewritten or deleted. It watches the folder (the IDE replaces the file, which a watch on the
 * file itself would lose) and polls the file's stat as a safety net. The caller reads the file.
 */
export class KiroIdeWatcher implements IDisposable {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;
  private readonly file: string;
  private readonly debounceMs: number;
  private readonly pollMs: number;

  constructor(
    readonly cacheDir: string,
    private readonly onChange: () => void,
    options: WatchOptions = {},
  ) {
    this.file = path.join(cacheDir, KIRO_IDE_TOKEN_FILE);
    this.debounceMs = options.debounceMs ?? 150;
    this.pollMs = options.pollMs ?? 5000;
    this.startWatch();
    if (this.pollMs > 0) {
      watchFile(this.file, { interval: this.pollMs, persistent: false }, this.onStat);
    }
  }

  private readonly onStat = (current: { mtimeMs: number; size: number }, previous: { mtimeMs: number; size: number }) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) this.schedule();
    // The folder may have appeared since: start the fast watcher now.
    if (!this.watcher) this.startWatch();
  };

  private startWatch(): void {
    if (this.disposed || this.watcher) return;
    try {
      const watcher = watch(this.cacheDir, { persistent: false }, (_event, name) => {
        if (!name || name.toString() === KIRO_IDE_TOKEN_FILE) this.schedule();
      });
      watcher.on('error', () => {
        // The folder went away; polling keeps going and restarts the watcher when it is back.
        watcher.close();
        if (this.watcher === watcher) this.watcher = undefined;
      });
      this.watcher = watcher;
    } catch {
      // No folder yet (Kiro never signed in here): polling covers it.
    }
  }

  private schedule(): void {
    if (this.disposed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.disposed) this.onChange();
    }, this.debounceMs);
    this.timer.unref?.();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
    if (this.pollMs > 0) unwatchFile(this.file, this.onStat);
  }
}
