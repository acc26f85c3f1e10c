// The generate call (spec §2.1–§2.3): one POST to generateAssistantResponse with the IDE's headers,
// on the account's own connection pool, answered by an EventStream that is decoded as the bytes
// arrive. A non-200 answer becomes a classified KiroError (kiro/errors); a 200 becomes a stream of
// KiroEvent batches, one batch per network chunk, so the caller writes each chunk's output at once.
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { KiroAccount } from './account';
import type { AccessToken } from './auth';
import { readLimited } from './auth';
import { KiroError, classifyNetworkError, classifyUpstreamResponse } from './errors';
import { toKiroEvent, type KiroEvent } from './events';
import { EventStreamDecoder, EventStreamError } from './eventstream';
import { streamingUserAgents } from './identity';

export interface GenerateOptions {
  signal?: AbortSignal;
  /** The longest the upstream may stay silent: before its response headers, and between chunks. */
  idleTimeoutMs: number;
  /** 1 for the first try, 2 for the retry after a token refresh (amz-sdk-request). */
  attempt?: number;
}

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

export interface KiroResponseStream {
  status: number;
  headers: UpstreamHeaders;
  /** `amz-sdk-invocation-id` this call was sent with (for logs). */
  invocationId: string;
  /** Events decoded as bytes arrive: one array per network chunk that completed any frame. */
  batches(): AsyncGenerator<KiroEvent[], void, undefined>;
  /** Stops reading and releases the connection (when the client went away). */
  cancel(): void;
}

const MAX_ERROR_BODY = 64 * 1024;

/** The request headers of the generate call, in the order the 2026 ports send them (§2.2). */
export function generateHeaders(account: KiroAccount, token: AccessToken, invocationId: string, attempt: number): Record<string, string> {
  const agents = streamingUserAgents(account.machineId);
  // No `connection: close` (XW sends it so one socket never serves two accounts): each account
  // has its own pool here, so keeping its connections alive is safe and saves a TLS handshake.
  return {
    'content-type': 'application/json',
    'x-amzn-codewhisperer-optout': 'true',
    // spec §9.3: `vibe` is what the IDE and the 2026 ports send.
    'x-amzn-kiro-agent-mode': 'vibe',
    'x-amz-user-agent': agents.amzUserAgent,
    'user-agent': agents.userAgent,
    'amz-sdk-invocation-id': invocationId,
    'amz-sdk-request': `attempt=${attempt}; max=3`,
    authorization: `Bearer ${token.value}`,
  };
}

/**
 * Sends the generate call. Resolves once the upstream answered 200 (the body is read lazily
 * through `batches()`); rejects with a classified KiroError for any other status or a transport
 * failure before the answer.
 */
export async function generateAssistantResponse(
  account: KiroAccount,
  token: AccessToken,
  body: string,
  options: GenerateOptions,
): Promise<KiroResponseStream> {
  const invocationId = randomUUID();
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(account.endpoints.generate, {
      method: 'POST',
      headers: generateHeaders(account, token, invocationId, options.attempt ?? 1),
      body,
      dispatcher: account.dispatcher,
      signal: options.signal,
      headersTimeout: options.idleTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const failure = classifyNetworkError(error);
    throw new KiroError(failure.errorClass, failure.message, { reason: failure.reason, account: account.label, cause: error, status: 0 });
  }

  const headers = response.headers as UpstreamHeaders;
  if (response.statusCode !== 200) {
    let text = '';
    try {
      text = await readLimited(response.body, MAX_ERROR_BODY);
    } catch {
      // The status alone still classifies the failure.
    }
    const failure = classifyUpstreamResponse(response.statusCode, text, headers);
    throw new KiroError(failure.errorClass, failure.message, {
      status: failure.status,
      reason: failure.reason,
      retryAfterSeconds: failure.retryAfterSeconds,
      resetAt: failure.resetAt,
      account: account.label,
    });
  }

  const upstreamBody = response.body;
  return {
    status: 200,
    headers,
    invocationId,
    batches: () => decodeBatches(upstreamBody, account.label, options.signal),
    cancel: () => upstreamBody.destroy(),
  };
}

function brokenStream(message: string, account: string, cause?: unknown): KiroError {
  return new KiroError('stream_broken', message, { account, cause });
}

/** Turns the body's chunks into KiroEvent batches; every failure becomes a KiroError. */
async function* decodeBatches(
  body: AsyncIterable<Uint8Array> & { destroy(): unknown },
  account: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<KiroEvent[], void, undefined> {
  // Payloads of assembled frames are reused after the next push, so each chunk's messages are
  // turned into events before the next chunk is read.
  const decoder = new EventStreamDecoder({ reuseAssemblyBuffers: true });
  let pending: KiroError | undefined;
  try {
    for await (const chunk of body) {
      let events: KiroEvent[];
      try {
        const messages = decoder.push(chunk);
        if (messages.length === 0) continue;
        events = new Array<KiroEvent>(messages.length);
        for (let i = 0; i < messages.length; i++) events[i] = toKiroEvent(messages[i]!);
      } catch (error) {
        // Hand over the intact frames that came before the corrupt one, then fail.
        const intact = error instanceof EventStreamError ? safeEvents(error.decoded) : [];
        pending = brokenStream(`Kiro sent a corrupt event stream: ${(error as Error).message}`, account, error);
        if (intact.length) yield intact;
        throw pending;
      }
      yield events;
    }
    try {
      decoder.end();
    } catch (error) {
      throw brokenStream(`Kiro's event stream was cut off: ${(error as Error).message}`, account, error);
    }
  } catch (error) {
    if (error instanceof KiroError || signal?.aborted) throw error;
    const failure = classifyNetworkError(error);
    if (failure.errorClass === 'timeout') {
      throw new KiroError('timeout', `Kiro went silent mid-stream: ${failure.message}`, { account, cause: error });
    }
    throw brokenStream(`the connection to Kiro broke mid-stream: ${(error as Error).message ?? String(error)}`, account, error);
  } finally {
    body.destroy();
  }
}

function safeEvents(messages: Parameters<typeof toKiroEvent>[0][]): KiroEvent[] {
  const out: KiroEvent[] = [];
  for (const message of messages) {
    try {
      out.push(toKiroEvent(message));
    } catch {
      break;
    }
  }
  return out;
}
