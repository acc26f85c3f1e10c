// The checks every request passes before a route sees it: Host (DNS rebinding), Origin (browser
// pages), the client key (constant time), the body size limit and JSON parsing. Each check is a
// plain function so it can be unit-tested and reused by the OpenAI routes.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export interface GuardFailure {
  status: number;
  type: 'authentication_error' | 'permission_error' | 'invalid_request_error' | 'request_too_large' | 'not_found_error' | 'overloaded_error';
  message: string;
}

function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

/** Host header → hostname without port or IPv6 brackets. */
export function hostnameOf(hostHeader: string): string {
  const value = hostHeader.trim();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(1, end);
  }
  const colon = value.indexOf(':');
  // More than one colon without brackets is a bare IPv6 address.
  if (colon !== -1 && value.indexOf(':', colon + 1) === -1) return value.slice(0, colon);
  return value;
}

export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/**
 * Host check against DNS rebinding: a page on evil.example that rebinds its name to 127.0.0.1
 * still sends `Host: evil.example`. Loopback names always pass; so does the bound address.
 * A bridge deliberately bound to every interface accepts any Host (the key still guards it).
 */
export function checkHost(hostHeader: string | undefined, boundHost: string): GuardFailure | undefined {
  if (isWildcardHost(boundHost)) return undefined;
  if (!hostHeader) return { status: 403, type: 'permission_error', message: 'missing Host header' };
  const hostname = hostnameOf(hostHeader);
  if (isLoopbackName(hostname) || hostname.toLowerCase() === hostnameOf(boundHost).toLowerCase()) return undefined;
  return {
    status: 403,
    type: 'permission_error',
    message: `Host "${hostname.slice(0, 100)}" is not allowed: the bridge only answers requests addressed to localhost`,
  };
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

/**
 * Origin check: requests without an Origin (SDKs, curl, editors) pass; a browser page must be on
 * the allow-list, so a web page cannot drive the user's Kiro account.
 */
export function checkOrigin(origin: string | undefined, allowed: readonly string[]): GuardFailure | undefined {
  if (origin === undefined) return undefined;
  const wanted = normalizeOrigin(origin);
  if (allowed.some((a) => a === '*' || normalizeOrigin(a) === wanted)) return undefined;
  return {
    status: 403,
    type: 'permission_error',
    message: `Origin "${origin.slice(0, 100)}" is not allowed; add it to the bridge's allowed origins to call it from a browser`,
  };
}

/** The key a client sent: `x-api-key`, or `Authorization: Bearer …`. */
export function presentedKey(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  const header = req.headers['x-api-key'];
  const direct = Array.isArray(header) ? header[0] : header;
  if (direct) return direct.trim();
  const authorization = req.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return match[1]!.trim();
  }
  return undefined;
}

/**
 * Compares keys in constant time. Keys of another length fail at once: that reveals only the
 * length of the key, which for a random key tells an attacker nothing they can use.
 */
export function keysMatch(presented: string, expected: string): boolean {
  const want = expectedBytes(expected);
  const got = Buffer.from(presented, 'utf8');
  if (got.length !== want.length) return false;
  return timingSafeEqual(got, want);
}

/** The expected key's bytes, encoded once per key rather than per request. */
let cachedKey: { key: string; bytes: Buffer } | undefined;
function expectedBytes(key: string): Buffer {
  if (cachedKey?.key !== key) cachedKey = { key, bytes: Buffer.from(key, 'utf8') };
  return cachedKey.bytes;
}

export function checkApiKey(req: Pick<IncomingMessage, 'headers'>, expected: string): GuardFailure | undefined {
  const key = presentedKey(req);
  if (!key) {
    return {
      status: 401,
      type: 'authentication_error',
      message: 'missing API key: send the bridge key as the x-api-key header or as Authorization: Bearer <key>',
    };
  }
  if (!keysMatch(key, expected)) return { status: 401, type: 'authentication_error', message: 'invalid API key' };
  return undefined;
}

export class BodyError extends Error {
  constructor(readonly failure: GuardFailure) {
    super(failure.message);
  }
}

function tooLarge(limit: number): BodyError {
  return new BodyError({
    status: 413,
    type: 'request_too_large',
    message: `request body is larger than the bridge's limit of ${formatBytes(limit)}`,
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

/** Reads the whole body up to `limit` bytes; a larger one fails early with 413. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        finish(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onError = (error: Error) => finish(error);
    const onClose = () => finish(new Error('client closed the connection while sending the body'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * How much of a refused upload is still read, and for how long. Enough for any body a client
 * might reasonably send past the limit; a runaway upload is cut rather than read to the end.
 */
const REFUSED_UPLOAD_DRAIN = { maxBytes: 128 * 1024 * 1024, maxMs: 30_000 };

/**
 * What to do with the unread rest of a body the bridge answered without reading (a 413, a 401
 * before the body, …), decided before the answer is written:
 * - `none`: the body was read to its end;
 * - `drain`: read and discard the rest (discardUpload), so the connection stays usable and a
 *   client that reads the answer only after sending everything still gets it;
 * - `close`: the rest is declared larger than REFUSED_UPLOAD_DRAIN allows: answer with
 *   `Connection: close` and drop the connection after the answer.
 */
export function unreadBodyPlan(req: IncomingMessage, drain = REFUSED_UPLOAD_DRAIN): 'none' | 'drain' | 'close' {
  if (req.complete || req.destroyed) return 'none';
  const declared = Number(req.headers['content-length']);
  const transferEncoding = req.headers['transfer-encoding'];
  // Requests without a body (GET, or no length and no chunked encoding) are complete once parsed.
  if (!Number.isFinite(declared) && !transferEncoding) return 'none';
  return Number.isFinite(declared) && declared > drain.maxBytes ? 'close' : 'drain';
}

/**
 * Reads and discards the rest of an upload the bridge has already answered. Closing a socket the
 * client is still writing to makes its next write fail (EPIPE or ECONNRESET) and many clients
 * then report that instead of the answer waiting in their receive buffer; reading to the end
 * lets them finish sending and read it. Past `maxBytes` more bytes or `maxMs`, the connection is
 * destroyed: nothing keeps the bridge reading a runaway upload. Resolves true when the upload
 * ended, false when it was cut (or the client went away).
 */
export function discardUpload(req: IncomingMessage, drain = REFUSED_UPLOAD_DRAIN): Promise<boolean> {
  return new Promise((resolve) => {
    let discarded = 0;
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      resolve(ended);
    };
    const cut = () => {
      finish(false);
      req.socket?.destroy();
    };
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > drain.maxBytes) cut();
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(req.complete);
    const timer = setTimeout(cut, drain.maxMs);
    timer.unref();
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
    req.resume();
  });
}

/** Parses a JSON body, turning syntax errors into an Anthropic-shaped 400. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) {
    throw new BodyError({ status: 400, type: 'invalid_request_error', message: 'request body is empty; send a JSON object' });
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    // V8's message names the position; it may quote the body, which is the client's own data.
    const detail = error instanceof Error ? error.message.slice(0, 200) : 'parse error';
    throw new BodyError({ status: 400, type: 'invalid_request_error', message: `request body is not valid JSON: ${detail}` });
  }
}
