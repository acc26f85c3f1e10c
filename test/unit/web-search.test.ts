// Web search pieces: Kiro's MCP answer, domain filters, Anthropic's blocks, recognising and
// rewriting requests that carry the server tool, and the combined message writer.
import { describe, expect, it } from 'vitest';
import { kiroEndpoints } from '../../src/kiro/http/endpoints';
import type { OutputEvent } from '../../src/kiro/types';
import { filterHits, mcpUrl, parseWebSearchAnswer, webSearchRequestId, type WebSearchHit } from '../../src/kiro/http/web-search';
import type { AnthropicOutputMeta } from '../../src/bridge/anthropic/anthropic-output';
import {
  newServerToolUseId,
  pageAge,
  readStandIn,
  resultItems,
  resultsForModel,
  searchResultBlock,
  serverToolUseBlock,
  standInContent,
  STAND_IN_PREFIX,
  summaryText,
} from '../../src/bridge/web-search/web-search-blocks';
import { WebSearchMessageBuilder, WebSearchStreamWriter } from '../../src/bridge/web-search/web-search-output';
import { pureSearchQuery, rewriteWebSearchRequest, webSearchToolOf } from '../../src/bridge/web-search/web-search-request';

const rpc = (payload: unknown, extra: Record<string, unknown> = {}) => ({
  id: 'x',
  jsonrpc: '2.0',
  result: { content: [{ type: 'text', text: typeof payload === 'string' ? payload : JSON.stringify(payload) }], isError: false, ...extra },
});

const HITS: WebSearchHit[] = [
  {
    title: 'Node.js 24 released',
    url: 'https://nodejs.org/en/blog/release/v24.0.0',
    snippet: 'Node.js 24 ships V8 13.6.',
    publishedAt: Date.UTC(2025, 4, 6),
    domain: 'nodejs.org',
  },
  { title: 'What is new', url: 'https://blog.example.com/posts/node-24', snippet: 'A tour of\n   the release.' },
  { title: 'Docs', url: 'https://docs.example.com/api' },
];

describe('Kiro MCP web search answers', () => {
  it('reads results, falling back to the URL host for the domain and skipping items without a URL', () => {
    const answer = parseWebSearchAnswer(
      rpc({
        results: [
          { title: 'A', url: 'https://a.example/x', snippet: 's', publishedDate: 1746489600000, id: 'r1', domain: 'a.example' },
          { title: '', url: 'https://b.example/' },
          { title: 'no url' },
          'junk',
        ],
        totalResults: 3,
        query: 'the query Kiro ran',
      }),
      'sent query',
    );
    expect(answer).toEqual({
      query: 'the query Kiro ran',
      totalResults: 3,
      hits: [
        { title: 'A', url: 'https://a.example/x', snippet: 's', publishedAt: 1746489600000, domain: 'a.example' },
        { title: 'https://b.example/', url: 'https://b.example/', domain: 'b.example' },
      ],
    });
    expect(parseWebSearchAnswer(rpc({ results: [] }), 'q')).toEqual({ query: 'q', hits: [] });
  });

  it('names what was wrong with an answer it cannot use', () => {
    const bad = (value: unknown) => () => parseWebSearchAnswer(value, 'q');
    expect(bad({ jsonrpc: '2.0', error: { code: -32602, message: 'Invalid params' } })).toThrow('Kiro web search failed: JSON-RPC error -32602 Invalid params');
    expect(bad(rpc('quota reached', { isError: true }))).toThrow('Kiro web search failed: quota reached');
    expect(bad(rpc('<html>'))).toThrow('results that are not JSON');
    expect(bad(rpc({ nothing: true }))).toThrow('without a results list');
    expect(bad({ result: {} })).toThrow('without result.content');
    expect(bad('text')).toThrow('not JSON-RPC');
  });

  it('posts to /mcp on the data-plane host, or on the upstream base', () => {
    expect(mcpUrl(kiroEndpoints({ region: 'eu-central-1' }))).toBe('https://q.eu-central-1.amazonaws.com/mcp');
    expect(mcpUrl(kiroEndpoints({ upstreamBase: 'http://127.0.0.1:9/base/' }))).toBe('http://127.0.0.1:9/base/mcp');
  });

  it('makes request ids in the format other clients use', () => {
    expect(webSearchRequestId(1_750_000_000_000)).toMatch(/^web_search_tooluse_[A-Za-z0-9]{22}_1750000000000_[A-Za-z0-9]{8}$/);
  });

  it('filters by allowed and blocked domains (subdomains included, optional path prefix)', () => {
    expect(filterHits(HITS, { allowed: ['example.com'] }).map((h) => h.title)).toEqual(['What is new', 'Docs']);
    expect(filterHits(HITS, { allowed: ['https://NodeJS.org'] }).map((h) => h.title)).toEqual(['Node.js 24 released']);
    expect(filterHits(HITS, { allowed: ['blog.example.com/posts'] }).map((h) => h.title)).toEqual(['What is new']);
    expect(filterHits(HITS, { blocked: ['docs.example.com'] }).map((h) => h.title)).toEqual(['Node.js 24 released', 'What is new']);
    expect(filterHits(HITS, { allowed: ['ample.com'] })).toEqual([]);
    expect(filterHits(HITS, {})).toEqual(HITS);
  });
});

