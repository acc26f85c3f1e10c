// Checking an account before it is saved: the input must be complete and plausible, and the
// credential must work (the service runs `probeAccount` from ./usage-checks: a real token refresh
// unless a fresh access token came with it or the credential is an API key, and a usage check). A
// failure becomes one clear KiroError saying what to do; nothing is saved.
import type { Redactor } from '../../common/redact';
import type { AccountSource } from './account-store';
import type { AddAccountDetails, AddAccountInput } from './accounts-api';
import { apiKeyProblem, looksShortened, type AuthKind } from './credentials';
import { isAwsRegion } from '../http/endpoints';
import { KiroError } from '../errors';
import { UsageFormatError } from './quota';

/** `add`'s input, checked and trimmed: a refresh token or an API key, as the kind says. */
export interface CheckedAddInput {
  kind: AuthKind;
  refreshToken?: string;
  apiKey?: string;
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
  const source = input.source === 'env' ? 'manual' : (input.source ?? 'manual');
  if (input.kind === 'ApiKey') {
    const apiKey = input.apiKey?.trim();
    if (!apiKey) throw new KiroError('bad_request', 'a Kiro API key is required');
    const problem = apiKeyProblem(apiKey);
    if (problem) throw new KiroError('bad_request', problem);
    if (input.region && !isAwsRegion(input.region)) throw new KiroError('bad_request', `"${input.region.slice(0, 30)}" is not an AWS region name`);
    return { kind: 'ApiKey', apiKey, region: input.region, label: input.label?.trim() || undefined, source };
  }
  const refreshToken = input.refreshToken?.trim();
  if (!refreshToken) throw new KiroError('bad_request', 'a refresh token is required');
  if (looksShortened(refreshToken)) {
    throw new KiroError('bad_request', 'the refresh token looks shortened (it contains "..."); copy the whole value');
  }
  if (input.kind !== 'Social' && input.kind !== 'IdC') throw new KiroError('bad_request', 'the account kind must be "Social", "IdC" or "ApiKey"');
  if (input.kind === 'IdC' && (!input.clientId?.trim() || !input.clientSecret?.trim())) {
    throw new KiroError('bad_request', 'an IdC (Builder ID / Identity Center) account needs its clientId and clientSecret');
  }
  if (input.region && !isAwsRegion(input.region)) throw new KiroError('bad_request', `"${input.region.slice(0, 30)}" is not an AWS region name`);
  return {
    kind: input.kind,
    refreshToken,
    clientId: input.clientId?.trim(),
    clientSecret: input.clientSecret?.trim(),
    region: input.region,
    label: input.label?.trim() || undefined,
    source,
    profileArn: input.profileArn?.trim() || undefined,
    provider: input.provider,
    machineId: input.machineId && /^[0-9a-f]{64}$/i.test(input.machineId) ? input.machineId.toLowerCase() : undefined,
    startUrl: input.startUrl,
    clientSecretExpiresAt: input.clientSecretExpiresAt,
  };
}

/**
 * What the user is told when `probeAccount` failed (`fromIde`: the credential came from the Kiro
 * IDE; `apiKey`: it is a Kiro API key).
 */
export function validationError(error: unknown, fromIde: boolean, redactor: Redactor, apiKey = false): KiroError {
  const text = (message: string) => redactor.text(message);
  if (error instanceof KiroError) {
    if (error.errorClass === 'needs_sign_in' && apiKey) {
      return new KiroError(
        'needs_sign_in',
        'Kiro rejected this API key; it was not added. Create a new key in Kiro (app.kiro.dev, Settings → API keys) and retry.',
        {
          status: error.status,
        },
      );
    }
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
