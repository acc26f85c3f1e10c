// One classification of every upstream failure. The account pool decides what to do from the
// class; the API layers only translate the class into their client's error shape. The table in
// docs/architecture.md#error-taxonomy is the reference.

export type ErrorClass =
  /** 400 CONTENT_LENGTH_EXCEEDS_THRESHOLD / "Input is too long": the client should compact. */
  | 'prompt_too_long'
  /** A deterministic 400 about the request's shape: never retried, never on another account. */
  | 'bad_request'
  /** 400 INVALID_MODEL_ID: this account's tier lacks the model; another account may have it. */
  | 'model_unavailable'
  /** 401/403 on a bad or expired bearer token: refresh once and retry once. */
  | 'token_expired'
  /**
   * 400 "profileArn is required for this request." / 403 "User is not authorized to make this
   * call.": the profile ARN sent is missing or not this login's. Look it up again, retry once.
   */
  | 'profile_rejected'
  /** 403 "temporarily is suspended": the account is locked. */
  | 'account_suspended'
  /** 402 MONTHLY_REQUEST_COUNT: credits used up until the reset date. */
  | 'quota_exhausted'
  /** 429 ThrottlingException: back off, honour retry-after. */
  | 'throttled'
  /** 5xx, capacity errors, connection failures before the first byte: bounded retries. */
  | 'upstream_unavailable'
  /** The refresh token itself was rejected: the account needs a new sign-in. */
  | 'needs_sign_in'
  /** No account is configured or none can serve right now. */
  | 'no_account'
  /** An exception or error frame mid-stream, a cut connection, or a stream with no proper end. */
  | 'stream_broken'
  /** The upstream took longer than the configured request timeout. */
  | 'timeout'
  /**
   * The answer did not match the output format the client asked for (JSON, a schema), also after
   * the bridge asked once more: Kiro cannot constrain its output, the bridge only checks it.
   */
  | 'invalid_output'
  /** A bug on our side; the message says what. */
  | 'internal';

export interface KiroErrorDetails {
  status?: number;
  /** Upstream `reason` (e.g. MONTHLY_REQUEST_COUNT) or exception type. */
  reason?: string;
  /** Seconds the upstream asked us to wait (retry-after). */
  retryAfterSeconds?: number;
  /** When a quota resets, if known. */
  resetAt?: Date;
  /** The account label (masked) the failure belongs to, if any. */
  account?: string;
  cause?: unknown;
}

export class KiroError extends Error {
  override readonly name = 'KiroError';

