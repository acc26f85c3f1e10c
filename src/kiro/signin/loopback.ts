// The one-shot callback server of a browser sign-in: listens on 127.0.0.1 (the first free port of
// a list, or any port), waits for `GET {path}?code=…&state=…`, checks `state`, answers the browser
// with a small page, and closes. It also closes on a provider error, a wrong state, its timeout or
// the caller's cancel — every way out leaves no listening socket behind.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sameState } from './pkce';
import { signInCancelled, signInFailed, type SignInError } from './errors';

export interface CallbackResult {
  code: string;
  /** Every query parameter of the callback (e.g. `login_option`). */
  params: URLSearchParams;
}

export interface LoopbackOptions {
  /** Ports to try in order (EADDRINUSE → next); `[0]` lets the OS choose. */
  ports: readonly number[];
  /** Callback path, e.g. `/oauth/callback`. */
  path: string;
  /** Host written in the redirect URI: `localhost` for Kiro social (its allowlist), else 127.0.0.1. */
  redirectHost: 'localhost' | '127.0.0.1';
  expectedState: string;
  /** How long to wait for the browser. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Shown on the success page, e.g. "Kiro Bridge". */
  productName?: string;
}

export interface LoopbackServer {
  port: number;
  redirectUri: string;
  /** Resolves with the code once the browser came back; rejects with a SignInError otherwise. */
  result: Promise<CallbackResult>;
  /** Stops listening (idempotent); `result` rejects as cancelled if it had not settled. */
  close(): Promise<void>;
}

const BIND_HOST = '127.0.0.1';

function page(title: string, message: string, ok: boolean): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:15vh auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem;color:${ok ? '#1a7f37' : '#cf222e'}}@media(prefers-color-scheme:dark){body{background:#1e1e1e;color:#ddd}}</style>
</head><body><h1>${escape(title)}</h1><p>${escape(message)}</p></body></html>`;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, BIND_HOST);
  });
}

/** Binds the first port of `options.ports` that is free and starts waiting for the callback. */
export async function startLoopback(options: LoopbackOptions): Promise<LoopbackServer> {
  if (options.signal?.aborted) throw signInCancelled();
  const product = options.productName ?? 'Kiro Bridge';
  let settle: { resolve: (r: CallbackResult) => void; reject: (e: SignInError) => void } | undefined;
  const result = new Promise<CallbackResult>((resolve, reject) => (settle = { resolve, reject }));
  // Callers may attach late; an early rejection must not count as unhandled.
  result.catch(() => undefined);

  let finished = false;
  const timers: { timeout?: NodeJS.Timeout } = {};
  const server: Server = createServer((req, res) => handle(req, res));
  const finish = (outcome: { ok: CallbackResult } | { error: SignInError }) => {
    if (finished) return;
    finished = true;
    if (timers.timeout) clearTimeout(timers.timeout);
    options.signal?.removeEventListener('abort', onAbort);
    // Let the answer page reach the browser before the socket goes.
    server.close();
    setImmediate(() => server.closeAllConnections());
    if ('ok' in outcome) settle!.resolve(outcome.ok);
    else settle!.reject(outcome.error);
  };
  const onAbort = () => finish({ error: signInCancelled() });

  const answer = (res: ServerResponse, status: number, html: string) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
    res.end(html);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${BIND_HOST}`);
    if (url.pathname !== options.path) {
      // favicon.ico and friends: not the callback, keep waiting.
      answer(res, 404, page('Not found', 'This address only receives the sign-in callback.', false));
      return;
    }
    if (req.method !== 'GET') {
      answer(res, 405, page('Method not allowed', 'The sign-in callback must be a GET request.', false));
      return;
    }
    if (finished) {
      answer(res, 410, page('Sign-in already finished', 'You can close this tab.', false));
      return;
    }
    const params = url.searchParams;
    const state = params.get('state') ?? '';
    const error = params.get('error');
    if (!sameState(state, options.expectedState)) {
      // A callback for another attempt (a stale tab) or a forged one: stop, never use its code.
      answer(
        res,
        400,
        page('Sign-in failed', `This page does not belong to the sign-in ${product} is waiting for. Start the sign-in again from ${product}.`, false),
      );
      finish({
        error: signInFailed(
          'state_mismatch',
          'the browser came back with a different "state" than this sign-in sent (a stale sign-in tab, or a forged callback); nothing was stored',
        ),
      });
      return;
    }
    if (error) {
      const description = (params.get('error_description') ?? '').slice(0, 300);
      answer(res, 200, page('Sign-in failed', `The provider said: ${description || error}. You can close this tab and try again.`, false));
      const denied = error === 'access_denied';
      finish({
        error: signInFailed(
          denied ? 'denied' : 'provider_error',
          `the provider refused the sign-in (${error}${description ? `: ${description}` : ''})`,
          undefined,
          error,
        ),
      });
      return;
    }
    const code = params.get('code');
    if (!code) {
      answer(res, 400, page('Sign-in failed', 'The provider came back without an authorization code.', false));
      finish({ error: signInFailed('protocol', 'the browser came back without an authorization code') });
      return;
    }
    answer(res, 200, page(`Signed in to ${product}`, `You can close this tab and return to ${product}.`, true));
    finish({ ok: { code, params } });
  };

  let port: number | undefined;
  const busy: number[] = [];
  for (const candidate of options.ports) {
    try {
      port = await listen(server, candidate);
      break;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES')
        throw signInFailed('network', `the sign-in callback could not listen on ${BIND_HOST}:${candidate} (${code ?? (error as Error).message})`, error);
      busy.push(candidate);
    }
  }
  if (port === undefined) {
    throw signInFailed(
      'ports_busy',
      `every callback port the provider accepts is in use by another program (${busy.join(', ')}); close one of them, or use the device-code sign-in`,
    );
  }
  if (options.signal?.aborted) {
    server.close();
    throw signInCancelled();
  }
  options.signal?.addEventListener('abort', onAbort, { once: true });
  timers.timeout = setTimeout(
    () => finish({ error: signInFailed('timeout', `the browser did not come back within ${Math.round(options.timeoutMs / 60_000) || 1} minute(s)`) }),
    options.timeoutMs,
  );
  timers.timeout.unref();

  const redirectUri = `http://${options.redirectHost}:${port}${options.path}`;
  return {
    port,
    redirectUri,
    result,
    close: async () => {
      finish({ error: signInCancelled() });
      await new Promise<void>((resolve) => (server.listening ? server.once('close', () => resolve()) : resolve()));
    },
  };
}
