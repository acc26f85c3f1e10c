import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/traffic/traffic';
import { percentile, TrafficStatsCollector } from '../../src/traffic/traffic-stats';
import { inFlight, sampleRecord } from '../webview/samples';

const T0 = Date.UTC(2026, 10, 27, 13, 0, 0);
const MIN = 60_000;

function clock(start = T0) {
  let now = start;
  return { now: () => now, set: (t: number) => (now = t) };
}

function ok(id: number, startedAt: number, durationMs: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return sampleRecord(id, { id: `r${id}`, startedAt, durationMs, status: 200, error: undefined, credits: 0, ...extra });
}

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.95)).toBe(95);
    expect(percentile([7], 0.95)).toBe(7);
    expect(percentile([], 0.5)).toBeUndefined();
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
  });
});

describe('TrafficStatsCollector', () => {
  it('counts each request once however many times it is published', () => {
    const c = clock(T0 + 30_000);
    const stats = new TrafficStatsCollector(c.now);
    const started = T0 + 10_000;
    const record = ok(1, started, 2_000, { credits: 0.2, inputTokens: 100, outputTokens: 40 });
    stats.observe(inFlight(record));
    stats.observe({ ...inFlight(record), outputTokens: 10 });
    let s = stats.snapshot();
    expect(s).toMatchObject({ requests: 1, inFlight: 1, failed: 0, outputTokens: 10 });
    stats.observe(record);
    stats.observe(record);
    s = stats.snapshot();
    expect(s).toMatchObject({ requests: 1, inFlight: 0, failed: 0, credits: 0.2, inputTokens: 100, outputTokens: 40, p50: 2_000, p95: 2_000 });
    expect(s.minutes.at(-1)).toEqual({ t: T0, requests: 1, failed: 0, credits: 0.2, p50: 2_000, p95: 2_000 });
  });

  it("follows token counts down when Kiro's count replaces the estimate, and sums the prompt cache", () => {
    const stats = new TrafficStatsCollector(clock(T0).now);
    const first = ok(1, T0, 100, { inputTokens: 5_000, outputTokens: 10 });
    stats.observe(inFlight(first));
    stats.observe({ ...first, inputTokens: 4_000, outputTokens: 12, cacheReadTokens: 3_000, cacheWriteTokens: 800 });
    stats.observe(ok(2, T0, 100, { inputTokens: 1_000, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 1_000 }));
    // A request Kiro reported no cache numbers for stays out of the hit rate.
    stats.observe(ok(3, T0, 100, { inputTokens: 700, outputTokens: 1 }));
    expect(stats.snapshot()).toMatchObject({
      inputTokens: 5_700,
      outputTokens: 18,
      cachedPromptTokens: 5_000,
      cacheReadTokens: 3_000,
      cacheWriteTokens: 1_800,
    });
  });

  it('adds credits as they grow, without float dust', () => {
    const c = clock(T0);
    const stats = new TrafficStatsCollector(c.now);
    for (let i = 0; i < 10; i++) stats.observe(ok(i, T0, 100, { credits: 0.1 }));
    stats.observe(ok(3, T0, 100, { credits: 0.3 }));
    expect(stats.snapshot().credits).toBe(1.2);
  });

  it('buckets requests per minute with gaps filled and p50/p95 per minute', () => {
    // The session starts at T0 (read from the clock at construction); it is now 4 min later.
    const c = clock(T0);
    const fresh = new TrafficStatsCollector(c.now);
    c.set(T0 + 4 * MIN + 5_000);
    for (let i = 0; i < 20; i++) fresh.observe(ok(i, T0 + 1_000, (i + 1) * 100));
    for (let i = 20; i < 23; i++) fresh.observe(ok(i, T0 + 3 * MIN + 1_000, 1_000, { status: 500, error: { type: 'api_error', message: 'x' } }));
    const s = fresh.snapshot();
    expect(s.minutes.map((m) => m.t)).toEqual([T0, T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN, T0 + 4 * MIN]);
    expect(s.minutes.map((m) => m.requests)).toEqual([20, 0, 0, 3, 0]);
    expect(s.minutes.map((m) => m.failed)).toEqual([0, 0, 0, 3, 0]);
    expect(s.minutes[0]).toMatchObject({ p50: 1_000, p95: 1_900 });
    // Failed requests do not count towards latency (a fast 400 is not a fast answer).
    expect(s.minutes[3]!.p50).toBeUndefined();
    expect(s).toMatchObject({ requests: 23, failed: 3, p50: 1_000, p95: 1_900 });
  });

  it('leaves token counting and model lists out of latency', () => {
    const c = clock(T0);
    const stats = new TrafficStatsCollector(c.now);
    stats.observe(ok(1, T0, 5, { api: 'count_tokens' }));
    stats.observe(ok(2, T0, 3, { api: 'models' }));
    stats.observe(ok(3, T0, 4_000));
    expect(stats.snapshot()).toMatchObject({ requests: 3, p50: 4_000, p95: 4_000 });
  });

  it('keeps a window of minutes and carries older credits into the running total', () => {
    const c = clock(T0);
    const stats = new TrafficStatsCollector(c.now, { windowMinutes: 5 });
    for (let m = 0; m < 12; m++) {
      c.set(T0 + m * MIN + 30_000);
      stats.observe(ok(m, T0 + m * MIN, 1_000, { credits: 1 }));
    }
    const s = stats.snapshot();
    expect(s.minutes).toHaveLength(5);
    expect(s.minutes[0]!.t).toBe(T0 + 7 * MIN);
    expect(s.creditsBefore).toBe(7);
    expect(s.creditsBefore + s.minutes.reduce((sum, m) => sum + m.credits, 0)).toBe(s.credits);
    expect(s.credits).toBe(12);
  });

  it('takes session percentiles over the most recent latencies only', () => {
    const c = clock(T0);
    const stats = new TrafficStatsCollector(c.now, { latencySamples: 10 });
    for (let i = 0; i < 10; i++) stats.observe(ok(i, T0, 10_000));
    for (let i = 10; i < 20; i++) stats.observe(ok(i, T0, 100));
    expect(stats.snapshot()).toMatchObject({ p50: 100, p95: 100 });
  });

  it('forgets the oldest ids beyond its ledger size', () => {
    const c = clock(T0);
    const stats = new TrafficStatsCollector(c.now, { ledgerSize: 3 });
    for (let i = 0; i < 5; i++) stats.observe(ok(i, T0, 100));
    // r4 is remembered: publishing it again changes nothing.
    stats.observe(ok(4, T0, 100));
    expect(stats.snapshot().requests).toBe(5);
  });
});
