// Local token counting: Kiro reports no token counts, so the bridge counts input before the call
// (for message_start, count_tokens and Claude Code's compaction) and output over what it emitted.
//
// Text is counted with Anthropic's published Claude tokenizer (`@anthropic-ai/tokenizer`'s
// claude.json), run by our own counting-only encoder (./bpe: the same counts as the package, a
// compact rank table instead of ~70 MB of Map entries). That tokenizer is the one Anthropic
// published for earlier Claude models; current models use an unpublished one, so counts are
// close, not exact (README: "How exact the token numbers are"). The ranks are read and the table
// built on the first count, not at start-up. Claude Code resends the whole conversation every
// turn, so every string is counted once and remembered in an LRU keyed by a hash of its text.
import { createHash } from 'node:crypto';
import { BpeCounter, type BpeDefinition, type CompactBpeDefinition } from './bpe';
import type { ChatRequest, ContentBlock, ImageBlock, ToolDefinition } from './types';

/** Per-message framing (role markers, turn separators), calibrated on Anthropic's count_tokens. */
export const MESSAGE_OVERHEAD = 3;
/** Once per request: the final assistant turn marker. */
export const REQUEST_OVERHEAD = 4;
/** Per system block. */
export const SYSTEM_BLOCK_OVERHEAD = 2;
/** Framing around each tool_use / tool_result block (ids, tags). */
export const TOOL_BLOCK_OVERHEAD = 10;
/**
 * The hidden tool-use system prompt Anthropic adds when tools are present (its pricing docs:
 * 346 tokens for tool_choice auto/none, 313 for any/tool on current models).
 */
export const TOOL_PROMPT_AUTO = 346;
export const TOOL_PROMPT_FORCED = 313;
/** Anthropic's documented image estimate: width × height / 750, images being scaled to ≤ 1.15 MP. */
export const IMAGE_PIXELS_PER_TOKEN = 750;
export const IMAGE_MAX_PIXELS = 1_150_000;
export const IMAGE_MAX_EDGE = 1568;
/** When an image's size cannot be read: the cost of a full-size image. */
export const IMAGE_FALLBACK_TOKENS = Math.ceil(IMAGE_MAX_PIXELS / IMAGE_PIXELS_PER_TOKEN);

/** Strings shorter than this are their own cache key; longer ones are keyed by a hash. */
const HASH_FROM_CHARS = 96;

let tokenizer: BpeCounter | undefined;

function getTokenizer(): BpeCounter {
  if (!tokenizer) {
    // Required here, not imported: the bundles then evaluate the 700 KB rank list only when the
    // first count needs it. In the bundles it is already compact (see CompactRanks).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred on purpose (see above)
    const definition = require('@anthropic-ai/tokenizer/claude.json') as BpeDefinition | CompactBpeDefinition;
    tokenizer = new BpeCounter(definition);
  }
  return tokenizer;
}

/** True once the first count has built the tokenizer. */
export function tokenizerLoaded(): boolean {
  return tokenizer !== undefined;
}

/** Tokens of `text` with the Claude tokenizer, uncached (NFKC first, like Anthropic's package). */
export function countTextUncached(text: string): number {
  if (!text) return 0;
  return getTokenizer().count(text.normalize('NFKC'));
}

/** A least-recently-used cache of counts (Map keeps insertion order; a hit re-inserts). */
class CountCache {
  private readonly map = new Map<string, number>();
  hits = 0;
  misses = 0;
  constructor(private readonly capacity: number) {}

  get(key: string): number | undefined {
    const value = this.map.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: string, value: number): void {
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }

  get size(): number {
    return this.map.size;
  }
}

export interface TokenCounterOptions {
  /** How many distinct strings to remember (default 20 000). */
  cacheEntries?: number;
}

type CountableRequest = Pick<ChatRequest, 'system' | 'messages' | 'tools' | 'toolChoice'>;

export class TokenCounter {
  private readonly cache: CountCache;
  /** Characters tokenized (not found in the cache) since the async count last yielded. */
  private uncountedChars = 0;

  constructor(options: TokenCounterOptions = {}) {
    this.cache = new CountCache(options.cacheEntries ?? 20_000);
  }

  get cacheStats(): { hits: number; misses: number; size: number } {
    return { hits: this.cache.hits, misses: this.cache.misses, size: this.cache.size };
  }

