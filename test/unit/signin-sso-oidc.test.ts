// AWS SSO-OIDC for Builder ID / IAM Identity Center (docs/kiro-protocol.md#sso-oidc), against the fake.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySecretStore } from '../../src/common/secret-store';
import { KiroAccount } from '../../src/kiro/accounts/account';
import { mcpUrl } from '../../src/kiro/http/web-search';
import { SSO_SCOPES } from '../../src/kiro/signin/constants';
import { signInEndpoints, type SignInEndpoints } from '../../src/kiro/signin/endpoints';
import { SignInError } from '../../src/kiro/signin/errors';
import { sleep } from '../../src/kiro/signin/http';
import { createPkcePair } from '../../src/kiro/signin/pkce';
import {
  MemoryRegistrationCache,
  REGISTRATION_SECRET_PREFIX,
  SecretRegistrationCache,
  type ClientRegistration,
  type RegistrationKey,
} from '../../src/kiro/signin/registration-cache';
import {
  exchangeAuthorizationCode,
  isRegistrationRejected,
  normalizeStartUrl,
  obtainRegistration,
  oidcAuthorizeUrl,
  oidcErrorCode,
  PKCE_REGISTERED_REDIRECT,
  pollDeviceToken,
  registerClient,
  startDeviceAuthorization,
} from '../../src/kiro/signin/sso-oidc';
import { actAsBrowser, DEVICE_GRANT_TYPE, startFakeUpstream, type FakeUpstream, type GrantHandler } from '../support/fake-upstream';
import { failureOf } from '../support/failure';

const START_URL = 'https://view.awsapps.com/start';
const deviceKey: RegistrationKey = { region: 'us-east-1', startUrl: START_URL, flow: 'device', scopes: SSO_SCOPES };
const pkceKey: RegistrationKey = { ...deviceKey, flow: 'pkce' };

let upstream: FakeUpstream;
let endpoints: SignInEndpoints;
let clock: number;

beforeEach(async () => {
  clock = Date.UTC(2026, 5, 1);
  upstream = await startFakeUpstream({ accounts: [], now: () => clock });
  endpoints = signInEndpoints({ oidcRegion: 'us-east-1', upstreamBase: upstream.baseUrl });
});

afterEach(async () => {
  await upstream.close();
});

const nowSeconds = () => Math.floor(clock / 1000);

const rejection = (promise: Promise<unknown>) => failureOf(promise, SignInError);

/** A sleep that records what it was asked for and moves the shared clock instead of waiting. */
function recordingSleep() {
  const asked: number[] = [];
  const fn = async (ms: number, signal?: AbortSignal) => {
    asked.push(ms);
    clock += ms;
    await sleep(0, signal);
  };
  return { asked, fn };
}

describe('endpoints', () => {
  it('maps every sign-in host onto the upstream base, or onto the real hosts of the region', () => {
    expect(endpoints.oidcRegister).toBe(`${upstream.baseUrl}/client/register`);
    expect(endpoints.profileHosts).toEqual([`${upstream.baseUrl}/`]);
    const real = signInEndpoints({ oidcRegion: 'eu-west-1' });
    expect(real.oidcToken).toBe('https://oidc.eu-west-1.amazonaws.com/token');
    expect(real.oidcAuthorize).toBe('https://oidc.eu-west-1.amazonaws.com/authorize');
    expect(real.socialLogin).toBe('https://prod.us-east-1.auth.desktop.kiro.dev/login');
    expect(real.socialToken).toBe('https://prod.us-east-1.auth.desktop.kiro.dev/oauth/token');
    expect(real.profileHosts).toEqual(['https://q.us-east-1.amazonaws.com/', 'https://q.eu-central-1.amazonaws.com/']);
    expect(() => signInEndpoints({ oidcRegion: 'not a region' })).toThrow(/is not an AWS region name/);
  });

  it("sends an Identity Center account's data-plane calls to its profile's region, and its refresh to its OIDC region", async () => {
    const account = new KiroAccount({
      credentials: {
        auth: 'IdC',
        refreshToken: 'aor-test',
        clientId: 'c',
        clientSecret: 's',
        region: 'us-east-1',
        profileArn: 'arn:aws:codewhisperer:eu-central-1:1:profile/EU',
        disabled: false,
        index: 0,
      },
    });
    try {
      expect(account.endpoints.generate).toBe('https://q.eu-central-1.amazonaws.com/generateAssistantResponse');
      expect(mcpUrl(account.endpoints)).toBe('https://q.eu-central-1.amazonaws.com/mcp');
      expect(account.endpoints.idcRefresh).toBe('https://oidc.us-east-1.amazonaws.com/token');
    } finally {
      await account.dispose();
    }
  });

  it('normalises start URLs the way users paste them', () => {
    expect(normalizeStartUrl(' https://my-org.awsapps.com/start/#/ ')).toBe('https://my-org.awsapps.com/start');
    expect(normalizeStartUrl('https://my-org.awsapps.com/start/')).toBe('https://my-org.awsapps.com/start');
    expect(() => normalizeStartUrl('my-org')).toThrow(/is not a start URL/);
    expect(() => normalizeStartUrl('http://my-org.awsapps.com/start')).toThrow(/must use https/);
  });

  it('reads the SSO-OIDC error code from `error`, `__type` or the error-type header', () => {
    expect(oidcErrorCode({ error: 'slow_down' })).toBe('slow_down');
    expect(oidcErrorCode({ __type: 'com.amazonaws.ssooidc#AuthorizationPendingException' })).toBe('authorization_pending');
    expect(oidcErrorCode({}, { 'x-amzn-errortype': 'ExpiredTokenException:http://internal' })).toBe('expired_token');
    expect(oidcErrorCode(undefined)).toBeUndefined();
  });
});

