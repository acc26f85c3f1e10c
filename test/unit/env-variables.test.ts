import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/common/redact';
import type { AccountCredentials } from '../../src/kiro/accounts/credentials';
import { addEnvironmentAccounts } from '../../src/kiro/accounts/env-variables';

const REFRESH = `aor${'A'.repeat(100)}`;
const KEY = `ksk_${'k'.repeat(40)}`;

/** Records what the accounts service is asked to add; `refuseKey` makes addEnvApiKey throw. */
function recordingService(refuseKey?: (key: string) => string) {
  const calls: string[] = [];
  const service = {
    addEnvAccounts(accounts: readonly AccountCredentials[], options: { file?: string } = {}) {
      calls.push(`accounts ${accounts.length} ${options.file ?? '-'}`);
      return [];
    },
    addEnvApiKey(apiKey: string) {
      if (refuseKey) throw new Error(refuseKey(apiKey));
      calls.push('key');
      return undefined;
    },
  };
  return { service, calls };
}

describe('addEnvironmentAccounts', () => {
  it('adds nothing when neither variable is set (or only blanks)', () => {
    const { service, calls } = recordingService();
    expect(addEnvironmentAccounts(service, { KIRO_AUTH_TOKEN: ' ', KIRO_API_KEY: '' }, new Redactor())).toEqual({ apiKey: false, problems: [] });
    expect(calls).toEqual([]);
  });

  it("adds KIRO_AUTH_TOKEN's accounts, then KIRO_API_KEY's key, trimmed and registered with the redactor", () => {
    const { service, calls } = recordingService();
    const redactor = new Redactor();
    const added = addEnvironmentAccounts(service, { KIRO_AUTH_TOKEN: JSON.stringify([{ refreshToken: REFRESH }]), KIRO_API_KEY: ` ${KEY} ` }, redactor);
    expect(added).toEqual({ authToken: { accounts: 1, file: undefined }, apiKey: true, problems: [] });
    expect(calls).toEqual(['accounts 1 -', 'key']);
    expect(redactor.text(`the key ${KEY}`)).not.toContain(KEY);
  });

  it('returns what could not be used, KIRO_AUTH_TOKEN first, redacted, and still tries the other variable', () => {
    const { service, calls } = recordingService((key) => `Kiro refused ${key}`);
    const added = addEnvironmentAccounts(service, { KIRO_AUTH_TOKEN: '[{"auth":"Nope"}]', KIRO_API_KEY: KEY }, new Redactor());
    expect(added.authToken).toBeUndefined();
    expect(added.apiKey).toBe(false);
    expect(added.problems.map((p) => p.variable)).toEqual(['KIRO_AUTH_TOKEN', 'KIRO_API_KEY']);
    expect(added.problems[0]!.message).toMatch(/"auth" must be/);
    expect(added.problems[1]!.message).toMatch(/^Kiro refused /);
    expect(added.problems[1]!.message).not.toContain(KEY);
    expect(calls).toEqual([]);
  });
});
