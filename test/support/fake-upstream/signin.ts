// Signing in from scratch (docs/kiro-protocol.md#sign-in), played by the fake: AWS SSO-OIDC
// (RegisterClient, StartDeviceAuthorization, the browser's /authorize page, CreateToken for the
// authorization-code and device grants), Kiro's social auth service (/login, /oauth/token, its
// device flow, /logout), a /device verification page a test can "approve" like a user, and
// ListAvailableProfiles (wired in service-routes). Every successful sign-in creates a FakeAccount,
// so what the client then does with its tokens (refresh, usage, generate, MCP) runs against the
// same fake as any other account.
//
// The fake enforces what the real services are documented to enforce: registered clients and
// secrets, grant types, registered redirect URIs (loopback port ignored, RFC 8252 7.3), PKCE
// S256, single-use codes, device-code expiry and `slow_down`, and Kiro's callback-port allowlist.
import { createHash, randomBytes } from 'node:crypto';
import type { FakeAccount } from './accounts';
import { oidcError } from './bodies';
import type { FakeUpstream, RouteCall, RouteKit } from './server';
import type { AccountOptions, HttpReply } from './types';

/** Kiro's callback-port allowlist as of 2026-04 (the Kiro CLI's `oauth_callback.rs`), kept here independently of the client's copy. */
export const KIRO_CALLBACK_PORT_ALLOWLIST: readonly number[] = [3128, 4649, 6588, 8008, 9091, 49153, 50153, 51153, 52153, 53153];

/** AWS Builder ID's start URL: SSO-OIDC logins from it are Builder ID ones. */
const BUILDER_ID_START = 'https://view.awsapps.com/start';

export const DEVICE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
export const SIGNUPS_PAUSED_MESSAGE = 'New signups are temporarily paused.';

export interface FakeRegistration {
  clientId: string;
  clientSecret: string;
  clientName: string;
  scopes: string[];
  grantTypes: string[];
  redirectUris: string[];
  issuerUrl?: string;
  /** Unix seconds. */
  issuedAt: number;
  /** Unix seconds. */
  expiresAt: number;
}

export interface FakeDeviceAuthorization {
  kind: 'oidc' | 'social';
  deviceCode: string;
  userCode: string;
  /** OIDC: the registered client; social: `Kiro-CLI`. */
  clientId: string;
  startUrl?: string;
  provider?: string;
  /** Epoch ms. */
  expiresAt: number;
  status: 'pending' | 'approved' | 'denied' | 'consumed';
  /** Epoch ms of each token poll (as the fake's clock saw them). */
  polls: number[];
}

interface FakeAuthCode {
  code: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  used: boolean;
  provider?: string;
}

const html = (status: number, title: string, text: string): HttpReply => ({
  status,
  body: `<!doctype html><title>${title}</title><p>${text}</p>`,
  headers: { 'content-type': 'text/html; charset=utf-8' },
});

const token = (prefix: string, bytes: number) => `${prefix}${randomBytes(bytes).toString('base64url')}`;
const s256 = (verifier: string) => createHash('sha256').update(verifier, 'ascii').digest('base64url');

function userCode(): string {
  // AWS shows codes like "ABCD-EFGH" without ambiguous letters.
  const alphabet = 'BCDFGHJKLMNPQRSTVWXZ';
  const bytes = randomBytes(8);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}

function field(body: unknown, key: string): unknown {
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>)[key] : undefined;
}

/** The state and knobs of the fake's sign-in services: `upstream.signIn`. */
export class FakeSignIn {
  /** Seconds a client registration lives (`clientSecretExpiresAt - now`). */
  registrationTtlSeconds = 90 * 24 * 3600;
  /** Device codes: lifetime and poll interval handed out. */
  deviceExpiresInSeconds = 600;
  deviceIntervalSeconds = 1;
  /**
   * One-shot answers for the next device-token polls (SSO-OIDC and social alike), before the
   * authorization's own state is looked at: e.g. `['authorization_pending', 'slow_down']`.
   */
  readonly devicePollScript: string[] = [];
  /** What the browser gets from /authorize and /login: a redirect with a code, or `error=access_denied`. */
  browserAnswer: 'approve' | 'deny' = 'approve';
  /** Kiro social's callback-port allowlist (tests may use free high ports instead). */
  socialCallbackPorts: number[] = [...KIRO_CALLBACK_PORT_ALLOWLIST];
  /** Kiro social answers the code exchange with 401 "New signups are temporarily paused.". */
  signupsPaused = false;
  /** Kiro social's code exchange includes `profileArn` (false: a service change the client must survive). */
  socialExchangeIncludesProfileArn = true;
  /** Profiles ListAvailableProfiles lists for every IdC account; undefined: one generated per account. */
  profiles: { arn: string; profileName: string }[] | undefined;
  /** Extra options for accounts created by sign-ins. */
  accountOptions: AccountOptions = {};

