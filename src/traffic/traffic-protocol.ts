// The typed protocol between the traffic view's host side (src/traffic/traffic-* and src/views/traffic-view.ts) and its webview
// front end (media/src/traffic). Both sides import this one module: the unions say what may be
// sent, and the validators check what actually arrives (a webview is a separate process and its
// messages are untrusted input; the host's are checked too so a version skew fails loudly).
// No `vscode` or node imports: it is bundled into the browser script as well.

import {
  CAPTURE_MODES,
  REQUEST_FIGURE_NUMBERS,
  type AttemptRecord,
  type CaptureMode,
  type RequestFigures,
  type TrafficApi,
  type TrafficFlags,
} from './traffic';

/** What the table shows for one request: the record without its bodies. */
export interface TrafficRow extends RequestFigures {
  id: string;
  /** Epoch milliseconds. */
  startedAt: number;
  method: string;
  path: string;
  client: string;
  api: TrafficApi | string;
  stream: boolean;
  modelAsked?: string;
  kiroModel?: string;
  account?: string;
  flags: TrafficFlags;
  /** Number of upstream attempts (more than one means a retry or a fail-over). */
  attempts: number;
  errorType?: string;
  errorMessage?: string;
}

/** Everything about one request, sent only for the selected row. Always redacted host-side. */
export interface TrafficDetails {
  row: TrafficRow;
  attempts: AttemptRecord[];
  repairs: string[];
  error?: { type: string; message: string };
  /** The capture mode the bodies below were prepared under. */
  capture: CaptureMode;
  /** True when this record's bodies were dropped because it fell out of the newest few. */
  bodiesDropped?: boolean;
  clientRequest?: unknown;
  kiroRequest?: unknown;
  upstreamEvents?: unknown[];
  response?: unknown;
}

/** One account in the pool as the header shows it. Labels are masked before they get here. */
export interface AccountSummary {
  label: string;
  /** `active`, `cooldown`, `exhausted`, `suspended`, `invalid`, `disabled`, `refreshing`, … */
  state: string;
  creditsUsed?: number;
  creditsLimit?: number;
  /** Epoch milliseconds of the next quota reset. */
  resetsAt?: number;
  /** A short human note, e.g. why the account is cooling down. */
  note?: string;
}

export interface MinuteBucket {
  /** Epoch milliseconds of the minute's start. */
  t: number;
  requests: number;
  failed: number;
  /** Latency percentiles of the requests that finished in this minute (ms). */
  p50?: number;
  p95?: number;
  /** Credits used by requests that finished in this minute. */
  credits: number;
}

export interface TrafficStats {
  sessionStartedAt: number;
  requests: number;
  failed: number;
  inFlight: number;
  credits: number;
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens of the requests Kiro reported cache numbers for, and what its cache served of them. */
  cachedPromptTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Session-wide latency percentiles over recent finished requests (ms). */
  p50?: number;
  p95?: number;
  /** Credits used before the first bucket below (so the chart can draw a running total). */
  creditsBefore: number;
  /** Consecutive minutes, oldest first, ending with the current one. */
  minutes: MinuteBucket[];
}

export interface TrafficViewConfig {
  captureBodies: CaptureMode;
  maxEntries: number;
}

// ---- host → webview ------------------------------------------------------------------------

export type HostMessage =
  | {
      type: 'snapshot';
      /** Oldest first. */
      rows: TrafficRow[];
      stats: TrafficStats;
      accounts: AccountSummary[];
      config: TrafficViewConfig;
      paused: boolean;
    }
  | { type: 'records'; added: TrafficRow[]; updated: TrafficRow[]; removed: string[] }
  | { type: 'stats'; stats: TrafficStats }
  | { type: 'accounts'; accounts: AccountSummary[] }
  | { type: 'config'; config: TrafficViewConfig }
  | { type: 'cleared' }
  /** While paused the table is frozen; `pending` counts requests that arrived since. */
  | { type: 'paused'; paused: boolean; pending: number }
  /** The answer to `select`; `details` is null when the record is gone. */
  | { type: 'details'; id: string; details: TrafficDetails | null };

// ---- webview → host ------------------------------------------------------------------------

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'select'; id: string | null }
  | { type: 'exportRepro'; id: string }
  | { type: 'clear' }
  | { type: 'pause'; paused: boolean }
  /** Problems the front end wants in the extension's log (malformed messages, render errors). */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

// ---- validation ----------------------------------------------------------------------------

/** The outcome of checking one inbound message. */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

type Obj = Record<string, unknown>;

class Invalid extends Error {}

function fail(path: string, expected: string): never {
  throw new Invalid(`${path}: expected ${expected}`);
}

function obj(value: unknown, path: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object');
  return value as Obj;
}

function str(value: unknown, path: string, maxLength = 1_000_000): string {
  if (typeof value !== 'string') fail(path, 'a string');
  if (value.length > maxLength) fail(path, `at most ${maxLength} characters`);
  return value;
}

