// A verified sign-in → what the accounts service stores (AccountsService.add). Kept here so the
// VS Code command and the CLI's `accounts login` store exactly the same thing.
import type { AddAccountInput } from '../accounts-service';
import type { SignedInAccount } from './flow';

/** Fields a sign-in knows beyond a pasted token (profile, provider, device id, registration expiry). */
export interface SignInAccountDetails {
  profileArn?: string;
  provider?: string;
  machineId?: string;
  startUrl?: string;
  /** Epoch ms after which the IdC client registration (and so the refresh) stops working. */
  clientSecretExpiresAt?: number;
}

export function toAddAccountInput(result: SignedInAccount, label?: string): AddAccountInput & SignInAccountDetails {
  const input: AddAccountInput & SignInAccountDetails = {
    kind: result.kind === 'idc' ? 'IdC' : 'Social',
    refreshToken: result.refreshToken,
    source: 'sign-in',
    provider: result.provider,
    machineId: result.machineId,
  };
  if (label?.trim()) input.label = label.trim();
  if (result.profileArn) input.profileArn = result.profileArn;
  if (result.kind === 'idc') {
    input.clientId = result.clientId;
    input.clientSecret = result.clientSecret;
    input.region = result.region;
    input.startUrl = result.startUrl;
    input.clientSecretExpiresAt = result.clientSecretExpiresAt;
  }
  return input;
}
