// Bodies far above the bridge's limit get a readable 413 in the route's API shape, never a reset:
// the bridge answers at once, then reads and discards the rest of the upload (up to a bound), so
// clients that read the answer only after sending everything still get it. Checked with raw
// node:http uploads (declared length and chunked), the official Anthropic and OpenAI SDKs, and
// the bridge still serving on the same connection afterwards.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { textReply } from '../support/fake-upstream';
import { TEST_API_KEY, useHarness, type Harness } from './harness';

const LIMIT = 4 * 1024 * 1024;
/** Ten times the limit: "far above" it, still quick on loopback. */
const HUGE = 40 * 1024 * 1024;

let h: Harness;
useHarness((harness) => (h = harness), { config: { bodyLimit: LIMIT } });

interface Upload {
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
  /** Errors the client saw while uploading or reading (EPIPE, ECONNRESET, …). */
  errors: string[];
  /** Bytes the client managed to hand to its socket. */
  sent: number;
}

/**
 * Uploads `size` bytes of spaces in 1 MiB writes and waits for the answer and the end of the
 * upload (or for the connection to fail). `declare` sends a content-length (true: `size`, or the
 * number given); false sends the body chunked.
 */
function upload(path: string, size: number, declare: boolean | number = true): Promise<Upload> {
  const url = new URL(h.url);
  const result: Upload = { errors: [], sent: 0 };
  const length = typeof declare === 'number' ? declare : size;
  return new Promise((resolve) => {
    let settled = false;
    let answered = false;
    let uploaded = false;
    const done = () => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    // Judged once the answer is read and the upload finished (or failed): a late write error
    // gets a moment to show.
    const maybeDone = () => {
      if (answered && uploaded) setTimeout(done, 50);
    };
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          'x-api-key': TEST_API_KEY,
          ...(declare === false ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(length) }),
        },
      },
      (res) => {
        result.status = res.statusCode;
        result.headers = res.headers;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          result.body = Buffer.concat(chunks).toString('utf8');
          answered = true;
          maybeDone();
        });
        res.on('error', (e: NodeJS.ErrnoException) => {
          result.errors.push(e.code ?? e.message);
          done();
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      result.errors.push(e.code ?? e.message);
      setTimeout(done, 100);
    });
    req.on('finish', () => {
      uploaded = true;
      maybeDone();
    });
    // The client this fix is for: it hands the whole body over (node buffers what the socket
    // cannot take yet), then reads the answer. (node's client stops emitting 'drain' once it
    // has a complete response, so a writer waiting on back-pressure would stall by itself.)
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    while (result.sent < size && !req.destroyed) {
      const piece = size - result.sent >= chunk.length ? chunk : chunk.subarray(0, size - result.sent);
      result.sent += piece.length;
      req.write(piece);
    }
    req.end();
  });
}

async function stillServes(): Promise<void> {
  h.upstream.scriptNext(textReply('still here'));
  const message = await h.client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
  expect(message.content).toEqual([{ type: 'text', text: 'still here' }]);
  expect((await fetch(`${h.url}/health`)).status).toBe(200);
}

describe('an upload far above the limit, from a raw node:http client', () => {
  for (const route of ['/v1/messages', '/v1/chat/completions'] as const) {
    for (const declare of [true, false]) {
      it(`${route}, ${declare ? 'with content-length' : 'chunked'}: the client reads the 413, no EPIPE or reset`, async () => {
        const answer = await upload(route, HUGE, declare);
        expect(answer.errors).toEqual([]);
        expect(answer.sent).toBe(HUGE);
        expect(answer.status).toBe(413);
        const body = JSON.parse(answer.body!);
        if (route === '/v1/messages') {
          expect(body).toEqual({ type: 'error', error: { type: 'request_too_large', message: expect.stringContaining('4 MB') } });
        } else {
          expect(body).toEqual({ error: { type: 'invalid_request_error', code: 'request_too_large', param: null, message: expect.stringContaining('4 MB') } });
        }
        await stillServes();
      });
    }
  }

  it('a refusal before the body is read (wrong key) also lets the upload finish and be answered', async () => {
    const url = new URL(h.url);
    const answer = await new Promise<{ status?: number; errors: string[] }>((resolve) => {
      const out: { status?: number; errors: string[] } = { errors: [] };
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/v1/messages',
          headers: { 'content-type': 'application/json', 'x-api-key': 'kb-wrong', 'content-length': String(HUGE) },
        },
        (res) => {
          out.status = res.statusCode;
          res.resume();
          res.on('end', () => setTimeout(() => resolve(out), 100));
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        out.errors.push(e.code ?? e.message);
        resolve(out);
      });
      req.end(Buffer.alloc(HUGE, 0x20));
    });
    expect(answer).toEqual({ status: 401, errors: [] });
    await stillServes();
  });

  it('a runaway upload (declared 1 GiB) is answered with Connection: close and the connection dropped, not read', async () => {
    const url = new URL(h.url);
    // 8 MiB of the declared gigabyte, then the client waits: a bridge that went on reading would
    // keep this connection open (and the test would time out); it must close it.
    const outcome = await new Promise<{ status?: number; connection?: string | string[]; closed: boolean }>((resolve) => {
      const out: { status?: number; connection?: string | string[]; closed: boolean } = { closed: false };
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/v1/messages',
          headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY, 'content-length': String(1024 ** 3) },
        },
        (res) => {
          out.status = res.statusCode;
          out.connection = res.headers.connection;
          res.resume();
        },
      );
      req.on('error', () => undefined);
      req.on('close', () => {
        out.closed = true;
        resolve(out);
      });
      req.write(Buffer.alloc(8 * 1024 * 1024, 0x20));
    });
    expect(outcome.closed).toBe(true);
    // Whether the client read the 413 before the close depends on its timing; if it did, it is
    // the answer with Connection: close.
    if (outcome.status !== undefined) expect(outcome).toMatchObject({ status: 413, connection: 'close' });
    await stillServes();
  });
});

describe('an upload far above the limit, from the official SDKs', () => {
  const huge = 'x'.repeat(HUGE);

  it('Anthropic SDK: APIError 413 with request_too_large, and the same client goes on working', async () => {
    const error = await h.client.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: huge }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(413);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toEqual({
      type: 'error',
      error: { type: 'request_too_large', message: expect.stringContaining('limit') },
    });
    await stillServes();
  });

  it('OpenAI SDK: chat completions and responses get APIError 413 code request_too_large', async () => {
    const openai = h.openai();
    const chat = await openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: huge }] }).catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(OpenAI.APIError);
    expect((chat as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    expect((chat as InstanceType<typeof OpenAI.APIError>).code).toBe('request_too_large');
    const responses = await openai.responses.create({ model: 'claude-sonnet-4-5', input: huge }).catch((e: unknown) => e);
    expect((responses as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    expect((responses as InstanceType<typeof OpenAI.APIError>).code).toBe('request_too_large');
    h.upstream.scriptNext(textReply('openai still here'));
    const completion = await openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]!.message.content).toBe('openai still here');
  });
});
