// `npm run bench:parser`: our EventStream decoder against @smithy/eventstream-codec and against
// plain zlib.crc32 over the same bytes (the ceiling: a decoder must at least checksum every byte).
// All three run in this one process on the same ~64 MiB stream delivered in 16 KiB chunks.
// The lines after "breakdown" are informational: the same frames split into the 64 KiB ones and
// the rest, each against the checksum of its bytes, and the decoder without WebAssembly.
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import * as zlib from 'node:zlib';
import { EventStreamDecoder } from '../src/kiro/codec/eventstream';
import { encodeKiroEvent } from '../test/support/eventstream-encoder';
import { hasNativeCrc32 } from '../src/kiro/codec/crc32';

const TARGET_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 16 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);

/** Deterministic pseudo-random numbers so every run decodes the same stream. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  'the of and to in is you that it he was for on are as with his they at be this from I have or by one had not but what all were when we there can an your which their said if do will each about how up out them then she many some so these would other into has more her two like him see time could no make than first been its who now people my made over did down only way find use may water long little very after words called just where most know get through back much go good new write our me man too any day same right look think also around another came come work three word must because does part even place well such here take why things help put years different away again off went old number great tell men say small every found still between name should home big give air line set own under read last never us left end along while might next sound below saw something thought both few those always looked show large often together asked house world going want school important until form food keep children feet land side without boy once animals life enough took sometimes four head above kind began almost live page got earth need far hand high year mother light parts country father let night following picture being study second eyes soon times story boys since white days ever paper hard near sentence better best across during today others however sure means knew its try told young miles sun ways thing whole hear example heard several change answer room sea against top turned learn point city play toward five using himself usually 我 将 为 你 创 建 一 个 天 气 卡 片 代 码 函 数'.split(
    ' ',
  );

interface Stream {
  chunks: Buffer[];
  bytes: number;
  frames: number;
  largeFrames: number;
  largeBytes: number;
}

function chunked(frames: Buffer[]): Buffer[] {
  const all = Buffer.concat(frames);
  const chunks: Buffer[] = [];
  for (let o = 0; o < all.length; o += CHUNK_BYTES) chunks.push(all.subarray(o, o + CHUNK_BYTES));
  return chunks;
}

function buildStream(): Stream {
  const rand = rng(20261127);
  const frames: Buffer[] = [];
  let bytes = 0;
  let largeFrames = 0;
  let largeBytes = 0;
  const toolId = 'tooluse_1DCqyICMR-CfTS36UNNiwA';
  while (bytes < TARGET_BYTES) {
    let frame: Buffer;
    const r = rand();
    if (r < 0.02) {
      // A large payload: a 64 KiB tool-input fragment (a big file write arriving at once).
      const input = 'x'.repeat(64 * 1024 - 80);
      frame = encodeKiroEvent({ kind: 'event', type: 'toolUseEvent', json: { toolUseId: toolId, name: 'Write', input, stop: false } });
      largeFrames++;
      largeBytes += frame.length;
    } else if (r < 0.12) {
      // A tool-input fragment of ordinary size.
      let input = '';
      while (input.length < 30 + rand() * 120) input += WORDS[(rand() * WORDS.length) | 0] + ' ';
      frame = encodeKiroEvent({ kind: 'event', type: 'toolUseEvent', json: { toolUseId: toolId, name: 'Write', input, stop: false } });
    } else {
      // A text delta: payload {"content":"…"} of 60-200 bytes, as Kiro streams prose.
      const target = 60 + ((rand() * 140) | 0) - 14;
      let content = '';
      while (Buffer.byteLength(content) < target) content += WORDS[(rand() * WORDS.length) | 0] + ' ';
      frame = encodeKiroEvent({ kind: 'event', type: 'assistantResponseEvent', json: { content } });
    }
    frames.push(frame);
    bytes += frame.length;
  }
  return { chunks: chunked(frames), bytes, frames: frames.length, largeFrames, largeBytes };
}

/**
 * The stream's frames as two streams: the 64 KiB ones and the rest. Built only after the main
 * race: holding another copy of the frames during it makes V8 collect more often while the
 * allocating contenders run, which slowed @smithy/eventstream-codec by up to 2x.
 */
function splitBySize(chunks: Buffer[]): { large: Buffer[]; small: Buffer[] } {
  const all = Buffer.concat(chunks);
  const large: Buffer[] = [];
  const small: Buffer[] = [];
  for (let o = 0; o < all.length;) {
    const frame = all.subarray(o, o + all.readUInt32BE(o));
    (frame.length > 60 * 1024 ? large : small).push(frame);
    o += frame.length;
  }
  return { large, small };
}

function decodeOurs(chunks: Buffer[], reuseAssemblyBuffers: boolean, webAssembly = true): number {
  const decoder = new EventStreamDecoder({ reuseAssemblyBuffers, webAssembly });
  let messages = 0;
  let payloadBytes = 0;
  for (const chunk of chunks) {
    const out = decoder.push(chunk);
    messages += out.length;
    for (let i = 0; i < out.length; i++) payloadBytes += out[i]!.payload.length;
  }
  decoder.end();
  return messages + (payloadBytes & 0);
}

const smithy = new EventStreamCodec(toUtf8, fromUtf8);

/** What a caller of smithy's codec must do: collect bytes until a frame is whole, then decode it. */
function decodeSmithy(chunks: Buffer[]): number {
  let pending = new Uint8Array(0);
  let messages = 0;
  for (const chunk of chunks) {
    const merged = new Uint8Array(pending.length + chunk.length);
    merged.set(pending, 0);
    merged.set(chunk, pending.length);
    let offset = 0;
    const view = new DataView(merged.buffer);
    while (merged.length - offset >= 4) {
      const total = view.getUint32(offset);
      if (merged.length - offset < total) break;
      smithy.decode(merged.subarray(offset, offset + total));
      messages++;
      offset += total;
    }
    pending = merged.slice(offset);
  }
  return messages;
}

