// Outbound proxy: settings from the environment and from VS Code's http.proxy, and real calls to
// the fake upstream through a real proxy server (with credentials, and NO_PROXY bypass).
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher, describeProxy, proxyFromEnvironment, proxyFromUrl, proxySecrets, ProxyConfigError } from '../../src/kiro/http/proxy';
import { startConnectProxy, type TestProxy } from '../support/connect-proxy';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';
import { MemorySecretStore } from '../../src/common/secret-store';
import { Redactor } from '../../src/common/redact';
import { KiroAccountsService } from '../../src/kiro/accounts/accounts-service';
import { vscodeProxySettings } from '../../src/views/proxy-settings';
import { mock } from '../support/vscode-mock';

let upstream: FakeUpstream | undefined;
let proxy: TestProxy | undefined;
const dispatchers: { destroy(): Promise<void> }[] = [];

afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.destroy();
  await proxy?.close();
  await upstream?.close();
  proxy = undefined;
  upstream = undefined;
});

describe('proxy settings', () => {
  it('reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY, lower case first', () => {
    expect(proxyFromEnvironment({})).toBeUndefined();
    expect(proxyFromEnvironment({ HTTPS_PROXY: 'http://p:1', NO_PROXY: 'localhost' })).toEqual({
      httpProxy: undefined,
      httpsProxy: 'http://p:1',
      noProxy: 'localhost',
    });
    expect(proxyFromEnvironment({ HTTP_PROXY: 'http://a:1', http_proxy: 'http://b:2' })).toEqual({
      httpProxy: 'http://b:2',
      httpsProxy: 'http://b:2',
      noProxy: undefined,
    });
  });

  it('takes one URL for everything from VS Code', () => {
    expect(proxyFromUrl('')).toBeUndefined();
    expect(proxyFromUrl('http://proxy:3128', { noProxy: ['a.com', 'b.com'], strictSSL: false })).toEqual({
      httpProxy: 'http://proxy:3128',
      httpsProxy: 'http://proxy:3128',
      noProxy: 'a.com,b.com',
      strictSSL: false,
    });
  });

  it('never shows proxy credentials, and knows them as secrets', () => {
    expect(describeProxy('http://user:s3cret-pass@proxy:3128/')).toBe('http://proxy:3128');
    expect(proxySecrets({ httpsProxy: 'http://user:s3cret-pass@proxy:3128' })).toEqual(['s3cret-pass', Buffer.from('user:s3cret-pass').toString('base64')]);
    expect(() => createDispatcher({ httpsProxy: 'socks5://proxy:1080' }, {})).toThrow(ProxyConfigError);
    expect(() => createDispatcher({ httpsProxy: 'not a url' }, {})).toThrow(/not a URL/);
  });
});

describe('calls through a proxy', () => {
  it('reaches Kiro through the proxy, with its credentials', async () => {
    upstream = await startFakeUpstream();
    proxy = await startConnectProxy({ user: 'me', password: 'pw-123' });
    const withAuth = proxy.url.replace('http://', 'http://me:pw-123@');
    const dispatcher = createDispatcher({ httpProxy: withAuth, httpsProxy: withAuth }, { connections: 4 });
    dispatchers.push(dispatcher);
    const answer = await request(`${upstream.baseUrl}/refreshToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: upstream.account.refreshToken }),
      dispatcher,
    });
    expect(answer.statusCode).toBe(200);
    await answer.body.json();
    const host = new URL(upstream.baseUrl).host;
    expect(proxy.log.map((e) => e.target)).toContain(host);
    expect(proxy.log.every((e) => e.authorization === `Basic ${Buffer.from('me:pw-123').toString('base64')}`)).toBe(true);
    expect(upstream.refreshCount()).toBe(1);
  });

  it('goes direct for NO_PROXY hosts', async () => {
    upstream = await startFakeUpstream();
    proxy = await startConnectProxy();
    const dispatcher = createDispatcher({ httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: '127.0.0.1' }, {});
    dispatchers.push(dispatcher);
    const answer = await request(`${upstream.baseUrl}/refreshToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: upstream.account.refreshToken }),
      dispatcher,
    });
    expect(answer.statusCode).toBe(200);
    await answer.body.json();
    expect(proxy.log).toEqual([]);
  });
});

describe('accounts through a proxy', () => {
  it('every call of every account goes through the proxy, each account on its own tunnels', async () => {
    upstream = await startFakeUpstream({ accounts: [{ label: 'a' }, { label: 'b' }] });
    proxy = await startConnectProxy();
    const service = new KiroAccountsService({
      secrets: new MemorySecretStore(),
      redactor: new Redactor(),
      upstreamBase: upstream.baseUrl,
      proxy: { httpProxy: proxy.url, httpsProxy: proxy.url },
      watchKiroIde: false,
    });
    try {
      for (const fake of upstream.accounts) await service.add({ kind: 'Social', refreshToken: fake.refreshToken });
      // Each account's refresh and usage check went through the proxy, on a tunnel of its own.
      const tunnels = proxy.log.filter((e) => e.method === 'CONNECT');
      expect(tunnels.length).toBeGreaterThanOrEqual(2);
      expect(upstream.requestsTo('refreshToken')).toHaveLength(2);
      expect(new Set(service.pool.entries().map((e) => e.account.dispatcher)).size).toBe(2);
    } finally {
      service.dispose();
    }
  });
});

describe("VS Code's proxy settings", () => {
  it('uses http.proxy (with http.noProxy and http.proxyStrictSSL), else the environment the editor started with', () => {
    mock.reset();
    expect(vscodeProxySettings({})).toBeUndefined();
    expect(vscodeProxySettings({ HTTPS_PROXY: 'http://env-proxy:8080' })).toEqual({
      httpProxy: undefined,
      httpsProxy: 'http://env-proxy:8080',
      noProxy: undefined,
      strictSSL: true,
    });
    mock.setConfig('http.proxy', 'http://corp-proxy:3128');
    mock.setConfig('http.noProxy', ['internal.example.com']);
    mock.setConfig('http.proxyStrictSSL', false);
    expect(vscodeProxySettings({ HTTPS_PROXY: 'http://env-proxy:8080' })).toEqual({
      httpProxy: 'http://corp-proxy:3128',
      httpsProxy: 'http://corp-proxy:3128',
      noProxy: 'internal.example.com',
      strictSSL: false,
    });
    mock.reset();
  });
});
