// Proxy settings, without the agents (kiro/http/proxy builds those): what the environment or VS Code
// asks for, checked, and shown without credentials. No undici import, so the extension can read
// its settings at activation without loading the HTTP client.
export interface ProxySettings {
  /** Proxy for http:// targets. */
  httpProxy?: string;
  /** Proxy for https:// targets (all real Kiro hosts). */
  httpsProxy?: string;
  /** Hosts that go direct: comma- or space-separated names, `.suffix`, `host:port`, `*`. */
  noProxy?: string;
  /** Verify TLS certificates of Kiro and of the proxy. Default true. */
  strictSSL?: boolean;
}

export interface ConnectionOptions {
  keepAliveTimeout?: number;
  connections?: number;
  headersTimeout?: number;
  bodyTimeout?: number;
}

function first(env: NodeJS.ProcessEnv, names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/** The proxy the environment asks for (lower-case names win, as curl does), if any. */
export function proxyFromEnvironment(env: NodeJS.ProcessEnv = process.env): ProxySettings | undefined {
  const httpProxy = first(env, ['http_proxy', 'HTTP_PROXY']);
  const httpsProxy = first(env, ['https_proxy', 'HTTPS_PROXY']) ?? httpProxy;
  if (!httpProxy && !httpsProxy) return undefined;
  return { httpProxy, httpsProxy, noProxy: first(env, ['no_proxy', 'NO_PROXY']) };
}

/** One proxy URL for everything (VS Code's `http.proxy`), or none when it is empty. */
export function proxyFromUrl(url: string | undefined, options: { noProxy?: string | string[]; strictSSL?: boolean } = {}): ProxySettings | undefined {
  const value = url?.trim();
  if (!value) return undefined;
  const noProxy = Array.isArray(options.noProxy) ? options.noProxy.join(',') : options.noProxy;
  return { httpProxy: value, httpsProxy: value, noProxy, strictSSL: options.strictSSL };
}

export class ProxyConfigError extends Error {
  override readonly name = 'ProxyConfigError';
}

/** Checks a proxy URL; the error never repeats credentials the URL may carry. */
export function validateProxyUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProxyConfigError('the proxy setting is not a URL (expected e.g. http://proxy.example.com:8080)');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ProxyConfigError(`proxy protocol ${parsed.protocol} is not supported (use http:// or https://)`);
  }
}

/** The proxy URL fit for logs: `http://proxy:8080` with any user and password removed. */
export function describeProxy(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(invalid proxy URL)';
  }
}

/** The secret parts of a proxy URL (its password, and the Basic credential built from it). */
export function proxySecrets(settings: ProxySettings | undefined): string[] {
  const out: string[] = [];
  for (const url of [settings?.httpProxy, settings?.httpsProxy]) {
    if (!url) continue;
    try {
      const parsed = new URL(url);
      if (parsed.password) {
        out.push(decodeURIComponent(parsed.password));
        out.push(Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64'));
      }
    } catch {
      // validateProxyUrl reports it.
    }
  }
  return out;
}
