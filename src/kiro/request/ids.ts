// Conversation ids. Kiro's prompt cache hits only while `conversationState.conversationId` stays
// the same across the requests of one conversation, as the Kiro IDE keeps it for one chat
// (docs/kiro-protocol.md#request-body). So the id is derived, never random:
// - from the client's session when it names one (Claude Code's session id, Codex's
//   prompt_cache_key, OpenAI `user` / `safety_identifier`): every request of the session shares
//   it;
// - otherwise from the start of the conversation, the system prompt and the first user message:
//   they stay the same while the conversation grows, so its turns share an id without any help
//   from the client. Two conversations that start the same way share one too, which is harmless:
//   Kiro gets the whole history with every request, and their common prefix is exactly what its
//   cache can reuse.
// Keys are hashed, never sent: a session key may carry user or account identifiers. The hash is
// also scoped to the Kiro account that serves the request, so one conversation id never links two
// accounts of the pool.
import { createHash } from 'node:crypto';
import type { ChatRequest } from '../types';

const NAMESPACE = 'kiro-bridge/conversation/v1\0';

/** A UUID-v4-shaped id derived from a key: same key, same id. */
function uuidFromKey(key: string): string {
  const bytes = createHash('sha256').update(NAMESPACE).update(key, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Where a conversation id came from: the client's session, or the start of the conversation. */
export type ConversationSource = 'session' | 'prompt';

/** The key of a conversation: the client's session, else a digest of how the conversation starts. */
export function conversationKey(request: Pick<ChatRequest, 'sessionKey' | 'system' | 'messages'>): { key: string; source: ConversationSource } {
  if (request.sessionKey) return { key: `session\0${request.sessionKey}`, source: 'session' };
  const hash = createHash('sha256');
  for (const block of Array.isArray(request.system) ? request.system : []) hash.update(`system\0${block}\0`, 'utf8');
  const first = (Array.isArray(request.messages) ? request.messages : []).find((m) => m?.role === 'user');
  hash.update('first\0', 'utf8');
  hash.update(JSON.stringify(first?.content ?? null), 'utf8');
  return { key: `prompt\0${hash.digest('hex')}`, source: 'prompt' };
}

/** The conversation id for a request served by the account `scope` (its pool id). */
export function conversationIdFor(request: Pick<ChatRequest, 'sessionKey' | 'system' | 'messages'>, scope = ''): string {
  return conversationIds(request)(scope);
}

/**
 * The conversation ids of one request, by account: the key (a digest of the system prompt and
 * the first message when the client names no session) is computed once for all of them.
 */
export function conversationIds(request: Pick<ChatRequest, 'sessionKey' | 'system' | 'messages'>): (scope?: string) => string {
  const { key } = conversationKey(request);
  return (scope = '') => uuidFromKey(`${scope}\0${key}`);
}

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
