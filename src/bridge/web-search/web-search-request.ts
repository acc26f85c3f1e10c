// Requests that carry Anthropic's server-side web search tool (`web_search_20250305`, no input
// schema): recognising them, recognising Claude Code's pure search side call, and rewriting the
// raw body so the ordinary Anthropic parser and Kiro converter can take it. Kiro never sees the
// server tool itself: it gets a plain function tool under a name no client tool uses, and earlier
// searches in the history (server_tool_use + web_search_tool_result blocks) become that tool's
// calls and results, so Kiro keeps what was found.
import type { WebSearchHit } from '../../kiro/http/web-search';
import { failureForModel, readStandIn, resultsForModel, type WebSearchErrorCode } from './web-search-blocks';

type Json = Record<string, unknown>;

export interface WebSearchToolConfig {
  /** Always `web_search` in the API; kept as sent. */
  name: string;
  /** e.g. `web_search_20250305`; undefined for a bare `{name: "web_search"}` without a schema. */
  type?: string;
  maxUses?: number;
  allowedDomains?: string[];
  blockedDomains?: string[];
}

/** What Claude Code's WebSearch tool puts before the query (its side call's only user message). */
export const PURE_SEARCH_PREFIX = 'Perform a web search for the query:';

const SERVER_TYPE = /^web_search_\d+$/;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '') : undefined;
}

/** Anthropic's server web search: `type: web_search_*`, or `name: web_search` with no input schema (some clients omit the type). */
function isServerWebSearch(tool: unknown): boolean {
  if (!isObject(tool)) return false;
  if (typeof tool.type === 'string') return SERVER_TYPE.test(tool.type);
  return tool.name === 'web_search' && tool.input_schema === undefined;
}

/** The request's server web search tool, if it carries one. */
export function webSearchToolOf(body: unknown): WebSearchToolConfig | undefined {
  if (!isObject(body) || !Array.isArray(body.tools)) return undefined;
  const tool = body.tools.find(isServerWebSearch) as Json | undefined;
  if (!tool) return undefined;
  const config: WebSearchToolConfig = { name: typeof tool.name === 'string' && tool.name ? tool.name : 'web_search' };
  if (typeof tool.type === 'string') config.type = tool.type;
  if (typeof tool.max_uses === 'number' && Number.isInteger(tool.max_uses) && tool.max_uses >= 1) config.maxUses = tool.max_uses;
  const allowed = strings(tool.allowed_domains);
  const blocked = strings(tool.blocked_domains);
  if (allowed?.length) config.allowedDomains = allowed;
  if (blocked?.length) config.blockedDomains = blocked;
  return config;
}

function messageText(message: Json): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b): b is Json => isObject(b) && b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('\n');
}

/**
 * The query of a pure search request, as Claude Code's WebSearch sends it: the web search is the
 * only tool, and the last message is a user message "Perform a web search for the query: …"
 * (with `tool_choice` forcing web_search or left on auto — both are seen in captures).
 */
export function pureSearchQuery(body: unknown): string | undefined {
  if (!isObject(body) || !Array.isArray(body.tools) || body.tools.length !== 1 || !isServerWebSearch(body.tools[0])) return undefined;
  if (!Array.isArray(body.messages) || body.messages.length === 0) return undefined;
  const last = body.messages[body.messages.length - 1];
  if (!isObject(last) || last.role !== 'user') return undefined;
  const text = messageText(last).trim();
  if (text.slice(0, PURE_SEARCH_PREFIX.length).toLowerCase() !== PURE_SEARCH_PREFIX.toLowerCase()) return undefined;
  const query = text.slice(PURE_SEARCH_PREFIX.length).trim();
  return query || undefined;
}

