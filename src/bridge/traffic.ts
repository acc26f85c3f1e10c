// One RequestRecord per client request, built as the request progresses and published to the
// TrafficSink at each step. Everything that leaves here is scrubbed of secrets; bodies are kept
// only as the capture mode allows:
//   off       no bodies
//   redacted  bodies with secrets scrubbed, long strings shortened, images replaced by their size
//   full      bodies with secrets scrubbed and images replaced by their size, text kept whole
import type { IncomingMessage } from 'node:http';
import type { Redactor } from '../common/redact';
import { formatRepair, type Repair } from '../kiro/request/repairs';
import type { UsageTotals } from './pipeline/output';
import { cacheHitRate, type AttemptRecord, type CaptureMode, type RequestRecord, type TrafficApi, type TrafficSink } from '../traffic/traffic';

/** Client tool names from user agents, first match wins. */
const CLIENTS: [RegExp, string][] = [
  [/claude-cli|claude-code/i, 'Claude Code'],
  [/roo-?code/i, 'Roo Code'],
  [/kilo-?code/i, 'Kilo Code'],
  [/\bcline\b/i, 'Cline'],
  [/\bcontinue\b/i, 'Continue'],
  [/codex/i, 'Codex'],
  [/opencode/i, 'OpenCode'],
  [/^Anthropic\/JS/i, 'Anthropic SDK (JS)'],
  [/^Anthropic\/Python/i, 'Anthropic SDK (Python)'],
  [/^OpenAI\/JS/i, 'OpenAI SDK (JS)'],
  [/^OpenAI\/Python/i, 'OpenAI SDK (Python)'],
  // The Vercel AI SDK adds `ai-sdk-<provider>/<version>`, `ai/<version>`, `ai-sdk-provider-utils/…`.
  [/(^|\s)ai(-sdk-[\w-]+)?\/\d/, 'Vercel AI SDK'],
  [/^curl\//i, 'curl'],
  [/python-requests|python-httpx|aiohttp/i, 'Python HTTP'],
  [/^node|undici/i, 'Node.js'],
];

export function clientFromUserAgent(userAgent: string | undefined): string {
  if (!userAgent) return 'unknown';
  for (const [pattern, name] of CLIENTS) if (pattern.test(userAgent)) return name;
  return userAgent.split(/[\s/]/)[0]!.slice(0, 40) || 'unknown';
}

const SHORT_STRING = 256;
const MAX_UPSTREAM_EVENTS = 5000;

/** Prepares a body for the record under a capture mode; undefined when nothing is kept. */
export function captureBody(body: unknown, mode: CaptureMode, redactor: Redactor): unknown {
  if (mode === 'off') return undefined;
  // Scrub first, then shorten: a secret cut at the 256th character would leave a fragment too
  // short for any pattern to recognise.
  return shape(redactor.value(body), mode, new WeakSet());
}

function shape(value: unknown, mode: CaptureMode, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') {
    return mode === 'redacted' && value.length > SHORT_STRING ? `${value.slice(0, SHORT_STRING)}… [${value.length} chars]` : value;
  }
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => shape(v, mode, seen));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // Image payloads (Anthropic `data`, Kiro `bytes`) are kept as their size only.
    if ((key === 'data' || key === 'bytes') && typeof v === 'string' && v.length > SHORT_STRING) {
      out[key] = `[${v.length} base64 chars]`;
    } else {
      out[key] = shape(v, mode, seen);
    }
  }
  return out;
}

export interface TrafficRecorderOptions {
  sink: TrafficSink;
  redactor: Redactor;
  captureMode: () => CaptureMode;
  now?: () => number;
}

let sequence = 0;

export class TrafficRecorder {
  constructor(private readonly options: TrafficRecorderOptions) {}

  begin(req: IncomingMessage, api: TrafficApi, id: string): RequestTrace {
    const now = this.options.now ?? Date.now;
    const record: RequestRecord = {
      id,
      startedAt: now(),
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0]!,
      client: clientFromUserAgent(req.headers['user-agent']),
      api,
      stream: false,
      attempts: [],
      repairs: [],
      flags: { streamed: false, retried: false, failedOver: false, truncated: false, repaired: false },
    };
    return new RequestTrace(record, this.options, now);
  }
}

/** The record of one request in flight. */
export class RequestTrace {
  private finished = false;
  private readonly started: number;

  constructor(
    private readonly record: RequestRecord,
    private readonly options: TrafficRecorderOptions,
    private readonly now: () => number,
  ) {
    this.started = now();
    this.publish();
  }

  get id(): string {
    return this.record.id;
  }

  get capture(): CaptureMode {
    return this.options.captureMode();
  }

  /** Milliseconds since the request arrived. */
  elapsed(): number {
    return this.now() - this.started;
  }

