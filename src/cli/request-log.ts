// What `serve` writes on stderr: one line per finished request (from the bridge's TrafficSink)
// and the log messages, either for a person (`pretty`, coloured on a terminal) or for a machine
// (`json`, one object a line). Records arrive redacted and with masked account labels; every line
// passes the redactor once more, so a key or token can never reach the log, whatever a future
// field holds.
import type { Logger, LogLevel } from '../common/logger';
import type { Redactor } from '../common/redact';
import { cacheHitRate, type RequestFigures, type RequestRecord, type TrafficSink } from '../traffic/traffic';
import { formatRecordLine } from '../bridge/traffic';
import type { LogFormat } from './settings';
import type { OutputStream, Style } from './terminal';

const LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

/** The JSON log line of one finished request. Field names are part of the CLI's interface. */
export interface RequestLogLine extends RequestFigures {
  time: string;
  level: 'info' | 'warn' | 'error';
  msg: 'request';
  id: string;
  method: string;
  path: string;
  api: string;
  client: string;
  stream: boolean;
  model?: string;
  kiroModel?: string;
  /** Masked account label. */
  account?: string;
  /** Kiro's prompt cache, when Kiro reported it: the share of prompt tokens read from it (0..1). */
  cacheHitRate?: number;
  attempts: number;
  retried: boolean;
  failedOver: boolean;
  repairs: number;
  error?: { type: string; message: string };
}

export function requestLogLine(record: Readonly<RequestRecord>): RequestLogLine {
  const status = record.status;
  const rate = cacheHitRate(record);
  return {
    time: new Date(record.startedAt).toISOString(),
    level: status === undefined || status < 400 ? 'info' : status >= 500 ? 'error' : 'warn',
    msg: 'request',
    id: record.id,
    method: record.method,
    path: record.path,
    api: record.api,
    client: record.client,
    stream: record.stream,
    model: record.modelAsked,
    kiroModel: record.kiroModel,
    account: record.account,
    status,
    stopReason: record.stopReason,
    ttftMs: record.ttftMs,
    durationMs: record.durationMs,
    inputTokens: record.inputTokens,
    outputTokens: record.outputTokens,
    cacheReadTokens: record.cacheReadTokens,
    cacheWriteTokens: record.cacheWriteTokens,
    cacheHitRate: rate === undefined ? undefined : Math.round(rate * 1000) / 1000,
    credits: record.credits,
    attempts: record.attempts.length,
    retried: record.flags.retried,
    failedOver: record.flags.failedOver,
    repairs: record.repairs.length,
    error: record.error,
  };
}

/** The pretty line: the bridge's own format, with the status coloured on a terminal. */
export function prettyRequestLine(record: Readonly<RequestRecord>, style: Style): string {
  const line = formatRecordLine(record);
  if (!style.color || record.status === undefined) return line;
  // formatRecordLine starts "HH:MM:SS STATUS …".
  const time = line.slice(0, 9);
  const rest = line.slice(9);
  const code = String(record.status);
  return rest.startsWith(code) ? `${style.dim(time.trimEnd())} ${style.status(record.status)}${rest.slice(code.length)}` : line;
}

export interface RequestLogOptions {
  stream: OutputStream;
  format: LogFormat;
  style: Style;
  redactor: Redactor;
  /** No request lines at all (--quiet). */
  quiet?: boolean;
}

/** One line per finished request (records are updated several times; only the last one counts). */
export function requestLog(options: RequestLogOptions): TrafficSink {
  return {
    update(record) {
      if (options.quiet || record.durationMs === undefined || record.status === undefined) return;
      const line = options.format === 'json' ? JSON.stringify(requestLogLine(record)) : prettyRequestLine(record, options.style);
      options.stream.write(`${options.redactor.text(line)}\n`);
    },
  };
}

function detailText(details: unknown[]): string {
  return details.map((d) => (d instanceof Error ? d.message : typeof d === 'string' ? d : JSON.stringify(d))).join(' ');
}

/** A Logger on stderr in the chosen format, from `minimum` up. */
export function streamLogger(options: { stream: OutputStream; format: LogFormat; style: Style; redactor: Redactor; minimum: LogLevel }): Logger {
  const floor = LEVELS.indexOf(options.minimum);
  const line =
    (level: LogLevel) =>
    (message: string, ...details: unknown[]) => {
      if (LEVELS.indexOf(level) < floor) return;
      const text = details.length ? `${message} ${detailText(details)}` : message;
      if (options.format === 'json') {
        options.stream.write(`${options.redactor.text(JSON.stringify({ time: new Date().toISOString(), level, msg: text }))}\n`);
        return;
      }
      const tag =
        level === 'error'
          ? options.style.paint('red', `[${level}]`)
          : level === 'warn'
            ? options.style.paint('yellow', `[${level}]`)
            : options.style.dim(`[${level}]`);
      options.stream.write(`${tag} ${options.redactor.text(text)}\n`);
    };
  return { trace: line('trace'), debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
