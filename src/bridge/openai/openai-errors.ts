// Errors in OpenAI's shape, for /v1/chat/completions and /v1/responses: one table from the bridge's
// error taxonomy (kiro/errors) to an HTTP status and `{error: {message, type, param, code}}`.
// The codes clients act on are OpenAI's own: `context_length_exceeded` (Codex and the agents
// compact or stop), `insufficient_quota`, `rate_limit_exceeded` (Codex reads "try again in Ns"
// from the message), `model_not_found`, `invalid_api_key`.
import type { ServerResponse } from 'node:http';
import { defaultRedactor, type Redactor } from '../../common/redact';
import { KiroError, type ErrorClass } from '../../kiro/errors';
import { InvalidRequestError } from '../anthropic/anthropic-input';
import { internalErrorMessage, isNoRetry, isOverloaded, messageAndRetry } from '../pipeline/error-details';
import type { RouteFailure } from '../context';
import { sendJson } from '../http/http';

export type OpenAIErrorType =
  'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'rate_limit_error' | 'insufficient_quota' | 'server_error';

export interface OpenAIErrorInfo {
  status: number;
  type: OpenAIErrorType;
  message: string;
  /** The request field the error is about (`messages.2.content`), when there is one. */
  param: string | null;
  code: string | null;
  /** For a `retry-after` header. */
  retryAfterSeconds?: number;
  /** A 5xx that a plain retry would only repeat at the user's cost (`x-should-retry: false`). */
  noRetry?: boolean;
}

export interface OpenAIErrorBody {
  error: { message: string; type: OpenAIErrorType; param: string | null; code: string | null };
}

/**
 * A request the bridge refuses before calling Kiro, with the field it is about. It is an
 * InvalidRequestError, so code that only knows the Anthropic side still answers 400.
 */
export class OpenAIRequestError extends InvalidRequestError {
  constructor(
    message: string,
    readonly param: string | null,
    readonly code: string | null = null,
    readonly status = 400,
  ) {
    super(message);
  }
}

