// AWS EventStream binary framing (application/vnd.amazon.eventstream): the decoder. (The encoder
// only the tests and the fake upstream need lives in test/support/eventstream-encoder.ts.)
//
// Frame: u32 total length | u32 headers length | u32 prelude CRC | headers | payload | u32 message CRC
// (big-endian; CRC-32/IEEE; the message CRC covers everything before it, prelude included).
//
// The decoder is ours on purpose: it is the hot loop of every response. Frames that lie inside
// one input chunk come back as views into that chunk (no copy); only a frame split across chunks
// is assembled, into one buffer sized from its verified prelude. Each byte is checksummed once:
// the prelude CRC is the running CRC of the first 8 bytes, so the message CRC continues from it.
// Every frame's message CRC is checked on its own before its headers are read (see crc32.ts for
// why runs of frames are not checked together); small frames go through the WebAssembly kernel
// in crc32.ts, which also tells whether the header block repeats the last one of its size.
import {
  FRAME_CRC_MISMATCH,
  FRAME_INTACT_SAME_HEADERS,
  MAX_SLOT_HEADER_BYTES,
  WINDOW_BYTES,
  crc32Of8,
  crc32Range,
  crc32Table,
  frameKernel,
  type FrameKernel,
} from './crc32';

// Local copies of the imported bindings the per-frame loop uses: tsx (which runs the tests and
// the benchmark) compiles every use of an imported binding into a getter call, which V8 did not
// inline there (~2 ms per 64 MiB decoded). A bundle (the shipped extension) has no such getters.
const crcOf8 = crc32Of8;
const crcRange = crc32Range;
const CRC_MISMATCH = FRAME_CRC_MISMATCH;
const SAME_HEADERS = FRAME_INTACT_SAME_HEADERS;
const KERNEL_WINDOW_BYTES = WINDOW_BYTES;

export type HeaderValue =
  | { type: 'boolean'; value: boolean }
  | { type: 'byte'; value: number }
  | { type: 'short'; value: number }
  | { type: 'integer'; value: number }
  | { type: 'long'; value: bigint }
  | { type: 'binary'; value: Uint8Array }
  | { type: 'string'; value: string }
  | { type: 'timestamp'; value: Date }
  | { type: 'uuid'; value: string };

export type Headers = Readonly<Record<string, HeaderValue>>;

export interface EventStreamMessage {
  headers: Headers;
  payload: Uint8Array;
}

export type EventStreamErrorCode =
  | 'PRELUDE_CRC_MISMATCH'
  | 'MESSAGE_CRC_MISMATCH'
  | 'FRAME_TOO_LARGE'
  | 'FRAME_TOO_SMALL'
  | 'HEADER_OVERRUN'
  | 'UNKNOWN_HEADER_TYPE'
  | 'TRUNCATED_STREAM'
  | 'DECODER_FAILED';

/** Every failure of the codec is one of these; nothing untyped escapes it. */
export class EventStreamError extends Error {
  override readonly name = 'EventStreamError';
  /** Intact messages that preceded the failure in the same chunk, so none is lost with it. */
  decoded: EventStreamMessage[] = [];
  constructor(
    readonly code: EventStreamErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Largest frame accepted (every known implementation, and AWS, caps frames at 16 MiB). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
export const PRELUDE_BYTES = 12;
const MIN_FRAME_BYTES = 16;
/** Recycled assembly buffers larger than this are released when a stream ends. */
const RETAINED_ASSEMBLY_BYTES = 1024 * 1024;

// Header value type tags of the wire format (the test encoder writes with the same ones).
export const TYPE_TRUE = 0;
export const TYPE_FALSE = 1;
export const TYPE_BYTE = 2;
export const TYPE_SHORT = 3;
export const TYPE_INTEGER = 4;
export const TYPE_LONG = 5;
export const TYPE_BINARY = 6;
export const TYPE_STRING = 7;
export const TYPE_TIMESTAMP = 8;
export const TYPE_UUID = 9;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Short ASCII strings (header names, event types) are built without a native call. */
function readString(b: Buffer, start: number, end: number): string {
  if (end - start <= 24) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c > 0x7f) return b.toString('utf8', start, end);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return b.toString('utf8', start, end);
}

function formatUuid(b: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[o + i]!];
  }
  return s;
}

/** Throws HEADER_OVERRUN unless n more bytes from o fit in the header block [start, end). */
function need(o: number, n: number, start: number, end: number): void {
  if (o + n > end) throw new EventStreamError('HEADER_OVERRUN', `header at byte ${o - start} runs past the header block`);
}

