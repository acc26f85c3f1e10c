// Host and URL helpers shared by the controller, the status bar and the client snippets.

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^127(\.\d{1,3}){3}$/.test(h)) return true;
  return /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/** The URL clients should use for a bridge bound to `host`:`port` (wildcard binds → loopback). */
export function clientBaseUrl(host: string, port: number): string {
  const h = host.trim().replace(/^\[|\]$/g, '');
  const shown = h === '0.0.0.0' || h === '::' || h === '' ? '127.0.0.1' : h;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}
