// `npm run bench:bridge`: what the bridge adds on top of the upstream call, measured in one run
// against the fake Kiro upstream on loopback:
//   (a) direct       requests straight to the fake upstream (Kiro request body, EventStream answer)
//   (b) bridge       the same conversation through the bridge (/v1/messages, Anthropic JSON / SSE)
//   (c) passthrough  the Kiro request through a minimal node:http proxy (the floor for any hop)
// Each server runs in its own process (the bridge is the built CLI, `node dist/cli.js serve`, as
// users run it; the others are this file with --role …) and the load generator runs here, so the
// bridge does not share its event loop with the client or the upstream. Loads:
//   - small non-streaming requests, 50 concurrent connections: QPS and p50/p99 latency
//   - the same one at a time (unloaded latency: what one request pays for the hop)
//   - 50 concurrent streams of 200 frames: time to first byte and to last byte
// Memory: the bridge's RSS once start-up has settled (accounts checked, no request yet, RSS steady
// for a second), and its peak after the loads. The first request is timed on its own, before the
// other processes start: it builds the tokenizer and imports the parts loaded on first use. Ends
// with the summary lines the issue asks for. Not part of `npm test`.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, Agent as HttpAgent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { rssMb, settledRss, waitForLine, type Child } from './support';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000);
const CONCURRENCY = 50;
const SERIAL_REQUESTS = Number(process.env.BENCH_SERIAL ?? 1500);
const STREAM_FRAMES = 200;
const STREAM_ROUNDS = Number(process.env.BENCH_STREAM_ROUNDS ?? 4);
const API_KEY = 'kb-bench-key-0123456789abcdefghij';
const STREAM_MARKER = 'STREAM-200-FRAMES';
const STREAM_TEXT = Array.from({ length: STREAM_FRAMES }, (_, i) => `word${i} `).join('');

const role = process.argv[process.argv.indexOf('--role') + 1];

// ---- child roles -----------------------------------------------------------------------------

async function runUpstream(): Promise<void> {
  const { startFakeUpstream, textReply } = await import('../test/support/fake-upstream');
  const upstream = await startFakeUpstream({
    validate: false,
    defaultReply: ({ body }) => {
      const content = body.conversationState?.currentMessage?.userInputMessage?.content;
      return typeof content === 'string' && content.includes(STREAM_MARKER)
        ? textReply(STREAM_TEXT, { chunks: STREAM_FRAMES })
        : textReply('Hello! How can I help?', { chunks: 2 });
    },
  });
  // The fake keeps a record of every request; a benchmark sends tens of thousands.
  setInterval(() => upstream.clearRecords(), 500).unref();
  process.stdout.write(`READY ${upstream.baseUrl} ${upstream.kiroAuthToken()}\n`);
}

function runPassthrough(upstreamBase: string): void {
  const target = new URL(upstreamBase);
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const server = createServer((req, res) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host }, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    process.stdout.write(`READY http://127.0.0.1:${address.port}\n`);
  });
}

// ---- the load generator ----------------------------------------------------------------------

/** BENCH_PROFILE=<role> writes a CPU profile of that process to the temp folder (open it in Chrome DevTools). */
function profileFlags(role: string): string[] {
  return process.env.BENCH_PROFILE === role ? ['--cpu-prof', `--cpu-prof-dir=${join(tmpdir(), 'kiro-bridge-bench-profiles')}`] : [];
}