describe("Anthropic's web search blocks", () => {
  it('makes srvtoolu_ ids and "Month D, YYYY" page ages', () => {
    expect(newServerToolUseId()).toMatch(/^srvtoolu_[0-9A-Za-z]{24}$/);
    expect(newServerToolUseId()).not.toBe(newServerToolUseId());
    expect(pageAge(Date.UTC(2025, 3, 30, 23, 59))).toBe('April 30, 2025');
    expect(pageAge(undefined)).toBeNull();
  });

  it('carries each hit in a labelled, readable stand-in for encrypted_content', () => {
    const items = resultItems(HITS);
    expect(items[0]).toEqual({
      type: 'web_search_result',
      url: HITS[0]!.url,
      title: HITS[0]!.title,
      encrypted_content: standInContent(HITS[0]!),
      page_age: 'May 6, 2025',
    });
    expect(items[2]!.page_age).toBeNull();
    expect(items[0]!.encrypted_content.startsWith(STAND_IN_PREFIX)).toBe(true);
    expect(readStandIn(items[0]!.encrypted_content)).toEqual({
      title: HITS[0]!.title,
      url: HITS[0]!.url,
      snippet: HITS[0]!.snippet,
      publishedAt: HITS[0]!.publishedAt,
    });
    expect(readStandIn('EqkCCioIARgCIiQ3YTIy')).toBeUndefined();
    expect(readStandIn(`${STAND_IN_PREFIX}not-base64-json`)).toBeUndefined();
    expect(readStandIn(42)).toBeUndefined();
  });

  it('builds the blocks, and error results with their code', () => {
    expect(serverToolUseBlock('srvtoolu_1', 'q')).toEqual({ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'q' } });
    expect(searchResultBlock('srvtoolu_1', 'too_many_requests')).toEqual({
      type: 'web_search_tool_result',
      tool_use_id: 'srvtoolu_1',
      content: { type: 'web_search_tool_result_error', error_code: 'too_many_requests' },
    });
  });

  it('writes every snippet into the texts for the model and for a pure search', () => {
    const forModel = resultsForModel('node 24', HITS);
    expect(forModel).toContain(
      '1. Node.js 24 released\n   URL: https://nodejs.org/en/blog/release/v24.0.0\n   Published: May 6, 2025\n   Node.js 24 ships V8 13.6.',
    );
    expect(forModel).toContain('   A tour of the release.');
    expect(forModel).toMatch(/cite the sources/);
    const summary = summaryText({ query: 'node 24', hits: HITS }, HITS.slice(0, 1), 2);
    expect(summary.startsWith('Web search results for "node 24":')).toBe(true);
    expect(summary).toContain('Node.js 24 ships V8 13.6.');
    expect(summary).toContain('(2 results outside the allowed domains were left out.)');
    expect(summaryText({ query: 'zzz', hits: [] }, [], 0)).toBe('No web results found for "zzz".');
  });
});

