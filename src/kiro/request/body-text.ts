// The generate call's body as sent by one account. A conversation is converted and serialized once
// (to measure it against Kiro's size limit); each account's body differs from that text only in
// the conversation id (same length, ./ids) and a top-level profileArn. Long conversations are
// hundreds of KB, so the account's text is made from the measured one by swapping those two
// rather than serializing the whole body again.
import type { KiroGenerateRequest } from './kiro-request';

/** `body` as one account sends it: its conversation id and profile. */
export function accountBody(body: KiroGenerateRequest, conversationId: string, profileArn: string | undefined): KiroGenerateRequest {
  return { ...body, conversationState: { ...body.conversationState, conversationId }, ...(profileArn ? { profileArn } : {}) };
}

/**
 * `JSON.stringify(body)` with `conversationState.conversationId` set to `conversationId` and
 * `profileArn` added, given `measured = JSON.stringify(body)`. Falls back to serializing when the
 * text does not have the expected shape.
 */
export function accountBodyText(measured: string, body: KiroGenerateRequest, conversationId: string, profileArn: string | undefined): string {
  const current = `"conversationId":${JSON.stringify(body.conversationState.conversationId)}`;
  const at = measured.indexOf(current);
  // The key with its exact value once, and no profileArn in the body to replace in place.
  if (body.profileArn !== undefined || at === -1 || measured.indexOf(current, at + 1) !== -1 || !measured.endsWith('}')) {
    return JSON.stringify(accountBody(body, conversationId, profileArn));
  }
  const swapped = `${measured.slice(0, at)}"conversationId":${JSON.stringify(conversationId)}${measured.slice(at + current.length)}`;
  return profileArn ? `${swapped.slice(0, -1)},"profileArn":${JSON.stringify(profileArn)}}` : swapped;
}
