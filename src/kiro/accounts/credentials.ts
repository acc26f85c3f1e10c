// KIRO_AUTH_TOKEN in the format of the original kiro2api proxy: a JSON array of accounts (one object
// is accepted too), or a path to a file holding that JSON (docs/kiro-protocol.md#auth-kinds).
//   [{"auth":"Social"|"IdC","refreshToken":"…","clientId":"…","clientSecret":"…","disabled":false}]
// Kiro API keys fit the same list: {"auth":"ApiKey","apiKey":"ksk_…"}.
// Errors never quote the input: it is full of secrets.
import { readFileSync } from 'node:fs';
import { isAwsRegion } from '../http/endpoints';

/** How an account authenticates: a refresh token (Social, IdC) or a Kiro API key (never refreshed). */
export type AuthKind = 'Social' | 'IdC' | 'ApiKey';

interface CredentialsBase {
  disabled: boolean;
  /** Region of the account's OIDC endpoint / data plane (a later addition to the format); default us-east-1. */
  region?: string;
  /** Known profile ARN (Social refresh returns one; IdC accounts may configure one). */
  profileArn?: string;
  /** A fixed 64-hex device id; derived from the long-lived secret when absent (see http/identity.ts). */
  machineId?: string;
  /** Github, Google, BuilderId, Enterprise… when known (decides the IdC profile rule). */
  provider?: string;
  /** IAM Identity Center start URL, when known (Builder ID has a fixed one). */
  startUrl?: string;
  /** Position in the configured list, for messages ("account #2"). */
  index: number;
}

/** A login that is refreshed: Kiro social (GitHub/Google) or AWS SSO-OIDC (Builder ID / IdC). */
export interface OAuthCredentials extends CredentialsBase {
  auth: 'Social' | 'IdC';
  refreshToken: string;
  /** IdC only: the SSO-OIDC client registration. */
  clientId?: string;
  clientSecret?: string;
}

/**
 * A Kiro API key (`ksk_…`, what the Kiro CLI's headless mode reads from KIRO_API_KEY): the key is
 * itself the bearer, sent with `tokentype: API_KEY`, and is never refreshed.
 */
export interface ApiKeyCredentials extends CredentialsBase {
  auth: 'ApiKey';
  apiKey: string;
}

export type AccountCredentials = OAuthCredentials | ApiKeyCredentials;

/** Kiro API keys start with this prefix (Kiro's documentation and every client that takes them). */
export const KIRO_API_KEY_PREFIX = 'ksk_';

/**
 * Whether a pasted token or key was copied shortened: the Kiro IDE's account panels show them
 * with "..." (or "…") in the middle, and such a copy never works.
 */
export function looksShortened(value: string): boolean {
  return value.includes('...') || value.includes('…');
}

/** Why `key` is not a usable Kiro API key, or undefined when it looks like one. */
export function apiKeyProblem(key: string): string | undefined {
  if (!key.startsWith(KIRO_API_KEY_PREFIX)) return `a Kiro API key starts with "${KIRO_API_KEY_PREFIX}"`;
  if (looksShortened(key)) return 'the API key looks shortened (it contains "..."); copy the whole value';
  if (!/^ksk_[A-Za-z0-9_-]{8,}$/.test(key)) return 'the API key has characters a Kiro API key does not have, or is too short';
  return undefined;
}

/** The long-lived secret of an account: its refresh token, or its API key. */
export function longLivedSecret(credentials: AccountCredentials): string {
  return credentials.auth === 'ApiKey' ? credentials.apiKey : credentials.refreshToken;
}

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

/** What to tell a user who has no credentials configured. */
export const CREDENTIALS_HELP = [
  'Set KIRO_AUTH_TOKEN to your Kiro account (a JSON array, one object, or a path to a file holding it):',
  '',
  '  export KIRO_AUTH_TOKEN=\'[{"auth":"Social","refreshToken":"aor…"}]\'',
  '  export KIRO_AUTH_TOKEN=\'[{"auth":"IdC","refreshToken":"aor…","clientId":"…","clientSecret":"…"}]\'',
  '  export KIRO_AUTH_TOKEN=~/kiro-accounts.json',
  '',
  'Or a Kiro API key (Kiro Pro and above; what the Kiro CLI reads in headless mode):',
  '',
  '  export KIRO_API_KEY=ksk_…',
  '',
  'The refresh token of a Kiro IDE login is in ~/.aws/sso/cache/kiro-auth-token.json ("refreshToken");',
  'an IdC (Builder ID / Identity Center) login also needs clientId and clientSecret from',
  '~/.aws/sso/cache/<clientIdHash>.json.',
].join('\n');

function looksLikeJson(value: string): boolean {
  return value.startsWith('[') || value.startsWith('{');
}

function describeJsonError(error: unknown, where: string): string {
  // V8 quotes parts of the input in its messages; keep only the position.
  const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
  return `${where} is not valid JSON${position ? ` (near character ${position})` : ''}`;
}