const WEB_SEARCH_TOOL = { type: 'web_search_20250305', name: 'web_search', max_uses: 8 };

describe('requests that carry the server web search tool', () => {
  it('finds the server tool by type, or as a bare web_search without a schema', () => {
    expect(webSearchToolOf({ tools: [{ ...WEB_SEARCH_TOOL, allowed_domains: ['a.com', 7], blocked_domains: [] }] })).toEqual({
      name: 'web_search',
      type: 'web_search_20250305',
      maxUses: 8,
      allowedDomains: ['a.com'],
    });
    expect(webSearchToolOf({ tools: [{ name: 'web_search' }] })).toEqual({ name: 'web_search' });
    // A client function that happens to be called web_search is an ordinary tool.
    expect(webSearchToolOf({ tools: [{ name: 'web_search', input_schema: { type: 'object' } }] })).toBeUndefined();
    expect(webSearchToolOf({ tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }] })).toBeUndefined();
    expect(webSearchToolOf({ messages: [] })).toBeUndefined();
    expect(webSearchToolOf('nope')).toBeUndefined();
  });

  it("recognises Claude Code's pure search side call", () => {
    const claudeCode = { tools: [WEB_SEARCH_TOOL], messages: [{ role: 'user', content: 'Perform a web search for the query: latest go release' }] };
    expect(pureSearchQuery(claudeCode)).toBe('latest go release');
    expect(
      pureSearchQuery({
        ...claudeCode,
        messages: [{ role: 'user', content: [{ type: 'text', text: '  perform a web search for the query:  DeepSeek V4 ' }] }],
      }),
    ).toBe('DeepSeek V4');
    expect(pureSearchQuery({ ...claudeCode, messages: [{ role: 'user', content: 'Perform a web search for the query:   ' }] })).toBeUndefined();
    expect(pureSearchQuery({ ...claudeCode, messages: [{ role: 'user', content: 'What is new in Go?' }] })).toBeUndefined();
    expect(pureSearchQuery({ ...claudeCode, tools: [WEB_SEARCH_TOOL, { name: 'Read', input_schema: { type: 'object' } }] })).toBeUndefined();
    expect(pureSearchQuery({ ...claudeCode, messages: [...claudeCode.messages, { role: 'assistant', content: 'ok' }] })).toBeUndefined();
  });

  it('offers Kiro a function in place of the server tool and points tool_choice at it, leaving the input alone', () => {
    const body = {
      model: 'claude-sonnet-4-5',
      tools: [{ name: 'Read', description: 'read', input_schema: { type: 'object' } }, WEB_SEARCH_TOOL],
      tool_choice: { type: 'tool', name: 'web_search' },
      messages: [{ role: 'user', content: 'hi' }],
    };
    const copy = structuredClone(body);
    const { body: rewritten, functionName } = rewriteWebSearchRequest(body, webSearchToolOf(body)!);
    expect(body).toEqual(copy);
    expect(functionName).toBe('web_search');
    const tools = rewritten.tools as { name: string; input_schema?: unknown; type?: string }[];
    expect(tools.map((t) => t.name)).toEqual(['Read', 'web_search']);
    expect(tools[1]).not.toHaveProperty('type');
    expect(tools[1]!.input_schema).toEqual({ type: 'object', properties: { query: { type: 'string', description: 'The search query' } }, required: ['query'] });
    expect(rewritten.tool_choice).toEqual({ type: 'tool', name: 'web_search' });
  });

  it('takes another name when a client tool already uses it', () => {
    const clientTool = (name: string) => ({ name, description: name, input_schema: { type: 'object' } });
    const one = { tools: [WEB_SEARCH_TOOL, clientTool('web_search')], messages: [] };
    expect(rewriteWebSearchRequest(one, webSearchToolOf(one)!).functionName).toBe('kiro_web_search');
    const two = { tools: [clientTool('web_search'), clientTool('kiro_web_search'), WEB_SEARCH_TOOL], messages: [] };
    const rewritten = rewriteWebSearchRequest(two, webSearchToolOf(two)!);
    expect(rewritten.functionName).toBe('kiro_web_search_3');
    expect((rewritten.body.tools as { name: string }[]).map((t) => t.name)).toEqual(['web_search', 'kiro_web_search', 'kiro_web_search_3']);
  });

  it('turns past searches in the history into the function’s calls and results, keeping our snippets', () => {
    const items = resultItems(HITS.slice(0, 1));
    const body = {
      tools: [WEB_SEARCH_TOOL],
      messages: [
        { role: 'user', content: 'What is new in Node?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me look.' },
            { type: 'server_tool_use', id: 'srvtoolu_A', name: 'web_search', input: { query: 'node news' } },
            { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_A', content: items },
            { type: 'server_tool_use', id: 'srvtoolu_B', name: 'web_search', input: { query: 'node 25' } },
            { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_B', content: { type: 'web_search_tool_result_error', error_code: 'unavailable' } },
            { type: 'text', text: 'Node 24 is out.', citations: [{ type: 'web_search_result_location', url: HITS[0]!.url }] },
          ],
        },
        { role: 'user', content: 'Thanks' },
      ],
    };
    const messages = rewriteWebSearchRequest(body, webSearchToolOf(body)!).body.messages as { role: string; content: Record<string, unknown>[] }[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(messages[1]!.content).toEqual([
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'srvtoolu_A', name: 'web_search', input: { query: 'node news' } },
    ]);
    const firstResult = messages[2]!.content[0] as { tool_use_id: string; content: string };
    expect(firstResult.tool_use_id).toBe('srvtoolu_A');
    expect(firstResult.content).toContain('Node.js 24 ships V8 13.6.');
    expect(messages[4]!.content[0]!.content).toContain('failed: the search service is unavailable');
    expect(messages[5]!.content[0]!.text).toBe('Node 24 is out.');
  });
});

