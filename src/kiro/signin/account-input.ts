// A verified sign-in → what the accounts service stores (AccountsService.add). Kept here so the
// VS Code command and the CLI's `accounts login` store exactly the same thing.
import type { AddAccountDetails, AddAccountInput } from '../accounts/accounts-api';
import type { SignedInAccount } from './flow';

export function toAddAccountInput(result: SignedInAccount, label?: string): AddAccountInput & AddAccountDetails {
  const input: AddAccountInput & AddAccountDetails = {
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
