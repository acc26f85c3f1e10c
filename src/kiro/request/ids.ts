// Conversation ids. Real IDE captures use plain UUIDs, one per session; a session-stable id also
// lets Kiro's prompt cache hit (docs/kiro-protocol.md#request-body). We hash the client's
// session key rather than sending it: the key may carry user or account identifiers, and a hash
// keeps it stable without disclosing it.
import { createHash, randomUUID } from 'node:crypto';

const NAMESPACE = 'kiro-bridge/conversation/v1\0';

/** A UUID-v4-shaped id derived from a key: same key, same id. */
export function uuidFromKey(key: string): string {
  const bytes = createHash('sha256').update(NAMESPACE).update(key, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The conversation id for a request: stable per session key, else a fresh random UUID. */
export function conversationIdFor(sessionKey: string | undefined): string {
  return sessionKey ? uuidFromKey(sessionKey) : randomUUID();
}

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
