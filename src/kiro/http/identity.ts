// The client identity every upstream call carries (docs/kiro-protocol.md#identity-headers): a
// stable per-account machineId and the Kiro IDE's user-agent strings. The version numbers are the
// ones recent clients send; the OS and Node parts are this machine's real values, not invented ones.
import { createHash } from 'node:crypto';
import { release } from 'node:os';

/** Kiro IDE version and AWS SDK version the IDE's user agents name (as of Aug 2026). */
export const KIRO_IDE_VERSION = '0.11.107';
export const CODEWHISPERER_SDK_VERSION = '1.0.34';
/** The SSO-OIDC SDK version of an IDE capture of an IdC refresh. */
const SSO_OIDC_SDK_VERSION = '3.738.0';

/**
 * A stable 64-hex device id per account: the configured one, else sha256 of
 * "KotlinNativeAPI/" + the account's first refresh token (as kiro.rs derives it). It is computed
 * once per account and kept when the refresh token rotates, so every call of an account looks like
 * one machine (identities that change have been tied to suspensions).
 */
export function deriveMachineId(configured: string | undefined, refreshToken: string): string {
  if (configured) return configured;
  return createHash('sha256').update(`KotlinNativeAPI/${refreshToken}`).digest('hex');
}

/**
 * The device id of a Kiro API key account: the configured one, else sha256 of "KiroAPIKey/" + the
 * key (the rule another proxy uses), so a key looks like one machine across restarts.
 */
export function deriveApiKeyMachineId(configured: string | undefined, apiKey: string): string {
  if (configured) return configured;
  return createHash('sha256').update(`KiroAPIKey/${apiKey}`).digest('hex');
}

const osPart = `os/${process.platform}#${release()}`;
const nodePart = `md/nodejs#${process.versions.node}`;

export interface UserAgents {
  amzUserAgent: string;
  userAgent: string;
}

function userAgents(machineId: string, api: 'codewhispererstreaming' | 'codewhispererruntime'): UserAgents {
  const kiro = `KiroIDE-${KIRO_IDE_VERSION}-${machineId}`;
  return {
    amzUserAgent: `aws-sdk-js/${CODEWHISPERER_SDK_VERSION} ${kiro}`,
    userAgent: `aws-sdk-js/${CODEWHISPERER_SDK_VERSION} ua/2.1 ${osPart} lang/js ${nodePart} api/${api}#${CODEWHISPERER_SDK_VERSION} m/E ${kiro}`,
  };
}

/** `x-amz-user-agent` and `user-agent` of the generate call. */
export function streamingUserAgents(machineId: string): UserAgents {
  return userAgents(machineId, 'codewhispererstreaming');
}

/** `x-amz-user-agent` and `user-agent` of runtime calls (usage limits, ListAvailableModels). */
export function runtimeUserAgents(machineId: string): UserAgents {
  return userAgents(machineId, 'codewhispererruntime');
}

/**
 * The SDK headers a data-plane or runtime call ends with, in the IDE's order: user agents,
 * invocation id, `amz-sdk-request` (`attempt=1; max=3`), the bearer — and, when the bearer is a
 * Kiro API key, `tokentype: API_KEY` (without it Kiro reads the key as an OAuth token and refuses
 * it).
 */
export function sdkHeaders(
  agents: UserAgents,
  invocationId: string,
  sdkRequest: string,
  token: { value: string; tokenType?: 'API_KEY' },
): Record<string, string> {
  return {
    'x-amz-user-agent': agents.amzUserAgent,
    'user-agent': agents.userAgent,
    'amz-sdk-invocation-id': invocationId,
    'amz-sdk-request': sdkRequest,
    authorization: `Bearer ${token.value}`,
    ...(token.tokenType ? { tokentype: token.tokenType } : {}),
  };
}

/** Social refresh: the IDE refreshes through axios, whose user agent names the machine. */
export function socialRefreshUserAgent(machineId: string): string {
  return `KiroIDE-${KIRO_IDE_VERSION}-${machineId}`;
}

/** IdC refresh: the IDE's SSO-OIDC SDK user agent, as captured. */
export const IDC_AMZ_USER_AGENT = `aws-sdk-js/${SSO_OIDC_SDK_VERSION} ua/2.1 os/other lang/js md/browser#unknown_unknown api/sso-oidc#${SSO_OIDC_SDK_VERSION} m/E KiroIDE`;