/**
 * Parses the header block bytes[start, end). Header values that carry bytes are views.
 * Throws HEADER_OVERRUN / UNKNOWN_HEADER_TYPE.
 */
function parseHeaders(b: Buffer, start: number, end: number): Record<string, HeaderValue> {
  const headers: Record<string, HeaderValue> = {};
  let o = start;
  while (o < end) {
    const nameLength = b[o]!;
    o += 1;
    need(o, nameLength + 1, start, end);
    const name = readString(b, o, o + nameLength);
    o += nameLength;
    const type = b[o]!;
    o += 1;
    switch (type) {
      case TYPE_TRUE:
        headers[name] = { type: 'boolean', value: true };
        break;
      case TYPE_FALSE:
        headers[name] = { type: 'boolean', value: false };
        break;
      case TYPE_BYTE:
        need(o, 1, start, end);
        headers[name] = { type: 'byte', value: (b[o]! << 24) >> 24 };
        o += 1;
        break;
      case TYPE_SHORT:
        need(o, 2, start, end);
        headers[name] = { type: 'short', value: b.readInt16BE(o) };
        o += 2;
        break;
      case TYPE_INTEGER:
        need(o, 4, start, end);
        headers[name] = { type: 'integer', value: b.readInt32BE(o) };
        o += 4;
        break;
      case TYPE_LONG:
        need(o, 8, start, end);
        headers[name] = { type: 'long', value: b.readBigInt64BE(o) };
        o += 8;
        break;
      case TYPE_BINARY:
      case TYPE_STRING: {
        need(o, 2, start, end);
        const length = (b[o]! << 8) | b[o + 1]!;
        o += 2;
        need(o, length, start, end);
        headers[name] = type === TYPE_STRING ? { type: 'string', value: readString(b, o, o + length) } : { type: 'binary', value: b.subarray(o, o + length) };
        o += length;
        break;
      }
      case TYPE_TIMESTAMP:
        need(o, 8, start, end);
        headers[name] = { type: 'timestamp', value: new Date(Number(b.readBigInt64BE(o))) };
        o += 8;
        break;
      case TYPE_UUID:
        need(o, 16, start, end);
        headers[name] = { type: 'uuid', value: formatUuid(b, o) };
        o += 16;
        break;
      default:
        throw new EventStreamError('UNKNOWN_HEADER_TYPE', `header "${name}" has unknown value type ${type}`);
    }
  }
  return headers;
}

export interface EventStreamDecoderOptions {
  /**
   * Recycle the buffers that frames split across chunks are assembled in. The payload of such a
   * frame then stays valid only until the next `push()`; frames that lie inside one chunk are
   * views into that chunk either way. The upstream client turns every payload into an event
   * before reading on, so it sets this and saves an allocation (and its page faults) per large
   * frame; anything that keeps messages around must leave it off (the default).
   */
  reuseAssemblyBuffers?: boolean;
  /**
   * Check small frames with the WebAssembly kernel where the runtime has WebAssembly (default
   * true). Off, the JavaScript table loop checks them: the path of runtimes without it, kept
   * selectable so tests cover it.
   */
  webAssembly?: boolean;
}

/**
 * Incremental EventStream decoder. Feed chunks of any size to `push`; it returns every message
 * completed by that chunk. After any corrupt input it stays failed: further calls throw
 * DECODER_FAILED (with the original error as cause) instead of guessing at a resync, because a
 * Kiro response with a corrupt frame cannot be trusted past that point.
 */
export class EventStreamDecoder {
  private readonly reuseAssemblyBuffers: boolean;
  private readonly kernel: FrameKernel | undefined;
  /** Two alternating assembly buffers: the frame just returned and the one being filled. */
  private readonly assemblyBuffers: (Buffer | undefined)[] = [undefined, undefined];
  private assemblyTurn = 0;
  /** Bytes of a prelude that straddles chunks (fewer than 12 seen so far). */
  private readonly prelude = Buffer.alloc(PRELUDE_BYTES);
  private readonly preludeView = new DataView(this.prelude.buffer, this.prelude.byteOffset, PRELUDE_BYTES);
  private preludeFilled = 0;
  /** The frame being assembled across chunks, sized from its verified prelude. */
  private frame: Buffer | null = null;
  private frameView: DataView | null = null;
  private frameFilled = 0;
  /**
   * [0]: the running CRC of the frame being assembled. Kept in a typed array, not a number field:
   * half of all CRCs are beyond V8's small-integer range, and a field that turns from small
   * integer to double gives the object a new hidden class (see MOST_RECENT).
   */
  private readonly frameCrc = new Uint32Array(1);
  private failure: EventStreamError | null = null;