  /**
   * The extension ships two bundles (extension.js and the lazily loaded heavy.js), each with its
   * own copy of this class; recognise a KiroError from either copy by its shape.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Error && value.name === 'KiroError' && typeof (value as { errorClass?: unknown }).errorClass === 'string';
  }

  readonly status?: number;
  readonly reason?: string;
  readonly retryAfterSeconds?: number;
  readonly resetAt?: Date;
  readonly account?: string;

  constructor(
    readonly errorClass: ErrorClass,
    message: string,
    details: KiroErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.reason = details.reason;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.resetAt = details.resetAt;
    this.account = details.account;
  }
}

interface UpstreamErrorBody {
  message?: string;
  Message?: string;
  reason?: string | null;
  __type?: string;
  error?: { message?: string; reason?: string; code?: string } | string;
}

function parseBody(text: string): UpstreamErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as UpstreamErrorBody) : { message: text };
  } catch {
    return { message: text };
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Seconds from a retry-after header (delta-seconds or an HTTP date), if any. */
function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

const TOO_LONG = /CONTENT_LENGTH_EXCEEDS_THRESHOLD|input is too long|too many tokens|context window/i;
const SUSPENDED = /suspended|security precaution|locked your account/i;
/** Kiro's answers about the profile ARN: missing (400) or not one this login may use (403). */
const PROFILE_MISSING = /profileArn is required/i;
const PROFILE_REFUSED = /not authorized to make this call/i;

/** Classifies a non-200 answer from generateAssistantResponse. */
export function classifyUpstreamResponse(status: number, bodyText: string, headers: Record<string, string | string[] | undefined> = {}): KiroError {
  const body = parseBody(bodyText);
  const nested = typeof body.error === 'object' && body.error ? body.error : undefined;
  const message = (body.message ?? body.Message ?? nested?.message ?? (typeof body.error === 'string' ? body.error : '') ?? '').trim();
  const reason = (body.reason ?? nested?.reason ?? nested?.code ?? undefined) || undefined;
  const errorType = (header(headers, 'x-amzn-errortype') ?? body.__type ?? '').split(/[#:]/).filter(Boolean).pop();
  const described = message || `HTTP ${status}`;
  const details = { status, reason: reason ?? errorType };

  if (reason === 'MONTHLY_REQUEST_COUNT' || status === 402) {
    return new KiroError('quota_exhausted', `Kiro quota exhausted: ${described}`, { ...details, reason: reason ?? 'MONTHLY_REQUEST_COUNT' });
  }
  if (reason === 'INSUFFICIENT_MODEL_CAPACITY') {
    return new KiroError('upstream_unavailable', `Kiro has no capacity for this model right now: ${described}`, details);
  }
  if (status === 429) {
    return new KiroError('throttled', `Kiro is throttling requests: ${described}`, {
      ...details,
      retryAfterSeconds: parseRetryAfter(header(headers, 'retry-after')),
    });
  }
  if (status === 400 && PROFILE_MISSING.test(message)) {
    return new KiroError(
      'profile_rejected',
      `Kiro needs a profile for this account and none is known for it (sign in again to choose one, or ask your Kiro administrator to assign one): ${described}`,
      { ...details, reason: details.reason ?? 'PROFILE_ARN' },
    );
  }
  if (status === 403 && PROFILE_REFUSED.test(message)) {
    return new KiroError('profile_rejected', `Kiro refused the account's profile: ${described}`, { ...details, reason: details.reason ?? 'PROFILE_ARN' });
  }
  if (status === 401 || status === 403) {
    if (SUSPENDED.test(message)) return new KiroError('account_suspended', `Kiro account suspended: ${described}`, details);
    return new KiroError('token_expired', `Kiro rejected the access token: ${described}`, details);
  }
  if (status >= 500) return new KiroError('upstream_unavailable', `Kiro upstream error ${status}: ${described}`, details);
  if (reason === 'INVALID_MODEL_ID' || /INVALID_MODEL_ID|invalid model/i.test(message)) {
    return new KiroError('model_unavailable', `Model not available to this Kiro account: ${described}`, { ...details, reason: 'INVALID_MODEL_ID' });
  }
  if (reason === 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' || TOO_LONG.test(message)) {
    return new KiroError('prompt_too_long', `prompt is too long: ${described}`, { ...details, reason: reason ?? 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' });
  }
  const rule = reason ? `${described} (${reason})` : described;
  return new KiroError('bad_request', `Kiro rejected the request: ${rule}`, details);
}

/**
 * Classifies an exception or error frame that arrived inside a 200 stream. (An in-stream
 * ContentLengthExceededException is not an error: the assembler ends the turn with max_tokens.)
 */
export function classifyStreamException(type: string, json: unknown): KiroError {
  const message = typeof (json as { message?: unknown })?.message === 'string' ? (json as { message: string }).message : type;
  if (/Throttl/i.test(type)) return new KiroError('throttled', `Kiro is throttling requests: ${message}`, { reason: type });
  if (/AccessDenied|Unauthori/i.test(type)) {
    return SUSPENDED.test(message)
      ? new KiroError('account_suspended', `Kiro account suspended: ${message}`, { reason: type })
      : new KiroError('token_expired', `Kiro rejected the access token: ${message}`, { reason: type });
  }
  if (/Validation/i.test(type) && TOO_LONG.test(message)) return new KiroError('prompt_too_long', `prompt is too long: ${message}`, { reason: type });
  return new KiroError('stream_broken', `Kiro stream failed (${type}): ${message}`, { reason: type });
}

/** Transport failures (reset, refused, DNS, TLS) before any response: retryable. */
export function classifyNetworkError(error: unknown): KiroError {
  if (error instanceof KiroError) return error;
  const code = (error as { code?: string })?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || /timeout/i.test(message)) {
    return new KiroError('timeout', `Kiro did not answer in time: ${message}`, { cause: error, reason: code });
  }
  return new KiroError('upstream_unavailable', `could not reach Kiro: ${message}${code ? ` (${code})` : ''}`, { cause: error, reason: code });
}

/** Checks a token-refresh failure: a rejected refresh token means the user must sign in again. */
export function classifyRefreshFailure(status: number, bodyText: string): KiroError {
  const body = parseBody(bodyText);
  const text = `${body.message ?? ''} ${typeof body.error === 'string' ? body.error : (body.error?.code ?? body.error?.message ?? '')} ${(body as { error_description?: string }).error_description ?? ''}`;
  if (status === 400 || status === 401 || status === 403) {
    if (
      /invalid_grant|InvalidGrant|invalid refresh token|refresh token.*(invalid|expired|revoked)|expired|unauthorized_client|invalid_client/i.test(text) ||
      status === 401
    ) {
      return new KiroError('needs_sign_in', `the refresh token was rejected; sign in again (${text.trim() || `HTTP ${status}`})`, { status });
    }
  }
  if (status === 429) return new KiroError('throttled', `token refresh throttled (${text.trim() || 'HTTP 429'})`, { status });
  if (status >= 500 || status === 0) return new KiroError('upstream_unavailable', `token refresh failed with HTTP ${status}`, { status });
  return new KiroError('needs_sign_in', `token refresh failed with HTTP ${status}: ${text.trim()}`, { status });
}
