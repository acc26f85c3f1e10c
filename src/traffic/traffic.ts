// The traffic record: one per client request, built by the bridge as the request progresses and
// published through a TrafficSink (the extension's traffic view, the CLI's request log). Records
// are redacted before they leave the bridge; body fields exist only when capture allows.

export type CaptureMode = 'off' | 'redacted' | 'full';
export const CAPTURE_MODES: readonly CaptureMode[] = ['off', 'redacted', 'full'];

export type TrafficApi = 'anthropic' | 'openai' | 'responses' | 'count_tokens' | 'models' | 'other';

export interface AttemptRecord {
  /** Masked account label. */
  account: string;
  /** HTTP status from Kiro (0 when the connection failed). */
  status: number;
  /** Error class from kiro/errors, when the attempt failed. */
  errorClass?: string;
  durationMs: number;
}

export interface TrafficFlags {
  streamed: boolean;
  retried: boolean;
  failedOver: boolean;
  truncated: boolean;
  repaired: boolean;
}

/**
 * How a request went, in numbers: the fields the record, the traffic view's rows and the CLI's
 * JSON log line all carry under the same names.
 */
export interface RequestFigures {
  /** HTTP status sent to the client (undefined while in flight). */
  status?: number;
  stopReason?: string;
  ttftMs?: number;
  durationMs?: number;
  /** Every prompt token (uncached + cache read + cache write). */
  inputTokens?: number;
  outputTokens?: number;
  credits?: number;
  /** Prompt tokens Kiro read from / wrote to its prompt cache; set only when Kiro reported them. */
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

type NumericFigure = { [K in keyof RequestFigures]-?: NonNullable<RequestFigures[K]> extends number ? K : never }[keyof RequestFigures];

/** Every number in RequestFigures, in the order rows carry them. */
export const REQUEST_FIGURE_NUMBERS = [
  'status',
  'ttftMs',
  'durationMs',
  'inputTokens',
  'outputTokens',
  'credits',
  'cacheReadTokens',
  'cacheWriteTokens',
] as const satisfies readonly NumericFigure[];

export interface RequestRecord extends RequestFigures {
  id: string;
  /** Epoch milliseconds. */
  startedAt: number;
  method: string;
  path: string;
  /** Client tool from the user agent: Claude Code, Cline, Roo Code, Continue, Codex, SDK, curl, … */
  client: string;
  api: TrafficApi;
  stream: boolean;
  modelAsked?: string;
  kiroModel?: string;
  /** Masked label of the account that served (or last tried). */
  account?: string;
  attempts: AttemptRecord[];
  /** Conversion repairs applied to make the request acceptable to Kiro. */
  repairs: string[];
  flags: TrafficFlags;
  error?: { type: string; message: string };
  /** Present only when capture is 'redacted' or 'full'; always scrubbed of secrets. */
  clientRequest?: unknown;
  kiroRequest?: unknown;
  upstreamEvents?: unknown[];
  response?: unknown;
}

export interface TrafficSink {
  /** A new request arrived (also called again with the same id as it progresses). */
  update(record: Readonly<RequestRecord>): void;
}

export const nullTrafficSink: TrafficSink = { update() {} };

/**
 * The share of the prompt Kiro served from its prompt cache (0..1), or undefined when Kiro did not
 * report cache numbers for the request.
 */
export function cacheHitRate(record: Pick<RequestRecord, 'cacheReadTokens' | 'inputTokens'>): number | undefined {
  if (record.cacheReadTokens === undefined || !record.inputTokens || record.inputTokens <= 0) return undefined;
  return Math.min(1, record.cacheReadTokens / record.inputTokens);
}
