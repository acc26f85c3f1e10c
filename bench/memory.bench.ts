// `npm run bench:memory`: what the bridge's memory holds, and what each part that loads on first
// use adds, from V8 heap snapshots (a snapshot collects garbage first: it is the live heap) and
// the process's RSS. Against the production build, as `npm start` and npx run it:
//   - serve (the built CLI against the fake upstream, a config folder of its own): settled after
//     start-up; after the first chat request (the tokenizer's ranks); after a web search; after a
//     structured-output request (ajv); after /health (express)
//   - parts serve never loads, each in a fresh process through the bundle's main(): the bare CLI
//     (`--version`), then `accounts login --help` (sign-in), `doctor --help`, `configure --help`
//     (the client configurations), each against the command that shares the most with it
// Prints a table (MB). Not part of `npm test`.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeUpstream, textReply } from '../test/support/fake-upstream';
import { settledRss, waitForLine } from './support';

const root = join(__dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const API_KEY = 'kb-bench-key-0123456789abcdefghij';
const JSON_MARKER = 'MEMORY-BENCH-JSON';
const MB = 1024 * 1024;

interface HeapSummary {
  total: number;
  strings: number;
  code: number;
  /** Typed-array and ArrayBuffer backing stores the snapshot reports (native memory). */
  native: number;
}

/** Totals of a .heapsnapshot file: all nodes' self sizes, and the kinds that matter here. */
function summarize(file: string): HeapSummary {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const summary: HeapSummary = { total: 0, strings: 0, code: 0, native: 0 };
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]!]!;
    const size = snapshot.nodes[i + sizeAt]!;
    summary.total += size;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') summary.strings += size;
    else if (type === 'code') summary.code += size;
    else if (type === 'native' && /backing store|ArrayBuffer/i.test(snapshot.strings[snapshot.nodes[i + nameAt]!]!)) summary.native += size;
  }
  return summary;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a heap snapshot to appear in `dir` (beyond `known`) and to be complete; its totals. */
async function nextSnapshot(dir: string, known: Set<string>): Promise<HeapSummary> {
  for (;;) {
    await delay(200);
    const fresh = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !known.has(f));
    if (!fresh) continue;
    const file = join(dir, fresh);
    let size = -1;
    while (size !== statSync(file).size) {
      size = statSync(file).size;
      await delay(300);
    }
    try {
      const summary = summarize(file);
      known.add(fresh);
      return summary;
    } catch {
      // Still being written.
    }
  }
}

interface Row {
  part: string;
  when: string;
  heap: HeapSummary;
  rss: number;
}

/** The serve steps, in order: each one's request, after the ones before it. */
const STEPS: { part: string; when: string; path?: string; body?: unknown }[] = [
  { part: 'serve, settled', when: 'start-up, before any request' },
  {
    part: '+ first chat request',
    when: 'the first request that counts tokens: the tokenizer ranks, and the request path compiled',
    path: '/v1/messages',
    body: { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi there' }] },
  },
  {
    part: '+ web search',
    when: 'the first request carrying the web search tool',
    path: '/v1/messages',
    body: {
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      tools: [{ type: 'web_search_20250305', name: 'web_search' }],
      messages: [{ role: 'user', content: 'Perform a web search for the query: kiro bridge' }],
    },
  },
  {
    part: '+ structured output',
    when: 'the first request asking for JSON (ajv)',
    path: '/v1/chat/completions',
    body: {
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: `Answer yes. ${JSON_MARKER}` }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] } },
      },
    },
  },
  { part: '+ express', when: 'the first request no fixed route takes (/health, /v1/models/{id}, a 404)', path: '/health' },
];

/**
 * Runs serve and the steps, reading the settled RSS after each; with `snapshots`, also a heap
 * snapshot (whose own memory stays in the RSS afterwards: RSS is taken from a run without).
 */
