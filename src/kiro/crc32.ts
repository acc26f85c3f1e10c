// CRC-32/IEEE (ISO-HDLC, the zlib polynomial), as AWS EventStream frames use it.
//
// Two engines, picked by length: Node's native zlib.crc32 (Node >= 20.15) runs at several GB/s
// but costs ~200 ns per call, so short ranges (a typical Kiro text frame is ~250 bytes) go
// through a slicing-by-16 table loop instead, which needs no native call.
// Without zlib.crc32 (older runtimes) the table loop does everything.
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
    return native(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start), previous);
  }
  return crc32Table(bytes, start, end, previous, view);
}

/** CRC-32 of all of `bytes`, continuing from `previous`. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return crc32Range(bytes, 0, bytes.length, previous);
}

// ── Checking a run of frames with one native call ──────────────────────────────────────────────
//
// A native zlib.crc32 call costs ~200 ns, more than checksumming a 250-byte frame in JS, so
// checking small frames one by one cannot use it. But CRC is linear over GF(2), which lets one
// native pass over a run of consecutive frames confirm all of their stored CRCs at once.
//
// Write raw(s, M) for the CRC register after feeding bytes M from register s (crc(M) is
// ~raw(~0, M)), and Z_n(s) for raw(s, n zero bytes). Linearity gives
//   raw(s, M) = raw(0, M) ^ Z_|M|(s).
// A frame F = P ‖ BE32(c) is intact exactly when raw(~0, P) = ~c. Then, from any register s,
//   raw(s, F) = G(c) ^ Z_|F|(s ^ ~0),   with   G(c) = Z_4(~c) ^ raw(0, BE32(c)),
// so the register after a run of intact frames follows from their lengths and stored CRCs alone.
// If the native CRC of the run equals that prediction, every frame in it is intact (a corrupt
// frame changes the result as surely as it would change its own CRC); if not, the caller
// re-checks frame by frame to name the bad one.

const POLY_TABLE = TABLES; // t[0..255] is the ordinary byte table

function feedByte(register: number, byte: number): number {
  return POLY_TABLE[(register ^ byte) & 0xff]! ^ (register >>> 8);
}

/** Four 256-entry tables for a linear map of a 32-bit register, one per register byte. */
function linearTables(map: (x: number) => number): Int32Array {
  const t = new Int32Array(1024);
  for (let k = 0; k < 4; k++) for (let v = 0; v < 256; v++) t[k * 256 + v] = map((v << (8 * k)) >>> 0);
  return t;
}

function applyLinear(t: Int32Array, x: number): number {
  return t[x & 0xff]! ^ t[256 + ((x >>> 8) & 0xff)]! ^ t[512 + ((x >>> 16) & 0xff)]! ^ t[768 + (x >>> 24)]!;
}

/** Frames up to this many bytes are checked in runs; larger ones are worth a native call alone. */
export const RUN_FRAME_MAX_BYTES = 511;

/** SHIFT_LOW[n] advances a register over n zero bytes (n < 16), SHIFT_HIGH[m] over 16·m. */
const { SHIFT_LOW, SHIFT_HIGH } = (() => {
  const low: Int32Array[] = [linearTables((x) => x)];
  for (let n = 1; n < 16; n++) low.push(linearTables((x) => feedByte(applyLinear(low[n - 1]!, x), 0)));
  const sixteen = linearTables((x) => applyLinear(low[15]!, feedByte(x, 0)));
  const high: Int32Array[] = [low[0]!];
  for (let m = 1; m * 16 <= RUN_FRAME_MAX_BYTES; m++) high.push(linearTables((x) => applyLinear(sixteen, applyLinear(high[m - 1]!, x))));
  return { SHIFT_LOW: low, SHIFT_HIGH: high };
})();

/** Z_n(x): the register x advanced over n zero bytes (n <= RUN_FRAME_MAX_BYTES); two table steps. */
function shiftRegister(x: number, n: number): number {
  return applyLinear(SHIFT_HIGH[n >>> 4]!, applyLinear(SHIFT_LOW[n & 15]!, x));
}

/** G(c) = Z_4(~c) ^ raw(0, BE32(c)), split into a linear part (tables) and a constant. */
const RESIDUE_LINEAR = linearTables((c) => {
  let z = c;
  for (let i = 0; i < 4; i++) z = feedByte(z, 0);
  let r = 0;
  for (let shift = 24; shift >= 0; shift -= 8) r = feedByte(r, (c >>> shift) & 0xff);
  return z ^ r;
});
const RESIDUE_CONSTANT = shiftRegister(0xffffffff | 0, 4);

/**
 * Accumulates the CRC that a run of intact frames must produce. Start with `begin()`, `add()`
 * each frame's total length and stored CRC, then compare `expected()` with the CRC of the run.
 */
export class FrameRunCrc {
  private register = ~0;

  begin(): void {
    this.register = ~0;
  }

  add(frameLength: number, storedCrc: number): void {
    this.register = RESIDUE_CONSTANT ^ applyLinear(RESIDUE_LINEAR, storedCrc) ^ shiftRegister(this.register ^ ~0, frameLength);
  }

  /** The finished CRC (as zlib.crc32 returns it) of the run, if every frame in it is intact. */
  expected(): number {
    return ~this.register >>> 0;
  }
}