  /** Bytes held for an incomplete frame (bounded by MAX_FRAME_BYTES). */
  get bufferedBytes(): number {
    return this.frame ? this.frameFilled : this.preludeFilled;
  }

  push(chunk: Uint8Array): EventStreamMessage[] {
    if (this.failure) {
      throw new EventStreamError('DECODER_FAILED', `decoder stopped after an earlier error: ${this.failure.message}`, {
        cause: this.failure,
      });
    }
    const out: EventStreamMessage[] = [];
    try {
      this.decode(asBuffer(chunk), out);
      return out;
    } catch (error) {
      this.failure =
        error instanceof EventStreamError ? error : new EventStreamError('DECODER_FAILED', `unexpected decoder failure: ${String(error)}`, { cause: error });
      this.failure.decoded = out;
      this.frame = null;
      this.frameView = null;
      this.releaseLargeBuffers();
      throw this.failure;
    }
  }

  /** Declares the end of input; throws TRUNCATED_STREAM if a frame was cut off. */
  end(): void {
    this.releaseLargeBuffers();
    if (this.failure) return;
    if (this.frame || this.preludeFilled > 0) {
      const held = this.bufferedBytes;
      const expected = this.frame ? this.frame.length : PRELUDE_BYTES;
      this.frame = null;
      this.frameView = null;
      this.preludeFilled = 0;
      this.failure = new EventStreamError('TRUNCATED_STREAM', `stream ended inside a frame (${held} of ${expected} bytes)`);
      throw this.failure;
    }
  }

  private decode(chunk: Buffer, out: EventStreamMessage[]): void {
    const length = chunk.length;
    let offset = 0;

    if (this.preludeFilled > 0) {
      const take = Math.min(PRELUDE_BYTES - this.preludeFilled, length);
      chunk.copy(this.prelude, this.preludeFilled, 0, take);
      this.preludeFilled += take;
      offset = take;
      if (this.preludeFilled < PRELUDE_BYTES) return;
      this.preludeFilled = 0;
      const total = this.checkPrelude(this.preludeView, 0);
      this.startFrame(total);
      this.frame!.set(this.prelude, 0);
      this.frameFilled = PRELUDE_BYTES;
      // The message CRC covers the prelude CRC field too: continue over bytes 8..12.
      this.frameCrc[0] = crc32Table(this.prelude, 8, PRELUDE_BYTES, this.preludeView.getUint32(8), this.preludeView);
    }

    if (this.frame) {
      offset = this.continueFrame(chunk, offset, out);
      if (this.frame) return;
    }

    // Whole frames inside this chunk, each checked on its own and returned as views into it.
    // Small ones go through the kernel, which reads a copy of [windowStart, windowEnd).
    const view = new DataView(chunk.buffer, chunk.byteOffset, length);
    const kernel = this.kernel;
    let windowStart = 0;
    let windowEnd = 0;
    while (length - offset >= PRELUDE_BYTES) {
      const total = this.checkPrelude(view, offset);
      if (length - offset < total) break;
      const headersStart = offset + PRELUDE_BYTES;
      const headersEnd = headersStart + view.getUint32(offset + 4);
      let headers: Headers;
      if (kernel && total <= KERNEL_MAX_FRAME_BYTES) {
        if (offset + total > windowEnd) {
          windowStart = offset;
          windowEnd = Math.min(length, offset + KERNEL_WINDOW_BYTES);
          kernel.load(chunk, windowStart, windowEnd);
        }
        const result = kernel.checkFrame(offset - windowStart, total, headersEnd - headersStart);
        if (result === CRC_MISMATCH) {
          // Name the computed CRC in the error (the kernel only says the two differ).
          const running = crc32Table(chunk, offset + 8, offset + total - 4, view.getUint32(offset + 8), view);
          throw messageCrcError(view.getUint32(offset + total - 4), running);
        }
        headers = (result === SAME_HEADERS && knownHeaders[headersEnd - headersStart]?.headers) || parseAndRemember(chunk, view, headersStart, headersEnd);
      } else {
        const running = crcRange(chunk, offset + 8, offset + total - 4, view.getUint32(offset + 8), view);
        this.checkMessageCrc(view, offset, total, running);
        headers = headersAt(chunk, view, headersStart, headersEnd);
      }
      out.push({ headers, payload: new Uint8Array(chunk.buffer, chunk.byteOffset + headersEnd, offset + total - 4 - headersEnd) });
      offset += total;
    }

    if (length - offset >= PRELUDE_BYTES) {
      // A frame that continues in later chunks (its prelude was checked above). Checksum its
      // bytes here (the message CRC field is not part of it), then copy them.
      const total = view.getUint32(offset);
      this.startFrame(total);
      this.frameCrc[0] = crcRange(chunk, offset + 8, Math.min(length, offset + total - 4), view.getUint32(offset + 8), view);
      this.frame!.set(new Uint8Array(chunk.buffer, chunk.byteOffset + offset, length - offset), 0);
      this.frameFilled = length - offset;
      return;
    }

    if (offset < length) {
      chunk.copy(this.prelude, 0, offset, length);
      this.preludeFilled = length - offset;
    }
  }

