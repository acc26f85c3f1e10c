// The sign-in orchestrator: one call from "the user picked a method" to a verified credential,
// with the UI injected (VS Code and the CLI each supply theirs). Steps, each cancellable:
//   Builder ID / IAM Identity Center — SSO-OIDC client (cached) → browser PKCE with a loopback
//     callback, or the device code → tokens → profile (Builder ID: the fixed one; IdC:
//     ListAvailableProfiles, picked by the user when there are several)
//   Google / GitHub — Kiro's auth service: browser PKCE on an allowlisted loopback port, or the
//     social device flow → tokens (with their profile)
//   then a real refresh and a usage check (verify.ts), and only then the result is returned.
// Nothing is stored here: the caller stores the result, so a cancel or a failure at any step
// leaves no account behind. Social refresh tokens issued to an attempt that then fails are revoked.
import { nullLogger, type Logger } from '../../common/logger';
import type { Redactor } from '../../common/redact';
import { deriveMachineId } from '../http/identity';
import { BUILDER_ID_REGION, BUILDER_ID_START_URL, CALLBACK_PATH, SOCIAL_CALLBACK_PORTS, SSO_CLIENT_NAME, SSO_SCOPES } from './constants';
import { checkRegion, signInEndpoints, type SignInEndpoints } from './endpoints';
import { signInCancelled, signInFailed, throwIfCancelled, type SignInError } from './errors';
import { sleep as realSleep } from './http';
import { startLoopback, type LoopbackOptions } from './loopback';
import { createPkcePair, createState } from './pkce';
import { chooseProfile, listAvailableProfiles, type KiroProfile } from './profiles';
import type { RegistrationCache, RegistrationKey } from './registration-cache';
import {
  exchangeSocialCode,
  pollSocialDevice,
  revokeSocialRefreshToken,
  socialLoginUrl,
  startSocialDeviceAuthorization,
  type SocialProvider,
  type SocialTokens,
} from './kiro-social';
import {
  exchangeAuthorizationCode,
  isRegistrationRejected,
  normalizeStartUrl,
  obtainRegistration,
  oidcAuthorizeUrl,
  pollDeviceToken,
  startDeviceAuthorization,
  type OidcTokens,
} from './sso-oidc';
import { verifyCredential, type UsageSummary } from './verify';

export type SignInMethod = { kind: 'builder-id' } | { kind: 'idc'; startUrl: string; region: string } | { kind: 'social'; provider: SocialProvider };

/** `browser`: PKCE with a loopback callback; `device`: a code the user types on another device. */
export type SignInTransport = 'browser' | 'device';

export interface UserCodePrompt {
  userCode: string;
  verificationUri: string;
  /** The verification page with the code filled in. */
  verificationUriComplete: string;
  /** Epoch ms when the code stops working. */
  expiresAt: number;
}

export interface SignInUi {
  /** Opens `url` in the user's browser; false when the user declined (treated as a cancel). */
  openUrl(url: string): Promise<boolean>;
  /** Shows the device code (with ways to copy it and open the page). */
  showUserCode(prompt: UserCodePrompt): void;
  /** Several profiles: the user picks one (undefined cancels). */
  pickProfile(profiles: KiroProfile[]): Promise<KiroProfile | undefined>;
  /** One line on what is happening now. */
  progress?(message: string): void;
}

