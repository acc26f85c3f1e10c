import { describe, expect, it } from 'vitest';
import { clampMaxEntries, DEFAULT_MAX_ENTRIES, MAX_MAX_ENTRIES, TrafficStore, type TrafficChange } from '../../src/traffic/traffic-store';
import { inFlight, sampleRecord } from '../webview/samples';

function watch(store: TrafficStore): TrafficChange[] {
  const changes: TrafficChange[] = [];
  store.onDidChange((c) => changes.push(c));
  return changes;
}

const ids = (store: TrafficStore) => store.list().map((r) => r.id);

describe('TrafficStore', () => {
  it('keeps records oldest first and announces each new one', () => {
    const store = new TrafficStore({ maxEntries: 10 });
    const changes = watch(store);
    for (let i = 0; i < 3; i++) store.update(sampleRecord(i));
    expect(ids(store)).toEqual(['req-00000', 'req-00001', 'req-00002']);
    expect(changes).toEqual([0, 1, 2].map((i) => ({ type: 'upsert', id: `req-0000${i}`, isNew: true })));
  });

  it('updates a record in place by id as the request progresses', () => {
    const store = new TrafficStore({ maxEntries: 10 });
    store.update(sampleRecord(0));
    store.update(inFlight(sampleRecord(1)));
    store.update(sampleRecord(2));
    const changes = watch(store);
    store.update(sampleRecord(1, { status: 200, durationMs: 5_000 }));
    expect(ids(store)).toEqual(['req-00000', 'req-00001', 'req-00002']);
    expect(store.get('req-00001')!.record.durationMs).toBe(5_000);
    expect(changes).toEqual([{ type: 'upsert', id: 'req-00001', isNew: false }]);
  });

  it('keeps a copy: later changes to the published object do not leak in unannounced', () => {
    const store = new TrafficStore({ maxEntries: 10 });
    const record = sampleRecord(0);
    store.update(record);
    record.status = 500;
    record.flags.truncated = true;
    expect(store.get(record.id)!.record.status).toBe(200);
    expect(store.get(record.id)!.record.flags.truncated).toBe(false);
  });

  it('evicts the oldest record when full, and says which', () => {
    const store = new TrafficStore({ maxEntries: 10 });
    for (let i = 0; i < 10; i++) store.update(sampleRecord(i));
    const changes = watch(store);
    store.update(sampleRecord(10));
    store.update(sampleRecord(11));
    expect(store.size).toBe(10);
    expect(ids(store)[0]).toBe('req-00002');
    expect(ids(store).at(-1)).toBe('req-00011');
    expect(store.get('req-00000')).toBeUndefined();
    expect(changes).toEqual([
      { type: 'removed', ids: ['req-00000'] },
      { type: 'upsert', id: 'req-00010', isNew: true },
      { type: 'removed', ids: ['req-00001'] },
      { type: 'upsert', id: 'req-00011', isNew: true },
    ]);
  });

  it('stays bounded over many wraps of the ring', () => {
    const store = new TrafficStore({ maxEntries: 25 });
    for (let i = 0; i < 1_000; i++) {
      store.update(inFlight(sampleRecord(i)));
      store.update(sampleRecord(i));
    }
    expect(store.size).toBe(25);
    expect(ids(store)).toEqual(Array.from({ length: 25 }, (_, k) => `req-${String(975 + k).padStart(5, '0')}`));
  });

  it('clears the records but not the session statistics', () => {
    const store = new TrafficStore({ maxEntries: 10 });
    for (let i = 0; i < 4; i++) store.update(sampleRecord(i));
    const changes = watch(store);
    store.clear();
    expect(store.size).toBe(0);
    expect(store.list()).toEqual([]);
    expect(changes).toEqual([{ type: 'cleared' }]);
    expect(store.stats.snapshot().requests).toBe(4);
    store.update(sampleRecord(4));
    expect(ids(store)).toEqual(['req-00004']);
  });

  it('shrinks and grows, keeping the newest records', () => {
    const store = new TrafficStore({ maxEntries: 20 });
    for (let i = 0; i < 20; i++) store.update(sampleRecord(i));
    const changes = watch(store);
    store.setMaxEntries(12);
    expect(store.maxEntries).toBe(12);
    expect(ids(store)).toEqual(Array.from({ length: 12 }, (_, k) => `req-${String(8 + k).padStart(5, '0')}`));
    expect(changes).toEqual([{ type: 'removed', ids: Array.from({ length: 8 }, (_, k) => `req-0000${k}`) }]);
    store.setMaxEntries(30);
    for (let i = 20; i < 35; i++) store.update(sampleRecord(i));
    expect(store.size).toBe(27);
    expect(ids(store)[0]).toBe('req-00008');
    store.update(sampleRecord(35, {}));
    store.update(sampleRecord(36, {}));
    store.update(sampleRecord(37, {}));
    store.update(sampleRecord(38, {}));
    expect(store.size).toBe(30);
    expect(ids(store)[0]).toBe('req-00009');
    // Updates in place still find records after a resize.
    store.update(sampleRecord(20, { status: 503 }));
    expect(store.get('req-00020')!.record.status).toBe(503);
  });

  it('keeps bodies only for the newest records', () => {
    const store = new TrafficStore({ maxEntries: 50, bodyRetention: 3 });
    for (let i = 0; i < 6; i++) store.update(sampleRecord(i));
    const kept = ids(store).map((id) => store.get(id)!);
    expect(kept.map((s) => s.bodiesDropped)).toEqual([true, true, true, false, false, false]);
    expect(kept[0]!.record.clientRequest).toBeUndefined();
    expect(kept[0]!.record.upstreamEvents).toBeUndefined();
    expect(kept[0]!.record.modelAsked).toBe(sampleRecord(0).modelAsked);
    expect(kept[5]!.record.kiroRequest).toEqual(sampleRecord(5).kiroRequest);
    // A late update of an old record does not bring its bodies back.
    store.update(sampleRecord(1, { stopReason: 'max_tokens' }));
    expect(store.get('req-00001')!.record.clientRequest).toBeUndefined();
    expect(store.get('req-00001')!.record.stopReason).toBe('max_tokens');
  });

  it('does not let a failing listener break the bridge that feeds it', () => {
    const store = new TrafficStore({ maxEntries: 10 });
    store.onDidChange(() => {
      throw new Error('view is broken');
    });
    const changes = watch(store);
    expect(() => store.update(sampleRecord(0))).not.toThrow();
    expect(changes).toHaveLength(1);
  });

  it('ignores a listener after it is disposed', () => {
    const store = new TrafficStore({ maxEntries: 10 });
    const changes: TrafficChange[] = [];
    const subscription = store.onDidChange((c) => changes.push(c));
    store.update(sampleRecord(0));
    void subscription.dispose();
    store.update(sampleRecord(1));
    expect(changes).toHaveLength(1);
  });

  it('clamps the configured size', () => {
    expect(clampMaxEntries(undefined)).toBe(DEFAULT_MAX_ENTRIES);
    expect(clampMaxEntries('100')).toBe(DEFAULT_MAX_ENTRIES);
    expect(clampMaxEntries(3)).toBe(10);
    expect(clampMaxEntries(1e9)).toBe(MAX_MAX_ENTRIES);
    expect(clampMaxEntries(750.7)).toBe(750);
    expect(new TrafficStore().maxEntries).toBe(500);
  });
});