  readonly registrations = new Map<string, FakeRegistration>();
  readonly devices = new Map<string, FakeDeviceAuthorization>();
  readonly revokedRefreshTokens: string[] = [];
  /** Accounts created by successful sign-ins, in order. */
  readonly signedIn: FakeAccount[] = [];
  private readonly codes = new Map<string, FakeAuthCode>();
  private readonly generatedProfiles = new Map<FakeAccount, { arn: string; profileName: string }[]>();

  constructor(private readonly upstream: FakeUpstream) {}

  /** The newest device authorization (OIDC or social). */
  get lastDevice(): FakeDeviceAuthorization | undefined {
    return [...this.devices.values()].at(-1);
  }

  private device(userCodeValue: string): FakeDeviceAuthorization {
    const found = [...this.devices.values()].find((d) => d.userCode === userCodeValue);
    if (!found) throw new Error(`fake sign-in: no device authorization with user code ${userCodeValue}`);
    return found;
  }

  /** What the user does on the verification page: approve the code. */
  approveDevice(userCodeValue: string): void {
    const device = this.device(userCodeValue);
    if (device.status === 'pending') device.status = 'approved';
  }

  denyDevice(userCodeValue: string): void {
    const device = this.device(userCodeValue);
    if (device.status === 'pending') device.status = 'denied';
  }

  /** Makes a registration expire now (its client then gets `invalid_client`). */
  expireRegistration(clientId: string): void {
    const registration = this.registrations.get(clientId);
    if (registration) registration.expiresAt = Math.floor(this.upstream.now() / 1000) - 1;
  }

  /** Profiles of an account for ListAvailableProfiles. */
  profilesFor(account: FakeAccount): { arn: string; profileName: string }[] {
    if (account.kind === 'social') return account.profileArn ? [{ arn: account.profileArn, profileName: 'Default' }] : [];
    if (account.kind === 'apikey' || account.idcType === 'builder-id') return [];
    if (this.profiles) return this.profiles;
    let generated = this.generatedProfiles.get(account);
    if (!generated) {
      const digits = String(200000000000 + this.generatedProfiles.size + 1);
      generated = [
        {
          arn: `arn:aws:codewhisperer:us-east-1:${digits}:profile/${token('', 9)
            .toUpperCase()
            .replace(/[^A-Z0-9]/g, 'X')}`,
          profileName: 'Default',
        },
      ];
      this.generatedProfiles.set(account, generated);
    }
    return generated;
  }

  // -------------------------------------------------------------------------------------------
  // helpers for the routes
  // -------------------------------------------------------------------------------------------

  /** The registration of a valid client id + secret, or the SSO-OIDC error to answer. */
  client(clientId: unknown, clientSecret: unknown): FakeRegistration | HttpReply {
    const registration = typeof clientId === 'string' ? this.registrations.get(clientId) : undefined;
    if (!registration || registration.clientSecret !== clientSecret) return oidcError('invalid_client', 'Invalid client provided', 401);
    if (registration.expiresAt * 1000 <= this.upstream.now()) return oidcError('invalid_client', 'Client registration has expired', 401);
    return registration;
  }

  /**
   * A new account for a finished sign-in. An SSO-OIDC login is a Builder ID one when it came from
   * Builder ID's start URL, an Identity Center one otherwise (`accountOptions.idcType` overrides).
   */
  createAccount(kind: 'idc' | 'social', registration?: FakeRegistration, startUrl?: string): { account: FakeAccount; accessToken: string } {
    const idcType = startUrl === undefined || startUrl.replace(/\/+$/, '') === BUILDER_ID_START ? 'builder-id' : 'enterprise';
    const account = this.upstream.addAccount({
      ...(kind === 'idc' ? { idcType } : {}),
      ...this.accountOptions,
      kind,
      ...(registration ? { clientId: registration.clientId, clientSecret: registration.clientSecret } : {}),
    });
    this.signedIn.push(account);
    return { account, accessToken: account.issueAccessToken() };
  }

