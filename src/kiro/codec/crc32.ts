// CRC-32/IEEE (ISO-HDLC, the zlib polynomial), as AWS EventStream frames use it.
//
// Two engines, picked by length: Node's native zlib.crc32 (Node >= 20.15) runs at several GB/s
// but costs ~200 ns per call, so short ranges (a typical Kiro text frame is ~250 bytes) go
// through a slicing-by-16 table loop instead (~1.3-1.8 GB/s), which needs no native call.
// Without zlib.crc32 (older runtimes) the table loop does everything. The decoder checks small
// frames with a third: the same loop in WebAssembly (~2.3 GB/s), the frame kernel at the end.
//
// The decoder checks every frame with its own CRC. One native call over a run of small frames,
// compared with the CRC that the frames' lengths and stored checksums predict (CRC is linear),
// is cheaper, but it is one 32-bit check for many frames: corruptions in two frames can cancel
// in it while each frame's own CRC would catch them (test/unit/eventstream.test.ts builds such
// a case). No single checksum over several frames can do the work of one per frame.
import * as zlib from 'node:zlib';

const TABLES = (() => {
  const t = new Int32Array(256 * 16);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 16; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/**
 * Slicing-by-16 CRC-32 over bytes[start, end), continuing from `previous` (a finished CRC).
 * `view` must be a DataView over the same bytes as `bytes` (words are read little-endian
 * through it, which V8 compiles to single unaligned loads).
 */
export function crc32Table(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
  previous = 0,
  view: DataView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
): number {
  const t = TABLES;
  let crc = ~previous;
  let i = start;
  const last16 = end - 16;
  while (i <= last16) {
    const a = view.getInt32(i, true) ^ crc;
    const b = view.getInt32(i + 4, true);
    const c = view.getInt32(i + 8, true);
    const d = view.getInt32(i + 12, true);
    crc =
      t[3840 + (a & 0xff)]! ^
      t[3584 + ((a >>> 8) & 0xff)]! ^
      t[3328 + ((a >>> 16) & 0xff)]! ^
      t[3072 + (a >>> 24)]! ^
      t[2816 + (b & 0xff)]! ^
      t[2560 + ((b >>> 8) & 0xff)]! ^
      t[2304 + ((b >>> 16) & 0xff)]! ^
      t[2048 + (b >>> 24)]! ^
      t[1792 + (c & 0xff)]! ^
      t[1536 + ((c >>> 8) & 0xff)]! ^
      t[1280 + ((c >>> 16) & 0xff)]! ^
      t[1024 + (c >>> 24)]! ^
      t[768 + (d & 0xff)]! ^
      t[512 + ((d >>> 8) & 0xff)]! ^
      t[256 + ((d >>> 16) & 0xff)]! ^
      t[d >>> 24]!;
    i += 16;
  }
  if (i + 8 <= end) {
    const a = view.getInt32(i, true) ^ crc;
    const b = view.getInt32(i + 4, true);
    crc =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + (b & 0xff)]! ^
      t[512 + ((b >>> 8) & 0xff)]! ^
      t[256 + ((b >>> 16) & 0xff)]! ^
      t[b >>> 24]!;
    i += 8;
  }
  if (i + 4 <= end) {
    const a = view.getInt32(i, true) ^ crc;
    crc = t[768 + (a & 0xff)]! ^ t[512 + ((a >>> 8) & 0xff)]! ^ t[256 + ((a >>> 16) & 0xff)]! ^ t[a >>> 24]!;
    i += 4;
  }
  while (i < end) crc = t[(crc ^ bytes[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** CRC-32 of the 8 bytes at `o` (an EventStream prelude's lengths): one slicing-by-8 step. */
export function crc32Of8(view: DataView, o: number): number {
  const t = TABLES;
  const a = ~view.getInt32(o, true);
  const b = view.getInt32(o + 4, true);
  return (
    ~(
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + (b & 0xff)]! ^
      t[512 + ((b >>> 8) & 0xff)]! ^
      t[256 + ((b >>> 16) & 0xff)]! ^
      t[b >>> 24]!
    ) >>> 0
  );
}

type NativeCrc32 = (data: Uint8Array, value?: number) => number;
const native: NativeCrc32 | undefined = (zlib as unknown as { crc32?: NativeCrc32 }).crc32;

/** True when the runtime provides zlib.crc32 (reported by the benchmark). */
export const hasNativeCrc32 = typeof native === 'function';

/** Below this many bytes the table loop beats a native call (measured on Node 20, x86-64). */
const NATIVE_THRESHOLD = 512;

/**
 * CRC-32 of bytes[start, end), continuing from `previous` (the CRC of the bytes before them).
 * Pass `view` (a DataView over `bytes`) when calling in a loop, to avoid one allocation per call.
 */
export function crc32Range(bytes: Uint8Array, start: number, end: number, previous = 0, view?: DataView): number {
  if (native && end - start >= NATIVE_THRESHOLD) {
    if (start === 0 && end === bytes.length) return native(bytes, previous);
    return native(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start), previous);
  }
  return crc32Table(bytes, start, end, previous, view);
}

/** CRC-32 of all of `bytes`, continuing from `previous`. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return crc32Range(bytes, 0, bytes.length, previous);
}

// ── The frame kernel: per-frame checks in WebAssembly ───────────────────────────────────────────
//
// Checking every small frame with the table loop above costs ~8 ms per 10 MB of text deltas,
// about half of what checksumming a whole 64 MiB response natively costs. The same slicing-by-16
// loop compiled from WebAssembly runs ~1.8x faster than V8 makes of the JavaScript one (no bounds
// or DataView checks), and while the bytes are in hand it also compares the frame's header block
// with the last block of that size (Kiro repeats a handful), so the decoder need not read it again.
//
// WebAssembly reads only its own memory, so the decoder copies a window of the chunk (at most
// WINDOW_BYTES) into it first; a memcpy at ~20 GB/s, cheap next to the checksum. The module is
// assembled below from the few instructions it needs (opcodes from the WebAssembly 1.0 spec), so
// there is no build step and no binary blob. Memory layout, in bytes:
//   [0, 16 KiB)            the 16 CRC tables (the same as TABLES)
//   [16 KiB, 80 KiB)       one 256-byte slot per header-block size 0..255: the block last seen
//   [80 KiB, 80 + 32 KiB)  the window
const HEADER_SLOTS = 16 * 1024;
const WINDOW_START = HEADER_SLOTS + 256 * 256;
/** The most bytes the decoder copies into the kernel's window at once. */
export const WINDOW_BYTES = 32 * 1024;
/** Header blocks longer than this have no slot. */
export const MAX_SLOT_HEADER_BYTES = 255;

/** checkFrame() results. */
export const FRAME_CRC_MISMATCH = 0;
export const FRAME_INTACT = 1;
/** Intact, and its header block equals the one stored for its size by setHeaderBlock(). */
export const FRAME_INTACT_SAME_HEADERS = 2;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n ? byte | 0x80 : byte);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

/** The instructions the kernel uses (locals stay below 128, so their indices are one byte). */
const wasm = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  return: [0x0f],
  get: (local: number) => [0x20, local],
  set: (local: number) => [0x21, local],
  tee: (local: number) => [0x22, local],
  load: (offset = 0) => [0x28, 2, ...uleb(offset)], // i32.load (little-endian)
  load64: (offset = 0) => [0x29, 3, ...uleb(offset)], // i64.load
  load8: (offset = 0) => [0x2d, 0, ...uleb(offset)], // i32.load8_u
  const: (value: number) => [0x41, ...sleb(value)],
  ne: [0x47],
  gtU: [0x4b],
  geU: [0x4f],
  ne64: [0x52],
  add: [0x6a],
  and: [0x71],
  or: [0x72],
  xor: [0x73],
  shl: [0x74],
  shrU: [0x76],
};
const I32 = 0x7f;

/** table[k][byte]: the byte is the low 8 bits of the value `operand` leaves (masked unless told). */
function lookup(table: number, operand: number[], mask = true): number[] {
  return [...operand, ...(mask ? [...wasm.const(0xff), ...wasm.and] : []), ...wasm.const(2), ...wasm.shl, ...wasm.load(table * 1024)];
}

/** Byte k (0 = lowest) of local `word`, as a table index (no mask needed for the top byte). */
function byteOf(word: number, k: number): number[] {
  return k === 0 ? wasm.get(word) : [...wasm.get(word), ...wasm.const(8 * k), ...wasm.shrU];
}

/**
 * The CRC loop over [p, end) with the register in local `crc` (already inverted): slicing-by-16,
 * then 4 bytes at a time, then single bytes. Uses locals a..d as scratch; advances p.
 */
function crcLoop(p: number, end: number, crc: number, [a, b, c, d]: number[]): number[] {
  const step16: number[] = [
    ...wasm.get(p),
    ...wasm.load(0),
    ...wasm.get(crc),
    ...wasm.xor,
    ...wasm.set(a!),
    ...wasm.get(p),
    ...wasm.load(4),
    ...wasm.set(b!),
    ...wasm.get(p),
    ...wasm.load(8),
    ...wasm.set(c!),
    ...wasm.get(p),
    ...wasm.load(12),
    ...wasm.set(d!),
  ];
  // Word w's byte k goes through table 15 - 4w - k (as in crc32Table).
  [a!, b!, c!, d!].forEach((word, w) => {
    for (let k = 0; k < 4; k++) {
      step16.push(...lookup(15 - 4 * w - k, byteOf(word, k), k < 3));
      if (w > 0 || k > 0) step16.push(...wasm.xor);
    }
  });
  const step4 = [
    ...wasm.get(p),
    ...wasm.load(0),
    ...wasm.get(crc),
    ...wasm.xor,
    ...wasm.set(a!),
    ...lookup(3, byteOf(a!, 0)),
    ...lookup(2, byteOf(a!, 1)),
    ...wasm.xor,
    ...lookup(1, byteOf(a!, 2)),
    ...wasm.xor,
    ...lookup(0, byteOf(a!, 3), false),
    ...wasm.xor,
  ];
  const step1 = [
    ...lookup(0, [...wasm.get(crc), ...wasm.get(p), ...wasm.load8(0), ...wasm.xor]),
    ...wasm.get(crc),
    ...wasm.const(8),
    ...wasm.shrU,
    ...wasm.xor,
  ];
  /** while (p + width <= end) { crc = step; p += width } */
  const loopWhile = (width: number, step: number[]) => [
    ...wasm.block,
    ...wasm.loop,
    ...wasm.get(p),
    ...wasm.const(width),
    ...wasm.add,
    ...wasm.get(end),
    ...wasm.gtU,
    ...wasm.brIf(1),
    ...step,
    ...wasm.set(crc),
    ...wasm.get(p),
    ...wasm.const(width),
    ...wasm.add,
    ...wasm.set(p),
    ...wasm.br(0),
    ...wasm.end,
    ...wasm.end,
  ];
  return [...loopWhile(16, step16), ...loopWhile(4, step4), ...loopWhile(1, step1)];
}

/** Reverses the byte order of the i32 on the stack (EventStream stores CRCs big-endian). */
function byteSwap(scratch: number): number[] {
  return [
    ...wasm.tee(scratch),
    ...wasm.const(24),
    ...wasm.shl,
    ...wasm.get(scratch),
    ...wasm.const(0xff00),
    ...wasm.and,
    ...wasm.const(8),
    ...wasm.shl,
    ...wasm.or,
    ...wasm.get(scratch),
    ...wasm.const(8),
    ...wasm.shrU,
    ...wasm.const(0xff00),
    ...wasm.and,
    ...wasm.or,
    ...wasm.get(scratch),
    ...wasm.const(24),
    ...wasm.shrU,
    ...wasm.or,
  ];
}

/** crc(start, end, previous): CRC-32 of memory [start, end) continuing from `previous`. */
function crcFunction(): number[] {
  const [start, end, previous, crc, a, b, c, d] = [0, 1, 2, 3, 4, 5, 6, 7];
  const body = [
    ...wasm.get(previous),
    ...wasm.const(-1),
    ...wasm.xor,
    ...wasm.set(crc!),
    ...crcLoop(start!, end!, crc!, [a!, b!, c!, d!]),
    ...wasm.get(crc!),
    ...wasm.const(-1),
    ...wasm.xor,
    ...wasm.end,
  ];
  return [1, 5, I32, ...body]; // one group of 5 i32 locals
}

/**
 * checkFrame(at, total, headersLength) for a whole frame at window offset `at`: the message CRC
 * (continuing from the stored prelude CRC over bytes 8..total-4) against the stored one, then the
 * header block against its size's slot. Returns FRAME_CRC_MISMATCH, FRAME_INTACT or
 * FRAME_INTACT_SAME_HEADERS. The caller has checked the prelude and that the frame is whole.
 */
function checkFrameFunction(): number[] {
  const [at, total, headersLength, p, end, crc, a, b, c, d, slot] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const body = [
    // p = window + at + 8 (the prelude CRC field, where the message CRC continues from)
    ...wasm.get(at!),
    ...wasm.const(WINDOW_START + 8),
    ...wasm.add,
    ...wasm.tee(p!),
    ...wasm.load(0),
    ...byteSwap(a!),
    ...wasm.const(-1),
    ...wasm.xor,
    ...wasm.set(crc!),
    // end = window + at + total - 4 (the stored message CRC)
    ...wasm.get(at!),
    ...wasm.get(total!),
    ...wasm.add,
    ...wasm.const(WINDOW_START - 4),
    ...wasm.add,
    ...wasm.set(end!),
    ...crcLoop(p!, end!, crc!, [a!, b!, c!, d!]),
    ...wasm.get(crc!),
    ...wasm.const(-1),
    ...wasm.xor,
    ...wasm.get(end!),
    ...wasm.load(0),
    ...byteSwap(a!),
    ...wasm.ne,
    ...wasm.if,
    ...wasm.const(FRAME_CRC_MISMATCH),
    ...wasm.return,
    ...wasm.end,
    // The header block [p, end) against slot headersLength (blocks over 255 bytes have none).
    ...wasm.get(headersLength!),
    ...wasm.const(MAX_SLOT_HEADER_BYTES),
    ...wasm.gtU,
    ...wasm.if,
    ...wasm.const(FRAME_INTACT),
    ...wasm.return,
    ...wasm.end,
    ...wasm.get(at!),
    ...wasm.const(WINDOW_START + 12),
    ...wasm.add,
    ...wasm.tee(p!),
    ...wasm.get(headersLength!),
    ...wasm.add,
    ...wasm.set(end!),
    ...wasm.get(headersLength!),
    ...wasm.const(8),
    ...wasm.shl,
    ...wasm.const(HEADER_SLOTS),
    ...wasm.add,
    ...wasm.set(slot!),
    ...compareLoop(8, wasm.load64(0), wasm.ne64, p!, end!, slot!),
    ...compareLoop(1, wasm.load8(0), wasm.ne, p!, end!, slot!),
    ...wasm.const(FRAME_INTACT_SAME_HEADERS),
    ...wasm.end,
  ];
  return [1, 8, I32, ...body]; // one group of 8 i32 locals
}

/** while (p + width <= end) { if (load(p) != load(slot)) return FRAME_INTACT; p += width; slot += width } */
function compareLoop(width: number, load: number[], notEqual: number[], p: number, end: number, slot: number): number[] {
  return [
    ...wasm.block,
    ...wasm.loop,
    ...wasm.get(p),
    ...wasm.const(width),
    ...wasm.add,
    ...wasm.get(end),
    ...wasm.gtU,
    ...wasm.brIf(1),
    ...wasm.get(p),
    ...load,
    ...wasm.get(slot),
    ...load,
    ...notEqual,
    ...wasm.if,
    ...wasm.const(FRAME_INTACT),
    ...wasm.return,
    ...wasm.end,
    ...wasm.get(p),
    ...wasm.const(width),
    ...wasm.add,
    ...wasm.set(p),
    ...wasm.get(slot),
    ...wasm.const(width),
    ...wasm.add,
    ...wasm.set(slot),
    ...wasm.br(0),
    ...wasm.end,
    ...wasm.end,
  ];
}

function kernelModule(): Uint8Array<ArrayBuffer> {
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (text: string) => [...uleb(text.length), ...Buffer.from(text, 'latin1')];
  const functions = [crcFunction(), checkFrameFunction()];
  const pages = Math.ceil((WINDOW_START + WINDOW_BYTES) / 65536);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, [1, 0x60, 3, I32, I32, I32, 1, I32]), // one type: (i32, i32, i32) -> i32
    ...section(3, [2, 0, 0]), // two functions of that type
    ...section(5, [1, 0x00, ...uleb(pages)]), // one memory, no maximum
    ...section(7, [3, ...name('memory'), 0x02, 0, ...name('crc'), 0x00, 0, ...name('checkFrame'), 0x00, 1]),
    ...section(10, [2, ...functions.flatMap((body) => [...uleb(body.length), ...body])]),
  ]);
}