const ERROR_TABLE: Record<ErrorClass, { status: number; type: OpenAIErrorType; code: string | null }> = {
  prompt_too_long: { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded' },
  bad_request: { status: 400, type: 'invalid_request_error', code: null },
  model_unavailable: { status: 404, type: 'invalid_request_error', code: 'model_not_found' },
  // Kiro rejected the account's token, not the client's key: a code that says so, so no client
  // tells its user that their (bridge) API key is wrong.
  token_expired: { status: 401, type: 'authentication_error', code: 'kiro_token_rejected' },
  profile_rejected: { status: 403, type: 'permission_error', code: 'kiro_profile_rejected' },
  needs_sign_in: { status: 401, type: 'authentication_error', code: 'kiro_sign_in_required' },
  account_suspended: { status: 403, type: 'permission_error', code: 'kiro_account_suspended' },
  quota_exhausted: { status: 429, type: 'insufficient_quota', code: 'insufficient_quota' },
  throttled: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  upstream_unavailable: { status: 502, type: 'server_error', code: 'upstream_unavailable' },
  no_account: { status: 503, type: 'server_error', code: 'no_kiro_account' },
  stream_broken: { status: 502, type: 'server_error', code: 'stream_broken' },
  timeout: { status: 504, type: 'server_error', code: 'timeout' },
  invalid_output: { status: 502, type: 'server_error', code: 'invalid_structured_output' },
  internal: { status: 500, type: 'server_error', code: null },
};

/** What `param` an upstream failure is about, per API (the conversation field). */
export type ConversationParam = 'messages' | 'input';

/** The one table from any error to the OpenAI answer. Messages are redacted. */
export function openaiErrorFor(error: unknown, redactor: Redactor = defaultRedactor, conversationParam: ConversationParam = 'messages'): OpenAIErrorInfo {
  if (error instanceof OpenAIRequestError) {
    return { status: error.status, type: 'invalid_request_error', message: redactor.text(error.message), param: error.param, code: error.code };
  }
  if (error instanceof InvalidRequestError) {
    return { status: 400, type: 'invalid_request_error', message: redactor.text(error.message), param: paramOf(error.message), code: null };
  }
  if (!(error instanceof KiroError)) {
    return { status: 500, type: 'server_error', message: redactor.text(internalErrorMessage(error)), param: null, code: null };
  }
  const entry = ERROR_TABLE[error.errorClass] ?? ERROR_TABLE.internal;
  const type = entry.type;
  // Overloaded is OpenAI's 503 `overloaded`, which clients retry.
  const { status, code } = isOverloaded(error) ? { status: 503, code: 'overloaded' } : entry;
  const { message: said, retryAfterSeconds } = messageAndRetry(error);
  // Codex reads the wait from the message of a rate_limit_exceeded error ("try again in 3s").
  const message =
    error.errorClass === 'throttled' && retryAfterSeconds !== undefined ? `${said}. Please try again in ${Math.max(0, Math.ceil(retryAfterSeconds))}s.` : said;
  const info: OpenAIErrorInfo = {
    status,
    type,
    message: redactor.text(message),
    param: error.errorClass === 'prompt_too_long' ? conversationParam : null,
    code,
  };
  if (retryAfterSeconds !== undefined) info.retryAfterSeconds = retryAfterSeconds;
  if (isNoRetry(error)) info.noRetry = true;
  return info;
}

/** `messages.3.content: …` → `messages.3.content` (the shared validators name the field first). */
function paramOf(message: string): string | null {
  const match = /^([A-Za-z_][\w.]*): /.exec(message);
  return match ? match[1]! : null;
}

export function openaiErrorBody(info: Pick<OpenAIErrorInfo, 'type' | 'message' | 'param' | 'code'>): OpenAIErrorBody {
  return { error: { message: info.message, type: info.type, param: info.param, code: info.code } };
}

/** The bridge's refusals before a route runs (key, Host, Origin, body, 404) in OpenAI's shape. */
export function openaiGuardError(failure: RouteFailure): OpenAIErrorInfo {
  switch (failure.status) {
    case 401:
      // OpenAI's own answer to a bad key; clients recognise the code and say "check your key".
      return { status: 401, type: 'invalid_request_error', message: failure.message, param: null, code: 'invalid_api_key' };
    case 403:
      return { status: 403, type: 'permission_error', message: failure.message, param: null, code: null };
    case 404:
      return { status: 404, type: 'invalid_request_error', message: failure.message, param: null, code: 'unknown_url' };
    case 413:
      return { status: 413, type: 'invalid_request_error', message: failure.message, param: null, code: 'request_too_large' };
    case 503:
    case 529:
      // A stopping bridge: 503, which every OpenAI client retries.
      return { status: 503, type: 'server_error', message: failure.message, param: null, code: 'overloaded' };
    default:
      if (failure.status >= 500) return { status: failure.status, type: 'server_error', message: failure.message, param: null, code: null };
      return { status: failure.status, type: 'invalid_request_error', message: failure.message, param: null, code: null };
  }
}

/** Sends an OpenAI error response, with retry-after when known and x-should-retry for the SDKs. */
export function sendOpenAIError(res: ServerResponse, info: OpenAIErrorInfo, headers: Record<string, string> = {}): void {
  const extra: Record<string, string> = { ...headers };
  if (info.retryAfterSeconds !== undefined) extra['retry-after'] = String(Math.max(0, Math.ceil(info.retryAfterSeconds)));
  // Errors no retry can fix are marked so the SDKs do not retry them (they honour x-should-retry).
  // An answer that failed its schema twice already cost two Kiro calls: no silent SDK retries.
  if ((info.status >= 400 && info.status < 500 && info.status !== 408 && info.status !== 409 && info.status !== 429) || info.noRetry)
    extra['x-should-retry'] = 'false';
  sendJson(res, info.status, openaiErrorBody(info), extra);
}

/** The route's error writer for guard, body and 404 refusals. */
export function sendOpenAIRouteError(res: ServerResponse, failure: RouteFailure): void {
  sendOpenAIError(res, openaiGuardError(failure));
}