  newDevice(kind: 'oidc' | 'social', clientId: string, extra: { startUrl?: string; provider?: string }): FakeDeviceAuthorization {
    const device: FakeDeviceAuthorization = {
      kind,
      deviceCode: token('dc-', 32),
      userCode: userCode(),
      clientId,
      ...extra,
      expiresAt: this.upstream.now() + this.deviceExpiresInSeconds * 1000,
      status: 'pending',
      polls: [],
    };
    this.devices.set(device.deviceCode, device);
    return device;
  }

  newCode(entry: Omit<FakeAuthCode, 'code' | 'used'>): string {
    const code = token('code-', 24);
    this.codes.set(code, { ...entry, code, used: false });
    return code;
  }

  /** Takes a code (single use: any attempt consumes it). */
  takeCode(code: unknown): FakeAuthCode | undefined {
    const entry = typeof code === 'string' ? this.codes.get(code) : undefined;
    if (!entry || entry.used) return undefined;
    entry.used = true;
    return entry;
  }
}

// ---------------------------------------------------------------------------------------------
// AWS SSO-OIDC
// ---------------------------------------------------------------------------------------------

function registerRoute(call: RouteCall, kit: RouteKit): void {
  const signIn = kit.upstream.signIn;
  const body = call.record.body;
  const clientName = field(body, 'clientName');
  const clientType = field(body, 'clientType');
  const scopes = field(body, 'scopes');
  const grantTypes = field(body, 'grantTypes') ?? [DEVICE_GRANT_TYPE, 'refresh_token'];
  const redirectUris = field(body, 'redirectUris') ?? [];
  const issuerUrl = field(body, 'issuerUrl');
  const invalid = (description: string) => kit.refuse(call, oidcError('invalid_request', description), description);
  if (typeof clientName !== 'string' || !clientName) return invalid('clientName is required');
  if (clientType !== 'public') return invalid('clientType must be public');
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string')) return invalid('scopes must be a non-empty list');
  if (!Array.isArray(grantTypes) || !grantTypes.every((g) => typeof g === 'string')) return invalid('grantTypes must be a list');
  if (!Array.isArray(redirectUris) || !redirectUris.every((u) => typeof u === 'string')) return invalid('redirectUris must be a list');
  if (grantTypes.includes('authorization_code')) {
    if (redirectUris.length === 0) return invalid('redirectUris are required for the authorization_code grant');
    if (typeof issuerUrl !== 'string' || !issuerUrl) return invalid('issuerUrl is required for the authorization_code grant');
  }
  const now = Math.floor(kit.upstream.now() / 1000);
  const registration: FakeRegistration = {
    clientId: token('', 16),
    clientSecret: token('', 48),
    clientName,
    scopes: scopes as string[],
    grantTypes: grantTypes as string[],
    redirectUris: redirectUris as string[],
    ...(typeof issuerUrl === 'string' ? { issuerUrl } : {}),
    issuedAt: now,
    expiresAt: now + signIn.registrationTtlSeconds,
  };
  signIn.registrations.set(registration.clientId, registration);
  kit.reply(call, {
    status: 200,
    body: {
      clientId: registration.clientId,
      clientSecret: registration.clientSecret,
      clientIdIssuedAt: registration.issuedAt,
      clientSecretExpiresAt: registration.expiresAt,
    },
  });
}

/** The device code, the user code and the page the user approves it on (both device flows). */
function deviceCodeFields(kit: RouteKit, device: { deviceCode: string; userCode: string }) {
  const page = `${kit.upstream.baseUrl}/device`;
  return {
    deviceCode: device.deviceCode,
    userCode: device.userCode,
    verificationUri: page,
    verificationUriComplete: `${page}?user_code=${encodeURIComponent(device.userCode)}`,
  };
}

