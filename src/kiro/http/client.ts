// The generate call: one POST to generateAssistantResponse with the IDE's headers,
// on the account's own connection pool, answered by an EventStream that is decoded as the bytes
// arrive. A non-200 answer becomes a classified KiroError (kiro/errors); a 200 becomes a stream of
// KiroEvent batches, one batch per network chunk, so the caller writes each chunk's output at once.
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { KiroAccount } from '../accounts/account';
import type { AccessToken } from '../accounts/auth';
import { KiroError, classifyNetworkError, classifyUpstreamResponse } from '../errors';
import { toKiroEvent, type KiroEvent } from '../codec/events';
import { EventStreamDecoder, EventStreamError } from '../codec/eventstream';
import { sdkHeaders, streamingUserAgents, type UserAgents } from './identity';

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

/** The request headers of the generate call, in the order the IDE sends them (docs/kiro-protocol.md#identity-headers). */
function generateHeaders(account: KiroAccount, token: AccessToken, invocationId: string, attempt: number): Record<string, string> {
  const { agents } = accountInfo(account);
  // No `connection: close` (some proxies send it so one socket never serves two accounts): each account
  // has its own pool here, so keeping its connections alive is safe and saves a TLS handshake.
  return {
    'content-type': 'application/json',
    'x-amzn-codewhisperer-optout': 'true',
    // `vibe` is what the IDE and most 2026 clients send (older ones sent `spec`).
    'x-amzn-kiro-agent-mode': 'vibe',
    ...sdkHeaders(agents, invocationId, `attempt=${attempt}; max=3`, token),
  };
}

/** Per-account values computed once: the user agents and the parsed generate URL. */
const perAccount = new WeakMap<KiroAccount, { agents: UserAgents; url: string; origin: string; path: string }>();

function accountInfo(account: KiroAccount): { agents: UserAgents; origin: string; path: string } {
  let info = perAccount.get(account);
  // The URL changes once, when a looked-up profile moves the account to its region's host.
  if (!info || info.url !== account.endpoints.generate) {
    const url = new URL(account.endpoints.generate);
    info = { agents: streamingUserAgents(account.machineId), url: account.endpoints.generate, origin: url.origin, path: url.pathname };
    perAccount.set(account, info);
  }
  return info;
}

/**
 * Sends the generate call. Resolves once the upstream answered 200 (the body is read as it
 * arrives through `batches()`); rejects with a classified KiroError for any other status or a
 * transport failure before the answer.
 *
 * It drives undici's dispatcher directly (a handler with callbacks) rather than `request()`:
 * no Readable stream or async iterator per response on the hot path. Each chunk is decoded into
 * events the moment it arrives; when the consumer falls behind, the socket is paused.
 */
export function generateAssistantResponse(account: KiroAccount, token: AccessToken, body: string, options: GenerateOptions): Promise<KiroResponseStream> {
  const invocationId = randomUUID();
  const { origin, path } = accountInfo(account);
  return new Promise<KiroResponseStream>((resolve, reject) => {
    const handler = new GenerateHandler(account.label, invocationId, options.signal, resolve, reject, (json) => account.recordMetering(json));
    account.dispatcher.dispatch(
      {
        origin,
        path,
        method: 'POST',
        headers: generateHeaders(account, token, invocationId, options.attempt ?? 1),
        body,
        headersTimeout: options.idleTimeoutMs,
        bodyTimeout: options.idleTimeoutMs,
      },
      handler,
    );
  });
}

function brokenStream(message: string, account: string, cause?: unknown): KiroError {
  return new KiroError('stream_broken', message, { account, cause });
}

/** Undelivered upstream bytes above which the socket is paused (and below which it resumes). */
const PAUSE_ABOVE_BYTES = 256 * 1024;
const RESUME_BELOW_BYTES = 64 * 1024;
/** Events merged into one waiting batch at most. */
const MAX_BATCH_EVENTS = 1024;

type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[0];

/** One generate call as undici callbacks: status, error body or decoded event batches. */
class GenerateHandler implements Dispatcher.DispatchHandler {
  private controller: Controller | undefined;
  private status = 0;
  private headers: UpstreamHeaders = {};
  private settled = false;
  // Error answers: the body, bounded.
  private errorChunks: Buffer[] = [];
  private errorBytes = 0;
  // Success: the decoder and the queue the consumer reads.
  private decoder: EventStreamDecoder | undefined;
  private readonly queue: KiroEvent[][] = [];
  /** Bytes behind each queued batch, and their sum: what the consumer has not taken yet. */
  private readonly queueBytes: number[] = [];
  private queuedBytes = 0;
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private readonly onAbort = () => this.controller?.abort(abortReason(this.signal));

