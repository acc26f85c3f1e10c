// Which profile ARN each kind of login sends, and where; and how an Identity Center login's
// profile is looked up: once, the one in the login's region of several, not again within minutes
// of a failure, at once when Kiro refuses the one in use. The lookup is a plain function here
// (what ListAvailableProfiles answered); the contract tests run it against the fake upstream.
import { describe, expect, it } from 'vitest';
import type { AccessToken, AccountTokens } from '../../src/kiro/accounts/auth';
import type { AccountCredentials, OAuthCredentials } from '../../src/kiro/accounts/credentials';
import { AccountProfile, profileRuleOf, type ProfileChange } from '../../src/kiro/accounts/profile';
import { BUILDER_ID_PROFILE_ARN, DEFAULT_SOCIAL_PROFILE_ARN } from '../../src/kiro/signin/constants';
import type { KiroProfile, ProfileDiscovery } from '../../src/kiro/signin/profiles';

const token: AccessToken = { value: 'aoa-token', expiresAt: Number.MAX_SAFE_INTEGER, marginMs: 0 };
const social: AccountCredentials = { auth: 'Social', refreshToken: 'aor-x', disabled: false, index: 0 };
const idc = (over: Partial<OAuthCredentials> = {}): AccountCredentials => ({
  auth: 'IdC',
  refreshToken: 'aor-y',
  clientId: 'c',
  clientSecret: 's',
  disabled: false,
  index: 0,
  ...over,
});
const profile = (region: string, id: string): KiroProfile => ({ arn: `arn:aws:codewhisperer:${region}:123456789012:profile/${id}`, profileName: id, region });

/** Only what AccountProfile reads of the tokens: the profile the login named. */
function tokensNaming(profileArn?: string): AccountTokens {
  return { profileArn } as AccountTokens;
}

function setup(credentials: AccountCredentials, answers: (ProfileDiscovery | Error)[], options: { tokensArn?: string; clock?: { now: number } } = {}) {
  const calls: string[] = [];
  const changes: ProfileChange[] = [];
  const clock = options.clock ?? { now: 0 };
  const accountProfile = new AccountProfile(
    credentials,
    tokensNaming(options.tokensArn ?? (credentials.auth === 'ApiKey' ? undefined : credentials.profileArn)),
    async (t) => {
      calls.push(t.value);
      const answer = answers.shift() ?? { profiles: [], failures: [] };
      if (answer instanceof Error) throw answer;
      return answer;
    },
    'test account',
    { now: () => clock.now },
  );
  accountProfile.onDidChange((c) => changes.push(c));
  return { accountProfile, calls, changes, clock };
}

describe('profile rules', () => {
  it('each kind of login has its rule', () => {
    expect(profileRuleOf(social)).toBe('own');
    expect(profileRuleOf(idc({ provider: 'BuilderId' }))).toBe('builder-id');
    expect(profileRuleOf(idc({ startUrl: 'https://view.awsapps.com/start/' }))).toBe('builder-id');
    expect(profileRuleOf(idc({ provider: 'Enterprise', startUrl: 'https://my-org.awsapps.com/start' }))).toBe('discover');
    expect(profileRuleOf(idc())).toBe('discover');
    expect(profileRuleOf({ auth: 'ApiKey', apiKey: 'ksk_12345678', disabled: false, index: 0 })).toBe('none');
  });

  it('placeholders go only where Kiro demands a profile; runtime calls carry a real one or none', async () => {
    const own = setup(social, [], { tokensArn: 'arn:aws:codewhisperer:us-east-1:1:profile/MINE' }).accountProfile;
    expect([own.forStreaming, own.arn]).toEqual(['arn:aws:codewhisperer:us-east-1:1:profile/MINE', 'arn:aws:codewhisperer:us-east-1:1:profile/MINE']);
    const bare = setup(social, []).accountProfile;
    expect([bare.forStreaming, bare.arn]).toEqual([DEFAULT_SOCIAL_PROFILE_ARN, undefined]);
    const builder = setup(idc({ provider: 'BuilderId' }), []);
    await builder.accountProfile.ensure(token);
    expect([builder.accountProfile.forStreaming, builder.accountProfile.arn, builder.calls]).toEqual([BUILDER_ID_PROFILE_ARN, undefined, []]);
    const key = setup({ auth: 'ApiKey', apiKey: 'ksk_12345678', disabled: false, index: 0 }, []);
    await key.accountProfile.ensure(token);
    expect([key.accountProfile.forStreaming, key.accountProfile.arn, key.accountProfile.canLookUpAgain, key.calls]).toEqual([undefined, undefined, false, []]);
  });
});

