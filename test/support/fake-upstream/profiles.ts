// What Kiro demands of the profile ARN, per kind of login (the sources are in
// src/kiro/accounts/profile.ts). On the calls that stream (generate, MCP): a Social login sends its
// own profile, a Builder ID login Kiro's fixed placeholder, an IAM Identity Center login one of its
// profiles, an API key none. Missing → 400 "profileArn is required for this request."; not one
// this login may use → 403 "User is not authorized to make this call.". On the runtime calls
// (getUsageLimits, ListAvailableModels) a profile is optional, except that Identity Center logins
// need theirs, and a Builder ID token sent with the placeholder is refused as an invalid bearer.
import { BUILDER_ID_PROFILE_ARN, DEFAULT_SOCIAL_PROFILE_ARN } from '../../../src/kiro/signin/constants';
import type { FakeAccount } from './accounts';
import { bearerInvalidReply } from './bodies';
import type { RouteCall, RouteKit } from './server';
import type { HttpReply, ValidationRule } from './types';

const PROFILE_REQUIRED_MESSAGE = 'profileArn is required for this request.';
const PROFILE_REFUSED_MESSAGE = 'User is not authorized to make this call.';

export interface ProfileRefusal {
  rule: Extract<ValidationRule, 'profile_arn_missing' | 'profile_arn_refused' | 'profile_placeholder_refused'>;
  detail: string;
  reply: HttpReply;
}

function missing(detail: string): ProfileRefusal {
  return {
    rule: 'profile_arn_missing',
    detail,
    reply: {
      status: 400,
      body: { message: PROFILE_REQUIRED_MESSAGE, reason: null },
      headers: { 'x-amzn-errortype': 'ValidationException', 'x-fake-kiro-rule': 'profile_arn_missing' },
    },
  };
}

function refused(detail: string): ProfileRefusal {
  return {
    rule: 'profile_arn_refused',
    detail,
    reply: {
      status: 403,
      body: { __type: 'com.amazon.aws.codewhisperer#AccessDeniedException', message: PROFILE_REFUSED_MESSAGE },
      headers: { 'x-amzn-errortype': 'AccessDeniedException', 'x-fake-kiro-rule': 'profile_arn_refused' },
    },
  };
}

/** The profiles this login may send on a streaming call. */
export function acceptedProfiles(account: FakeAccount, enterpriseProfiles: () => readonly string[]): readonly string[] {
  switch (account.kind) {
    case 'apikey':
      return [];
    case 'social':
      return [account.profileArn ?? DEFAULT_SOCIAL_PROFILE_ARN];
    case 'idc':
      return account.idcType === 'enterprise' ? enterpriseProfiles() : [account.profileArn ?? BUILDER_ID_PROFILE_ARN];
  }
}

/** generate and MCP: a profile is demanded (none for an API key). */
export function checkStreamingProfile(account: FakeAccount, sent: unknown, enterpriseProfiles: () => readonly string[]): ProfileRefusal | undefined {
  const accepted = acceptedProfiles(account, enterpriseProfiles);
  if (account.kind === 'apikey') {
    return sent === undefined ? undefined : refused(`an API key call carried profile "${String(sent)}"`);
  }
  if (sent === undefined || sent === null || sent === '') return missing(`no profileArn (expected ${accepted.join(' or ')})`);
  return accepted.includes(String(sent)) ? undefined : refused(`profileArn "${String(sent)}" is not one of ${accepted.join(', ')}`);
}

/** getUsageLimits and ListAvailableModels: optional, but never a wrong one. */
export function checkRuntimeProfile(account: FakeAccount, sent: unknown, enterpriseProfiles: () => readonly string[]): ProfileRefusal | undefined {
  const given = sent === undefined || sent === null || sent === '' ? undefined : String(sent);
  if (account.kind === 'idc' && account.idcType === 'builder-id' && given === BUILDER_ID_PROFILE_ARN) {
    const reply = bearerInvalidReply();
    return {
      rule: 'profile_placeholder_refused',
      detail: 'a Builder ID runtime call carried the placeholder profile',
      reply: { ...reply, headers: { ...reply.headers, 'x-fake-kiro-rule': 'profile_placeholder_refused' } },
    };
  }
  if (account.kind === 'idc' && account.idcType === 'enterprise') {
    if (given === undefined) return missing('an Identity Center runtime call without its profile');
    return enterpriseProfiles().includes(given) ? undefined : refused(`profileArn "${given}" is not this login's`);
  }
  if (given === undefined) return undefined;
  if (account.kind === 'apikey') return refused(`an API key call carried profile "${given}"`);
  return acceptedProfiles(account, enterpriseProfiles).includes(given) ? undefined : refused(`profileArn "${given}" is not this login's`);
}

/**
 * Applies a profile rule (`check`: checkRuntimeProfile or checkStreamingProfile) to the profile the
 * call sent, unless validation is off or skips the rule; true when the call was refused.
 */
export function refusedProfile(
  call: RouteCall,
  kit: RouteKit,
  account: FakeAccount,
  sent: unknown,
  check: typeof checkRuntimeProfile = checkRuntimeProfile,
): boolean {
  if (kit.upstream.validation.enabled === false) return false;
  const refusal = check(account, sent, () => kit.upstream.profileArnsOf(account));
  if (!refusal || kit.upstream.validation.skip?.includes(refusal.rule)) return false;
  call.record.rejectedBy = refusal.rule;
  kit.refuse(call, refusal.reply, refusal.detail);
  return true;
}
