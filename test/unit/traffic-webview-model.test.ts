// The webview's pure pieces (row model and filters, saved-state restore, formatting), run under
// node; the browser tests exercise the same code through the real page.

import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/common/redact';
import { toRow } from '../../src/traffic/traffic-records';
import { isolatedPoints, MIN_WINDOW_SECONDS, timeRange } from '../../media/src/traffic/charts';
import * as fmt from '../../media/src/traffic/format';
import { matches, NO_FILTERS, RowModel } from '../../media/src/traffic/model';
import { DEFAULT_STATE, restoreState } from '../../media/src/traffic/vscode';
import { inFlight, sampleRecord, sampleRecords } from '../webview/samples';

const redactor = new Redactor();
const rows = (n: number) => sampleRecords(n).map((r) => toRow(r, redactor));
const ids = (model: RowModel) => model.visible.map((r) => r.id);

describe('RowModel', () => {
  it('shows rows newest first and applies deltas', () => {
    const model = new RowModel();
    model.replaceAll(rows(3));
    expect(ids(model)).toEqual(['req-00002', 'req-00001', 'req-00000']);
    model.apply([toRow(sampleRecord(3), redactor)], [toRow(sampleRecord(1, { status: 500 }), redactor)], ['req-00000']);
    expect(ids(model)).toEqual(['req-00003', 'req-00002', 'req-00001']);
    expect(model.get('req-00001')!.status).toBe(500);
    expect(model.total).toBe(3);
    model.clear();
    expect(model.visible).toEqual([]);
  });

  it('treats an "added" row it already has as an update', () => {
    const model = new RowModel();
    model.replaceAll(rows(2));
    model.apply([toRow(sampleRecord(0, { stopReason: 'max_tokens' }), redactor)], [], []);
    expect(model.total).toBe(2);
    expect(model.get('req-00000')!.stopReason).toBe('max_tokens');
  });

  it('filters by words (all must match), status and client', () => {
    const model = new RowModel();
    const all = sampleRecords(60);
    model.replaceAll(all.map((r) => toRow(r, redactor)));
    model.setFilters({ ...NO_FILTERS, text: 'Haiku  ANTHROPIC' });
    expect(ids(model)).toEqual(
      all
        .filter((r) => r.modelAsked!.includes('haiku'))
        .map((r) => r.id)
        .reverse(),
    );
    model.setFilters({ ...NO_FILTERS, text: '429' });
    expect(ids(model)).toEqual(
      all
        .filter((r) => r.status === 429)
        .map((r) => r.id)
        .reverse(),
    );
    model.setFilters({ ...NO_FILTERS, status: 'errors' });
    expect(ids(model)).toEqual(
      all
        .filter((r) => r.status! >= 400)
        .map((r) => r.id)
        .reverse(),
    );
    model.setFilters({ ...NO_FILTERS, status: '4xx', client: 'Codex' });
    expect(ids(model)).toEqual(
      all
        .filter((r) => r.status! >= 400 && r.client === 'Codex')
        .map((r) => r.id)
        .reverse(),
    );
    model.setFilters({ ...NO_FILTERS, text: 'tool_use without' });
    expect(model.visible.length).toBeGreaterThan(0);
    expect(model.visible.every((r) => r.errorMessage?.includes('tool_use without'))).toBe(true);
  });

  it('matches in-flight requests by status and by the word "pending"', () => {
    const streaming = toRow(inFlight(sampleRecord(1)), redactor);
    const done = toRow(sampleRecord(2), redactor);
    expect(matches(streaming, { ...NO_FILTERS, status: 'inflight' })).toBe(true);
    expect(matches(done, { ...NO_FILTERS, status: 'inflight' })).toBe(false);
    expect(matches(streaming, { ...NO_FILTERS, status: 'ok' })).toBe(false);
    expect(matches(streaming, { ...NO_FILTERS, text: 'pending' })).toBe(true);
  });

  it('lists the clients present, following removals', () => {
    const model = new RowModel();
    model.replaceAll(rows(7));
    expect(model.clients()).toEqual(['Claude Code', 'Cline', 'Codex', 'Continue', 'curl', 'Roo Code', 'SDK']);
    model.apply([], [], ['req-00000']);
    expect(model.clients()).not.toContain('Claude Code');
  });

  it('reports whether filters changed', () => {
    const model = new RowModel();
    expect(model.setFilters(NO_FILTERS)).toBe(false);
    expect(model.setFilters({ ...NO_FILTERS, text: 'x' })).toBe(true);
    expect(model.setFilters({ ...NO_FILTERS, text: 'x' })).toBe(false);
  });
});

describe('restoreState', () => {
  it('takes back what still fits and defaults the rest', () => {
    expect(restoreState(undefined)).toEqual(DEFAULT_STATE);
    expect(
      restoreState({ filters: { text: 'opus', status: 'bogus', client: 7 }, selectedId: 3, scrollTop: -5, tab: 'response', chartsVisible: false }),
    ).toEqual({
      filters: { text: 'opus', status: 'all', client: '' },
      selectedId: null,
      scrollTop: 0,
      tab: 'response',
      chartsVisible: false,
    });
  });
});

describe('format', () => {
  it('formats durations, counts and credits compactly', () => {
    expect([fmt.duration(840), fmt.duration(3_210), fmt.duration(42_000), fmt.duration(125_000), fmt.duration(undefined)]).toEqual([
      '840 ms',
      '3.21 s',
      '42.0 s',
      '2 m 05 s',
      '',
    ]);
    expect([fmt.count(950), fmt.count(12_345), fmt.count(1_250_000)]).toEqual(['950', '12k', '1.3M']);
    expect([fmt.credits(0), fmt.credits(0.004), fmt.credits(0.123), fmt.credits(687.5), fmt.credits(2400.4)]).toEqual(['0', '0.004', '0.12', '687.5', '2400']);
  });

  it('counts requests in good English (the footer said "1 requests")', () => {
    expect([fmt.plural(0, 'request'), fmt.plural(1, 'request'), fmt.plural(2, 'request')]).toEqual(['0 requests', '1 request', '2 requests']);
  });
});

describe('chart time axis', () => {
  const t = Date.UTC(2026, 10, 27, 2, 32) / 1000;

  it("shows a session's first minute within a few minutes of clock time, not years (found by the e2e suite)", () => {
    expect(timeRange([t])).toEqual([t - MIN_WINDOW_SECONDS, t]);
    expect(timeRange([t - 60, t])).toEqual([t - MIN_WINDOW_SECONDS, t]);
  });

  it('spans the minutes the data covers once they are more than the minimum window', () => {
    const minutes = Array.from({ length: 30 }, (_, i) => t - (29 - i) * 60);
    expect(timeRange(minutes)).toEqual([t - 29 * 60, t]);
  });

  it('has no range without data', () => {
    expect(timeRange([])).toEqual([null, null]);
  });
});

describe('chart dots', () => {
  it('marks the values a line cannot draw: alone, or between empty minutes', () => {
    expect(isolatedPoints([5])).toEqual([0]);
    expect(isolatedPoints([null, 5, null, 3, 4, null, 7])).toEqual([1, 6]);
    expect(isolatedPoints([1, 2, 3])).toEqual([]);
    expect(isolatedPoints([])).toEqual([]);
  });
});
