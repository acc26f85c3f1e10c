// Token refresh (docs/kiro-protocol.md#auth-kinds): Social `POST /refreshToken` and SSO-OIDC
// `POST /token`. `/token` dispatches on `grantType` through `upstream.grants`: `refresh_token`
// here, the sign-in grants (device_code, authorization_code) in signin.ts.
import type { FakeAccount } from './accounts';
import { oidcError, socialRefreshRejected } from './bodies';
import { sleep, untilAborted } from './delivery';
import type { RouteCall, RouteKit } from './server';
import type { HttpReply } from './types';

/** Waits out an account's refresh delay and any held gate (cut short if the client leaves). */
async function refreshPause(account: FakeAccount, signal: AbortSignal): Promise<void> {
  if (account.refreshDelayMs > 0) await sleep(account.refreshDelayMs, signal);
  await Promise.race([account.refreshMayProceed(), untilAborted(signal)]);
}

export async function socialRefreshRoute(call: RouteCall, kit: RouteKit): Promise<void> {
  const { record } = call;
  const presented = (record.body as { refreshToken?: unknown } | undefined)?.refreshToken;
  if (typeof presented !== 'string' || presented === '') {
    return kit.refuse(call, { status: 400, body: { message: 'refreshToken is required' } }, 'no refreshToken in body');
  }
  const account = kit.upstream.accounts.find((a) => a.kind === 'social' && a.refreshToken === presented);
  if (!account) return kit.refuse(call, socialRefreshRejected(), 'unknown or revoked refresh token');
  record.account = account;
  await refreshPause(account, call.signal);
  if (call.signal.aborted) return;
  const failure = account.refreshFailures.shift();
  if (failure) return kit.refuse(call, failure, 'scripted refresh failure');
  const issued = account.refresh();
  kit.reply(call, {
    status: 200,
    body: {
      accessToken: issued.accessToken,
      expiresIn: account.accessTokenTtlSeconds,
      ...(account.profileArn ? { profileArn: account.profileArn } : {}),
      ...(issued.refreshToken ? { refreshToken: issued.refreshToken } : {}),
    },
  });
}

export async function oidcTokenRoute(call: RouteCall, kit: RouteKit): Promise<void> {
  const body = call.record.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return kit.refuse(call, oidcError('invalid_request', 'The request body must be JSON.'), 'body is not JSON');
  }
  const fields = body as Record<string, unknown>;
  const grant = kit.upstream.grants.get(String(fields.grantType ?? ''));
  if (!grant) {
    return kit.refuse(call, oidcError('unsupported_grant_type', `Unsupported grant type: ${String(fields.grantType)}`), 'unsupported grant');
  }
  const reply = await grant(call, fields, kit);
  if (call.signal.aborted) return;
  if (reply.status === 200) kit.reply(call, reply);
  else kit.refuse(call, reply, String((reply.body as { error?: unknown } | undefined)?.error ?? `HTTP ${reply.status}`));
}

/** The SSO-OIDC `refresh_token` grant: client id and secret, then the refresh token. */
export async function refreshTokenGrant(call: RouteCall, body: Record<string, unknown>, kit: RouteKit): Promise<HttpReply> {
  // Several accounts can share one client registration (each sign-in reuses the cached client):
  // the refresh token picks the account, the client id alone only when no token matches.
  const idc = kit.upstream.accounts.filter((a) => a.kind === 'idc' && a.clientId === body.clientId);
  const account = idc.find((a) => a.refreshToken === body.refreshToken) ?? idc[0];
  if (!account) return oidcError('invalid_client', 'Invalid client provided');
  call.record.account = account;
  if (body.clientSecret !== account.clientSecret) return oidcError('invalid_client', 'Invalid client provided');
  if (body.refreshToken !== account.refreshToken) return oidcError('invalid_grant', 'Invalid refresh token provided');
  await refreshPause(account, call.signal);
  // The client left during the pause: issue nothing (the route sends nothing either).
  if (call.signal.aborted) return { status: 499 };
  const failure = account.refreshFailures.shift();
  if (failure) return failure;
  const issued = account.refresh();
  return {
    status: 200,
    body: {
      accessToken: issued.accessToken,
      expiresIn: account.accessTokenTtlSeconds,
      tokenType: 'Bearer',
      ...(issued.refreshToken ? { refreshToken: issued.refreshToken } : {}),
    },
  };
}
