// AWS SSO-OIDC for Builder ID and IAM Identity Center (docs/kiro-protocol.md#sso-oidc):
// RegisterClient with a cache, the authorization-code + PKCE flow (authorize URL, code exchange)
// and the device-code flow (start, then poll politely: `interval`, `slow_down`, expiry, cancel).
// REST with camelCase JSON.
import { DEVICE_GRANT } from './constants';
import type { SignInEndpoints } from './endpoints';
import { deviceCodeExpired, signInFailed, SignInError, throwIfCancelled } from './errors';
import { numberField, postJson, providerMessage, sleep as realSleep, stringField } from './http';
import type { ClientRegistration, RegistrationCache, RegistrationKey } from './registration-cache';

const SERVICE = 'AWS sign-in (SSO-OIDC)';

/**
 * Registered redirect for the PKCE flow: the loopback callback without a port. The AWS Toolkit
 * registers it so and then listens on any port; RFC 8252, section 7.3 has the server accept any
 * loopback port. This keeps one cached registration valid whatever port the next sign-in binds.
 * (The Kiro CLI registers the exact port instead, and so cannot reuse its registration across
 * logins.)
 */
export const PKCE_REGISTERED_REDIRECT = 'http://127.0.0.1/oauth/callback';

/** Reuse a cached registration only while it has this long left, so a new account does not stop refreshing days later. */
export const REGISTRATION_MIN_REMAINING_MS = 7 * 24 * 3600 * 1000;

export interface OidcTokens {
  accessToken: string;
  refreshToken: string;
  /** Seconds. */
  expiresIn: number;
}

/** `https://<name>.awsapps.com/start/#/` → `https://<name>.awsapps.com/start` (users paste either). */
export function normalizeStartUrl(input: string): string {
  const trimmed = input.trim().replace(/#.*$/, '').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw signInFailed('provider_error', `"${input.slice(0, 80)}" is not a start URL (it looks like https://your-org.awsapps.com/start)`);
  }
  if (url.protocol !== 'https:') throw signInFailed('provider_error', `the start URL must use https (got ${url.protocol.replace(':', '')})`);
  return trimmed;
}

