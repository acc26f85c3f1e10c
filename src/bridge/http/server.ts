// The bridge: an HTTP server on 127.0.0.1 with the guards in front of every route, and its
// lifecycle. Fixed-path routes (/v1/messages, /v1/chat/completions, …) are dispatched by a map
// lookup straight from node's request event, and so is GET /health; everything else
// (parameterised paths, 404, the last-resort error handler) is the express app. Express costs
// ~0.1 ms of CPU per request on this machine class, as much as the whole rest of a pass-through
// hop, so the hot routes skip it; it is imported on the first request that needs it (~2 MB that a
// bridge serving only the API routes never holds). `start()` listens and resolves with the URL;
// `stop()` refuses new work, lets in-flight requests finish for the grace period, then ends every
// remaining stream with an SSE error event (or a 529 when nothing was sent yet) and closes every
// socket. A BridgeServer is a Disposable.
import type express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Disposable } from '../../common/disposable';
import { nullLogger, type Logger } from '../../common/logger';
import { defaultRedactor, type Redactor } from '../../common/redact';
import { nullTrafficSink, type TrafficSink } from '../../traffic/traffic';
import type { AccountProvider } from '../../kiro/accounts/account-pool';
import { TokenCounter } from '../../kiro/tokens';
import type { BridgeConfig } from '../config';
import { ABORT_CLIENT_GONE, ABORT_SHUTDOWN, type BridgeContext, type BridgeRoute, type RouteCall, type RouteFailure } from '../context';
import { BodyError, checkApiKey, checkHost, checkOrigin, discardUpload, isWildcardHost, parseJsonBody, readBody, unreadBodyPlan } from './guards';
import { healthAnswer } from './health';
import { sendAnthropicError, sendJson } from './http';
import { countTokensRoute, messagesRoute } from '../anthropic/messages';
import { withWebSearch, withWebSearchCountTokens } from '../web-search/web-search-routes';
import { modelRoutes } from './models-route';
import { sendOpenAIRouteError } from '../openai/openai-errors';
import { openaiRoutes } from '../openai/openai-routes';
import { ResponsesStore } from '../responses/responses-store';
import { TrafficRecorder, newRequestId, type RequestTrace } from '../traffic';

export type BridgeState = 'stopped' | 'starting' | 'running' | 'stopping';

export interface BridgeDeps {
  accounts: AccountProvider;
  logger?: Logger;
  traffic?: TrafficSink;
  redactor?: Redactor;
  counter?: TokenCounter;
  /** More routes to serve (the OpenAI APIs, …); the same as calling `addRoute` for each. */
  routes?: readonly BridgeRoute[];
}

export interface BridgeAddress {
  url: string;
  host: string;
  port: number;
}

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

const CORS_ALLOW_HEADERS =
  'content-type, x-api-key, authorization, anthropic-version, anthropic-beta, anthropic-dangerous-direct-browser-access, x-stainless-retry-count, x-stainless-timeout';

/** Paths OpenAI clients call (with or without the /v1 prefix). */
const OPENAI_PATH =
  /^\/(?:v1\/)?(?:chat|responses|completions|embeddings|images|audio|files|moderations|assistants|threads|batches|fine_tuning|vector_stores)(?:\/|$)/;

