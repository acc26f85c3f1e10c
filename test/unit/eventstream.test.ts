import { EventStreamCodec, Int64 } from '@smithy/eventstream-codec';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { describe, expect, it } from 'vitest';
import { EventStreamDecoder, EventStreamError, MAX_FRAME_BYTES, decodeAll, type EventStreamMessage, type HeaderValue } from '../../src/kiro/codec/eventstream';
import { FRAME_CRC_MISMATCH, FRAME_INTACT, FRAME_INTACT_SAME_HEADERS, WINDOW_BYTES, crc32, crc32Table, frameKernel } from '../../src/kiro/codec/crc32';
import { toKiroEvent } from '../../src/kiro/codec/events';
import { encodeKiroEvent, encodeMessage } from '../support/eventstream-encoder';
import { fixtureBytes, fixtureNames } from '../support/fixtures';
import { randomBytes, randomInt, seededRandom, testSeed } from '../support/random';

const smithy = new EventStreamCodec(toUtf8, fromUtf8);

type SmithyHeaders = Parameters<EventStreamCodec['encode']>[0]['headers'];
type SmithyHeaderValue = SmithyHeaders[string];

function toSmithyHeader(h: HeaderValue): SmithyHeaderValue {
  if (h.type !== 'long') return h as SmithyHeaderValue;
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(h.value);
  return { type: 'long', value: new Int64(bytes) };
}

/** Normalises either codec's headers to comparable plain values. */
function comparableHeaders(headers: Record<string, { type: string; value: unknown }>) {
  const out: Record<string, [string, string]> = {};
  for (const [name, h] of Object.entries(headers)) {
    let value: string;
    if (h.type === 'long') {
      value =
        typeof h.value === 'bigint'
          ? h.value.toString()
          : Buffer.from((h.value as Int64).bytes)
              .readBigInt64BE()
              .toString();
    } else if (h.type === 'binary') value = Buffer.from(h.value as Uint8Array).toString('hex');
    else if (h.type === 'timestamp') value = String((h.value as Date).getTime());
    else value = String(h.value);
    out[name] = [h.type, value];
  }
  return out;
}

function comparable(m: { headers: Record<string, { type: string; value: unknown }>; payload?: Uint8Array; body?: Uint8Array }) {
  const bytes = m.payload ?? m.body ?? new Uint8Array();
  return { headers: comparableHeaders(m.headers), payload: Buffer.from(bytes).toString('hex') };
}

function randomHeaders(rand: () => number): Record<string, HeaderValue> {
  const headers: Record<string, HeaderValue> = {};
  const count = randomInt(rand, 0, 12);
  for (let i = 0; i < count; i++) {
    const name = `h${i}-${randomBytes(rand, randomInt(rand, 0, 12)).toString('hex')}`;
    const kind = randomInt(rand, 0, 9);
    let value: HeaderValue;
    switch (kind) {
      case 0:
        value = { type: 'boolean', value: true };
        break;
      case 1:
        value = { type: 'boolean', value: false };
        break;
      case 2:
        value = { type: 'byte', value: randomInt(rand, -128, 127) };
        break;
      case 3:
        value = { type: 'short', value: randomInt(rand, -32768, 32767) };
        break;
      case 4:
        value = { type: 'integer', value: randomInt(rand, -2147483648, 2147483647) };
        break;
      case 5:
        value = { type: 'long', value: randomBytes(rand, 8).readBigInt64BE() };
        break;
      case 6:
        value = { type: 'binary', value: randomBytes(rand, randomInt(rand, 0, 300)) };
        break;
      case 7: {
        const pieces = ['a', 'Z', '9', ' ', 'é', '中', '😀', '\n', '"'];
        let s = '';
        const n = randomInt(rand, 0, 60);
        for (let k = 0; k < n; k++) s += pieces[randomInt(rand, 0, pieces.length - 1)];
        value = { type: 'string', value: s };
        break;
      }
      case 8:
        value = { type: 'timestamp', value: new Date(randomInt(rand, 0, 4_102_444_800_000)) };
        break;
      default: {
        const hex = randomBytes(rand, 16).toString('hex');
        value = {
          type: 'uuid',
          value: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
        };
      }
    }
    headers[name] = value;
  }
  return headers;
}

