// "Export repro bundle": one request as a single JSON file a user can attach to a bug report.
// Built from the same redacted details the webview shows, then scrubbed once more as text, so a
// secret the structured pass missed is still caught by the patterns before the file is written.

import type { Redactor } from '../common/redact';
import type { CaptureMode, RequestRecord } from './traffic';
import { toDetails } from './traffic-records';

export const REPRO_KIND = 'kiro-bridge-repro';
export const REPRO_FORMAT_VERSION = 1;

export interface ReproContext {
  capture: CaptureMode;
  /** Epoch milliseconds the bundle is made at. */
  now: number;
  extensionVersion?: string;
  vscodeVersion?: string;
  /** e.g. `linux x64`. */
  platform?: string;
  /** Non-secret settings worth knowing when reading the report (redacted anyway). */
  settings?: Record<string, unknown>;
  /** True when the store had already dropped this record's bodies. */
  bodiesDropped?: boolean;
}

export interface ReproBundle {
  kind: typeof REPRO_KIND;
  formatVersion: number;
  createdAt: string;
  environment: { extensionVersion?: string; vscodeVersion?: string; platform?: string };
  capture: CaptureMode;
  notes: string[];
  settings?: Record<string, unknown>;
  request: Record<string, unknown>;
}

export function buildReproBundle(record: Readonly<RequestRecord>, context: ReproContext, redactor: Redactor): ReproBundle {
  const details = toDetails(record, context.capture, redactor);
  const { row, ...rest } = details;
  const notes = ['Secrets (tokens, keys, Authorization headers, client secrets) were removed before export.'];
  if (context.capture === 'off') {
    notes.push('Bodies were not captured (kiroBridge.traffic.captureBodies is "off"); set it to "redacted" and reproduce to include them.');
  } else if (context.capture === 'redacted') {
    notes.push(
      'Strings longer than 256 characters were shortened (kiroBridge.traffic.captureBodies is "redacted"); set it to "full" and reproduce for whole texts.',
    );
  }
  if (context.bodiesDropped) notes.push('This request was no longer among the newest ones, so its bodies had been dropped.');
  const environment: ReproBundle['environment'] = {};
  if (context.extensionVersion) environment.extensionVersion = context.extensionVersion;
  if (context.vscodeVersion) environment.vscodeVersion = context.vscodeVersion;
  if (context.platform) environment.platform = context.platform;
  const bundle: ReproBundle = {
    kind: REPRO_KIND,
    formatVersion: REPRO_FORMAT_VERSION,
    createdAt: new Date(context.now).toISOString(),
    environment,
    capture: context.capture,
    notes,
    request: { ...row, startedAtIso: new Date(row.startedAt).toISOString(), ...rest },
  };
  if (context.settings) bundle.settings = redactor.value(context.settings);
  return redactor.value(bundle);
}

/**
 * The file's text. The secret patterns run over the serialised JSON as a last net; they only
 * ever replace characters inside string literals, and the result is parsed back to prove it.
 */
export function serializeReproBundle(bundle: ReproBundle, redactor: Redactor): string {
  const json = JSON.stringify(bundle, null, 2);
  const scrubbed = redactor.text(json);
  try {
    JSON.parse(scrubbed);
    return `${scrubbed}\n`;
  } catch {
    // Cannot happen with today's patterns; if one ever breaks JSON, the structured pass stands.
    return `${json}\n`;
  }
}

/** `kiro-bridge-repro-20261127-142501-a1b2c3d4.json` (local time of the request). */
export function reproFileName(record: Pick<RequestRecord, 'id' | 'startedAt'>): string {
  const d = new Date(record.startedAt);
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
  const id = record.id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 12) || 'request';
  return `kiro-bridge-repro-${stamp}-${id}.json`;
}
