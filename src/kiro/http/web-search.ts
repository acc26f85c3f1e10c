// Kiro's web search: the `web_search` tool of its MCP endpoint (docs/kiro-protocol.md#web-search).
// One JSON-RPC `tools/call` to `POST q.{region}.amazonaws.com/mcp` with the account's bearer and the
// profile ARN in a header; the answer's first text content is JSON with the results. This module
// knows nothing of Anthropic's shapes (bridge/web-search*.ts turn results into blocks).
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { KiroAccount } from '../accounts/account';
import type { AccessToken } from '../accounts/auth';
import { readLimited } from './read-limited';
import type { KiroEndpoints } from './endpoints';
import { classifyNetworkError, classifyUpstreamResponse, KiroError } from '../errors';
import { sdkHeaders, streamingUserAgents } from './identity';

/** The MCP tool name. */
const MCP_WEB_SEARCH_TOOL = 'web_search';

/** Longest query we send; Anthropic's API has a `query_too_long` error, Kiro documents no limit. */
export const MAX_QUERY_LENGTH = 1000;

export interface WebSearchHit {
  title: string;
  url: string;
  snippet?: string;
  /** Epoch ms (Kiro sends `publishedDate` in ms). */
  publishedAt?: number;
  domain?: string;
}

export interface WebSearchAnswer {
  /** The query Kiro says it ran (falls back to the one sent). */
  query: string;
  hits: WebSearchHit[];
  totalResults?: number;
}

/** `{awsJson host}mcp`: `https://q.{region}.amazonaws.com/mcp`, or `${upstreamBase}/mcp`. */
export function mcpUrl(endpoints: KiroEndpoints): string {
  return new URL('mcp', endpoints.awsJson).toString();
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function alnum(length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += ALNUM[byte % ALNUM.length];
  return out;
}

/** A request id in the shape other clients use: `web_search_tooluse_{22 alnum}_{unix ms}_{8 alnum}`. */
export function webSearchRequestId(now = Date.now()): string {
  return `web_search_tooluse_${alnum(22)}_${now}_${alnum(8)}`;
}

/**
 * The data plane's headers without `x-amzn-codewhisperer-optout` / `x-amzn-kiro-agent-mode`, plus
 * `x-amzn-kiro-profile-arn` (here the profile travels in a header, not in the body).
 */
function mcpHeaders(account: KiroAccount, token: AccessToken, invocationId: string, attempt: number): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...sdkHeaders(streamingUserAgents(account.machineId), invocationId, `attempt=${attempt}; max=3`, token),
  };
  const profileArn = account.profile.forStreaming;
  if (profileArn) headers['x-amzn-kiro-profile-arn'] = profileArn;
  return headers;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/** Reads a JSON-RPC answer of the web_search tool; throws a KiroError naming what was wrong. */
export function parseWebSearchAnswer(rpc: unknown, query: string, account?: string): WebSearchAnswer {
  const fail = (why: string) => new KiroError('upstream_unavailable', `Kiro web search ${why}`, { account, reason: 'MCP_WEB_SEARCH' });
  if (!isRecord(rpc)) throw fail('answered with something that is not JSON-RPC');
  if (isRecord(rpc.error)) {
    const message = typeof rpc.error.message === 'string' ? rpc.error.message : 'no message';
    throw fail(`failed: JSON-RPC error ${String(rpc.error.code ?? '')} ${message}`.trim());
  }
  const result = rpc.result;
  if (!isRecord(result) || !Array.isArray(result.content)) throw fail('answered without result.content');
  const text = result.content.find((c): c is { type: string; text: string } => isRecord(c) && typeof c.text === 'string')?.text;
  if (result.isError === true) throw fail(`failed: ${(text ?? 'the tool reported an error').slice(0, 300)}`);
  if (text === undefined) throw fail('answered without a text content');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw fail('answered with results that are not JSON');
  }
  if (!isRecord(payload) || !Array.isArray(payload.results)) throw fail('answered without a results list');
  const hits: WebSearchHit[] = [];
  for (const item of payload.results) {
    if (!isRecord(item) || typeof item.url !== 'string' || !item.url) continue;
    const hit: WebSearchHit = { title: typeof item.title === 'string' && item.title ? item.title : item.url, url: item.url };
    if (typeof item.snippet === 'string' && item.snippet) hit.snippet = item.snippet;
    if (typeof item.publishedDate === 'number' && Number.isFinite(item.publishedDate) && item.publishedDate > 0) hit.publishedAt = item.publishedDate;
    const domain = typeof item.domain === 'string' && item.domain ? item.domain : hostOf(item.url);
    if (domain) hit.domain = domain;
    hits.push(hit);
  }
  return {
    query: typeof payload.query === 'string' && payload.query ? payload.query : query,
    hits,
    ...(typeof payload.totalResults === 'number' ? { totalResults: payload.totalResults } : {}),
  };
}

