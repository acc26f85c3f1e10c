// Small response helpers shared by the routes: JSON bodies and Anthropic-shaped errors, written
// straight to node's ServerResponse (no ETag hashing or content negotiation on the hot path).
import type { ServerResponse } from 'node:http';
import type { AnthropicErrorInfo } from '../anthropic/anthropic-output';
import { anthropicErrorBody } from '../anthropic/anthropic-output';
import type { ApiErrorInfo } from '../pipeline/chat-pipeline';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * An Anthropic error response (`{"type":"error","error":{type,message}}`), with retry-after if
 * known; a guard's refusal is one too.
 */
export function sendAnthropicError(res: ServerResponse, info: ApiErrorInfo): void {
  const headers: Record<string, string> = {};
  const retryAfter = info.retryAfterSeconds;
  if (retryAfter !== undefined) headers['retry-after'] = String(Math.max(0, Math.ceil(retryAfter)));
  // Errors no retry can fix are marked so the SDKs do not retry them (they honour x-should-retry),
  // and so are those a retry would only repeat at the user's cost (error-details' isNoRetry).
  if (info.status === 400 || info.status === 401 || info.status === 403 || info.status === 404 || info.status === 413 || info.noRetry) {
    headers['x-should-retry'] = 'false';
  }
  sendJson(res, info.status, anthropicErrorBody({ type: info.type as AnthropicErrorInfo['type'], message: info.message }), headers);
}
