// The fake Kiro upstream's HTTP server: routing, recording, auth, and the streaming of scripted
// replies. See ../fake-upstream.ts for how tests use it.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { FakeAccount } from './accounts';
import { bearerInvalidReply, httpOf, oidcError, socialRefreshRejected, upstreamErrors } from './bodies';
import { expandScenario, httpStepOf, meteredCredits, textReply } from './scenario';
import type {
  AccountOptions,
  Endpoint,
  GenerateContext,
  HttpReply,
  KiroGenerateBody,
  Outcome,
  RecordedRequest,
  Scenario,
  ScenarioSource,
  ValidationOptions,
} from './types';
import { usageLimitsBody } from './usage';
import { validateGenerateBody, validationFailure } from './validate';

export interface FakeUpstreamOptions {
  /** Body validation: `false` turns every body rule off; an object tunes it. Default on. */
  validate?: boolean | ValidationOptions;
  /** Accounts to create at start. Default: one Social account. Pass `[]` for none. */
  accounts?: AccountOptions[];
  /** The reply when nothing is scripted. Default: `textReply('Hello from the fake Kiro upstream.')`. */
  defaultReply?: ScenarioSource;
  /** Clock for token expiry and usage dates (ms since epoch). Default `Date.now`. */
  now?: () => number;
  /**
   * Compress JSON answers (gzip, or br if only that is accepted) when the request's
   * `accept-encoding` allows it, as the real hosts may: a client that declares
   * `Accept-Encoding` must decode (kiro-protocol §1.2). Default false. EventStream bodies are
   * never compressed.
   */
  compress?: boolean;
  /** Port to listen on (default 0: any free port). Always binds 127.0.0.1. */
  port?: number;
}

/** Results the MCP web_search tool returns (kiro-protocol §2.6). */
export interface WebSearchResult {
  title: string;
  url: string;
  snippet: string;
  publishedDate?: number;
}

/** One route: handles a recorded request and must answer it. */
export type RouteHandler = (call: RouteCall) => Promise<void> | void;

export interface RouteCall {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  /** Aborted when the client goes away or the fake closes. */
  signal: AbortSignal;
}

/**
 * OAuth grants `/token` understands, by `grantType`. Only `refresh_token` exists today; the
 * SSO-OIDC sign-in grants (device_code, authorization_code) are added here later (issue 9).
 */
export type GrantHandler = (upstream: FakeUpstream, call: RouteCall, body: Record<string, unknown>) => HttpReply | Promise<HttpReply>;

interface InFlight {
  record: RecordedRequest;
  controller: AbortController;
}

const DEFAULT_TEXT = 'Hello from the fake Kiro upstream.';
const EVENTSTREAM = 'application/vnd.amazon.eventstream';
const AMZ_JSON = 'application/x-amz-json-1.0';

export class FakeUpstream {
  readonly baseUrl: string;
  readonly accounts: FakeAccount[] = [];
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Validation settings; change them at any time (takes effect on the next request). */
  validation: ValidationOptions;
  /** What `/mcp` web_search answers; by default results are made up from the query. */
  webSearchResults: WebSearchResult[] | undefined;
  /** Errors thrown inside the fake itself (bugs in a test's responder, say), answered as 500. */
  readonly internalErrors: Error[] = [];

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly inFlight = new Set<InFlight>();
  private readonly waiters = new Set<() => void>();
  private readonly settledListeners = new Set<(record: RecordedRequest) => void>();
  private readonly queue: ScenarioSource[] = [];
  private persistent: ScenarioSource | undefined;
  private readonly defaultReply: ScenarioSource;
  private readonly routes = new Map<string, RouteHandler>();
  private readonly routeEndpoints = new Map<string, Endpoint>();
  readonly grants = new Map<string, GrantHandler>();
  private closed = false;
  readonly now: () => number;
  /** See FakeUpstreamOptions.compress; may be changed at any time. */
  compress: boolean;

