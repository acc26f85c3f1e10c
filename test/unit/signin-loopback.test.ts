// The one-shot loopback callback server of browser sign-ins.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SignInError } from '../../src/kiro/signin/errors';
import { startLoopback, type LoopbackServer } from '../../src/kiro/signin/loopback';
import { failureOf } from '../support/failure';

const open: LoopbackServer[] = [];
const blockers: Server[] = [];

afterEach(async () => {
  for (const server of open.splice(0)) await server.close();
  for (const blocker of blockers.splice(0)) await new Promise((r) => blocker.close(r));
});

async function loopback(overrides: Partial<Parameters<typeof startLoopback>[0]> = {}): Promise<LoopbackServer> {
  const server = await startLoopback({
    ports: [0],
    path: '/oauth/callback',
    redirectHost: '127.0.0.1',
    expectedState: 'state-123',
    timeoutMs: 10_000,
    ...overrides,
  });
  open.push(server);
  return server;
}

async function occupy(): Promise<number> {
  const blocker = createServer();
  blockers.push(blocker);
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  return (blocker.address() as { port: number }).port;
}

const failure = (promise: Promise<unknown>) => failureOf(promise, SignInError);

async function isListening(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/oauth/callback`);
    return true;
  } catch {
    return false;
  }
}

describe('loopback callback server', () => {
  it('hands over the code when the state matches, answers the browser with a page, and stops listening', async () => {
    const server = await loopback();
    expect(server.redirectUri).toBe(`http://127.0.0.1:${server.port}/oauth/callback`);
    const res = await fetch(`${server.redirectUri}?code=the-code&state=state-123&login_option=google`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('Signed in to Kiro Bridge');
    const result = await server.result;
    expect(result.code).toBe('the-code');
    expect(result.params.get('login_option')).toBe('google');
    await server.close();
    expect(await isListening(server.port)).toBe(false);
  });

  it('writes localhost in the redirect URI when asked, while listening on 127.0.0.1', async () => {
    const server = await loopback({ redirectHost: 'localhost' });
    expect(server.redirectUri).toBe(`http://localhost:${server.port}/oauth/callback`);
    const res = await fetch(`http://127.0.0.1:${server.port}/oauth/callback?code=c&state=state-123`);
    expect(res.status).toBe(200);
    expect((await server.result).code).toBe('c');
  });

  it('refuses a callback with another state, never hands out its code, and ends the sign-in', async () => {
    const server = await loopback();
    const res = await fetch(`${server.redirectUri}?code=stolen&state=someone-else`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('does not belong to the sign-in');
    const error = await failure(server.result);
    expect(error.failure).toBe('state_mismatch');
    expect(error.message).toMatch(/^Sign-in failed because the browser came back with a different "state"/);
    expect(error.message).not.toContain('stolen');
  });

  it('refuses a callback without any state', async () => {
    const server = await loopback();
    await fetch(`${server.redirectUri}?code=abc`);
    expect((await failure(server.result)).failure).toBe('state_mismatch');
  });

  it('turns a provider error into a sign-in error (access_denied → denied)', async () => {
    const server = await loopback();
    const res = await fetch(`${server.redirectUri}?error=access_denied&error_description=User+said+no&state=state-123`);
    expect(await res.text()).toContain('User said no');
    const error = await failure(server.result);
    expect(error.failure).toBe('denied');
    expect(error.providerCode).toBe('access_denied');
    expect(error.message).toContain('access_denied: User said no');
  });

  it('reports a callback that has neither code nor error as a protocol change', async () => {
    const server = await loopback();
    await fetch(`${server.redirectUri}?state=state-123`);
    expect((await failure(server.result)).failure).toBe('protocol');
  });

  it('escapes what the provider wrote before putting it in the page', async () => {
    const server = await loopback();
    const res = await fetch(`${server.redirectUri}?error=x&error_description=${encodeURIComponent('<script>alert(1)</script>')}&state=state-123`);
    const page = await res.text();
    expect(page).not.toContain('<script>');
    expect(page).toContain('&#60;script&#62;');
    await failure(server.result);
  });

  it('ignores other paths and methods and keeps waiting', async () => {
    const server = await loopback();
    expect((await fetch(`http://127.0.0.1:${server.port}/favicon.ico`)).status).toBe(404);
    expect((await fetch(`${server.redirectUri}?code=c&state=state-123`, { method: 'POST' })).status).toBe(405);
    await fetch(`${server.redirectUri}?code=real&state=state-123`);
    expect((await server.result).code).toBe('real');
  });

  it('takes the next port of the list when one is busy', async () => {
    const busy = await occupy();
    const free = await occupy();
    // Free the second one again so the loopback can take it.
    await new Promise((r) => blockers.pop()!.close(r));
    const server = await loopback({ ports: [busy, free] });
    expect(server.port).toBe(free);
  });

  it('fails with the list of ports when every allowed port is busy', async () => {
    const a = await occupy();
    const b = await occupy();
    const error = await failure(loopback({ ports: [a, b] }));
    expect(error.failure).toBe('ports_busy');
    expect(error.message).toContain(`${a}, ${b}`);
    expect(error.message).toMatch(/device-code sign-in/);
  });

  it('times out when the browser never comes back, and stops listening', async () => {
    const server = await loopback({ timeoutMs: 50 });
    const error = await failure(server.result);
    expect(error.failure).toBe('timeout');
    expect(await isListening(server.port)).toBe(false);
  });

  it('cancels on the abort signal, and refuses to start when already cancelled', async () => {
    const controller = new AbortController();
    const server = await loopback({ signal: controller.signal });
    controller.abort();
    const error = await failure(server.result);
    expect(error.cancelled).toBe(true);
    expect(await isListening(server.port)).toBe(false);
    expect((await failure(loopback({ signal: controller.signal }))).cancelled).toBe(true);
  });
});
