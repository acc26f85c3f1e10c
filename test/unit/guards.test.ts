import { EventEmitter } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  BodyError,
  checkApiKey,
  checkHost,
  checkOrigin,
  discardUpload,
  hostnameOf,
  keysMatch,
  parseJsonBody,
  presentedKey,
  readBody,
  unreadBodyPlan,
} from '../../src/bridge/http/guards';

describe('checkHost', () => {
  it('accepts loopback names with or without a port', () => {
    for (const host of ['localhost', 'localhost:8765', '127.0.0.1', '127.0.0.1:1', '127.8.9.10:80', '[::1]', '[::1]:8765', 'app.localhost:3000']) {
      expect(checkHost(host, '127.0.0.1'), host).toBeUndefined();
    }
  });

  it('refuses other names (DNS rebinding) with 403 permission_error', () => {
    for (const host of ['evil.example', 'evil.example:8765', '10.0.0.5', '128.0.0.1', 'localhost.evil.example', '[::2]:80']) {
      expect(checkHost(host, '127.0.0.1'), host).toMatchObject({ status: 403, type: 'permission_error' });
    }
    expect(checkHost(undefined, '127.0.0.1')?.status).toBe(403);
  });

  it('accepts the address the bridge was bound to, and anything when bound to every interface', () => {
    expect(checkHost('192.168.1.20:8765', '192.168.1.20')).toBeUndefined();
    expect(checkHost('evil.example', '0.0.0.0')).toBeUndefined();
    expect(checkHost('evil.example', '::')).toBeUndefined();
  });

  it('parses host headers', () => {
    expect(hostnameOf('[::1]:80')).toBe('::1');
    expect(hostnameOf('example.com:443')).toBe('example.com');
    expect(hostnameOf('::1')).toBe('::1');
  });
});

describe('checkOrigin', () => {
  it('lets requests without an Origin through', () => {
    expect(checkOrigin(undefined, [])).toBeUndefined();
  });

  it('allows only listed origins, compared loosely on case and trailing slash', () => {
    expect(checkOrigin('http://localhost:5173', ['http://localhost:5173/'])).toBeUndefined();
    expect(checkOrigin('HTTP://LOCALHOST:5173', ['http://localhost:5173'])).toBeUndefined();
    expect(checkOrigin('https://evil.example', ['http://localhost:5173'])).toMatchObject({ status: 403, type: 'permission_error' });
    expect(checkOrigin('null', [])).toMatchObject({ status: 403 });
    expect(checkOrigin('https://anything', ['*'])).toBeUndefined();
  });
});

describe('client key', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as Pick<IncomingMessage, 'headers'>;

  it('reads x-api-key or Authorization: Bearer', () => {
    expect(presentedKey(req({ 'x-api-key': ' k1 ' }))).toBe('k1');
    expect(presentedKey(req({ authorization: 'Bearer k2' }))).toBe('k2');
    expect(presentedKey(req({ authorization: 'bearer   k3' }))).toBe('k3');
    expect(presentedKey(req({ authorization: 'Basic abc' }))).toBeUndefined();
    expect(presentedKey(req({}))).toBeUndefined();
  });

  it('compares keys of any length without throwing', () => {
    expect(keysMatch('abc', 'abc')).toBe(true);
    expect(keysMatch('abc', 'abd')).toBe(false);
    expect(keysMatch('short', 'a much longer key')).toBe(false);
    expect(keysMatch('', 'x')).toBe(false);
  });

  it('answers 401 authentication_error for a missing or wrong key', () => {
    expect(checkApiKey(req({}), 'secret-key')).toMatchObject({ status: 401, type: 'authentication_error' });
    expect(checkApiKey(req({ 'x-api-key': 'wrong' }), 'secret-key')).toMatchObject({ status: 401, message: 'invalid API key' });
    expect(checkApiKey(req({ 'x-api-key': 'secret-key' }), 'secret-key')).toBeUndefined();
  });
});

describe('bodies', () => {
  function fakeRequest(chunks: Buffer[], headers: Record<string, string> = {}): IncomingMessage {
    const emitter = new EventEmitter() as IncomingMessage;
    (emitter as { headers: Record<string, string> }).headers = headers;
    emitter.resume = () => emitter;
    setImmediate(() => {
      for (const chunk of chunks) emitter.emit('data', chunk);
      emitter.emit('end');
    });
    return emitter;
  }

  it('reads a body under the limit', async () => {
    const body = await readBody(fakeRequest([Buffer.from('{"a"'), Buffer.from(':1}')]), 100);
    expect(body.toString()).toBe('{"a":1}');
  });

  it('fails with 413 when the declared length is over the limit, before reading', async () => {
    await expect(readBody(fakeRequest([], { 'content-length': '1000' }), 100)).rejects.toMatchObject({ failure: { status: 413, type: 'request_too_large' } });
  });

  it('fails with 413 when the streamed body grows over the limit', async () => {
    const error = await readBody(fakeRequest([Buffer.alloc(60), Buffer.alloc(60)]), 100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BodyError);
    expect((error as BodyError).failure.message).toContain('100 bytes');
  });

  it('parses JSON or answers 400 invalid_request_error', () => {
    expect(parseJsonBody(Buffer.from('{"x":[1,2]}'))).toEqual({ x: [1, 2] });
    expect(() => parseJsonBody(Buffer.from('{"x":'))).toThrow(BodyError);
    expect(() => parseJsonBody(Buffer.alloc(0))).toThrow(/empty/);
    try {
      parseJsonBody(Buffer.from('nope'));
    } catch (error) {
      expect((error as BodyError).failure).toMatchObject({ status: 400, type: 'invalid_request_error' });
    }
  });
});