function deviceAuthorizationRoute(call: RouteCall, kit: RouteKit): void {
  const signIn = kit.upstream.signIn;
  const body = call.record.body;
  const client = signIn.client(field(body, 'clientId'), field(body, 'clientSecret'));
  if ('status' in client) return kit.refuse(call, client, 'invalid client');
  const startUrl = field(body, 'startUrl');
  if (typeof startUrl !== 'string' || !/^https:\/\//.test(startUrl))
    return kit.refuse(call, oidcError('invalid_request', 'startUrl is required'), 'no startUrl');
  const device = signIn.newDevice('oidc', client.clientId, { startUrl });
  kit.reply(call, {
    status: 200,
    body: {
      ...deviceCodeFields(kit, device),
      expiresIn: signIn.deviceExpiresInSeconds,
      interval: signIn.deviceIntervalSeconds,
    },
  });
}

/** Whether `redirect` matches a registered loopback redirect, ignoring the port (RFC 8252, section 7.3). */
function redirectRegistered(redirect: string, registered: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(redirect);
  } catch {
    return false;
  }
  return registered.some((r) => {
    const reg = new URL(r);
    const loopback = reg.hostname === '127.0.0.1' || reg.hostname === 'localhost';
    return url.protocol === reg.protocol && url.hostname === reg.hostname && url.pathname === reg.pathname && (loopback || url.port === reg.port);
  });
}

function redirectTo(redirectUri: string, params: Record<string, string>): HttpReply {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return { status: 302, body: '', headers: { location: url.toString(), 'content-type': 'text/html' } };
}

function authorizeRoute(call: RouteCall, kit: RouteKit): void {
  const signIn = kit.upstream.signIn;
  const q = call.record.query;
  const refuse = (why: string) => kit.refuse(call, html(400, 'Invalid request', why), why);
  if (q.response_type !== 'code') return refuse('response_type must be code');
  const registration = q.client_id ? signIn.registrations.get(q.client_id) : undefined;
  if (!registration || registration.expiresAt * 1000 <= kit.upstream.now()) return refuse('unknown or expired client_id');
  if (!registration.grantTypes.includes('authorization_code')) return refuse('client is not registered for the authorization_code grant');
  if (!q.redirect_uri || !redirectRegistered(q.redirect_uri, registration.redirectUris)) return refuse('redirect_uri is not registered for this client');
  const scopes = (q.scopes ?? q.scope ?? '').split(/[\s,]+/).filter(Boolean);
  if (scopes.length === 0 || !scopes.every((s) => registration.scopes.includes(s))) return refuse('scopes must be a subset of the registered scopes');
  if (!q.code_challenge || q.code_challenge_method !== 'S256') return refuse('PKCE with code_challenge_method S256 is required');
  const state = q.state ?? '';
  if (signIn.browserAnswer === 'deny') {
    return kit.reply(call, redirectTo(q.redirect_uri, { error: 'access_denied', error_description: 'The user denied the request', state }));
  }
  const code = signIn.newCode({ clientId: registration.clientId, redirectUri: q.redirect_uri, challenge: q.code_challenge });
  kit.reply(call, redirectTo(q.redirect_uri, { code, state }));
}

/** The verification page: `GET /device?user_code=…&approve=1` approves, `&deny=1` denies (a test acting as the user). */
function devicePageRoute(call: RouteCall, kit: RouteKit): void {
  const signIn = kit.upstream.signIn;
  const code = call.record.query.user_code;
  const device = code ? [...signIn.devices.values()].find((d) => d.userCode === code) : undefined;
  if (!device) return kit.reply(call, html(200, 'Enter code', 'Enter the code shown by your application.'));
  if (call.record.query.approve) signIn.approveDevice(device.userCode);
  else if (call.record.query.deny) signIn.denyDevice(device.userCode);
  kit.reply(call, html(200, 'Device', `Code ${device.userCode}: ${device.status}`));
}

/** CreateToken `authorization_code` (the PKCE flow's last step). */
function authorizationCodeGrant(call: RouteCall, body: Record<string, unknown>, kit: RouteKit): HttpReply {
  const signIn = kit.upstream.signIn;
  const client = signIn.client(body.clientId, body.clientSecret);
  if ('status' in client) return client;
  if (!client.grantTypes.includes('authorization_code')) return oidcError('unauthorized_client', 'Client is not authorized for this grant');
  const code = signIn.takeCode(body.code);
  if (!code || code.clientId !== client.clientId || code.provider) return oidcError('invalid_grant', 'Invalid authorization code provided');
  if (body.redirectUri !== code.redirectUri) return oidcError('invalid_grant', 'redirectUri does not match the authorization request');
  if (typeof body.codeVerifier !== 'string' || s256(body.codeVerifier) !== code.challenge)
    return oidcError('invalid_grant', 'Code verifier does not match the code challenge');
  return tokensFor(call, signIn.createAccount('idc', client, client.issuerUrl));
}