function start(args: string[]): Promise<Child> {
  const child = spawn(process.execPath, [...process.execArgv, ...profileFlags(args[1]!), __filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return waitForLine(child, /READY (.*)\n/, args.join(' '));
}

/**
 * The bridge as users run it: the built CLI (`node dist/cli.js serve`, the production build as
 * `npm start` and npx run it; the development build when profiling, for readable names), request
 * log off. Resolves once the summary is printed (the accounts are checked).
 */
async function startBridge(upstreamBase: string, kiroAuthToken: string): Promise<Child> {
  const root = join(__dirname, '..');
  execFileSync(process.execPath, ['esbuild.mjs', ...(process.env.BENCH_PROFILE === 'bridge' ? [] : ['--production'])], { cwd: root, stdio: 'inherit' });
  const child = spawn(process.execPath, [...profileFlags('bridge'), join(root, 'dist', 'cli.js'), 'serve', '--port', '0', '--quiet'], {
    cwd: root,
    env: { ...process.env, KIRO_AUTH_TOKEN: kiroAuthToken, KIRO_BRIDGE_UPSTREAM_BASE: upstreamBase, KIRO_BRIDGE_API_KEY: API_KEY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const listening = await waitForLine(child, /listening on (\S+)\n/, 'dist/cli.js serve');
  await waitForLine(child, /Ctrl\+C stops/, 'dist/cli.js serve');
  return listening;
}

/** Milliseconds of the first small request a freshly started bridge serves. */
async function firstRequest(url: string): Promise<number> {
  const pool = new Pool(url, { connections: 1 });
  const started = performance.now();
  const answer = await pool.request({
    method: 'POST',
    path: '/v1/messages',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'Hi there' }] }),
  });
  await answer.body.text();
  const ms = performance.now() - started;
  await pool.close();
  if (answer.statusCode !== 200) throw new Error(`the bridge's first request answered ${answer.statusCode}`);
  return ms;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Target {
  name: string;
  pool: Pool;
  path: string;
  headers: Record<string, string>;
  small: string;
  stream: string;
}

async function once(target: Target, body: string): Promise<{ first: number; last: number; bytes: number; status: number }> {
  const started = performance.now();
  const response = await target.pool.request({ method: 'POST', path: target.path, headers: target.headers, body });
  let first = 0;
  let bytes = 0;
  for await (const chunk of response.body) {
    if (!first) first = performance.now() - started;
    bytes += (chunk as Buffer).length;
  }
  return { first, last: performance.now() - started, bytes, status: response.statusCode };
}

async function loaded(target: Target, durationMs: number): Promise<{ qps: number; p50: number; p99: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const result = await once(target, target.small);
        if (result.status !== 200) errors++;
        latencies.push(result.last);
      }
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort((x, y) => x - y);
  return { qps: (latencies.length / elapsed) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

async function serial(target: Target, count: number): Promise<{ p50: number; p99: number }> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) latencies.push((await once(target, target.small)).last);
  latencies.sort((x, y) => x - y);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function streams(target: Target): Promise<{ ttfbP50: number; ttfbP99: number; lastP50: number; lastP99: number; bytes: number }> {
  const firsts: number[] = [];
  const lasts: number[] = [];
  let bytes = 0;
  for (let round = 0; round < STREAM_ROUNDS; round++) {
    const results = await Promise.all(Array.from({ length: CONCURRENCY }, () => once(target, target.stream)));
    for (const r of results) {
      if (r.status !== 200) throw new Error(`${target.name}: stream answered ${r.status}`);
      firsts.push(r.first);
      lasts.push(r.last);
      bytes = r.bytes;
    }
  }
  firsts.sort((x, y) => x - y);
  lasts.sort((x, y) => x - y);
  return { ttfbP50: percentile(firsts, 50), ttfbP99: percentile(firsts, 99), lastP50: percentile(lasts, 50), lastP99: percentile(lasts, 99), bytes };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the full line (11 and 12 after the command).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const f = (n: number, digits = 2) => n.toFixed(digits);

async function main(): Promise<void> {
  const { toKiroRequest } = await import('../src/kiro/request/convert');
  const upstream = await start(['--role', 'upstream']);
  const [upstreamBase, kiroAuthToken] = upstream.words as [string, string];
  const bridge = await startBridge(upstreamBase, kiroAuthToken);
  const idle = await settledRss(bridge.process.pid!);
  // The bridge's first request pays for what loads on first use (the tokenizer above all); timed
  // before the other processes start, so their start-up does not share the cores with it.
  const firstRequestMs = await firstRequest(bridge.words[0]!);
  const proxy = await start(['--role', 'passthrough', upstreamBase]);
  const children = [upstream, bridge, proxy];
  try {
    // A bearer for the direct and pass-through calls, from the fake's own refresh endpoint.
    const refreshToken = (JSON.parse(kiroAuthToken) as { refreshToken: string }[])[0]!.refreshToken;
    const refreshed = (await (
      await fetch(`${upstreamBase}/refreshToken`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken }) })
    ).json()) as { accessToken: string; profileArn?: string };

    const messages = (text: string) => [{ role: 'user' as const, content: text }];
    const kiroBody = (text: string) =>
      JSON.stringify(
        toKiroRequest(
          {
            api: 'anthropic',
            model: 'claude-sonnet-4-5',
            system: [],
            messages: [{ role: 'user', content: [{ type: 'text', text }] }],
            tools: [],
            stopSequences: [],
            stream: false,
          },
          { kiroModel: 'claude-sonnet-4.5', profileArn: refreshed.profileArn, conversationId: '6f0c4b8e-2b1e-4c39-9f0a-0d1f2e3a4b5c' },
        ).body,
      );
    const kiroHeaders = { 'content-type': 'application/json', authorization: `Bearer ${refreshed.accessToken}` };
    const pool = (url: string) => new Pool(url, { connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 30_000 });
    const targets: Target[] = [
      {
        name: 'direct',
        pool: pool(upstreamBase),
        path: '/generateAssistantResponse',
        headers: kiroHeaders,
        small: kiroBody('Hi there'),
        stream: kiroBody(`Hi ${STREAM_MARKER}`),
      },
      {
        name: 'bridge',
        pool: pool(bridge.words[0]!),
        path: '/v1/messages',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01' },
        small: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: messages('Hi there') }),
        stream: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1024, stream: true, messages: messages(`Hi ${STREAM_MARKER}`) }),
      },
      {
        name: 'passthrough',
        pool: pool(proxy.words[0]!),
        path: '/generateAssistantResponse',
        headers: kiroHeaders,
        small: kiroBody('Hi there'),
        stream: kiroBody(`Hi ${STREAM_MARKER}`),
      },
    ];

    for (const target of targets) {
      const check = await once(target, target.small);
      if (check.status !== 200) throw new Error(`${target.name} answered ${check.status}`);
    }

    const results = new Map<
      string,
      {
        load: Awaited<ReturnType<typeof loaded>>;
        one: Awaited<ReturnType<typeof serial>>;
        stream: Awaited<ReturnType<typeof streams>>;
        cpuPerRequestUs: number;
      }
    >();
    for (const target of targets) {
      await loaded(target, WARMUP_MS);
      const server = target.name === 'bridge' ? bridge : target.name === 'passthrough' ? proxy : undefined;
      const cpuBefore = server ? cpuSeconds(server.process.pid!) : 0;
      const load = await loaded(target, DURATION_MS);
      const cpuPerRequestUs = server ? ((cpuSeconds(server.process.pid!) - cpuBefore) / (load.qps * (DURATION_MS / 1000))) * 1e6 : 0;
      const one = await serial(target, SERIAL_REQUESTS);
      const stream = await streams(target);
      results.set(target.name, { load, one, stream, cpuPerRequestUs });
      console.log(
        `${target.name.padEnd(12)} ${CONCURRENCY} conns: ${f(load.qps, 0).padStart(6)} req/s  p50 ${f(load.p50)} ms  p99 ${f(load.p99)} ms` +
          `${load.errors ? `  (${load.errors} errors)` : ''}${cpuPerRequestUs ? `  CPU ${f(cpuPerRequestUs, 0)} µs/req` : ''} | one at a time: p50 ${f(one.p50, 3)} ms  p99 ${f(one.p99, 3)} ms` +
          ` | ${CONCURRENCY}×${STREAM_FRAMES}-frame streams: first byte p50 ${f(stream.ttfbP50)} ms p99 ${f(stream.ttfbP99)} ms,` +
          ` last byte p50 ${f(stream.lastP50)} ms p99 ${f(stream.lastP99)} ms (${stream.bytes} bytes each)`,
      );
    }
    const memory = rssMb(bridge.process.pid!);
    const direct = results.get('direct')!;
    const viaBridge = results.get('bridge')!;
    const passthrough = results.get('passthrough')!;
    console.log('');
    console.log(
      `loaded (${CONCURRENCY} conns): bridge adds p50 ${f(viaBridge.load.p50 - direct.load.p50)} ms, p99 ${f(viaBridge.load.p99 - direct.load.p99)} ms over direct; pass-through adds p50 ${f(passthrough.load.p50 - direct.load.p50)} ms`,
    );
    console.log(
      `streams: bridge adds first byte p50 ${f(viaBridge.stream.ttfbP50 - direct.stream.ttfbP50)} ms, last byte p50 ${f(viaBridge.stream.lastP50 - direct.stream.lastP50)} ms over direct`,
    );
    console.log(
      `CPU per small request (this process only, from /proc): bridge ${f(viaBridge.cpuPerRequestUs, 0)} µs, pass-through ${f(passthrough.cpuPerRequestUs, 0)} µs` +
        ` (the QPS ratio depends on how the 2 cores are shared between load generator, upstream and hop; CPU per request does not)`,
    );
    console.log(
      `bridge process RSS idle after start-up ${f(idle.rss, 1)} MB (start-up peak ${f(idle.peak, 1)} MB); after the loads ${f(memory.rss, 1)} MB, peak ${f(memory.peak, 1)} MB`,
    );
    console.log(`bridge first request ${f(firstRequestMs)} ms (one at a time afterwards: p50 ${f(viaBridge.one.p50, 3)} ms)`);
    console.log('');
    // The added latency is what one request pays for going through the bridge: measured one at a
    // time, so queueing under load (which QPS covers) does not hide or inflate it.
    console.log(`bridge_added_p50_ms=${f(viaBridge.one.p50 - direct.one.p50, 3)}`);
    console.log(`bridge_added_p99_ms=${f(viaBridge.one.p99 - direct.one.p99, 3)}`);
    console.log(`bridge_qps_vs_passthrough=${f(viaBridge.load.qps / passthrough.load.qps, 3)}`);
    console.log(`bridge_rss_mb=${f(memory.peak, 1)}`);
    console.log(`bridge_idle_rss_mb=${f(idle.rss, 1)}`);
    console.log(`bridge_first_request_ms=${f(firstRequestMs)}`);
    await Promise.all(targets.map((t) => t.pool.close()));
  } finally {
    for (const child of children) child.process.kill('SIGTERM');
  }
}

// Exit normally on SIGTERM so --cpu-prof can write its profile.
if (role) process.on('SIGTERM', () => process.exit(0));
if (role === 'upstream') void runUpstream();
else if (role === 'passthrough') runPassthrough(process.argv[4]!);
else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
