// Counting tokens with a tiktoken-style byte-pair encoder, built for a long-running server. It
// gives the same counts as tiktoken itself (what Anthropic's @anthropic-ai/tokenizer runs), but:
// - The ranks live in one byte array and an open-addressing hash table of typed arrays (about
//   1.5 MB, built in milliseconds), not a Map of 65 000 strings and Uint8Arrays (js-tiktoken:
//   ~70 MB of RSS and ~200 ms to build). Lookups hash bytes in place; nothing is allocated per
//   piece.
// - A piece is merged by tiktoken's rule (the lowest-ranked adjacent pair first, the leftmost on a
//   tie). Short pieces use tiktoken's own quadratic scan; long ones a heap, O(n log n), so a run of
//   50 000 letters costs milliseconds and is still counted exactly.
// - The pre-split regex is bounded, so a huge run cannot overflow V8's regex stack (a long run of
//   emoji does with the unbounded one); a match that reaches the bound is extended by hand to
//   where the unbounded regex would have ended it.
// Only counting: the encoder never returns token ids.

/** The parts of a tiktoken definition (e.g. @anthropic-ai/tokenizer's claude.json) used here. */
export interface BpeDefinition {
  pat_str: string;
  special_tokens: Record<string, number>;
  /** tiktoken's compact rank list: "! <first rank> <base64 token> <base64 token> …" lines. */
  bpe_ranks: string;
}

/**
 * A rank table in the form it is built from fastest: the bundles carry claude.json this way (the
 * build converts it, build/esbuild-plugins.mjs), so the first count decodes two base64 strings
 * natively instead of 65 000 tokens one by one in not-yet-optimised JavaScript (~8 ms against
 * ~40 ms).
 */
export interface CompactRanks {
  /** Every token's bytes, back to back (base64). */
  bytes: string;
  /** Each token's length in bytes (little-endian uint16, base64). */
  lengths: string;
  /** Each token's rank (little-endian int32, base64), or `firstRank` when they count up from it. */
  ranks?: string;
  firstRank?: number;
}

/** A definition whose rank list is already compact (what the bundles carry). */
export interface CompactBpeDefinition {
  pat_str: string;
  special_tokens: Record<string, number>;
  compact: CompactRanks;
}

/**
 * The pre-split pattern this encoder implements (GPT-2's, which Claude's tokenizer uses). The
 * extension of bounded matches below knows its four character classes, so another pattern is
 * refused rather than split wrongly.
 */
export const PRE_SPLIT_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/**
 * The pattern as tiktoken runs it: its regex engine (Rust's) reads `\s` as Unicode White_Space,
 * which JavaScript's `\s` is not (it lacks U+0085 and adds U+FEFF).
 */
const SPLIT_SOURCE = PRE_SPLIT_PATTERN.replaceAll('\\s', '\\p{White_Space}').replaceAll('\\S', '\\P{White_Space}');
/** Repetitions a quantifier of the bounded pre-split may take; a longer match is extended by hand. */
const BOUND = 64;
/** Pieces up to this many bytes are merged by the quadratic scan (fast for short pieces). */
const SCAN_MAX_BYTES = 48;
/**
 * Pieces longer than this (a run of one character class with no space, over 256 KB) are merged
 * in slices of this size, so the heap's working arrays stay under 10 MB. Never seen in text or
 * code; the count of such a run may then differ from tiktoken's by a token per slice.
 */
export const MAX_EXACT_PIECE_BYTES = 1 << 18;
/** Heap keys are rank × POSITIONS + position (exact in a double: ranks stay below 2^31). */
const POSITIONS = MAX_EXACT_PIECE_BYTES;
const NO_RANK = 0x7fffffff;

const CLASS_RUN = {
  letter: /\p{L}{1,4096}/uy,
  number: /\p{N}{1,4096}/uy,
  other: /[^\p{White_Space}\p{L}\p{N}]{1,4096}/uy,
  space: /\p{White_Space}{1,4096}/uy,
};
const LETTER = /\p{L}/u;
const NUMBER = /\p{N}/u;
const SPACE = /\p{White_Space}/u;

const BASE64_VALUES = (() => {
  // -64 for an invalid character: shifted into its place in a group it still sets bit 31.
  const values = new Int32Array(128).fill(-64);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;
  return values;
})();

/** The ranks of a vocabulary: token bytes → rank, in typed arrays. */
export class RankTable {
  /** Longest token in bytes: a longer range is never a token. */
  readonly maxTokenBytes: number;

