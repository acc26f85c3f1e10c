// Fixed facts of the sign-in services (docs/kiro-protocol.md#sign-in). Each names its source; the
// ones only a single implementation shows are marked, so a change upstream is easy to trace back
// here.

/** AWS Builder ID is IAM Identity Center with this start URL, always in us-east-1 (every source agrees). */
export const BUILDER_ID_START_URL = 'https://view.awsapps.com/start';
export const BUILDER_ID_REGION = 'us-east-1';

/**
 * Scopes we request. The Kiro CLI (AWS's own Kiro client) asks for these three and says not to ask
 * for more; the AWS Toolkit and several proxies add `transformations` and `taskassist`. Both sets
 * work; we take the smaller one (least privilege, and the Kiro client's choice). A registration is
 * only reusable for the scope set it was made with, so the scopes are part of the cache key.
 */
export const SSO_SCOPES: readonly string[] = ['codewhisperer:completions', 'codewhisperer:analysis', 'codewhisperer:conversations'];

/** Shown to Identity Center administrators as the application's name; any value is accepted. */
export const SSO_CLIENT_NAME = 'Kiro Bridge';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * The profile the Kiro CLI injects for Builder ID (free tier) users so their requests are routed
 * (the Kiro CLI's `api_client/mod.rs BUILDER_ID_PROFILE_ARN`, 2026-03). Since mid-2026 Kiro refuses
 * free Builder ID generate calls without a profile ("profileArn is required for this request."), so
 * accounts/profile.ts sends this one where a profile is demanded; it is never stored with an
 * account, and runtime calls (usage, models) carry only a profile the account really has.
 */
export const BUILDER_ID_PROFILE_ARN = 'arn:aws:codewhisperer:us-east-1:638616132270:profile/AAAACCCCXXXX';

/**
 * Kiro's social auth service accepts only these loopback callback ports (the Kiro CLI's
 * `oauth_callback.rs CALLBACK_PORTS`: "must match the Cognito allowlist"). Bind 127.0.0.1, write
 * `localhost` in the redirect URI, take the first port that binds.
 */
export const SOCIAL_CALLBACK_PORTS: readonly number[] = [3128, 4649, 6588, 8008, 9091, 49153, 50153, 51153, 52153, 53153];

/** Kiro CLI's fallback profile for social accounts whose device login returns none (other tools use it too). */
export const DEFAULT_SOCIAL_PROFILE_ARN = 'arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK';

/** The `clientId` the social device flow sends (the Kiro CLI's `social.rs`). *Single source.* */
export const SOCIAL_DEVICE_CLIENT_ID = 'Kiro-CLI';

/** Callback path on the loopback server, for both SSO-OIDC and Kiro social (AWS's clients and the Kiro IDE use it). */
export const CALLBACK_PATH = '/oauth/callback';

/** Kiro's social auth service only exists in us-east-1. */
export const SOCIAL_AUTH_HOST = 'https://prod.us-east-1.auth.desktop.kiro.dev';

/** Regions whose `q.` host answers ListAvailableProfiles; AWS's own clients ask each in turn. */
export const PROFILE_REGIONS: readonly string[] = ['us-east-1', 'eu-central-1'];
