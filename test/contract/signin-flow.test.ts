// The whole sign-in (docs/kiro-protocol.md#sign-in) against the fake upstream playing SSO-OIDC,
// Kiro's auth service and the Q hosts, with a test acting as the browser and as the user. Each
// credential it returns is then used by a real bridge, through the official Anthropic SDK.
import Anthropic from '@anthropic-ai/sdk';
import { createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redactor } from '../../src/common/redact';
import { bridgeConfig } from '../../src/bridge/config';
import { createBridge } from '../../src/bridge/http/server';
import { KiroAccount } from '../../src/kiro/accounts/account';
import { SingleAccountProvider } from '../support/single-account';
import { sleep } from '../../src/kiro/signin/http';
import { BUILDER_ID_PROFILE_ARN } from '../../src/kiro/signin/constants';
import {
  MemoryRegistrationCache,
  signIn,
  SignInError,
  type KiroProfile,
  type SignedInAccount,
  type SignInOptions,
  type SignInUi,
  type UserCodePrompt,
} from '../../src/kiro/signin';
import { actAsBrowser, SUSPENDED_MESSAGE, startFakeUpstream, textReply, type FakeUpstream } from '../support/fake-upstream';
import { failureOf } from '../support/failure';
import { freePort } from '../support/net';

let upstream: FakeUpstream;
let clock: number;
let registrations: MemoryRegistrationCache;
const blockers: Server[] = [];

beforeEach(async () => {
  clock = Date.now();
  upstream = await startFakeUpstream({ accounts: [], now: () => clock });
  registrations = new MemoryRegistrationCache();
});

afterEach(async () => {
  await upstream.close();
  for (const blocker of blockers.splice(0)) await new Promise((r) => blocker.close(r));
});

/** What the test's "user" did, for assertions. */
interface UiLog {
  opened: string[];
  codes: UserCodePrompt[];
  offered: KiroProfile[][];
  progress: string[];
}

function ui(overrides: Partial<SignInUi> = {}): { ui: SignInUi; log: UiLog } {
  const log: UiLog = { opened: [], codes: [], offered: [], progress: [] };
  return {
    log,
    ui: {
      // The user's browser: open the page and follow the redirect back to the loopback callback.
      openUrl: async (url) => {
        log.opened.push(url);
        void actAsBrowser(url);
        return true;
      },
      // The user approves the code on the verification page.
      showUserCode: (prompt) => {
        log.codes.push(prompt);
        void actAsBrowser(`${prompt.verificationUriComplete}&approve=1`);
      },
      pickProfile: async (profiles) => {
        log.offered.push(profiles);
        return profiles.at(-1);
      },
      progress: (message) => log.progress.push(message),
      ...overrides,
    },
  };
}

/** Device polls move the shared clock instead of waiting; the sleeps asked for are recorded. */
function fastSleep(asked: number[] = []) {
  return async (ms: number, signal?: AbortSignal) => {
    asked.push(ms);
    clock += ms;
    await sleep(5, signal);
  };
}

function options(method: SignInOptions['method'], transport: SignInOptions['transport'], extra: Partial<SignInOptions> = {}): SignInOptions {
  return { method, transport, ui: ui().ui, registrations, upstreamBase: upstream.baseUrl, now: () => clock, sleep: fastSleep(), ...extra };
}

const failure = (promise: Promise<unknown>) => failureOf(promise, SignInError);

async function occupiedPort(): Promise<number> {
  const blocker = createServer();
  blockers.push(blocker);
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  return (blocker.address() as { port: number }).port;
}

