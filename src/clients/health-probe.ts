// Who is on a port: asks `GET /health` and sorts the answer into "nobody", "a Kiro Bridge"
// (another VS Code window, or the CLI) or "something else". Used before this window starts its
// own bridge, and by a follower window watching for the port to free up. No VS Code import.
import * as http from 'node:http';
import type { HealthAnswer } from '../bridge/http/health';

/** The fields of another bridge's /health answer this window shows; extra fields are kept. */
export type PeerHealth = Pick<HealthAnswer, 'service' | 'version'> & Partial<Omit<HealthAnswer, 'service' | 'version'>> & Record<string, unknown>;

export type ProbeResult =
  | { kind: 'free' }
  | { kind: 'kiro-bridge'; health: PeerHealth }
  /** Something else listens there; `detail` says what we saw (for the error message). */
  | { kind: 'other'; detail: string };

export type Probe = (host: string, port: number) => Promise<ProbeResult>;

const MAX_BODY = 64 * 1024;

/** Wildcard binds are reached through loopback. */
function probeHost(host: string): string {
  const h = host.trim().replace(/^\[|\]$/g, '');
  if (h === '0.0.0.0' || h === '') return '127.0.0.1';
  if (h === '::') return '::1';
  return h;
}

export function probePort(host: string, port: number, timeoutMs = 2000): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const target = probeHost(host);
    const request = http.request({
      host: target,
      port,
      path: '/health',
      method: 'GET',
      // A fresh socket, no proxy, no keep-alive: this is a one-off local question.
      agent: false,
      headers: { accept: 'application/json', host: `${target.includes(':') ? `[${target}]` : target}:${port}`, 'user-agent': 'kiro-bridge-probe' },
    });
    const timer = setTimeout(() => finish({ kind: 'other', detail: `a process accepted the connection but did not answer within ${timeoutMs} ms` }), timeoutMs);
    timer.unref?.();
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' || error.code === 'EADDRNOTAVAIL') finish({ kind: 'free' });
      else finish({ kind: 'other', detail: `connecting failed: ${error.code ?? error.message}` });
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) finish({ kind: 'other', detail: `HTTP ${response.statusCode} with a large non-bridge answer` });
        else chunks.push(chunk);
      });
      response.on('error', () => finish({ kind: 'other', detail: `HTTP ${response.statusCode}, answer cut off` }));
      response.on('end', () =>
        finish(classify(response.statusCode ?? 0, String(response.headers.server ?? '') || undefined, Buffer.concat(chunks).toString('utf8'))),
      );
    });
    request.end();
  });
}

/** Sorts an HTTP answer from /health. Exported for tests. */
export function classify(status: number, server: string | undefined, body: string): ProbeResult {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    if (status === 200 && parsed && parsed.service === 'kiro-bridge' && typeof parsed.version === 'string') {
      return { kind: 'kiro-bridge', health: parsed as PeerHealth };
    }
  } catch {
    // Not JSON: not a bridge.
  }
  return { kind: 'other', detail: `HTTP ${status}${server ? ` from "${server.slice(0, 60)}"` : ''}, not a Kiro Bridge` };
}
