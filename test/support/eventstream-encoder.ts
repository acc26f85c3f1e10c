// The EventStream encoder: frames as Kiro sends them, for the fake upstream, the codec tests and the
// parser benchmark. The bridge itself only decodes, so this lives with the test support code.
import { crc32Range } from '../../src/kiro/codec/crc32';
import {
  EventStreamError,
  MAX_FRAME_BYTES,
  PRELUDE_BYTES,
  TYPE_BINARY,
  TYPE_BYTE,
  TYPE_FALSE,
  TYPE_INTEGER,
  TYPE_LONG,
  TYPE_SHORT,
  TYPE_STRING,
  TYPE_TIMESTAMP,
  TYPE_TRUE,
  TYPE_UUID,
  type HeaderValue,
  type Headers,
} from '../../src/kiro/codec/eventstream';
import type { KiroEvent } from '../../src/kiro/codec/events';

function encodedHeaderSize(name: string, header: HeaderValue): number {
  const nameBytes = Buffer.byteLength(name, 'utf8');
  if (nameBytes === 0 || nameBytes > 255) throw new RangeError(`header name "${name}" must be 1-255 bytes`);
  const base = 1 + nameBytes + 1;
  switch (header.type) {
    case 'boolean':
      return base;
    case 'byte':
      return base + 1;
    case 'short':
      return base + 2;
    case 'integer':
      return base + 4;
    case 'long':
    case 'timestamp':
      return base + 8;
    case 'binary':
      return base + 2 + header.value.length;
    case 'string':
      return base + 2 + Buffer.byteLength(header.value, 'utf8');
    case 'uuid':
      return base + 16;
  }
}

function writeHeader(out: Buffer, o: number, name: string, header: HeaderValue): number {
  o = out.writeUInt8(Buffer.byteLength(name, 'utf8'), o);
  o += out.write(name, o, 'utf8');
  switch (header.type) {
    case 'boolean':
      return out.writeUInt8(header.value ? TYPE_TRUE : TYPE_FALSE, o);
    case 'byte':
      o = out.writeUInt8(TYPE_BYTE, o);
      return out.writeInt8(header.value, o);
    case 'short':
      o = out.writeUInt8(TYPE_SHORT, o);
      return out.writeInt16BE(header.value, o);
    case 'integer':
      o = out.writeUInt8(TYPE_INTEGER, o);
      return out.writeInt32BE(header.value, o);
    case 'long':
      o = out.writeUInt8(TYPE_LONG, o);
      return out.writeBigInt64BE(header.value, o);
    case 'timestamp':
      o = out.writeUInt8(TYPE_TIMESTAMP, o);
      return out.writeBigInt64BE(BigInt(header.value.getTime()), o);
    case 'binary':
    case 'string': {
      const bytes = header.type === 'string' ? Buffer.from(header.value, 'utf8') : header.value;
      if (bytes.length > 0xffff) throw new RangeError(`header "${name}" value exceeds 65535 bytes`);
      o = out.writeUInt8(header.type === 'string' ? TYPE_STRING : TYPE_BINARY, o);
      o = out.writeUInt16BE(bytes.length, o);
      out.set(bytes, o);
      return o + bytes.length;
    }
    case 'uuid': {
      const hex = header.value.replace(/-/g, '');
      if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`header "${name}" is not a UUID`);
      o = out.writeUInt8(TYPE_UUID, o);
      return o + out.write(hex, o, 'hex');
    }
  }
}

/** Encodes one message into a complete frame. */
export function encodeMessage(message: { headers: Headers; payload: Uint8Array }): Buffer {
  const entries = Object.entries(message.headers);
  let headersLength = 0;
  for (const [name, header] of entries) headersLength += encodedHeaderSize(name, header);
  const total = PRELUDE_BYTES + headersLength + message.payload.length + 4;
  if (total > MAX_FRAME_BYTES) throw new EventStreamError('FRAME_TOO_LARGE', `message of ${total} bytes exceeds the frame cap`);
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headersLength, 4);
  out.writeUInt32BE(crc32Range(out, 0, 8), 8);
  let o = PRELUDE_BYTES;
  for (const [name, header] of entries) o = writeHeader(out, o, name, header);
  out.set(message.payload, o);
  out.writeUInt32BE(crc32Range(out, 0, total - 4), total - 4);
  return out;
}

const str = (value: string) => ({ type: 'string', value }) as const;

/** Encodes a Kiro event as the upstream sends it: three string headers, in Kiro's order. */
export function encodeKiroEvent(event: KiroEvent): Buffer {
  const payload = Buffer.from(JSON.stringify(event.json ?? {}), 'utf8');
  if (event.kind === 'event') {
    return encodeMessage({
      headers: { ':event-type': str(event.type), ':content-type': str('application/json'), ':message-type': str('event') },
      payload,
    });
  }
  if (event.kind === 'exception') {
    return encodeMessage({
      headers: { ':exception-type': str(event.type), ':content-type': str('application/json'), ':message-type': str('exception') },
      payload,
    });
  }
  const message = (event.json as { message?: unknown } | null)?.message;
  return encodeMessage({
    headers: {
      ':error-code': str(event.type),
      ':error-message': str(typeof message === 'string' ? message : event.type),
      ':message-type': str('error'),
    },
    payload,
  });
}
