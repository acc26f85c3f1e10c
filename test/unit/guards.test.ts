import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BodyError, checkApiKey, checkHost, checkOrigin, hostnameOf, keysMatch, parseJsonBody, presentedKey, readBody } from '../../src/bridge/http/guards';

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
