import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/common/redact';
import { buildReproBundle, REPRO_KIND, reproFileName, serializeReproBundle } from '../../src/traffic/traffic-repro';
import { sampleRecord, SECRETS } from '../webview/samples';

const redactor = new Redactor();
const NOW = Date.UTC(2026, 10, 27, 14, 0, 0);

describe('repro bundle', () => {
  it('holds one request with its summary, attempts, repairs, error and bodies', () => {
    const record = sampleRecord(5);
    const bundle = buildReproBundle(
      record,
      {
        capture: 'full',
        now: NOW,
        extensionVersion: '0.1.0',
        vscodeVersion: '1.100.3',
        platform: 'linux x64',
        settings: { captureBodies: 'full', maxEntries: 500 },
      },
      redactor,
    );
    expect(bundle).toMatchObject({
      kind: REPRO_KIND,
      formatVersion: 1,
      createdAt: '2026-11-27T14:00:00.000Z',
      environment: { extensionVersion: '0.1.0', vscodeVersion: '1.100.3', platform: 'linux x64' },
      capture: 'full',
      settings: { captureBodies: 'full', maxEntries: 500 },
    });
    expect(bundle.request).toMatchObject({
      id: record.id,
      status: 400,
      modelAsked: record.modelAsked,
      kiroModel: record.kiroModel,
      startedAtIso: new Date(record.startedAt).toISOString(),
      attempts: record.attempts,
      repairs: record.repairs,
      error: record.error,
      kiroRequest: record.kiroRequest,
      upstreamEvents: record.upstreamEvents,
      response: record.response,
    });
    expect(bundle.notes).toHaveLength(1);
  });

  it('says what is missing and why', () => {
    const off = buildReproBundle(sampleRecord(1), { capture: 'off', now: NOW, bodiesDropped: true }, redactor);
    expect(off.request).not.toHaveProperty('clientRequest');
    expect(off.notes.join('\n')).toContain('captureBodies is "off"');
    expect(off.notes.join('\n')).toContain('bodies had been dropped');
    const long = 'word '.repeat(200);
    const redacted = buildReproBundle(sampleRecord(1, { response: { text: long } }), { capture: 'redacted', now: NOW }, redactor);
    expect(redacted.notes.join('\n')).toContain('longer than 256 characters were shortened');
    expect(redacted.request.response).toEqual({ text: `${long.slice(0, 256)}… [1000 chars]` });
  });

  it('serialises to valid JSON with no secret left, even from settings', () => {
    const record = sampleRecord(2, {
      clientRequest: { headers: { authorization: `Bearer ${SECRETS.openaiKey}` }, note: `key ${SECRETS.kiroApiKey}` },
    });
    const bundle = buildReproBundle(record, { capture: 'full', now: NOW, settings: { apiKey: SECRETS.clientKey, port: 8765 } }, redactor);
    const text = serializeReproBundle(bundle, redactor);
    expect(text.endsWith('\n')).toBe(true);
    const parsed = JSON.parse(text);
    expect(parsed.settings).toEqual({ apiKey: '[REDACTED]', port: 8765 });
    for (const secret of [SECRETS.openaiKey, SECRETS.kiroApiKey, SECRETS.clientKey]) expect(text).not.toContain(secret);
  });

  it('names the file after the request time and id', () => {
    const startedAt = new Date(2026, 10, 27, 9, 5, 7).getTime();
    expect(reproFileName({ id: 'req-00042', startedAt })).toBe('kiro-bridge-repro-20261127-090507-req-00042.json');
    expect(reproFileName({ id: '../../etc/passwd', startedAt })).toBe('kiro-bridge-repro-20261127-090507-etcpasswd.json');
    expect(reproFileName({ id: '///', startedAt })).toBe('kiro-bridge-repro-20261127-090507-request.json');
  });
});