  private constructor(
    /** Every token's bytes, back to back. */
    private readonly bytes: Uint8Array,
    /** Entry i's bytes are bytes[starts[i], starts[i + 1]). */
    private readonly starts: Uint32Array,
    private readonly ranks: Int32Array,
    /** Open addressing with linear probing: entry index + 1, 0 when empty. */
    private readonly slots: Int32Array,
    maxTokenBytes: number,
  ) {
    this.maxTokenBytes = maxTokenBytes;
  }

  /** Parses tiktoken's compact rank list (the format of claude.json's `bpe_ranks`). */
  static parse(bpeRanks: string): RankTable {
    let tokenCount = 0;
    for (let i = bpeRanks.indexOf(' '); i !== -1; i = bpeRanks.indexOf(' ', i + 1)) tokenCount++;
    const bytes = new Uint8Array(Math.ceil((bpeRanks.length * 3) / 4));
    const starts = new Uint32Array(tokenCount + 1);
    const ranks = new Int32Array(tokenCount);
    const slots = new Int32Array(slotCount(tokenCount));
    const table = new RankTable(bytes, starts, ranks, slots, 0);
    let entries = 0;
    let used = 0;
    let maxTokenBytes = 0;
    for (const line of bpeRanks.split('\n')) {
      if (!line) continue;
      // "<marker> <first rank> <token> <token> …", ranks counting up from the first.
      const afterMarker = line.indexOf(' ');
      const afterRank = line.indexOf(' ', afterMarker + 1);
      if (afterMarker === -1 || afterRank === -1) continue;
      let rank = Number.parseInt(line.slice(afterMarker + 1, afterRank), 10);
      for (let start = afterRank + 1; start < line.length; rank++) {
        let end = line.indexOf(' ', start);
        if (end === -1) end = line.length;
        const length = decodeBase64(line, start, end, bytes, used);
        if (length < 0) throw new Error(`the token list has invalid base64 at ${start}`);
        starts[entries + 1] = used + length;
        const slot = table.slotOf(bytes, used, used + length);
        if (slots[slot] !== 0) {
          // Like tiktoken, a token listed twice keeps its last rank.
          ranks[slots[slot]! - 1] = rank;
        } else {
          slots[slot] = entries + 1;
          ranks[entries] = rank;
          entries++;
          used += length;
          if (length > maxTokenBytes) maxTokenBytes = length;
        }
        start = end + 1;
      }
    }
    return new RankTable(bytes.slice(0, used), starts.slice(0, entries + 1), ranks.slice(0, entries), slots, maxTokenBytes);
  }

  /** The table from its compact form (see CompactRanks); its tokens are distinct. */
  static fromCompact(compact: CompactRanks): RankTable {
    const bytes = new Uint8Array(Buffer.from(compact.bytes, 'base64'));
    const lengths = Buffer.from(compact.lengths, 'base64');
    const count = lengths.length / 2;
    const starts = new Uint32Array(count + 1);
    let maxTokenBytes = 0;
    for (let i = 0; i < count; i++) {
      // Byte by byte (little-endian): Buffer's read methods are slow before V8 optimises the loop.
      const length = lengths[2 * i]! | (lengths[2 * i + 1]! << 8);
      starts[i + 1] = starts[i]! + length;
      if (length > maxTokenBytes) maxTokenBytes = length;
    }
    if (starts[count] !== bytes.length) throw new Error('the compact rank table is inconsistent (token lengths do not add up)');
    let ranks: Int32Array;
    if (compact.ranks !== undefined) {
      const raw = Buffer.from(compact.ranks, 'base64');
      ranks = new Int32Array(count);
      for (let i = 0; i < count; i++) ranks[i] = raw[4 * i]! | (raw[4 * i + 1]! << 8) | (raw[4 * i + 2]! << 16) | (raw[4 * i + 3]! << 24);
    } else {
      ranks = new Int32Array(count);
      for (let i = 0; i < count; i++) ranks[i] = compact.firstRank! + i;
    }
    const table = new RankTable(bytes, starts, ranks, new Int32Array(slotCount(count)), maxTokenBytes);
    for (let entry = 0; entry < count; entry++) {
      const slot = table.slotOf(bytes, starts[entry]!, starts[entry + 1]!);
      if (table.slots[slot] !== 0) throw new Error('the compact rank table lists a token twice');
      table.slots[slot] = entry + 1;
    }
    return table;
  }

