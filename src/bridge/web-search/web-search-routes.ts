// How /v1/messages and /v1/messages/count_tokens take requests that carry Anthropic's server web
// search tool. Only the check for the tool and the request rewrite load with the bridge; the search
// itself (./web-search, Kiro's MCP call, the output writers) is imported by the first request
// that carries the tool.
import type { BridgeRoute } from '../context';
import type * as WebSearch from './web-search';
import { rewriteWebSearchRequest, webSearchToolOf } from './web-search-request';

let webSearch: Promise<typeof WebSearch> | undefined;

/**
 * `route` (POST /v1/messages) with web search requests taken out and served by
 * handleWebSearchMessages; every other request goes to `route` unchanged.
 */
export function withWebSearch(route: BridgeRoute): BridgeRoute {
  return {
    ...route,
    handle: (call) => {
      if (webSearchToolOf(call.body) === undefined) return route.handle(call);
      webSearch ??= import('./web-search');
      return webSearch.then((module) => module.handleWebSearchMessages(call));
    },
  };
}

/**
 * `route` (POST /v1/messages/count_tokens) with the server web search tool counted as the function
 * Kiro is offered in its place (and past searches as its calls), instead of failing validation on
 * a `tool_choice` that names it.
 */
export function withWebSearchCountTokens(route: BridgeRoute): BridgeRoute {
  return {
    ...route,
    handle: (call) => {
      const tool = webSearchToolOf(call.body);
      return route.handle(tool ? { ...call, body: rewriteWebSearchRequest(call.body as Record<string, unknown>, tool).body } : call);
    },
  };
}
