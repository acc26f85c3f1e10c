// The bridge's guards against hostile or broken clients: key, Host (DNS rebinding), Origin, bad
// JSON, oversized bodies, junk of every shape. Every refusal is an Anthropic-shaped error and the
// bridge keeps serving.
import Anthropic from '@anthropic-ai/sdk';
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { sendJson } from '../../src/bridge/http/http';
import { textReply } from '../support/fake-upstream';
import { TEST_API_KEY, useHarness, type Harness } from './harness';

let h: Harness;
useHarness((harness) => (h = harness), { config: { bodyLimit: 64 * 1024, allowedOrigins: ['http://localhost:5173'] } });

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): { type: string; error: { type: string; message: string } };
}

/** A raw HTTP request (fetch cannot set Host). */
function raw(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<RawAnswer> {
  const url = new URL(h.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

const json = { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY };
const validBody = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });

describe('client key', () => {
  it('refuses a request without a key (401 authentication_error)', async () => {
    const answer = await raw('POST', '/v1/messages', { 'content-type': 'application/json' }, validBody);
    expect(answer.status).toBe(401);
    expect(answer.json()).toEqual({ type: 'error', error: { type: 'authentication_error', message: expect.stringContaining('x-api-key') } });
  });

  it('refuses a wrong key through the SDK (AuthenticationError)', async () => {
    const error = await h
      .sdk({ apiKey: 'kb-wrong-key-wrong-key-wrong' })
      .messages.create(JSON.parse(validBody))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('accepts the key as Authorization: Bearer', async () => {
    h.upstream.scriptNext(textReply('bearer ok'));
    const answer = await raw('POST', '/v1/messages', { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` }, validBody);
    expect(answer.status).toBe(200);
  });

  it('guards count_tokens and models too', async () => {
    expect((await raw('POST', '/v1/messages/count_tokens', { 'content-type': 'application/json' }, validBody)).status).toBe(401);
    expect((await raw('GET', '/v1/models', {})).status).toBe(401);
  });
});

describe('Host and Origin', () => {
  it('refuses a Host that is not loopback (DNS rebinding)', async () => {
    const answer = await raw('POST', '/v1/messages', { ...json, host: 'evil.example:8765' }, validBody);
    expect(answer.status).toBe(403);
    expect(answer.json().error.type).toBe('permission_error');
    expect(h.upstream.generateRequests.every((r) => r.receivedAt < Date.now())).toBe(true);
  });

  it('accepts localhost, 127.0.0.1 and [::1] as Host', async () => {
    for (const host of ['localhost:1234', '127.0.0.1', '[::1]:8765']) {
      const answer = await raw('GET', '/v1/models', { 'x-api-key': TEST_API_KEY, host });
      expect(answer.status, host).toBe(200);
    }
  });

  it('refuses a browser Origin that is not allowed, even with the key', async () => {
    const answer = await raw('POST', '/v1/messages', { ...json, origin: 'https://evil.example' }, validBody);
    expect(answer.status).toBe(403);
    expect(answer.json().error.message).toContain('https://evil.example');
  });

  it('lets an allowed origin through, with CORS headers and a preflight', async () => {
    const preflight = await raw('OPTIONS', '/v1/messages', {
      origin: 'http://localhost:5173',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-api-key',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(String(preflight.headers['access-control-allow-headers'])).toContain('x-api-key');
    const answer = await raw('GET', '/v1/models', { 'x-api-key': TEST_API_KEY, origin: 'http://localhost:5173' });
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });

  it('refuses a preflight from an origin that is not allowed', async () => {
    const preflight = await raw('OPTIONS', '/v1/messages', { origin: 'https://evil.example', 'access-control-request-method': 'POST' });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('bodies', () => {
  it('answers invalid JSON with an Anthropic-shaped 400', async () => {
    const answer = await raw('POST', '/v1/messages', json, '{"model": "claude-sonnet-4-6", "messages": [');
    expect(answer.status).toBe(400);
    expect(answer.json().type).toBe('error');
    expect(answer.json().error.type).toBe('invalid_request_error');
    expect(answer.json().error.message).toContain('not valid JSON');
  });

  it('answers wrong types with the field that is wrong', async () => {
    const answer = await raw('POST', '/v1/messages', json, JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: '16', messages: [] }));
    expect(answer.status).toBe(400);
    expect(answer.json().error.message).toMatch(/^max_tokens: /);
    const noMessages = await raw('POST', '/v1/messages', json, JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: 'hi' }));
    expect(noMessages.json().error.message).toMatch(/^messages: /);
  });

  it('answers a body over the limit with 413 request_too_large', async () => {
    const big = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] });
    const answer = await raw('POST', '/v1/messages', json, big);
    expect(answer.status).toBe(413);
    expect(answer.json().error.type).toBe('request_too_large');
  });

  it('answers an oversized chunked upload (no content-length) with 413', async () => {
    const answer = await raw('POST', '/v1/messages', { ...json, 'transfer-encoding': 'chunked' }, Buffer.alloc(200 * 1024, 0x20));
    expect(answer.status).toBe(413);
  });

  it('answers unknown routes with not_found_error', async () => {
    const answer = await raw('POST', '/v1/complete', json, validBody);
    expect(answer.status).toBe(404);
    expect(answer.json().error.type).toBe('not_found_error');
  });

  it('survives a barrage of malformed requests and keeps serving', async () => {
    const bodies: (string | Buffer)[] = [
      '',
      'null',
      '[]',
      '"a string"',
      '12',
      '{}',
      '{"model":5}',
      '{"model":"claude-sonnet-4-6","messages":[null]}',
      '{"model":"claude-sonnet-4-6","messages":[{"role":"system","content":"x"}]}',
      '{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":[{"type":"banana"}]}]}',
      '{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/tiff","data":"AAAA"}}]}]}',
      '{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"x"}],"tools":[{"name":"t"}]}',
      '{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"tool","name":"missing"}}',
      '{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled","budget_tokens":10}}',
      '{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"x"}],"stop_sequences":"STOP"}',
      '{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"x"}],"temperature":7}',
      '{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":[{"type":"tool_result"}]}]}',
      '{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}]}]}',
      Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
      '{"__proto__":{"polluted":true},"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"x"}],"system":5}',
    ];
    for (const body of bodies) {
      for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
        const answer = await raw('POST', path, json, body);
        expect(answer.status, `${path} ${String(body).slice(0, 60)}`).toBe(400);
        expect(answer.json().type).toBe('error');
        expect(answer.json().error.type).toBe('invalid_request_error');
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    h.upstream.scriptNext(textReply('alive'));
    const message = await h.client.messages.create(JSON.parse(validBody));
    expect(message.content).toEqual([{ type: 'text', text: 'alive' }]);
  });
});

describe('health', () => {
  it('answers without a key and without secrets', async () => {
    const answer = await raw('GET', '/health', {});
    expect(answer.status).toBe(200);
    const health = JSON.parse(answer.text) as { service: string; version: string; status: string };
    expect(health.service).toBe('kiro-bridge');
    expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(health.status).toBe('ok');
    expect(answer.text).not.toContain(TEST_API_KEY);
    const refreshToken = h.account.tokens.refreshToken!;
    expect(answer.text).not.toContain(refreshToken);
    expect(answer.text).not.toContain(refreshToken.slice(-4));
  });

  it('still checks Host', async () => {
    expect((await raw('GET', '/health', { host: 'evil.example' })).status).toBe(403);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await raw('GET', '/health', {});
    const head = await raw('HEAD', '/health', {});
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers['content-type']).toBe('application/json');
    // The uptime may tick between the two; the rest of the answer is the same length.
    expect(Math.abs(Number(head.headers['content-length']) - Buffer.byteLength(get.text))).toBeLessThanOrEqual(1);
  });
});

describe('traffic records', () => {
  it('records every request with secrets scrubbed', async () => {
    h.bridge.updateConfig({ captureBodies: 'full' });
    try {
      h.upstream.scriptNext(textReply('recorded'));
      await h.client.messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 16,
        messages: [{ role: 'user', content: `my key is ${TEST_API_KEY}, do not leak it` }],
      });
      const record = h.finished.at(-1)!;
      expect(record.client).toBe('Anthropic SDK (JS)');
      expect(record.modelAsked).toBe('claude-sonnet-4-6');
      expect(record.kiroModel).toBe('claude-sonnet-4.6');
      expect(record.account).toMatch(/^Social aor…/);
      expect(record.status).toBe(200);
      expect(record.stopReason).toBe('end_turn');
      expect(record.inputTokens).toBeGreaterThan(0);
      expect(record.outputTokens).toBeGreaterThan(0);
      expect(record.ttftMs).toBeGreaterThanOrEqual(0);
      expect(record.durationMs).toBeGreaterThanOrEqual(record.ttftMs!);
      expect(record.clientRequest).toBeDefined();
      expect(record.kiroRequest).toBeDefined();
      expect(record.upstreamEvents!.length).toBeGreaterThan(0);
      expect(record.response).toBeDefined();
      const everything = JSON.stringify(record);
      expect(everything).toContain('do not leak it');
      expect(everything).not.toContain(TEST_API_KEY);
      expect(everything).not.toContain(h.upstream.account.accessToken!);
    } finally {
      h.bridge.updateConfig({ captureBodies: 'off' });
    }
  });

  it("records a streamed answer as the message it adds up to (the Traffic view's Response tab)", async () => {
    h.bridge.updateConfig({ captureBodies: 'full' });
    try {
      h.upstream.scriptNext(textReply('streamed and recorded', { chunks: 3 }));
      const streamed = await h.client.messages
        .stream({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
        .finalMessage();
      const record = h.finished.at(-1)!;
      expect(record.stream).toBe(true);
      // What the client assembled, less the SDK's own parsed_output field.
      expect(record.response).toEqual({ ...streamed, parsed_output: undefined });
    } finally {
      h.bridge.updateConfig({ captureBodies: 'off' });
    }
  });

  it('keeps no bodies when capture is off, and records refusals', async () => {
    await raw('POST', '/v1/messages', { 'content-type': 'application/json' }, validBody);
    const refused = h.finished.at(-1)!;
    expect(refused.status).toBe(401);
    expect(refused.error?.type).toBe('authentication_error');
    h.upstream.scriptNext(textReply('quiet'));
    await h.client.messages.create(JSON.parse(validBody));
    const record = h.finished.at(-1)!;
    expect(record.clientRequest).toBeUndefined();
    expect(record.kiroRequest).toBeUndefined();
    expect(record.upstreamEvents).toBeUndefined();
  });
});

describe('added routes', () => {
  it('get the guards, the body parser and their own error shape', async () => {
    h.bridge.addRoute({
      method: 'POST',
      path: '/v1/echo',
      api: 'other',
      sendError: (res, failure) => sendJson(res, failure.status, { error: { message: failure.message, code: failure.type } }),
      handle: ({ res, body, trace }) => {
        sendJson(res, 200, { echoed: body });
        trace.finish(200);
      },
    });
    const ok = await raw('POST', '/v1/echo', json, '{"a":1}');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ echoed: { a: 1 } });
    const noKey = await raw('POST', '/v1/echo', { 'content-type': 'application/json' }, '{"a":1}');
    expect(noKey.status).toBe(401);
    expect(JSON.parse(noKey.text)).toEqual({ error: { message: expect.stringContaining('API key'), code: 'authentication_error' } });
    const badJson = await raw('POST', '/v1/echo', json, '{');
    expect(JSON.parse(badJson.text).error.code).toBe('invalid_request_error');
    expect(h.finished.at(-1)!.api).toBe('other');
  });
});
