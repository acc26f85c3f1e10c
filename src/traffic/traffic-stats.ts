// Session statistics for the traffic view's header: requests per minute, latency p50/p95, credits
// used and Kiro's prompt-cache hit rate. Fed every record update (the bridge publishes the same id
// many times as a request progresses), so each request contributes once: it is counted when first
// seen, its latency when it first finishes, and its credits and tokens as deltas over what was
// already counted (a token count may go down: Kiro's own count replaces the bridge's estimate).

import type { RequestRecord } from './traffic';
import type { MinuteBucket, TrafficStats } from './traffic-protocol';

const MINUTE = 60_000;

export interface TrafficStatsOptions {
  /** How many minutes the per-minute series keeps (the charts' width). */
  windowMinutes?: number;
  /** How many recent latencies the session-wide percentiles are taken over. */
  latencySamples?: number;
  /** How many request ids are remembered to avoid double counting. */
  ledgerSize?: number;
}

interface Contribution {
  finished: boolean;
  credits: number;
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens counted toward the cache hit rate (only once Kiro reported cache numbers). */
  cachedPromptTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

interface Bucket {
  requests: number;
  failed: number;
  credits: number;
  latencies: number[];
}

/** APIs whose latency means "a model answered"; token counting and model lists would skew it. */
const GENERATION_APIS = new Set(['anthropic', 'openai', 'responses']);
/** Per-minute latency samples kept (percentiles of a busier minute are taken over these). */
const MAX_LATENCIES_PER_MINUTE = 5_000;

export function isFinished(record: Readonly<RequestRecord>): boolean {
  return record.status !== undefined && record.durationMs !== undefined;
}

export function isFailed(record: Readonly<RequestRecord>): boolean {
  return (record.status !== undefined && record.status >= 400) || record.error !== undefined;
}

/** Nearest-rank percentile of an ascending array (`p` in 0..1). */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export class TrafficStatsCollector {
  private readonly windowMinutes: number;
  private readonly latencySamples: number;
  private readonly ledgerSize: number;
  private readonly ledger = new Map<string, Contribution>();
  private readonly buckets = new Map<number, Bucket>();
  private readonly recentLatencies: number[] = [];
  private latencyCursor = 0;
  private readonly sessionStartedAt: number;
  private requests = 0;
  private failed = 0;
  private inFlight = 0;
  private credits = 0;
  private inputTokens = 0;
  private outputTokens = 0;
  private cachedPromptTokens = 0;
  private cacheReadTokens = 0;
  private cacheWriteTokens = 0;
  private creditsBefore = 0;

  constructor(
    private readonly now: () => number,
    options: TrafficStatsOptions = {},
  ) {
    this.windowMinutes = Math.max(1, options.windowMinutes ?? 60);
    this.latencySamples = Math.max(1, options.latencySamples ?? 1_000);
    this.ledgerSize = Math.max(1, options.ledgerSize ?? 20_000);
    this.sessionStartedAt = now();
  }

  /** Accounts for one published state of a record. */
  observe(record: Readonly<RequestRecord>): void {
    let seen = this.ledger.get(record.id);
    if (!seen) {
      seen = { finished: false, credits: 0, inputTokens: 0, outputTokens: 0, cachedPromptTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
      this.remember(record.id, seen);
      this.requests++;
      this.inFlight++;
      this.bucket(record.startedAt).requests++;
    }
    if (!seen.finished && isFinished(record)) {
      seen.finished = true;
      this.inFlight--;
      const finishedAt = record.startedAt + (record.durationMs ?? 0);
      const bucket = this.bucket(finishedAt);
      if (isFailed(record)) {
        this.failed++;
        bucket.failed++;
      } else if (GENERATION_APIS.has(record.api) && record.durationMs !== undefined) {
        // Latency of failures (often instant 4xx) would make the service look faster than it is.
        if (bucket.latencies.length < MAX_LATENCIES_PER_MINUTE) bucket.latencies.push(record.durationMs);
        this.addRecentLatency(record.durationMs);
      }
    }
    const credits = finite(record.credits);
    if (credits > seen.credits) {
      const delta = credits - seen.credits;
      seen.credits = credits;
      this.credits += delta;
      this.bucket(this.now()).credits += delta;
    }
    // Token counts move either way: the bridge's estimate comes first, Kiro's count may replace it.
    const input = finite(record.inputTokens);
    this.inputTokens += input - seen.inputTokens;
    seen.inputTokens = input;
    const output = finite(record.outputTokens);
    this.outputTokens += output - seen.outputTokens;
    seen.outputTokens = output;
    if (record.cacheReadTokens !== undefined) {
      const read = finite(record.cacheReadTokens);
      const write = finite(record.cacheWriteTokens);
      this.cachedPromptTokens += input - seen.cachedPromptTokens;
      this.cacheReadTokens += read - seen.cacheReadTokens;
      this.cacheWriteTokens += write - seen.cacheWriteTokens;
      seen.cachedPromptTokens = input;
      seen.cacheReadTokens = read;
      seen.cacheWriteTokens = write;
    }
  }

  snapshot(): TrafficStats {
    const now = this.now();
    this.prune(now);
    const current = minuteOf(now);
    const first = Math.max(minuteOf(this.sessionStartedAt), current - (this.windowMinutes - 1) * MINUTE);
    const minutes: MinuteBucket[] = [];
    for (let t = first; t <= current; t += MINUTE) {
      const b = this.buckets.get(t);
      const bucket: MinuteBucket = { t, requests: b?.requests ?? 0, failed: b?.failed ?? 0, credits: b?.credits ?? 0 };
      if (b && b.latencies.length) {
        const sorted = [...b.latencies].sort((x, y) => x - y);
        bucket.p50 = percentile(sorted, 0.5);
        bucket.p95 = percentile(sorted, 0.95);
      }
      minutes.push(bucket);
    }
    const stats: TrafficStats = {
      sessionStartedAt: this.sessionStartedAt,
      requests: this.requests,
      failed: this.failed,
      inFlight: this.inFlight,
      credits: round(this.credits),
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      cachedPromptTokens: this.cachedPromptTokens,
      cacheReadTokens: this.cacheReadTokens,
      cacheWriteTokens: this.cacheWriteTokens,
      creditsBefore: round(this.creditsBefore),
      minutes,
    };
    if (this.recentLatencies.length) {
      const sorted = [...this.recentLatencies].sort((x, y) => x - y);
      stats.p50 = percentile(sorted, 0.5);
      stats.p95 = percentile(sorted, 0.95);
    }
    return stats;
  }

  private remember(id: string, contribution: Contribution): void {
    this.ledger.set(id, contribution);
    if (this.ledger.size > this.ledgerSize) {
      // Forget the oldest id; a very late update for it would count it again, which is the
      // lesser evil next to an unbounded map over a long session.
      const oldest = this.ledger.keys().next().value;
      if (oldest !== undefined) this.ledger.delete(oldest);
    }
  }

  private bucket(at: number): Bucket {
    const t = minuteOf(at);
    let b = this.buckets.get(t);
    if (!b) {
      b = { requests: 0, failed: 0, credits: 0, latencies: [] };
      this.buckets.set(t, b);
    }
    return b;
  }

  private addRecentLatency(ms: number): void {
    if (this.recentLatencies.length < this.latencySamples) this.recentLatencies.push(ms);
    else {
      this.recentLatencies[this.latencyCursor] = ms;
      this.latencyCursor = (this.latencyCursor + 1) % this.latencySamples;
    }
  }

  /** Drops minutes that scrolled out of the window, carrying their credits into the running total. */
  private prune(now: number): void {
    const oldest = minuteOf(now) - (this.windowMinutes - 1) * MINUTE;
    for (const [t, b] of this.buckets) {
      if (t < oldest) {
        this.creditsBefore += b.credits;
        this.buckets.delete(t);
      }
    }
  }
}

function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE) * MINUTE;
}

function finite(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

/** Credits are fractional (0.03, 3.5…); keep sums free of float dust. */
function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
