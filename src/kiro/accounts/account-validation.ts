// Checking an account before it is saved: the input must be complete and plausible, and the
// credential must work — a real token refresh (unless a fresh access token came with it) and a
// usage check. A failure becomes one clear KiroError saying what to do; nothing is saved.
import type { Redactor } from '../../common/redact';
import type { KiroAccount } from './account';
import type { AccountSource } from './account-store';
import type { AddAccountDetails, AddAccountInput } from './accounts-api';
import { KiroError } from '../errors';
import { summarizeUsage, UsageFormatError, type UsageSummary } from './quota';
import { fetchUsageLimits } from '../http/runtime-api';

/** `add`'s input, checked and trimmed. */
export interface CheckedAddInput {
  kind: 'Social' | 'IdC';
  refreshToken: string;
  clientId?: string;
  clientSecret?: string;
  region?: string;
  label?: string;
  source: Exclude<AccountSource, 'env'>;
  profileArn?: string;
  provider?: string;
  machineId?: string;
  startUrl?: string;
  clientSecretExpiresAt?: number;
}

/** Throws a `bad_request` KiroError naming what is missing or wrong. */
export function checkAddInput(input: AddAccountInput & AddAccountDetails): CheckedAddInput {
  const refreshToken = input.refreshToken?.trim();
  if (!refreshToken) throw new KiroError('bad_request', 'a refresh token is required');
  if (refreshToken.includes('...') || refreshToken.includes('…')) {
    throw new KiroError('bad_request', 'the refresh token looks shortened (it contains "..."); copy the whole value');
  }
  if (input.kind !== 'Social' && input.kind !== 'IdC') throw new KiroError('bad_request', 'the account kind must be "Social" or "IdC"');
  if (input.kind === 'IdC' && (!input.clientId?.trim() || !input.clientSecret?.trim())) {
    throw new KiroError('bad_request', 'an IdC (Builder ID / Identity Center) account needs its clientId and clientSecret');
  }
  if (input.region && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(input.region)) throw new KiroError('bad_request', `"${input.region.slice(0, 30)}" is not an AWS region name`);
  return {
    kind: input.kind,
    refreshToken,
    clientId: input.clientId?.trim(),
    clientSecret: input.clientSecret?.trim(),
    region: input.region,
    label: input.label?.trim() || undefined,
    source: input.source === 'env' ? 'manual' : (input.source ?? 'manual'),
    profileArn: input.profileArn?.trim() || undefined,
    provider: input.provider,
    machineId: input.machineId && /^[0-9a-f]{64}$/i.test(input.machineId) ? input.machineId.toLowerCase() : undefined,
    startUrl: input.startUrl,
    clientSecretExpiresAt: input.clientSecretExpiresAt,
  };
}

/** A token (refreshing if needed) and a usage check; a token Kiro calls expired is refreshed once. */
export async function probeAccount(account: KiroAccount): Promise<UsageSummary> {
  let token = await account.getToken();
  try {
    return summarizeUsage(await fetchUsageLimits(account, token));
  } catch (error) {
    if (!(error instanceof KiroError) || error.errorClass !== 'token_expired') throw error;
    token = await account.tokens.refreshAfterRejection(token);
    return summarizeUsage(await fetchUsageLimits(account, token));
  }
}

/** What the user is told when `probeAccount` failed (`fromIde`: the credential came from the Kiro IDE). */
export function validationError(error: unknown, fromIde: boolean, redactor: Redactor): KiroError {
  const text = (message: string) => redactor.text(message);
  if (error instanceof KiroError) {
    if (error.errorClass === 'needs_sign_in') {
      return new KiroError(
        'needs_sign_in',
        fromIde
          ? 'The Kiro IDE login has expired and can no longer be refreshed. Open the Kiro IDE, sign in again, then import again.'
          : text(`Kiro rejected this refresh token: ${error.message}. Copy a fresh one (sign in to Kiro again) and retry.`),
        { status: error.status },
      );
    }
    if (error.errorClass === 'account_suspended') {
      return new KiroError('account_suspended', 'Kiro reports this account as suspended; it was not added.', { status: error.status });
    }
    return new KiroError(error.errorClass, text(`Could not check the account with Kiro, so it was not added: ${error.message}`), {
      status: error.status,
      retryAfterSeconds: error.retryAfterSeconds,
    });
  }
  if (error instanceof UsageFormatError) {
    return new KiroError('upstream_unavailable', `Kiro's usage answer could not be read (${error.message}); the account was not added.`);
  }
  return new KiroError('internal', text(`Could not check the account: ${(error as Error)?.message ?? String(error)}`));
}