describe('RegisterClient and the registration cache', () => {
  it('registers a device-flow client with exactly the three fields the Kiro CLI sends', async () => {
    const registration = await registerClient(endpoints, deviceKey, { clientName: 'Kiro Bridge', nowSeconds: nowSeconds() });
    const sent = upstream.requestsTo('oidcRegister')[0]!;
    expect(sent.body).toEqual({ clientName: 'Kiro Bridge', clientType: 'public', scopes: [...SSO_SCOPES] });
    expect(registration).toMatchObject({ region: 'us-east-1', startUrl: START_URL, flow: 'device', scopes: [...SSO_SCOPES] });
    expect(registration.clientSecretExpiresAt).toBe(nowSeconds() + upstream.signIn.registrationTtlSeconds);
    expect(upstream.signIn.registrations.get(registration.clientId)?.clientSecret).toBe(registration.clientSecret);
  });

  it('registers a PKCE client with grant types, the portless loopback redirect and the issuer', async () => {
    await registerClient(endpoints, pkceKey, { clientName: 'Kiro Bridge', nowSeconds: nowSeconds() });
    expect(upstream.requestsTo('oidcRegister')[0]!.body).toEqual({
      clientName: 'Kiro Bridge',
      clientType: 'public',
      scopes: [...SSO_SCOPES],
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: [PKCE_REGISTERED_REDIRECT],
      issuerUrl: START_URL,
    });
  });

  it("reports AWS's refusal with AWS's words", async () => {
    const error = await rejection(registerClient(endpoints, { ...deviceKey, scopes: [] }, { clientName: 'x', nowSeconds: nowSeconds() }));
    expect(error.failure).toBe('provider_error');
    expect(error.providerCode).toBe('invalid_request');
    expect(error.message).toBe('Sign-in failed because AWS refused to register the sign-in client (invalid_request: scopes must be a non-empty list)');
  });

  it('reuses a cached registration until it is within a week of expiring', async () => {
    const cache = new MemoryRegistrationCache();
    const options = () => ({ cache, clientName: 'Kiro Bridge', nowMs: clock, nowSeconds: nowSeconds() });
    const first = await obtainRegistration(endpoints, deviceKey, options());
    expect(first.fresh).toBe(true);
    const second = await obtainRegistration(endpoints, deviceKey, options());
    expect(second).toEqual({ registration: first.registration, fresh: false });
    expect(upstream.requestsTo('oidcRegister')).toHaveLength(1);

    // Another flow, scope set, start URL or region is another registration.
    await obtainRegistration(endpoints, pkceKey, options());
    await obtainRegistration(endpoints, { ...deviceKey, scopes: [...SSO_SCOPES, 'codewhisperer:taskassist'] }, options());
    await obtainRegistration(endpoints, { ...deviceKey, startUrl: 'https://my-org.awsapps.com/start' }, options());
    await obtainRegistration(endpoints, { ...deviceKey, region: 'eu-west-1' }, options());
    expect(upstream.requestsTo('oidcRegister')).toHaveLength(5);
    expect(cache.size).toBe(5);

    // 89 days later (6 days of the 90 left): a new registration replaces the old one.
    clock += 84 * 24 * 3600 * 1000;
    const renewed = await obtainRegistration(endpoints, deviceKey, options());
    expect(renewed.fresh).toBe(true);
    expect(renewed.registration.clientId).not.toBe(first.registration.clientId);
    expect((await cache.get(deviceKey))?.clientId).toBe(renewed.registration.clientId);
  });

  it('keeps registrations in the secret store under a digest key, and survives a damaged entry', async () => {
    const store = new MemorySecretStore();
    const cache = new SecretRegistrationCache(store);
    const registration: ClientRegistration = {
      clientId: 'cid',
      clientSecret: 'secret-value-123',
      clientSecretExpiresAt: 1,
      region: 'us-east-1',
      startUrl: START_URL,
      flow: 'device',
      scopes: [...SSO_SCOPES],
    };
    await cache.set(deviceKey, registration);
    const [key] = store.keys();
    expect(key).toMatch(new RegExp(`^${REGISTRATION_SECRET_PREFIX.replace(/\./g, '\\.')}[0-9a-f]{32}$`));
    expect(await cache.get(deviceKey)).toEqual(registration);
    // Scope order does not make another key.
    expect(await cache.get({ ...deviceKey, scopes: [...SSO_SCOPES].reverse() })).toEqual(registration);
    expect(await cache.get(pkceKey)).toBeUndefined();
    await store.set(key!, '{not json');
    expect(await cache.get(deviceKey)).toBeUndefined();
    await store.set(key!, JSON.stringify({ clientId: 'only an id' }));
    expect(await cache.get(deviceKey)).toBeUndefined();
    await cache.delete(deviceKey);
    expect(store.keys()).toEqual([]);
  });
});

