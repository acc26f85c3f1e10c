import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/common/redact';
import { captureBody } from '../../src/bridge/traffic';

describe('traffic body capture', () => {
  it('scrubs a secret that straddles the redacted-mode cut before shortening', () => {
    const redactor = new Redactor();
    const key = `sk-ant-${'A1b2C3d4'.repeat(6)}`;
    const text = `${'x'.repeat(229)} my key is ${key} and more text ${'y'.repeat(300)}`;
    const captured = JSON.stringify(captureBody({ messages: [{ role: 'user', content: text }] }, 'redacted', redactor));
    expect(captured).not.toContain(key.slice(0, 12));
    expect(captured).not.toContain('A1b2C3d4');
    expect(captured).toContain('chars]');
  });

  it('keeps whole strings in full mode and nothing in off mode, secrets removed either way', () => {
    const redactor = new Redactor();
    redactor.add('aorSECRETREFRESHTOKEN0123456789');
    const body = { note: 'token aorSECRETREFRESHTOKEN0123456789 here', long: 'z'.repeat(1000) };
    const full = captureBody(body, 'full', redactor) as { note: string; long: string };
    expect(full.note).not.toContain('aorSECRET');
    expect(full.long).toHaveLength(1000);
    expect(captureBody(body, 'off', redactor)).toBeUndefined();
  });
});