/** The compiled kernel; one per process (the decoder uses its window only inside one push()). */
export class FrameKernel {
  private readonly memory: Uint8Array;
  /** CRC-32 of window bytes [start, end) continuing from `previous` (finished CRCs, signed). */
  readonly crc: (start: number, end: number, previous: number) => number;
  /** See checkFrameFunction(). */
  readonly checkFrame: (at: number, total: number, headersLength: number) => number;

  constructor() {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(kernelModule()));
    const exports = instance.exports as {
      memory: WebAssembly.Memory;
      crc: FrameKernel['crc'];
      checkFrame: FrameKernel['checkFrame'];
    };
    this.memory = new Uint8Array(exports.memory.buffer);
    new Int32Array(exports.memory.buffer, 0, TABLES.length).set(TABLES);
    this.crc = exports.crc;
    this.checkFrame = exports.checkFrame;
  }

  /** Copies bytes[start, end) (at most WINDOW_BYTES) to the start of the window. */
  load(bytes: Uint8Array, start: number, end: number): void {
    this.memory.set(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start), WINDOW_START);
  }

  /** Makes bytes[start, start + length) the header block checkFrame compares with for that length. */
  setHeaderBlock(bytes: Uint8Array, start: number, length: number): void {
    if (length > MAX_SLOT_HEADER_BYTES) return;
    this.memory.set(new Uint8Array(bytes.buffer, bytes.byteOffset + start, length), HEADER_SLOTS + length * 256);
  }
}

/** The kernel, or undefined where WebAssembly is unavailable (the table loop is used instead). */
export const frameKernel: FrameKernel | undefined = (() => {
  try {
    return typeof WebAssembly === 'object' ? new FrameKernel() : undefined;
  } catch {
    return undefined;
  }
})();