describe('authorization code + PKCE', () => {
  async function authorize(redirectUri: string) {
    const registration = await registerClient(endpoints, pkceKey, { clientName: 'Kiro Bridge', nowSeconds: nowSeconds() });
    const pkce = createPkcePair();
    const url = oidcAuthorizeUrl(endpoints, { clientId: registration.clientId, redirectUri, scopes: SSO_SCOPES, state: 'st', challenge: pkce.challenge });
    const hops = await actAsBrowser(url, { stopAt: () => true });
    const location = new URL(hops[0]!.location!);
    return { registration, pkce, url, location, code: location.searchParams.get('code')! };
  }

  it('builds the authorize URL the clients use (scopes space-separated as %20, S256)', async () => {
    const { url, location } = await authorize('http://127.0.0.1:53682/oauth/callback');
    const parsed = new URL(url);
    expect(`${parsed.origin}${parsed.pathname}`).toBe(`${upstream.baseUrl}/authorize`);
    expect(url).toContain(`scopes=${SSO_SCOPES.map(encodeURIComponent).join('%20')}`);
    expect(url).not.toContain('+');
    expect(Object.fromEntries(parsed.searchParams)).toMatchObject({
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:53682/oauth/callback',
      state: 'st',
      code_challenge_method: 'S256',
    });
    // The fake accepts any loopback port for the portless registration (RFC 8252, section 7.3).
    expect(`${location.origin}${location.pathname}`).toBe('http://127.0.0.1:53682/oauth/callback');
    expect(location.searchParams.get('state')).toBe('st');
  });

  it('exchanges the code once, for tokens of a new account', async () => {
    const redirectUri = 'http://127.0.0.1:40001/oauth/callback';
    const { registration, pkce, code } = await authorize(redirectUri);
    const tokens = await exchangeAuthorizationCode(endpoints, { registration, code, verifier: pkce.verifier, redirectUri });
    expect(upstream.requestsTo('oidcToken')[0]!.body).toEqual({
      clientId: registration.clientId,
      clientSecret: registration.clientSecret,
      grantType: 'authorization_code',
      redirectUri,
      codeVerifier: pkce.verifier,
      code,
    });
    const account = upstream.signIn.signedIn[0]!;
    expect(tokens).toEqual({ accessToken: account.accessToken, refreshToken: account.refreshToken, expiresIn: 3600 });
    expect(account.clientId).toBe(registration.clientId);

    const again = await rejection(exchangeAuthorizationCode(endpoints, { registration, code, verifier: pkce.verifier, redirectUri }));
    expect(again.providerCode).toBe('invalid_grant');
    expect(again.message).toMatch(/^Sign-in failed because AWS did not accept the authorization code \(invalid_grant/);
  });

  it('fails on a wrong verifier or a redirect URI that differs from the authorize one', async () => {
    const redirectUri = 'http://127.0.0.1:40002/oauth/callback';
    const first = await authorize(redirectUri);
    const wrongVerifier = await rejection(
      exchangeAuthorizationCode(endpoints, { registration: first.registration, code: first.code, verifier: createPkcePair().verifier, redirectUri }),
    );
    expect(wrongVerifier.message).toContain('Code verifier does not match');
    const second = await authorize(redirectUri);
    const wrongRedirect = await rejection(
      exchangeAuthorizationCode(endpoints, {
        registration: second.registration,
        code: second.code,
        verifier: second.pkce.verifier,
        redirectUri: 'http://127.0.0.1:1/oauth/callback',
      }),
    );
    expect(wrongRedirect.message).toContain('redirectUri does not match');
  });

  it('flags an expired registration so the flow can forget it', async () => {
    const redirectUri = 'http://127.0.0.1:40003/oauth/callback';
    const { registration, pkce, code } = await authorize(redirectUri);
    upstream.signIn.expireRegistration(registration.clientId);
    const error = await rejection(exchangeAuthorizationCode(endpoints, { registration, code, verifier: pkce.verifier, redirectUri }));
    expect(error.providerCode).toBe('invalid_client');
    expect(isRegistrationRejected(error)).toBe(true);
    expect(isRegistrationRejected(new Error('x'))).toBe(false);
  });
});

describe('device code flow', () => {
  async function start() {
    const registration = await registerClient(endpoints, deviceKey, { clientName: 'Kiro Bridge', nowSeconds: nowSeconds() });
    const device = await startDeviceAuthorization(endpoints, { registration, startUrl: START_URL });
    return { registration, device };
  }

  it('starts with the client and start URL, and reads code, pages, expiry and interval', async () => {
    const { registration, device } = await start();
    expect(upstream.requestsTo('oidcDeviceAuthorization')[0]!.body).toEqual({
      clientId: registration.clientId,
      clientSecret: registration.clientSecret,
      startUrl: START_URL,
    });
    expect(device.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(device.verificationUri).toBe(`${upstream.baseUrl}/device`);
    expect(device.verificationUriComplete).toBe(`${upstream.baseUrl}/device?user_code=${device.userCode}`);
    expect(device.expiresIn).toBe(600);
    expect(device.interval).toBe(1);
  });

  it('polls through authorization_pending and slow_down (+5 s) to the tokens', async () => {
    const { registration, device } = await start();
    upstream.signIn.devicePollScript.push('authorization_pending', 'slow_down');
    upstream.signIn.approveDevice(device.userCode);
    const sleeps = recordingSleep();
    const seen: string[] = [];
    const tokens = await pollDeviceToken(endpoints, { registration, device, sleep: sleeps.fn, now: () => clock, onPoll: (outcome) => seen.push(outcome) });
    expect(sleeps.asked).toEqual([1000, 1000, 6000]);
    expect(seen).toEqual(['authorization_pending', 'slow_down']);
    const polls = upstream.requestsTo('oidcToken');
    expect(polls).toHaveLength(3);
    expect(polls[0]!.body).toEqual({
      clientId: registration.clientId,
      clientSecret: registration.clientSecret,
      grantType: DEVICE_GRANT_TYPE,
      deviceCode: device.deviceCode,
    });
    expect(tokens.refreshToken).toBe(upstream.signIn.signedIn[0]!.refreshToken);
    // The fake saw the polls spaced as asked.
    const times = upstream.signIn.lastDevice!.polls;
    expect(times[2]! - times[1]!).toBe(6000);
  });

  it('keeps polling while the user has not approved, until the user does', async () => {
    const { registration, device } = await start();
    const sleeps = recordingSleep();
    let polls = 0;
    const tokens = await pollDeviceToken(endpoints, {
      registration,
      device,
      sleep: sleeps.fn,
      now: () => clock,
      onPoll: () => {
        if (++polls === 3) upstream.signIn.approveDevice(device.userCode);
      },
    });
    expect(tokens.accessToken).toBe(upstream.signIn.signedIn[0]!.accessToken);
    expect(upstream.requestsTo('oidcToken')).toHaveLength(4);
  });

  it('stops when the device code expires on the client clock, without polling past it', async () => {
    upstream.signIn.deviceExpiresInSeconds = 3;
    const { registration, device } = await start();
    const sleeps = recordingSleep();
    const error = await rejection(pollDeviceToken(endpoints, { registration, device, sleep: sleeps.fn, now: () => clock }));
    expect(error.failure).toBe('expired');
    expect(error.message).toBe('Sign-in failed because the device code expired before it was approved; start the sign-in again');
    expect(upstream.requestsTo('oidcToken')).toHaveLength(2);
  });

  it('stops on expired_token and on access_denied', async () => {
    const { registration, device } = await start();
    upstream.signIn.devicePollScript.push('expired_token');
    expect((await rejection(pollDeviceToken(endpoints, { registration, device, sleep: recordingSleep().fn, now: () => clock }))).failure).toBe('expired');
    const second = await startDeviceAuthorization(endpoints, { registration, startUrl: START_URL });
    upstream.signIn.denyDevice(second.userCode);
    const denied = await rejection(pollDeviceToken(endpoints, { registration, device: second, sleep: recordingSleep().fn, now: () => clock }));
    expect(denied.failure).toBe('denied');
    expect(denied.providerCode).toBe('access_denied');
  });

  it('stops on any other error the service names', async () => {
    const { registration, device } = await start();
    upstream.signIn.expireRegistration(registration.clientId);
    const error = await rejection(pollDeviceToken(endpoints, { registration, device, sleep: recordingSleep().fn, now: () => clock }));
    expect(error.failure).toBe('provider_error');
    expect(error.providerCode).toBe('invalid_client');
  });

  it('rides out 5xx, 429 (as slow_down) and unparseable answers: the user may already have approved', async () => {
    const { registration, device } = await start();
    upstream.signIn.approveDevice(device.userCode);
    const real = upstream.grants.get(DEVICE_GRANT_TYPE)!;
    const glitches = [
      { status: 500, body: { message: 'boom' } },
      { status: 429, body: {} },
      { status: 400, body: 'not json' },
    ];
    const flaky: GrantHandler = (call, body, kit) => glitches.shift() ?? real(call, body, kit);
    upstream.grants.set(DEVICE_GRANT_TYPE, flaky);
    const sleeps = recordingSleep();
    const tokens = await pollDeviceToken(endpoints, { registration, device, sleep: sleeps.fn, now: () => clock });
    expect(tokens.refreshToken).toBeTruthy();
    expect(sleeps.asked).toEqual([1000, 1000, 6000, 6000]);
  });

  it('rejects a success without a refresh token as unusable', async () => {
    const { registration, device } = await start();
    upstream.signIn.approveDevice(device.userCode);
    const real = upstream.grants.get(DEVICE_GRANT_TYPE)!;
    upstream.grants.set(DEVICE_GRANT_TYPE, async (call, body, kit) => {
      const reply = await real(call, body, kit);
      delete (reply.body as Record<string, unknown>).refreshToken;
      return reply;
    });
    const error = await rejection(pollDeviceToken(endpoints, { registration, device, sleep: recordingSleep().fn, now: () => clock }));
    expect(error.failure).toBe('protocol');
    expect(error.message).toBe('Sign-in failed because AWS approved the device but sent no refresh token');
  });

  it('is cancelled by the signal while waiting, and polls no more', async () => {
    const { registration, device } = await start();
    const controller = new AbortController();
    const polled = pollDeviceToken(endpoints, {
      registration,
      device,
      signal: controller.signal,
      sleep: recordingSleep().fn,
      now: () => clock,
      onPoll: () => controller.abort(),
    });
    const error = await rejection(polled);
    expect(error.cancelled).toBe(true);
    expect(upstream.requestsTo('oidcToken')).toHaveLength(1);
  });
});
