// The bundles replace express's iconv-lite with build/iconv-lite-subset.cjs; it must agree with
// the real library on every charset it claims, and refuse the ones it does not, as iconv does.
import iconv from 'iconv-lite';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const subset = createRequire(__filename)('../../build/iconv-lite-subset.cjs') as typeof iconv;

describe('iconv-lite subset used in the bundles', () => {
  const unicode = 'Grüße, 你好 — naïve café ✓';
  const cases: [string, string][] = [
    ['utf-8', unicode],
    ['UTF8', unicode],
    ['utf-16le', unicode],
    ['ucs-2', unicode],
    ['latin1', 'Grüße, naïve café ±½'],
    ['ISO-8859-1', 'Grüße, naïve café ±½'],
  ];

  for (const [charset, text] of cases) {
    it(`matches iconv-lite for ${charset}`, () => {
      expect(subset.encodingExists(charset)).toBe(true);
      expect(iconv.encodingExists(charset)).toBe(true);
      const bytes = iconv.encode(text, charset);
      expect(Buffer.compare(subset.encode(text, charset), bytes)).toBe(0);
      expect(subset.decode(bytes, charset)).toBe(iconv.decode(bytes, charset));
      // Streaming decode across a split multi-byte sequence, as raw-body feeds it.
      const decoder = subset.getDecoder(charset);
      const mid = Math.floor(bytes.length / 2) + 1;
      expect(decoder.write(bytes.subarray(0, mid)) + decoder.write(bytes.subarray(mid)) + (decoder.end() ?? '')).toBe(iconv.decode(bytes, charset));
    });
  }

  it('refuses charsets it cannot decode, with iconv-lite’s message', () => {
    expect(subset.encodingExists('shift_jis')).toBe(false);
    expect(subset.encodingExists('us-ascii')).toBe(false);
    expect(() => subset.getDecoder('shift_jis')).toThrow(/Encoding not recognized/);
    expect(() => iconv.getDecoder('no-such-charset')).toThrow(/Encoding not recognized/);
  });
});
