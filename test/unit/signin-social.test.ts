// Kiro social sign-in (Google / GitHub) and profile discovery, against the fake
// (docs/kiro-protocol.md#kiro-social-login, #profiles).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SOCIAL_PROFILE_ARN } from '../../src/kiro/signin/constants';
import { signInEndpoints, type SignInEndpoints } from '../../src/kiro/signin/endpoints';
import { SignInError } from '../../src/kiro/signin/errors';
import { sleep } from '../../src/kiro/signin/http';
import {
  exchangeSocialCode,
  pollSocialDevice,
  revokeSocialRefreshToken,
  socialLoginUrl,
  startSocialDeviceAuthorization,
} from '../../src/kiro/signin/kiro-social';
import { createPkcePair } from '../../src/kiro/signin/pkce';
import { chooseProfile, listAvailableProfiles, type KiroProfile } from '../../src/kiro/signin/profiles';
import { actAsBrowser, KIRO_CALLBACK_PORT_ALLOWLIST, SIGNUPS_PAUSED_MESSAGE, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { failureOf } from '../support/failure';

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

const rejection = (promise: Promise<unknown>) => failureOf(promise, SignInError);

const fastSleep = async (ms: number, signal?: AbortSignal) => {
  clock += ms;
  await sleep(0, signal);
};

const REDIRECT = `http://localhost:${KIRO_CALLBACK_PORT_ALLOWLIST[5]}/oauth/callback`;

async function login(provider: 'Google' | 'Github' = 'Google', redirectUri = REDIRECT) {
  const pkce = createPkcePair();
  const url = socialLoginUrl(endpoints, { provider, redirectUri, challenge: pkce.challenge, state: 'st-1' });
  const hops = await actAsBrowser(url, { stopAt: () => true });
  return { pkce, url, hops, location: hops[0]!.location ? new URL(hops[0]!.location) : undefined };
}

describe('Kiro social login', () => {
  it('builds the login URL of the Kiro IDE (idp, redirect, S256 challenge, state) and gets a code back', async () => {
    const { url, pkce, location } = await login('Github');
    const parsed = new URL(url);
    expect(`${parsed.origin}${parsed.pathname}`).toBe(`${upstream.baseUrl}/login`);
    expect(Object.fromEntries(parsed.searchParams)).toEqual({
      idp: 'Github',
      redirect_uri: REDIRECT,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      state: 'st-1',
    });
    expect(`${location!.origin}${location!.pathname}`).toBe(REDIRECT);
    expect(location!.searchParams.get('state')).toBe('st-1');
    expect(location!.searchParams.get('code')).toBeTruthy();
    const withChooser = socialLoginUrl(endpoints, { provider: 'Google', redirectUri: REDIRECT, challenge: 'c', state: 's', selectAccount: true });
    expect(new URL(withChooser).searchParams.get('prompt')).toBe('select_account');
  });

  it('is refused by the service for a port outside its allowlist or a 127.0.0.1 redirect', async () => {
    const offList = await login('Google', 'http://localhost:19876/oauth/callback');
    expect(offList.hops[0]!.status).toBe(400);
    expect(offList.hops[0]!.body).toContain('redirect_mismatch');
    const ip = await login('Google', `http://127.0.0.1:${KIRO_CALLBACK_PORT_ALLOWLIST[0]}/oauth/callback`);
    expect(ip.hops[0]!.status).toBe(400);
  });

  it('exchanges the code with snake_case JSON for tokens and the profile ARN', async () => {
    const { pkce, location } = await login();
    const code = location!.searchParams.get('code')!;
    const tokens = await exchangeSocialCode(endpoints, { code, verifier: pkce.verifier, redirectUri: REDIRECT });
    expect(upstream.requestsTo('socialToken')[0]!.body).toEqual({ code, code_verifier: pkce.verifier, redirect_uri: REDIRECT });
    const account = upstream.signIn.signedIn[0]!;
    expect(account.kind).toBe('social');
    expect(tokens).toEqual({ accessToken: account.accessToken, refreshToken: account.refreshToken, expiresIn: 3600, profileArn: account.profileArn });
    // Single use.
    const again = await rejection(exchangeSocialCode(endpoints, { code, verifier: pkce.verifier, redirectUri: REDIRECT }));
    expect(again.message).toBe("Sign-in failed because Kiro's sign-in service refused the code exchange (Invalid authorization code)");
  });

  it('says plainly when sign-ups are paused', async () => {
    const { pkce, location } = await login();
    upstream.signIn.signupsPaused = true;
    const error = await rejection(exchangeSocialCode(endpoints, { code: location!.searchParams.get('code')!, verifier: pkce.verifier, redirectUri: REDIRECT }));
    expect(error.failure).toBe('signups_paused');
    expect(error.message).toContain(SIGNUPS_PAUSED_MESSAGE);
  });

  it('revokes a refresh token (best effort, never throws)', async () => {
    const { pkce, location } = await login();
    const tokens = await exchangeSocialCode(endpoints, { code: location!.searchParams.get('code')!, verifier: pkce.verifier, redirectUri: REDIRECT });
    expect(await revokeSocialRefreshToken(endpoints, tokens.refreshToken)).toBe(true);
    expect(upstream.signIn.revokedRefreshTokens).toEqual([tokens.refreshToken]);
    expect(upstream.signIn.signedIn[0]!.refreshToken).not.toBe(tokens.refreshToken);
    const gone = signInEndpoints({ oidcRegion: 'us-east-1', upstreamBase: 'http://127.0.0.1:1' });
    expect(await revokeSocialRefreshToken(gone, tokens.refreshToken)).toBe(false);
  });
});

describe('Kiro social device flow (single source)', () => {
  it('starts with Kiro-CLI and the provider, polls through pending to authorized', async () => {
    const device = await startSocialDeviceAuthorization(endpoints, { provider: 'Github' });
    expect(upstream.requestsTo('socialDeviceAuthorization')[0]!.body).toEqual({ clientId: 'Kiro-CLI', loginProvider: 'Github' });
    expect(device.intervalMs).toBe(1000);
    expect(device.expiresInMs).toBe(600_000);
    upstream.signIn.devicePollScript.push('authorization_pending');
    upstream.signIn.approveDevice(device.userCode);
    const seen: string[] = [];
    const tokens = await pollSocialDevice(endpoints, { device, sleep: fastSleep, now: () => clock, onPoll: (s) => seen.push(s) });
    expect(seen).toEqual(['authorization_pending', 'authorized']);
    expect(upstream.requestsTo('socialDevicePoll')[0]!.body).toEqual({ deviceCode: device.deviceCode, clientId: 'Kiro-CLI' });
    expect(tokens.profileArn).toBe(upstream.signIn.signedIn[0]!.profileArn);
  });

  it('falls back to the default social profile when the answer has none', async () => {
    upstream.signIn.accountOptions = { profileArn: null };
    const device = await startSocialDeviceAuthorization(endpoints, { provider: 'Google' });
    upstream.signIn.approveDevice(device.userCode);
    const tokens = await pollSocialDevice(endpoints, { device, sleep: fastSleep, now: () => clock });
    expect(tokens.profileArn).toBe(DEFAULT_SOCIAL_PROFILE_ARN);
  });

  it('ends on expiry (service or clock) and on an unknown status', async () => {
    const device = await startSocialDeviceAuthorization(endpoints, { provider: 'Google' });
    upstream.signIn.devicePollScript.push('expired_token');
    expect((await rejection(pollSocialDevice(endpoints, { device, sleep: fastSleep, now: () => clock }))).failure).toBe('expired');
    upstream.signIn.deviceExpiresInSeconds = 2;
    const short = await startSocialDeviceAuthorization(endpoints, { provider: 'Google' });
    expect((await rejection(pollSocialDevice(endpoints, { device: short, sleep: fastSleep, now: () => clock }))).failure).toBe('expired');
    const odd = await startSocialDeviceAuthorization(endpoints, { provider: 'Google' });
    upstream.signIn.devicePollScript.push('who_knows');
    const error = await rejection(pollSocialDevice(endpoints, { device: odd, sleep: fastSleep, now: () => clock }));
    expect(error.failure).toBe('protocol');
    expect(error.message).toContain('"who_knows"');
  });
});

describe('profile discovery', () => {
  async function idcAccountToken() {
    const account = upstream.addAccount({ kind: 'idc', idcType: 'enterprise' });
    return { account, accessToken: account.issueAccessToken() };
  }

  it('asks ListAvailableProfiles with the awsJson target and the bearer, and reads the profiles', async () => {
    const { accessToken } = await idcAccountToken();
    upstream.signIn.profiles = [{ arn: 'arn:aws:codewhisperer:eu-central-1:123456789012:profile/EUPROFILE', profileName: 'EU team' }];
    const discovery = await listAvailableProfiles({ hosts: endpoints.profileHosts, accessToken, machineId: 'a'.repeat(64) });
    expect(discovery).toEqual({
      profiles: [{ arn: 'arn:aws:codewhisperer:eu-central-1:123456789012:profile/EUPROFILE', profileName: 'EU team', region: 'eu-central-1' }],
      failures: [],
    });
    const sent = upstream.requestsTo('target')[0]!;
    expect(sent.target).toBe('AmazonCodeWhispererService.ListAvailableProfiles');
    expect(sent.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(sent.headers.authorization).toBe(`Bearer ${accessToken}`);
    expect(sent.headers['user-agent']).toContain(`KiroIDE-`);
    expect(sent.body).toEqual({ maxResults: 10 });
  });

  it('follows nextToken across pages and merges hosts by ARN', async () => {
    const { accessToken } = await idcAccountToken();
    upstream.signIn.profiles = Array.from({ length: 13 }, (_, i) => ({
      arn: `arn:aws:codewhisperer:us-east-1:123456789012:profile/P${i}`,
      profileName: `p${i}`,
    }));
    const discovery = await listAvailableProfiles({ hosts: [...endpoints.profileHosts, ...endpoints.profileHosts], accessToken, machineId: 'a'.repeat(64) });
    expect(discovery.profiles.map((p) => p.profileName)).toEqual(upstream.signIn.profiles.map((p) => p.profileName));
    expect(upstream.requestsTo('target').map((r) => r.body)).toEqual([
      { maxResults: 10 },
      { maxResults: 10, nextToken: '10' },
      { maxResults: 10 },
      { maxResults: 10, nextToken: '10' },
    ]);
  });

  it('keeps going when one host fails, and reports what failed', async () => {
    const { accessToken } = await idcAccountToken();
    const discovery = await listAvailableProfiles({ hosts: ['http://127.0.0.1:1/', ...endpoints.profileHosts], accessToken, machineId: 'a'.repeat(64) });
    expect(discovery.profiles).toHaveLength(1);
    expect(discovery.failures).toHaveLength(1);
    expect(discovery.failures[0]).toMatch(/^127\.0\.0\.1:1: /);
    const refused = await listAvailableProfiles({ hosts: endpoints.profileHosts, accessToken: 'aoa-not-a-token-of-the-fake', machineId: 'a'.repeat(64) });
    expect(refused.profiles).toEqual([]);
    expect(refused.failures[0]).toContain('The bearer token included in the request is invalid.');
  });

  it('takes one profile silently, lets the user pick among several, and fails clearly on none', async () => {
    const a: KiroProfile = { arn: 'arn:aws:codewhisperer:us-east-1:1:profile/A', profileName: 'A', region: 'us-east-1' };
    const b: KiroProfile = { arn: 'arn:aws:codewhisperer:eu-central-1:1:profile/B', profileName: 'B', region: 'eu-central-1' };
    let offered: KiroProfile[] = [];
    const pick = async (profiles: KiroProfile[]) => {
      offered = profiles;
      return profiles[1];
    };
    expect(await chooseProfile({ profiles: [a], failures: [] }, pick)).toBe(a);
    expect(offered).toEqual([]);
    expect(await chooseProfile({ profiles: [a, b], failures: [] }, pick)).toBe(b);
    expect(offered).toEqual([a, b]);
    expect((await rejection(chooseProfile({ profiles: [a, b], failures: [] }, async () => undefined))).cancelled).toBe(true);
    const none = await rejection(chooseProfile({ profiles: [], failures: ['q.eu-central-1.amazonaws.com: HTTP 403'] }, pick));
    expect(none.failure).toBe('no_profile');
    expect(none.message).toContain('No profiles available. Please contact your administrator.');
    expect(none.message).toContain('q.eu-central-1.amazonaws.com: HTTP 403');
  });
});
