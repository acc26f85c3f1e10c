// Starts the fake Kiro upstream and the bridge in-process (port 0), and official Anthropic and
// OpenAI SDK clients pointed at the bridge. Every contract test builds on this.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';
import { Redactor } from '../../src/common/redact';
import type { RequestRecord } from '../../src/traffic/traffic';
import { bridgeConfig, type BridgeConfig } from '../../src/bridge/config';
import { createBridge, type BridgeServer } from '../../src/bridge/http/server';
import { KiroAccount } from '../../src/kiro/accounts/account';
import type { AccountLease, ExecuteOptions } from '../../src/kiro/accounts/account-pool';
import { loadCredentials } from '../../src/kiro/accounts/credentials';
import { SingleAccountProvider, firstEnabled } from '../support/single-account';
import {
  startFakeUpstream,
  type FakeAccount,
  type FakeUpstream,
  type FakeUpstreamOptions,
  type KiroGenerateBody,
  type KiroUserInputMessage,
} from '../support/fake-upstream';

export const TEST_API_KEY = 'kb-contract-test-key-0123456789abcdef';

export interface Harness {
  upstream: FakeUpstream;
  bridge: BridgeServer;
  account: KiroAccount;
  url: string;
  client: Anthropic;
  redactor: Redactor;
  /** Every traffic record the bridge published, by request id (latest state). */
  records: Map<string, RequestRecord>;
  /** Records of finished requests, in finishing order. */
  finished: RequestRecord[];
  /** An SDK client with other options (retries off by default). */
  sdk(options?: ConstructorParameters<typeof Anthropic>[0]): Anthropic;
  /** An OpenAI SDK client on the bridge's /v1 (retries off by default). */
  openai(options?: ConstructorParameters<typeof OpenAI>[0]): OpenAI;
  /** The Kiro request body of the fake upstream's last generate call. */
  lastKiroBody(): KiroGenerateBody;
  close(): Promise<void>;
}

export interface HarnessOptions {
  config?: Partial<BridgeConfig>;
  upstream?: FakeUpstreamOptions;
  /** Fake account to use (default: the upstream's first). */
  fakeAccount?: (upstream: FakeUpstream) => FakeAccount;
}

/**
 * The API contract tests check how each failure reaches the client, one request at a time. What
 * the pool remembers between requests (cool-downs, exhausted quota, missing models) and its
 * retries of transient failures are tested in accounts.test.ts and account-pool.test.ts; here
 * every request meets a fresh account and a transient failure is answered at once.
 */
class FreshAccountEachRequest extends SingleAccountProvider {
  constructor(account: KiroAccount) {
    super(account, undefined, { policy: { transientRetries: 0 } });
  }

  override execute<T>(options: ExecuteOptions, run: (lease: AccountLease) => Promise<T>): Promise<T> {
    for (const entry of this.entries()) entry.resetHealth();
    return super.execute(options, run);
  }
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const upstream = await startFakeUpstream(options.upstream);
  const fake = options.fakeAccount?.(upstream) ?? upstream.account;
  const credentials = firstEnabled(loadCredentials(upstream.kiroAuthToken([fake])).accounts)!;
  const redactor = new Redactor();
  const account = new KiroAccount({ credentials, upstreamBase: upstream.baseUrl, redactor });
  const records = new Map<string, RequestRecord>();
  const finished: RequestRecord[] = [];
  const config = bridgeConfig({ port: 0, apiKey: TEST_API_KEY, upstreamBase: upstream.baseUrl, ...options.config });
  const bridge = createBridge(config, {
    accounts: new FreshAccountEachRequest(account),
    redactor,
    traffic: {
      update(record) {
        const copy = structuredClone(record) as RequestRecord;
        records.set(record.id, copy);
        if (record.durationMs !== undefined && record.status !== undefined) finished.push(copy);
      },
    },
  });
  const { url } = await bridge.start();
  const sdk = (extra: ConstructorParameters<typeof Anthropic>[0] = {}) =>
    new Anthropic({ baseURL: url, apiKey: TEST_API_KEY, maxRetries: 0, timeout: 15_000, ...extra });
  return {
    upstream,
    bridge,
    account,
    url,
    client: sdk(),
    redactor,
    records,
    finished,
    sdk,
    openai: (extra = {}) => new OpenAI({ baseURL: `${url}/v1`, apiKey: TEST_API_KEY, maxRetries: 0, timeout: 15_000, ...extra }),
    lastKiroBody: () => upstream.lastGenerate().body as KiroGenerateBody,
    async close() {
      await bridge.stop();
      bridge.dispose();
      await account.dispose();
      await upstream.close();
    },
  };
}

/** A harness started before the file's tests and closed after them, handed to `use` once started. */
export function useHarness(use: (harness: Harness) => void, options?: HarnessOptions): void {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness(options);
    use(harness);
  });
  afterAll(async () => {
    await harness?.close();
  });
}

/** The user message a Kiro request body sends (its current turn), if it sends one. */
export function findCurrentMessage(body: KiroGenerateBody): KiroUserInputMessage | undefined {
  return body.conversationState?.currentMessage?.userInputMessage;
}

/** The user message a Kiro request body sends (its current turn). */
export function currentMessage(body: KiroGenerateBody): KiroUserInputMessage {
  return findCurrentMessage(body)!;
}

/** Waits until `check` holds (polling), failing after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
