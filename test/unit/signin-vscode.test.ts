// "Kiro Bridge: Sign In…" in VS Code, through the command, with the vscode mock as the UI and the
// rest real: the extension's container, SecretStorage (mock), the accounts service, and the fake
// upstream playing AWS SSO-OIDC and Kiro's auth service. The test is the browser and the user.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mock, type MockExtensionContext } from '../support/vscode-mock';
import { REGISTRATION_SECRET_PREFIX } from '../../src/kiro/signin/registration-cache';
import { COMMANDS } from '../../src/views/commands';
import { Container } from '../../src/views/container';
import { actAsBrowser, startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { settingDefaults } from '../support/manifest';
import { freePort } from '../support/net';

let upstream: FakeUpstream;
let context: MockExtensionContext;
let container: Container;
let stopBrowser: (() => void) | undefined;

beforeEach(async () => {
  mock.reset();
  mock.setConfigDefaults(settingDefaults());
  upstream = await startFakeUpstream({ accounts: [] });
  mock.setConfig('kiroBridge.port', await freePort());
  mock.setConfig('kiroBridge.autoStart', false);
  mock.setConfig('kiroBridge.advanced.upstreamBase', upstream.baseUrl);
  context = mock.extensionContext();
  container = new Container(context as never, { env: {}, kiroCacheDir: '/nonexistent-kiro-cache' });
  container.activate();
  await container.services.accounts();
});

afterEach(async () => {
  stopBrowser?.();
  stopBrowser = undefined;
  await container.shutdown();
  await upstream.close();
});

/** Plays the user's browser: every page VS Code opens is visited (device pages are approved). */
function browser(options: { approveDevice?: boolean } = {}): void {
  let seen = 0;
  const timer = setInterval(() => {
    for (const url of mock.openedExternal.slice(seen)) {
      seen++;
      if (url.includes('/device?')) {
        if (options.approveDevice !== false) void actAsBrowser(`${url}&approve=1`);
      } else {
        void actAsBrowser(url);
      }
    }
  }, 5);
  stopBrowser = () => clearInterval(timer);
}

async function accounts() {
  return (await container.services.accounts()).list();
}

describe('Kiro Bridge: Sign In…', () => {
  it('offers Builder ID, Identity Center, Google and GitHub before the existing-login options', async () => {
    await mock.run(COMMANDS.signIn);
    const [pick] = mock.promptsOf('quickPick');
    const labels = pick!.items.map((i: { label: string }) => i.label);
    expect(labels.slice(0, 4)).toEqual([
      '$(account) Sign In with AWS Builder ID',
      '$(organization) Sign In with IAM Identity Center…',
      '$(globe) Sign In with Google',
      '$(github) Sign In with GitHub',
    ]);
    expect(labels).toContain('Existing login');
    expect(labels.some((l: string) => l.includes('Import Kiro IDE Login'))).toBe(true);
  });

  it('signs in with Builder ID in the browser, shows progress, caches the client in SecretStorage and saves the account', async () => {
    browser();
    mock.pick('Builder ID');
    await mock.run(COMMANDS.signIn);
    const [account] = await accounts();
    expect(account).toMatchObject({ kind: 'IdC', source: 'sign-in', state: 'ready' });
    expect(account!.credits?.remaining).toBe(50);
    const progress = mock.progress.at(-1)!;
    expect(progress).toMatchObject({ title: 'Signing in to Kiro with AWS Builder ID', cancellable: true });
    expect(progress.messages).toEqual(
      expect.arrayContaining(['Waiting for you to sign in in the browser…', 'Checking the new account with Kiro…', 'Saving the account…']),
    );
    expect(mock.promptsOf('info').at(-1)!.message).toBe(`Signed in to Kiro as ${account!.label} (50 of 50 credits left).`);
    expect(new URL(mock.openedExternal[0]!).pathname).toBe('/authorize');
    expect([...context.secrets.values.keys()].filter((k) => k.startsWith(REGISTRATION_SECRET_PREFIX))).toHaveLength(1);
    // No token or client secret reached a prompt or the log.
    const said = JSON.stringify(mock.prompts) + mock.outputChannels.map((c) => c.lines.join('\n')).join('\n');
    for (const fake of upstream.accounts) {
      expect(said).not.toContain(fake.refreshToken);
      expect(said).not.toContain(fake.clientSecret);
    }
  });

  it('uses a device code in a remote window: copy the code, open the page, approve', async () => {
    mock.setRemoteName('ssh-remote+box');
    browser();
    mock.pick('GitHub');
    mock.click('info', 'Copy Code and Open Page');
    await mock.run(COMMANDS.signIn);
    const device = upstream.signIn.lastDevice!;
    expect(device.kind).toBe('social');
    expect(mock.clipboard).toBe(device.userCode);
    expect(mock.promptsOf('info')[0]!.message).toBe(`To sign in, open the sign-in page and check that it shows the code ${device.userCode}.`);
    expect(mock.openedExternal).toEqual([`${upstream.baseUrl}/device?user_code=${device.userCode}`]);
    expect(await accounts()).toEqual([expect.objectContaining({ kind: 'Social', source: 'sign-in' })]);
  });

  it('asks an Identity Center user for start URL and region, and lets them pick a profile', async () => {
    upstream.signIn.profiles = [
      { arn: 'arn:aws:codewhisperer:us-east-1:111111111111:profile/TEAMUS', profileName: 'Team US' },
      { arn: 'arn:aws:codewhisperer:eu-central-1:111111111111:profile/TEAMEU', profileName: 'Team EU' },
    ];
    browser();
    mock.pick('Identity Center');
    mock.answer('inputBox', 'https://my-org.awsapps.com/start', 'eu-west-1');
    mock.pick('Team EU');
    await mock.run(COMMANDS.signIn);
    const boxes = mock.promptsOf('inputBox');
    expect(boxes.map((b) => b.message)).toEqual(['IAM Identity Center: start URL', 'IAM Identity Center: region']);
    expect(await boxes[0]!.options.validateInput('http://my-org')).toBe('The start URL must begin with https://');
    expect(await boxes[1]!.options.validateInput('Frankfurt')).toBe('Enter an AWS region name, for example us-east-1');
    expect(
      mock
        .promptsOf('quickPick')
        .at(-1)!
        .items.map((i: { label: string }) => i.label),
    ).toEqual(['Team US', 'Team EU']);
    expect(upstream.requestsTo('oidcRegister')[0]!.body).toMatchObject({ issuerUrl: 'https://my-org.awsapps.com/start' });
    expect(await accounts()).toEqual([expect.objectContaining({ kind: 'IdC', source: 'sign-in' })]);
    // Stored in SecretStorage with the chosen profile, the OIDC region and the start URL.
    const stored = [...context.secrets.values.entries()]
      .filter(([k]) => k.startsWith('kiro-bridge/account/'))
      .map(([, v]) => JSON.parse(v) as Record<string, unknown>);
    expect(stored).toEqual([
      expect.objectContaining({
        provider: 'Enterprise',
        profileArn: 'arn:aws:codewhisperer:eu-central-1:111111111111:profile/TEAMEU',
        region: 'eu-west-1',
        startUrl: 'https://my-org.awsapps.com/start',
      }),
    ]);
  });

  it('cancels from the progress notification and stores nothing', async () => {
    mock.setRemoteName('wsl+Ubuntu');
    browser({ approveDevice: false });
    mock.pick('Builder ID');
    const running = mock.run(COMMANDS.signIn);
    await upstream.waitFor((r) => r.endpoint === 'oidcDeviceAuthorization' && r.outcome === 'completed');
    mock.progress.at(-1)!.source!.cancel();
    await running;
    expect(await accounts()).toEqual([]);
    expect(mock.promptsOf('error')).toEqual([]);
    expect(upstream.signIn.signedIn).toEqual([]);
  });

  it('shows why a sign-in failed, with the logs one click away', async () => {
    upstream.signIn.browserAnswer = 'deny';
    browser();
    mock.pick('Google');
    mock.click('error', 'Show Logs');
    await mock.run(COMMANDS.signIn);
    const [error] = mock.promptsOf('error');
    expect(error!.message).toMatch(/^Sign-in failed because the provider refused the sign-in \(access_denied/);
    expect(error!.items).toEqual(['Show Logs']);
    expect(await accounts()).toEqual([]);
  });
});
