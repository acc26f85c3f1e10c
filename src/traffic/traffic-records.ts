// Turns bridge RequestRecords into what may leave the extension host: table rows (no bodies) and
// the details of one request, shaped by the capture mode and always scrubbed of secrets. The
// bridge redacts records too; this runs again on purpose, as the last step before postMessage or
// a file write, so a record that skipped redaction upstream still cannot leak.

import type { Redactor } from '../common/redact';
import { REQUEST_FIGURE_NUMBERS, type CaptureMode, type RequestRecord } from './traffic';
import type { TrafficDetails, TrafficRow } from './traffic-protocol';

/**
 * A table row for one record, every string scrubbed. Pass one `memo` map across a batch of rows
 * (never keep it longer: the redactor's known secrets may change): clients, models and accounts
 * repeat on nearly every row, and a 10,000-row snapshot then scrubs each distinct value once.
 */
export function toRow(record: Readonly<RequestRecord>, redactor: Redactor, memo?: Map<string, string>): TrafficRow {
  const text = (s: string | undefined): string | undefined => {
    if (s === undefined) return undefined;
    if (!memo) return redactor.text(s);
    let out = memo.get(s);
    if (out === undefined) {
      out = redactor.text(s);
      memo.set(s, out);
    }
    return out;
  };
  const row: TrafficRow = {
    id: record.id,
    startedAt: record.startedAt,
    method: record.method,
    path: text(record.path)!,
    client: text(record.client)!,
    api: record.api,
    stream: record.stream,
    flags: {
      streamed: Boolean(record.flags?.streamed),
      retried: Boolean(record.flags?.retried),
      failedOver: Boolean(record.flags?.failedOver),
      truncated: Boolean(record.flags?.truncated),
      repaired: Boolean(record.flags?.repaired) || (record.repairs?.length ?? 0) > 0,
    },
    attempts: record.attempts?.length ?? 0,
  };
  const strings = {
    modelAsked: text(record.modelAsked),
    kiroModel: text(record.kiroModel),
    account: text(record.account),
    stopReason: text(record.stopReason),
    errorType: text(record.error?.type),
    errorMessage: text(record.error?.message),
  };
  for (const [key, value] of Object.entries(strings)) if (value !== undefined) (row as unknown as Record<string, unknown>)[key] = value;
  for (const key of REQUEST_FIGURE_NUMBERS) {
    const value = record[key];
    if (typeof value === 'number' && Number.isFinite(value)) row[key] = value;
  }
  return row;
}

/** Rows for many records, sharing one memo of scrubbed strings. */
export function toRows(records: readonly Readonly<RequestRecord>[], redactor: Redactor): TrafficRow[] {
  const memo = new Map<string, string>();
  return records.map((r) => toRow(r, redactor, memo));
}

/** The body fields of a record, in the order the details view shows them. */
export const BODY_FIELDS = ['clientRequest', 'kiroRequest', 'upstreamEvents', 'response'] as const;

/**
 * Everything the details pane shows for one record. `off` drops the bodies, `redacted` shortens
 * long strings to their first 256 characters and image data to its size (the bridge captures the
 * same way, see src/bridge/traffic.ts), `full` keeps them; secrets are removed in every mode.
 */
export function toDetails(record: Readonly<RequestRecord>, capture: CaptureMode, redactor: Redactor): TrafficDetails {
  const details: TrafficDetails = {
    row: toRow(record, redactor),
    attempts: (record.attempts ?? []).map((a) => {
      const attempt: TrafficDetails['attempts'][number] = {
        account: redactor.text(a.account),
        status: a.status,
        durationMs: a.durationMs,
      };
      if (a.errorClass !== undefined) attempt.errorClass = redactor.text(a.errorClass);
      return attempt;
    }),
    repairs: (record.repairs ?? []).map((r) => redactor.text(r)),
    capture,
  };
  if (record.error) details.error = { type: redactor.text(record.error.type), message: redactor.text(record.error.message) };
  if (capture === 'off') return details;
  for (const field of BODY_FIELDS) {
    const body = record[field];
    if (body === undefined) continue;
    // Scrub first, then shorten: shortening first could cut a secret in two and leave a piece
    // too short for any pattern to recognise.
    const scrubbed = redactor.value(body);
    (details as unknown as Record<string, unknown>)[field] = capture === 'redacted' ? shortenContent(scrubbed) : scrubbed;
  }
  return details;
}

// ---- `redacted` capture ------------------------------------------------------------------------

/** Strings longer than this keep only their start in `redacted` capture. */
export const SHORT_STRING = 256;

/** What the bridge (and this module) leave behind: `<first 256 chars>… [N chars]`. */
const SHORTENED = /^[\s\S]{0,320}… \[\d+ chars\]$/;

/**
 * A copy of `value` with every string longer than SHORT_STRING cut to its start plus its length,
 * and base64 image payloads (Anthropic `data`, Kiro `bytes`) replaced by their size. Applying it
 * twice changes nothing, so bodies the bridge already shortened pass through as they are.
 */
export function shortenContent(value: unknown): unknown {
  return shorten(value, new WeakSet());
}

function shorten(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') {
    if (value.length <= SHORT_STRING || SHORTENED.test(value)) return value;
    return `${value.slice(0, SHORT_STRING)}… [${value.length} chars]`;
  }
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => shorten(v, seen));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = (key === 'data' || key === 'bytes') && typeof v === 'string' && v.length > SHORT_STRING ? `[${v.length} base64 chars]` : shorten(v, seen);
  }
  return out;
}