  /** Appends the next bytes of the frame being assembled; returns the offset after them. */
  private continueFrame(chunk: Buffer, offset: number, out: EventStreamMessage[]): number {
    const frame = this.frame!;
    const filled = this.frameFilled;
    const take = Math.min(frame.length - filled, chunk.length - offset);
    // Checksum the bytes in the chunk first, then copy them: the CRC pulls them into cache and the
    // copy reads them from there (measured ~15% faster on 64 KiB frames than copy, then CRC).
    const crcTake = Math.min(filled + take, frame.length - 4) - filled;
    if (crcTake > 0) this.frameCrc[0] = crcRange(chunk, offset, offset + crcTake, this.frameCrc[0]!);
    frame.set(offset === 0 && take === chunk.length ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset + offset, take), filled);
    this.frameFilled = filled + take;
    if (this.frameFilled < frame.length) return offset + take;
    const frameView = this.frameView!;
    this.frame = null;
    this.frameView = null;
    this.checkMessageCrc(frameView, 0, frame.length, this.frameCrc[0]!);
    out.push(this.message(frame, frameView, 0, frame.length));
    return offset + take;
  }

  constructor(options: EventStreamDecoderOptions = {}) {
    this.reuseAssemblyBuffers = options.reuseAssemblyBuffers ?? false;
    this.kernel = options.webAssembly === false ? undefined : frameKernel;
    MOST_RECENT.decoder = this;
  }

  /** Drops recycled assembly buffers too large to keep around once the stream is over. */
  private releaseLargeBuffers(): void {
    for (let i = 0; i < 2; i++) {
      if ((this.assemblyBuffers[i]?.length ?? 0) > RETAINED_ASSEMBLY_BYTES) this.assemblyBuffers[i] = undefined;
    }
  }

  private startFrame(total: number): void {
    let frame: Buffer;
    if (this.reuseAssemblyBuffers) {
      const turn = (this.assemblyTurn ^= 1);
      let buffer = this.assemblyBuffers[turn];
      if (!buffer || buffer.length < total) {
        buffer = Buffer.allocUnsafeSlow(Math.max(total, 64 * 1024));
        this.assemblyBuffers[turn] = buffer;
      }
      frame = buffer.subarray(0, total);
    } else {
      // Unpooled: the payload view handed out may outlive this decoder.
      frame = Buffer.allocUnsafeSlow(total);
    }
    this.frame = frame;
    this.frameView = new DataView(frame.buffer, frame.byteOffset, total);
  }

  /** Verifies the 12-byte prelude at `o`; returns the frame's total length. */
  private checkPrelude(view: DataView, o: number): number {
    const total = view.getUint32(o);
    const headersLength = view.getUint32(o + 4);
    const expected = view.getUint32(o + 8);
    const actual = crcOf8(view, o);
    if (actual !== expected) {
      throw new EventStreamError('PRELUDE_CRC_MISMATCH', `prelude checksum mismatch (expected ${expected.toString(16)}, computed ${actual.toString(16)})`);
    }
    if (total < MIN_FRAME_BYTES) throw new EventStreamError('FRAME_TOO_SMALL', `frame length ${total} is below the 16-byte minimum`);
    if (total > MAX_FRAME_BYTES) throw new EventStreamError('FRAME_TOO_LARGE', `frame length ${total} exceeds the ${MAX_FRAME_BYTES}-byte cap`);
    if (headersLength > total - MIN_FRAME_BYTES) {
      throw new EventStreamError('HEADER_OVERRUN', `headers length ${headersLength} does not fit in a ${total}-byte frame`);
    }
    return total;
  }

  /** Compares the running CRC of a frame's bytes with its stored message CRC. */
  private checkMessageCrc(view: DataView, o: number, total: number, runningCrc: number): void {
    const expected = view.getUint32(o + total - 4);
    if (runningCrc !== expected) throw messageCrcError(expected, runningCrc);
  }

  /** Slices a verified frame into its headers and a view of its payload. */
  private message(b: Buffer, view: DataView, o: number, total: number): EventStreamMessage {
    const headersStart = o + PRELUDE_BYTES;
    const headersEnd = headersStart + view.getUint32(o + 4);
    // A plain Uint8Array view: cheaper to create than a Buffer slice, and no copy either way.
    const payload = new Uint8Array(b.buffer, b.byteOffset + headersEnd, o + total - 4 - headersEnd);
    return { headers: headersAt(b, view, headersStart, headersEnd), payload };
  }
}

