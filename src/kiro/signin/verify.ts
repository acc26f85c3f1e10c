// The last step of every sign-in, before anything is stored: a real token refresh through the
// same TokenManager the bridge will use (so the stored credential is known to refresh), and a
// usage-limits call with the refreshed token and the chosen profile (so the account is known to
// reach Kiro's data plane). Either failing fails the sign-in with what the service said. The
// usage call and its reading are the accounts service's own (runtime-api, quota).
import type { Redactor } from '../../common/redact';
import { KiroAccount } from '../accounts/account';
import type { OAuthCredentials } from '../accounts/credentials';
import { summarizeUsage, UsageFormatError, type UsageSummary } from '../accounts/quota';
import { fetchUsageLimits } from '../http/runtime-api';
import { signInCancelled, signInFailed } from './errors';

export type { UsageSummary };

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

export interface VerifyOptions {
  credentials: Omit<OAuthCredentials, 'index' | 'disabled'>;
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
  // The refresh takes no signal: a cancel destroys the account's connections instead.
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
    let usage: UsageSummary;
    try {
      usage = summarizeUsage(await fetchUsageLimits(account, token, { signal: options.signal, timeoutMs: 30_000 }));
    } catch (error) {
      if (options.signal?.aborted) throw signInCancelled();
      if (error instanceof UsageFormatError) throw signInFailed('verification_failed', `Kiro's usage answer could not be read (${error.message})`, error);
      throw signInFailed(
        'verification_failed',
        `Kiro refused the new account's usage check (${(error as Error).message.replace(/^usage check: /, '')})`,
        error,
      );
    }
    return {
      refreshToken: account.tokens.refreshToken ?? options.credentials.refreshToken,
      accessToken: token.value,
      expiresAt: token.expiresAt,
      ...(account.profile.arn ? { profileArn: account.profile.arn } : {}),
      machineId: account.machineId,
      usage,
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await account.dispose();
  }
}
