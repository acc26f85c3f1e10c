// Runtime calls beside generate: getUsageLimits, awsJson1.0 calls on `/` by `x-amz-target`
// (ListAvailableModels, ListAvailableProfiles), and the MCP web_search tool
// (docs/kiro-protocol.md#other-calls).
import { httpOf, upstreamErrors } from './bodies';
import type { RouteCall, RouteKit } from './server';
import type { FakeAccount } from './accounts';
import { checkStreamingProfile, refusedProfile } from './profiles';
import type { HttpReply } from './types';
import { usageLimitsBody } from './usage';

const AMZ_JSON = 'application/x-amz-json-1.0';

export function usageLimitsRoute(call: RouteCall, kit: RouteKit): void {
  const account = kit.authorise(call);
  if (!account) return;
  if (refusedProfile(call, kit, account, call.record.query.profileArn)) return;
  // A suspended account still reads its balance (observed in 2026: getUsageLimits answers while
  // ListAvailableModels and generate answer 403), so suspension is not checked here.
  const scripted = account.usageReplies.shift();
  if (scripted) return kit.reply(call, scripted);
  kit.reply(call, { status: 200, body: usageLimitsBody(account, kit.upstream.now()) });
}

/** awsJson1.0 operations by `x-amz-target`. */
const TARGETS: Record<string, (account: FakeAccount, body: unknown, kit: RouteKit, call: RouteCall) => HttpReply | undefined> = {
  'AmazonCodeWhispererService.ListAvailableModels': (account, body, kit, call) => {
    if (refusedProfile(call, kit, account, (body as { profileArn?: unknown } | undefined)?.profileArn)) return undefined;
    return {
      status: 200,
      headers: { 'content-type': AMZ_JSON },
      body: { defaultModel: { modelId: account.defaultModel }, models: account.models },
    };
  },
  // `{maxResults?: 1..10, nextToken?}` → `{profiles: [{arn, profileName}], nextToken?}`.
  'AmazonCodeWhispererService.ListAvailableProfiles': (account, body, kit): HttpReply => {
    // What the Kiro IDE logs for a Builder ID login on both Q hosts.
    if (account.kind === 'idc' && account.idcType === 'builder-id') {
      return {
        status: 403,
        headers: { 'content-type': AMZ_JSON, 'x-amzn-errortype': 'AccessDeniedException' },
        body: { __type: 'com.amazon.aws.codewhisperer#AccessDeniedException', message: 'AWS Builder ID is not supported for this operation.' },
      };
    }
    const request = (body ?? {}) as { maxResults?: unknown; nextToken?: unknown };
    const max = request.maxResults ?? 10;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 10) {
      return {
        status: 400,
        headers: { 'content-type': AMZ_JSON, 'x-amzn-errortype': 'ValidationException' },
        body: { __type: 'com.amazon.aws.codewhisperer#ValidationException', message: 'maxResults must be between 1 and 10' },
      };
    }
    const all = kit.upstream.signIn.profilesFor(account);
    const start = typeof request.nextToken === 'string' ? Number(request.nextToken) || 0 : 0;
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? String(start + max) : undefined;
    return { status: 200, headers: { 'content-type': AMZ_JSON }, body: { profiles: page, ...(next ? { nextToken: next } : {}) } };
  },
};

export function targetRoute(call: RouteCall, kit: RouteKit): void {
  const target = call.record.target ?? '';
  const operation = TARGETS[target];
  if (!operation) {
    return kit.refuse(
      call,
      {
        status: 400,
        body: { __type: 'com.amazon.coral.service#UnknownOperationException', message: null },
        headers: { 'content-type': AMZ_JSON, 'x-amzn-errortype': 'UnknownOperationException' },
      },
      `unknown x-amz-target "${target}"`,
    );
  }
  const account = kit.authorise(call);
  if (!account) return;
  if (account.suspended) return kit.refuse(call, httpOf(upstreamErrors.suspended()), 'account suspended');
  const reply = operation(account, call.record.body, kit, call);
  if (reply) kit.reply(call, reply);
}

/** Results the MCP web_search tool returns. */
export interface WebSearchResult {
  title: string;
  url: string;
  snippet: string;
  /** Milliseconds since epoch. */
  publishedDate?: number;
}

export function mcpRoute(call: RouteCall, kit: RouteKit): void {
  const account = kit.authorise(call);
  if (!account) return;
  if (account.suspended) return kit.refuse(call, httpOf(upstreamErrors.suspended()), 'account suspended');
  // MCP carries the profile in a header; Kiro demands it as on generate.
  if (refusedProfile(call, kit, account, call.req.headers['x-amzn-kiro-profile-arn'], checkStreamingProfile)) return;
  const rpc = call.record.body as { id?: unknown; method?: unknown; params?: { name?: unknown; arguments?: { query?: unknown } } } | undefined;
  if (rpc?.method !== 'tools/call' || rpc.params?.name !== 'web_search' || typeof rpc.params.arguments?.query !== 'string') {
    return kit.refuse(
      call,
      { status: 200, body: { id: rpc?.id ?? null, jsonrpc: '2.0', error: { code: -32602, message: 'Invalid params' } } },
      'not a web_search tools/call',
    );
  }
  const scripted = kit.upstream.webSearchReplies.shift();
  if (scripted) return kit.reply(call, scripted);
  const query = rpc.params.arguments.query;
  const given = kit.upstream.webSearchResults ?? [
    { title: `${query} — overview`, url: `https://example.com/search/${encodeURIComponent(query)}`, snippet: `About ${query}.` },
  ];
  const results = given.map((r, i) => ({
    ...r,
    publishedDate: r.publishedDate ?? kit.upstream.now(),
    id: `result-${i + 1}`,
    domain: new URL(r.url).hostname,
  }));
  kit.reply(call, {
    status: 200,
    body: {
      id: rpc.id ?? null,
      jsonrpc: '2.0',
      result: { content: [{ type: 'text', text: JSON.stringify({ results, totalResults: results.length, query }) }], isError: false },
    },
  });
}
