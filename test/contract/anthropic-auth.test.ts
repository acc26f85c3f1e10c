// Token handling seen from the outside: single-flight refresh under load, rotated refresh tokens,
// refresh-once-retry-once on a rejected bearer, IdC accounts.
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { textReply, upstreamErrors } from '../support/fake-upstream';
import { BUILDER_ID_PROFILE_ARN } from '../../src/kiro/signin/constants';
import { startHarness, type Harness } from './harness';

const ask = { model: 'claude-sonnet-4-6', max_tokens: 32, messages: [{ role: 'user' as const, content: 'hi' }] };

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('single-flight refresh', () => {
  it('50 concurrent requests with no token yet cause exactly one refresh', async () => {
    h = await startHarness();
    const answers = await Promise.all(Array.from({ length: 50 }, () => h!.client.messages.create(ask)));
    expect(answers.every((m) => m.stop_reason === 'end_turn')).toBe(true);
    expect(h.upstream.requestsTo('refreshToken')).toHaveLength(1);
    expect(h.upstream.generateRequests).toHaveLength(50);
  });

  it('50 concurrent requests on an expired token cause exactly one refresh, and all succeed', async () => {
    h = await startHarness();
    await h.client.messages.create(ask);
    expect(h.upstream.requestsTo('refreshToken')).toHaveLength(1);
    h.upstream.account.expireAccessTokens();
    const answers = await Promise.all(Array.from({ length: 50 }, () => h!.client.messages.create(ask)));
    expect(answers).toHaveLength(50);
    expect(h.upstream.requestsTo('refreshToken')).toHaveLength(2);
    // Requests that reached Kiro with the expired token were retried once with the fresh one;
    // those that arrived after the refresh went straight through.
    const statuses = h.upstream.generateRequests.slice(1).map((r) => r.status);
    const rejected = statuses.filter((s) => s === 403).length;
    expect(rejected).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    const records = h.finished.slice(-50);
    expect(records.filter((r) => r.flags.retried && r.attempts.length === 2)).toHaveLength(rejected);
    expect(records.every((r) => r.status === 200)).toBe(true);
  });
});

describe('refresh once, retry once', () => {
  it('retries once with a fresh token after a 403 bearer-invalid', async () => {
    h = await startHarness();
    await h.client.messages.create(ask);
    const firstToken = h.upstream.account.accessToken;
    h.upstream.account.expireAccessTokens();
    h.upstream.scriptNext(textReply('after refresh'));
    const message = await h.client.messages.create(ask);
    expect(message.content).toEqual([{ type: 'text', text: 'after refresh' }]);
    const [rejected, retried] = h.upstream.generateRequests.slice(-2);
    expect(rejected!.status).toBe(403);
    expect(rejected!.headers.authorization).toBe(`Bearer ${firstToken}`);
    expect(retried!.status).toBe(200);
    expect(retried!.headers.authorization).toBe(`Bearer ${h.upstream.account.accessToken}`);
    expect(retried!.headers['amz-sdk-request']).toBe('attempt=2; max=3');
  });

  it('gives up after the one retry: a second rejection reaches the client as AuthenticationError', async () => {
    h = await startHarness();
    h.upstream.scriptNext(upstreamErrors.bearerInvalid(), upstreamErrors.bearerInvalid(), textReply('never reached'));
    const error = await h.client.messages.create(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(h.upstream.generateRequests).toHaveLength(2);
    expect(h.upstream.requestsTo('refreshToken')).toHaveLength(2);
  });

  it('an in-stream AccessDenied as the first frame is retried the same way', async () => {
    h = await startHarness();
    h.upstream.scriptNext(
      { name: 'in-stream-denied', steps: [{ exception: { type: 'AccessDeniedException', message: 'The bearer token included in the request is invalid.' } }] },
      textReply('recovered'),
    );
    const message = await h.client.messages.create({ ...ask, stream: false });
    expect(message.content).toEqual([{ type: 'text', text: 'recovered' }]);
    expect(h.upstream.requestsTo('refreshToken')).toHaveLength(2);
  });
});

describe('rotation', () => {
  it('adopts a rotated refresh token for the next refresh', async () => {
    h = await startHarness({ upstream: { accounts: [{ kind: 'social', rotateRefreshToken: true }] } });
    const original = h.upstream.account.refreshToken;
    await h.client.messages.create(ask);
    const rotated = h.upstream.account.refreshToken;
    expect(rotated).not.toBe(original);
    expect(h.account.tokens.refreshToken).toBe(rotated);
    // The old token no longer works at the fake; a second refresh only succeeds with the new one.
    h.upstream.account.expireAccessTokens();
    const message = await h.client.messages.create(ask);
    expect(message.stop_reason).toBe('end_turn');
    const refreshes = h.upstream.requestsTo('refreshToken');
    expect(refreshes).toHaveLength(2);
    expect((refreshes[1]!.body as { refreshToken: string }).refreshToken).toBe(rotated);
    expect(refreshes[1]!.status).toBe(200);
    // The rotated token is a secret like the first one.
    expect(h.redactor.text(`token ${rotated}`)).not.toContain(rotated);
  });
});

describe('IdC accounts', () => {
  it('refresh through the OIDC token endpoint and serve requests', async () => {
    h = await startHarness({
      upstream: { accounts: [{ kind: 'idc' }] },
    });
    const message = await h.client.messages.create(ask);
    expect(message.stop_reason).toBe('end_turn');
    const [grant] = h.upstream.requestsTo('oidcToken');
    const body = grant!.body as Record<string, string>;
    expect(body.grantType).toBe('refresh_token');
    expect(body.clientId).toBe(h.upstream.account.clientId);
    expect(body.refreshToken).toBe(h.upstream.account.refreshToken);
    expect(grant!.headers['x-amz-user-agent']).toContain('api/sso-oidc');
    // An IdC entry of KIRO_AUTH_TOKEN does not say whether it is a Builder ID: the profile lookup
    // (asked once) says so, and the generate call carries Kiro's fixed Builder ID profile.
    const lookups = h.upstream.requestsTo('target').filter((r) => r.target === 'AmazonCodeWhispererService.ListAvailableProfiles');
    expect(lookups.map((r) => r.status)).toEqual([403]);
    expect((h.upstream.lastGenerate().body as { profileArn?: string }).profileArn).toBe(BUILDER_ID_PROFILE_ARN);
    await h.client.messages.create(ask);
    expect(h.upstream.requestsTo('target')).toHaveLength(1);
  });
});
