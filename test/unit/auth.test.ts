// TokenManager against the fake upstream's real refresh endpoints, with a test clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redactor } from '../../src/common/redact';
import { Agent } from 'undici';
import { KiroAccount } from '../../src/kiro/accounts/account';
import { generateAssistantResponse } from '../../src/kiro/http/client';
import { KiroError } from '../../src/kiro/errors';
import { loadCredentials } from '../../src/kiro/accounts/credentials';
import { firstEnabled } from '../support/single-account';
import { startFakeUpstream, type FakeUpstream, type AccountOptions } from '../support/fake-upstream';

let upstream: FakeUpstream;
let account: KiroAccount | undefined;
let clock = 1_800_000_000_000;
const redactor = new Redactor();

async function setup(options: AccountOptions = {}): Promise<KiroAccount> {
  upstream = await startFakeUpstream({ accounts: [options], now: () => clock });
  const credentials = firstEnabled(loadCredentials(upstream.kiroAuthToken()).accounts)!;
  account = new KiroAccount({ credentials, upstreamBase: upstream.baseUrl, redactor, now: () => clock });
  return account;
}

beforeEach(() => {
  clock = 1_800_000_000_000;
});

afterEach(async () => {
  await account?.dispose();
  account = undefined;
  await upstream?.close();
});

describe('TokenManager', () => {
  it('refreshes once, then reuses the token until the expiry margin', async () => {
    const a = await setup();
    const first = await a.getToken();
    expect(first.value).toBe(upstream.account.accessToken);
    expect(a.tokenState).toBe('valid');
    expect(a.profile.arn).toBe(upstream.account.profileArn);
    clock += 50 * 60_000; // 10 minutes left: still outside the 5-minute margin
    expect(await a.getToken()).toBe(first);
    clock += 6 * 60_000; // 4 minutes left
    const second = await a.getToken();
    expect(second.value).not.toBe(first.value);
    expect(upstream.refreshCount()).toBe(2);
  });

  it('refreshes once for 50 concurrent callers on an expired token', async () => {
    const a = await setup();
    await a.getToken();
    clock += 2 * 3600_000;
    const release = upstream.account.holdRefreshes();
    const waiting = Promise.all(Array.from({ length: 50 }, () => a.getToken()));
    await upstream.waitFor((r) => r.endpoint === 'refreshToken' && r.outcome === 'pending');
    release();
    const tokens = await waiting;
    expect(new Set(tokens.map((t) => t.value)).size).toBe(1);
    expect(upstream.refreshCount()).toBe(2);
  });

  it('refreshes at half-life when the token lives less than twice the margin', async () => {
    const a = await setup({ accessTokenTtlSeconds: 240 });
    const first = await a.getToken();
    clock += 60_000;
    expect(await a.getToken()).toBe(first);
    clock += 70_000;
    expect((await a.getToken()).value).not.toBe(first.value);
  });

  it('after a rejection, refreshes unless another caller already did', async () => {
    const a = await setup();
    const first = await a.getToken();
    const [x, y] = await Promise.all([a.tokens.refreshAfterRejection(first), a.tokens.refreshAfterRejection(first)]);
    expect(x).toBe(y);
    expect(x.value).not.toBe(first.value);
    // A late caller holding the old token gets the new one without another refresh.
    expect(await a.tokens.refreshAfterRejection(first)).toBe(x);
    expect(upstream.refreshCount()).toBe(2);
  });

  it('adopts a rotated refresh token and tells its listeners', async () => {
    const a = await setup({ rotateRefreshToken: true });
    const seen: string[] = [];
    a.tokens.onDidRotateRefreshToken((t) => seen.push(t));
    await a.getToken();
    expect(seen).toEqual([upstream.account.refreshToken]);
    expect(a.tokens.refreshToken).toBe(upstream.account.refreshToken);
  });

  it('stops for good when the refresh token is rejected (needs_sign_in, no retry loop)', async () => {
    const a = await setup();
    upstream.account.revokeRefreshToken();
    const error = await a.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KiroError);
    expect((error as KiroError).errorClass).toBe('needs_sign_in');
    expect(a.tokenState).toBe('needs_sign_in');
    const calls = upstream.requestsTo('refreshToken').length;
    await expect(a.getToken()).rejects.toBe(error);
    await expect(a.tokens.refresh()).rejects.toBe(error);
    expect(upstream.requestsTo('refreshToken').length).toBe(calls);
  });

  it('reports a transient refresh failure and tries again on the next call', async () => {
    const a = await setup();
    upstream.account.failNextRefresh({ status: 500, body: { message: 'boom' } });
    const error = await a.getToken().catch((e: unknown) => e);
    expect((error as KiroError).errorClass).toBe('upstream_unavailable');
    expect((await a.getToken()).value).toBe(upstream.account.accessToken);
  });

  it('reports an unreachable refresh endpoint as upstream_unavailable', async () => {
    const a = await setup();
    await upstream.close();
    const error = await a.getToken().catch((e: unknown) => e);
    expect((error as KiroError).errorClass).toBe('upstream_unavailable');
    expect((error as KiroError).message).toContain('token refresh failed');
  });

  it('refreshes IdC accounts through the OIDC endpoint', async () => {
    const a = await setup({ kind: 'idc' });
    const token = await a.getToken();
    expect(token.value).toBe(upstream.account.accessToken);
    const [grant] = upstream.requestsTo('oidcToken');
    expect(grant!.body).toEqual({
      clientId: upstream.account.clientId,
      clientSecret: upstream.account.clientSecret,
      grantType: 'refresh_token',
      refreshToken: upstream.account.refreshToken,
    });
  });

  it('registers every token with the redactor', async () => {
    const a = await setup();
    const token = await a.getToken();
    expect(redactor.text(`Bearer-less ${token.value} and ${a.tokens.refreshToken}`)).not.toContain(token.value);
    expect(redactor.text(a.tokens.refreshToken!)).toBe('[REDACTED]');
  });

  it('an adopted access token takes the place of the one before it with the redactor', async () => {
    await setup();
    const own = new Redactor();
    const credentials = firstEnabled(loadCredentials(upstream.kiroAuthToken()).accounts)!;
    const a = new KiroAccount({ credentials, upstreamBase: upstream.baseUrl, redactor: own, now: () => clock });
    // Opaque values no redaction pattern knows: only the registered set hides them.
    const tokens = [1, 2, 3, 4].map((n) => `opaque-access-${n}-0123456789abcdef`);
    try {
      tokens.forEach((value, n) => expect(a.tokens.adopt({ accessToken: value, expiresAt: clock + 3600_000 + n * 60_000 })).toBe(true));
      expect(own.text(tokens.join(' '))).toBe([...tokens.slice(0, -1), '[REDACTED]'].join(' '));
    } finally {
      await a.dispose();
    }
  });
});

