// Anthropic's web-search shapes (`server_tool_use`, `web_search_tool_result`, their results and
// errors) built from Kiro's search answers, and the two texts the bridge writes from results: the
// tool result Kiro reads in a follow-up call, and the summary a pure search (Claude Code's
// WebSearch) answers with.
import { randomBytes } from 'node:crypto';
import type { WebSearchAnswer, WebSearchHit } from '../../kiro/http/web-search';

export interface WebSearchResultItem {
  type: 'web_search_result';
  url: string;
  title: string;
  /**
   * Anthropic sends an opaque encrypted page here for citations in later turns. Kiro gives no such
   * thing; ours is a clearly labelled, NOT encrypted stand-in (`kiro-bridge.v1.` + base64url JSON
   * of title, URL, snippet and date) so that when a client sends the block back, the bridge can
   * give Kiro the snippet again. Clients treat the field as opaque.
   */
  encrypted_content: string;
  page_age: string | null;
}

export type WebSearchErrorCode = 'invalid_tool_input' | 'unavailable' | 'max_uses_exceeded' | 'too_many_requests' | 'query_too_long';

export interface WebSearchToolResultError {
  type: 'web_search_tool_result_error';
  error_code: WebSearchErrorCode;
}

export interface ServerToolUseBlock {
  type: 'server_tool_use';
  id: string;
  name: 'web_search';
  input: { query: string };
}

export interface WebSearchToolResultBlock {
  type: 'web_search_tool_result';
  tool_use_id: string;
  content: WebSearchResultItem[] | WebSearchToolResultError;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `srvtoolu_` + 24 base62 characters, like the API's server tool ids. */
export function newServerToolUseId(): string {
  let id = 'srvtoolu_';
  for (const byte of randomBytes(24)) id += BASE62[byte % 62];
  return id;
}

export const STAND_IN_PREFIX = 'kiro-bridge.v1.';

interface StandIn {
  t: string;
  u: string;
  s?: string;
  p?: number;
}

export function standInContent(hit: WebSearchHit): string {
  const payload: StandIn = { t: hit.title, u: hit.url, ...(hit.snippet ? { s: hit.snippet } : {}), ...(hit.publishedAt ? { p: hit.publishedAt } : {}) };
  return STAND_IN_PREFIX + Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/** The hit behind one of our stand-ins; undefined for anything else (e.g. Anthropic's real encrypted content). */
export function readStandIn(content: unknown): WebSearchHit | undefined {
  if (typeof content !== 'string' || !content.startsWith(STAND_IN_PREFIX)) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(content.slice(STAND_IN_PREFIX.length), 'base64url').toString('utf8')) as Partial<StandIn>;
    if (typeof parsed.u !== 'string' || typeof parsed.t !== 'string') return undefined;
    return {
      title: parsed.t,
      url: parsed.u,
      ...(typeof parsed.s === 'string' ? { snippet: parsed.s } : {}),
      ...(typeof parsed.p === 'number' ? { publishedAt: parsed.p } : {}),
    };
  } catch {
    return undefined;
  }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "April 30, 2025" (UTC), the form the API's `page_age` takes for dated pages. */
export function pageAge(epochMs: number | undefined): string | null {
  if (epochMs === undefined || !Number.isFinite(epochMs)) return null;
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return null;
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
}

export function resultItems(hits: readonly WebSearchHit[]): WebSearchResultItem[] {
  return hits.map((hit) => ({
    type: 'web_search_result',
    url: hit.url,
    title: hit.title,
    encrypted_content: standInContent(hit),
    page_age: pageAge(hit.publishedAt),
  }));
}

export function serverToolUseBlock(id: string, query: string): ServerToolUseBlock {
  return { type: 'server_tool_use', id, name: 'web_search', input: { query } };
}

export function searchResultBlock(id: string, content: WebSearchResultItem[] | WebSearchErrorCode): WebSearchToolResultBlock {
  return {
    type: 'web_search_tool_result',
    tool_use_id: id,
    content: typeof content === 'string' ? { type: 'web_search_tool_result_error', error_code: content } : content,
  };
}

function hitLines(hit: WebSearchHit, index: number): string[] {
  const lines = [`${index + 1}. ${hit.title}`, `   URL: ${hit.url}`];
  const age = pageAge(hit.publishedAt);
  if (age) lines.push(`   Published: ${age}`);
  if (hit.snippet) lines.push(`   ${hit.snippet.replace(/\s+/g, ' ').trim()}`);
  return lines;
}

/** The tool result Kiro reads after it asked to search. */
export function resultsForModel(query: string, hits: readonly WebSearchHit[], note?: string): string {
  if (hits.length === 0) return `Web search for "${query}" found no results.${note ? ` ${note}` : ''}`;
  return [
    `Web search results for "${query}":`,
    '',
    ...hits.flatMap((hit, i) => [...hitLines(hit, i), '']),
    ...(note ? [note, ''] : []),
    'Use these results to answer, and cite the sources you rely on with their URLs.',
  ].join('\n');
}

const FAILURE_REASONS: Record<WebSearchErrorCode, string> = {
  invalid_tool_input: 'the search input had no usable "query"',
  unavailable: 'the search service is unavailable right now',
  max_uses_exceeded: 'the search limit for this request was reached',
  too_many_requests: 'the search service is rate limiting requests',
  query_too_long: 'the query was too long',
};

/** What the search said, for the model, when it failed. */
export function failureForModel(query: string, code: WebSearchErrorCode): string {
  return `Web search for "${query}" failed: ${FAILURE_REASONS[code] ?? code}. Answer from what you already know, and say that the search failed.`;
}

/** A pure search's answer when the search failed. */
export function failureSummary(query: string, code: WebSearchErrorCode): string {
  return `Web search for "${query}" failed: ${FAILURE_REASONS[code] ?? code}.`;
}

/**
 * The answer of a pure search request (Claude Code's WebSearch side call): the results as text,
 * with every snippet, so the model that asked (it reads this text plus the links) has the content.
 * Written from the results alone: no model call, nothing invented, no credits spent.
 */
export function summaryText(answer: WebSearchAnswer, shown: readonly WebSearchHit[], filtered: number): string {
  const note = filtered > 0 ? `(${filtered} result${filtered === 1 ? '' : 's'} outside the allowed domains were left out.)` : undefined;
  if (shown.length === 0) return `No web results found for "${answer.query}".${note ? ` ${note}` : ''}`;
  return [`Web search results for "${answer.query}":`, '', ...shown.flatMap((hit, i) => [...hitLines(hit, i), '']), ...(note ? [note] : [])]
    .join('\n')
    .trimEnd();
}
