// The fake Kiro upstream's HTTP server core: routing, recording, bearer checks, scripts, and
// shutdown. The routes live beside it (generate-route, auth-routes, service-routes) and reach
// the server through a RouteKit. See ../fake-upstream.ts for how tests use it.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { FakeAccount } from './accounts';
import { oidcTokenRoute, refreshTokenGrant, socialRefreshRoute } from './auth-routes';
import { bearerInvalidReply } from './bodies';
import { readBody } from './delivery';
import { generateRoute } from './generate-route';
import { textReply } from './scenario';
import { mcpRoute, targetRoute, usageLimitsRoute, type WebSearchResult } from './service-routes';
import { acceptedProfiles } from './profiles';
import { FakeSignIn, installSignInRoutes } from './signin';
import type { AccountOptions, Endpoint, HttpReply, KiroGenerateBody, Outcome, RecordedRequest, ScenarioSource, ValidationOptions } from './types';

export type { WebSearchResult };

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
   * `Accept-Encoding` must decode. Default false. EventStream bodies are
   * never compressed.
   */
  compress?: boolean;
  /** Port to listen on (default 0: any free port). Always binds 127.0.0.1. */
  port?: number;
}

export interface RouteCall {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  /** Aborted when the client goes away or the fake closes. */
  signal: AbortSignal;
}

/** What a route module may do besides reading `upstream`'s public state. */
export interface RouteKit {
  readonly upstream: FakeUpstream;
  /** Sends a JSON (or verbatim string) answer and records its status. */
  reply(call: RouteCall, reply: HttpReply): void;
  /** `reply`, noting on the record why the call was refused. */
  refuse(call: RouteCall, reply: HttpReply, why: string): void;
  /** The account whose unexpired access token is the bearer; otherwise a 403 is sent and undefined returned. */
  authorise(call: RouteCall): FakeAccount | undefined;
  /** Sets a record's outcome (the first call wins). */
  settle(record: RecordedRequest, outcome: Outcome): void;
  /** Wakes `waitFor` callers after a record changed. */
  notify(): void;
  /** The next reply for a generate call of `account`: per-account one-shots, server one-shots, persistent, default. */
  nextScenario(account: FakeAccount): ScenarioSource;
}

/** One route: answers the call (or leaves it to the client's disconnect). */
export type RouteHandler = (call: RouteCall, kit: RouteKit) => Promise<void> | void;

/**
 * An OAuth grant of `/token`, by `grantType`. Only `refresh_token` exists today; the SSO-OIDC
 * sign-in grants (device_code, authorization_code) are added to `upstream.grants` (issue 9).
 */
export type GrantHandler = (call: RouteCall, body: Record<string, unknown>, kit: RouteKit) => HttpReply | Promise<HttpReply>;

interface InFlight {
  record: RecordedRequest;
  controller: AbortController;
}

const DEFAULT_TEXT = 'Hello from the fake Kiro upstream.';

export class FakeUpstream {
  readonly baseUrl: string;
  readonly accounts: FakeAccount[] = [];
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Validation settings; change them at any time (takes effect on the next request). */
  validation: ValidationOptions;
  /** What `/mcp` web_search answers; by default results are made up from the query. */
  webSearchResults: WebSearchResult[] | undefined;
  /** One-shot answers for the next `/mcp` calls (errors, odd bodies), before `webSearchResults`. */
  readonly webSearchReplies: HttpReply[] = [];
  /** Sign-in services (SSO-OIDC, Kiro social, device page): state and knobs (issue 9). */
  readonly signIn: FakeSignIn;
  /** Errors thrown inside the fake itself (bugs in a test's responder, say), answered as 500. */
  readonly internalErrors: Error[] = [];
  /** See FakeUpstreamOptions.compress; may be changed at any time. */
  compress: boolean;
  /** `/token` grants by `grantType` (sign-in grants are added here). */
  readonly grants = new Map<string, GrantHandler>();
  readonly now: () => number;

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly inFlight = new Set<InFlight>();
  private readonly waiters = new Set<() => void>();
  private readonly settledListeners = new Set<(record: RecordedRequest) => void>();
  private readonly queue: ScenarioSource[] = [];
  private persistent: ScenarioSource | undefined;
  private readonly defaultReply: ScenarioSource;
  private readonly routes = new Map<string, { endpoint: Endpoint; handler: RouteHandler }>();
  private readonly kit: RouteKit;
  private closed = false;