/** CreateToken with the device grant (the device flow's polling). */
function deviceCodeGrant(call: RouteCall, body: Record<string, unknown>, kit: RouteKit): HttpReply {
  const signIn = kit.upstream.signIn;
  const client = signIn.client(body.clientId, body.clientSecret);
  if ('status' in client) return client;
  const device = typeof body.deviceCode === 'string' ? signIn.devices.get(body.deviceCode) : undefined;
  if (!device || device.kind !== 'oidc' || device.clientId !== client.clientId) return oidcError('invalid_grant', 'Invalid device code provided');
  device.polls.push(kit.upstream.now());
  if (kit.upstream.now() >= device.expiresAt) return oidcError('expired_token', 'Device code has expired');
  const scripted = signIn.devicePollScript.shift();
  if (scripted) return oidcError(scripted, scripted.replace(/_/g, ' '));
  switch (device.status) {
    case 'pending':
      return oidcError('authorization_pending', 'Authorization pending');
    case 'denied':
      return oidcError('access_denied', 'The user denied the request');
    case 'consumed':
      return oidcError('invalid_grant', 'Device code has already been used');
    case 'approved':
      device.status = 'consumed';
      return tokensFor(call, signIn.createAccount('idc', client, device.startUrl));
  }
}

function tokensFor(call: RouteCall, created: { account: FakeAccount; accessToken: string }): HttpReply {
  call.record.account = created.account;
  return {
    status: 200,
    body: {
      accessToken: created.accessToken,
      tokenType: 'Bearer',
      expiresIn: created.account.accessTokenTtlSeconds,
      refreshToken: created.account.refreshToken,
      // Real answers carry an id token too; clients must use the access token.
      idToken: `eyJfake.${token('', 24)}.${token('', 24)}`,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Kiro social auth service
// ---------------------------------------------------------------------------------------------

function socialLoginRoute(call: RouteCall, kit: RouteKit): void {
  const signIn = kit.upstream.signIn;
  const q = call.record.query;
  const refuse = (why: string) => kit.refuse(call, html(400, 'Invalid request', why), why);
  if (q.idp !== 'Google' && q.idp !== 'Github') return refuse('idp must be Google or Github');
  let redirect: URL;
  try {
    redirect = new URL(q.redirect_uri ?? '');
  } catch {
    return refuse('redirect_uri is missing');
  }
  // Cognito only accepts pre-registered redirect URIs: localhost, one of the allowlisted ports, /oauth/callback.
  const port = Number(redirect.port);
  if (
    redirect.protocol !== 'http:' ||
    redirect.hostname !== 'localhost' ||
    redirect.pathname !== '/oauth/callback' ||
    !signIn.socialCallbackPorts.includes(port)
  ) {
    return refuse('redirect_mismatch');
  }
  if (!q.code_challenge || q.code_challenge_method !== 'S256') return refuse('PKCE with code_challenge_method S256 is required');
  const state = q.state ?? '';
  if (signIn.browserAnswer === 'deny') {
    return kit.reply(call, redirectTo(redirect.toString(), { error: 'access_denied', error_description: 'The user cancelled the sign-in', state }));
  }
  const code = signIn.newCode({ clientId: 'kiro-social', redirectUri: q.redirect_uri!, challenge: q.code_challenge, provider: q.idp });
  kit.reply(call, redirectTo(redirect.toString(), { code, state }));
}

function socialTokenRoute(call: RouteCall, kit: RouteKit): void {
  const signIn = kit.upstream.signIn;
  const body = call.record.body;
  if (signIn.signupsPaused) return kit.refuse(call, { status: 401, body: { message: SIGNUPS_PAUSED_MESSAGE } }, 'sign-ups paused');
  const code = signIn.takeCode(field(body, 'code'));
  const bad = (message: string) => kit.refuse(call, { status: 400, body: { message } }, message);
  if (!code || !code.provider) return bad('Invalid authorization code');
  if (field(body, 'redirect_uri') !== code.redirectUri) return bad('redirect_uri does not match');
  const verifier = field(body, 'code_verifier');
  if (typeof verifier !== 'string' || s256(verifier) !== code.challenge) return bad('Invalid code_verifier');
  const { account, accessToken } = signIn.createAccount('social');
  call.record.account = account;
  kit.reply(call, {
    status: 200,
    body: {
      accessToken,
      refreshToken: account.refreshToken,
      expiresIn: account.accessTokenTtlSeconds,
      ...(signIn.socialExchangeIncludesProfileArn && account.profileArn ? { profileArn: account.profileArn } : {}),
    },
  });
}

function socialDeviceAuthorizationRoute(call: RouteCall, kit: RouteKit): void {
  const signIn = kit.upstream.signIn;
  const body = call.record.body;
  const provider = field(body, 'loginProvider');
  if (field(body, 'clientId') !== 'Kiro-CLI' || (provider !== 'Google' && provider !== 'Github')) {
    return kit.refuse(call, { status: 400, body: { message: 'Invalid request' } }, 'bad social device request');
  }
  const device = signIn.newDevice('social', 'Kiro-CLI', { provider });
  kit.reply(call, {
    status: 200,
    body: {
      ...deviceCodeFields(kit, device),
      expiresInMilliseconds: signIn.deviceExpiresInSeconds * 1000,
      intervalInMilliseconds: signIn.deviceIntervalSeconds * 1000,
    },
  });
}

function socialDevicePollRoute(call: RouteCall, kit: RouteKit): void {
  const signIn = kit.upstream.signIn;
  const code = field(call.record.body, 'deviceCode');
  const device = typeof code === 'string' ? signIn.devices.get(code) : undefined;
  if (!device || device.kind !== 'social') return kit.reply(call, { status: 200, body: { status: 'invalid_token' } });
  device.polls.push(kit.upstream.now());
  if (kit.upstream.now() >= device.expiresAt) return kit.reply(call, { status: 200, body: { status: 'expired_token' } });
  const scripted = signIn.devicePollScript.shift();
  if (scripted) return kit.reply(call, { status: 200, body: { status: scripted } });
  if (device.status === 'approved') {
    device.status = 'consumed';
    const { account, accessToken } = signIn.createAccount('social');
    call.record.account = account;
    return kit.reply(call, {
      status: 200,
      body: {
        status: 'authorized',
        accessToken,
        refreshToken: account.refreshToken,
        identityProvider: device.provider,
        expiresIn: account.accessTokenTtlSeconds,
        ...(account.profileArn ? { profileArn: account.profileArn } : {}),
      },
    });
  }
  kit.reply(call, { status: 200, body: { status: device.status === 'pending' ? 'authorization_pending' : 'invalid_token' } });
}

function socialLogoutRoute(call: RouteCall, kit: RouteKit): void {
  const signIn = kit.upstream.signIn;
  const presented = field(call.record.body, 'refreshToken');
  const account = kit.upstream.accounts.find((a) => a.kind === 'social' && a.refreshToken === presented);
  if (account && typeof presented === 'string') {
    call.record.account = account;
    account.revokeRefreshToken();
    signIn.revokedRefreshTokens.push(presented);
  }
  kit.reply(call, { status: 200, body: {} });
}

/** Adds every sign-in route and `/token` grant to `upstream`. */
export function installSignInRoutes(upstream: FakeUpstream): void {
  upstream.route('POST', '/client/register', 'oidcRegister', registerRoute);
  upstream.route('POST', '/device_authorization', 'oidcDeviceAuthorization', deviceAuthorizationRoute);
  upstream.route('GET', '/authorize', 'oidcAuthorize', authorizeRoute);
  upstream.route('GET', '/device', 'devicePage', devicePageRoute);
  upstream.grants.set('authorization_code', authorizationCodeGrant);
  upstream.grants.set(DEVICE_GRANT_TYPE, deviceCodeGrant);
  upstream.route('GET', '/login', 'socialLogin', socialLoginRoute);
  upstream.route('POST', '/oauth/token', 'socialToken', socialTokenRoute);
  upstream.route('POST', '/oauth/device/authorization', 'socialDeviceAuthorization', socialDeviceAuthorizationRoute);
  upstream.route('POST', '/oauth/device/poll', 'socialDevicePoll', socialDevicePollRoute);
  upstream.route('POST', '/logout', 'socialLogout', socialLogoutRoute);
}