function optionalString(entry: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = entry[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new CredentialsError(`${where}: "${key}" must be a string`);
  return value.trim();
}

function parseEntry(raw: unknown, index: number): AccountCredentials {
  const where = `KIRO_AUTH_TOKEN account #${index + 1}`;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new CredentialsError(`${where} must be an object`);
  const entry = raw as Record<string, unknown>;
  const authRaw = entry.auth ?? entry.authMethod ?? (entry.apiKey !== undefined || entry.kiroApiKey !== undefined ? 'ApiKey' : 'Social');
  if (typeof authRaw !== 'string') throw new CredentialsError(`${where}: "auth" must be "Social", "IdC" or "ApiKey"`);
  const authLower = authRaw.toLowerCase().replace(/[-_]/g, '');
  const auth: AuthKind | undefined =
    authLower === 'social' ? 'Social' : authLower === 'idc' || authLower === 'builderid' ? 'IdC' : authLower === 'apikey' ? 'ApiKey' : undefined;
  if (!auth) throw new CredentialsError(`${where}: "auth" must be "Social", "IdC" or "ApiKey" (got "${authRaw.slice(0, 20)}")`);
  const disabled = entry.disabled;
  if (disabled !== undefined && typeof disabled !== 'boolean') throw new CredentialsError(`${where}: "disabled" must be true or false`);
  const machineId = optionalString(entry, 'machineId', where);
  if (machineId && !/^[0-9a-f]{32}([0-9a-f]{32})?$/i.test(machineId)) {
    throw new CredentialsError(`${where}: "machineId" must be 64 (or 32) hex characters`);
  }
  const region = optionalString(entry, 'region', where);
  if (region && !isAwsRegion(region)) throw new CredentialsError(`${where}: "region" is not an AWS region name`);
  const base = {
    disabled: disabled === true,
    region,
    // A 32-hex id is doubled to the 64 hex the user agent carries (as other proxies accept it).
    machineId: machineId && machineId.length === 32 ? (machineId + machineId).toLowerCase() : machineId?.toLowerCase(),
    provider: optionalString(entry, 'provider', where),
    startUrl: optionalString(entry, 'startUrl', where),
    index,
  };
  if (auth === 'ApiKey') {
    // Some proxies name the field `kiroApiKey`; both spellings are read.
    const apiKey = optionalString(entry, 'apiKey', where) ?? optionalString(entry, 'kiroApiKey', where);
    if (!apiKey) throw new CredentialsError(`${where}: an ApiKey account needs "apiKey" (the ksk_… key)`);
    const problem = apiKeyProblem(apiKey);
    if (problem) throw new CredentialsError(`${where}: ${problem}`);
    return { ...base, auth, apiKey };
  }
  const refreshToken = optionalString(entry, 'refreshToken', where);
  if (!refreshToken) throw new CredentialsError(`${where}: "refreshToken" is required`);
  if (looksShortened(refreshToken)) {
    throw new CredentialsError(`${where}: "refreshToken" looks truncated (contains "..."); copy the whole value`);
  }
  const clientId = optionalString(entry, 'clientId', where);
  const clientSecret = optionalString(entry, 'clientSecret', where);
  if (auth === 'IdC' && (!clientId || !clientSecret)) {
    throw new CredentialsError(`${where}: an IdC account needs "clientId" and "clientSecret"`);
  }
  return { ...base, auth, refreshToken, clientId, clientSecret, profileArn: optionalString(entry, 'profileArn', where) };
}

/** Parses the JSON text of KIRO_AUTH_TOKEN (already read from a file if it was a path). */
export function parseCredentialsJson(text: string, where = 'KIRO_AUTH_TOKEN'): AccountCredentials[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CredentialsError(describeJsonError(error, where));
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) throw new CredentialsError(`${where} holds no accounts`);
  return list.map((entry, index) => parseEntry(entry, index));
}

export interface LoadedCredentials {
  accounts: AccountCredentials[];
  /** The file the accounts came from, when KIRO_AUTH_TOKEN was a path. */
  file?: string;
}

/** Reads KIRO_AUTH_TOKEN: inline JSON, or a path to a JSON file. */
export function loadCredentials(value: string, readText: (file: string) => string = (f) => readFileSync(f, 'utf8')): LoadedCredentials {
  const trimmed = value.trim();
  if (!trimmed) throw new CredentialsError('KIRO_AUTH_TOKEN is empty');
  if (looksLikeJson(trimmed)) return { accounts: parseCredentialsJson(trimmed) };
  const file = trimmed.startsWith('~/') ? `${process.env.HOME ?? ''}${trimmed.slice(1)}` : trimmed;
  let text: string;
  try {
    text = readText(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CredentialsError(`KIRO_AUTH_TOKEN is neither JSON nor a readable file (${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')}: ${file})`);
  }
  return { accounts: parseCredentialsJson(text.trim(), `KIRO_AUTH_TOKEN file ${file}`), file };
}