function num(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'a finite number');
  return value;
}

function bool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, 'a boolean');
  return value;
}

function optional<T>(value: unknown, path: string, check: (v: unknown, p: string) => T): T | undefined {
  return value === undefined ? undefined : check(value, path);
}

function arr<T>(value: unknown, path: string, check: (v: unknown, p: string) => T): T[] {
  if (!Array.isArray(value)) fail(path, 'an array');
  return value.map((v, i) => check(v, `${path}[${i}]`));
}

function oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !options.includes(value as T)) fail(path, `one of ${options.join(', ')}`);
  return value as T;
}

function flags(value: unknown, path: string): TrafficFlags {
  const o = obj(value, path);
  return {
    streamed: bool(o.streamed, `${path}.streamed`),
    retried: bool(o.retried, `${path}.retried`),
    failedOver: bool(o.failedOver, `${path}.failedOver`),
    truncated: bool(o.truncated, `${path}.truncated`),
    repaired: bool(o.repaired, `${path}.repaired`),
  };
}

/** Checks one table row; returns a clean copy holding only the known fields. */
export function checkRow(value: unknown, path = 'row'): TrafficRow {
  const o = obj(value, path);
  const row: TrafficRow = {
    id: str(o.id, `${path}.id`, 200),
    startedAt: num(o.startedAt, `${path}.startedAt`),
    method: str(o.method, `${path}.method`, 20),
    path: str(o.path, `${path}.path`, 2000),
    client: str(o.client, `${path}.client`, 200),
    api: str(o.api, `${path}.api`, 40),
    stream: bool(o.stream, `${path}.stream`),
    flags: flags(o.flags, `${path}.flags`),
    attempts: num(o.attempts, `${path}.attempts`),
  };
  const optionalStrings = ['modelAsked', 'kiroModel', 'account', 'stopReason', 'errorType', 'errorMessage'] as const;
  for (const key of optionalStrings) {
    const v = optional(o[key], `${path}.${key}`, (x, p) => str(x, p, 10_000));
    if (v !== undefined) row[key] = v;
  }
  for (const key of REQUEST_FIGURE_NUMBERS) {
    const v = optional(o[key], `${path}.${key}`, num);
    if (v !== undefined) row[key] = v;
  }
  return row;
}

function attempt(value: unknown, path: string): AttemptRecord {
  const o = obj(value, path);
  const out: AttemptRecord = {
    account: str(o.account, `${path}.account`, 200),
    status: num(o.status, `${path}.status`),
    durationMs: num(o.durationMs, `${path}.durationMs`),
  };
  const errorClass = optional(o.errorClass, `${path}.errorClass`, (x, p) => str(x, p, 200));
  if (errorClass !== undefined) out.errorClass = errorClass;
  return out;
}

function details(value: unknown, path: string): TrafficDetails {
  const o = obj(value, path);
  const out: TrafficDetails = {
    row: checkRow(o.row, `${path}.row`),
    attempts: arr(o.attempts, `${path}.attempts`, attempt),
    repairs: arr(o.repairs, `${path}.repairs`, (x, p) => str(x, p, 2000)),
    capture: oneOf(o.capture, `${path}.capture`, CAPTURE_MODES),
  };
  const dropped = optional(o.bodiesDropped, `${path}.bodiesDropped`, bool);
  if (dropped !== undefined) out.bodiesDropped = dropped;
  if (o.error !== undefined) {
    const e = obj(o.error, `${path}.error`);
    out.error = { type: str(e.type, `${path}.error.type`, 200), message: str(e.message, `${path}.error.message`) };
  }
  // Bodies are free-form JSON; they were redacted before they were sent.
  if (o.clientRequest !== undefined) out.clientRequest = o.clientRequest;
  if (o.kiroRequest !== undefined) out.kiroRequest = o.kiroRequest;
  if (o.upstreamEvents !== undefined) out.upstreamEvents = arr(o.upstreamEvents, `${path}.upstreamEvents`, (x) => x);
  if (o.response !== undefined) out.response = o.response;
  return out;
}

function account(value: unknown, path: string): AccountSummary {
  const o = obj(value, path);
  const out: AccountSummary = { label: str(o.label, `${path}.label`, 200), state: str(o.state, `${path}.state`, 40) };
  const used = optional(o.creditsUsed, `${path}.creditsUsed`, num);
  const limit = optional(o.creditsLimit, `${path}.creditsLimit`, num);
  const resetsAt = optional(o.resetsAt, `${path}.resetsAt`, num);
  const note = optional(o.note, `${path}.note`, (x, p) => str(x, p, 500));
  if (used !== undefined) out.creditsUsed = used;
  if (limit !== undefined) out.creditsLimit = limit;
  if (resetsAt !== undefined) out.resetsAt = resetsAt;
  if (note !== undefined) out.note = note;
  return out;
}