function messageCrcError(expected: number, computed: number): EventStreamError {
  return new EventStreamError('MESSAGE_CRC_MISMATCH', `message checksum mismatch (expected ${expected.toString(16)}, computed ${computed.toString(16)})`);
}

/** Frames up to this size are checked by the WebAssembly kernel; larger ones by zlib.crc32. */
const KERNEL_MAX_FRAME_BYTES = 1024;

/**
 * The last header block seen of each size (up to MAX_SLOT_HEADER_BYTES), shared by all decoders,
 * with its parsed headers; the kernel holds the same bytes in its slot for that size. Kiro
 * repeats a handful of blocks (text events are 92 bytes, tool events 82), so most frames are
 * recognised without a parse. Blocks with binary values are not kept: those values are views into
 * the chunk they came from, which must not be handed out with other responses.
 */
const knownHeaders: (CachedHeaders | undefined)[] = [];

interface CachedHeaders {
  headers: Headers;
  /** The block's bytes as little-endian 32-bit words, then the 0-3 trailing bytes. */
  words: Int32Array;
  tail: Uint8Array;
}

/** The headers of the block bytes [start, end), from knownHeaders when it repeats a known one. */
function headersAt(b: Buffer, view: DataView, start: number, end: number): Headers {
  const known = knownHeaders[end - start];
  if (known && sameBytes(known, b, view, start)) return known.headers;
  return parseAndRemember(b, view, start, end);
}

function parseAndRemember(b: Buffer, view: DataView, start: number, end: number): Headers {
  const headers = Object.freeze(parseHeaders(b, start, end));
  const size = end - start;
  if (size <= MAX_SLOT_HEADER_BYTES && !Object.values(headers).some((h) => h.type === 'binary')) {
    knownHeaders[size] = cacheEntry(headers, b, view, start, size);
    frameKernel?.setHeaderBlock(b, start, size);
  }
  return headers;
}

/** Keeps the block's bytes (as words, for a quick compare) with its headers. */
function cacheEntry(headers: Headers, b: Buffer, view: DataView, start: number, size: number): CachedHeaders {
  const words = new Int32Array(size >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = view.getInt32(start + i * 4, true);
  const tail = new Uint8Array(size & 3);
  for (let i = 0; i < tail.length; i++) tail[i] = b[start + words.length * 4 + i]!;
  return { headers, words, tail };
}

function sameBytes(cached: CachedHeaders, b: Buffer, view: DataView, start: number): boolean {
  const { words, tail } = cached;
  for (let i = 0; i < words.length; i++) if (view.getInt32(start + i * 4, true) !== words[i]) return false;
  const tailStart = start + words.length * 4;
  for (let i = 0; i < tail.length; i++) if (b[tailStart + i] !== tail[i]) return false;
  return true;
}

/**
 * The most recently created decoder, kept reachable until the next one replaces it. V8 drops the
 * optimised code of every function specialised on objects that a full GC finds dead. Between two
 * responses no decoder may be referenced, and a full GC then (V8 runs them when a process goes
 * idle) throws away the optimised decoder and the caller's loop around push(): the next response
 * runs unoptimised for much of its length. Holding the last decoder keeps what that code was
 * specialised on alive. (One idle decoder made up front did not suffice when modules are loaded
 * one by one, as tsx does.) The parser benchmark, which forces a full GC before every round,
 * decoded ~1.6x faster with this. Its cost: the last decoder's buffers, bounded because end()
 * and a failure release assembly buffers over RETAINED_ASSEMBLY_BYTES.
 */
const MOST_RECENT: { decoder?: EventStreamDecoder } = {};

/** Decodes a complete byte string (every frame whole); throws on trailing partial frames. */
export function decodeAll(bytes: Uint8Array): EventStreamMessage[] {
  const decoder = new EventStreamDecoder();
  const messages = decoder.push(bytes);
  decoder.end();
  return messages;
}