  /** Tokens of one string, remembered. */
  text(text: string): number {
    if (!text) return 0;
    const key = text.length < HASH_FROM_CHARS ? `s${text}` : `h${text.length}:${createHash('sha1').update(text).digest('base64')}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    this.uncountedChars += text.length;
    const count = countTextUncached(text);
    this.cache.set(key, count);
    return count;
  }

  /** Input tokens of a request: system, messages, tools, images, plus framing overhead. */
  countRequest(request: CountableRequest): number {
    let total = 0;
    for (const part of this.parts(request)) total += part;
    return total;
  }

  /**
   * The same count, giving the event loop a turn after every `yieldEveryChars` characters that
   * had to be tokenized (cache misses): a long first prompt (tokenizing runs at a few MB/s) then
   * does not stall the other requests' streams.
   */
  async countRequestAsync(request: CountableRequest, yieldEveryChars = 64 * 1024): Promise<number> {
    let total = 0;
    this.uncountedChars = 0;
    for (const part of this.parts(request)) {
      total += part;
      if (this.uncountedChars >= yieldEveryChars) {
        this.uncountedChars = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return total;
  }

  /** Token counts of a request's parts, one per block (plus the overheads). */
  private *parts(request: CountableRequest): Generator<number, void, undefined> {
    yield REQUEST_OVERHEAD;
    for (const block of request.system) yield SYSTEM_BLOCK_OVERHEAD + this.text(block);
    for (const message of request.messages) {
      yield MESSAGE_OVERHEAD;
      for (const block of message.content) yield this.block(block);
    }
    if (request.tools.length) {
      const forced = request.toolChoice?.type === 'any' || request.toolChoice?.type === 'tool';
      yield forced ? TOOL_PROMPT_FORCED : TOOL_PROMPT_AUTO;
      for (const tool of request.tools) yield this.tool(tool);
    }
  }

  private tool(tool: ToolDefinition): number {
    // The model sees each definition as JSON; count it as such.
    return this.text(JSON.stringify({ name: tool.name, description: tool.description, input_schema: tool.inputSchema }));
  }

  private block(block: ContentBlock): number {
    switch (block.type) {
      case 'text':
        return this.text(block.text);
      case 'thinking':
        return this.text(block.thinking);
      case 'image':
        return imageTokens(block);
      case 'tool_use':
        return TOOL_BLOCK_OVERHEAD + this.text(block.name) + this.text(JSON.stringify(block.input ?? {}));
      case 'tool_result': {
        let total = TOOL_BLOCK_OVERHEAD;
        for (const part of block.content) total += part.type === 'text' ? this.text(part.text) : imageTokens(part);
        return total;
      }
      case 'redacted_thinking':
        // Not sent back to Kiro (kiro/request/convert.ts), so not part of the prompt.
        return 0;
      default:
        return 0;
    }
  }
}

/** Anthropic's estimate for one image, from its pixel size (read from the file header). */
export function imageTokens(image: Pick<ImageBlock, 'data'>): number {
  const size = imageSize(image.data);
  if (!size) return IMAGE_FALLBACK_TOKENS;
  let { width, height } = size;
  const edge = Math.max(width, height);
  if (edge > IMAGE_MAX_EDGE) {
    width = (width * IMAGE_MAX_EDGE) / edge;
    height = (height * IMAGE_MAX_EDGE) / edge;
  }
  const pixels = Math.min(width * height, IMAGE_MAX_PIXELS);
  return Math.max(1, Math.ceil(pixels / IMAGE_PIXELS_PER_TOKEN));
}

/** Width and height from a PNG, GIF, JPEG or WebP header given as base64, if readable. */
export function imageSize(base64: string): { width: number; height: number } | undefined {
  // JPEG size markers can sit after EXIF data; 256 KiB of base64 covers real files.
  const head = Buffer.from(base64.slice(0, 256 * 1024 - ((256 * 1024) % 4)), 'base64');
  if (head.length >= 24 && head.readUInt32BE(0) === 0x89504e47 && head.toString('latin1', 12, 16) === 'IHDR') {
    return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
  }
  if (head.length >= 10 && head.toString('latin1', 0, 4) === 'GIF8') {
    return { width: head.readUInt16LE(6), height: head.readUInt16LE(8) };
  }
  if (head.length >= 30 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') {
    const kind = head.toString('latin1', 12, 16);
    if (kind === 'VP8X') return { width: 1 + head.readUIntLE(24, 3), height: 1 + head.readUIntLE(27, 3) };
    if (kind === 'VP8 ') return { width: head.readUInt16LE(26) & 0x3fff, height: head.readUInt16LE(28) & 0x3fff };
    if (kind === 'VP8L') {
      const bits = head.readUInt32LE(21);
      return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
    }
    return undefined;
  }
  if (head.length >= 4 && head[0] === 0xff && head[1] === 0xd8) {
    let offset = 2;
    while (offset + 9 < head.length) {
      if (head[offset] !== 0xff) return undefined;
      const marker = head[offset + 1]!;
      if (marker === 0xff) {
        offset++;
        continue;
      }
      const length = head.readUInt16BE(offset + 2);
      // SOF0–SOF15 carry the frame size (not DHT C4, JPG C8, DAC CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: head.readUInt16BE(offset + 7), height: head.readUInt16BE(offset + 5) };
      }
      offset += 2 + length;
    }
  }
  return undefined;
}