  /** This table in compact form (what the build stores in the bundles). */
  toCompact(): CompactRanks {
    const count = this.ranks.length;
    const lengths = Buffer.alloc(2 * count);
    for (let i = 0; i < count; i++) lengths.writeUInt16LE(this.starts[i + 1]! - this.starts[i]!, 2 * i);
    const compact: CompactRanks = {
      bytes: Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('base64'),
      lengths: lengths.toString('base64'),
    };
    const first = this.ranks[0] ?? 0;
    if (this.ranks.every((rank, i) => rank === first + i)) compact.firstRank = first;
    else compact.ranks = Buffer.from(this.ranks.buffer, this.ranks.byteOffset, this.ranks.byteLength).toString('base64');
    return compact;
  }

  /** The number of tokens in the table. */
  get size(): number {
    return this.ranks.length;
  }

  /** Bytes held by the table's arrays. */
  get byteSize(): number {
    return this.bytes.byteLength + this.starts.byteLength + this.ranks.byteLength + this.slots.byteLength;
  }

  /** The rank of `piece[start, end)`, or NO_RANK when those bytes are not a token. */
  rank(piece: Uint8Array, start: number, end: number): number {
    if (end - start > this.maxTokenBytes) return NO_RANK;
    const entry = this.entryOf(piece, start, end);
    return entry < 0 ? NO_RANK : this.ranks[entry]!;
  }

  private entryOf(piece: Uint8Array, start: number, end: number): number {
    return this.slots[this.slotOf(piece, start, end)]! - 1;
  }

