// Kiro's own auth service for Google and GitHub sign-in (docs/kiro-protocol.md#kiro-social-login):
// the login URL with PKCE and a loopback redirect on an allowlisted port, the code exchange, the
// refresh-token revocation, and — single source (the Kiro CLI's `social.rs`, 2026-04) — the social
// device flow for machines the browser cannot call back to. Each step fails with a message that
// names the step.
import { DEFAULT_SOCIAL_PROFILE_ARN, SOCIAL_DEVICE_CLIENT_ID } from './constants';
import type { SignInEndpoints } from './endpoints';
import { deviceCodeExpired, signInFailed, throwIfCancelled } from './errors';
import { numberField, postJson, providerMessage, sleep as realSleep, stringField } from './http';

export type SocialProvider = 'Google' | 'Github';

const SERVICE = "Kiro's sign-in service";

/** The text of the 401 the service sends while sign-ups are paused (seen in an early Kiro CLI). */
const SIGNUPS_PAUSED = /sign-?ups? (are )?(temporarily )?paused/i;

export interface SocialTokens {
  accessToken: string;
  refreshToken: string;
  /** Seconds. */
  expiresIn: number;
  /** Missing only if the service changed; the caller decides what to do then. */
  profileArn?: string;
}

/** `GET {auth}/login?idp=…&redirect_uri=…&code_challenge=…&code_challenge_method=S256&state=…`. */
export function socialLoginUrl(
  endpoints: SignInEndpoints,
  params: { provider: SocialProvider; redirectUri: string; challenge: string; state: string; selectAccount?: boolean },
): string {
  const query: [string, string][] = [
    ['idp', params.provider],
    ['redirect_uri', params.redirectUri],
    ['code_challenge', params.challenge],
    ['code_challenge_method', 'S256'],
    ['state', params.state],
  ];
  // Optional account chooser (some third-party clients send it; the Kiro CLI does not): opt-in.
  if (params.selectAccount) query.push(['prompt', 'select_account']);
  return `${endpoints.socialLogin}?${query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
}

function socialRefused(status: number, body: unknown, step: string) {
  const text = providerMessage(body) ?? `HTTP ${status}`;
  if (status === 401 && SIGNUPS_PAUSED.test(text)) {
    return signInFailed('signups_paused', `Kiro is not accepting new sign-ups right now ("${text}"); an existing Kiro account can still sign in`);
  }
  if (status === 401 || status === 403) return signInFailed('denied', `${SERVICE} refused the ${step} (${text})`);
  return signInFailed('provider_error', `${SERVICE} refused the ${step} (${text})`);
}

function tokensFrom(body: unknown, step: string): SocialTokens {
  const accessToken = stringField(body, 'accessToken');
  const refreshToken = stringField(body, 'refreshToken');
  if (!accessToken || !refreshToken) throw signInFailed('protocol', `${SERVICE} answered the ${step} without an ${accessToken ? 'refresh' : 'access'} token`);
  const profileArn = stringField(body, 'profileArn');
  return { accessToken, refreshToken, expiresIn: numberField(body, 'expiresIn') ?? 3600, ...(profileArn ? { profileArn } : {}) };
}

/**
 * `POST {auth}/oauth/token` with snake_case JSON `{code, code_verifier, redirect_uri}`.
 * The exchange is single-use, so it is never retried.
 */
export async function exchangeSocialCode(
  endpoints: SignInEndpoints,
  params: { code: string; verifier: string; redirectUri: string; signal?: AbortSignal },
): Promise<SocialTokens> {
  const answer = await postJson(
    endpoints.socialToken,
    { code: params.code, code_verifier: params.verifier, redirect_uri: params.redirectUri },
    { service: SERVICE, signal: params.signal },
  );
  if (answer.status !== 200) throw socialRefused(answer.status, answer.body, 'code exchange');
  return tokensFrom(answer.body, 'code exchange');
}

/** `POST {auth}/logout {refreshToken}` revokes a refresh token (as the Kiro CLI signs out). Best effort: never throws. */
export async function revokeSocialRefreshToken(endpoints: SignInEndpoints, refreshToken: string): Promise<boolean> {
  try {
    const answer = await postJson(endpoints.socialLogout, { refreshToken }, { service: SERVICE, timeoutMs: 10_000 });
    return answer.status >= 200 && answer.status < 300;
  } catch {
    return false;
  }
}

export interface SocialDeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  expiresInMs: number;
  intervalMs: number;
}

/** `POST {auth}/oauth/device/authorization` (single source: the Kiro CLI). Times are in milliseconds here. */
export async function startSocialDeviceAuthorization(
  endpoints: SignInEndpoints,
  params: { provider: SocialProvider; signal?: AbortSignal },
): Promise<SocialDeviceAuthorization> {
  const answer = await postJson(
    endpoints.socialDeviceAuthorization,
    { clientId: SOCIAL_DEVICE_CLIENT_ID, loginProvider: params.provider },
    { service: SERVICE, signal: params.signal },
  );
  if (answer.status !== 200) throw socialRefused(answer.status, answer.body, 'device sign-in');
  const deviceCode = stringField(answer.body, 'deviceCode');
  const userCode = stringField(answer.body, 'userCode');
  const verificationUri = stringField(answer.body, 'verificationUri') ?? stringField(answer.body, 'verificationUriComplete');
  if (!deviceCode || !userCode || !verificationUri) {
    throw signInFailed(
      'protocol',
      `${SERVICE} started the device sign-in but sent no device code, user code or verification page (its device flow may have changed)`,
    );
  }
  return {
    deviceCode,
    userCode,
    verificationUri,
    verificationUriComplete: stringField(answer.body, 'verificationUriComplete') ?? verificationUri,
    expiresInMs: numberField(answer.body, 'expiresInMilliseconds') ?? 600_000,
    // At least one second between polls, as the Kiro CLI keeps.
    intervalMs: Math.max(1000, numberField(answer.body, 'intervalInMilliseconds') ?? 5000),
  };
}

/**
 * `POST {auth}/oauth/device/poll` every interval until `authorized`: the answer is a 200 whose
 * `status` says where it stands. A missing `profileArn` falls back to the Kiro CLI's default social
 * profile, as the Kiro CLI does on this path.
 */
export async function pollSocialDevice(
  endpoints: SignInEndpoints,
  params: {
    device: SocialDeviceAuthorization;
    signal?: AbortSignal;
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    now?: () => number;
    onPoll?: (status: string) => void;
  },
): Promise<SocialTokens & { profileArn: string }> {
  const sleep = params.sleep ?? realSleep;
  const now = params.now ?? Date.now;
  const deadline = now() + params.device.expiresInMs;
  for (;;) {
    await sleep(params.device.intervalMs, params.signal);
    throwIfCancelled(params.signal);
    if (now() >= deadline) throw deviceCodeExpired();
    const answer = await postJson(
      endpoints.socialDevicePoll,
      { deviceCode: params.device.deviceCode, clientId: SOCIAL_DEVICE_CLIENT_ID },
      { service: SERVICE, signal: params.signal },
    ).catch((error: unknown) => ({ failed: error }));
    if ('failed' in answer) {
      params.onPoll?.('network_error');
      continue;
    }
    if (answer.status === 429 || answer.status >= 500) {
      params.onPoll?.(`http_${answer.status}`);
      continue;
    }
    if (answer.status !== 200) throw socialRefused(answer.status, answer.body, 'device sign-in');
    const status = stringField(answer.body, 'status');
    params.onPoll?.(status ?? 'unknown');
    if (status === 'authorization_pending') continue;
    if (status === 'expired_token') throw deviceCodeExpired();
    if (status === 'authorized') {
      const tokens = tokensFrom(answer.body, 'device sign-in');
      return { ...tokens, profileArn: tokens.profileArn ?? DEFAULT_SOCIAL_PROFILE_ARN };
    }
    throw signInFailed(
      status === 'invalid_token' ? 'expired' : 'protocol',
      `${SERVICE} ended the device sign-in with status "${(status ?? 'none').slice(0, 40)}"`,
    );
  }
}
