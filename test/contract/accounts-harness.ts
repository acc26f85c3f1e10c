// The bridge over a real accounts service (pool, store, quota) and the fake upstream, with one test
// clock for both sides, a log that keeps every line the bridge and the service write (to check no
// secret reaches it), and the official Anthropic SDK as the client.
import Anthropic from '@anthropic-ai/sdk';
import type { Logger } from '../../src/common/logger';
import { Redactor } from '../../src/common/redact';
import { MemorySecretStore } from '../../src/common/secret-store';
import type { SecretStore } from '../../src/common/secret-store';
import type { RequestRecord } from '../../src/traffic/traffic';
import { bridgeConfig, type BridgeConfig } from '../../src/bridge/config';
import { createBridge, type BridgeServer } from '../../src/bridge/http/server';
import { KiroAccountsService, type AccountsServiceDeps } from '../../src/kiro/accounts/accounts-service';
import { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from '../support/fake-upstream';

export const ACCOUNTS_TEST_KEY = 'kb-accounts-test-key-0123456789abcdef';

/** Every log line written in this test process, unredacted (callers must never pass secrets). */
export const capturedLog: string[] = [];

export function capturingLogger(): Logger {
  const line =
    (level: string) =>
    (message: string, ...details: unknown[]) => {
      const extra = details.map((d) => (d instanceof Error ? `${d.message} ${String(d.stack)}` : typeof d === 'string' ? d : JSON.stringify(d)));
      capturedLog.push(`[${level}] ${[message, ...extra].join(' ')}`);
    };
  return { trace: line('trace'), debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

export interface AccountsHarness {
  upstream: FakeUpstream;
  service: KiroAccountsService;
  secrets: SecretStore;
  bridge: BridgeServer;
  url: string;
  client: Anthropic;
  redactor: Redactor;
  /** Finished traffic records, in finishing order. */
  finished: RequestRecord[];
  clock: { now: number };
  /** A second service over the same store (a restart). */
  restart(): Promise<KiroAccountsService>;
  close(): Promise<void>;
}

export interface AccountsHarnessOptions {
  upstream?: FakeUpstreamOptions;
  config?: Partial<BridgeConfig>;
  secrets?: SecretStore;
  service?: Partial<AccountsServiceDeps>;
  /** Real time instead of the test clock. */
  realTime?: boolean;
}

export async function startAccountsHarness(options: AccountsHarnessOptions = {}): Promise<AccountsHarness> {
  const clock = { now: Date.UTC(2026, 4, 17, 12, 0, 0) };
  const now = options.realTime ? Date.now : () => clock.now;
  const upstream = await startFakeUpstream({ now, ...options.upstream });
  const secrets = options.secrets ?? new MemorySecretStore();
  const redactor = new Redactor();
  const logger = capturingLogger();
  const services: KiroAccountsService[] = [];
  const makeService = () => {
    const service = new KiroAccountsService({
      secrets,
      redactor,
      logger,
      now,
      upstreamBase: upstream.baseUrl,
      watchKiroIde: false,
      ...options.service,
    });
    services.push(service);
    return service;
  };
  const service = makeService();
  await service.start();
  const finished: RequestRecord[] = [];
  const config = bridgeConfig({ port: 0, apiKey: ACCOUNTS_TEST_KEY, upstreamBase: upstream.baseUrl, ...options.config });
  const bridge = createBridge(config, {
    accounts: service.pool,
    redactor,
    logger,
    traffic: {
      update(record) {
        if (record.durationMs !== undefined && record.status !== undefined) finished.push(structuredClone(record) as RequestRecord);
      },
    },
  });
  const { url } = await bridge.start();
  return {
    upstream,
    service,
    secrets,
    bridge,
    url,
    client: new Anthropic({ baseURL: url, apiKey: ACCOUNTS_TEST_KEY, maxRetries: 0, timeout: 15_000 }),
    redactor,
    finished,
    clock,
    async restart() {
      const next = makeService();
      await next.start();
      return next;
    },
    async close() {
      await bridge.stop();
      bridge.dispose();
      for (const s of services) {
        await s.flush().catch(() => undefined);
        s.dispose();
      }
      await upstream.close();
    },
  };
}

export const ask = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] };