  constructor(
    private readonly account: string,
    private readonly invocationId: string,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (stream: KiroResponseStream) => void,
    private readonly reject: (error: unknown) => void,
    /** Credits of each meteringEvent go to the account (the pool counts them per account). */
    private readonly onMetering: (json: unknown) => void,
  ) {}

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.signal?.aborted) controller.abort(abortReason(this.signal));
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  onResponseStart(_controller: Controller, statusCode: number, headers: UpstreamHeaders): void {
    this.status = statusCode;
    this.headers = headers;
    if (statusCode !== 200) return;
    // Payloads of assembled frames are reused after the next push, so each chunk's messages are
    // turned into events before the next chunk is read.
    this.decoder = new EventStreamDecoder({ reuseAssemblyBuffers: true });
    this.settled = true;
    this.resolve({
      status: 200,
      headers,
      invocationId: this.invocationId,
      batches: () => this.batches(),
      cancel: () => this.cancel(),
    });
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    // Pause and resume through the controller undici hands the response callbacks (wrapping
    // dispatchers may pass the request callbacks another one).
    this.controller = controller;
    if (!this.decoder) {
      if (this.errorBytes < MAX_ERROR_BODY) this.errorChunks.push(chunk.subarray(0, MAX_ERROR_BODY - this.errorBytes));
      this.errorBytes += chunk.length;
      return;
    }
    if (this.ended) return;
    try {
      const messages = this.decoder.push(chunk);
      if (messages.length === 0) return;
      const events = new Array<KiroEvent>(messages.length);
      for (let i = 0; i < messages.length; i++) {
        const event = (events[i] = toKiroEvent(messages[i]!));
        if (event.type === 'meteringEvent') this.onMetering(event.json);
      }
      this.push(events, chunk.length);
    } catch (error) {
      // Hand over the intact frames that came before the corrupt one, then fail.
      const intact = error instanceof EventStreamError ? safeEvents(error.decoded) : [];
      if (intact.length) this.push(intact, 0);
      this.finish(brokenStream(`Kiro sent a corrupt event stream: ${(error as Error).message}`, this.account, error));
      controller.abort(new Error('corrupt event stream'));
      return;
    }
    // The consumer (the client's socket) is behind: stop reading Kiro until it catches up.
    if (this.queuedBytes > PAUSE_ABOVE_BYTES && !controller.paused) controller.pause();
  }

  onResponseEnd(): void {
    if (!this.decoder) {
      this.settleError(classifyUpstreamResponse(this.status, Buffer.concat(this.errorChunks).toString('utf8'), this.headers));
      return;
    }
    try {
      this.decoder.end();
      this.finish(undefined);
    } catch (error) {
      this.finish(brokenStream(`Kiro's event stream was cut off: ${(error as Error).message}`, this.account, error));
    }
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    if (!this.settled) {
      if (this.signal?.aborted) {
        this.settled = true;
        this.reject(error);
        return;
      }
      if (this.status !== 0 && this.status !== 200) {
        // The error body was cut off; the status alone still classifies it.
        this.settleError(classifyUpstreamResponse(this.status, Buffer.concat(this.errorChunks).toString('utf8'), this.headers));
        return;
      }
      const failure = classifyNetworkError(error);
      this.settled = true;
      this.reject(new KiroError(failure.errorClass, failure.message, { reason: failure.reason, account: this.account, cause: error, status: 0 }));
      return;
    }
    if (this.ended) return;
    if (this.signal?.aborted) {
      this.finish(error);
      return;
    }
    const failure = classifyNetworkError(error);
    this.finish(
      failure.errorClass === 'timeout'
        ? new KiroError('timeout', `Kiro went silent mid-stream: ${failure.message}`, { account: this.account, cause: error })
        : brokenStream(`the connection to Kiro broke mid-stream: ${error.message}`, this.account, error),
    );
  }

  private settleError(failure: KiroError): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    if (this.settled) return;
    this.settled = true;
    this.reject(
      new KiroError(failure.errorClass, failure.message, {
        status: failure.status,
        reason: failure.reason,
        retryAfterSeconds: failure.retryAfterSeconds,
        resetAt: failure.resetAt,
        account: this.account,
      }),
    );
  }

  private push(events: KiroEvent[], bytes: number): void {
    // Frames that arrive before the consumer ran (several in one socket read, each its own HTTP
    // chunk) join the batch still waiting, so they are assembled and written to the client in
    // one go instead of one write per frame.
    const lastIndex = this.queue.length - 1;
    const last = this.queue[lastIndex];
    if (last && last.length < MAX_BATCH_EVENTS) {
      for (const event of events) last.push(event);
      this.queueBytes[lastIndex]! += bytes;
    } else {
      this.queue.push(events);
      this.queueBytes.push(bytes);
    }
    this.queuedBytes += bytes;
    this.wakeUp();
  }

  private finish(failure: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = failure;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private cancel(): void {
    if (!this.ended) {
      this.finish(undefined);
      this.controller?.abort(new Error('the client went away'));
    }
  }

  private async *batches(): AsyncGenerator<KiroEvent[], void, undefined> {
    try {
      for (;;) {
        const batch = this.queue.shift();
        if (batch) {
          this.queuedBytes -= this.queueBytes.shift() ?? 0;
          if (this.controller?.paused && this.queuedBytes < RESUME_BELOW_BYTES) this.controller.resume();
          yield batch;
          continue;
        }
        if (this.ended) {
          if (this.failure !== undefined) throw this.failure;
          return;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      // The consumer stopped early (a stop sequence, a failure on its side): release the socket.
      this.cancel();
    }
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : 'aborted');
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
