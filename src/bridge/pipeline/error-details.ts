// What both APIs' error tables (anthropic-output's anthropicErrorFor, openai-errors' openaiErrorFor)
// read from an error beyond its class, so the two answers never drift apart.
import type { KiroError } from '../../kiro/errors';

/** The message of an error that is not a KiroError: our bug, said as such. */
export function internalErrorMessage(error: unknown): string {
  return `internal error: ${error instanceof Error ? error.message : String(error)}`;
}

/** No capacity for the model, or Kiro's own 503/529: the API's "overloaded", which clients retry. */
export function isOverloaded(error: KiroError): boolean {
  return error.errorClass === 'upstream_unavailable' && (error.reason === 'INSUFFICIENT_MODEL_CAPACITY' || error.status === 503 || error.status === 529);
}

/**
 * An error no automatic retry should repeat (`x-should-retry: false` on a 5xx): an answer that
 * failed its schema twice already cost two Kiro calls, and the SDKs' retries would triple that.
 */
export function isNoRetry(error: KiroError): boolean {
  return error.errorClass === 'invalid_output';
}

/** The message and retry-after to answer with: an exhausted quota says when it resets. */
export function messageAndRetry(error: KiroError): { message: string; retryAfterSeconds: number | undefined } {
  let message = error.message;
  let retryAfterSeconds = error.retryAfterSeconds;
  if (error.errorClass === 'quota_exhausted' && error.resetAt) {
    const seconds = Math.ceil((error.resetAt.getTime() - Date.now()) / 1000);
    if (seconds > 0) retryAfterSeconds ??= seconds;
    if (!message.includes(error.resetAt.toISOString())) message += ` (resets at ${error.resetAt.toISOString()})`;
  }
  return { message, retryAfterSeconds };
}
