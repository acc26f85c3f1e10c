// The bridge's settings, one object. The CLI fills it from flags and environment variables, the
// VS Code extension from its settings; the bridge never reads either source itself.
import { randomBytes } from 'node:crypto';
import type { CaptureMode } from '../traffic/traffic';
import { DEFAULT_THINKING_BUDGET } from '../kiro/models';

export interface BridgeConfig {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Address to bind; loopback by default. */
  host: string;
  /** The key clients must send (x-api-key or Authorization: Bearer). */
  apiKey: string;
  /** Replaces every Kiro host (tests, corporate proxies). */
  upstreamBase?: string;
  /** Data-plane region when an account names none. */
  region: string;
  /** SSE ping interval while a stream waits for the upstream. */
  pingIntervalSeconds: number;
  /** The longest the upstream may stay silent (before its first byte or between frames). */
  requestTimeoutSeconds: number;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Browser origins allowed to call the bridge (exact match, e.g. "http://localhost:3000"). */
  allowedOrigins: string[];
  /** Client model name → Kiro model id (or a name the bridge knows). */
  modelAliases: Record<string, string>;
  /** Thinking budget for a `-thinking` model name or `adaptive` thinking without a budget. */
  thinkingDefaultBudget: number;
  /** Which request/response bodies the traffic record keeps (always scrubbed of secrets). */
  captureBodies: CaptureMode;
  /** Seconds `stop()` lets in-flight requests finish before ending them with an error. */
  stopGraceSeconds: number;
}

export const DEFAULT_PORT = 8765;

export const DEFAULT_CONFIG: Omit<BridgeConfig, 'apiKey'> = {
  port: DEFAULT_PORT,
  host: '127.0.0.1',
  region: 'us-east-1',
  pingIntervalSeconds: 15,
  requestTimeoutSeconds: 300,
  bodyLimit: 50 * 1024 * 1024,
  allowedOrigins: [],
  modelAliases: {},
  thinkingDefaultBudget: DEFAULT_THINKING_BUDGET,
  captureBodies: 'off',
  stopGraceSeconds: 0,
};

/** A fresh client key: "kb-" + 32 random bytes, url-safe (the redactor recognises the prefix). */
export function generateApiKey(): string {
  return `kb-${randomBytes(32).toString('base64url')}`;
}

export function bridgeConfig(overrides: Partial<BridgeConfig> & { apiKey: string }): BridgeConfig {
  return { ...DEFAULT_CONFIG, ...overrides };
}

/** Parses sizes like "50mb", "512kb", "1048576". */
export function parseByteSize(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = (match[2] ?? 'b').toLowerCase();
  const factor = unit.startsWith('g') ? 1024 ** 3 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('k') ? 1024 : 1;
  return Math.floor(Number(match[1]) * factor);
}