/** The function tool Kiro is offered in place of the server tool. */
export function searchFunctionTool(name: string, config: WebSearchToolConfig): Json {
  const domains = config.allowedDomains?.length ? ` Only results from ${config.allowedDomains.join(', ')} are returned.` : '';
  return {
    name,
    description:
      'Search the web for current information. Returns the title, URL, publication date and a snippet of each matching page. ' +
      'Use it for recent events, facts that may have changed, or anything you are not sure of; cite the URLs you rely on.' +
      domains,
    input_schema: {
      type: 'object',
      properties: { query: { type: 'string', description: 'The search query' } },
      required: ['query'],
    },
  };
}

/** The tool_result text for a past `web_search_tool_result` block sent back by the client. */
function pastResultText(block: Json, query: string): string {
  const content = block.content;
  if (isObject(content) && content.type === 'web_search_tool_result_error') {
    return failureForModel(query, (typeof content.error_code === 'string' ? content.error_code : 'unavailable') as WebSearchErrorCode);
  }
  const hits: WebSearchHit[] = [];
  for (const item of Array.isArray(content) ? content : []) {
    if (!isObject(item) || typeof item.url !== 'string') continue;
    // Our own stand-in carries the snippet; Anthropic's real encrypted content does not open here.
    const known = readStandIn(item.encrypted_content);
    hits.push(known ?? { title: typeof item.title === 'string' ? item.title : item.url, url: item.url });
  }
  return resultsForModel(query, hits);
}

/**
 * An assistant message with server web search blocks, as the function tool's turns: the
 * `server_tool_use` becomes a `tool_use` of `functionName`, each `web_search_tool_result` ends the
 * assistant part and becomes a user `tool_result`, and the text after it starts a new assistant part.
 */
function splitAssistant(message: Json, functionName: string, toolName: string): Json[] {
  const content = message.content;
  if (!Array.isArray(content) || !content.some((b) => isObject(b) && (b.type === 'server_tool_use' || b.type === 'web_search_tool_result'))) return [message];
  const out: Json[] = [];
  const queries = new Map<string, string>();
  let current: unknown[] = [];
  for (const block of content) {
    if (isObject(block) && block.type === 'server_tool_use' && block.name === toolName && typeof block.id === 'string') {
      const input = isObject(block.input) ? block.input : {};
      queries.set(block.id, typeof input.query === 'string' ? input.query : '');
      current.push({ type: 'tool_use', id: block.id, name: functionName, input });
    } else if (isObject(block) && block.type === 'web_search_tool_result' && typeof block.tool_use_id === 'string') {
      if (current.length) out.push({ role: 'assistant', content: current });
      current = [];
      out.push({
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: block.tool_use_id, content: pastResultText(block, queries.get(block.tool_use_id) ?? '') }],
      });
    } else {
      current.push(block);
    }
  }
  if (current.length) out.push({ role: 'assistant', content: current });
  return out;
}

export interface RewrittenRequest {
  body: Json;
  /** The function tool's name as Kiro sees it. */
  functionName: string;
}

/**
 * The body with the server tool replaced by the function tool, `tool_choice` pointed at it, and
 * past searches turned into its calls and results. The input is not modified.
 */
export function rewriteWebSearchRequest(body: Json, config: WebSearchToolConfig): RewrittenRequest {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  const taken = new Set<string>();
  for (const tool of tools) if (isObject(tool) && !isServerWebSearch(tool) && typeof tool.name === 'string') taken.add(tool.name);
  let functionName = 'web_search';
  for (let n = 2; taken.has(functionName); n++) functionName = n === 2 ? 'kiro_web_search' : `kiro_web_search_${n}`;
  const rewritten: Json = { ...body, tools: tools.map((t) => (isServerWebSearch(t) ? searchFunctionTool(functionName, config) : t)) };
  if (isObject(body.tool_choice) && body.tool_choice.type === 'tool' && body.tool_choice.name === config.name) {
    rewritten.tool_choice = { ...body.tool_choice, name: functionName };
  }
  if (Array.isArray(body.messages)) {
    rewritten.messages = body.messages.flatMap((m) => (isObject(m) && m.role === 'assistant' ? splitAssistant(m, functionName, config.name) : [m]));
  }
  return { body: rewritten, functionName };
}
