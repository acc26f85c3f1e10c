// `kiro-bridge accounts login` in-process against the fake upstream: the test is the user's
// browser (it follows the URL the command prints or opens) and the user (it approves the device
// code, picks a profile). The account must land in accounts.json, verified, with no token printed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loginCommand, type LoginIO } from '../../src/cli/accounts-login';
import { deriveMachineId, KIRO_IDE_VERSION } from '../../src/kiro/http/identity';
import { actAsBrowser, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';

let upstream: FakeUpstream;
let home: string;

beforeEach(async () => {
  upstream = await startFakeUpstream({ accounts: [] });
  home = mkdtempSync(path.join(tmpdir(), 'kiro-bridge-login-'));
});

afterEach(async () => {
  await upstream.close();
  rmSync(home, { recursive: true, force: true });
});

interface Session {
  io: LoginIO;
  out: () => string;
  err: () => string;
  opened: string[];
}

function session(options: { env?: NodeJS.ProcessEnv; lines?: string[]; approveDevice?: boolean; signal?: AbortSignal } = {}): Session {
  let out = '';
  let err = '';
  const opened: string[] = [];
  const lines = [...(options.lines ?? [])];
  return {
    opened,
    out: () => out,
    err: () => err,
    io: {
      env: { KIRO_BRIDGE_CONFIG_DIR: path.join(home, 'config'), KIRO_BRIDGE_UPSTREAM_BASE: upstream.baseUrl, DISPLAY: ':0', ...options.env },
      out: (text) => (out += text),
      err: (text) => {
        err += text;
        // The user reads the device code page from the terminal and approves it.
        const page = /Open this page on any device and approve the sign-in:\n {2}(\S+)/.exec(text)?.[1];
        if (page && options.approveDevice !== false) void actAsBrowser(`${page}&approve=1`);
      },
      readSecret: async () => {
        throw new Error('login must not ask for secrets');
      },
      readLine: async () => lines.shift() ?? '',
      openBrowser: (url) => {
        opened.push(url);
        if (!url.includes('/device?')) void actAsBrowser(url);
        return true;
      },
      signal: options.signal,
    },
  };
}

interface SavedAccount {
  kind: string;
  source: string;
  provider?: string;
  refreshToken: string;
  clientId?: string;
  profileArn?: string;
  region?: string;
  startUrl?: string;
  clientSecretExpiresAt?: number;
  machineId: string;
  email?: string;
}

function saved(): SavedAccount[] {
  const file = JSON.parse(readFileSync(path.join(home, 'config', 'accounts.json'), 'utf8')) as { secrets: Record<string, string> };
  return Object.entries(file.secrets)
    .filter(([key]) => key.startsWith('kiro-bridge/account/'))
    .map(([, value]) => JSON.parse(value) as SavedAccount);
}

function noSecretsIn(text: string): void {
  for (const account of upstream.accounts) {
    expect(text).not.toContain(account.refreshToken);
    if (account.accessToken) expect(text).not.toContain(account.accessToken);
    if (account.clientSecret) expect(text).not.toContain(account.clientSecret);
  }
}

describe('kiro-bridge accounts login', () => {
  it('signs in with Builder ID in the browser and saves the verified account', async () => {
    const s = session();
    expect(await loginCommand(['--builder-id'], s.io)).toBe(0);
    const account = upstream.signIn.signedIn[0]!;
    expect(s.opened[0]).toMatch(new RegExp(`^${upstream.baseUrl}/authorize\\?`));
    expect(s.out()).toMatch(/^Signed in: .+ \(IdC, BuilderId\): 50 of 50 credits left\.\nSaved in .*accounts\.json\.\n$/);
    expect(saved()).toEqual([
      expect.objectContaining({ kind: 'IdC', source: 'sign-in', provider: 'BuilderId', clientId: account.clientId, refreshToken: account.refreshToken }),
    ]);
    // The client registration is cached beside the accounts, for the next login.
    const clients = JSON.parse(readFileSync(path.join(home, 'config', 'sign-in-clients.json'), 'utf8')) as { secrets: Record<string, string> };
    expect(Object.keys(clients.secrets)).toHaveLength(1);
    expect(await loginCommand(['--builder-id'], session().io)).toBe(0);
    expect(upstream.requestsTo('oidcRegister')).toHaveLength(1);
    noSecretsIn(s.out() + s.err());
  });

  it('signs in with GitHub through an allowlisted localhost callback', async () => {
    const s = session();
    expect(await loginCommand(['--github', '--label', 'work'], s.io)).toBe(0);
    const redirect = new URL(new URL(s.opened[0]!).searchParams.get('redirect_uri')!);
    expect(redirect.hostname).toBe('localhost');
    expect(upstream.signIn.socialCallbackPorts).toContain(Number(redirect.port));
    expect(saved()).toEqual([
      expect.objectContaining({ kind: 'Social', source: 'sign-in', provider: 'Github', profileArn: upstream.signIn.signedIn[0]!.profileArn }),
    ]);
    expect(s.out()).toContain('Signed in: work (Social, Github)');
    noSecretsIn(s.out() + s.err());
  });

  it('uses a device code over SSH, and lets the user pick an Identity Center profile', async () => {
    upstream.signIn.profiles = [
      { arn: 'arn:aws:codewhisperer:us-east-1:111111111111:profile/TEAMUS', profileName: 'Team US' },
      { arn: 'arn:aws:codewhisperer:eu-central-1:111111111111:profile/TEAMEU', profileName: 'Team EU' },
    ];
    const s = session({ env: { SSH_CONNECTION: '10.0.0.1 5000 10.0.0.2 22' }, lines: ['2'] });
    expect(await loginCommand(['--idc', 'https://my-org.awsapps.com/start', '--region', 'eu-west-1'], s.io)).toBe(0);
    expect(s.err()).toContain('using a device code');
    expect(s.err()).toContain(`It must show the code:  ${upstream.signIn.lastDevice!.userCode}`);
    expect(s.err()).toContain('2) Team EU (eu-central-1, arn:aws:codewhisperer:eu-central-1:111111111111:profile/TEAMEU)');
    // Over SSH nothing is opened locally.
    expect(s.opened).toEqual([]);
    const [account] = saved();
    const registration = [...upstream.signIn.registrations.values()][0]!;
    expect(account).toMatchObject({
      kind: 'IdC',
      provider: 'Enterprise',
      source: 'sign-in',
      profileArn: 'arn:aws:codewhisperer:eu-central-1:111111111111:profile/TEAMEU',
      region: 'eu-west-1',
      startUrl: 'https://my-org.awsapps.com/start',
      clientId: registration.clientId,
      clientSecretExpiresAt: registration.expiresAt * 1000,
    });
    // The usage check ran with the chosen profile.
    expect(upstream.requestsTo('usageLimits').every((r) => r.query.profileArn === account!.profileArn)).toBe(true);
    noSecretsIn(s.out() + s.err());
  });

  it('keeps the device id the sign-in used, even when Kiro rotates the refresh token on the first refresh', async () => {
    upstream.signIn.accountOptions = { rotateRefreshToken: true };
    const s = session();
    expect(await loginCommand(['--google'], s.io)).toBe(0);
    const fake = upstream.signIn.signedIn[0]!;
    // The token the code exchange issued is the one the sign-in's first refresh presented.
    const original = (upstream.requestsTo('refreshToken')[0]!.body as { refreshToken: string }).refreshToken;
    const [account] = saved();
    // The saved token is the newest one; the device id is the one every call of the sign-in carried.
    expect(account!.refreshToken).toBe(fake.refreshToken);
    expect(account!.refreshToken).not.toBe(original);
    expect(account!.machineId).toBe(deriveMachineId(undefined, original));
    const agents = upstream.requests.filter((r) => r.endpoint === 'refreshToken').map((r) => r.headers['user-agent']);
    expect(new Set(agents)).toEqual(new Set([`KiroIDE-${KIRO_IDE_VERSION}-${account!.machineId}`]));
  });

  it('asks for the method when none is given', async () => {
    const s = session({ lines: ['3'] });
    expect(await loginCommand([], s.io)).toBe(0);
    expect(s.err()).toContain('  3) Google');
    expect(saved()[0]).toMatchObject({ kind: 'Social', provider: 'Google' });
  });

  it('saves nothing when cancelled, and says so', async () => {
    const controller = new AbortController();
    const s = session({ approveDevice: false, signal: controller.signal });
    const running = loginCommand(['--builder-id', '--device'], s.io);
    await upstream.waitFor((r) => r.endpoint === 'oidcDeviceAuthorization');
    controller.abort();
    expect(await running).toBe(130);
    expect(s.err()).toContain('Sign-in cancelled; nothing was stored.');
    expect(() => saved()).toThrow();
  });

  it('explains a failed sign-in in one line and exits 1', async () => {
    upstream.signIn.browserAnswer = 'deny';
    const s = session();
    expect(await loginCommand(['--google'], s.io)).toBe(1);
    expect(s.err()).toMatch(/kiro-bridge accounts login: Sign-in failed because the provider refused the sign-in \(access_denied/);
  });

  it('rejects contradictory flags with the usage', async () => {
    const s = session();
    expect(await loginCommand(['--google', '--github'], s.io)).toBe(2);
    expect(s.err()).toContain('choose one of --builder-id, --idc, --google and --github');
    expect(await loginCommand(['--region', 'eu-west-1', '--google'], s.io)).toBe(2);
    expect(await loginCommand(['--nope'], s.io)).toBe(2);
    expect(await loginCommand(['--help'], s.io)).toBe(0);
    expect(s.out()).toContain('Usage: kiro-bridge accounts login');
    expect(upstream.requests).toHaveLength(0);
  });
});