describe('KiroAccount', () => {
  it('sends every call through the dispatcher it was given (a proxy agent, say)', async () => {
    upstream = await startFakeUpstream();
    const credentials = firstEnabled(loadCredentials(upstream.kiroAuthToken()).accounts)!;
    const seen: string[] = [];
    account = new KiroAccount({
      credentials,
      upstreamBase: upstream.baseUrl,
      createDispatcher: () =>
        new Agent().compose((dispatch) => (options, handler) => {
          seen.push(String(options.path));
          return dispatch(options, handler);
        }),
    });
    const token = await account.getToken();
    const body = { ...(minimalBody() as object), profileArn: account.profile.forStreaming };
    const stream = await generateAssistantResponse(account, token, JSON.stringify(body), { idleTimeoutMs: 5000 });
    for await (const _batch of stream.batches()) {
      // drain
    }
    expect(seen).toEqual(['/refreshToken', '/generateAssistantResponse']);
  });
});

function minimalBody(): unknown {
  return {
    conversationState: {
      agentTaskType: 'vibe',
      chatTriggerType: 'MANUAL',
      conversationId: '6f0c4b8e-2b1e-4c39-9f0a-0d1f2e3a4b5c',
      currentMessage: { userInputMessage: { content: 'hi', modelId: 'claude-sonnet-4.5', origin: 'AI_EDITOR', userInputMessageContext: {} } },
      history: [],
    },
  };
}