function urlFor(host: string, port: number): string {
  const shown = isWildcardHost(host) ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

export class BridgeServer extends Disposable {
  private config: BridgeConfig;
  private readonly logger: Logger;
  private readonly redactor: Redactor;
  private readonly recorder: TrafficRecorder;
  private readonly context: BridgeContext;
  /** Express's router, for the routes with parameters (built with the app). */
  private router: Router | undefined;
  private readonly routeList: BridgeRoute[] = [];
  private readonly exactRoutes = new Map<string, BridgeRoute>();
  /** Recent /v1/responses answers for previous_response_id: memory only, bounded, gone on dispose. */
  readonly responses = new ResponsesStore();
  private readonly inflight = new Map<string, InFlight>();
  private server: Server | undefined;
  private stateValue: BridgeState = 'stopped';
  private addressValue: BridgeAddress | undefined;
  private startedAt = Date.now();
  private stopping: Promise<void> | undefined;
  /** The express app, imported and built on the first request no fixed route takes. */
  private app: express.Express | undefined;
  private appLoading: Promise<express.Express> | undefined;

  constructor(
    config: BridgeConfig,
    private readonly deps: BridgeDeps,
  ) {
    super();
    this.config = config;
    this.logger = deps.logger ?? nullLogger;
    this.redactor = deps.redactor ?? defaultRedactor;
    this.redactor.add(config.apiKey);
    this.recorder = new TrafficRecorder({
      sink: deps.traffic ?? nullTrafficSink,
      redactor: this.redactor,
      captureMode: () => this.config.captureBodies,
    });
    this.context = {
      config: () => this.config,
      accounts: deps.accounts,
      counter: deps.counter ?? new TokenCounter(),
      redactor: this.redactor,
      logger: this.logger,
    };
    // Requests carrying Anthropic's server web search tool are served by bridge/web-search.
    const anthropic = [withWebSearch(messagesRoute), withWebSearchCountTokens(countTokensRoute)];
    for (const route of [...anthropic, ...modelRoutes, ...openaiRoutes(this.responses), ...(deps.routes ?? [])]) this.addRoute(route);
  }

  get state(): BridgeState {
    return this.stateValue;
  }

  /** Requests being served right now. */
  get inFlightCount(): number {
    return this.inflight.size;
  }

  /**
   * Applies settings that can change while running (key, origins, aliases, capture, timeouts).
   * Host and port changes take effect on the next start.
   */
  updateConfig(patch: Partial<BridgeConfig>): void {
    if (patch.apiKey && patch.apiKey !== this.config.apiKey) this.redactor.add(patch.apiKey);
    this.config = { ...this.config, ...patch };
  }

  async start(): Promise<BridgeAddress> {
    if (this.isDisposed) throw new Error('the bridge was disposed');
    if (this.stateValue === 'running' && this.addressValue) return this.addressValue;
    if (this.stateValue !== 'stopped') throw new Error(`the bridge is ${this.stateValue}`);
    this.stateValue = 'starting';
    const server = createServer((req, res) => this.dispatch(req, res));
    server.listen({ port: this.config.port, host: this.config.host });
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => {
          server.off('listening', onListening);
          reject(
            error.code === 'EADDRINUSE'
              ? new Error(
                  `port ${this.config.port} on ${this.config.host} is already in use (another bridge? check ${urlFor(this.config.host, this.config.port)}/health)`,
                )
              : error.code === 'EACCES'
                ? new Error(`not allowed to listen on ${this.config.host}:${this.config.port}`)
                : error,
          );
        };
        const onListening = () => {
          server.off('error', onError);
          resolve();
        };
        server.once('error', onError);
        server.once('listening', onListening);
      });
    } catch (error) {
      this.server = undefined;
      server.close();
      this.stateValue = 'stopped';
      throw error;
    }
    server.on('error', (error) => this.logger.error(`bridge server error: ${error.message}`));
    const port = (server.address() as AddressInfo).port;
    this.startedAt = Date.now();
    this.addressValue = { url: urlFor(this.config.host, port), host: this.config.host, port };
    this.stateValue = 'running';
    return this.addressValue;
  }

  /** Stops listening, ends in-flight requests (after the grace period) and closes all sockets. */
  stop(): Promise<void> {
    if (!this.server) return Promise.resolve();
    this.stopping ??= this.stopNow().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  override dispose(): void {
    void this.stop();
    this.responses.clear();
    super.dispose();
  }

  private async stopNow(): Promise<void> {
    const server = this.server!;
    this.stateValue = 'stopping';
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const graceMs = this.config.stopGraceSeconds * 1000;
    if (graceMs > 0 && this.inflight.size) {
      await Promise.race([Promise.allSettled([...this.inflight.values()].map((f) => f.done)), delay(graceMs)]);
    }
    for (const flight of this.inflight.values()) flight.controller.abort(ABORT_SHUTDOWN);
    await Promise.race([Promise.allSettled([...this.inflight.values()].map((f) => f.done)), delay(5000)]);
    server.closeAllConnections();
    await closed;
    this.server = undefined;
    this.addressValue = undefined;
    this.stateValue = 'stopped';
  }

  /**
   * Adds a route (the OpenAI routes plug in here). Guards, body parsing, the traffic record,
   * the abort signal and the last-resort error answer come with it; the route answers the rest.
   */
  addRoute(route: BridgeRoute): void {
    this.routeList.push(route);
    if (isFixed(route)) {
      // Fixed paths are dispatched by a map lookup before express; only paths with parameters
      // go through express's router.
      this.exactRoutes.set(`${route.method} ${route.path}`, route);
      return;
    }
    if (this.router) this.addToRouter(this.router, route);
  }

  private addToRouter(router: Router, route: BridgeRoute): void {
    const run = (req: Request, res: Response) => this.run(route, req as unknown as RouteCall['req'], res, traceOf(res)!);
    if (route.method === 'GET') router.get(route.path, run);
    else router.post(route.path, run);
  }

  /** Hands a request no fixed route takes to express, importing and building it the first time. */
  private viaExpress(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (this.app) {
      this.app(req, res);
      return;
    }
    this.appLoading ??= import('express').then((module) => (this.app = this.buildApp(module.default)));
    this.appLoading.then(
      (app) => app(req, res),
      (error: unknown) => this.lastResort(error, res, undefined, path),
    );
  }

  private buildApp(createApp: typeof express): express.Express {
    const router = createApp.Router();
    // Routes with parameters (the fixed ones never reach express's router).
    for (const route of this.routeList) if (!isFixed(route)) this.addToRouter(router, route);
    this.router = router;
    const app = createApp();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use((req, res, next) => this.guard(req, res, next));
    app.get('/health', (_req, res) => sendJson(res, 200, healthAnswer(this.deps.accounts, this.startedAt)));
    app.use(router);
    app.use((req, res) => {
      // The common mistakes: a base URL without /v1 where the client expects it, or with /v1
      // where the client adds it itself.
      const path = req.path;
      const hint = this.routeOf(`/v1${path}`)
        ? `; did you mean /v1${path}? Set the client's base URL to end in /v1`
        : path.startsWith('/v1/v1/') && this.routeOf(path.slice(3))
          ? `; did you mean ${path.slice(3)}? Remove /v1 from the end of the client's base URL (it adds /v1 itself)`
          : '';
      const failure: RouteFailure = { status: 404, type: 'not_found_error', message: `${req.method} ${req.path} is not a route of this bridge${hint}` };
      this.reject(res, failure, traceOf(res), req.path);
    });
    // Last resort: never crash, never hang; answer in the API's shape.
    app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => this.lastResort(error, res, traceOf(res), req.path));
    return app;
  }

  /** The registered route a path belongs to (for its error shape and traffic class). */
  private routeOf(path: string, method?: string): BridgeRoute | undefined {
    const exact = method && this.exactRoutes.get(`${method} ${path}`);
    if (exact) return exact;
    for (const route of this.routeList) {
      const colon = route.path.indexOf('/:');
      if (colon === -1 ? path === route.path || path === `${route.path}/` : path.startsWith(route.path.slice(0, colon + 1))) return route;
    }
    return undefined;
  }

  /** Every request: fixed routes are served here; the rest goes to the express app. */
  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    let path = query === -1 ? url : url.slice(0, query);
    // A following VS Code window polls /health: answered here, so a bridge serving only the API
    // routes never loads express. Other spellings of it (`/health/`, `/HEALTH`) go to express as before.
    if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) return this.health(req, res);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const route = this.exactRoutes.get(`${req.method} ${path}`);
    if (!route) {
      this.viaExpress(req, res, path);
      return;
    }
    const trace = this.recorder.begin(req, route.api, newRequestId());
    const failure = this.check(req, res, path, trace.id, false);
    if (failure === 'answered') return;
    if (failure) return this.reject(res, failure, trace, path);
    const call = req as IncomingMessage & { params: Record<string, string> };
    call.params = {};
    this.run(route, call, res, trace).catch((error: unknown) => this.lastResort(error, res, trace, path));
  }

  /** GET /health: the guards without the client key, no traffic record (./health). */
  private health(req: IncomingMessage, res: ServerResponse): void {
    const failure = this.check(req, res, '/health', newRequestId(), true);
    if (failure === 'answered') return;
    if (failure) return this.reject(res, failure, undefined, '/health');
    try {
      sendJson(res, 200, healthAnswer(this.deps.accounts, this.startedAt));
    } catch (error) {
      this.lastResort(error, res, undefined, '/health');
    }
  }

  /** The express app's first middleware: the same checks for the routes express serves. */
  private guard(req: Request, res: Response, next: NextFunction): void {
    const path = req.path;
    const isHealth = path === '/health';
    const trace = isHealth || req.method === 'OPTIONS' ? undefined : this.recorder.begin(req, this.routeOf(path)?.api ?? 'other', newRequestId());
    if (trace) res.locals.trace = trace;
    const failure = this.check(req, res, path, trace?.id ?? newRequestId(), isHealth);
    if (failure === 'answered') return;
    if (failure) return this.reject(res, failure, trace, path);
    next();
  }

  /**
   * Host, Origin, CORS preflight, client key, shutdown. Returns the refusal, 'answered' when it
   * answered itself (a preflight), or undefined to go on.
   */
  private check(req: IncomingMessage, res: ServerResponse, path: string, requestId: string, isHealth: boolean): RouteFailure | 'answered' | undefined {
    res.setHeader('request-id', requestId);
    const origin = req.headers.origin;
    const failure = checkHost(req.headers.host, this.config.host) ?? checkOrigin(origin, this.config.allowedOrigins);
    if (failure) return failure;
    if (origin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': CORS_ALLOW_HEADERS,
        'access-control-max-age': '600',
      });
      res.end();
      return 'answered';
    }
    if (!isHealth) {
      const keyFailure = checkApiKey(req, this.config.apiKey);
      if (keyFailure) return keyFailure;
    }
    if (this.stateValue === 'stopping') {
      return { status: 529, type: 'overloaded_error', message: `the bridge is shutting down; retry the request (${path})` };
    }
    return undefined;
  }

  /** Never crash, never hang: an unexpected error still gets an answer in the API's shape. */
  private lastResort(error: unknown, res: ServerResponse, trace: RequestTrace | undefined, path: string): void {
    const message = error instanceof Error ? error.message : String(error);
    this.logger.error(`unexpected bridge error on ${path}: ${this.redactor.text(message)}`);
    if (!res.headersSent)
      this.reject(res, { status: 500, type: 'api_error', message: `internal bridge error: ${this.redactor.text(message)}` }, undefined, path);
    else if (!res.writableEnded) res.end();
    trace?.finish(500, { type: 'api_error', message });
  }

  private reject(res: ServerResponse, failure: RouteFailure, trace: RequestTrace | undefined, path: string): void {
    // A refusal may come before the body was read (a bad key, a 413): the rest of the upload is
    // read and discarded after the answer (bounded), or the connection is closed after it when
    // the rest is declared too large to bother.
    const unread = res.req ? unreadBodyPlan(res.req) : 'none';
    if (unread === 'close' && !res.headersSent) res.setHeader('connection', 'close');
    // Paths of no route answer in the shape of the API they look like (a client that got its base
    // URL wrong still reads the error).
    const write = this.routeOf(path)?.sendError ?? (OPENAI_PATH.test(path) ? sendOpenAIRouteError : sendAnthropicError);
    write(res, failure);
    if (unread === 'drain') void discardUpload(res.req);
    trace?.finish(failure.status, { type: failure.type, message: failure.message });
  }

  /** Runs a route: body (POST), abort signal, in-flight registration, and the net under it. */
  private async run(route: BridgeRoute, req: RouteCall['req'], res: ServerResponse, trace: RequestTrace): Promise<void> {
    let body: unknown;
    if (route.method === 'POST') {
      try {
        body = parseJsonBody(await readBody(req, this.config.bodyLimit));
      } catch (error) {
        // The rest of a body over the limit is dealt with by reject (read and discarded, bounded).
        if (error instanceof BodyError) return this.reject(res, error.failure, trace, route.path);
        // The client went away mid-upload: nobody to answer.
        trace.finish(499, { type: 'client_closed', message: (error as Error).message });
        return;
      }
    }
    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) controller.abort(ABORT_CLIENT_GONE);
    };
    res.on('close', onClose);
    const done = (async () => route.handle({ req, res, body, trace, context: this.context, signal: controller.signal }))().catch((error: unknown) => {
      // Routes answer their own failures; this is the net under the net.
      this.logger.error(`unexpected error in ${route.path}: ${this.redactor.text(String(error))}`);
      if (!res.headersSent) this.reject(res, { status: 500, type: 'api_error', message: 'internal bridge error' }, undefined, route.path);
      else if (!res.writableEnded) res.end();
      trace.finish(500, { type: 'api_error', message: String(error) });
    });
    this.inflight.set(trace.id, { controller, done });
    try {
      await done;
    } finally {
      res.off('close', onClose);
      this.inflight.delete(trace.id);
    }
  }
}

/** A route without parameters: dispatched by map lookup, never through express's router. */
function isFixed(route: BridgeRoute): boolean {
  return !route.path.includes('/:');
}

function traceOf(res: ServerResponse): RequestTrace | undefined {
  return (res as Response).locals?.trace as RequestTrace | undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * The seam the CLI and the VS Code extension share: a configured, not yet started bridge.
 * Callers `await bridge.start()` and `await bridge.stop()` (or dispose it).
 */
export function createBridge(config: BridgeConfig, deps: BridgeDeps): BridgeServer {
  return new BridgeServer(config, deps);
}