/** Serves one request through a real bridge with the signed-in credential. */
async function askThroughBridge(result: SignedInAccount): Promise<string> {
  const account = new KiroAccount({
    credentials: {
      auth: result.kind === 'idc' ? 'IdC' : 'Social',
      refreshToken: result.refreshToken,
      clientId: result.clientId,
      clientSecret: result.clientSecret,
      region: result.region,
      profileArn: result.profileArn,
      provider: result.provider,
      startUrl: result.startUrl,
      machineId: result.machineId,
      disabled: false,
      index: 0,
    },
    upstreamBase: upstream.baseUrl,
  });
  const bridge = createBridge(bridgeConfig({ port: 0, apiKey: 'kb-signin-contract-key-0123456789', upstreamBase: upstream.baseUrl }), {
    accounts: new SingleAccountProvider(account),
  });
  try {
    const { url } = await bridge.start();
    upstream.scriptNext(textReply('Signed in and answering.'));
    const client = new Anthropic({ baseURL: url, apiKey: 'kb-signin-contract-key-0123456789', maxRetries: 0 });
    const message = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    return message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  } finally {
    await bridge.stop();
    bridge.dispose();
    await account.dispose();
  }
}

describe('Builder ID in the browser (authorization code + PKCE)', () => {
  it('signs in end to end, verifies the account, and the credential serves a request', async () => {
    const { ui: browserUi, log } = ui();
    const redactor = new Redactor();
    const result = await signIn(options({ kind: 'builder-id' }, 'browser', { ui: browserUi, redactor }));

    const account = upstream.signIn.signedIn[0]!;
    const registration = [...upstream.signIn.registrations.values()][0]!;
    expect(result).toMatchObject({
      kind: 'idc',
      provider: 'BuilderId',
      clientId: registration.clientId,
      clientSecret: registration.clientSecret,
      clientSecretExpiresAt: registration.expiresAt * 1000,
      region: 'us-east-1',
      startUrl: 'https://view.awsapps.com/start',
      refreshToken: account.refreshToken,
      accessToken: account.accessToken,
    });
    expect(result.usage.email).toBeTruthy();
    expect(result.label).toBe(`Builder ID (${result.usage.email})`);
    expect(result.usage).toMatchObject({ remaining: 50, limit: 50 });
    expect(result.machineId).toMatch(/^[0-9a-f]{64}$/);
    // Builder ID keeps no profile of its own; the fixed one is sent only where Kiro demands one.
    expect(result.profileArn).toBeUndefined();

    // The browser was sent to the fake's authorize page with a loopback redirect.
    const opened = new URL(log.opened[0]!);
    expect(opened.pathname).toBe('/authorize');
    expect(opened.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
    // Register (PKCE variant) → authorize → code exchange → a real refresh → usage check.
    expect(upstream.requests.map((r) => r.endpoint)).toEqual(['oidcRegister', 'oidcAuthorize', 'oidcToken', 'oidcToken', 'usageLimits']);
    const [, , exchange, refresh, usage] = upstream.requests;
    expect((exchange!.body as { grantType: string }).grantType).toBe('authorization_code');
    expect((refresh!.body as { grantType: string }).grantType).toBe('refresh_token');
    expect(usage!.query.profileArn).toBeUndefined();
    expect(usage!.headers.authorization).toBe(`Bearer ${account.accessToken}`);
    expect(log.progress.at(-1)).toBe('Checking the new account with Kiro…');
    // Every token of the sign-in is known to the redactor.
    expect(redactor.text(`${result.refreshToken} ${result.clientSecret} ${result.accessToken}`)).toBe('[REDACTED] [REDACTED] [REDACTED]');

    expect(await askThroughBridge(result)).toBe('Signed in and answering.');
    expect(upstream.lastGenerate().body).toHaveProperty('profileArn', BUILDER_ID_PROFILE_ARN);
    expect(upstream.requestsTo('target')).toHaveLength(0);
  });

  it('reuses the cached client registration for the next sign-in', async () => {
    await signIn(options({ kind: 'builder-id' }, 'browser'));
    await signIn(options({ kind: 'builder-id' }, 'browser'));
    expect(upstream.requestsTo('oidcRegister')).toHaveLength(1);
    expect(upstream.signIn.signedIn).toHaveLength(2);
    expect(upstream.signIn.signedIn[0]!.clientId).toBe(upstream.signIn.signedIn[1]!.clientId);
  });

  it('refuses a callback whose state was tampered with: no code exchanged, nothing signed in', async () => {
    const pages: string[] = [];
    const tampering = ui({
      openUrl: async (url) => {
        void actAsBrowser(url, {
          rewrite: (location) => {
            location.searchParams.set('state', 'forged-state');
            return location;
          },
        }).then((hops) => pages.push(hops.at(-1)!.body));
        return true;
      },
    });
    const error = await failure(signIn(options({ kind: 'builder-id' }, 'browser', { ui: tampering.ui })));
    expect(error.failure).toBe('state_mismatch');
    expect(error.message).toMatch(/^Sign-in failed because the browser came back with a different "state"/);
    expect(upstream.requests.map((r) => r.endpoint)).toEqual(['oidcRegister', 'oidcAuthorize']);
    expect(upstream.signIn.signedIn).toHaveLength(0);
    await expect.poll(() => pages[0]).toContain('does not belong to the sign-in');
  });

  it('reports a refusal on the AWS page as denied', async () => {
    upstream.signIn.browserAnswer = 'deny';
    const error = await failure(signIn(options({ kind: 'builder-id' }, 'browser')));
    expect(error.failure).toBe('denied');
    expect(upstream.requestsTo('oidcToken')).toHaveLength(0);
  });

  it('treats a declined "open this website?" prompt as a cancel', async () => {
    const declined = ui({ openUrl: async () => false });
    const error = await failure(signIn(options({ kind: 'builder-id' }, 'browser', { ui: declined.ui })));
    expect(error.cancelled).toBe(true);
    expect(error.message).toBe('Sign-in cancelled; nothing was stored.');
  });

  it('forgets a saved registration that AWS no longer accepts', async () => {
    await signIn(options({ kind: 'builder-id' }, 'browser'));
    // Revoked on AWS's side while our cache still holds it: the code exchange says invalid_client once.
    const real = upstream.grants.get('authorization_code')!;
    let refusals = 1;
    upstream.grants.set('authorization_code', (call, body, kit) =>
      refusals-- > 0 ? { status: 401, body: { error: 'invalid_client', error_description: 'Invalid client provided' } } : real(call, body, kit),
    );
    const error = await failure(signIn(options({ kind: 'builder-id' }, 'browser')));
    expect(error.providerCode).toBe('invalid_client');
    expect(error.message).toContain('it was discarded, please sign in again');
    expect(registrations.size).toBe(0);
    await signIn(options({ kind: 'builder-id' }, 'browser'));
    expect(upstream.requestsTo('oidcRegister')).toHaveLength(2);
  });
});

describe('IAM Identity Center with the device code', () => {
  const idc = { kind: 'idc' as const, startUrl: 'https://my-org.awsapps.com/start/#/', region: 'eu-west-1' };

  it('polls through authorization_pending and slow_down, lets the user pick a profile, and verifies', async () => {
    upstream.signIn.profiles = [
      { arn: 'arn:aws:codewhisperer:us-east-1:111111111111:profile/TEAMUS', profileName: 'Team US' },
      { arn: 'arn:aws:codewhisperer:eu-central-1:111111111111:profile/TEAMEU', profileName: 'Team EU' },
    ];
    upstream.signIn.devicePollScript.push('authorization_pending', 'slow_down');
    const { ui: deviceUi, log } = ui();
    const asked: number[] = [];
    const result = await signIn(options(idc, 'device', { ui: deviceUi, sleep: fastSleep(asked) }));

    expect(asked).toEqual([1000, 1000, 6000]);
    expect(log.codes).toHaveLength(1);
    expect(log.codes[0]!.userCode).toBe(upstream.signIn.lastDevice!.userCode);
    expect(log.codes[0]!.expiresAt).toBe(upstream.signIn.lastDevice!.expiresAt);
    expect(log.offered[0]!.map((p) => p.profileName)).toEqual(['Team US', 'Team EU']);
    expect(result).toMatchObject({
      kind: 'idc',
      provider: 'Enterprise',
      startUrl: 'https://my-org.awsapps.com/start',
      region: 'eu-west-1',
      profileArn: 'arn:aws:codewhisperer:eu-central-1:111111111111:profile/TEAMEU',
      label: `IAM Identity Center (my-org) (${result.usage.email})`,
    });
    // The device registration carries no redirect, and the device was started for the normalised start URL.
    expect(upstream.requestsTo('oidcRegister')[0]!.body).not.toHaveProperty('redirectUris');
    expect(upstream.requestsTo('oidcDeviceAuthorization')[0]!.body).toMatchObject({ startUrl: 'https://my-org.awsapps.com/start' });
    expect(upstream.requestsTo('usageLimits')[0]!.query.profileArn).toBe(result.profileArn);
    expect(await askThroughBridge(result)).toBe('Signed in and answering.');
  });

  it('takes a single profile without asking', async () => {
    const { ui: deviceUi, log } = ui();
    const result = await signIn(options(idc, 'device', { ui: deviceUi }));
    expect(log.offered).toEqual([]);
    expect(result.profileArn).toBe(upstream.signIn.profilesFor(upstream.signIn.signedIn[0]!)[0]!.arn);
  });

  it('fails clearly when the account has no profile', async () => {
    upstream.signIn.profiles = [];
    const error = await failure(signIn(options(idc, 'device')));
    expect(error.failure).toBe('no_profile');
    expect(error.message).toContain('Please contact your administrator');
    expect(upstream.requestsTo('usageLimits')).toHaveLength(0);
  });

  it('expires when nobody approves the code in time, and stores nothing', async () => {
    upstream.signIn.deviceExpiresInSeconds = 5;
    const { ui: idle } = ui({ showUserCode: () => undefined });
    const error = await failure(signIn(options(idc, 'device', { ui: idle })));
    expect(error.failure).toBe('expired');
    expect(upstream.signIn.signedIn).toHaveLength(0);
  });

  it('is cancelled from the progress notification while polling', async () => {
    const controller = new AbortController();
    const { ui: cancelling } = ui({
      showUserCode: () => undefined,
      progress: (message) => {
        if (message.startsWith('Waiting for you to approve')) setTimeout(() => controller.abort(), 20);
      },
    });
    const error = await failure(signIn(options(idc, 'device', { ui: cancelling, signal: controller.signal })));
    expect(error.cancelled).toBe(true);
    expect(upstream.signIn.signedIn).toHaveLength(0);
    // A poll already on the wire when the abort fired may still reach the fake after the sign-in
    // rejected (at most one); no poll may start after it. Polls run every ~5 ms here, so polling
    // that went on would add several within each 30 ms wait.
    const atRejection = upstream.requestsTo('oidcToken').length;
    await sleep(30);
    const settled = upstream.requestsTo('oidcToken').length;
    expect(settled - atRejection).toBeLessThanOrEqual(1);
    await sleep(30);
    expect(upstream.requestsTo('oidcToken').length).toBe(settled);
  });

  it('is cancelled when the user closes the profile picker, after the tokens came back', async () => {
    upstream.signIn.profiles = [
      { arn: 'arn:aws:codewhisperer:us-east-1:1:profile/A', profileName: 'A' },
      { arn: 'arn:aws:codewhisperer:us-east-1:1:profile/B', profileName: 'B' },
    ];
    const { ui: closing } = ui({ pickProfile: async () => undefined });
    const error = await failure(signIn(options(idc, 'device', { ui: closing })));
    expect(error.cancelled).toBe(true);
    expect(upstream.requestsTo('usageLimits')).toHaveLength(0);
  });

  it('re-registers once when the cached device client was revoked', async () => {
    await signIn(options(idc, 'device'));
    upstream.signIn.expireRegistration([...upstream.signIn.registrations.keys()][0]!);
    const result = await signIn(options(idc, 'device'));
    expect(upstream.requestsTo('oidcRegister')).toHaveLength(2);
    expect(result.clientId).toBe([...upstream.signIn.registrations.keys()][1]);
  });

  it('checks the region and start URL the user typed before calling anything', async () => {
    expect((await failure(signIn(options({ ...idc, region: 'Frankfurt' }, 'device')))).message).toContain('is not an AWS region name');
    expect((await failure(signIn(options({ ...idc, startUrl: 'my-org' }, 'device')))).message).toContain('is not a start URL');
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('Google and GitHub through Kiro', () => {
  it('binds the next allowed port when the first is busy, signs in, and the credential serves a request', async () => {
    const busy = await occupiedPort();
    const free = await freePort();
    upstream.signIn.socialCallbackPorts = [busy, free];
    const { ui: browserUi, log } = ui();
    const result = await signIn(options({ kind: 'social', provider: 'Github' }, 'browser', { ui: browserUi, callbackPorts: [busy, free] }));
    const account = upstream.signIn.signedIn[0]!;
    expect(new URL(log.opened[0]!).searchParams.get('redirect_uri')).toBe(`http://localhost:${free}/oauth/callback`);
    expect(result).toMatchObject({ kind: 'social', provider: 'Github', profileArn: account.profileArn, refreshToken: account.refreshToken });
    expect(result.clientId).toBeUndefined();
    expect(result.label).toBe(`GitHub (${result.usage.email})`);
    expect(upstream.requests.map((r) => r.endpoint)).toEqual(['socialLogin', 'socialToken', 'refreshToken', 'usageLimits']);
    expect(upstream.requestsTo('usageLimits')[0]!.query.profileArn).toBe(account.profileArn);
    expect(await askThroughBridge(result)).toBe('Signed in and answering.');
  });

  it('uses the real allowlist by default', async () => {
    const { ui: browserUi, log } = ui();
    await signIn(options({ kind: 'social', provider: 'Google' }, 'browser', { ui: browserUi }));
    const port = Number(new URL(new URL(log.opened[0]!).searchParams.get('redirect_uri')!).port);
    expect([3128, 4649, 6588, 8008, 9091, 49153, 50153, 51153, 52153, 53153]).toContain(port);
  });

  it('survives a code exchange without a profile ARN: the first refresh names it', async () => {
    upstream.signIn.socialExchangeIncludesProfileArn = false;
    const port = await freePort();
    upstream.signIn.socialCallbackPorts = [port];
    const result = await signIn(options({ kind: 'social', provider: 'Google' }, 'browser', { callbackPorts: [port] }));
    expect(result.profileArn).toBe(upstream.signIn.signedIn[0]!.profileArn);
  });

  it('fails the sign-in and revokes the new refresh token when Kiro refuses the account', async () => {
    const port = await freePort();
    upstream.signIn.socialCallbackPorts = [port];
    upstream.route('GET', '/getUsageLimits', 'usageLimits', (call, kit) =>
      kit.reply(call, {
        status: 403,
        body: { message: SUSPENDED_MESSAGE, reason: 'TEMPORARILY_SUSPENDED' },
        headers: { 'x-amzn-errortype': 'AccessDeniedException' },
      }),
    );
    const error = await failure(signIn(options({ kind: 'social', provider: 'Google' }, 'browser', { callbackPorts: [port] })));
    expect(error.failure).toBe('verification_failed');
    expect(error.message).toMatch(/^Sign-in failed because Kiro refused the new account's usage check \(Kiro account suspended: /);
    expect(upstream.signIn.revokedRefreshTokens).toHaveLength(1);
    expect(upstream.requestsTo('socialLogout')).toHaveLength(1);
  });

  it('signs in with the social device flow where no loopback can work', async () => {
    upstream.signIn.devicePollScript.push('authorization_pending');
    const { ui: deviceUi, log } = ui();
    const result = await signIn(options({ kind: 'social', provider: 'Google' }, 'device', { ui: deviceUi }));
    expect(log.codes[0]!.userCode).toBe(upstream.signIn.lastDevice!.userCode);
    expect(result).toMatchObject({ kind: 'social', provider: 'Google', profileArn: upstream.signIn.signedIn[0]!.profileArn });
  });

  it('does nothing at all when cancelled before it starts', async () => {
    const controller = new AbortController();
    controller.abort();
    expect((await failure(signIn(options({ kind: 'social', provider: 'Google' }, 'browser', { signal: controller.signal })))).cancelled).toBe(true);
    expect(upstream.requests).toHaveLength(0);
  });
});
