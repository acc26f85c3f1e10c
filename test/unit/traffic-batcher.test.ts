import { describe, expect, it } from 'vitest';
import { ChangeBatcher, type ChangeBatch } from '../../src/traffic/traffic-batcher';
import { ManualTimers } from '../webview/manual-timers';

function setup(intervalMs = 100) {
  const timers = new ManualTimers();
  const flushes: { at: number; batch: ChangeBatch }[] = [];
  const batcher = new ChangeBatcher((batch) => flushes.push({ at: timers.now(), batch }), intervalMs, timers);
  return { timers, flushes, batcher };
}

describe('ChangeBatcher', () => {
  it('coalesces many changes to the same rows into one flush', () => {
    const { timers, flushes, batcher } = setup();
    batcher.upsert('a', true);
    for (let i = 0; i < 50; i++) batcher.upsert('a', false);
    batcher.upsert('b', false);
    batcher.upsert('b', false);
    timers.advance(0);
    expect(flushes).toEqual([{ at: 0, batch: { added: ['a'], updated: ['b'], removed: [] } }]);
  });

  it('flushes at most once per interval (10 per second), however busy', () => {
    const { timers, flushes, batcher } = setup(100);
    for (let t = 0; t < 1_000; t += 5) {
      batcher.upsert(`r${t}`, true);
      timers.advance(5);
    }
    timers.advance(200);
    expect(flushes.length).toBeLessThanOrEqual(11);
    expect(flushes.length).toBeGreaterThanOrEqual(10);
    for (let i = 1; i < flushes.length; i++) expect(flushes[i]!.at - flushes[i - 1]!.at).toBeGreaterThanOrEqual(100);
    // Nothing is lost on the way.
    expect(flushes.flatMap((f) => f.batch.added)).toHaveLength(200);
  });

  it('sends nothing for a row added and removed before the receiver saw it', () => {
    const { timers, flushes, batcher } = setup();
    batcher.upsert('a', true);
    batcher.remove(['a']);
    timers.advance(100);
    expect(flushes).toEqual([]);
  });

  it('replaces a pending update by a removal', () => {
    const { timers, flushes, batcher } = setup();
    batcher.upsert('a', false);
    batcher.remove(['a', 'b']);
    timers.advance(0);
    expect(flushes[0]!.batch).toEqual({ added: [], updated: [], removed: ['a', 'b'] });
  });

  it('drops pending changes on reset and stops after dispose', () => {
    const { timers, flushes, batcher } = setup();
    batcher.upsert('a', true);
    batcher.reset();
    timers.advance(500);
    expect(flushes).toEqual([]);
    expect(timers.scheduled).toBe(0);
    batcher.dispose();
    batcher.upsert('b', true);
    timers.advance(500);
    expect(flushes).toEqual([]);
  });

  it('flushes immediately on request', () => {
    const { flushes, batcher } = setup();
    batcher.upsert('a', true);
    batcher.flushNow();
    expect(flushes.map((f) => f.batch.added)).toEqual([['a']]);
    batcher.flushNow();
    expect(flushes).toHaveLength(1);
  });
});
