// The few HTTP calls of a sign-in: JSON in, JSON out, with a timeout and the caller's cancel
// signal. Transport failures become SignInErrors that name the service; bodies are never quoted
// whole (they may hold tokens), only the fields a caller picks out. Node's built-in fetch keeps
// the extension's first bundle free of undici (sign-in runs before any account exists).
import { readJsonLimited } from '../http/read-limited';
import { signInCancelled, signInFailed } from './errors';

export interface JsonAnswer {
  status: number;
  /** The body parsed as JSON, or undefined if it was empty or not JSON. */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface CallOptions {
  /** A short name of the service for messages ("AWS SSO-OIDC", "Kiro's auth service"). */
  service: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

const MAX_BODY = 256 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

export async function callJson(method: 'GET' | 'POST', url: string, body: unknown, options: CallOptions): Promise<JsonAnswer> {
  if (options.signal?.aborted) throw signInCancelled();
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let status: number;
  let parsed: unknown;
  let headers: JsonAnswer['headers'];
  try {
    const response = await fetch(url, {
      method,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      redirect: 'manual',
    });
    status = response.status;
    headers = Object.fromEntries(response.headers);
    // Node's web streams are async-iterable (the DOM typings do not say so).
    parsed = response.body ? await readJsonLimited(response.body as unknown as AsyncIterable<Uint8Array>, MAX_BODY) : undefined;
  } catch (error) {
    if (options.signal?.aborted) throw signInCancelled();
    if (timeout.aborted)
      throw signInFailed('network', `${options.service} did not answer within ${Math.round((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s`, error);
    const code = (error as { code?: string }).code;
    throw signInFailed('network', `${options.service} could not be reached (${code ?? (error as Error).message})`, error);
  }
  return { status, body: parsed, headers };
}

export function postJson(url: string, body: unknown, options: CallOptions): Promise<JsonAnswer> {
  return callJson('POST', url, body, options);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string field, or undefined. */
export function stringField(body: unknown, key: string): string | undefined {
  if (!isRecord(body)) return undefined;
  const value = body[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A finite number field, or undefined. */
export function numberField(body: unknown, key: string): number | undefined {
  if (!isRecord(body)) return undefined;
  const value = body[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A provider's own error text (short, single line) for a message, if the body carries one. */
export function providerMessage(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const parts = [body.error, body.error_description, body.message, body.Message].filter((v): v is string => typeof v === 'string' && v !== '');
  if (parts.length === 0) return undefined;
  return [...new Set(parts)].join(': ').replace(/\s+/g, ' ').slice(0, 300);
}

/** Sleeps `ms`, or rejects with the cancel error as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signInCancelled());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signInCancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