async function runServe(options: { snapshots: boolean }): Promise<Row[]> {
  const upstream = await startFakeUpstream({
    validate: false,
    defaultReply: ({ body }) => {
      const content = JSON.stringify(body.conversationState ?? {});
      return textReply(content.includes(JSON_MARKER) ? '{"answer":"yes"}' : 'Hello! How can I help?', { chunks: 2 });
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'kiro-bridge-memory-'));
  const child = spawn(process.execPath, ['--heapsnapshot-signal=SIGUSR2', cli, 'serve', '--port', '0', '--quiet'], {
    cwd: dir,
    env: {
      ...process.env,
      KIRO_AUTH_TOKEN: upstream.kiroAuthToken(),
      KIRO_BRIDGE_UPSTREAM_BASE: upstream.baseUrl,
      KIRO_BRIDGE_API_KEY: API_KEY,
      KIRO_BRIDGE_CONFIG_DIR: join(dir, 'config'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const known = new Set<string>();
  const rows: Row[] = [];
  const empty: HeapSummary = { total: NaN, strings: NaN, code: NaN, native: NaN };
  try {
    const [url] = (await waitForLine(child, /listening on (\S+)\n/, 'serve')).words;
    await waitForLine(child, /Ctrl\+C stops/, 'serve');
    for (const step of STEPS) {
      if (step.path) {
        const answer = await fetch(
          `${url}${step.path}`,
          step.body === undefined
            ? {}
            : {
                method: 'POST',
                headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01' },
                body: JSON.stringify(step.body),
              },
        );
        await answer.text();
        if (answer.status !== 200) throw new Error(`${step.path} answered ${answer.status}`);
      }
      const { rss } = await settledRss(child.pid!);
      let heap = empty;
      if (options.snapshots) {
        child.kill('SIGUSR2');
        heap = await nextSnapshot(dir, known);
      }
      rows.push({ part: step.part, when: step.when, heap, rss });
    }
  } finally {
    child.kill('SIGTERM');
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** A fresh process that runs the bundle's main(args) (output discarded), collects garbage and writes a snapshot. */
function measureCommand(args: string[]): { heap: HeapSummary; rss: number } {
  const dir = mkdtempSync(join(tmpdir(), 'kiro-bridge-memory-'));
  const file = join(dir, 'command.heapsnapshot');
  const script = `
    const cli = require(${JSON.stringify(cli)});
    process.stdout.write = () => true;
    cli.main(${JSON.stringify(args)}).then(() => setTimeout(() => {
      global.gc();
      const rss = Number(/VmRSS:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
      require('v8').writeHeapSnapshot(${JSON.stringify(file)});
      process.stderr.write('RSS ' + rss + '\\n');
    }, 200));`;
  try {
    const result = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
      env: { ...process.env, KIRO_BRIDGE_CONFIG_DIR: join(dir, 'config'), HOME: dir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stderr = result.stderr.toString();
    if (result.status !== 0) throw new Error(`main(${args.join(' ')}) failed:\n${stderr}`);
    return { heap: summarize(file), rss: Number(/RSS (\S+)/.exec(stderr)?.[1]) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const f = (bytes: number) => (bytes / MB).toFixed(2).padStart(6);

async function main(): Promise<void> {
  execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: root, stdio: 'inherit' });
  const rss = (await runServe({ snapshots: false })).map((row) => row.rss);
  const serve = (await runServe({ snapshots: true })).map((row, i) => ({ ...row, rss: rss[i]! }));
  console.log('serve (live heap from a snapshot; RSS settled, from a run without snapshots), MB');
  console.log(
    `${'step'.padEnd(24)} ${'heap'.padStart(6)} ${'Δheap'.padStart(6)} ${'strings'.padStart(7)} ${'code'.padStart(6)} ${'native'.padStart(6)} ${'RSS'.padStart(6)}  when`,
  );
  serve.forEach((row, i) => {
    const before = serve[i - 1]?.heap.total ?? row.heap.total;
    console.log(
      `${row.part.padEnd(24)} ${f(row.heap.total)} ${f(row.heap.total - before)} ${f(row.heap.strings).padStart(7)} ${f(row.heap.code)} ${f(row.heap.native)} ${row.rss.toFixed(1).padStart(6)}  ${row.when}`,
    );
  });

  // Each part against the command that loads the most of what it shares (the difference is the part).
  const commands: [string, string[], string[], string][] = [
    ['sign-in', ['accounts', 'login', '--help'], ['accounts', '--help'], "`accounts login`; the extension's Sign In"],
    ['doctor', ['doctor', '--help'], ['serve', '--help'], '`doctor`'],
    ['configure', ['configure', '--help'], ['accounts', '--help'], "`configure`; the extension's Configure Client is in extension.js"],
  ];
  const bare = measureCommand(['--version']);
  console.log('');
  console.log(`commands serve never loads (fresh process each), MB; the bare CLI (--version): heap ${f(bare.heap.total)}, RSS ${bare.rss.toFixed(1)}`);
  console.log(`${'part'.padEnd(12)} ${'heap'.padStart(6)} ${'against'.padStart(28)} ${'Δheap'.padStart(6)} ${'ΔRSS'.padStart(6)}  loads on`);
  for (const [part, args, against, when] of commands) {
    const withPart = measureCommand(args);
    const without = measureCommand(against);
    console.log(
      `${part.padEnd(12)} ${f(withPart.heap.total)} ${against.join(' ').padStart(28)} ${f(withPart.heap.total - without.heap.total)} ${(withPart.rss - without.rss).toFixed(1).padStart(6)}  ${when}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
