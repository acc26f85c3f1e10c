// Where each upstream call goes (docs/kiro-protocol.md#hosts). One endpoint per call and no
// probing of alternatives: trying other hosts after an error looks like scanning to the upstream.
// An upstream base (KIRO_BRIDGE_UPSTREAM_BASE) replaces every host, for tests and proxies.

export interface KiroEndpoints {
  /** POST: the generate call (restJson1). */
  generate: string;
  /** POST: Social token refresh. */
  socialRefresh: string;
  /** POST: IdC (SSO-OIDC) token refresh. */
  idcRefresh: string;
  /** GET: usage limits. */
  usageLimits: string;
  /** POST with `x-amz-target` (awsJson1.0), e.g. ListAvailableModels. */
  awsJson: string;
}

const DEFAULT_REGION = 'us-east-1';

/** Regions where the `q.` data-plane host exists (found by DNS probing); others fall back to us-east-1. */
const Q_REGIONS = new Set(['us-east-1', 'eu-central-1']);

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Checks an upstream base override: an absolute http(s) URL without query or fragment. */
export function validateUpstreamBase(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`upstream base "${base}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`upstream base "${base}" must be http(s)`);
  if (url.search || url.hash) throw new Error(`upstream base "${base}" must not carry a query or fragment`);
  return trimSlash(url.toString());
}

export function kiroEndpoints(options: { region?: string; dataRegion?: string; upstreamBase?: string } = {}): KiroEndpoints {
  if (options.upstreamBase) {
    const base = validateUpstreamBase(options.upstreamBase);
    return {
      generate: `${base}/generateAssistantResponse`,
      socialRefresh: `${base}/refreshToken`,
      idcRefresh: `${base}/token`,
      usageLimits: `${base}/getUsageLimits`,
      awsJson: `${base}/`,
    };
  }
  const region = options.region ?? DEFAULT_REGION;
  // The data plane follows the profile's region when it is known (as the Kiro CLI does: an IdC
  // login's OIDC region can differ from its profile's); `region` stays the OIDC (refresh) region.
  const wanted = options.dataRegion ?? region;
  const dataRegion = Q_REGIONS.has(wanted) ? wanted : DEFAULT_REGION;
  return {
    generate: `https://q.${dataRegion}.amazonaws.com/generateAssistantResponse`,
    // prod.{region}.auth.desktop.kiro.dev only exists for us-east-1.
    socialRefresh: `https://prod.${DEFAULT_REGION}.auth.desktop.kiro.dev/refreshToken`,
    idcRefresh: `https://oidc.${region}.amazonaws.com/token`,
    usageLimits: `https://q.${dataRegion}.amazonaws.com/getUsageLimits`,
    awsJson: `https://q.${dataRegion}.amazonaws.com/`,
  };
}

/** Whether `region` reads as an AWS region name ("us-east-1", "ap-southeast-2"). */
export function isAwsRegion(region: string): boolean {
  return /^[a-z]{2}(-[a-z]+)+-\d$/.test(region);
}

/** The region of a profile ARN `arn:aws:codewhisperer:{region}:{account}:profile/{id}`. */
export function regionFromProfileArn(arn: string | undefined): string | undefined {
  const match = arn ? /^arn:aws:codewhisperer:([a-z0-9-]+):/.exec(arn) : null;
  return match?.[1];
}
