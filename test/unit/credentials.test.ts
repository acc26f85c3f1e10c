import { describe, expect, it } from 'vitest';
import { CredentialsError, loadCredentials, parseCredentialsJson } from '../../src/kiro/accounts/credentials';
import { firstEnabled } from '../support/single-account';
import { kiroEndpoints, regionFromProfileArn } from '../../src/kiro/http/endpoints';
import { deriveMachineId } from '../../src/kiro/http/identity';

const REFRESH = `aor${'A'.repeat(100)}`;

function rejection(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialsError);
    return (error as Error).message;
  }
  throw new Error('expected a CredentialsError');
}

describe('KIRO_AUTH_TOKEN', () => {
  it('parses the kiro2api array format', () => {
    const accounts = parseCredentialsJson(
      JSON.stringify([
        { auth: 'Social', refreshToken: REFRESH },
        { auth: 'IdC', refreshToken: REFRESH, clientId: 'cid', clientSecret: 'csecret', disabled: true },
      ]),
    );
    expect(accounts).toEqual([
      expect.objectContaining({ auth: 'Social', refreshToken: REFRESH, disabled: false, index: 0 }),
      expect.objectContaining({ auth: 'IdC', clientId: 'cid', clientSecret: 'csecret', disabled: true, index: 1 }),
    ]);
  });

  it('accepts one object, and Social as the default kind', () => {
    expect(parseCredentialsJson(JSON.stringify({ refreshToken: REFRESH }))).toEqual([expect.objectContaining({ auth: 'Social' })]);
  });

  it('reads a file when the value is a path', () => {
    const loaded = loadCredentials('/etc/kiro.json', (file) => {
      expect(file).toBe('/etc/kiro.json');
      return JSON.stringify([{ refreshToken: REFRESH }]);
    });
    expect(loaded.file).toBe('/etc/kiro.json');
    expect(loaded.accounts).toHaveLength(1);
  });

  it('explains every mistake without quoting the secrets', () => {
    const secret = `aor${'S'.repeat(40)}`;
    const invalidJson = rejection(() => loadCredentials(`[{"refreshToken":"${secret}",}]`));
    expect(invalidJson).toContain('not valid JSON');
    expect(invalidJson).not.toContain(secret);
    expect(
      rejection(() =>
        loadCredentials('/no/such/file.json', () => {
          throw Object.assign(new Error('x'), { code: 'ENOENT' });
        }),
      ),
    ).toContain('no such file');
    expect(rejection(() => parseCredentialsJson('[]'))).toContain('no accounts');
    expect(rejection(() => parseCredentialsJson('[{"auth":"Social"}]'))).toContain('"refreshToken" is required');
    expect(rejection(() => parseCredentialsJson(`[{"auth":"IdC","refreshToken":"${REFRESH}"}]`))).toContain('clientId');
    expect(rejection(() => parseCredentialsJson(`[{"auth":"Google","refreshToken":"${REFRESH}"}]`))).toContain('"Social", "IdC" or "ApiKey"');
    expect(rejection(() => parseCredentialsJson('[{"refreshToken":"aorABC...xyz"}]'))).toContain('truncated');
    expect(rejection(() => parseCredentialsJson(`[{"refreshToken":"${REFRESH}","disabled":"no"}]`))).toContain('disabled');
    expect(rejection(() => parseCredentialsJson(`[{"refreshToken":"${REFRESH}","machineId":"xyz"}]`))).toContain('machineId');
  });

  it('reads Kiro API key entries (both field spellings) and refuses what is not a key, without quoting it', () => {
    const key = 'ksk_example-test-key-not-issued-by-kiro';
    expect(parseCredentialsJson(JSON.stringify([{ auth: 'ApiKey', apiKey: key }, { authMethod: 'api_key', kiroApiKey: key }, { apiKey: key }]))).toEqual([
      { auth: 'ApiKey', apiKey: key, disabled: false, index: 0, region: undefined, machineId: undefined, provider: undefined, startUrl: undefined },
      { auth: 'ApiKey', apiKey: key, disabled: false, index: 1, region: undefined, machineId: undefined, provider: undefined, startUrl: undefined },
      { auth: 'ApiKey', apiKey: key, disabled: false, index: 2, region: undefined, machineId: undefined, provider: undefined, startUrl: undefined },
    ]);
    const notAKey = rejection(() => parseCredentialsJson('[{"auth":"ApiKey","apiKey":"aorSecretLookingValue123456"}]'));
    expect(notAKey).toContain('a Kiro API key starts with "ksk_"');
    expect(notAKey).not.toContain('aorSecretLookingValue123456');
    expect(rejection(() => parseCredentialsJson('[{"auth":"ApiKey"}]'))).toContain('needs "apiKey"');
    // An IdC entry keeps what decides its profile rule.
    expect(
      parseCredentialsJson(JSON.stringify([{ auth: 'IdC', refreshToken: REFRESH, clientId: 'c', clientSecret: 's', provider: 'BuilderId' }]))[0],
    ).toMatchObject({ provider: 'BuilderId' });
  });

  it('picks the first enabled account', () => {
    const accounts = parseCredentialsJson(JSON.stringify([{ refreshToken: `${REFRESH}1`, disabled: true }, { refreshToken: `${REFRESH}2` }]));
    expect(firstEnabled(accounts)).toMatchObject({ refreshToken: `${REFRESH}2` });
    expect(firstEnabled([{ ...accounts[0]! }])).toBeUndefined();
  });
});

