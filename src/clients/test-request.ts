// One real request through the bridge, as a client would send it, to prove a setup works: a tiny
// non-streaming /v1/messages call with the client key as a Bearer token (what Claude Code sends).
// It costs the account a fraction of a credit, so it runs only when the user asks. No VS Code import.
import * as http from 'node:http';

export interface TestRequestResult {
  ok: boolean;
  status: number;
  durationMs: number;
  /** The model's reply (trimmed) when ok. */
  reply?: string;
  /** The bridge's error type and message when not ok, or the connection error. */
  error?: string;
}

export function sendTestRequest(baseUrl: string, apiKey: string, model: string, timeoutMs = 90_000): Promise<TestRequestResult> {
  const started = Date.now();
  const body = JSON.stringify({
    model,
    max_tokens: 16,
    messages: [{ role: 'user', content: 'Reply with the single word: ready' }],
  });
  const url = new URL('/v1/messages', baseUrl);
  return new Promise<TestRequestResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<TestRequestResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve({ ...result, durationMs: Date.now() - started });
    };
    const request = http.request(url, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        authorization: `Bearer ${apiKey}`,
        'anthropic-version': '2023-06-01',
        'user-agent': 'kiro-bridge-setup-check',
      },
    });
    const timer = setTimeout(() => finish({ ok: false, status: 0, error: `no answer within ${Math.round(timeoutMs / 1000)} s` }), timeoutMs);
    timer.unref?.();
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, status: 0, error: error.code === 'ECONNREFUSED' ? 'nothing is listening there' : error.message }),
    );
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('error', (error) => finish({ ok: false, status: response.statusCode ?? 0, error: error.message }));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown> | undefined;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // Reported below.
        }
        if (status === 200 && parsed && Array.isArray(parsed.content)) {
          const reply = (parsed.content as { type?: string; text?: string }[])
            .filter((b) => b.type === 'text')
            .map((b) => b.text ?? '')
            .join('')
            .trim();
          finish({ ok: true, status, reply });
          return;
        }
        const error = parsed?.error as { type?: string; message?: string } | undefined;
        finish({
          ok: false,
          status,
          error: error?.message ? `${error.type ?? 'error'}: ${error.message}` : `HTTP ${status}: ${text.slice(0, 200) || 'empty answer'}`,
        });
      });
    });
    request.end(body);
  });
}