function crcOnly(chunks: Buffer[]): number {
  let crc = 0;
  for (const chunk of chunks) crc = zlib.crc32(chunk, crc);
  return crc;
}

const collectGarbage: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {});

interface Contender {
  name: string;
  run: () => number;
  /** Frames it must report (none for a checksum-only ceiling). */
  frames?: number;
  times: number[];
  result: number;
}

/**
 * Runs every contender once per round, in turn, so that load changes on the machine during the
 * benchmark touch all of them alike; reports each one's median round.
 */
function race(bytes: number, contenders: Omit<Contender, 'times' | 'result'>[], rounds = ROUNDS): Map<string, number> {
  const entries: Contender[] = contenders.map((c) => ({ ...c, times: [], result: 0 }));
  for (const c of entries) for (let i = 0; i < 2; i++) c.run(); // warm-up: let the JIT settle
  for (let round = 0; round < rounds; round++) {
    for (const c of entries) {
      collectGarbage(); // nobody pays for the garbage another contender left behind
      const start = process.hrtime.bigint();
      c.result = c.run();
      c.times.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
  }
  const mbps = new Map<string, number>();
  for (const c of entries) {
    c.times.sort((a, b) => a - b);
    const median = c.times[Math.floor(c.times.length / 2)]!;
    mbps.set(c.name, bytes / 1e6 / median);
    console.log(`${c.name.padEnd(38)} ${(bytes / 1e6 / median).toFixed(1).padStart(8)} MB/s   (median of ${rounds}: ${(median * 1000).toFixed(1)} ms)`);
    if (c.frames !== undefined && c.result !== c.frames) throw new Error(`${c.name} decoded ${c.result} frames, expected ${c.frames}`);
  }
  return mbps;
}

const OURS = 'kiro-bridge decoder (as the bridge)';
const OURS_RETAINING = 'kiro-bridge decoder (retain payloads)';
const SMITHY = '@smithy/eventstream-codec';
const CEILING = 'zlib.crc32 only (ceiling)';

const stream = buildStream();
const expectedFrames = stream.frames;
console.log(
  `stream: ${(stream.bytes / 1048576).toFixed(1)} MiB, ${stream.frames} frames ` +
    `(${stream.largeFrames} of 64 KiB = ${((100 * stream.largeBytes) / stream.bytes).toFixed(0)}% of bytes), ` +
    `${stream.chunks.length} chunks of ${CHUNK_BYTES / 1024} KiB; node ${process.version}; native crc32: ${hasNativeCrc32}`,
);
// The bridge decodes with recycled assembly buffers (each payload becomes an event before the
// next chunk is read); the retaining mode (a fresh buffer per split frame) is shown beside it.
const mbps = race(stream.bytes, [
  { name: OURS, run: () => decodeOurs(stream.chunks, true), frames: expectedFrames },
  { name: OURS_RETAINING, run: () => decodeOurs(stream.chunks, false), frames: expectedFrames },
  { name: SMITHY, run: () => decodeSmithy(stream.chunks), frames: expectedFrames },
  { name: CEILING, run: () => crcOnly(stream.chunks) },
]);

// Informational breakdown: the same frames as two streams, the 64 KiB ones alone (bound by
// checksum + the copy that assembling a frame split across chunks needs) and the rest alone
// (bound by per-frame work), each against the checksum of the same bytes.
const frames = splitBySize(stream.chunks);
const parts = { large: chunked(frames.large), small: chunked(frames.small) };
const partBytes = { large: Buffer.concat(parts.large).length, small: Buffer.concat(parts.small).length };
console.log('breakdown (informational):');
const large = race(partBytes.large, [
  { name: '  64 KiB frames: decoder', run: () => decodeOurs(parts.large, true), frames: frames.large.length },
  { name: '  64 KiB frames: zlib.crc32', run: () => crcOnly(parts.large) },
]);
const small = race(partBytes.small, [
  { name: '  other frames: decoder', run: () => decodeOurs(parts.small, true), frames: frames.small.length },
  { name: '  other frames: zlib.crc32', run: () => crcOnly(parts.small) },
]);
// How runtimes without WebAssembly decode: small frames checked by the JavaScript table loop.
const withoutWasm = race(stream.bytes, [
  { name: '  whole stream, no WebAssembly', run: () => decodeOurs(stream.chunks, true, false), frames: expectedFrames },
  { name: '  whole stream: zlib.crc32', run: () => crcOnly(stream.chunks) },
]);
console.log(`breakdown_large_frames_vs_crc32=${(large.get('  64 KiB frames: decoder')! / large.get('  64 KiB frames: zlib.crc32')!).toFixed(2)}`);
console.log(`breakdown_small_frames_vs_crc32=${(small.get('  other frames: decoder')! / small.get('  other frames: zlib.crc32')!).toFixed(2)}`);
console.log(
  `breakdown_no_webassembly_vs_crc32=${(withoutWasm.get('  whole stream, no WebAssembly')! / withoutWasm.get('  whole stream: zlib.crc32')!).toFixed(2)}`,
);

console.log(`decoder_vs_smithy_speedup=${(mbps.get(OURS)! / mbps.get(SMITHY)!).toFixed(2)}`);
console.log(`decoder_vs_crc32_ceiling=${(mbps.get(OURS)! / mbps.get(CEILING)!).toFixed(2)}`);