describe('the unread rest of a refused upload', () => {
  /**
   * A real server whose handler reports the plan for each request's unread body and then runs
   * `handle`; the client side is a real node:http request.
   */
  async function serve(
    handle: (req: IncomingMessage, plan: string) => Promise<unknown> | unknown,
  ): Promise<{ server: Server; port: number; results: unknown[] }> {
    const results: unknown[] = [];
    const server = createServer((req, res) => {
      const plan = unreadBodyPlan(req, { maxBytes: 64 * 1024, maxMs: 60_000 });
      void Promise.resolve(handle(req, plan)).then((result) => {
        results.push({ plan, result });
        if (!res.writableEnded && !req.socket.destroyed) res.end('done');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as AddressInfo).port, results };
  }

  /** Sends `head` bytes, then (unless `end`) keeps the request open; resolves when the connection closes or the answer ends. */
  function send(
    port: number,
    options: { method?: string; headers?: Record<string, string>; body?: Buffer; end?: boolean; trickle?: boolean },
  ): Promise<'answered' | 'closed'> {
    return new Promise((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'POST', path: '/', headers: options.headers ?? {} }, (res) => {
        res.resume();
        res.on('end', () => resolve('answered'));
      });
      req.on('error', () => resolve('closed'));
      req.on('close', () => resolve('closed'));
      if (options.trickle) {
        // An endless chunked upload: a new piece whenever the socket takes the last one.
        const piece = Buffer.alloc(16 * 1024, 0x20);
        const pump = () => {
          while (!req.destroyed && req.write(piece));
          if (!req.destroyed) req.once('drain', pump);
        };
        pump();
        return;
      }
      if (options.body) req.write(options.body);
      if (options.end !== false) req.end();
    });
  }

  it('plans nothing for a body already read or absent, a drain for a body still coming, a close for a declared runaway', async () => {
    const { server, port, results } = await serve(async (req, plan) => {
      if (req.url === '/' && req.headers['x-read'] === '1') {
        await readBody(req, 1_000_000);
        return unreadBodyPlan(req);
      }
      return plan;
    });
    try {
      await send(port, { method: 'GET' });
      await send(port, { headers: { 'content-length': '5', 'x-read': '1' }, body: Buffer.from('hello') });
      await send(port, { headers: { 'transfer-encoding': 'chunked' }, body: Buffer.from('x'), end: true });
      await send(port, { headers: { 'content-length': String(1024 ** 3) }, body: Buffer.alloc(10), end: false });
    } finally {
      server.closeAllConnections();
      server.close();
    }
    expect(results.map((r) => (r as { result: unknown }).result)).toEqual(['none', 'none', 'drain', 'close']);
  });

  it('reads an upload to its end and resolves true', async () => {
    const { server, port, results } = await serve((req) => discardUpload(req, { maxBytes: 64 * 1024, maxMs: 60_000 }));
    try {
      expect(await send(port, { headers: { 'content-length': String(50_000) }, body: Buffer.alloc(50_000, 0x20) })).toBe('answered');
    } finally {
      server.close();
    }
    expect(results).toEqual([{ plan: 'drain', result: true }]);
  });

  it('cuts an upload that goes on past the byte bound', async () => {
    const { server, port, results } = await serve((req) => discardUpload(req, { maxBytes: 64 * 1024, maxMs: 60_000 }));
    try {
      expect(await send(port, { headers: { 'transfer-encoding': 'chunked' }, trickle: true })).toBe('closed');
    } finally {
      server.close();
    }
    expect(results).toEqual([{ plan: 'drain', result: false }]);
  });

  it('cuts an upload that stalls past the time bound', async () => {
    const { server, port, results } = await serve((req) => discardUpload(req, { maxBytes: 64 * 1024, maxMs: 50 }));
    try {
      expect(await send(port, { headers: { 'content-length': '1000' }, body: Buffer.alloc(10), end: false })).toBe('closed');
    } finally {
      server.close();
    }
    expect(results).toEqual([{ plan: 'drain', result: false }]);
  });
});
