// A bounded, in-memory store of recent Responses, so `previous_response_id` works (the openai
// SDK's conversation helpers and scripts chain responses that way) and `GET /v1/responses/{id}`
// can answer. Nothing is written to disk; a restart forgets everything. Bounded twice: by count
// and by an estimate of the memory the conversations hold (their JSON size), least recently used
// out first. Clients that send `store: false` (Codex does) are never stored.
import type { ChatMessage } from '../../kiro/types';

export interface StoredResponse {
  id: string;
  /** System/developer text from the input items (instructions are not carried over, as at OpenAI). */
  system: string[];
  /** The conversation up to and including this response's output, in neutral form. */
  messages: ChatMessage[];
  /** The Response object as the client received it. */
  response: unknown;
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

  /** Keeps a response; false when it alone is larger than the whole budget (then nothing is kept). */
  put(value: StoredResponse): boolean {
    this.delete(value.id);
    const bytes = JSON.stringify(value.messages).length + JSON.stringify(value.response).length + value.system.reduce((n, s) => n + s.length, 0);
    if (bytes > this.maxBytes || this.maxEntries < 1) return false;
    this.entries.set(value.id, { value, bytes });
    this.bytes += bytes;
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= entry.bytes;
    }
    return true;
  }

  delete(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.bytes -= entry.bytes;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
