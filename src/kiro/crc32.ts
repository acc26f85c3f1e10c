// CRC-32/IEEE (ISO-HDLC, the zlib polynomial), as AWS EventStream frames use it.
//
// Two engines, picked by length: Node's native zlib.crc32 (Node >= 20.15) runs at several GB/s
// but costs ~200 ns per call, so short ranges (a typical Kiro text frame is ~250 bytes) go
// through a slicing-by-16 table loop instead (~1.8 GB/s), which needs no native call.
// Without zlib.crc32 (older runtimes) the table loop does everything.
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
