// Profile discovery after an IAM Identity Center sign-in (docs/kiro-protocol.md#profiles):
// CreateToken returns no profile, yet every data-plane call names one. ListAvailableProfiles is
// asked on each Q host in turn (as AWS's own clients do: "Hack until we have a single discovery
// endpoint"); one profile is taken silently, several are offered to the user, none is an error the
// administrator must fix.
import { regionFromProfileArn } from '../http/endpoints';
import { runtimeUserAgents } from '../http/identity';
import { SignInError, signInCancelled, signInFailed, throwIfCancelled } from './errors';
import { isRecord, postJson, providerMessage, stringField, type CallOptions, type JsonAnswer } from './http';

export interface KiroProfile {
  arn: string;
  profileName: string;
  /** The region in the ARN: it selects the data-plane host. */
  region: string;
  description?: string;
}

export interface ProfileDiscovery {
  profiles: KiroProfile[];
  /** Hosts that failed ("q.eu-central-1: HTTP 403 …"), for messages. */
  failures: string[];
}

const SERVICE = 'Amazon Q (ListAvailableProfiles)';
const MAX_PAGES = 20;

function hostName(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function parseProfile(value: unknown): KiroProfile | undefined {
  const arn = stringField(value, 'arn');
  if (!arn) return undefined;
  const region = regionFromProfileArn(arn);
  if (!region) return undefined;
  const description = stringField(value, 'description');
  return { arn, profileName: stringField(value, 'profileName') ?? arn.split('/').pop() ?? arn, region, ...(description ? { description } : {}) };
}

/** Sends one awsJson1.0 POST; the bridge passes one that uses the account's own connections. */
export type ProfilesPost = (url: string, body: unknown, options: CallOptions) => Promise<JsonAnswer>;

/** Asks every host (all pages), merging profiles by ARN. Never throws for one host's failure. */
export async function listAvailableProfiles(params: {
  hosts: readonly string[];
  accessToken: string;
  machineId: string;
  signal?: AbortSignal;
  /** Default: a plain fetch (a sign-in, before any account exists). */
  post?: ProfilesPost;
}): Promise<ProfileDiscovery> {
  const post = params.post ?? postJson;
  const agents = runtimeUserAgents(params.machineId);
  const byArn = new Map<string, KiroProfile>();
  const failures: string[] = [];
  for (const host of params.hosts) {
    throwIfCancelled(params.signal);
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      let answer;
      try {
        answer = await post(
          host,
          { maxResults: 10, ...(nextToken ? { nextToken } : {}) },
          {
            service: SERVICE,
            signal: params.signal,
            headers: {
              'content-type': 'application/x-amz-json-1.0',
              'x-amz-target': 'AmazonCodeWhispererService.ListAvailableProfiles',
              'x-amz-user-agent': agents.amzUserAgent,
              'user-agent': agents.userAgent,
              authorization: `Bearer ${params.accessToken}`,
            },
          },
        );
      } catch (error) {
        if (error instanceof SignInError && error.cancelled) throw error;
        failures.push(`${hostName(host)}: ${(error as Error).message.replace(/^Sign-in failed because /, '')}`);
        break;
      }
      if (answer.status !== 200) {
        failures.push(`${hostName(host)}: ${providerMessage(answer.body) ?? `HTTP ${answer.status}`}`);
        break;
      }
      const list = isRecord(answer.body) && Array.isArray(answer.body.profiles) ? answer.body.profiles : undefined;
      if (!list) {
        failures.push(`${hostName(host)}: the answer had no "profiles" list`);
        break;
      }
      for (const item of list) {
        const profile = parseProfile(item);
        if (profile && !byArn.has(profile.arn)) byArn.set(profile.arn, profile);
      }
      nextToken = stringField(answer.body, 'nextToken');
      if (!nextToken) break;
    }
  }
  return { profiles: [...byArn.values()], failures };
}

/**
 * One profile is taken silently; several go to `pick` (which may return undefined: cancelled);
 * none fails with the Kiro CLI's wording, plus what the hosts said when they failed.
 */
export async function chooseProfile(discovery: ProfileDiscovery, pick: (profiles: KiroProfile[]) => Promise<KiroProfile | undefined>): Promise<KiroProfile> {
  const { profiles, failures } = discovery;
  if (profiles.length === 0) {
    const detail = failures.length ? ` (${failures.join('; ')})` : '';
    throw signInFailed('no_profile', `this account has no Kiro / Amazon Q profile${detail}. No profiles available. Please contact your administrator.`);
  }
  if (profiles.length === 1) return profiles[0]!;
  const chosen = await pick(profiles);
  if (!chosen) throw signInCancelled();
  if (!profiles.some((p) => p.arn === chosen.arn)) throw signInFailed('no_profile', 'the chosen profile is not one of the profiles offered');
  return chosen;
}
