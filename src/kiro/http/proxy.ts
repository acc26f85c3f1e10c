// Outbound proxy for every Kiro call (generate, refresh, usage, models). The CLI honours
// HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case); the extension passes VS Code's `http.proxy`,
// `http.noProxy` and `http.proxyStrictSSL`. undici's EnvHttpProxyAgent does the work (CONNECT
// tunnels, NO_PROXY matching, credentials in the proxy URL). Each account gets its own instance,
// so proxied or not, no connection is ever shared between two accounts.
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { validateProxyUrl, type ConnectionOptions, type ProxySettings } from './proxy-settings';

export { describeProxy, proxyFromEnvironment, proxyFromUrl, proxySecrets, ProxyConfigError, validateProxyUrl } from './proxy-settings';
export type { ConnectionOptions, ProxySettings } from './proxy-settings';

/** A dispatcher (connection pool) for one account: direct, or through the proxy. */
export function createDispatcher(proxy: ProxySettings | undefined, connection: ConnectionOptions): Dispatcher {
  if (!proxy || (!proxy.httpProxy && !proxy.httpsProxy)) return new Agent(connection);
  for (const url of [proxy.httpProxy, proxy.httpsProxy]) if (url) validateProxyUrl(url);
  const insecure = proxy.strictSSL === false ? { requestTls: { rejectUnauthorized: false }, proxyTls: { rejectUnauthorized: false } } : {};
  // Empty strings, not undefined: undefined would make undici read the environment again.
  return new EnvHttpProxyAgent({
    ...connection,
    ...insecure,
    httpProxy: proxy.httpProxy ?? '',
    httpsProxy: proxy.httpsProxy ?? proxy.httpProxy ?? '',
    noProxy: proxy.noProxy ?? '',
  });
}