function bucket(value: unknown, path: string): MinuteBucket {
  const o = obj(value, path);
  const out: MinuteBucket = {
    t: num(o.t, `${path}.t`),
    requests: num(o.requests, `${path}.requests`),
    failed: num(o.failed, `${path}.failed`),
    credits: num(o.credits, `${path}.credits`),
  };
  const p50 = optional(o.p50, `${path}.p50`, num);
  const p95 = optional(o.p95, `${path}.p95`, num);
  if (p50 !== undefined) out.p50 = p50;
  if (p95 !== undefined) out.p95 = p95;
  return out;
}

function stats(value: unknown, path: string): TrafficStats {
  const o = obj(value, path);
  const out: TrafficStats = {
    sessionStartedAt: num(o.sessionStartedAt, `${path}.sessionStartedAt`),
    requests: num(o.requests, `${path}.requests`),
    failed: num(o.failed, `${path}.failed`),
    inFlight: num(o.inFlight, `${path}.inFlight`),
    credits: num(o.credits, `${path}.credits`),
    inputTokens: num(o.inputTokens, `${path}.inputTokens`),
    outputTokens: num(o.outputTokens, `${path}.outputTokens`),
    cachedPromptTokens: num(o.cachedPromptTokens, `${path}.cachedPromptTokens`),
    cacheReadTokens: num(o.cacheReadTokens, `${path}.cacheReadTokens`),
    cacheWriteTokens: num(o.cacheWriteTokens, `${path}.cacheWriteTokens`),
    creditsBefore: num(o.creditsBefore, `${path}.creditsBefore`),
    minutes: arr(o.minutes, `${path}.minutes`, bucket),
  };
  const p50 = optional(o.p50, `${path}.p50`, num);
  const p95 = optional(o.p95, `${path}.p95`, num);
  if (p50 !== undefined) out.p50 = p50;
  if (p95 !== undefined) out.p95 = p95;
  return out;
}

function config(value: unknown, path: string): TrafficViewConfig {
  const o = obj(value, path);
  return {
    captureBodies: oneOf(o.captureBodies, `${path}.captureBodies`, CAPTURE_MODES),
    maxEntries: num(o.maxEntries, `${path}.maxEntries`),
  };
}

function checked<T>(parse: () => T): Checked<T> {
  try {
    return { ok: true, value: parse() };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, error: err.message };
    throw err;
  }
}

/** Validates a message arriving in the webview from the host. */
export function checkHostMessage(value: unknown): Checked<HostMessage> {
  return checked((): HostMessage => {
    const o = obj(value, 'message');
    switch (o.type) {
      case 'snapshot':
        return {
          type: 'snapshot',
          rows: arr(o.rows, 'rows', checkRow),
          stats: stats(o.stats, 'stats'),
          accounts: arr(o.accounts, 'accounts', account),
          config: config(o.config, 'config'),
          paused: bool(o.paused, 'paused'),
        };
      case 'records':
        return {
          type: 'records',
          added: arr(o.added, 'added', checkRow),
          updated: arr(o.updated, 'updated', checkRow),
          removed: arr(o.removed, 'removed', (x, p) => str(x, p, 200)),
        };
      case 'stats':
        return { type: 'stats', stats: stats(o.stats, 'stats') };
      case 'accounts':
        return { type: 'accounts', accounts: arr(o.accounts, 'accounts', account) };
      case 'config':
        return { type: 'config', config: config(o.config, 'config') };
      case 'cleared':
        return { type: 'cleared' };
      case 'paused':
        return { type: 'paused', paused: bool(o.paused, 'paused'), pending: num(o.pending, 'pending') };
      case 'details':
        return {
          type: 'details',
          id: str(o.id, 'id', 200),
          details: o.details === null ? null : details(o.details, 'details'),
        };
      default:
        return fail('message.type', 'a known host message type');
    }
  });
}

/** Validates a message arriving in the host from the webview. */
export function checkWebviewMessage(value: unknown): Checked<WebviewMessage> {
  return checked((): WebviewMessage => {
    const o = obj(value, 'message');
    switch (o.type) {
      case 'ready':
        return { type: 'ready' };
      case 'select':
        return { type: 'select', id: o.id === null ? null : str(o.id, 'id', 200) };
      case 'exportRepro':
        return { type: 'exportRepro', id: str(o.id, 'id', 200) };
      case 'clear':
        return { type: 'clear' };
      case 'pause':
        return { type: 'pause', paused: bool(o.paused, 'paused') };
      case 'log':
        return {
          type: 'log',
          level: oneOf(o.level, 'level', ['info', 'warn', 'error'] as const),
          message: str(o.message, 'message', 4000),
        };
      default:
        return fail('message.type', 'a known webview message type');
    }
  });
}

/** A short, safe description of a rejected message for the log (never its content). */
export function describeRejected(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  const type = (value as Obj).type;
  return typeof type === 'string' ? `type "${type.slice(0, 40)}"` : 'an object without a type';
}
