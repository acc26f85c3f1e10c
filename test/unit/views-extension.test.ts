// The extension as a whole, through its commands, with the vscode mock standing in for VS Code's
// UI and everything else real: the bridge listens on loopback, accounts live in (mock) secret
// storage and are validated against the fake Kiro upstream, Claude Code's settings file is a real
// temp file, and the test request goes through the bridge to the fake upstream.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mock, type MockExtensionContext } from '../support/vscode-mock';
import { bridgeConfig } from '../../src/bridge/config';
import { createBridge } from '../../src/bridge/http/server';
import { SingleAccountProvider } from '../support/single-account';
import { activate, deactivate } from '../../src/extension';
import { API_KEY_SECRET } from '../../src/views/api-key';
import { Container, type ContainerOptions } from '../../src/views/container';
import { RISK_NOTICE_KEY } from '../../src/views/risk-notice';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { manifest, settingDefaults } from '../support/manifest';
import { freePort } from '../support/net';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
let tmp: string;

beforeEach(async () => {
  mock.reset();
  mock.setConfigDefaults(settingDefaults());
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-ext-'));
  cleanups.push(() => rm(tmp, { recursive: true, force: true }));
});

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function until<T>(read: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

interface Window {
  context: MockExtensionContext;
  container: Container;
  port: number;
}

async function openWindow(
  options: { port?: number; acceptRisk?: boolean; autoStart?: boolean; upstream?: FakeUpstream; container?: ContainerOptions } = {},
): Promise<Window> {
  const port = options.port ?? (await freePort());
  mock.setConfig('kiroBridge.port', port);
  mock.setConfig('kiroBridge.autoStart', options.autoStart ?? false);
  if (options.upstream) mock.setConfig('kiroBridge.advanced.upstreamBase', options.upstream.baseUrl);
  const context = mock.extensionContext();
  if (options.acceptRisk) await context.globalState.update(RISK_NOTICE_KEY, 1);
  const container = new Container(context as never, {
    env: {},
    followPollMs: 100,
    kiroCacheDir: path.join(tmp, 'sso-cache'),
    claudeSettingsFile: () => path.join(tmp, 'claude', 'settings.json'),
    ...options.container,
  });
  container.activate();
  cleanups.push(() => container.shutdown());
  await container.services.accounts();
  return { context, container, port };
}

async function health(port: number): Promise<Record<string, unknown> | undefined> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The status bar text of the newest window. */
function statusText(): string {
  return mock.statusBarItems.filter((i) => !i.disposed).at(-1)!.text;
}

/** The status bar tooltip (markdown) of the newest window. */
function statusTooltip(): string {
  const tooltip = mock.statusBarItems.filter((i) => !i.disposed).at(-1)!.tooltip;
  return typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? '');
}

describe('activation', () => {
  it('registers every command the manifest declares, one status bar item, and the context keys', async () => {
    const context = mock.extensionContext();
    mock.setConfig('kiroBridge.autoStart', false);
    activate(context as never);
    cleanups.push(() => deactivate());
    const declared = manifest.contributes.commands.map((c) => c.command).sort();
    expect(mock.commands.sort()).toEqual(declared);
    expect(mock.statusBarItems).toHaveLength(1);
    expect(mock.statusBarItems[0]!.visible).toBe(true);
    expect(mock.context('kiroBridge.running')).toBe(false);
    expect(mock.context('kiroBridge.state')).toBe('stopped');
    expect(mock.outputChannels.map((c) => c.name)).toEqual(['Kiro Bridge']);
    expect(mock.webviewViewProviders.has('kiroBridge.traffic')).toBe(true);
    // Nothing was asked of the user just for opening a window.
    expect(mock.prompts).toEqual([]);
  });

  it('deactivate stops the bridge, frees the port and unregisters everything', async () => {
    const port = await freePort();
    mock.setConfig('kiroBridge.port', port);
    mock.setConfig('kiroBridge.autoStart', true);
    const context = mock.extensionContext();
    await context.globalState.update(RISK_NOTICE_KEY, 1);
    activate(context as never);
    await until(async () => (await health(port)) !== undefined, 'the auto-started bridge');
    await until(() => mock.context('kiroBridge.running') === true, 'the running context key');
    await deactivate();
    expect(await health(port)).toBeUndefined();
    expect(mock.commands).toEqual([]);
    expect(mock.statusBarItems[0]!.disposed).toBe(true);
  });
});

