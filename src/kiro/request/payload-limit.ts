// How large a generateAssistantResponse body the bridge sends. Kiro refuses bodies above roughly
// 600 KB with 400 CONTENT_LENGTH_EXCEEDS_THRESHOLD ("Input is too long", "Input content length
// exceeds threshold"), and bodies near the line have also been answered with a bare "Improperly
// formed request" that no client can act on. So the bridge measures the body it is about to send
// and refuses it itself, in the words Claude Code compacts on: a 400 whose message starts
// "prompt is too long: N tokens > M maximum" (Claude Code also reads N and M to know how much to
// drop). OpenAI clients get the same as `context_length_exceeded` (the API layers map the class).
import { KiroError } from '../errors';

/**
 * The largest request body (UTF-8 bytes of the JSON as sent, images included) the bridge sends
 * to Kiro. Where Kiro starts refusing is reported differently from proxy to proxy: a body of
 * about 600 KB (the figure 2026 proxies build on), a single field of about 685 KB, about 720,000
 * characters of text, a 754 KB body refused while the client thought its context 13 % full;
 * bodies above 1 MB have passed too, so the line moves (it seems to follow tokens more than
 * bytes). 600 KiB is below every reported refusal: a request the bridge refuses costs a
 * compaction the client would soon need anyway, one Kiro refuses with a bare "Improperly formed
 * request" can leave a session stuck.
 *
 * Images count: they travel base64-encoded inside the same body, and a large image field alone
 * has been reported to trigger CONTENT_LENGTH_EXCEEDS_THRESHOLD.
 */
export const MAX_KIRO_REQUEST_BYTES = 600 * 1024;

/**
 * Room kept for the profile ARN an attempt adds to the body (`,"profileArn":"arn:aws:…:profile/…"`
 * is about 90 bytes): the size is checked once, before the account is known.
 */
export const PROFILE_ARN_ALLOWANCE = 256;

export interface PayloadSize {
  /** UTF-8 bytes of the body as measured (without a profile ARN). */
  bytes: number;
  limit: number;
}

/**
 * The size of a serialized Kiro body (without its profile ARN) if, with room for the ARN, it is
 * over `limit`; else undefined.
 */
export function oversizedPayload(bodyJson: string, limit = MAX_KIRO_REQUEST_BYTES): PayloadSize | undefined {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: short bodies need no count.
  if (bodyJson.length * 3 + PROFILE_ARN_ALLOWANCE <= limit) return undefined;
  const bytes = Buffer.byteLength(bodyJson, 'utf8');
  return bytes + PROFILE_ARN_ALLOWANCE > limit ? { bytes, limit } : undefined;
}

function kb(bytes: number): string {
  return `${Math.round(bytes / 1024)} KB`;
}

/**
 * The refusal of an oversized body, as the client's "prompt is too long". `inputTokens` is the
 * bridge's count of the request; the maximum is that count scaled by limit / size, so the gap
 * Claude Code reads (N − M) is the share of the conversation it has to drop.
 */
export function payloadTooLargeError(size: PayloadSize, inputTokens: number | undefined): KiroError {
  // Without a count, ~4 bytes per token (what clients estimate with too).
  const tokens = Math.max(2, Math.round(inputTokens && inputTokens > 0 ? inputTokens : size.bytes / 4));
  const maximum = Math.min(tokens - 1, Math.floor((tokens * size.limit) / Math.max(size.bytes, size.limit)));
  return new KiroError(
    'prompt_too_long',
    `prompt is too long: ${tokens} tokens > ${maximum} maximum (the request to Kiro would be ${kb(size.bytes)}; Kiro refuses requests above about ` +
      `${kb(size.limit)}, so the bridge did not send it: compact the conversation, or leave out large files, tool results or images)`,
    { status: 400, reason: 'KIRO_REQUEST_TOO_LARGE' },
  );
}

/** The traffic record's note for a refused body. */
export function payloadTooLargeNote(size: PayloadSize): string {
  return `not sent to Kiro: the request body would be ${size.bytes} bytes (${kb(size.bytes)}), over the ${size.limit} bytes (${kb(size.limit)}) Kiro accepts; answered "prompt is too long" so the client compacts`;
}
