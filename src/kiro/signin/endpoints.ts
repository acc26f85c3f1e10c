// Where each sign-in call goes (docs/kiro-protocol.md#sign-in). With an upstream base
// (KIRO_BRIDGE_UPSTREAM_BASE / kiroBridge.advanced.upstreamBase) every host maps onto that one
// base, exactly as the data-plane endpoints do, so one fake server can play SSO-OIDC, Kiro's auth
// service and the Q hosts.
import { isAwsRegion, validateUpstreamBase } from '../http/endpoints';
import { PROFILE_REGIONS, SOCIAL_AUTH_HOST } from './constants';
import { signInFailed } from './errors';

export interface SignInEndpoints {
  /** SSO-OIDC RegisterClient (POST). */
  oidcRegister: string;
  /** SSO-OIDC StartDeviceAuthorization (POST). */
  oidcDeviceAuthorization: string;
  /** SSO-OIDC authorize page (opened in the browser). */
  oidcAuthorize: string;
  /** SSO-OIDC CreateToken (POST). */
  oidcToken: string;
  /** Kiro social login page (opened in the browser). */
  socialLogin: string;
  /** Kiro social code exchange (POST). */
  socialToken: string;
  /** Kiro social device flow (POST; single source, the Kiro CLI). */
  socialDeviceAuthorization: string;
  socialDevicePoll: string;
  /** Kiro social refresh-token revocation (POST). */
  socialLogout: string;
  /** awsJson1.0 hosts asked for ListAvailableProfiles, in order. */
  profileHosts: string[];
}

/** Checks an AWS region name typed by a user ("us-east-1"); throws a sign-in error otherwise. */
export function checkRegion(region: string): string {
  const trimmed = region.trim().toLowerCase();
  if (!isAwsRegion(trimmed)) throw signInFailed('provider_error', `"${region.slice(0, 40)}" is not an AWS region name (for example us-east-1)`);
  return trimmed;
}

/** The hosts ListAvailableProfiles is asked on, in order (one upstream base replaces them all). */
export function profileDiscoveryHosts(upstreamBase?: string): string[] {
  if (upstreamBase) return [`${validateUpstreamBase(upstreamBase)}/`];
  return PROFILE_REGIONS.map((region) => `https://q.${region}.amazonaws.com/`);
}

export function signInEndpoints(options: { oidcRegion: string; upstreamBase?: string }): SignInEndpoints {
  if (options.upstreamBase) {
    const base = validateUpstreamBase(options.upstreamBase);
    return {
      oidcRegister: `${base}/client/register`,
      oidcDeviceAuthorization: `${base}/device_authorization`,
      oidcAuthorize: `${base}/authorize`,
      oidcToken: `${base}/token`,
      socialLogin: `${base}/login`,
      socialToken: `${base}/oauth/token`,
      socialDeviceAuthorization: `${base}/oauth/device/authorization`,
      socialDevicePoll: `${base}/oauth/device/poll`,
      socialLogout: `${base}/logout`,
      profileHosts: profileDiscoveryHosts(base),
    };
  }
  const oidc = `https://oidc.${checkRegion(options.oidcRegion)}.amazonaws.com`;
  return {
    oidcRegister: `${oidc}/client/register`,
    oidcDeviceAuthorization: `${oidc}/device_authorization`,
    oidcAuthorize: `${oidc}/authorize`,
    oidcToken: `${oidc}/token`,
    socialLogin: `${SOCIAL_AUTH_HOST}/login`,
    socialToken: `${SOCIAL_AUTH_HOST}/oauth/token`,
    socialDeviceAuthorization: `${SOCIAL_AUTH_HOST}/oauth/device/authorization`,
    socialDevicePoll: `${SOCIAL_AUTH_HOST}/oauth/device/poll`,
    socialLogout: `${SOCIAL_AUTH_HOST}/logout`,
    profileHosts: profileDiscoveryHosts(),
  };
}