  constructor(server: Server, baseUrl: string, options: FakeUpstreamOptions) {
    this.server = server;
    this.baseUrl = baseUrl;
    this.now = options.now ?? Date.now;
    this.compress = options.compress ?? false;
    this.validation = options.validate === false ? { enabled: false } : options.validate === true || !options.validate ? {} : { ...options.validate };
    this.defaultReply = options.defaultReply ?? textReply(DEFAULT_TEXT);
    for (const account of options.accounts ?? [{ kind: 'social' }]) this.addAccount(account);

    this.kit = {
      upstream: this,
      reply: (call, reply) => this.send(call.res, call.record, reply),
      refuse: (call, reply, why) => {
        call.record.refusal = why;
        this.send(call.res, call.record, reply);
      },
      authorise: (call) => this.authorise(call),
      settle: (record, outcome) => this.settle(record, outcome),
      notify: () => this.notify(),
      nextScenario: (account) => account.scriptQueue.shift() ?? this.queue.shift() ?? this.persistent ?? this.defaultReply,
    };

    this.route('POST', '/generateAssistantResponse', 'generate', generateRoute);
    this.route('POST', '/refreshToken', 'refreshToken', socialRefreshRoute);
    this.route('POST', '/token', 'oidcToken', oidcTokenRoute);
    this.route('GET', '/getUsageLimits', 'usageLimits', usageLimitsRoute);
    this.route('POST', '/', 'target', targetRoute);
    this.route('POST', '/mcp', 'mcp', mcpRoute);
    this.grants.set('refresh_token', refreshTokenGrant);
    this.signIn = new FakeSignIn(this);
    installSignInRoutes(this);
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

  /** The profile ARNs an Identity Center account may send (what ListAvailableProfiles lists for it). */
  profileArnsOf(account: FakeAccount): string[] {
    return this.signIn.profilesFor(account).map((p) => p.arn);
  }

  /** The profile a correct client sends on `account`'s generate and MCP calls (none for an API key). */
  streamingProfileOf(account: FakeAccount): string | undefined {
    return acceptedProfiles(account, () => this.profileArnsOf(account))[0];
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

  /** `KIRO_AUTH_TOKEN` JSON for every account (docs/kiro-protocol.md#auth-kinds). */
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
      .map(
        (r) =>
          `  #${r.seq} ${r.method} ${r.path} → ${r.status ?? '…'} ${r.outcome}${r.rejectedBy ? ` [${r.rejectedBy}]` : ''}${r.refusal ? ` (${r.refusal})` : ''}`,
      )
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
    this.routes.set(`${method.toUpperCase()} ${path}`, { endpoint, handler });
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

  /** For startFakeUpstream only: records, routes and answers one request. */
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
      endpoint: this.routes.get(key)?.endpoint ?? 'unknown',
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

    const handler = this.routes.get(key)?.handler;
    try {
      if (!handler) {
        this.send(res, record, { status: 404, body: { message: `fake upstream: no route for ${key}` } });
        return;
      }
      await handler({ req, res, record, signal: controller.signal }, this.kit);
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

  /**
   * The account whose unexpired access token — or working API key, sent with `tokentype: API_KEY`
   * — is the bearer, or a 403 already sent. A key without the token type, or the token type with
   * anything but a working key, is refused as an invalid bearer (the key is only ever read as one
   * with that header).
   */
  private authorise(call: RouteCall): FakeAccount | undefined {
    const header = call.req.headers.authorization;
    const bearer = typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : '';
    const tokenType = call.req.headers.tokentype;
    const asApiKey = typeof tokenType === 'string' && tokenType.toUpperCase() === 'API_KEY';
    const keyOwner = this.accounts.find((a) => a.kind === 'apikey' && a.ownsApiKey(bearer));
    if (keyOwner || asApiKey) {
      if (keyOwner) call.record.account = keyOwner;
      const refusal = !keyOwner
        ? 'unknown API key'
        : !keyOwner.hasApiKey(bearer)
          ? 'revoked API key'
          : !asApiKey
            ? 'API key without tokentype: API_KEY'
            : undefined;
      if (refusal) {
        call.record.refusal = refusal;
        this.send(call.res, call.record, bearerInvalidReply());
        return undefined;
      }
      return keyOwner;
    }
    const owner = this.accounts.find((a) => a.ownsAccessToken(bearer));
    if (owner) call.record.account = owner;
    if (!owner || !owner.accepts(bearer)) {
      call.record.refusal = owner ? 'access token expired' : bearer ? 'unknown bearer token' : 'no bearer token';
      this.send(call.res, call.record, bearerInvalidReply());
      return undefined;
    }
    return owner;
  }

  /** For startFakeUpstream only: sockets are destroyed on close. */
  trackSocket(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
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