  /** The slot holding `piece[start, end)`, or the empty slot where it would go. */
  private slotOf(piece: Uint8Array, start: number, end: number): number {
    const { slots, starts, bytes } = this;
    const mask = slots.length - 1;
    const length = end - start;
    for (let slot = hashBytes(piece, start, end) & mask; ; slot = (slot + 1) & mask) {
      const stored = slots[slot]!;
      if (stored === 0) return slot;
      const at = starts[stored - 1]!;
      if (starts[stored]! - at !== length) continue;
      let same = true;
      for (let i = 0; i < length; i++) {
        if (bytes[at + i] !== piece[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return slot;
    }
  }
}

/** Hash slots for `tokens` entries: a power of two, at most half full. */
function slotCount(tokens: number): number {
  let capacity = 1024;
  while (capacity < tokens * 2) capacity *= 2;
  return capacity;
}

/** FNV-1a over the bytes, with a final mix so the low bits (the slot) depend on every byte. */
function hashBytes(piece: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ piece[i]!, 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  return (hash ^ (hash >>> 13)) >>> 0;
}

/** Decodes base64 `text[start, end)` into `out` at `at`; the byte count, or -1 if invalid. */
function decodeBase64(text: string, start: number, end: number, out: Uint8Array, at: number): number {
  while (end > start && text.charCodeAt(end - 1) === 61) end--; // '=' padding
  let written = at;
  let i = start;
  // Four characters make three bytes; the last one to three characters make what is left.
  for (; i + 4 <= end; i += 4) {
    const group = (sextet(text, i) << 18) | (sextet(text, i + 1) << 12) | (sextet(text, i + 2) << 6) | sextet(text, i + 3);
    if (group < 0) return -1;
    out[written++] = group >> 16;
    out[written++] = (group >> 8) & 0xff;
    out[written++] = group & 0xff;
  }
  const left = end - i;
  if (left === 1) return -1;
  if (left >= 2) {
    const group = (sextet(text, i) << 18) | (sextet(text, i + 1) << 12) | (left === 3 ? sextet(text, i + 2) << 6 : 0);
    if (group < 0) return -1;
    out[written++] = group >> 16;
    if (left === 3) out[written++] = (group >> 8) & 0xff;
  }
  return written - at;
}

/** The 6-bit value of a base64 character; invalid ones make the group negative (bit 31 set). */
function sextet(text: string, i: number): number {
  const code = text.charCodeAt(i);
  return code < 128 ? BASE64_VALUES[code]! : -1;
}

/** Counts the tokens of (NFKC-normalized) text, special tokens allowed, as tiktoken's encode(text, 'all'). */
export class BpeCounter {
  readonly table: RankTable;
  private readonly special: RegExp | undefined;
  private readonly split = new RegExp(SPLIT_SOURCE.replaceAll('+', `{1,${BOUND}}`), 'gu');
  private scratch = new Uint8Array(4096);
  // The quadratic scan's working arrays (part starts and pair ranks), reused.
  private readonly scanStarts = new Int32Array(SCAN_MAX_BYTES + 1);
  private readonly scanRanks = new Int32Array(SCAN_MAX_BYTES + 1);

  constructor(definition: BpeDefinition | CompactBpeDefinition) {
    if (definition.pat_str !== PRE_SPLIT_PATTERN) throw new Error(`unsupported pre-split pattern: ${definition.pat_str}`);
    this.table = 'compact' in definition ? RankTable.fromCompact(definition.compact) : RankTable.parse(definition.bpe_ranks);
    const specials = Object.keys(definition.special_tokens);
    this.special = specials.length ? new RegExp(specials.map((s) => s.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&')).join('|'), 'g') : undefined;
  }

  count(text: string): number {
    if (!text) return 0;
    if (!this.special) return this.countOrdinary(text);
    let total = 0;
    let start = 0;
    this.special.lastIndex = 0;
    for (let match = this.special.exec(text); match; match = this.special.exec(text)) {
      if (match.index > start) total += this.countOrdinary(text.slice(start, match.index));
      total += 1;
      start = match.index + match[0].length;
    }
    return total + (start === 0 ? this.countOrdinary(text) : start < text.length ? this.countOrdinary(text.slice(start)) : 0);
  }

  /** Text without special tokens: pre-split into pieces, each one a token or merged. */
  private countOrdinary(text: string): number {
    const split = this.split;
    let total = 0;
    split.lastIndex = 0;
    for (let match = split.exec(text); match; match = split.exec(text)) {
      const start = match.index;
      let end = start + match[0].length;
      if (end - start >= BOUND) {
        end = unboundedEnd(text, start, end);
        split.lastIndex = end;
      }
      total += this.countPiece(text, start, end);
    }
    return total;
  }

  private countPiece(text: string, start: number, end: number): number {
    if (this.scratch.length < (end - start) * 3) this.scratch = new Uint8Array((end - start) * 3);
    const bytes = this.scratch;
    const length = encodeUtf8(text, start, end, bytes);
    if (length === 1 || this.table.rank(bytes, 0, length) !== NO_RANK) return 1;
    if (length <= SCAN_MAX_BYTES) return this.mergeByScan(bytes, length);
    let total = 0;
    for (let at = 0; at < length;) {
      let sliceEnd = Math.min(length, at + MAX_EXACT_PIECE_BYTES);
      // Never cut inside a UTF-8 sequence.
      while (sliceEnd < length && (bytes[sliceEnd]! & 0xc0) === 0x80) sliceEnd--;
      total += mergeByHeap(this.table, at === 0 ? bytes : bytes.subarray(at, sliceEnd), sliceEnd - at);
      at = sliceEnd;
    }
    return total;
  }

  /** tiktoken's merge: repeatedly join the lowest-ranked adjacent pair (leftmost on a tie). Returns the parts left. */
  private mergeByScan(piece: Uint8Array, length: number): number {
    const table = this.table;
    const starts = this.scanStarts;
    const ranks = this.scanRanks;
    // Part i is piece[starts[i], starts[i + 1]); ranks[i] ranks joining parts i and i + 1.
    for (let i = 0; i <= length; i++) starts[i] = i;
    for (let i = 0; i < length - 1; i++) ranks[i] = table.rank(piece, i, i + 2);
    ranks[length - 1] = NO_RANK;
    let parts = length;
    while (parts > 1) {
      let lowest = NO_RANK;
      let at = -1;
      for (let i = 0; i < parts - 1; i++) {
        if (ranks[i]! < lowest) {
          lowest = ranks[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      for (let i = at + 1; i < parts; i++) starts[i] = starts[i + 1]!;
      for (let i = at + 1; i < parts - 1; i++) ranks[i] = ranks[i + 1]!;
      parts--;
      ranks[at] = at < parts - 1 ? table.rank(piece, starts[at]!, starts[at + 2]!) : NO_RANK;
      if (at > 0) ranks[at - 1] = table.rank(piece, starts[at - 1]!, starts[at + 1]!);
    }
    return parts;
  }
}

/**
 * The same merge for long pieces: parts in a linked list, candidate pairs in a binary heap keyed
 * by (rank, position), so each step costs O(log n) instead of a scan. A pair whose parts changed
 * stays in the heap and is skipped when it comes up (its rank no longer matches).
 */
function mergeByHeap(table: RankTable, piece: Uint8Array, length: number): number {
  // A part is named by its first byte; next[s] is where the following part starts (length at the end).
  const next = new Int32Array(length);
  const prev = new Int32Array(length);
  // pairRank[s]: the rank of joining part s with the part after it (NO_RANK for none, or s is gone).
  const pairRank = new Int32Array(length);
  // Keys rank × POSITIONS + position: the lowest rank first, the leftmost on a tie. Each join
  // adds at most two pairs.
  const heap = new Float64Array(3 * length);
  let size = 0;
  for (let s = 0; s < length; s++) {
    next[s] = s + 1;
    prev[s] = s - 1;
    const rank = s + 1 < length ? table.rank(piece, s, s + 2) : NO_RANK;
    pairRank[s] = rank;
    if (rank !== NO_RANK) heap[size++] = rank * POSITIONS + s;
  }
  const down = (i: number) => {
    const key = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && heap[child + 1]! < heap[child]!) child++;
      if (heap[child]! >= key) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = key;
  };
  const push = (key: number) => {
    let i = size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= key) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = key;
  };
  for (let i = (size >> 1) - 1; i >= 0; i--) down(i);

  let parts = length;
  while (size > 0) {
    const key = heap[0]!;
    heap[0] = heap[--size]!;
    if (size > 0) down(0);
    const s = key % POSITIONS;
    const rank = (key - s) / POSITIONS;
    if (pairRank[s] !== rank) continue;
    const joined = next[s]!;
    const after = next[joined]!;
    next[s] = after;
    if (after < length) prev[after] = s;
    pairRank[joined] = NO_RANK;
    parts--;
    const right = after < length ? table.rank(piece, s, next[after]!) : NO_RANK;
    pairRank[s] = right;
    if (right !== NO_RANK) push(right * POSITIONS + s);
    const left = prev[s]!;
    if (left >= 0) {
      const leftRank = table.rank(piece, left, after);
      pairRank[left] = leftRank;
      if (leftRank !== NO_RANK) push(leftRank * POSITIONS + left);
    }
  }
  return parts;
}

/** Writes text[start, end) as UTF-8 into `out` (a lone surrogate becomes U+FFFD, as TextEncoder does); the byte count. */
function encodeUtf8(text: string, start: number, end: number, out: Uint8Array): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      out[n++] = code;
      continue;
    }
    if (code < 0x800) {
      out[n++] = 0xc0 | (code >> 6);
      out[n++] = 0x80 | (code & 0x3f);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const low = i + 1 < end ? text.charCodeAt(i + 1) : 0;
      if (code <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        const point = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        out[n++] = 0xf0 | (point >> 18);
        out[n++] = 0x80 | ((point >> 12) & 0x3f);
        out[n++] = 0x80 | ((point >> 6) & 0x3f);
        out[n++] = 0x80 | (point & 0x3f);
        i++;
        continue;
      }
      code = 0xfffd;
    }
    out[n++] = 0xe0 | (code >> 12);
    out[n++] = 0x80 | ((code >> 6) & 0x3f);
    out[n++] = 0x80 | (code & 0x3f);
  }
  return n;
}

/**
 * Where the unbounded pre-split would end a match that the bounded one ended at `end` (a match
 * at least BOUND code units long may have been cut at the bound). A run of letters, digits or
 * other symbols goes on while the class does; whitespace takes its whole run, less the last
 * character when a non-space follows (`\s+(?!\S)`).
 */
function unboundedEnd(text: string, start: number, end: number): number {
  const lastCode = text.charCodeAt(end - 1);
  const highBefore = end - 2 >= start ? text.charCodeAt(end - 2) : 0;
  const pair = lastCode >= 0xdc00 && lastCode <= 0xdfff && highBefore >= 0xd800 && highBefore <= 0xdbff;
  const last = pair ? text.slice(end - 2, end) : text[end - 1]!;
  if (SPACE.test(last)) {
    const runEnd = runFrom(CLASS_RUN.space, text, start);
    return runEnd < text.length && runEnd - start >= 2 ? runEnd - 1 : runEnd;
  }
  const run = LETTER.test(last) ? CLASS_RUN.letter : NUMBER.test(last) ? CLASS_RUN.number : CLASS_RUN.other;
  return runFrom(run, text, end);
}

/** The end of the run of `run`'s class starting at `from`. */
function runFrom(run: RegExp, text: string, from: number): number {
  let at = from;
  for (;;) {
    run.lastIndex = at;
    if (!run.test(text)) return at;
    at = run.lastIndex;
  }
}