function randomPayloadSize(rand: () => number): number {
  const r = rand();
  if (r < 0.85) return randomInt(rand, 0, 2048);
  if (r < 0.98) return randomInt(rand, 2048, 64 * 1024);
  return randomInt(rand, 64 * 1024, 1024 * 1024);
}

function randomMessage(rand: () => number) {
  return { headers: randomHeaders(rand), payload: randomBytes(rand, randomPayloadSize(rand)) };
}

/** Splits bytes at random points (many tiny pieces sometimes, a few large ones other times). */
function randomSplit(rand: () => number, bytes: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  const mode = rand();
  let offset = 0;
  while (offset < bytes.length) {
    const size = mode < 0.3 ? randomInt(rand, 1, 16) : mode < 0.7 ? randomInt(rand, 1, 4096) : randomInt(rand, 1, 200_000);
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

function decodePieces(pieces: Uint8Array[], options: { webAssembly?: boolean } = {}): EventStreamMessage[] {
  const decoder = new EventStreamDecoder(options);
  const out: EventStreamMessage[] = [];
  for (const piece of pieces) out.push(...decoder.push(piece));
  decoder.end();
  return out;
}

function expectTypedError(fn: () => unknown, code?: string): EventStreamError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EventStreamError);
    if (code) expect((error as EventStreamError).code).toBe(code);
    return error as EventStreamError;
  }
  throw new Error('expected an EventStreamError');
}

