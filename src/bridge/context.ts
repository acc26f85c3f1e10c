// What every route handler gets from the bridge: settings, accounts, the token counter, the
// redactor and the logger. The Anthropic and OpenAI routes share it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../common/logger';
import type { Redactor } from '../common/redact';
import type { TrafficApi } from '../traffic/traffic';
import type { AccountProvider } from '../kiro/accounts/account-pool';
import type { TokenCounter } from '../kiro/tokens';
import type { BridgeConfig } from './config';
import type { RequestTrace } from './traffic';

export interface BridgeContext {
  /** The settings in force now (they can change while running). */
  config: () => BridgeConfig;
  accounts: AccountProvider;
  counter: TokenCounter;
  redactor: Redactor;
  logger: Logger;
}

/** Why a request's abort signal fired. */
export const ABORT_CLIENT_GONE = 'client-gone';
export const ABORT_SHUTDOWN = 'shutdown';

/** A refusal before the route ran (key, Host, Origin, body, 404), in neutral form. */
export interface RouteFailure {
  status: number;
  /** Anthropic error type; an OpenAI writer maps it to its own codes. */
  type: string;
  message: string;
}

/** Writes a refusal in the client API's error shape. */
export type ErrorWriter = (res: ServerResponse, failure: RouteFailure) => void;

export interface RouteCall {
  /** The request; `params` holds the path parameters of routes like `/v1/models/:id`. */
  req: IncomingMessage & { params: Record<string, string> };
  res: ServerResponse;
  /** The parsed JSON body (POST routes); undefined for GET. */
  body: unknown;
  trace: RequestTrace;
  context: BridgeContext;
  /**
   * Fires when the client goes away (reason ABORT_CLIENT_GONE) or the bridge stops
   * (ABORT_SHUTDOWN): stop the upstream call, end a started stream with an error event.
   */
  signal: AbortSignal;
}

export interface BridgeRoute {
  method: 'GET' | 'POST';
  /** An express path, e.g. `/v1/messages` or `/v1/models/:id`. */
  path: string;
  /** Traffic record classification. */
  api: TrafficApi;
  /** Writes guard, body and 404 errors in this API's shape (default: Anthropic's). */
  sendError?: ErrorWriter;
  /** Answers the request; it must end the response itself, whatever happens. */
  handle(call: RouteCall): void | Promise<void>;
}
