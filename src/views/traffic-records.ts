// Turns bridge RequestRecords into what may leave the extension host: table rows (no bodies) and
// the details of one request, shaped by the capture mode and always scrubbed of secrets. The
// bridge redacts records too; this runs again on purpose, as the last step before postMessage or
// a file write, so a record that skipped redaction upstream still cannot leak.

import type { Redactor } from '../common/redact';
import type { CaptureMode, RequestRecord } from '../common/traffic';
import type { TrafficDetails, TrafficRow } from '../common/traffic-protocol';

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
  const numbers = {
    status: record.status,
    ttftMs: record.ttftMs,
    durationMs: record.durationMs,
    inputTokens: record.inputTokens,
    outputTokens: record.outputTokens,
    credits: record.credits,
  };
  for (const [key, value] of Object.entries(numbers)) {
    if (typeof value === 'number' && Number.isFinite(value)) (row as unknown as Record<string, unknown>)[key] = value;
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
 * Everything the details pane shows for one record. `off` drops the bodies, `redacted` keeps
 * their structure but replaces conversation text with its length, `full` keeps them; secrets
 * are removed in every mode.
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
    const shaped = capture === 'redacted' ? elideContent(body) : body;
    (details as unknown as Record<string, unknown>)[field] = redactor.value(shaped);
  }
  return details;
}

// ---- `redacted` capture: keep the shape, drop what people wrote -------------------------------

/**
 * Keys whose string values describe the request's shape rather than its content: roles, types,
 * model and tool names, ids, stop reasons, protocol headers. Every other string becomes a length
 * marker. An allow-list, so a field we never heard of is hidden rather than shown.
 */
const STRUCTURAL_KEYS = new Set(
  [
    'type',
    'role',
    'model',
    'modelid',
    'id',
    'name',
    'tool_use_id',
    'tooluseid',
    'tool_call_id',
    'stop_reason',
    'stopreason',
    'finish_reason',
    'finishreason',
    'object',
    'status',
    'chattriggertype',
    'origin',
    'agenttasktype',
    'agentcontinuationid',
    'conversationid',
    'messageid',
    'utteranceid',
    'unit',
    'unitplural',
    'media_type',
    'mediatype',
    'format',
    'encoding',
    'method',
    'event',
    'eventtype',
    'reasoning_effort',
    'effort',
    'service_tier',
    'tool_choice',
    'mode',
    'anthropic-version',
    'anthropic-beta',
    'user-agent',
    'content-type',
    'accept',
    'errorclass',
    'reason',
  ].map((k) => k.toLowerCase()),
);

/** Subtrees that are the model's or the user's payload as a whole (tool arguments, results). */
const OPAQUE_KEYS = new Set(['input', 'json', 'arguments', 'metadata', 'partial_json', 'content_block_text']);

function isStructural(key: string | undefined): boolean {
  if (key === undefined) return false;
  const k = key.toLowerCase();
  return STRUCTURAL_KEYS.has(k) || k.startsWith('x-stainless-');
}

/** Markers that already stand in for content (ours, the redactor's, the bridge's shortening). */
const EXISTING_MARKER = /^\[(?:text: \d+ chars|\d+ (?:base64 )?chars|\d+ bytes|REDACTED|Circular)\]$/;
/** The bridge's `redacted` capture shortens long strings to `<first 256 chars>… [N chars]`. */
const SHORTENED = /… \[(\d+) chars\]$/;

function marker(text: string): string {
  if (EXISTING_MARKER.test(text)) return text;
  const shortened = SHORTENED.exec(text);
  return `[text: ${shortened ? shortened[1] : text.length} chars]`;
}

/** A copy of `value` with conversation text replaced by length markers (see STRUCTURAL_KEYS). */
export function elideContent(value: unknown): unknown {
  return elide(value, undefined, false, new WeakSet());
}

function elide(value: unknown, key: string | undefined, opaque: boolean, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return !opaque && isStructural(key) && value.length <= 200 ? value : marker(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => elide(v, key, opaque, seen));
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = elide(v, k, opaque || OPAQUE_KEYS.has(k.toLowerCase()), seen);
  return out;
}