  constructor(server: Server, baseUrl: string, options: FakeUpstreamOptions) {
    this.server = server;
    this.baseUrl = baseUrl;
    this.now = options.now ?? Date.now;
    this.compress = options.compress ?? false;
    this.validation = options.validate === false ? { enabled: false } : options.validate === true || !options.validate ? {} : { ...options.validate };
    this.defaultReply = options.defaultReply ?? textReply(DEFAULT_TEXT);
    for (const account of options.accounts ?? [{ kind: 'social' }]) this.addAccount(account);

    this.route('POST', '/generateAssistantResponse', 'generate', (call) => this.generate(call));
    this.route('POST', '/refreshToken', 'refreshToken', (call) => this.socialRefresh(call));
    this.route('POST', '/token', 'oidcToken', (call) => this.oidcToken(call));
    this.route('GET', '/getUsageLimits', 'usageLimits', (call) => this.usageLimits(call));
    this.route('POST', '/', 'target', (call) => this.target(call));
    this.route('POST', '/mcp', 'mcp', (call) => this.mcp(call));
    this.grants.set('refresh_token', (upstream, call, body) => upstream.oidcRefreshGrant(call, body));
  }

  // -------------------------------------------------------------------------------------------
  // Test-facing API
  // -------------------------------------------------------------------------------------------

  /** The first account (created at start unless `accounts: []`). */
  get account(): FakeAccount {
    const first = this.accounts[0];
    if (!first) throw new Error('fake upstream has no accounts; call addAccount()');
    return first;
  }

  addAccount(options: AccountOptions = {}): FakeAccount {
    const account = new FakeAccount(options, this.now);
    this.accounts.push(account);
    return account;
  }

  /** Every generate call from now on answers `source` (after any one-shot replies). */
  script(source: ScenarioSource): void {
    this.persistent = source;
  }

  /** One-shot replies for the next generate calls, in order (per-account queues come first). */
  scriptNext(...sources: ScenarioSource[]): void {
    this.queue.push(...sources);
  }

  /** Drops every scripted reply (the default reply answers again). */
  clearScripts(): void {
    this.queue.length = 0;
    this.persistent = undefined;
    for (const account of this.accounts) account.scriptQueue.length = 0;
  }

  /** Scripted one-shot replies not consumed yet (server-wide queue). */
  get pendingScripts(): number {
    return this.queue.length;
  }