  /** Sets fields and publishes. */
  update(patch: Partial<Omit<RequestRecord, 'id' | 'flags' | 'attempts' | 'repairs'>> & { flags?: Partial<RequestRecord['flags']> }): void {
    if (this.finished) return;
    const { flags, ...rest } = patch;
    Object.assign(this.record, rest);
    if (flags) Object.assign(this.record.flags, flags);
    this.publish();
  }

  /** How the answer ended (a finish reason, or web search's `pause_turn`) and what it used. */
  recordOutcome(reason: string | undefined, usage: UsageTotals): void {
    this.update({
      stopReason: reason,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      credits: usage.credits,
      cacheReadTokens: usage.cacheReadTokens,
      cacheWriteTokens: usage.cacheWriteTokens,
      flags: { truncated: reason === 'max_tokens' },
    });
  }

  /**
   * Notes what was changed to make the request acceptable. Every repair is listed; the `repaired`
   * flag is raised only for those worth a look: plain notes, and converter repairs that are not
   * routine (a placeholder for a tool-only turn or a `$schema` removal is nearly every request).
   */
  addRepairs(repairs: readonly (string | Repair)[]): void {
    if (!repairs.length) return;
    for (const repair of repairs) {
      this.record.repairs.push(this.options.redactor.text(typeof repair === 'string' ? repair : formatRepair(repair)));
      if (typeof repair === 'string' || !repair.routine) this.record.flags.repaired = true;
    }
  }

  addAttempt(attempt: AttemptRecord): void {
    this.record.attempts.push(attempt);
    if (this.record.attempts.length > 1) this.record.flags.retried = true;
  }

  /** Time to first byte sent to the client. */
  markFirstByte(): void {
    if (this.record.ttftMs === undefined) this.record.ttftMs = this.elapsed();
  }

  captureClientRequest(body: unknown): void {
    if (this.capture !== 'off') this.record.clientRequest = captureBody(body, this.capture, this.options.redactor);
  }

  captureKiroRequest(body: unknown): void {
    if (this.capture !== 'off') this.record.kiroRequest = captureBody(body, this.capture, this.options.redactor);
  }

  captureUpstreamEvent(event: unknown): void {
    if (this.capture === 'off') return;
    const list = (this.record.upstreamEvents ??= []);
    if (list.length < MAX_UPSTREAM_EVENTS) list.push(captureBody(event, this.capture, this.options.redactor));
  }

  captureResponse(body: unknown): void {
    if (this.capture !== 'off') this.record.response = captureBody(body, this.capture, this.options.redactor);
  }

  /** The request is over: final status, duration, and the error if it failed. */
  finish(status: number, error?: { type: string; message: string }): void {
    if (this.finished) return;
    this.record.status = status;
    this.record.durationMs = this.elapsed();
    if (error) this.record.error = { type: error.type, message: this.options.redactor.text(error.message) };
    this.publish();
    this.finished = true;
  }

  private publish(): void {
    try {
      this.options.sink.update(this.record);
    } catch {
      // A failing view must never fail a request.
    }
  }
}

/** Unique request ids: `req_` + time + counter (sortable, no randomness needed). */
export function newRequestId(): string {
  sequence = (sequence + 1) % 1_000_000;
  return `req_${Date.now().toString(36)}${sequence.toString(36).padStart(4, '0')}`;
}

/** One line per finished request, for the CLI's stderr. */
export function formatRecordLine(record: Readonly<RequestRecord>): string {
  const time = new Date(record.startedAt).toISOString().slice(11, 19);
  const parts = [time, String(record.status ?? '-'), record.method, record.path];
  if (record.modelAsked)
    parts.push(record.kiroModel && record.kiroModel !== record.modelAsked ? `${record.modelAsked}→${record.kiroModel}` : record.modelAsked);
  if (record.stream) parts.push('stream');
  if (record.stopReason) parts.push(record.stopReason);
  if (record.durationMs !== undefined) parts.push(`${record.durationMs}ms`);
  if (record.ttftMs !== undefined && record.stream) parts.push(`ttft=${record.ttftMs}ms`);
  if (record.inputTokens !== undefined || record.outputTokens !== undefined) parts.push(`in=${record.inputTokens ?? 0} out=${record.outputTokens ?? 0}`);
  const hit = cacheHitRate(record);
  if (hit !== undefined) parts.push(`cache=${Math.round(hit * 100)}%`);
  if (record.credits !== undefined) parts.push(`credits=${record.credits}`);
  if (record.account) parts.push(`acct=${record.account}`);
  if (record.flags.retried) parts.push('retried');
  if (record.repairs.length) parts.push(`repairs=${record.repairs.length}`);
  parts.push(record.client);
  if (record.error) parts.push(`error=${record.error.type}: ${record.error.message}`);
  return parts.join(' ');
}