// ---- the combined writer ----------------------------------------------------------------------

const meta: AnthropicOutputMeta = { messageId: 'msg_test', model: 'claude-x', inputTokens: 10, countTokens: (t) => Math.ceil(t.length / 4) };

function events(sse: string): { event: string; data: Record<string, unknown> }[] {
  return sse
    .split('\n\n')
    .filter(Boolean)
    .map((chunk) => {
      const [eventLine, dataLine] = chunk.split('\n');
      return { event: eventLine!.slice('event: '.length), data: JSON.parse(dataLine!.slice('data: '.length)) as Record<string, unknown> };
    });
}

/** The content a client accumulates from the stream (as the SDK does). */
function accumulate(sse: string) {
  const content: Record<string, unknown>[] = [];
  const json: string[] = [];
  let usage: unknown;
  let stop: unknown;
  for (const { event, data } of events(sse)) {
    if (event === 'content_block_start') {
      expect(data.index).toBe(content.length);
      content.push({ ...(data.content_block as Record<string, unknown>) });
      json.push('');
    }
    if (event === 'content_block_delta') {
      const i = data.index as number;
      const delta = data.delta as Record<string, string>;
      if (delta.type === 'text_delta') content[i]!.text = (content[i]!.text as string) + delta.text;
      if (delta.type === 'input_json_delta') json[i] = `${json[i] ?? ''}${delta.partial_json ?? ''}`;
      if (delta.type === 'thinking_delta') content[i]!.thinking = (content[i]!.thinking as string) + delta.thinking;
      if (delta.type === 'signature_delta') content[i]!.signature = delta.signature;
    }
    if (event === 'content_block_stop') {
      const i = data.index as number;
      if (json[i]) content[i]!.input = JSON.parse(json[i]!);
    }
    if (event === 'message_delta') {
      usage = data.usage;
      stop = (data.delta as Record<string, unknown>).stop_reason;
    }
  }
  return { content, usage, stop };
}

