// A test acting as the user's browser in a sign-in: open the authorize/login URL the client
// produced, follow the fake's redirect to the client's loopback callback (optionally tampering
// with it on the way), and report every hop. Plain fetch, redirects followed by hand.

export interface BrowserHop {
  url: string;
  status: number;
  location?: string;
  body: string;
}

export interface BrowserOptions {
  /** Change a redirect before it is followed (e.g. replace `state`). */
  rewrite?: (location: URL) => URL;
  /** Stop instead of following redirects to this host (e.g. to drop the callback). */
  stopAt?: (location: URL) => boolean;
  maxHops?: number;
}

/** Visits `url` and follows redirects; returns every hop, the last one being the final page. */
export async function actAsBrowser(url: string, options: BrowserOptions = {}): Promise<BrowserHop[]> {
  const hops: BrowserHop[] = [];
  let next: string | undefined = url;
  for (let i = 0; next && i < (options.maxHops ?? 5); i++) {
    const res: Response = await fetch(next, { redirect: 'manual' });
    const location = res.headers.get('location') ?? undefined;
    hops.push({ url: next, status: res.status, ...(location ? { location } : {}), body: await res.text() });
    if (res.status < 300 || res.status >= 400 || !location) break;
    let target: URL = new URL(location, next);
    if (options.stopAt?.(target)) break;
    if (options.rewrite) target = options.rewrite(target);
    next = target.toString();
  }
  return hops;
}

/** The last hop's page (what the user would see). */
export function finalPage(hops: readonly BrowserHop[]): BrowserHop {
  const last = hops.at(-1);
  if (!last) throw new Error('the browser visited nothing');
  return last;
}
