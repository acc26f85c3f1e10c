// A bounded, in-memory store of recent Responses, so `previous_response_id` works (the openai
// SDK's conversation helpers and scripts chain responses that way) and `GET /v1/responses/{id}`
// can answer. Nothing is written to disk; a restart forgets everything. Bounded twice: by count
// and by an estimate of the memory the conversations hold (their JSON size), least recently used
// out first. Clients that send `store: false` (Codex does) are never stored.
//
// The output items of what is kept are indexed by their ids, so an `item_reference` in a later
// request (the Vercel AI SDK refers to earlier messages and reasoning that way) finds the item.
// The index holds only items of responses still in the store: evicting a response drops them.
import type { ChatMessage } from '../../kiro/types';

/** An output item as the client received it: every one carries the id the bridge gave it. */
export interface StoredItem {
  id: string;
  type: string;
  /** A reasoning item's envelope (kept even when the client's copy goes without it). */
  encrypted_content?: string;
}

export interface StoredResponse {
  id: string;
  /** System/developer text from the input items (instructions are not carried over, as at OpenAI). */
  system: string[];
  /** The conversation up to and including this response's output, in neutral form. */
  messages: ChatMessage[];
  /** The Response object as the client received it. */
  response: unknown;
  /** Its output items (also inside `response`), found by id for `item_reference`. */
  items: readonly StoredItem[];
}

export interface ResponsesStoreOptions {
  maxEntries?: number;
  /** Approximate memory budget in bytes (JSON length of what is kept). */
  maxBytes?: number;
}

export const DEFAULT_STORE_ENTRIES = 200;
export const DEFAULT_STORE_BYTES = 64 * 1024 * 1024;

export class ResponsesStore {
  private readonly entries = new Map<string, { value: StoredResponse; bytes: number }>();
  /** Output item id → the id of the stored response that holds it. */
  private readonly itemOwners = new Map<string, string>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(options: ResponsesStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_STORE_ENTRIES;
    this.maxBytes = options.maxBytes ?? DEFAULT_STORE_BYTES;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes held (estimated). */
  get heldBytes(): number {
    return this.bytes;
  }

  /** The stored response (and marks it recently used). */
  get(id: string): StoredResponse | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.value;
  }

  /** The output item with this id of a stored response (and marks that response recently used). */
  item(itemId: string): StoredItem | undefined {
    const owner = this.itemOwners.get(itemId);
    if (owner === undefined) return undefined;
    return this.get(owner)?.items.find((item) => item.id === itemId);
  }

  /** Keeps a response; false when it alone is larger than the whole budget (then nothing is kept). */
  put(value: StoredResponse): boolean {
    this.delete(value.id);
    const bytes =
      JSON.stringify(value.messages).length +
      JSON.stringify(value.response).length +
      value.system.reduce((n, s) => n + s.length, 0) +
      hiddenEnvelopeBytes(value);
    if (bytes > this.maxBytes || this.maxEntries < 1) return false;
    this.entries.set(value.id, { value, bytes });
    this.bytes += bytes;
    for (const item of value.items) this.itemOwners.set(item.id, value.id);
    for (const [id] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.delete(id);
    }
    return true;
  }

  delete(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.bytes -= entry.bytes;
    for (const item of entry.value.items) {
      if (this.itemOwners.get(item.id) === id) this.itemOwners.delete(item.id);
    }
    return true;
  }

  /** Item ids indexed (those of the responses held). */
  get indexedItems(): number {
    return this.itemOwners.size;
  }

  clear(): void {
    this.entries.clear();
    this.itemOwners.clear();
    this.bytes = 0;
  }
}

/**
 * The items are mostly the response's own objects, already in its size; a reasoning item the
 * client got without its envelope (no `include`) is a copy, and the envelope kept in the stored
 * item is counted here.
 */
function hiddenEnvelopeBytes(value: StoredResponse): number {
  const output = (value.response as { output?: unknown } | null)?.output;
  const shown = new Set<unknown>(Array.isArray(output) ? output : []);
  let bytes = 0;
  for (const item of value.items) if (item.encrypted_content !== undefined && !shown.has(item)) bytes += item.encrypted_content.length;
  return bytes;
}