/** The SSO-OIDC error code of a failed answer: `error`, else `__type` / x-amzn-errortype mapped back. */
export function oidcErrorCode(body: unknown, headers: Record<string, string | string[] | undefined> = {}): string | undefined {
  const direct = stringField(body, 'error');
  if (direct) return direct;
  const header = headers['x-amzn-errortype'];
  const type = stringField(body, '__type') ?? (Array.isArray(header) ? header[0] : header);
  if (!type) return undefined;
  // "com.amazonaws.ssooidc#AuthorizationPendingException" → "authorization_pending".
  // (the header form is "ExpiredTokenException:http://internal.amazon.com/…").
  const name = (type.split(':')[0] ?? '')
    .split('#')
    .pop()!
    .replace(/Exception$/, '');
  if (!name) return undefined;
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function describe(body: unknown, status: number): string {
  return providerMessage(body) ?? `HTTP ${status}`;
}

export interface RegisterOptions {
  clientName: string;
  signal?: AbortSignal;
  /** Unix seconds now (for a registration that omits its expiry). */
  nowSeconds: number;
}

/** RegisterClient: the device variant sends the Kiro CLI's three fields, the PKCE variant adds grant types, redirect and issuer. */
export async function registerClient(endpoints: SignInEndpoints, key: RegistrationKey, options: RegisterOptions): Promise<ClientRegistration> {
  const body: Record<string, unknown> = { clientName: options.clientName, clientType: 'public', scopes: [...key.scopes] };
  if (key.flow === 'pkce') {
    body.grantTypes = ['authorization_code', 'refresh_token'];
    body.redirectUris = [PKCE_REGISTERED_REDIRECT];
    body.issuerUrl = key.startUrl;
  }
  const answer = await postJson(endpoints.oidcRegister, body, { service: SERVICE, signal: options.signal });
  if (answer.status !== 200) {
    const code = oidcErrorCode(answer.body, answer.headers);
    throw signInFailed('provider_error', `AWS refused to register the sign-in client (${describe(answer.body, answer.status)})`, undefined, code);
  }
  const clientId = stringField(answer.body, 'clientId');
  const clientSecret = stringField(answer.body, 'clientSecret');
  if (!clientId || !clientSecret) throw signInFailed('protocol', 'AWS registered the sign-in client but sent no clientId/clientSecret');
  // About 90 days (the AWS Toolkit says so); assume that if the field is missing rather than reusing forever.
  const expiresAt = numberField(answer.body, 'clientSecretExpiresAt') ?? options.nowSeconds + 90 * 24 * 3600;
  return { clientId, clientSecret, clientSecretExpiresAt: expiresAt, region: key.region, startUrl: key.startUrl, flow: key.flow, scopes: [...key.scopes] };
}

export interface ObtainedRegistration {
  registration: ClientRegistration;
  /** False when it came from the cache. */
  fresh: boolean;
}

/** A cached registration with enough life left, else a new one (cached at once). */
export async function obtainRegistration(
  endpoints: SignInEndpoints,
  key: RegistrationKey,
  options: RegisterOptions & { cache: RegistrationCache; nowMs: number },
): Promise<ObtainedRegistration> {
  const cached = await options.cache.get(key);
  if (cached && cached.clientSecretExpiresAt * 1000 - options.nowMs > REGISTRATION_MIN_REMAINING_MS) return { registration: cached, fresh: false };
  throwIfCancelled(options.signal);
  const registration = await registerClient(endpoints, key, options);
  // Kept even if this sign-in is cancelled later: it is reusable, and registering again would
  // only add state on AWS's side.
  await options.cache.set(key, registration);
  return { registration, fresh: true };
}

/** The browser URL of the PKCE flow; scopes space-separated, as the Kiro CLI sends them. */
export function oidcAuthorizeUrl(
  endpoints: SignInEndpoints,
  params: { clientId: string; redirectUri: string; scopes: readonly string[]; state: string; challenge: string },
): string {
  const query: [string, string][] = [
    ['response_type', 'code'],
    ['client_id', params.clientId],
    ['redirect_uri', params.redirectUri],
    // The clients all say `scopes` (plural) although the service model names it `scope`; follow them.
    ['scopes', params.scopes.join(' ')],
    ['state', params.state],
    ['code_challenge', params.challenge],
    ['code_challenge_method', 'S256'],
  ];
  // encodeURIComponent, not URLSearchParams: a space must travel as %20, not '+'.
  return `${endpoints.oidcAuthorize}?${query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
}

function tokensFrom(body: unknown, how: string): OidcTokens {
  const accessToken = stringField(body, 'accessToken');
  const refreshToken = stringField(body, 'refreshToken');
  // A success without a refresh token is unusable: the account would die in an hour.
  if (!accessToken || !refreshToken) throw signInFailed('protocol', `AWS ${how} but sent no ${accessToken ? 'refresh' : 'access'} token`);
  return { accessToken, refreshToken, expiresIn: numberField(body, 'expiresIn') ?? 3600 };
}

/** CreateToken with the authorization code. */
export async function exchangeAuthorizationCode(
  endpoints: SignInEndpoints,
  params: { registration: ClientRegistration; code: string; verifier: string; redirectUri: string; signal?: AbortSignal },
): Promise<OidcTokens> {
  const answer = await postJson(
    endpoints.oidcToken,
    {
      clientId: params.registration.clientId,
      clientSecret: params.registration.clientSecret,
      grantType: 'authorization_code',
      redirectUri: params.redirectUri,
      codeVerifier: params.verifier,
      code: params.code,
    },
    { service: SERVICE, signal: params.signal },
  );
  if (answer.status === 200) return tokensFrom(answer.body, 'accepted the sign-in');
  const code = oidcErrorCode(answer.body, answer.headers);
  throw signInFailed('provider_error', `AWS did not accept the authorization code (${describe(answer.body, answer.status)})`, undefined, code);
}

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  /** The page with the code filled in (open this one). */
  verificationUriComplete: string;
  /** Seconds the code lives. */
  expiresIn: number;
  /** Seconds between polls. */
  interval: number;
}

/** StartDeviceAuthorization, with the fallbacks other clients use for missing fields (interval 5 s, expiry 600 s). */
export async function startDeviceAuthorization(
  endpoints: SignInEndpoints,
  params: { registration: ClientRegistration; startUrl: string; signal?: AbortSignal },
): Promise<DeviceAuthorization> {
  const answer = await postJson(
    endpoints.oidcDeviceAuthorization,
    { clientId: params.registration.clientId, clientSecret: params.registration.clientSecret, startUrl: params.startUrl },
    { service: SERVICE, signal: params.signal },
  );
  if (answer.status !== 200) {
    const code = oidcErrorCode(answer.body, answer.headers);
    throw signInFailed('provider_error', `AWS did not start the device sign-in (${describe(answer.body, answer.status)})`, undefined, code);
  }
  const deviceCode = stringField(answer.body, 'deviceCode');
  const userCode = stringField(answer.body, 'userCode');
  const verificationUri = stringField(answer.body, 'verificationUri');
  if (!deviceCode || !userCode || !verificationUri)
    throw signInFailed('protocol', 'AWS started the device sign-in but sent no device code, user code or verification page');
  return {
    deviceCode,
    userCode,
    verificationUri,
    verificationUriComplete: stringField(answer.body, 'verificationUriComplete') ?? verificationUri,
    expiresIn: numberField(answer.body, 'expiresIn') ?? 600,
    interval: Math.max(1, numberField(answer.body, 'interval') ?? 5),
  };
}

export interface PollOptions {
  registration: ClientRegistration;
  device: DeviceAuthorization;
  signal?: AbortSignal;
  /** Injected for tests; honours the signal. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  /** Called after each poll with what the service said (`authorization_pending`, `slow_down`, …). */
  onPoll?: (outcome: string, nextIntervalMs: number) => void;
}

/** Added to the interval on `slow_down` (RFC 8628, section 3.5). */
export const SLOW_DOWN_STEP_MS = 5_000;

/**
 * CreateToken polling: sleep `interval` before each poll; `authorization_pending`
 * keeps going, `slow_down` adds 5 s, `expired_token` / the code's own expiry end it, `access_denied`
 * and anything else the service names end it too. Transport failures, 429 and 5xx are transient:
 * the user may already have approved, so the session is kept alive until the code expires.
 */
export async function pollDeviceToken(endpoints: SignInEndpoints, options: PollOptions): Promise<OidcTokens> {
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const deadline = now() + options.device.expiresIn * 1000;
  let intervalMs = options.device.interval * 1000;
  for (;;) {
    await sleep(intervalMs, options.signal);
    throwIfCancelled(options.signal);
    if (now() >= deadline) throw deviceCodeExpired();
    let answer;
    try {
      answer = await postJson(
        endpoints.oidcToken,
        {
          clientId: options.registration.clientId,
          clientSecret: options.registration.clientSecret,
          grantType: DEVICE_GRANT,
          deviceCode: options.device.deviceCode,
        },
        { service: SERVICE, signal: options.signal },
      );
    } catch (error) {
      if (error instanceof SignInError && error.failure === 'network') {
        options.onPoll?.('network_error', intervalMs);
        continue;
      }
      throw error;
    }
    if (answer.status === 200) return tokensFrom(answer.body, 'approved the device');
    const code = oidcErrorCode(answer.body, answer.headers);
    if (answer.status === 429 || code === 'slow_down') {
      intervalMs += SLOW_DOWN_STEP_MS;
      options.onPoll?.('slow_down', intervalMs);
      continue;
    }
    if (answer.status >= 500 || (answer.status === 400 && !code) || code === 'authorization_pending') {
      options.onPoll?.(code ?? `http_${answer.status}`, intervalMs);
      continue;
    }
    if (code === 'expired_token') throw deviceCodeExpired();
    if (code === 'access_denied') throw signInFailed('denied', 'access was denied on the AWS sign-in page', undefined, code);
    throw signInFailed('provider_error', `AWS ended the device sign-in (${describe(answer.body, answer.status)})`, undefined, code);
  }
}

/** For a flow that was told the registration is no longer valid (`invalid_client`): forget it. */
export function isRegistrationRejected(error: unknown): boolean {
  return error instanceof SignInError && (error.providerCode === 'invalid_client' || error.providerCode === 'unauthorized_client');
}