export interface SearchOptions {
  signal?: AbortSignal;
  timeoutMs: number;
}

/** One MCP web_search call with a given token. Non-200 answers are classified like the data plane's. */
export async function callWebSearch(
  account: KiroAccount,
  token: AccessToken,
  query: string,
  options: SearchOptions & { attempt?: number },
): Promise<WebSearchAnswer> {
  const body = JSON.stringify({ id: webSearchRequestId(), jsonrpc: '2.0', method: 'tools/call', params: { name: MCP_WEB_SEARCH_TOOL, arguments: { query } } });
  let status: number;
  let text: string;
  let headers: Record<string, string | string[] | undefined>;
  try {
    const response = await request(mcpUrl(account.endpoints), {
      method: 'POST',
      headers: mcpHeaders(account, token, randomUUID(), options.attempt ?? 1),
      body,
      dispatcher: account.dispatcher,
      signal: options.signal,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    status = response.statusCode;
    headers = response.headers as typeof headers;
    text = await readLimited(response.body, 4 * 1024 * 1024);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const failure = classifyNetworkError(error);
    throw new KiroError(failure.errorClass, `Kiro web search: ${failure.message}`, { account: account.label, reason: failure.reason, cause: error });
  }
  if (status !== 200) {
    const failure = classifyUpstreamResponse(status, text, headers);
    throw new KiroError(failure.errorClass, `Kiro web search: ${failure.message}`, {
      status,
      reason: failure.reason,
      retryAfterSeconds: failure.retryAfterSeconds,
      resetAt: failure.resetAt,
      account: account.label,
    });
  }
  let rpc: unknown;
  try {
    rpc = JSON.parse(text);
  } catch {
    rpc = undefined;
  }
  return parseWebSearchAnswer(rpc, query, account.label);
}

/**
 * Anthropic's `allowed_domains` / `blocked_domains`, applied to Kiro's results (its MCP tool has no
 * such filter). A domain matches itself and its subdomains; an entry with a path also matches the
 * path prefix (`example.com/blog`).
 */
export function filterHits(hits: readonly WebSearchHit[], filter: { allowed?: readonly string[]; blocked?: readonly string[] }): WebSearchHit[] {
  const matches = (hit: WebSearchHit, rule: string): boolean => {
    let url: URL;
    try {
      url = new URL(hit.url);
    } catch {
      return false;
    }
    const cleaned = rule
      .trim()
      .toLowerCase()
      .replace(/^https?:\/\//, '')
      .replace(/^\*\./, '');
    const slash = cleaned.indexOf('/');
    const domain = slash === -1 ? cleaned : cleaned.slice(0, slash);
    const path = slash === -1 ? '' : cleaned.slice(slash);
    const host = url.hostname.toLowerCase();
    if (host !== domain && !host.endsWith(`.${domain}`)) return false;
    return path === '' || url.pathname.toLowerCase().startsWith(path);
  };
  return hits.filter((hit) => {
    if (filter.allowed?.length && !filter.allowed.some((rule) => matches(hit, rule))) return false;
    if (filter.blocked?.length && filter.blocked.some((rule) => matches(hit, rule))) return false;
    return true;
  });
}