describe('Start and the risk notice', () => {
  it('the first Start explains the risk in a modal; declining leaves the bridge stopped', async () => {
    const win = await openWindow();
    await mock.run('kiroBridge.start');
    const notice = mock.promptsOf('warning')[0]!;
    expect(notice.options).toMatchObject({ modal: true });
    expect(notice.options.detail).toMatch(/terms are reported to disallow third-party clients/);
    expect(notice.options.detail).toMatch(/suspended/);
    expect(await health(win.port)).toBeUndefined();
    expect(win.context.globalState.get(RISK_NOTICE_KEY)).toBeUndefined();
  });

  it('"Read Kiro\'s Terms" opens the terms and asks again; accepting starts the bridge and is remembered', async () => {
    const win = await openWindow();
    mock.click('warning', /Read Kiro/);
    mock.click('warning', /I Understand/);
    await mock.run('kiroBridge.start');
    expect(mock.openedExternal).toEqual(['https://kiro.dev/license/']);
    expect(await health(win.port)).toMatchObject({ service: 'kiro-bridge' });
    expect(mock.context('kiroBridge.running')).toBe(true);
    expect(mock.context('kiroBridge.state')).toBe('running');
    // No account yet: the start says so and offers Sign In.
    expect(mock.promptsOf('warning').at(-1)!.message).toContain('has no Kiro account yet');

    await mock.run('kiroBridge.stop');
    expect(await health(win.port)).toBeUndefined();
    expect(mock.context('kiroBridge.running')).toBe(false);
    const noticesBefore = mock.promptsOf('warning').filter((p) => p.options?.modal).length;
    await mock.run('kiroBridge.start');
    expect(mock.promptsOf('warning').filter((p) => p.options?.modal).length).toBe(noticesBefore);
    expect(await health(win.port)).toMatchObject({ service: 'kiro-bridge' });
  });

  it('auto-start waits until the user has started the bridge once', async () => {
    const first = await openWindow({ autoStart: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(await health(first.port)).toBeUndefined();
    expect(mock.prompts).toEqual([]);
    await first.container.shutdown();

    const second = await openWindow({ autoStart: true, acceptRisk: true });
    await until(async () => (await health(second.port)) !== undefined, 'auto-start');
    await until(() => statusText().includes(`Kiro :${second.port}`), 'the status bar');
  });

  it('warns when the host is not loopback', async () => {
    mock.setConfig('kiroBridge.host', '0.0.0.0');
    await openWindow({ acceptRisk: true });
    await mock.run('kiroBridge.start');
    expect(mock.promptsOf('warning').some((p) => /other machines on the network/.test(p.message))).toBe(true);
  });
});

describe('multi-window', () => {
  it('follows a bridge another window serves on the port, says so, and takes over when it stops', async () => {
    const port = await freePort();
    const other = createBridge(bridgeConfig({ apiKey: 'kb-other-window-0123456789', port, host: '127.0.0.1' }), {
      accounts: new SingleAccountProvider(undefined),
    });
    await other.start();
    cleanups.push(() => other.stop());

    await openWindow({ port, acceptRisk: true });
    await mock.run('kiroBridge.start');
    expect(mock.promptsOf('info').at(-1)!.message).toContain('already served by Kiro Bridge in another window');
    await until(() => statusText().startsWith(`$(link) Kiro :${port}`), 'the follower status');
    expect(mock.context('kiroBridge.running')).toBe(true);
    expect(mock.context('kiroBridge.state')).toBe('following');

    await other.stop();
    await until(() => mock.context('kiroBridge.state') === 'running', 'the take-over');
    expect(await health(port)).toMatchObject({ service: 'kiro-bridge', pid: process.pid });
    await until(() => statusText().startsWith(`$(radio-tower) Kiro :${port}`), 'the running status');
  });

  it('a foreign program on the port gets an error with "Change Port", which moves and starts the bridge', async () => {
    const foreign = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello'));
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((r) => foreign.close(r)));
    const taken = (foreign.address() as AddressInfo).port;
    const next = await freePort();
    await openWindow({ port: taken, acceptRisk: true });
    mock.click('error', 'Change Port');
    mock.answer('inputBox', String(next));
    await mock.run('kiroBridge.start');
    const error = mock.promptsOf('error')[0]!;
    expect(error.message).toContain(`cannot use port ${taken}`);
    expect(error.items).toEqual(['Change Port', 'Retry']);
    expect(mock.configUpdates).toContainEqual({ key: 'kiroBridge.port', value: next, target: 1 });
    expect(await health(next)).toMatchObject({ service: 'kiro-bridge' });
    expect(mock.context('kiroBridge.state')).toBe('running');
  });
});

describe('the API key', () => {
  it('Copy API Key copies the stored key without showing it; Copy Base URL copies the URL', async () => {
    const win = await openWindow({ acceptRisk: true });
    await mock.run('kiroBridge.copyApiKey');
    const key = mock.clipboard;
    expect(key).toMatch(/^kb-[A-Za-z0-9_-]{40,}$/);
    expect(await win.context.secrets.get(API_KEY_SECRET)).toBe(key);
    expect(mock.prompts.map((p) => p.message).join('\n')).not.toContain(key);
    await mock.run('kiroBridge.copyBaseUrl');
    expect(mock.clipboard).toBe(`http://127.0.0.1:${win.port}`);
  });

  it('Regenerate asks first, then the running bridge accepts only the new key', async () => {
    const win = await openWindow({ acceptRisk: true });
    await mock.run('kiroBridge.start');
    await mock.run('kiroBridge.copyApiKey');
    const oldKey = mock.clipboard;
    const models = (key: string) => fetch(`http://127.0.0.1:${win.port}/v1/models`, { headers: { 'x-api-key': key } }).then((r) => r.status);
    expect(await models(oldKey)).toBe(200);

    await mock.run('kiroBridge.regenerateApiKey');
    expect(await win.context.secrets.get(API_KEY_SECRET)).toBe(oldKey);
    mock.click('warning', 'Regenerate');
    await mock.run('kiroBridge.regenerateApiKey');
    const newKey = (await win.context.secrets.get(API_KEY_SECRET))!;
    expect(newKey).not.toBe(oldKey);
    expect(await models(newKey)).toBe(200);
    expect(await models(oldKey)).toBe(401);
  });

  it("a key another window regenerated reaches this window's running bridge", async () => {
    const win = await openWindow({ acceptRisk: true });
    await mock.run('kiroBridge.start');
    win.context.secrets.changeFromOtherWindow(API_KEY_SECRET, 'kb-from-another-window-0123456789');
    await until(
      async () => (await fetch(`http://127.0.0.1:${win.port}/v1/models`, { headers: { 'x-api-key': 'kb-from-another-window-0123456789' } })).status === 200,
      'the new key',
    );
  });

  it('the log channel never shows the key', async () => {
    const win = await openWindow({ acceptRisk: true });
    const key = await win.container.apiKey.get();
    win.container.logger.info(`a careless line with ${key} in it`);
    const channel = mock.outputChannels[0]!;
    expect(channel.text).toContain('a careless line with [REDACTED] in it');
    expect(channel.text).not.toContain(key);
  });
});

describe('accounts', () => {
  let upstream: FakeUpstream;
  beforeEach(async () => {
    upstream = await startFakeUpstream();
    cleanups.push(() => upstream.close());
  });

  it('Add Account validates a pasted Social token with a real refresh, saves it, and the status bar shows its credits', async () => {
    const win = await openWindow({ upstream, acceptRisk: true });
    mock.pick('Social');
    mock.answer('inputBox', upstream.account.refreshToken);
    await mock.run('kiroBridge.addAccount');
    const token = mock.promptsOf('inputBox')[0]!;
    expect(token.options).toMatchObject({ password: true, ignoreFocusOut: true });
    expect(mock.promptsOf('error')).toEqual([]);
    expect(mock.promptsOf('info').at(-1)!.message).toMatch(/^Added .+ credits left/);
    expect(upstream.refreshCount()).toBeGreaterThanOrEqual(1);
    const accounts = (await win.container.services.accounts()).list();
    expect(accounts).toHaveLength(1);
    await until(() => statusText().includes('$(credit-card)'), 'credits in the status bar');
    // The refresh token never reached the log or a message.
    const everything = [mock.outputChannels[0]!.text, ...mock.prompts.map((p) => p.message)].join('\n');
    expect(everything).not.toContain(upstream.account.refreshToken);
  });

  it('a token Kiro rejects is reported and not saved', async () => {
    const win = await openWindow({ upstream, acceptRisk: true });
    const revoked = upstream.account.refreshToken;
    upstream.account.revokeRefreshToken();
    mock.pick('Social');
    mock.answer('inputBox', revoked);
    await mock.run('kiroBridge.addAccount');
    const error = mock.promptsOf('error')[0]!;
    expect(error.message).toMatch(/^Kiro did not accept this account: /);
    expect(error.items).toEqual(['Try Again']);
    expect((await win.container.services.accounts()).list()).toEqual([]);
  });

  it('an IdC account asks for the client id, secret and region', async () => {
    const idc = upstream.addAccount({ kind: 'idc' });
    const win = await openWindow({ upstream, acceptRisk: true });
    mock.pick('IdC');
    const credential = idc.credential() as unknown as Record<string, string>;
    mock.answer('inputBox', idc.refreshToken, credential.clientId, credential.clientSecret, 'us-east-1');
    await mock.run('kiroBridge.addAccount');
    expect(mock.promptsOf('inputBox').map((p) => p.message)).toEqual(['Add Kiro Account (2/2)', 'IdC client id', 'IdC client secret', 'IdC region']);
    expect(mock.promptsOf('inputBox')[2]!.options.password).toBe(true);
    expect(mock.promptsOf('error')).toEqual([]);
    expect((await win.container.services.accounts()).list()[0]).toMatchObject({ kind: 'IdC' });
  });

  it('Sign In imports the Kiro IDE login when the file is there', async () => {
    const dir = path.join(tmp, 'sso-cache');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    await writeFile(path.join(dir, 'kiro-auth-token.json'), JSON.stringify(upstream.account.kiroIdeTokenFile()));
    const win = await openWindow({ upstream, acceptRisk: true });
    mock.pick('Import Kiro IDE Login');
    await mock.run('kiroBridge.signIn');
    const pick = mock.promptsOf('quickPick')[0]!;
    expect(pick.items[0].label).toContain('Import Kiro IDE Login');
    expect(mock.promptsOf('info').at(-1)!.message).toMatch(/^Imported .+ from the Kiro IDE/);
    expect((await win.container.services.accounts()).list()[0]).toMatchObject({ source: 'kiro-ide' });
  });

  it('Sign In without the IDE file offers signing in first, then pasting, and says why (remote windows)', async () => {
    mock.setRemoteName('ssh-remote');
    await openWindow({ upstream, acceptRisk: true });
    await mock.run('kiroBridge.signIn');
    const pick = mock.promptsOf('quickPick')[0]!;
    expect(pick.items[0].label).toContain('Sign In with AWS Builder ID');
    const labels = pick.items.map((i: { label: string }) => i.label);
    const paste = labels.findIndex((l: string) => l.includes('Paste a Refresh Token'));
    expect(labels[paste + 1]).toContain('Add Kiro API Key…');
    const importItem = pick.items.find((i: { label: string }) => i.label.includes('Import Kiro IDE Login'));
    expect(importItem.detail).toContain('"ssh-remote"');
    expect(labels.indexOf(importItem.label)).toBeGreaterThan(paste);
  });

  it('Sign In → Add Kiro API Key checks the key with Kiro, keeps it in SecretStorage only, and the tooltip says it is a key', async () => {
    const keyed = upstream.addAccount({ kind: 'apikey', usage: { email: 'ci@example.com' } });
    const key = keyed.apiKey!;
    const win = await openWindow({ upstream, acceptRisk: true });
    mock.pick('Add Kiro API Key');
    mock.answer('inputBox', key);
    await mock.run('kiroBridge.signIn');
    const box = mock.promptsOf('inputBox')[0]!;
    expect(box.options).toMatchObject({ password: true, ignoreFocusOut: true });
    expect(box.options.validateInput('aor-not-a-key-0000000000')).toBe('A Kiro API key starts with "ksk_".');
    expect(box.options.validateInput(key)).toBeUndefined();
    expect(mock.promptsOf('error')).toEqual([]);
    expect(mock.promptsOf('info').at(-1)!.message).toBe('Added ci@example.com (50 of 50 credits left).');
    const [account] = (await win.container.services.accounts()).list();
    expect(account).toMatchObject({ kind: 'ApiKey', label: 'ci@example.com', state: 'ready' });
    // Checked with the key itself: a usage call with tokentype API_KEY, and no refresh at all.
    expect(upstream.requestsTo('usageLimits')[0]!.headers).toMatchObject({ authorization: `Bearer ${key}`, tokentype: 'API_KEY' });
    expect(upstream.refreshCount()).toBe(0);
    const stored = [...win.context.secrets.values.entries()].filter(([k]) => k.startsWith('kiro-bridge/account/'));
    expect(stored).toHaveLength(1);
    expect(JSON.parse(stored[0]![1])).toMatchObject({ kind: 'ApiKey', apiKey: key });
    await until(() => statusTooltip().includes('API key'), 'the key marked in the tooltip');
    // Never in a setting, the log, a message or the tooltip.
    const everything = [mock.outputChannels[0]!.text, ...mock.prompts.map((p) => p.message), statusTooltip(), JSON.stringify(mock.configUpdates)].join('\n');
    expect(everything).not.toContain(key);
  });

  it("KIRO_API_KEY in the editor's environment adds the key as the CLI does, unsaved; a malformed one is a log line, not a crash", async () => {
    const keyed = upstream.addAccount({ kind: 'apikey', usage: { email: 'env@example.com' } });
    const win = await openWindow({ upstream, acceptRisk: true, container: { env: { KIRO_API_KEY: keyed.apiKey! } } });
    expect((await win.container.services.accounts()).list()).toMatchObject([{ kind: 'ApiKey', source: 'env', id: 'env-api-key' }]);
    expect([...win.context.secrets.values.keys()].filter((k) => k.startsWith('kiro-bridge/account/'))).toEqual([]);
    await win.container.shutdown();
    const other = await openWindow({ upstream, acceptRisk: true, container: { env: { KIRO_API_KEY: 'ksk_x' } } });
    expect((await other.container.services.accounts()).list()).toEqual([]);
    const log = mock.outputChannels.map((c) => c.text).join('\n');
    expect(log).toContain('KIRO_API_KEY is set but could not be used');
    expect(log).not.toContain(keyed.apiKey!);
  });

  it('a Kiro API key Kiro refuses is reported and not saved; a malformed one never reaches Kiro', async () => {
    const win = await openWindow({ upstream, acceptRisk: true });
    mock.answer('inputBox', 'ksk_keyKiroNeverIssued000000000');
    await mock.run('kiroBridge.addApiKey');
    const error = mock.promptsOf('error')[0]!;
    expect(error.message).toMatch(/^Kiro did not accept this API key: Kiro rejected this API key/);
    expect(error.items).toEqual(['Try Again']);
    expect((await win.container.services.accounts()).list()).toEqual([]);
    expect(upstream.requestsTo('usageLimits').map((r) => r.refusal)).toEqual(['unknown API key']);
  });

  it('Remove Account asks in a modal, then removes it from secret storage', async () => {
    const win = await openWindow({ upstream, acceptRisk: true });
    const accounts = await win.container.services.accounts();
    await accounts.add({ kind: 'Social', refreshToken: upstream.account.refreshToken });
    mock.answer('quickPick', (p: { items: unknown[] }) => p.items[0]);
    mock.click('warning', 'Remove');
    await mock.run('kiroBridge.removeAccount');
    expect(mock.promptsOf('warning')[0]!.options).toMatchObject({ modal: true });
    expect(accounts.list()).toEqual([]);
    expect([...win.context.secrets.values.keys()].filter((k) => k.startsWith('kiro-bridge/account/'))).toEqual([]);
  });

  it('a request through the started bridge is served by the account and counted in the status bar', async () => {
    const win = await openWindow({ upstream, acceptRisk: true });
    await (await win.container.services.accounts()).add({ kind: 'Social', refreshToken: upstream.account.refreshToken });
    await mock.run('kiroBridge.start');
    const key = await win.container.apiKey.get();
    const response = await fetch(`http://127.0.0.1:${win.port}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(200);
    await until(() => /\$\(arrow-swap\) 1\b/.test(statusText()), 'the request count');
    expect(win.container.trafficStore.size).toBe(1);
  });
});

describe('Configure Client…', () => {
  let upstream: FakeUpstream;
  beforeEach(async () => {
    upstream = await startFakeUpstream();
    cleanups.push(() => upstream.close());
  });

  it('Claude Code: shows and copies the settings, writes them after a modal confirmation, then a test request succeeds', async () => {
    const win = await openWindow({ upstream, acceptRisk: true });
    await (await win.container.services.accounts()).add({ kind: 'Social', refreshToken: upstream.account.refreshToken });
    await mock.run('kiroBridge.start');
    const key = await win.container.apiKey.get();
    const file = path.join(tmp, 'claude', 'settings.json');
    await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(file), { recursive: true }));
    await writeFile(file, JSON.stringify({ model: 'opus', env: { ANTHROPIC_API_KEY: 'sk-ant-old-0123456789abcdef' } }));

    mock.pick('Claude Code');
    mock.click('info', /^Write to /);
    mock.click('warning', 'Write Settings');
    mock.click('info', 'Send Test Request');
    await mock.run('kiroBridge.configureClient');

    const document = mock.documents.at(-1)!;
    expect(document.uri).toMatch(/^kiro-bridge-setup:/);
    expect(document.text).toContain(`"ANTHROPIC_BASE_URL": "http://127.0.0.1:${win.port}"`);
    expect(document.text).toContain(key);
    expect(JSON.parse(mock.clipboard)).toMatchObject({ env: { ANTHROPIC_AUTH_TOKEN: key } });
    expect(mock.promptsOf('warning').at(-1)!.options).toMatchObject({ modal: true });

    const written = JSON.parse(await readFile(file, 'utf8'));
    expect(written.model).toBe('opus');
    expect(written.env.ANTHROPIC_AUTH_TOKEN).toBe(key);
    expect(written.env.ANTHROPIC_API_KEY).toBeUndefined();

    await until(() => mock.promptsOf('info').some((p) => p.message.startsWith('Test request OK')), 'the test request result');
    expect(upstream.requests.some((r) => r.endpoint === 'generate' && r.status === 200)).toBe(true);
  });

  it('a test request with the bridge stopped offers to start it; a failing one says why', async () => {
    await openWindow({ upstream, acceptRisk: true });
    mock.pick('Codex');
    mock.click('info', 'Send Test Request');
    mock.click('warning', 'Start');
    await mock.run('kiroBridge.configureClient');
    expect(mock.documents.at(-1)!.text).toContain('wire_api = "responses"');
    expect(mock.documents.at(-1)!.text).toContain('The bridge is not running yet');
    // Started, but there is no account: the request fails and the message says so.
    const failure = await until(() => mock.promptsOf('error').find((p) => p.message.startsWith('Test request failed')), 'the failure');
    expect(failure.message).toMatch(/no Kiro account/);
    expect(failure.items).toEqual(['Show Traffic', 'Show Logs']);
  });
});

describe('the status bar menu', () => {
  it('offers Start while stopped and Stop / Restart while running, and runs the pick', async () => {
    const win = await openWindow({ acceptRisk: true });
    mock.pick('Start');
    await mock.run('kiroBridge.showMenu');
    const stoppedMenu = mock.promptsOf('quickPick')[0]!.items.map((i: { label: string }) => i.label);
    expect(stoppedMenu[0]).toBe('$(play) Start');
    expect(stoppedMenu).not.toContain('$(debug-stop) Stop');
    expect(await health(win.port)).toMatchObject({ service: 'kiro-bridge' });

    mock.pick('Stop');
    await mock.run('kiroBridge.showMenu');
    const runningMenu = mock.promptsOf('quickPick')[1]!.items.map((i: { label: string }) => i.label);
    expect(runningMenu.slice(0, 2)).toEqual(['$(debug-stop) Stop', '$(debug-restart) Restart']);
    expect(await health(win.port)).toBeUndefined();
  });

  it('Manage Accounts disables and enables an account', async () => {
    const upstream = await startFakeUpstream();
    cleanups.push(() => upstream.close());
    const win = await openWindow({ upstream, acceptRisk: true });
    const accounts = await win.container.services.accounts();
    await accounts.add({ kind: 'Social', refreshToken: upstream.account.refreshToken });
    mock.pick('Manage Accounts');
    mock.answer('quickPick', (p: { items: unknown[] }) => p.items[0]);
    mock.pick('Disable');
    await mock.run('kiroBridge.showMenu');
    expect(accounts.list()[0]!.state).toBe('disabled');
    await until(() => statusText().includes('$(warning)'), 'the no-usable-account warning');
  });
});

describe('settings changes', () => {
  it('a new region asks for a window reload', async () => {
    await openWindow({ acceptRisk: true });
    mock.click('info', 'Reload Window');
    mock.setConfig('kiroBridge.region', 'eu-central-1');
    await until(() => mock.executed.some((e) => e.command === 'workbench.action.reloadWindow'), 'the reload');
  });

  it('a new port while running offers a restart, and "Restart Now" moves the bridge', async () => {
    const win = await openWindow({ acceptRisk: true });
    await mock.run('kiroBridge.start');
    const next = await freePort();
    mock.click('info', 'Restart Now');
    mock.setConfig('kiroBridge.port', next);
    await until(async () => (await health(next)) !== undefined, 'the restart on the new port');
    expect(await health(win.port)).toBeUndefined();
    expect(mock.promptsOf('info').some((p) => p.message.includes(`port ${next}`))).toBe(true);
  });

  it('a live setting reaches the running bridge without a restart', async () => {
    const win = await openWindow({ acceptRisk: true });
    await mock.run('kiroBridge.start');
    const key = await win.container.apiKey.get();
    const origin = 'http://localhost:3000';
    const call = () => fetch(`http://127.0.0.1:${win.port}/v1/models`, { headers: { 'x-api-key': key, origin } }).then((r) => r.status);
    expect(await call()).toBe(403);
    mock.setConfig('kiroBridge.allowedOrigins', [origin]);
    expect(await call()).toBe(200);
    expect(mock.promptsOf('info').filter((p) => p.message.includes('restart'))).toEqual([]);
  });
});