export interface SignInOptions {
  method: SignInMethod;
  transport: SignInTransport;
  ui: SignInUi;
  /** Where SSO-OIDC client registrations are cached (a SecretStore-backed one in the extension and CLI). */
  registrations: RegistrationCache;
  signal?: AbortSignal;
  /** Replaces every host (KIRO_BRIDGE_UPSTREAM_BASE / kiroBridge.advanced.upstreamBase). */
  upstreamBase?: string;
  redactor?: Redactor;
  logger?: Logger;
  /** Loopback ports for Google/GitHub (default: the service's allowlist). */
  callbackPorts?: readonly number[];
  /** How long to wait for the browser (default 10 minutes, as the AWS Toolkit waits). */
  browserTimeoutMs?: number;
  scopes?: readonly string[];
  clientName?: string;
  /** Ask Google/GitHub to show the account chooser (`prompt=select_account`). */
  selectAccount?: boolean;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type SignInProvider = 'BuilderId' | 'Enterprise' | 'Google' | 'Github';

/** A verified credential, ready to be stored (field names as the sign-in services and KIRO_AUTH_TOKEN use them). */
export interface SignedInAccount {
  kind: 'social' | 'idc';
  provider: SignInProvider;
  refreshToken: string;
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
  profileArn?: string;
  /** IdC: the SSO-OIDC client the refresh token belongs to. */
  clientId?: string;
  clientSecret?: string;
  /** Epoch ms after which the registration, and so the refresh, stops working. */
  clientSecretExpiresAt?: number;
  /** IdC: the OIDC region (refresh goes to oidc.{region}). */
  region?: string;
  startUrl?: string;
  /** The device id the first refresh and usage check used; keep it with the account. */
  machineId: string;
  usage: UsageSummary;
  /** "Builder ID", "IAM Identity Center (my-org)", "Google", "GitHub", with the e-mail when known. */
  label: string;
}

const DEFAULT_BROWSER_TIMEOUT_MS = 10 * 60_000;

/** Whether a loopback redirect cannot reach this process: a remote/SSH/WSL session or no display (CLI). */
export function preferDeviceFlow(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): boolean {
  if (env.SSH_CONNECTION || env.SSH_CLIENT || env.SSH_TTY) return true;
  if (env.WSL_DISTRO_NAME || env.WSL_INTEROP) return true;
  if (env.CODESPACES || env.REMOTE_CONTAINERS) return true;
  return platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY;
}

export function methodLabel(method: SignInMethod): string {
  switch (method.kind) {
    case 'builder-id':
      return 'Builder ID';
    case 'idc': {
      const host = (() => {
        try {
          return new URL(method.startUrl).hostname.split('.')[0];
        } catch {
          return undefined;
        }
      })();
      return host ? `IAM Identity Center (${host})` : 'IAM Identity Center';
    }
    case 'social':
      return method.provider === 'Github' ? 'GitHub' : 'Google';
  }
}

interface Context {
  options: SignInOptions;
  endpoints: SignInEndpoints;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  logger: Logger;
  progress: (message: string) => void;
}

async function open(ctx: Context, url: string): Promise<void> {
  const opened = await ctx.options.ui.openUrl(url);
  throwIfCancelled(ctx.options.signal);
  if (!opened) throw signInCancelled();
}

/**
 * A browser sign-in: PKCE, a loopback callback, the provider's page (`urlFor` the callback), then
 * the code the browser brought back, handed to `finish`. The loopback closes whatever happens.
 */
async function browserSignIn<T>(
  ctx: Context,
  loopback: Pick<LoopbackOptions, 'ports' | 'redirectHost'>,
  step: { urlFor: (callback: { redirectUri: string; challenge: string; state: string }) => string; waiting: string; finishing: string },
  finish: (code: string, callback: { redirectUri: string; verifier: string }) => Promise<T>,
): Promise<T> {
  const { options } = ctx;
  const pkce = createPkcePair();
  const state = createState();
  const server = await startLoopback({
    ports: loopback.ports,
    path: CALLBACK_PATH,
    redirectHost: loopback.redirectHost,
    expectedState: state,
    timeoutMs: options.browserTimeoutMs ?? DEFAULT_BROWSER_TIMEOUT_MS,
    signal: options.signal,
  });
  try {
    const url = step.urlFor({ redirectUri: server.redirectUri, challenge: pkce.challenge, state });
    ctx.progress(step.waiting);
    await open(ctx, url);
    const { code } = await server.result;
    ctx.progress(step.finishing);
    return await finish(code, { redirectUri: server.redirectUri, verifier: pkce.verifier });
  } finally {
    await server.close();
  }
}

/** Shows a device flow's code to the user, who approves it in the browser. */
function showDeviceCode(ctx: Context, device: { userCode: string; verificationUri: string; verificationUriComplete: string }, expiresAt: number): void {
  ctx.options.ui.showUserCode({
    userCode: device.userCode,
    verificationUri: device.verificationUri,
    verificationUriComplete: device.verificationUriComplete,
    expiresAt,
  });
  ctx.progress(`Waiting for you to approve code ${device.userCode} in the browser…`);
}

// ---- SSO-OIDC (Builder ID, IAM Identity Center) ------------------------------------------------

interface OidcOutcome {
  tokens: OidcTokens;
  clientId: string;
  clientSecret: string;
  clientSecretExpiresAt: number;
}

/** The SSO-OIDC client for `key`: the cached one, or a new registration. */
function register(ctx: Context, key: RegistrationKey): ReturnType<typeof obtainRegistration> {
  const { options } = ctx;
  return obtainRegistration(ctx.endpoints, key, {
    cache: options.registrations,
    clientName: options.clientName ?? SSO_CLIENT_NAME,
    signal: options.signal,
    nowMs: ctx.now(),
    nowSeconds: Math.floor(ctx.now() / 1000),
  });
}

function oidcOutcome(tokens: OidcTokens, registration: { clientId: string; clientSecret: string; clientSecretExpiresAt: number }): OidcOutcome {
  return { tokens, clientId: registration.clientId, clientSecret: registration.clientSecret, clientSecretExpiresAt: registration.clientSecretExpiresAt * 1000 };
}

async function oidcBrowser(ctx: Context, region: string, startUrl: string): Promise<OidcOutcome> {
  const { options } = ctx;
  const key: RegistrationKey = { region, startUrl, flow: 'pkce', scopes: options.scopes ?? SSO_SCOPES };
  ctx.progress('Preparing the AWS sign-in…');
  const { registration } = await register(ctx, key);
  return browserSignIn(
    ctx,
    { ports: [0], redirectHost: '127.0.0.1' },
    {
      urlFor: ({ redirectUri, challenge, state }) =>
        oidcAuthorizeUrl(ctx.endpoints, { clientId: registration.clientId, redirectUri, scopes: key.scopes, state, challenge }),
      waiting: 'Waiting for you to sign in in the browser…',
      finishing: 'Finishing the AWS sign-in…',
    },
    async (code, { redirectUri, verifier }) => {
      try {
        const tokens = await exchangeAuthorizationCode(ctx.endpoints, { registration, code, verifier, redirectUri, signal: options.signal });
        return oidcOutcome(tokens, registration);
      } catch (error) {
        if (isRegistrationRejected(error)) {
          // The saved client is no longer valid on AWS's side: forget it, the next attempt registers anew.
          await options.registrations.delete(key);
          throw signInFailed(
            'provider_error',
            'AWS no longer accepts the saved sign-in client registration; it was discarded, please sign in again',
            error,
            (error as SignInError).providerCode,
          );
        }
        throw error;
      }
    },
  );
}

async function oidcDevice(ctx: Context, region: string, startUrl: string): Promise<OidcOutcome> {
  const { options } = ctx;
  const key: RegistrationKey = { region, startUrl, flow: 'device', scopes: options.scopes ?? SSO_SCOPES };
  ctx.progress('Preparing the AWS sign-in…');
  const first = await register(ctx, key);
  let registration = first.registration;
  let device;
  try {
    device = await startDeviceAuthorization(ctx.endpoints, { registration, startUrl, signal: options.signal });
  } catch (error) {
    // A cached registration AWS no longer knows: register once more and retry (no user step lost yet).
    if (first.fresh || !isRegistrationRejected(error)) throw error;
    await options.registrations.delete(key);
    ({ registration } = await register(ctx, key));
    device = await startDeviceAuthorization(ctx.endpoints, { registration, startUrl, signal: options.signal });
  }
  showDeviceCode(ctx, device, ctx.now() + device.expiresIn * 1000);
  const tokens = await pollDeviceToken(ctx.endpoints, {
    registration,
    device,
    signal: options.signal,
    sleep: ctx.sleep,
    now: ctx.now,
    onPoll: (outcome, next) => ctx.logger.debug(`device sign-in poll: ${outcome} (next in ${next / 1000} s)`),
  });
  return oidcOutcome(tokens, registration);
}

// ---- Kiro social (Google, GitHub) --------------------------------------------------------------

async function socialBrowser(ctx: Context, provider: SocialProvider): Promise<SocialTokens> {
  const { options } = ctx;
  return browserSignIn(
    ctx,
    // The service's allowlist names `localhost`; whether 127.0.0.1 matches is unknown.
    { ports: options.callbackPorts ?? SOCIAL_CALLBACK_PORTS, redirectHost: 'localhost' },
    {
      urlFor: ({ redirectUri, challenge, state }) =>
        socialLoginUrl(ctx.endpoints, { provider, redirectUri, challenge, state, selectAccount: options.selectAccount }),
      waiting: `Waiting for you to sign in with ${provider === 'Github' ? 'GitHub' : 'Google'} in the browser…`,
      finishing: 'Finishing the Kiro sign-in…',
    },
    (code, { redirectUri, verifier }) => exchangeSocialCode(ctx.endpoints, { code, verifier, redirectUri, signal: options.signal }),
  );
}

async function socialDevice(ctx: Context, provider: SocialProvider): Promise<SocialTokens> {
  const { options } = ctx;
  ctx.progress('Preparing the Kiro sign-in…');
  const device = await startSocialDeviceAuthorization(ctx.endpoints, { provider, signal: options.signal });
  showDeviceCode(ctx, device, ctx.now() + device.expiresInMs);
  return pollSocialDevice(ctx.endpoints, {
    device,
    signal: options.signal,
    sleep: ctx.sleep,
    now: ctx.now,
    onPoll: (status) => ctx.logger.debug(`social device sign-in poll: ${status}`),
  });
}

// ---- the whole sign-in -------------------------------------------------------------------------

function providerOf(method: SignInMethod): SignInProvider {
  return method.kind === 'builder-id' ? 'BuilderId' : method.kind === 'idc' ? 'Enterprise' : method.provider;
}

/** Runs a sign-in from start to a verified credential. Throws SignInError (`cancelled` on cancel). */
export async function signIn(options: SignInOptions): Promise<SignedInAccount> {
  const { method } = options;
  throwIfCancelled(options.signal);
  const region = method.kind === 'idc' ? checkRegion(method.region) : BUILDER_ID_REGION;
  const startUrl = method.kind === 'idc' ? normalizeStartUrl(method.startUrl) : BUILDER_ID_START_URL;
  const ctx: Context = {
    options,
    endpoints: signInEndpoints({ oidcRegion: region, upstreamBase: options.upstreamBase }),
    now: options.now ?? Date.now,
    sleep: options.sleep ?? realSleep,
    logger: options.logger ?? nullLogger,
    progress: (message) => options.ui.progress?.(message),
  };
  const label = methodLabel(method);
  ctx.logger.info(`sign-in with ${label} (${options.transport === 'device' ? 'device code' : 'browser'}) started`);

  if (method.kind === 'social') {
    const tokens = options.transport === 'device' ? await socialDevice(ctx, method.provider) : await socialBrowser(ctx, method.provider);
    options.redactor?.add(tokens.accessToken);
    options.redactor?.add(tokens.refreshToken);
    try {
      throwIfCancelled(options.signal);
      ctx.progress('Checking the new account with Kiro…');
      // A login without a profile (a service change) still gets one from the first refresh, which
      // names it for social accounts; only if that also has none does the sign-in fail.
      const verified = await verifyCredential({
        credentials: { auth: 'Social', refreshToken: tokens.refreshToken, profileArn: tokens.profileArn },
        upstreamBase: options.upstreamBase,
        redactor: options.redactor,
        signal: options.signal,
        now: ctx.now,
      });
      if (!verified.profileArn) throw signInFailed('no_profile', "Kiro's sign-in service returned no profile ARN for this account");
      ctx.logger.info(`sign-in with ${label} succeeded`);
      return finish({ kind: 'social', provider: method.provider, profileArn: verified.profileArn }, verified, label);
    } catch (error) {
      // The tokens are ours alone and will not be stored: revoke them rather than leave them live.
      await revokeSocialRefreshToken(ctx.endpoints, tokens.refreshToken);
      throw error;
    }
  }

  const outcome = options.transport === 'device' ? await oidcDevice(ctx, region, startUrl) : await oidcBrowser(ctx, region, startUrl);
  options.redactor?.add(outcome.tokens.accessToken);
  options.redactor?.add(outcome.tokens.refreshToken);
  options.redactor?.add(outcome.clientSecret);
  throwIfCancelled(options.signal);
  // A Builder ID login has no profile of its own: it is stored without one, and the account
  // sends Kiro's fixed Builder ID profile where Kiro demands one (accounts/profile.ts).
  let profileArn: string | undefined;
  if (method.kind !== 'builder-id') {
    ctx.progress('Looking up your Kiro profiles…');
    const discovery = await listAvailableProfiles({
      hosts: ctx.endpoints.profileHosts,
      accessToken: outcome.tokens.accessToken,
      machineId: deriveMachineId(undefined, outcome.tokens.refreshToken),
      signal: options.signal,
    });
    const profile = await chooseProfile(discovery, (profiles) => options.ui.pickProfile(profiles));
    throwIfCancelled(options.signal);
    profileArn = profile.arn;
  }
  ctx.progress('Checking the new account with Kiro…');
  const verified = await verifyCredential({
    credentials: {
      auth: 'IdC',
      refreshToken: outcome.tokens.refreshToken,
      clientId: outcome.clientId,
      clientSecret: outcome.clientSecret,
      region,
      profileArn,
      provider: providerOf(method),
      startUrl,
    },
    upstreamBase: options.upstreamBase,
    redactor: options.redactor,
    signal: options.signal,
    now: ctx.now,
  });
  ctx.logger.info(`sign-in with ${label} succeeded`);
  return finish(
    {
      kind: 'idc',
      provider: providerOf(method),
      profileArn,
      clientId: outcome.clientId,
      clientSecret: outcome.clientSecret,
      clientSecretExpiresAt: outcome.clientSecretExpiresAt,
      region,
      startUrl,
    },
    verified,
    label,
  );
}

function finish(
  base: Omit<SignedInAccount, 'refreshToken' | 'accessToken' | 'expiresAt' | 'machineId' | 'usage' | 'label'>,
  verified: Awaited<ReturnType<typeof verifyCredential>>,
  label: string,
): SignedInAccount {
  return {
    ...base,
    refreshToken: verified.refreshToken,
    accessToken: verified.accessToken,
    expiresAt: verified.expiresAt,
    machineId: verified.machineId,
    usage: verified.usage,
    label: verified.usage.email ? `${label} (${verified.usage.email})` : label,
  };
}
