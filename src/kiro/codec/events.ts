// One decoded EventStream message → one Kiro event, read from the `:message-type` header:
//   event      → `:event-type` (assistantResponseEvent, toolUseEvent, meteringEvent, …)
//   exception  → `:exception-type` (ContentLengthExceededException, ThrottlingException, …)
//   error      → `:error-code` (framework errors; the text is in `:error-message` or the payload)
import type { EventStreamMessage, Headers } from './eventstream';

export type KiroEventKind = 'event' | 'exception' | 'error';

export interface KiroEvent {
  kind: KiroEventKind;
  type: string;
  /** The payload parsed as JSON (`{}` for an empty payload). */
  json: unknown;
}

export class KiroEventError extends Error {
  override readonly name = 'KiroEventError';
  constructor(
    readonly code: 'MISSING_HEADER' | 'INVALID_PAYLOAD',
    message: string,
  ) {
    super(message);
  }
}

function stringHeader(headers: Headers, name: string): string | undefined {
  const header = headers[name];
  return header?.type === 'string' ? header.value : undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

export function toKiroEvent(message: EventStreamMessage): KiroEvent {
  const { headers, payload } = message;
  const messageType = stringHeader(headers, ':message-type') ?? 'event';
  const text = payload.length === 0 ? '' : decoder.decode(payload);

  if (messageType === 'error') {
    const type = stringHeader(headers, ':error-code') ?? 'UnknownError';
    const headerMessage = stringHeader(headers, ':error-message');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      // Framework errors may carry plain text; keep it as the message rather than losing it.
      json = { message: text };
    }
    if (headerMessage && json && typeof json === 'object' && !('message' in json)) {
      json = { ...(json as object), message: headerMessage };
    }
    return { kind: 'error', type, json };
  }

  const kind: KiroEventKind = messageType === 'exception' ? 'exception' : 'event';
  const type = stringHeader(headers, kind === 'exception' ? ':exception-type' : ':event-type');
  if (!type) {
    throw new KiroEventError('MISSING_HEADER', `${kind} frame without ${kind === 'exception' ? ':exception-type' : ':event-type'} header`);
  }
  if (!text) return { kind, type, json: {} };
  try {
    return { kind, type, json: JSON.parse(text) };
  } catch {
    if (kind === 'exception') return { kind, type, json: { message: text } };
    throw new KiroEventError('INVALID_PAYLOAD', `${type} payload is not JSON (${text.length} bytes)`);
  }
}