describe('crc32', () => {
  it('matches the CRC-32/IEEE check value and continues incrementally', () => {
    const check = Buffer.from('123456789');
    expect(crc32Table(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32(check.subarray(4), crc32(check.subarray(0, 4)))).toBe(0xcbf43926);
    expect(crc32Table(check, 4, 9, crc32Table(check, 0, 4))).toBe(0xcbf43926);
  });
});

describe('the WebAssembly frame kernel', () => {
  const kernel = frameKernel!;
  const WINDOW = 80 * 1024; // where crc() sees the window (WINDOW_START in crc32.ts)

  it('is available on this runtime', () => {
    expect(kernel).toBeDefined();
  });

  it(`computes the same CRC as zlib for any range and starting value (seed ${testSeed()})`, () => {
    const rand = seededRandom(testSeed());
    const bytes = randomBytes(rand, WINDOW_BYTES);
    kernel.load(bytes, 0, bytes.length);
    for (let i = 0; i < 3000; i++) {
      const start = randomInt(rand, 0, bytes.length);
      const end = randomInt(rand, start, Math.min(bytes.length, start + randomInt(rand, 0, 3000)));
      const previous = randomInt(rand, 0, 0xffffffff);
      expect(kernel.crc(WINDOW + start, WINDOW + end, previous | 0) >>> 0).toBe(crc32(bytes.subarray(start, end), previous));
    }
  });

  it('checks a frame and compares its header block with the one stored for its size', () => {
    const event = (type: string) => encodeKiroEvent({ kind: 'event', type, json: { content: 'hello' } });
    const frame = event('assistantResponseEvent');
    const headersLength = frame.readUInt32BE(4);
    const other = event('assistantResponseEvenU'); // a header block of the same size, one byte off
    expect(other.readUInt32BE(4)).toBe(headersLength);
    // Behind some other bytes in the window, as frames after the first in a chunk are.
    const window = Buffer.concat([Buffer.alloc(37), frame]);
    kernel.load(window, 0, window.length);
    kernel.setHeaderBlock(other, 12, headersLength);
    expect(kernel.checkFrame(37, frame.length, headersLength)).toBe(FRAME_INTACT);
    kernel.setHeaderBlock(frame, 12, headersLength);
    expect(kernel.checkFrame(37, frame.length, headersLength)).toBe(FRAME_INTACT_SAME_HEADERS);
    // Every flipped bit after the prelude's lengths (which the decoder checks with the prelude CRC).
    for (let bit = 64; bit < frame.length * 8; bit++) {
      const corrupt = Buffer.from(window);
      corrupt[37 + (bit >> 3)]! ^= 1 << (bit & 7);
      kernel.load(corrupt, 0, corrupt.length);
      expect(kernel.checkFrame(37, frame.length, headersLength)).toBe(FRAME_CRC_MISMATCH);
    }
  });
});

describe('header blocks shared between decoders', () => {
  it('reuses parsed headers across decoders, but never a binary value from another chunk', () => {
    const withBinary = encodeMessage({ headers: { b: { type: 'binary', value: Buffer.from([1, 2, 3]) } }, payload: Buffer.from('x') });
    const text = encodeKiroEvent({ kind: 'event', type: 'assistantResponseEvent', json: { content: 'hi' } });
    for (const webAssembly of [true, false]) {
      const first = Buffer.concat([withBinary, text]);
      const second = Buffer.concat([withBinary, text]);
      const [binary1, text1] = new EventStreamDecoder({ webAssembly }).push(first);
      const [binary2, text2] = new EventStreamDecoder({ webAssembly }).push(second);
      expect((binary1!.headers.b!.value as Uint8Array).buffer).toBe(first.buffer);
      expect((binary2!.headers.b!.value as Uint8Array).buffer).toBe(second.buffer);
      expect(text2!.headers).toBe(text1!.headers);
      expect(text2!.headers[':event-type']).toEqual({ type: 'string', value: 'assistantResponseEvent' });
    }
  });
});

describe('captured Kiro fixtures', () => {
  const expected: Record<string, { types: string[]; check: (events: ReturnType<typeof toKiroEvent>[]) => void }> = {
    'caidaoli_simple_text_303B.bin': {
      types: ['assistantResponseEvent', 'assistantResponseEvent'],
      check: (events) =>
        expect(events.map((e) => (e.json as { content: string }).content)).toEqual(['Immersive Weather Car', 'd: Native Web Design & Dynamic Effects']),
    },
    'caidaoli_medium_text_674B.bin': {
      types: Array(5).fill('assistantResponseEvent'),
      check: (events) => {
        const text = events.map((e) => (e.json as { content: string }).content).join('');
        expect(JSON.parse(text)).toEqual({ isNewTopic: true, title: 'Weather Card' });
      },
    },
    'caidaoli_text_then_tooluse_2738B.bin': {
      types: [...Array(20).fill('assistantResponseEvent'), 'toolUseEvent'],
      check: (events) => {
        const text = events
          .slice(0, 20)
          .map((e) => (e.json as { content: string }).content)
          .join('');
        expect(text.startsWith('我将为')).toBe(true);
        expect(events[20]!.json).toEqual({ name: 'Write', toolUseId: 'tooluse_1DCqyICMR-CfTS36UNNiwA' });
      },
    },
    'kiroCLI_initial_response_plus_text_427B.bin': {
      types: ['initial-response', 'assistantResponseEvent', 'assistantResponseEvent'],
      check: (events) => {
        expect(events[0]!.json).toEqual({ conversationId: '' });
        expect(events.slice(1).map((e) => (e.json as { modelId: string }).modelId)).toEqual(['auto', 'auto']);
        expect(
          events
            .slice(1)
            .map((e) => (e.json as { content: string }).content)
            .join(''),
        ).toBe('你好！我是 ');
      },
    },
  };

  it('covers every captured .bin file', () => {
    expect(fixtureNames('.bin')).toEqual(Object.keys(expected).sort());
  });

  for (const [name, want] of Object.entries(expected)) {
    it(`decodes ${name} whole, byte by byte, and the same as smithy`, () => {
      const bytes = fixtureBytes(name);
      const messages = decodeAll(bytes);
      const events = messages.map(toKiroEvent);
      expect(events.map((e) => e.type)).toEqual(want.types);
      expect(events.every((e) => e.kind === 'event')).toBe(true);
      want.check(events);

      const oneByteAtATime = decodePieces([...bytes].map((b) => Uint8Array.of(b)));
      expect(oneByteAtATime.map(comparable)).toEqual(messages.map(comparable));
      const withoutWebAssembly = decodePieces([bytes], { webAssembly: false });
      expect(withoutWebAssembly.map(comparable)).toEqual(messages.map(comparable));

      const viaSmithy: ReturnType<typeof comparable>[] = [];
      for (let o = 0; o < bytes.length;) {
        const total = bytes.readUInt32BE(o);
        viaSmithy.push(comparable(smithy.decode(bytes.subarray(o, o + total)) as never));
        o += total;
      }
      expect(messages.map(comparable)).toEqual(viaSmithy);
    });
  }
});

describe('differential against @smithy/eventstream-codec', () => {
  const seed = testSeed();

  it(`decodes thousands of smithy-encoded random frames identically (seed ${seed})`, () => {
    const rand = seededRandom(seed);
    for (let i = 0; i < 2500; i++) {
      const message = randomMessage(rand);
      const smithyHeaders: SmithyHeaders = {};
      for (const [k, v] of Object.entries(message.headers)) smithyHeaders[k] = toSmithyHeader(v);
      const frame = smithy.encode({ headers: smithyHeaders, body: message.payload });
      const [decoded, ...rest] = decodeAll(frame);
      expect(rest).toHaveLength(0);
      expect(comparable(decoded as never)).toEqual(comparable(message as never));
    }
  });

  it(`encodes frames that smithy decodes identically (seed ${seed + 1})`, () => {
    const rand = seededRandom(seed + 1);
    for (let i = 0; i < 2500; i++) {
      const message = randomMessage(rand);
      const frame = encodeMessage(message);
      expect(comparable(smithy.decode(frame) as never)).toEqual(comparable(message as never));
    }
  });

  it(`gives the same messages for every random split of a stream (seed ${seed + 2})`, () => {
    const rand = seededRandom(seed + 2);
    for (let round = 0; round < 40; round++) {
      const messages = Array.from({ length: randomInt(rand, 1, 40) }, () => randomMessage(rand));
      const stream = Buffer.concat(messages.map((m) => encodeMessage(m)));
      const expected = messages.map((m) => comparable(m as never));
      for (let split = 0; split < 6; split++) {
        // Alternate between the WebAssembly kernel and the JavaScript table loop.
        const options = { webAssembly: split % 2 === 0 };
        expect(decodePieces(randomSplit(rand, stream), options).map((m) => comparable(m as never))).toEqual(expected);
      }
    }
  });
});

describe('zero-copy decoding', () => {
  it('returns views into the input chunk for frames that lie inside it', () => {
    const a = encodeMessage({ headers: {}, payload: Buffer.from('first') });
    const b = encodeMessage({ headers: {}, payload: Buffer.from('second') });
    const chunk = Buffer.concat([a, b]);
    const [m1, m2] = new EventStreamDecoder().push(chunk);
    expect(m1!.payload.buffer).toBe(chunk.buffer);
    expect(m2!.payload.buffer).toBe(chunk.buffer);
    expect(m2!.payload.byteOffset).toBe(chunk.byteOffset + a.length + 12);
  });

  it('assembles only the frame that spans chunks', () => {
    const a = encodeMessage({ headers: {}, payload: Buffer.from('whole') });
    const b = encodeMessage({ headers: {}, payload: Buffer.from('split across two chunks') });
    const first = Buffer.concat([a, b.subarray(0, 20)]);
    const decoder = new EventStreamDecoder();
    const [m1] = decoder.push(first);
    expect(m1!.payload.buffer).toBe(first.buffer);
    expect(decoder.bufferedBytes).toBe(20);
    const [m2] = decoder.push(b.subarray(20));
    expect(Buffer.from(m2!.payload).toString()).toBe('split across two chunks');
    expect(m2!.payload.buffer).not.toBe(first.buffer);
    decoder.end();
  });

  it('yields a message as soon as its frame is whole', () => {
    const frame = encodeKiroEvent({ kind: 'event', type: 'assistantResponseEvent', json: { content: 'hi' } });
    const decoder = new EventStreamDecoder();
    for (let i = 0; i < frame.length - 1; i++) expect(decoder.push(frame.subarray(i, i + 1))).toHaveLength(0);
    expect(decoder.push(frame.subarray(frame.length - 1))).toHaveLength(1);
  });
});

describe('corrupt input', () => {
  const frame = encodeMessage({
    headers: {
      ':event-type': { type: 'string', value: 'assistantResponseEvent' },
      n: { type: 'long', value: 42n },
      t: { type: 'timestamp', value: new Date(1_700_000_000_000) },
    },
    payload: Buffer.from('{"content":"hello"}'),
  });

  it('rejects every single-bit flip of a valid frame with a typed error (both engines)', () => {
    for (const webAssembly of [true, false]) {
      for (let bit = 0; bit < frame.length * 8; bit++) {
        const corrupt = Buffer.from(frame);
        corrupt[bit >> 3]! ^= 1 << (bit & 7);
        const error = expectTypedError(() => new EventStreamDecoder({ webAssembly }).push(corrupt));
        expect(['PRELUDE_CRC_MISMATCH', 'MESSAGE_CRC_MISMATCH']).toContain(error.code);
      }
    }
  });

  /**
   * Flips bits in two neighbouring frames so that one CRC over both frames together is unchanged
   * (CRC is linear: the second change is solved to cancel the first), while each frame's own CRC
   * is wrong. A decoder that checked a run of frames with one checksum would accept both frames.
   */
  function corruptionThatCancelsAcrossFrames(stream: Buffer, secondFrameStart: number): Buffer {
    const zeros = Buffer.alloc(stream.length);
    const effect = (mask: Buffer) => crc32(mask) ^ crc32(zeros); // linear part of the CRC change
    const flip = (positions: number[]) => {
      const mask = Buffer.alloc(stream.length);
      for (const bit of positions) mask[bit >> 3]! ^= 1 << (bit & 7);
      return mask;
    };
    const firstBit = 8 * 20; // a payload bit of the first frame
    const target = effect(flip([firstBit])) >>> 0;
    // Solve for a set of bits among 32 consecutive payload bits of the second frame (a 32-bit
    // window maps onto CRC changes one to one) whose combined effect equals `target`.
    const windowStart = 8 * (secondFrameStart + 40);
    const columns = Array.from({ length: 32 }, (_, i) => ({ value: effect(flip([windowStart + i])) >>> 0, bits: 1 << i }));
    let remaining = target;
    let chosen = 0;
    for (let bit = 31; bit >= 0; bit--) {
      const pivotIndex = columns.findIndex((c) => (c.value >>> bit) & 1);
      if (pivotIndex < 0) continue;
      const [pivot] = columns.splice(pivotIndex, 1);
      for (const c of columns) {
        if ((c.value >>> bit) & 1) {
          c.value ^= pivot!.value;
          c.bits ^= pivot!.bits;
        }
      }
      if ((remaining >>> bit) & 1) {
        remaining ^= pivot!.value;
        chosen ^= pivot!.bits;
      }
    }
    expect(remaining).toBe(0);
    const positions = [firstBit];
    for (let i = 0; i < 32; i++) if ((chosen >>> i) & 1) positions.push(windowStart + i);
    const corrupt = Buffer.from(stream);
    const mask = flip(positions);
    for (let i = 0; i < corrupt.length; i++) corrupt[i]! ^= mask[i]!;
    expect(crc32(corrupt)).toBe(crc32(stream)); // one checksum over everything cannot tell
    return corrupt;
  }

  it('checks every frame on its own: a corruption spread over frames that cancels in a shared CRC is caught', () => {
    const text = (n: number) => encodeKiroEvent({ kind: 'event', type: 'assistantResponseEvent', json: { content: 'x'.repeat(n) } });
    const frames = [text(200), text(180), text(190), text(170)];
    const stream = Buffer.concat(frames);
    const corrupt = corruptionThatCancelsAcrossFrames(stream, frames[0]!.length);
    for (const webAssembly of [true, false]) {
      const error = expectTypedError(() => new EventStreamDecoder({ webAssembly }).push(corrupt), 'MESSAGE_CRC_MISMATCH');
      expect(error.decoded).toHaveLength(0);
      // Delivered in two chunks, and one byte at a time, the first frame is still the one rejected.
      const inTwo = [corrupt.subarray(0, 300), corrupt.subarray(300)];
      expectTypedError(() => decodePieces(inTwo, { webAssembly }), 'MESSAGE_CRC_MISMATCH');
      expectTypedError(
        () =>
          decodePieces(
            [...corrupt].map((b) => Uint8Array.of(b)),
            { webAssembly },
          ),
        'MESSAGE_CRC_MISMATCH',
      );
    }
  });

  it('refuses further input after a corrupt frame', () => {
    const decoder = new EventStreamDecoder();
    const corrupt = Buffer.from(frame);
    corrupt[frame.length - 1]! ^= 0xff;
    expectTypedError(() => decoder.push(corrupt), 'MESSAGE_CRC_MISMATCH');
    const again = expectTypedError(() => decoder.push(frame), 'DECODER_FAILED');
    expect((again.cause as EventStreamError).code).toBe('MESSAGE_CRC_MISMATCH');
  });

  function withPrelude(total: number, headersLength: number, rest: Buffer = Buffer.alloc(0)): Buffer {
    const prelude = Buffer.alloc(12);
    prelude.writeUInt32BE(total, 0);
    prelude.writeUInt32BE(headersLength, 4);
    prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
    return Buffer.concat([prelude, rest]);
  }

  function withValidCrc(body: Buffer): Buffer {
    const out = Buffer.concat([body, Buffer.alloc(4)]);
    out.writeUInt32BE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
    return out;
  }

  it('reports frames that are too small or too large before buffering them', () => {
    expectTypedError(() => new EventStreamDecoder().push(withPrelude(15, 0)), 'FRAME_TOO_SMALL');
    const decoder = new EventStreamDecoder();
    expectTypedError(() => decoder.push(withPrelude(MAX_FRAME_BYTES + 1, 0)), 'FRAME_TOO_LARGE');
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('reports a header block that overruns the frame or its own length', () => {
    expectTypedError(() => new EventStreamDecoder().push(withPrelude(20, 8)), 'HEADER_OVERRUN');
    // A string header that claims 300 bytes inside a 10-byte header block.
    const header = Buffer.from([1, 0x61, 7, 0x01, 0x2c, 0, 0, 0, 0, 0]);
    const body = withValidCrc(withPrelude(12 + header.length + 4, header.length, header));
    expectTypedError(() => decodeAll(body), 'HEADER_OVERRUN');
  });

  it('reports an unknown header value type', () => {
    const header = Buffer.from([1, 0x61, 10]);
    expectTypedError(() => decodeAll(withValidCrc(withPrelude(12 + header.length + 4, header.length, header))), 'UNKNOWN_HEADER_TYPE');
  });

  it('reports a stream that ends inside a frame, in the prelude or after it', () => {
    const decoder = new EventStreamDecoder();
    decoder.push(frame.subarray(0, 5));
    expectTypedError(() => decoder.end(), 'TRUNCATED_STREAM');
    const later = new EventStreamDecoder();
    later.push(frame.subarray(0, frame.length - 1));
    expectTypedError(() => later.end(), 'TRUNCATED_STREAM');
  });

  it(`never crashes, hangs or grows without bound on random bytes (seed ${testSeed()})`, () => {
    const rand = seededRandom(testSeed());
    for (let i = 0; i < 3000; i++) {
      const decoder = new EventStreamDecoder();
      const garbage = randomBytes(rand, randomInt(rand, 0, 600));
      try {
        for (const piece of randomSplit(rand, garbage)) {
          decoder.push(piece);
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(MAX_FRAME_BYTES);
        }
        decoder.end();
      } catch (error) {
        expect(error).toBeInstanceOf(EventStreamError);
      }
    }
  });
});

describe('optimised code across garbage collections', () => {
  // Runs in a child with V8's test intrinsics (%...): optimise a caller's decode loop, force a full
  // GC with no decoder referenced by the caller, decode again, and ask V8 whether the loop is
  // still optimised. Without the decoder module's MOST_RECENT reference it is deoptimised.
  const childScript = `
Promise.all([import(process.env.DECODER_MODULE), import(process.env.ENCODER_MODULE)]).then(([decoderModule, encoderModule]) => {
  const { EventStreamDecoder } = decoderModule.EventStreamDecoder ? decoderModule : decoderModule.default;
  const { encodeMessage } = encoderModule.encodeMessage ? encoderModule : encoderModule.default;
  const frames = [];
  for (let i = 0; i < 200; i++) {
    frames.push(encodeMessage({ headers: { ':event-type': { type: 'string', value: 'x' } }, payload: Buffer.alloc(100 + (i % 300) * 7, 97) }));
  }
  const stream = Buffer.concat(frames);
  const chunks = [];
  for (let o = 0; o < stream.length; o += 1000) chunks.push(stream.subarray(o, o + 1000));
  function decodeStream() {
    const decoder = new EventStreamDecoder({ reuseAssemblyBuffers: true });
    let bytes = 0;
    for (const chunk of chunks) {
      const out = decoder.push(chunk);
      for (let i = 0; i < out.length; i++) bytes += out[i].payload.length;
    }
    decoder.end();
    return bytes;
  }
  for (let i = 0; i < 50; i++) decodeStream();
  const optimised = () => (%GetOptimizationStatus(decodeStream) & 16) !== 0;
  // Optimise the loop; a collection of earlier garbage may undo that, so settle the heap first
  // and try again if it did.
  let before = false;
  for (let attempt = 0; attempt < 5 && !before; attempt++) {
    gc();
    decodeStream();
    %PrepareFunctionForOptimization(decodeStream);
    decodeStream();
    %OptimizeFunctionOnNextCall(decodeStream);
    decodeStream();
    before = optimised();
  }
  gc();
  decodeStream();
  console.log(JSON.stringify({ before, after: optimised() }));
});
`;

  it('a full GC between two streams does not deoptimise the caller of push()', () => {
    const result = spawnSync(process.execPath, ['--allow-natives-syntax', '--expose-gc', '--import', 'tsx', '-e', childScript], {
      cwd: path.resolve(__dirname, '..', '..'),
      env: {
        ...process.env,
        DECODER_MODULE: path.resolve(__dirname, '..', '..', 'src', 'kiro', 'codec', 'eventstream.ts'),
        ENCODER_MODULE: path.resolve(__dirname, '..', 'support', 'eventstream-encoder.ts'),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toEqual({ before: true, after: true });
  });
});

describe('Kiro events', () => {
  it('reads events, exceptions and framework errors from their headers', () => {
    const frames = [
      encodeKiroEvent({ kind: 'event', type: 'toolUseEvent', json: { toolUseId: 't1', name: 'x', input: '{"a"', stop: false } }),
      encodeKiroEvent({ kind: 'exception', type: 'ContentLengthExceededException', json: { message: 'too long' } }),
      encodeKiroEvent({ kind: 'error', type: 'InternalFailure', json: { message: 'boom' } }),
    ];
    const events = decodeAll(Buffer.concat(frames)).map(toKiroEvent);
    expect(events).toEqual([
      { kind: 'event', type: 'toolUseEvent', json: { toolUseId: 't1', name: 'x', input: '{"a"', stop: false } },
      { kind: 'exception', type: 'ContentLengthExceededException', json: { message: 'too long' } },
      { kind: 'error', type: 'InternalFailure', json: { message: 'boom' } },
    ]);
  });

  it('keeps a plain-text error payload as its message', () => {
    const frame = encodeMessage({
      headers: {
        ':message-type': { type: 'string', value: 'error' },
        ':error-code': { type: 'string', value: 'Throttled' },
      },
      payload: Buffer.from('slow down'),
    });
    expect(toKiroEvent(decodeAll(frame)[0]!)).toEqual({ kind: 'error', type: 'Throttled', json: { message: 'slow down' } });
  });

  it('rejects an event without a type and an event whose payload is not JSON', () => {
    const noType = encodeMessage({ headers: { ':message-type': { type: 'string', value: 'event' } }, payload: Buffer.from('{}') });
    expect(() => toKiroEvent(decodeAll(noType)[0]!)).toThrow(/:event-type/);
    const notJson = encodeMessage({
      headers: { ':message-type': { type: 'string', value: 'event' }, ':event-type': { type: 'string', value: 'x' } },
      payload: Buffer.from('{oops'),
    });
    expect(() => toKiroEvent(decodeAll(notJson)[0]!)).toThrow(/not JSON/);
  });
});