function play(out: WebSearchStreamWriter | WebSearchMessageBuilder) {
  out.beginSegment(10);
  out.write([
    { type: 'text', text: 'Let me ' },
    { type: 'text', text: 'search.' },
    { type: 'usage', credits: 0.5 },
  ]);
  out.endSegment();
  out.serverBlocks([serverToolUseBlock('srvtoolu_1', 'node 24')]);
  out.countSearch();
  out.serverBlocks([searchResultBlock('srvtoolu_1', resultItems(HITS.slice(0, 1)))]);
  out.beginSegment(40);
  const second: OutputEvent[] = [
    { type: 'thinking', text: 'The results say 24.' },
    { type: 'text', text: 'Node 24 is out.' },
    { type: 'tool_start', id: 'toolu_1', name: 'Read' },
    { type: 'tool_delta', id: 'toolu_1', json: '{"path":' },
    { type: 'tool_delta', id: 'toolu_1', json: '"a.ts"}' },
    { type: 'tool_end', id: 'toolu_1', input: { path: 'a.ts' } },
    { type: 'usage', credits: 1 },
  ];
  out.write(second);
  out.finish('tool_use');
}

describe('the web search message writer', () => {
  it('streams several Kiro calls and the server blocks as one message with sequential indexes', () => {
    let sse = '';
    const writer = new WebSearchStreamWriter({ write: (chunk) => ((sse += chunk), true) }, meta);
    writer.start();
    play(writer);
    const names = events(sse).map((e) => e.event);
    expect(names[0]).toBe('message_start');
    expect(names.filter((n) => n === 'message_start')).toHaveLength(1);
    expect(names.slice(-2)).toEqual(['message_delta', 'message_stop']);
    const { content, usage, stop } = accumulate(sse);
    expect(content.map((b) => b.type)).toEqual(['text', 'server_tool_use', 'web_search_tool_result', 'thinking', 'text', 'tool_use']);
    expect(content[0]!.text).toBe('Let me search.');
    expect(content[1]).toEqual({ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'node 24' } });
    expect(content[5]!.input).toEqual({ path: 'a.ts' });
    expect(stop).toBe('tool_use');
    expect(usage).toMatchObject({ input_tokens: 50, server_tool_use: { web_search_requests: 1, web_fetch_requests: 0 } });
    expect(writer.totals.credits).toBe(1.5);
    expect(writer.outcome).toEqual({ reason: 'tool_use' });
  });

  it('builds the same content for a non-streaming answer', () => {
    const builder = new WebSearchMessageBuilder(meta);
    play(builder);
    const message = builder.message();
    let sse = '';
    const writer = new WebSearchStreamWriter({ write: (chunk) => ((sse += chunk), true) }, meta);
    play(writer);
    const streamed = accumulate(sse);
    expect(message.content).toEqual(streamed.content);
    expect(message.usage).toEqual(streamed.usage);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('ends with an error event after what was sent, and writes nothing more', () => {
    let sse = '';
    const writer = new WebSearchStreamWriter({ write: (chunk) => ((sse += chunk), true) }, meta);
    writer.beginSegment(10);
    writer.write([{ type: 'text', text: 'partial' }]);
    writer.fail(new Error('boom'));
    writer.serverBlocks([serverToolUseBlock('srvtoolu_2', 'x')]);
    writer.finish('end_turn');
    const names = events(sse).map((e) => e.event);
    expect(names).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'error']);
    expect(writer.ended).toBe(true);
  });
});
