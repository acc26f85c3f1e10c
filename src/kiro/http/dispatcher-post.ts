// A JSON POST over one account's own connection pool (and so through its proxy, if any), in the
// shape the sign-in helpers take (`ProfilesPost`): the bridge looks an account's profile up with
// the same code a sign-in uses, without sharing a connection between accounts.
import { request, type Dispatcher } from 'undici';
import type { ProfilesPost } from '../signin/profiles';
import { readJsonLimited } from './read-limited';

const MAX_BODY = 256 * 1024;
const DEFAULT_TIMEOUT_MS = 20_000;

export function dispatcherPost(dispatcher: Dispatcher): ProfilesPost {
  return async (url, body, options) => {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const response = await request(url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(body),
      dispatcher,
      signal,
    });
    const parsed = await readJsonLimited(response.body, MAX_BODY);
    return { status: response.statusCode, body: parsed, headers: response.headers as Record<string, string | string[] | undefined> };
  };
}