  get generateRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.endpoint === 'generate');
  }

  /** Parsed bodies of the generate calls, in order. */
  get generateBodies(): KiroGenerateBody[] {
    return this.generateRequests.map((r) => r.body as KiroGenerateBody);
  }

  /** The latest generate call; throws if there was none. */
  lastGenerate(): RecordedRequest {
    const last = this.generateRequests.at(-1);
    if (!last) throw new Error('the fake upstream received no generateAssistantResponse call');
    return last;
  }

  requestsTo(endpoint: Endpoint): RecordedRequest[] {
    return this.requests.filter((r) => r.endpoint === endpoint);
  }

  /**
   * Refresh calls (Social `/refreshToken` and IdC `/token`) that presented `refreshToken`, or
   * every refresh call if none is given — whatever their outcome.
   */
  refreshCount(refreshToken?: string): number {
    return this.requests.filter((r) => {
      if (r.endpoint !== 'refreshToken' && r.endpoint !== 'oidcToken') return false;
      return refreshToken === undefined || (r.body as { refreshToken?: unknown } | undefined)?.refreshToken === refreshToken;
    }).length;
  }

  /** `KIRO_AUTH_TOKEN` JSON for every account (kiro-protocol §1.6). */
  kiroAuthToken(accounts: FakeAccount[] = this.accounts): string {
    return JSON.stringify(accounts.map((a) => a.credential()));
  }

  /**
   * Resolves with the first request (already received or still to come) matching `predicate`,
   * re-checked whenever a record changes. Rejects after `timeoutMs` with a summary of what did
   * arrive, so a test never hangs on a request that was not made.
   */
  waitFor(predicate: (record: RecordedRequest) => boolean, timeoutMs = 5_000): Promise<RecordedRequest> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.requests.find(predicate);
        if (!found) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`fake upstream: no matching request within ${timeoutMs} ms; received:\n${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves when `record` has finished (any outcome but `pending`). */
  settled(record: RecordedRequest, timeoutMs = 5_000): Promise<RecordedRequest> {
    return this.waitFor((r) => r === record && r.outcome !== 'pending', timeoutMs);
  }

  /** Calls `listener` each time a request finishes (any outcome); returns an unsubscribe. */
  onSettled(listener: (record: RecordedRequest) => void): () => void {
    this.settledListeners.add(listener);
    return () => this.settledListeners.delete(listener);
  }

  /** One line per request received, for failure messages. */
  describe(): string {
    if (this.requests.length === 0) return '  (nothing)';
    return this.requests
      .map((r) => `  #${r.seq} ${r.method} ${r.path} → ${r.status ?? '…'} ${r.outcome}${r.rejectedBy ? ` [${r.rejectedBy}]` : ''}${r.refusal ? ` (${r.refusal})` : ''}`)
      .join('\n');
  }

  /** Forgets every record (accounts and scripts stay). */
  clearRecords(): void {
    this.requests.length = 0;
  }

  /**
   * Adds or replaces a route (`path` relative to the base URL, without query). The seam for
   * endpoints added later, e.g. SSO-OIDC `/client/register` (issue 9).
   */
  route(method: string, path: string, endpoint: Endpoint, handler: RouteHandler): void {
    this.routes.set(`${method.toUpperCase()} ${path}`, handler);
    this.routeEndpoints.set(`${method.toUpperCase()} ${path}`, endpoint);
  }

  /** Stops the server: in-flight replies end (outcome `closed`), every socket is destroyed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const flight of this.inFlight) {
      this.settle(flight.record, 'closed');
      flight.controller.abort();
    }
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // -------------------------------------------------------------------------------------------
  // Request plumbing
  // -------------------------------------------------------------------------------------------

  /** Called by the server for every request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const key = `${(req.method ?? 'GET').toUpperCase()} ${url.pathname}`;
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch {
      return; // the client went away while sending its body
    }
    let body: unknown;
    if (rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
    }
    const target = req.headers['x-amz-target'];
    const record: RecordedRequest = {
      seq: this.requests.length + 1,
      endpoint: this.routeEndpoints.get(key) ?? 'unknown',
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      rawBody,
      body,
      receivedAt: this.now(),
      ...(typeof target === 'string' ? { target } : {}),
      framesSent: 0,
      outcome: 'pending',
    };
    this.requests.push(record);

    const controller = new AbortController();
    const flight: InFlight = { record, controller };
    this.inFlight.add(flight);
    res.on('close', () => {
      this.inFlight.delete(flight);
      // The response closed before it finished: the client went away (or the socket was cut).
      if (!res.writableFinished) this.settle(record, 'aborted');
      controller.abort();
    });
    res.on('finish', () => this.settle(record, 'completed'));
    this.notify();

    const handler = this.routes.get(key);
    try {
      if (!handler) {
        this.send(res, record, { status: 404, body: { message: `fake upstream: no route for ${key}` } });
        return;
      }
      await handler({ req, res, record, signal: controller.signal });
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.internalErrors.push(err);
      if (!res.headersSent) this.send(res, record, { status: 500, body: { message: `fake upstream internal error: ${err.message}` } });
      else res.destroy(err);
    }
  }

  private settle(record: RecordedRequest, outcome: Outcome): void {
    if (record.outcome !== 'pending') return;
    record.outcome = outcome;
    record.finishedAt = this.now();
    this.notify();
    for (const listener of this.settledListeners) listener(record);
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private send(res: ServerResponse, record: RecordedRequest, reply: HttpReply): void {
    if (res.headersSent || res.destroyed) return;
    const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    let payload: Buffer = Buffer.from(text, 'utf8');
    let encoding: string | undefined;
    const accepted = String(res.req?.headers['accept-encoding'] ?? '').toLowerCase();
    if (this.compress && payload.length > 0) {
      if (/\bgzip\b/.test(accepted)) {
        payload = gzipSync(payload);
        encoding = 'gzip';
      } else if (/\bbr\b/.test(accepted)) {
        payload = brotliCompressSync(payload);
        encoding = 'br';
      }
    }
    record.status = reply.status;
    res.writeHead(reply.status, {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
      ...reply.headers,
      ...(encoding ? { 'content-encoding': encoding } : {}),
      'content-length': payload.length,
    });
    res.end(payload);
    this.notify();
  }

  private refuse(res: ServerResponse, record: RecordedRequest, reply: HttpReply, refusal: string): void {
    record.refusal = refusal;
    this.send(res, record, reply);
  }

  /** The account whose unexpired access token is the bearer, or a 403 already sent. */
  private authorise(call: RouteCall): FakeAccount | undefined {
    const header = call.req.headers.authorization;
    const bearer = typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : '';
    const owner = this.accounts.find((a) => a.ownsAccessToken(bearer));
    if (owner) call.record.account = owner;
    if (!owner || !owner.accepts(bearer)) {
      this.refuse(call.res, call.record, bearerInvalidReply(), owner ? 'access token expired' : bearer ? 'unknown bearer token' : 'no bearer token');
      return undefined;
    }
    return owner;
  }

  // -------------------------------------------------------------------------------------------
  // generateAssistantResponse
  // -------------------------------------------------------------------------------------------

  private async generate(call: RouteCall): Promise<void> {
    const { res, record } = call;
    const account = this.authorise(call);
    if (!account) return;
    if (account.suspended) return this.refuse(res, record, httpOf(upstreamErrors.suspended()), 'account suspended');
    if (account.remainingCredits <= 0) return this.refuse(res, record, httpOf(upstreamErrors.monthlyLimit()), 'credits exhausted');

    if (this.validation.enabled !== false) {
      const failure =
        record.body === undefined
          ? validationFailure('body_not_json', 'the body is not JSON')
          : validateGenerateBody(record.body, { models: account.modelIds, profileArn: account.profileArn }, this.validation);
      if (failure) {
        record.rejectedBy = failure.rule;
        return this.refuse(res, record, { status: failure.status, body: failure.body, headers: failure.headers ?? {} }, failure.detail);
      }
    }

    const body = (record.body ?? {}) as KiroGenerateBody;
    const source = account.scriptQueue.shift() ?? this.queue.shift() ?? this.persistent ?? this.defaultReply;
    const context: GenerateContext = { request: record, body, account, callNumber: account.servedCalls + 1 };
    const scenario: Scenario = typeof source === 'function' ? source(context) : source;
    account.servedCalls += 1;
    record.scenario = scenario.name ?? 'unnamed';

    const http = httpStepOf(scenario);
    if (http) {
      if (http.delayMs > 0) await sleep(http.delayMs, call.signal);
      if (!call.signal.aborted) this.send(res, record, http.reply);
      return;
    }

    account.charge(scenario.credits ?? account.creditsPerCall ?? meteredCredits(scenario));
    const modelId = body.conversationState?.currentMessage?.userInputMessage?.modelId;
    await this.stream(call, scenario, typeof modelId === 'string' ? modelId : undefined);
  }

  private async stream(call: RouteCall, scenario: Scenario, modelId: string | undefined): Promise<void> {
    const { res, record, signal } = call;
    const actions = expandScenario(scenario, modelId);
    const conversationId = (record.body as KiroGenerateBody | undefined)?.conversationState?.conversationId;
    const sendHeaders = () => {
      if (res.headersSent) return;
      res.writeHead(200, {
        'content-type': scenario.contentType ?? EVENTSTREAM,
        'x-amzn-requestid': randomUUID(),
        ...(typeof conversationId === 'string' ? { 'x-amzn-codewhisperer-conversation-id': conversationId } : {}),
      });
      res.flushHeaders();
      record.status = 200;
      this.notify();
    };
    if (!scenario.holdHeaders) sendHeaders();

    const writer = new ChunkWriter(res, signal, scenario.chunkBytes === undefined || scenario.chunkBytes === 'frame' ? 0 : scenario.chunkBytes);
    for (const action of actions) {
      if (signal.aborted) return;
      if (action.kind === 'frame') {
        sendHeaders();
        await writer.write(action.bytes);
        record.framesSent += 1;
        this.notify();
      } else if (action.kind === 'delay') {
        await writer.flush();
        await sleep(action.ms, signal);
      } else if (action.kind === 'cut') {
        // Let the frames before the cut reach the client, then drop the connection mid-body.
        await writer.settled();
        this.settle(record, 'cut');
        res.socket?.destroy();
        return;
      } else {
        await writer.flush();
        await untilAborted(signal);
        return;
      }
    }
    sendHeaders();
    await writer.flush();
    if (!signal.aborted) res.end();
  }

  // -------------------------------------------------------------------------------------------
  // Auth: Social /refreshToken and IdC /token
  // -------------------------------------------------------------------------------------------

  private async socialRefresh(call: RouteCall): Promise<void> {
    const { res, record } = call;
    const presented = (record.body as { refreshToken?: unknown } | undefined)?.refreshToken;
    if (typeof presented !== 'string' || presented === '') {
      return this.refuse(res, record, { status: 400, body: { message: 'refreshToken is required' } }, 'no refreshToken in body');
    }
    const account = this.accounts.find((a) => a.kind === 'social' && a.refreshToken === presented);
    if (!account) return this.refuse(res, record, socialRefreshRejected(), 'unknown or revoked refresh token');
    record.account = account;
    await this.refreshPause(account, call.signal);
    if (call.signal.aborted) return;
    const failure = account.refreshFailures.shift();
    if (failure) return this.refuse(res, record, failure, 'scripted refresh failure');
    const issued = account.refresh();
    this.send(res, record, {
      status: 200,
      body: {
        accessToken: issued.accessToken,
        expiresIn: account.accessTokenTtlSeconds,
        ...(account.profileArn ? { profileArn: account.profileArn } : {}),
        ...(issued.refreshToken ? { refreshToken: issued.refreshToken } : {}),
      },
    });
  }

  private async oidcToken(call: RouteCall): Promise<void> {
    const { res, record } = call;
    const body = record.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return this.refuse(res, record, oidcError('invalid_request', 'The request body must be JSON.'), 'body is not JSON');
    }
    const fields = body as Record<string, unknown>;
    const grant = this.grants.get(String(fields.grantType ?? ''));
    if (!grant) {
      return this.refuse(res, record, oidcError('unsupported_grant_type', `Unsupported grant type: ${String(fields.grantType)}`), 'unsupported grant');
    }
    const idc = this.accounts.find((a) => a.kind === 'idc' && a.clientId === fields.clientId);
    if (idc) await this.refreshPause(idc, call.signal);
    if (call.signal.aborted) return;
    const reply = await grant(this, call, fields);
    if (reply.status !== 200) record.refusal ??= `${String((reply.body as { error?: unknown })?.error)}`;
    this.send(res, record, reply);
  }

  /** Waits out an account's refresh delay and any held gate (cut short if the client leaves). */
  private async refreshPause(account: FakeAccount, signal: AbortSignal): Promise<void> {
    if (account.refreshDelayMs > 0) await sleep(account.refreshDelayMs, signal);
    await Promise.race([account.refreshMayProceed(), untilAborted(signal)]);
  }

  /** The SSO-OIDC `refresh_token` grant (kiro-protocol §1.3). */
  oidcRefreshGrant(call: RouteCall, body: Record<string, unknown>): HttpReply {
    const account = this.accounts.find((a) => a.kind === 'idc' && a.clientId === body.clientId);
    if (!account) return oidcError('invalid_client', 'Invalid client provided');
    call.record.account = account;
    if (body.clientSecret !== account.clientSecret) return oidcError('invalid_client', 'Invalid client provided');
    if (body.refreshToken !== account.refreshToken) return oidcError('invalid_grant', 'Invalid refresh token provided');
    const failure = account.refreshFailures.shift();
    if (failure) return failure;
    const issued = account.refresh();
    return {
      status: 200,
      body: {
        accessToken: issued.accessToken,
        expiresIn: account.accessTokenTtlSeconds,
        tokenType: 'Bearer',
        ...(issued.refreshToken ? { refreshToken: issued.refreshToken } : {}),
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // getUsageLimits, x-amz-target calls, MCP
  // -------------------------------------------------------------------------------------------

  private usageLimits(call: RouteCall): void {
    const account = this.authorise(call);
    if (!account) return;
    // A suspended account still reads its balance (observed: getUsageLimits answers while
    // ListAvailableModels and generate 403), so suspension is not checked here.
    const scripted = account.usageReplies.shift();
    if (scripted) return this.send(call.res, call.record, scripted);
    this.send(call.res, call.record, { status: 200, body: usageLimitsBody(account, this.now()) });
  }

  private target(call: RouteCall): void {
    const { res, record } = call;
    const target = record.target ?? '';
    if (target !== 'AmazonCodeWhispererService.ListAvailableModels') {
      return this.refuse(
        res,
        record,
        {
          status: 400,
          body: { __type: 'com.amazon.coral.service#UnknownOperationException', message: null },
          headers: { 'content-type': AMZ_JSON, 'x-amzn-errortype': 'UnknownOperationException' },
        },
        `unknown x-amz-target "${target}"`,
      );
    }
    const account = this.authorise(call);
    if (!account) return;
    if (account.suspended) return this.refuse(res, record, httpOf(upstreamErrors.suspended()), 'account suspended');
    this.send(res, record, {
      status: 200,
      headers: { 'content-type': AMZ_JSON },
      body: { defaultModel: { modelId: account.defaultModel }, models: account.models },
    });
  }

  private mcp(call: RouteCall): void {
    const { res, record } = call;
    const account = this.authorise(call);
    if (!account) return;
    if (account.suspended) return this.refuse(res, record, httpOf(upstreamErrors.suspended()), 'account suspended');
    const rpc = record.body as { id?: unknown; method?: unknown; params?: { name?: unknown; arguments?: { query?: unknown } } } | undefined;
    if (rpc?.method !== 'tools/call' || rpc.params?.name !== 'web_search' || typeof rpc.params.arguments?.query !== 'string') {
      return this.send(res, record, {
        status: 200,
        body: { id: rpc?.id ?? null, jsonrpc: '2.0', error: { code: -32602, message: 'Invalid params' } },
      });
    }
    const query = rpc.params.arguments.query;
    const results = (
      this.webSearchResults ?? [
        { title: `${query} — overview`, url: `https://example.com/search/${encodeURIComponent(query)}`, snippet: `About ${query}.` },
      ]
    ).map((r, i) => ({ ...r, publishedDate: r.publishedDate ?? this.now(), id: `result-${i + 1}`, domain: new URL(r.url).hostname }));
    this.send(res, record, {
      status: 200,
      body: {
        id: rpc.id ?? null,
        jsonrpc: '2.0',
        result: { content: [{ type: 'text', text: JSON.stringify({ results, totalResults: results.length, query }) }], isError: false },
      },
    });
  }

  // Exposed for the server factory only.
  trackSocket(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}

/** Writes frames, optionally re-chunked into fixed-size writes; honours back-pressure. */
class ChunkWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly signal: AbortSignal,
    private readonly chunkBytes: number,
  ) {}

  async write(bytes: Uint8Array): Promise<void> {
    if (this.chunkBytes <= 0) return this.emit(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.pending.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.pendingBytes += bytes.byteLength;
    while (this.pendingBytes >= this.chunkBytes) {
      const all = Buffer.concat(this.pending);
      await this.emit(all.subarray(0, this.chunkBytes));
      const rest = all.subarray(this.chunkBytes);
      this.pending = rest.length ? [rest] : [];
      this.pendingBytes = rest.length;
    }
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const all = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    await this.emit(all);
  }

  /** Resolves once everything written so far has left for the kernel (before a cut). */
  async settled(): Promise<void> {
    await this.flush();
    await Promise.race([this.lastWrite, untilAborted(this.signal)]);
  }

  private lastWrite: Promise<void> = Promise.resolve();

  private async emit(chunk: Buffer): Promise<void> {
    if (this.signal.aborted || this.res.destroyed) return;
    let written!: () => void;
    this.lastWrite = new Promise<void>((resolve) => (written = resolve));
    if (!this.res.write(chunk, () => written())) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.signal.removeEventListener('abort', done);
          resolve();
        };
        this.res.on('drain', done);
        this.signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return sleep(2 ** 31 - 1, signal);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts a fake upstream on 127.0.0.1 (a free port unless `port` is given). */
export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  // The server must exist before the port (and so the base URL) is known.
  const holder: { upstream?: FakeUpstream } = {};
  const server = createServer((req, res) => {
    if (!holder.upstream) {
      res.writeHead(503).end();
      return;
    }
    void holder.upstream.handle(req, res);
  });
  const early: Socket[] = [];
  server.on('connection', (socket) => (holder.upstream ? holder.upstream.trackSocket(socket) : early.push(socket)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const upstream = new FakeUpstream(server, `http://127.0.0.1:${port}`, options);
  for (const socket of early) upstream.trackSocket(socket);
  holder.upstream = upstream;
  return upstream;
}