describe('Identity Center lookup', () => {
  it("asks once, takes the profile in the login's region of several, and reports it", async () => {
    const { accountProfile, calls, changes } = setup(idc({ region: 'eu-central-1' }), [
      { profiles: [profile('us-east-1', 'US'), profile('eu-central-1', 'EU')], failures: [] },
    ]);
    expect(accountProfile.forStreaming).toBeUndefined();
    await Promise.all([accountProfile.ensure(token), accountProfile.ensure(token)]);
    await accountProfile.ensure(token);
    expect(calls).toEqual(['aoa-token']);
    expect(accountProfile.forStreaming).toBe(profile('eu-central-1', 'EU').arn);
    expect(accountProfile.arn).toBe(profile('eu-central-1', 'EU').arn);
    expect(changes).toEqual([{ profileArn: profile('eu-central-1', 'EU').arn }]);
  });

  it('a saved profile is used without asking', async () => {
    const { accountProfile, calls } = setup(idc({ profileArn: profile('us-east-1', 'SAVED').arn }), []);
    await accountProfile.ensure(token);
    expect(calls).toEqual([]);
    expect(accountProfile.forStreaming).toBe(profile('us-east-1', 'SAVED').arn);
  });

  it('Kiro saying "Builder ID is not supported" settles the kind: the placeholder, and the provider to keep', async () => {
    const { accountProfile, changes } = setup(idc(), [
      { profiles: [], failures: ['q.us-east-1.amazonaws.com: AWS Builder ID is not supported for this operation.'] },
    ]);
    await accountProfile.ensure(token);
    expect(accountProfile.rule).toBe('builder-id');
    expect(accountProfile.forStreaming).toBe(BUILDER_ID_PROFILE_ARN);
    expect(changes).toEqual([{ provider: 'BuilderId' }]);
  });

  it('a failed lookup is not repeated for minutes, but a refusal asks at once; a refused saved profile is not sent again', async () => {
    const refusedArn = profile('us-east-1', 'OLD').arn;
    const clock = { now: 0 };
    const first = setup(
      idc(),
      [new Error('q.us-east-1 unreachable'), { profiles: [], failures: [] }, { profiles: [profile('us-east-1', 'LATER')], failures: [] }],
      { clock },
    );
    await first.accountProfile.ensure(token);
    await first.accountProfile.ensure(token);
    expect(first.calls).toHaveLength(1);
    clock.now += 5 * 60_000;
    await first.accountProfile.ensure(token);
    expect(first.calls).toHaveLength(2);
    await first.accountProfile.lookUpAgain(token);
    expect(first.calls).toHaveLength(3);
    expect(first.accountProfile.forStreaming).toBe(profile('us-east-1', 'LATER').arn);

    const saved = setup(idc({ profileArn: refusedArn }), [{ profiles: [], failures: [] }]);
    await saved.accountProfile.lookUpAgain(token);
    expect(saved.accountProfile.forStreaming).toBeUndefined();
    // Listed again by Kiro, the same profile is used (nothing better exists), after any other.
    const relisted = setup(idc({ profileArn: refusedArn }), [{ profiles: [profile('us-east-1', 'OLD'), profile('us-east-1', 'NEW')], failures: [] }]);
    await relisted.accountProfile.lookUpAgain(token);
    expect(relisted.accountProfile.forStreaming).toBe(profile('us-east-1', 'NEW').arn);
  });
});
