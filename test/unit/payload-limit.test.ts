import { describe, expect, it } from 'vitest';
import { KiroError } from '../../src/kiro/errors';
import {
  MAX_KIRO_REQUEST_BYTES,
  PROFILE_ARN_ALLOWANCE,
  oversizedPayload,
  payloadTooLargeError,
  payloadTooLargeNote,
} from '../../src/kiro/request/payload-limit';

/** How Claude Code reads the counts out of a prompt-too-long message. */
const CLAUDE_CODE_PROMPT_TOO_LONG = /prompt is too long[^0-9]*(\d+)\s*tokens?\s*>\s*(\d+)/i;

describe('oversizedPayload', () => {
  const largest = MAX_KIRO_REQUEST_BYTES - PROFILE_ARN_ALLOWANCE;

  it('measures UTF-8 bytes, keeping room for the profile ARN', () => {
    expect(oversizedPayload('a'.repeat(largest))).toBeUndefined();
    expect(oversizedPayload('a'.repeat(largest + 1))).toEqual({ bytes: largest + 1, limit: MAX_KIRO_REQUEST_BYTES });
    // Two bytes per character: half as many characters reach the limit.
    expect(oversizedPayload('é'.repeat(largest / 2))).toBeUndefined();
    expect(oversizedPayload(`${'é'.repeat(largest / 2)}a`)).toEqual({ bytes: largest + 1, limit: MAX_KIRO_REQUEST_BYTES });
    // Four bytes for a character outside the BMP (two UTF-16 units).
    expect(oversizedPayload('😀'.repeat(largest / 4))).toBeUndefined();
    expect(oversizedPayload('😀'.repeat(largest / 4 + 1))?.bytes).toBe(largest + 4);
  });

  it('takes another limit', () => {
    expect(oversizedPayload('a'.repeat(1000), 1000 + PROFILE_ARN_ALLOWANCE)).toBeUndefined();
    expect(oversizedPayload('a'.repeat(1001), 1000 + PROFILE_ARN_ALLOWANCE)).toEqual({ bytes: 1001, limit: 1256 });
  });
});

describe('payloadTooLargeError', () => {
  it('is a prompt_too_long whose message Claude Code reads as N tokens over M, the gap scaled to the overflow', () => {
    const error = payloadTooLargeError({ bytes: 800 * 1024, limit: 600 * 1024 }, 200_000);
    expect(error).toBeInstanceOf(KiroError);
    expect(error.errorClass).toBe('prompt_too_long');
    expect(error.message).toMatch(/^prompt is too long: 200000 tokens > 150000 maximum \(/);
    expect(error.message).toContain('800 KB');
    expect(error.message).toContain('600 KB');
    const [, tokens, maximum] = CLAUDE_CODE_PROMPT_TOO_LONG.exec(error.message)!;
    expect([Number(tokens), Number(maximum)]).toEqual([200_000, 150_000]);
  });

  it('estimates the count from the size when the request was not counted, and always leaves a gap', () => {
    expect(payloadTooLargeError({ bytes: 800_000, limit: 600_000 }, undefined).message).toMatch(/^prompt is too long: 200000 tokens > 150000 maximum/);
    expect(payloadTooLargeError({ bytes: 600_001, limit: 600_000 }, 3).message).toMatch(/^prompt is too long: 3 tokens > 2 maximum/);
  });

  it('notes size and limit for the traffic record', () => {
    expect(payloadTooLargeNote({ bytes: 700_000, limit: MAX_KIRO_REQUEST_BYTES })).toBe(
      'not sent to Kiro: the request body would be 700000 bytes (684 KB), over the 614400 bytes (600 KB) Kiro accepts; answered "prompt is too long" so the client compacts',
    );
  });
});
