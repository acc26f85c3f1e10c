import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/common/redact';
import { checkHostMessage, checkRow, checkWebviewMessage, describeRejected, type HostMessage } from '../../src/traffic/traffic-protocol';
import { toDetails, toRow } from '../../src/traffic/traffic-records';
import { TrafficStore } from '../../src/traffic/traffic-store';
import { inFlight, sampleRecord, sampleRecords } from '../webview/samples';

const redactor = new Redactor();

describe('host → webview messages', () => {
  const store = new TrafficStore();
  for (const r of sampleRecords(30)) store.update(r);
  const valid: HostMessage[] = [
    {
      type: 'snapshot',
      rows: store.list().map((r) => toRow(r, redactor)),
      stats: store.stats.snapshot(),
      accounts: [{ label: 'aor…x7Qz', state: 'active', creditsUsed: 1, creditsLimit: 50, resetsAt: 1, note: 'ok' }],
      config: { captureBodies: 'redacted', maxEntries: 500 },
      paused: false,
    },
    { type: 'records', added: [toRow(inFlight(sampleRecord(31)), redactor)], updated: [toRow(sampleRecord(3), redactor)], removed: ['req-00000'] },
    { type: 'stats', stats: store.stats.snapshot() },
    { type: 'accounts', accounts: [] },
    { type: 'config', config: { captureBodies: 'off', maxEntries: 10 } },
    { type: 'cleared' },
    { type: 'paused', paused: true, pending: 4 },
    { type: 'details', id: 'req-00005', details: toDetails(sampleRecord(5), 'full', redactor) },
    { type: 'details', id: 'req-00006', details: { ...toDetails(sampleRecord(6), 'off', redactor), bodiesDropped: true } },
    { type: 'details', id: 'gone', details: null },
  ];

  it.each(valid.map((m) => [m.type, m] as const))('accepts a well-formed %s message unchanged', (_type, message) => {
    // What arrives went through postMessage: a JSON round trip.
    const arrived = JSON.parse(JSON.stringify(message));
    expect(checkHostMessage(arrived)).toEqual({ ok: true, value: arrived });
  });

  it.each([
    ['not an object', 'snapshot', 'message: expected an object'],
    ['an unknown type', { type: 'reload' }, 'message.type: expected a known host message type'],
    [
      'a row without an id',
      { type: 'records', added: [{ ...toRow(sampleRecord(1), redactor), id: undefined }], updated: [], removed: [] },
      'added[0].id: expected a string',
    ],
    ['a non-finite number', { type: 'paused', paused: true, pending: Number.NaN }, 'pending: expected a finite number'],
    [
      'an unknown capture mode',
      { type: 'config', config: { captureBodies: 'everything', maxEntries: 1 } },
      'config.captureBodies: expected one of off, redacted, full',
    ],
    [
      'bad flags',
      { type: 'records', added: [{ ...toRow(sampleRecord(1), redactor), flags: { streamed: 'yes' } }], updated: [], removed: [] },
      'added[0].flags.streamed: expected a boolean',
    ],
    ['a huge id', { type: 'details', id: 'x'.repeat(500), details: null }, 'id: expected at most 200 characters'],
  ])('rejects %s with the path of the problem', (_name, message, error) => {
    expect(checkHostMessage(message)).toEqual({ ok: false, error });
  });

  it('returns clean rows: unknown fields do not pass through', () => {
    const row = checkRow({ ...toRow(sampleRecord(2), redactor), injected: '<script>' });
    expect(row).not.toHaveProperty('injected');
    expect(row).toEqual(toRow(sampleRecord(2), redactor));
  });
});

describe('webview → host messages', () => {
  it.each([
    [{ type: 'ready' }],
    [{ type: 'select', id: 'req-1' }],
    [{ type: 'select', id: null }],
    [{ type: 'exportRepro', id: 'req-1' }],
    [{ type: 'clear' }],
    [{ type: 'pause', paused: true }],
    [{ type: 'log', level: 'warn', message: 'x' }],
  ])('accepts %j', (message) => {
    expect(checkWebviewMessage(message)).toEqual({ ok: true, value: message });
  });

  it('drops extra fields', () => {
    expect(checkWebviewMessage({ type: 'clear', all: true })).toEqual({ ok: true, value: { type: 'clear' } });
  });

  it.each([
    [null, 'message: expected an object'],
    [{ type: 'select' }, 'id: expected a string'],
    [{ type: 'exportRepro', id: 7 }, 'id: expected a string'],
    [{ type: 'pause', paused: 'yes' }, 'paused: expected a boolean'],
    [{ type: 'log', level: 'fatal', message: 'x' }, 'level: expected one of info, warn, error'],
    [{ type: 'eval', code: 'x' }, 'message.type: expected a known webview message type'],
  ])('rejects %j', (message, error) => {
    expect(checkWebviewMessage(message)).toEqual({ ok: false, error });
  });

  it('describes a rejected message without echoing its content', () => {
    expect(describeRejected({ type: 'eval', code: 'secret' })).toBe('type "eval"');
    expect(describeRejected({ code: 'secret' })).toBe('an object without a type');
    expect(describeRejected('secret')).toBe('string');
  });
});
