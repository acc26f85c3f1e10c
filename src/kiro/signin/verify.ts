// The last step of every sign-in, before anything is stored: a real token refresh through the
// same TokenManager the bridge will use (so the stored credential is known to refresh), and a
// usage-limits call with the refreshed token and the chosen profile (so the account is known to
// reach Kiro's data plane). Either failing fails the sign-in with what the service said.
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { Redactor } from '../../common/redact';
import { KiroAccount } from '../account';
import { readLimited } from '../auth';
import type { AccountCredentials } from '../credentials';
import { classifyUpstreamResponse, KiroError } from '../errors';
import { runtimeUserAgents } from '../identity';
import { signInCancelled, signInFailed } from './errors';
import { isRecord } from './http';

export interface UsageSummary {
  email?: string;
  /** e.g. "KIRO FREE". */
  subscription?: string;
  /** Credits left this month (monthly + active free trial + active bonuses), when the answer has them. */
  remainingCredits?: number;
  /** Epoch ms of the next reset, when known. */
  resetsAt?: number;
}

export interface VerifiedCredential {
  /** The refresh token after the first refresh (Kiro may rotate it). */
  refreshToken: string;
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
  /** The profile after the refresh (a social refresh may name one). */
  profileArn?: string;
  /** The stable device id the refresh and usage call were made with; keep it with the account. */
  machineId: string;
  usage: UsageSummary;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The few facts of a getUsageLimits answer (kiro-protocol §1.8) a sign-in shows the user. */
export function summarizeUsage(body: unknown): UsageSummary {
  if (!isRecord(body)) return {};
  const summary: UsageSummary = {};
  const userInfo = isRecord(body.userInfo) ? body.userInfo : undefined;
  if (typeof userInfo?.email === 'string' && userInfo.email) summary.email = userInfo.email;
  const subscription = isRecord(body.subscriptionInfo) ? body.subscriptionInfo.subscriptionTitle : undefined;
  if (typeof subscription === 'string' && subscription) summary.subscription = subscription;
  const breakdowns = Array.isArray(body.usageBreakdownList) ? body.usageBreakdownList.filter(isRecord) : [];
  const credit = breakdowns.find((b) => b.resourceType === 'CREDIT') ?? breakdowns[0];
  if (credit) {
    const limit = num(credit.usageLimitWithPrecision) ?? num(credit.usageLimit);
    const used = num(credit.currentUsageWithPrecision) ?? num(credit.currentUsage) ?? 0;
    if (limit !== undefined) {
      let remaining = limit - used;
      const trial = isRecord(credit.freeTrialInfo) ? credit.freeTrialInfo : undefined;
      if (trial && trial.freeTrialStatus === 'ACTIVE') {
        remaining += (num(trial.usageLimitWithPrecision) ?? num(trial.usageLimit) ?? 0) - (num(trial.currentUsageWithPrecision) ?? num(trial.currentUsage) ?? 0);
      }
      for (const bonus of Array.isArray(credit.bonuses) ? credit.bonuses.filter(isRecord) : []) {
        if (bonus.status === 'ACTIVE') remaining += (num(bonus.usageLimit) ?? 0) - (num(bonus.currentUsage) ?? 0);
      }
      summary.remainingCredits = Math.max(0, Math.round(remaining * 100) / 100);
    }
    const reset = num(credit.nextDateReset) ?? num(body.nextDateReset);
    if (reset !== undefined) summary.resetsAt = reset * 1000;
  }
  return summary;
}

export interface VerifyOptions {
  credentials: Omit<AccountCredentials, 'index' | 'disabled'>;
  upstreamBase?: string;
  redactor?: Redactor;
  signal?: AbortSignal;
  now?: () => number;
}

/** Refreshes once and checks usage; throws `verification_failed` (or cancelled) otherwise. */
export async function verifyCredential(options: VerifyOptions): Promise<VerifiedCredential> {
  const account = new KiroAccount({
    credentials: { ...options.credentials, disabled: false, index: 0 },
    upstreamBase: options.upstreamBase,
    redactor: options.redactor,
    now: options.now,
  });
  const onAbort = () => void account.dispose();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (options.signal?.aborted) throw signInCancelled();
    let token;
    try {
      token = await account.tokens.refresh();
    } catch (error) {
      if (options.signal?.aborted) throw signInCancelled();
      throw signInFailed('verification_failed', `the first token refresh with the new sign-in failed (${(error as Error).message})`, error);
    }
    const profileArn = account.profileArn;
    const url = new URL(account.endpoints.usageLimits);
    url.search = new URLSearchParams({
      isEmailRequired: 'true',
      origin: 'AI_EDITOR',
      resourceType: 'AGENTIC_REQUEST',
      ...(profileArn ? { profileArn } : {}),
    }).toString();
    const agents = runtimeUserAgents(account.machineId);
    let status: number;
    let text: string;
    let headers: Record<string, string | string[] | undefined>;
    try {
      const response = await request(url, {
        method: 'GET',
        headers: {
          'x-amz-user-agent': agents.amzUserAgent,
          'user-agent': agents.userAgent,
          'amz-sdk-invocation-id': randomUUID(),
          'amz-sdk-request': 'attempt=1; max=1',
          authorization: `Bearer ${token.value}`,
        },
        dispatcher: account.dispatcher,
        signal: options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(30_000)]) : AbortSignal.timeout(30_000),
      });
      status = response.statusCode;
      headers = response.headers as typeof headers;
      text = await readLimited(response.body, 256 * 1024);
    } catch (error) {
      if (options.signal?.aborted) throw signInCancelled();
      throw signInFailed('verification_failed', `the usage check could not reach Kiro (${(error as Error).message})`, error);
    }
    if (status !== 200) {
      const failure = classifyUpstreamResponse(status, text, headers);
      throw signInFailed('verification_failed', `Kiro refused the new account's usage check (${failure.message})`, failure);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw signInFailed('verification_failed', 'the usage check answered 200 with a body that is not JSON');
    }
    return {
      refreshToken: account.tokens.refreshToken,
      accessToken: token.value,
      expiresAt: token.expiresAt,
      ...(profileArn ? { profileArn } : {}),
      machineId: account.machineId,
      usage: summarizeUsage(body),
    };
  } catch (error) {
    if (error instanceof KiroError && options.signal?.aborted) throw signInCancelled();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await account.dispose();
  }
}
