// No secret from a set of realistic requests survives any capture mode, on any path out of the
// extension host: table rows, details, repro bundles, and the messages the controller posts.

import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from '../../src/common/redact';
import type { CaptureMode } from '../../src/traffic/traffic';
import type { HostMessage } from '../../src/traffic/traffic-protocol';
import { TrafficViewController } from '../../src/traffic/traffic-controller';
import { shortenContent, toDetails, toRow, toRows } from '../../src/traffic/traffic-records';
import { buildReproBundle, serializeReproBundle } from '../../src/traffic/traffic-repro';
import { TrafficStore } from '../../src/traffic/traffic-store';
import { sampleRecord, SECRETS, secretCases } from '../webview/samples';

const MODES: CaptureMode[] = ['off', 'redacted', 'full'];

/** Every secret, plus a long-enough slice of each, must be absent from `text`. */
function expectNoSecrets(text: string, secrets: string[]): void {
  for (const secret of secrets) {
    expect(text).not.toContain(secret);
    // A partial leak is still a leak: no 12-character window of the secret may survive.
    if (secret.length > 24) {
      for (let i = 0; i + 12 <= secret.length; i += 6) {
        const window = secret.slice(i, i + 12);
        if (/^[A-Za-z0-9]*$/.test(window)) expect(text, `fragment "${window}" of a secret`).not.toContain(window);
      }
    }
  }
}

describe('traffic redaction', () => {
  for (const mode of MODES) {
    describe(`capture "${mode}"`, () => {
      for (const { name, record, secrets } of secretCases()) {
        it(`removes every secret: ${name}`, () => {
          // A fresh redactor that was told nothing: the patterns and field names must do it alone.
          const redactor = new Redactor();
          const row = JSON.stringify(toRow(record, redactor));
          const details = JSON.stringify(toDetails(record, mode, redactor));
          const bundle = serializeReproBundle(buildReproBundle(record, { capture: mode, now: 0 }, redactor), redactor);
          for (const text of [row, details, bundle]) expectNoSecrets(text, secrets);
          expect(() => JSON.parse(bundle)).not.toThrow();
        });
      }

      it('removes registered secrets of any shape', () => {
        const redactor = new Redactor();
        const opaque = 'opaque-account-secret-4d1f';
        redactor.add(opaque);
        const record = sampleRecord(9, {
          account: 'acct-1',
          clientRequest: { note: `token ${opaque} in text` },
          error: { type: 'api_error', message: `failed with ${opaque}` },
        });
        const text = JSON.stringify([toRow(record, redactor), toDetails(record, mode, redactor)]);
        expect(text).not.toContain(opaque);
      });
    });
  }

  it('scrubs a batch of rows exactly like one row at a time', () => {
    const redactor = new Redactor();
    const records = secretCases().map((c) => c.record);
    const batch = toRows([...records, ...records], redactor);
    expect(batch).toEqual([...records, ...records].map((r) => toRow(r, redactor)));
    expectNoSecrets(
      JSON.stringify(batch),
      secretCases().flatMap((c) => c.secrets),
    );
  });

  it('keeps the request useful in "full" mode: only the secrets go', () => {
    const redactor = new Redactor();
    const [first] = secretCases();
    const details = toDetails(first!.record, 'full', redactor);
    const request = details.clientRequest as { headers: Record<string, string>; body: { messages: { content: string }[] } };
    expect(request.headers['x-api-key']).toBe(REDACTED);
    expect(request.headers['anthropic-version']).toBe('2023-06-01');
    expect(request.body.messages[0]!.content).toBe(`My ANTHROPIC_API_KEY=${REDACTED}, why does this fail?`);
  });

  it('drops every body in "off" mode and keeps the summary', () => {
    const details = toDetails(sampleRecord(2), 'off', new Redactor());
    expect(details.clientRequest).toBeUndefined();
    expect(details.kiroRequest).toBeUndefined();
    expect(details.upstreamEvents).toBeUndefined();
    expect(details.response).toBeUndefined();
    expect(details.row.modelAsked).toBe(sampleRecord(2).modelAsked);
    expect(details.attempts).toHaveLength(1);
  });

  it('in "redacted" mode shortens long strings and image data, and keeps the rest', () => {
    const long = 'Refactor the parser. '.repeat(40);
    const shaped = toDetails(
      sampleRecord(3, {
        clientRequest: {
          model: 'claude-sonnet-4-5',
          system: long,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'short prompt' },
                { type: 'image', source: { type: 'base64', data: 'A'.repeat(9000) } },
              ],
            },
          ],
        },
      }),
      'redacted',
      new Redactor(),
    ).clientRequest;
    expect(shaped).toEqual({
      model: 'claude-sonnet-4-5',
      system: `${long.slice(0, 256)}… [${long.length} chars]`,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'short prompt' },
            { type: 'image', source: { type: 'base64', data: '[9000 base64 chars]' } },
          ],
        },
      ],
    });
  });

  it('shortens idempotently, so bodies the bridge already shortened pass through unchanged', () => {
    const once = shortenContent({ text: 'y'.repeat(1000), list: ['z'.repeat(300)] });
    expect(shortenContent(once)).toEqual(once);
    expect(once).toEqual({ text: `${'y'.repeat(256)}… [1000 chars]`, list: [`${'z'.repeat(256)}… [300 chars]`] });
  });

  it('never posts a secret to the webview, whatever the bridge sent', async () => {
    for (const mode of MODES) {
      const posted: HostMessage[] = [];
      const store = new TrafficStore({ maxEntries: 50 });
      const redactor = new Redactor();
      const controller = new TrafficViewController({
        store,
        accounts: {
          snapshot: () => [{ label: `Bearer ${SECRETS.accessToken}`, state: 'active', note: `refresh ${SECRETS.refreshToken}` }],
          onDidChange: () => ({ dispose() {} }),
        },
        config: { read: () => ({ captureBodies: mode, maxEntries: 50 }), onDidChange: () => ({ dispose() {} }) },
        redactor,
        logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {} },
        saveRepro: async () => {},
        notifyError: () => {},
        flushIntervalMs: 0,
      });
      controller.attach((m) => posted.push(m));
      const cases = secretCases();
      for (const c of cases) store.update(c.record);
      controller.receive({ type: 'ready' });
      for (const c of cases) controller.receive({ type: 'select', id: c.record.id });
      const everything = JSON.stringify(posted);
      expectNoSecrets(everything, [...cases.flatMap((c) => c.secrets), SECRETS.accessToken, SECRETS.refreshToken]);
      expect(posted.filter((m) => m.type === 'details')).toHaveLength(cases.length);
      controller.dispose();
    }
  });
});