describe('endpoints', () => {
  it('uses the real hosts by default', () => {
    expect(kiroEndpoints()).toEqual({
      generate: 'https://q.us-east-1.amazonaws.com/generateAssistantResponse',
      socialRefresh: 'https://prod.us-east-1.auth.desktop.kiro.dev/refreshToken',
      idcRefresh: 'https://oidc.us-east-1.amazonaws.com/token',
      usageLimits: 'https://q.us-east-1.amazonaws.com/getUsageLimits',
      awsJson: 'https://q.us-east-1.amazonaws.com/',
    });
    expect(kiroEndpoints({ region: 'eu-central-1' }).generate).toBe('https://q.eu-central-1.amazonaws.com/generateAssistantResponse');
    // q. exists only in two regions; OIDC everywhere.
    expect(kiroEndpoints({ region: 'ap-southeast-1' }).generate).toBe('https://q.us-east-1.amazonaws.com/generateAssistantResponse');
    expect(kiroEndpoints({ region: 'ap-southeast-1' }).idcRefresh).toBe('https://oidc.ap-southeast-1.amazonaws.com/token');
  });

  it('replaces every host with an upstream base', () => {
    expect(kiroEndpoints({ upstreamBase: 'http://127.0.0.1:9999/kiro/' })).toEqual({
      generate: 'http://127.0.0.1:9999/kiro/generateAssistantResponse',
      socialRefresh: 'http://127.0.0.1:9999/kiro/refreshToken',
      idcRefresh: 'http://127.0.0.1:9999/kiro/token',
      usageLimits: 'http://127.0.0.1:9999/kiro/getUsageLimits',
      awsJson: 'http://127.0.0.1:9999/kiro/',
    });
    expect(() => kiroEndpoints({ upstreamBase: 'ftp://x' })).toThrow(/http/);
    expect(() => kiroEndpoints({ upstreamBase: 'http://x/?a=1' })).toThrow(/query/);
  });

  it('reads the region of a profile ARN', () => {
    expect(regionFromProfileArn('arn:aws:codewhisperer:eu-central-1:123456789012:profile/ABC')).toBe('eu-central-1');
    expect(regionFromProfileArn(undefined)).toBeUndefined();
  });
});

describe('machineId', () => {
  it('is stable per refresh token, or the configured one', () => {
    const a = deriveMachineId(undefined, REFRESH);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(deriveMachineId(undefined, REFRESH)).toBe(a);
    expect(deriveMachineId(undefined, `${REFRESH}x`)).not.toBe(a);
    expect(deriveMachineId('f'.repeat(64), REFRESH)).toBe('f'.repeat(64));
  });
});
