// A real HTTP server that answers every request with the reply the test set last, so an official
// SDK reads bytes a test wrote exactly as it reads the real API's.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { SSE_HEADERS } from '../../src/bridge/http/sse';

export interface CannedReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface CannedServer {
  /** `http://127.0.0.1:{port}`, set once the file's beforeAll ran. */
  origin: string;
  /** What every request gets, until it is set again. */
  reply: CannedReply;
}

/** Starts the server before the file's tests (register it before hooks that read `origin`) and closes it after them. */
export function useCannedServer(): CannedServer {
  let server: Server;
  const canned: CannedServer = { origin: '', reply: { status: 500, headers: {}, body: '' } };
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(canned.reply.status, canned.reply.headers);
        res.end(canned.reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    canned.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return canned;
}

/** A 200 SSE stream with the bridge's headers. */
export function sseReply(body: string): CannedReply {
  return { status: 200, headers: { ...SSE_HEADERS }, body };
}
