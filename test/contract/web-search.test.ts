// Anthropic's server web search through the bridge, served by Kiro's MCP web_search, with the
// official @anthropic-ai/sdk as the client: Claude Code's pure search side call (streamed and
// not), and the model-driven search where Kiro decides to search mid-answer.
import type Anthropic from '@anthropic-ai/sdk';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_MODEL_CALLS } from '../../src/bridge/web-search/web-search';
import { readStandIn } from '../../src/bridge/web-search/web-search-blocks';
import { textReply, toolReply, upstreamErrors, type RecordedRequest } from '../support/fake-upstream';
import { TEST_API_KEY, currentMessage, useHarness, type Harness } from './harness';

let h: Harness;
useHarness((harness) => (h = harness));

const RESULTS = [
  {
    title: 'Node.js 24.0.0 released',
    url: 'https://nodejs.org/en/blog/release/v24.0.0',
    snippet: 'Node.js 24 brings V8 13.6 and npm 11.',
    publishedDate: Date.UTC(2025, 4, 6),
  },
  { title: 'Node 24: what changed', url: 'https://blog.example.com/node-24', snippet: 'URLPattern is global, AsyncLocalStorage is faster.' },
  { title: 'Release schedule', url: 'https://github.com/nodejs/release', snippet: 'Node 24 becomes LTS in October.' },
];

beforeEach(() => {
  h.upstream.clearScripts();
  h.upstream.clearRecords();
  h.upstream.webSearchResults = RESULTS;
  h.upstream.webSearchReplies.length = 0;
  h.upstream.account.unsuspend();
});

/** What Claude Code 2.1's WebSearch tool sends (its side call), as captured by users of other proxies. */
function claudeCodeSearch<S extends boolean>(query: string, stream: S) {
  return {
    model: 'claude-sonnet-4-5-20250929',
    max_tokens: 32000,
    stream,
    system: [
      { type: 'text' as const, text: 'x-anthropic-billing-header: cc_version=2.1.285.3c7; cc_entrypoint=cli;' },
      { type: 'text' as const, text: "You are Claude Code, Anthropic's official CLI for Claude." },
      { type: 'text' as const, text: 'You are an assistant for performing a web search tool use' },
    ],
    messages: [{ role: 'user' as const, content: `Perform a web search for the query: ${query}` }],
    tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const, max_uses: 8 }],
    tool_choice: { type: 'tool' as const, name: 'web_search' },
    thinking: { type: 'disabled' as const },
    metadata: { user_id: 'user_abc_account__session_5f2c' },
  };
}

const claudeCodeClient = () => h.sdk({ defaultHeaders: { 'user-agent': 'claude-cli/2.1.285 (external, cli)', 'x-app': 'cli' } });

function mcpCalls(): RecordedRequest[] {
  return h.upstream.requestsTo('mcp');
}

const current = currentMessage;

/** Raw SSE events of a streamed request (to check the wire order the SDK hides). */
async function rawEvents(body: unknown): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const res = await fetch(`${h.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const text = await res.text();
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((chunk) => {
      const lines = chunk.split('\n');
      return { event: lines[0]!.slice(7), data: JSON.parse(lines[1]!.slice(6)) as Record<string, unknown> };
    });
}

describe("Claude Code's WebSearch (a pure search request)", () => {
  it('streams server_tool_use, web_search_tool_result and the results as text, which the SDK reads', async () => {
    const stream = claudeCodeClient().messages.stream(claudeCodeSearch('latest node.js release', true));
    const message = await stream.finalMessage();

    expect(message.content.map((b) => b.type)).toEqual(['server_tool_use', 'web_search_tool_result', 'text']);
    const [use, result, text] = message.content;
    if (!use || !result || !text || use.type !== 'server_tool_use' || result!.type !== 'web_search_tool_result' || text!.type !== 'text')
      throw new Error('unexpected blocks');
    expect(use.id).toMatch(/^srvtoolu_[0-9A-Za-z]{24}$/);
    expect(use.name).toBe('web_search');
    expect(use.input).toEqual({ query: 'latest node.js release' });
    expect(result.tool_use_id).toBe(use.id);
    if (!Array.isArray(result.content)) throw new Error('expected results');
    expect(result.content.map((r) => [r.type, r.title, r.url, r.page_age])).toEqual([
      ['web_search_result', RESULTS[0]!.title, RESULTS[0]!.url, 'May 6, 2025'],
      ['web_search_result', RESULTS[1]!.title, RESULTS[1]!.url, expect.stringMatching(/^\w+ \d{1,2}, \d{4}$/)],
      ['web_search_result', RESULTS[2]!.title, RESULTS[2]!.url, expect.stringMatching(/^\w+ \d{1,2}, \d{4}$/)],
    ]);
    expect(readStandIn(result.content[0]!.encrypted_content)?.snippet).toBe(RESULTS[0]!.snippet);
    for (const r of RESULTS) expect(text.text).toContain(r.snippet);
    expect(text.text.startsWith('Web search results for "latest node.js release":')).toBe(true);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.server_tool_use).toEqual({ web_search_requests: 1, web_fetch_requests: 0 });
    expect(message.usage.output_tokens).toBeGreaterThan(0);

    // One MCP call, shaped as docs/kiro-protocol.md#web-search says, and no generate call at all.
    expect(h.upstream.generateRequests).toHaveLength(0);
    expect(mcpCalls()).toHaveLength(1);
    const mcp = mcpCalls()[0]!;
    expect(mcp.body).toEqual({
      id: expect.stringMatching(/^web_search_tooluse_[A-Za-z0-9]{22}_\d{13}_[A-Za-z0-9]{8}$/),
      jsonrpc: '2.0',
      method: 'tools/call',
      params: { name: 'web_search', arguments: { query: 'latest node.js release' } },
    });
    expect(mcp.headers.authorization).toBe(`Bearer ${h.upstream.account.accessToken}`);
    expect(mcp.headers['x-amzn-kiro-profile-arn']).toBe(h.upstream.account.profileArn);
    expect(mcp.headers['x-amzn-codewhisperer-optout']).toBeUndefined();
    expect(mcp.headers['x-amzn-kiro-agent-mode']).toBeUndefined();
    expect(mcp.headers['user-agent']).toMatch(/KiroIDE-/);

    const record = h.finished.at(-1)!;
    expect(record).toMatchObject({ status: 200, stopReason: 'end_turn', client: 'Claude Code', stream: true });
    expect(record.repairs.some((r) => r.startsWith('web search "latest node.js release": 3 results from Kiro'))).toBe(true);
  });

  it('sends the blocks in the API’s wire order: input as one input_json_delta, results whole at the start', async () => {
    const events = await rawEvents(claudeCodeSearch('node 24', true));
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[1]!.data).toMatchObject({ index: 0, content_block: { type: 'server_tool_use', name: 'web_search', input: {} } });
    expect(events[2]!.data).toMatchObject({ index: 0, delta: { type: 'input_json_delta', partial_json: '{"query":"node 24"}' } });
    expect(events[4]!.data).toMatchObject({ index: 1, content_block: { type: 'web_search_tool_result' } });
    expect(events[6]!.data).toMatchObject({ index: 2, content_block: { type: 'text', text: '' } });
    expect(events[9]!.data).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { server_tool_use: { web_search_requests: 1 } } });
  });

  it('answers the same blocks without streaming', async () => {
    const message = await claudeCodeClient().messages.create(claudeCodeSearch('latest node.js release', false));
    expect(message.content.map((b) => b.type)).toEqual(['server_tool_use', 'web_search_tool_result', 'text']);
    const result = message.content[1]!;
    if (result.type !== 'web_search_tool_result' || !Array.isArray(result.content)) throw new Error('expected results');
    expect(result.content).toHaveLength(3);
    expect(message.usage.server_tool_use?.web_search_requests).toBe(1);
    expect(h.upstream.generateRequests).toHaveLength(0);
  });

  it('applies allowed_domains to the results and says what was left out', async () => {
    const body = claudeCodeSearch('node 24', false);
    const message = await claudeCodeClient().messages.create({ ...body, tools: [{ ...body.tools[0]!, allowed_domains: ['nodejs.org', 'github.com'] }] });
    const result = message.content[1]!;
    if (result.type !== 'web_search_tool_result' || !Array.isArray(result.content)) throw new Error('expected results');
    expect(result.content.map((r) => r.url)).toEqual([RESULTS[0]!.url, RESULTS[2]!.url]);
    const text = message.content[2]!;
    expect(text.type === 'text' && text.text).toContain('(1 result outside the allowed domains were left out.)');
  });

  it('reports a failed search in the result block (unavailable, too_many_requests) and still answers', async () => {
    h.upstream.webSearchReplies.push({ status: 500, body: { message: 'boom' } });
    const failed = await claudeCodeClient().messages.create(claudeCodeSearch('node 24', false));
    expect(failed.content[1]).toEqual({
      type: 'web_search_tool_result',
      tool_use_id: (failed.content[0] as { id: string }).id,
      content: { type: 'web_search_tool_result_error', error_code: 'unavailable' },
    });
    expect(failed.content[2]).toMatchObject({ type: 'text', text: 'Web search for "node 24" failed: the search service is unavailable right now.' });
    expect(failed.stop_reason).toBe('end_turn');

    h.upstream.webSearchReplies.push({
      status: 429,
      body: { message: 'Too many requests', reason: null },
      headers: { 'x-amzn-errortype': 'ThrottlingException' },
    });
    const throttled = await claudeCodeClient().messages.create(claudeCodeSearch('node 24', false));
    expect(throttled.content[1]).toMatchObject({ content: { error_code: 'too_many_requests' } });

    h.upstream.webSearchReplies.push({ status: 200, body: { id: 'x', jsonrpc: '2.0', error: { code: -32000, message: 'search backend down' } } });
    const rpcError = await claudeCodeClient().messages.create(claudeCodeSearch('node 24', false));
    expect(rpcError.content[1]).toMatchObject({ content: { error_code: 'unavailable' } });
    expect(h.finished.at(-1)!.repairs.some((r) => r.includes('JSON-RPC error -32000 search backend down'))).toBe(true);
  });

  it('refreshes once and retries when Kiro rejects the token of the MCP call', async () => {
    await claudeCodeClient().messages.create(claudeCodeSearch('warm up', false));
    h.upstream.account.expireAccessTokens();
    const before = h.upstream.refreshCount();
    const message = await claudeCodeClient().messages.create(claudeCodeSearch('node 24', false));
    expect(message.content[1]).toMatchObject({ type: 'web_search_tool_result', content: expect.any(Array) });
    expect(h.upstream.refreshCount()).toBe(before + 1);
    expect(mcpCalls().map((r) => r.status)).toEqual([200, 403, 200]);
  });

  it('fails the request with a real HTTP error when the account itself is refused', async () => {
    h.upstream.account.suspend();
    await expect(claudeCodeClient().messages.create(claudeCodeSearch('node 24', false))).rejects.toMatchObject({
      status: 403,
      error: { error: { type: 'permission_error' } },
    });
    const stream = claudeCodeClient().messages.stream(claudeCodeSearch('node 24', true));
    await expect(stream.finalMessage()).rejects.toMatchObject({ status: 403 });
  });

  it('validates the request like any other (unknown model → 400)', async () => {
    await expect(claudeCodeClient().messages.create({ ...claudeCodeSearch('x', false), model: 'gpt-nonsense' })).rejects.toMatchObject({ status: 400 });
    expect(mcpCalls()).toHaveLength(0);
  });
});

describe('model-driven web search (Kiro decides to search)', () => {
  const question = <S extends boolean>(stream: S, extra: Omit<Partial<Anthropic.MessageCreateParamsNonStreaming>, 'stream'> = {}) => ({
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    stream,
    messages: [{ role: 'user' as const, content: 'What is new in Node.js 24?' }],
    tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const, max_uses: 3 }],
    ...extra,
  });

  it('offers Kiro a plain web_search function, runs its call through MCP, and streams the second answer after the blocks', async () => {
    h.upstream.scriptNext(
      toolReply({ name: 'web_search', input: { query: 'Node.js 24 release notes' } }, { text: 'Let me check the latest release.' }),
      textReply('Node.js 24 ships V8 13.6 and npm 11 (https://nodejs.org/en/blog/release/v24.0.0).'),
    );
    const message = await h.client.messages.stream(question(true)).finalMessage();
    expect(message.content.map((b) => b.type)).toEqual(['text', 'server_tool_use', 'web_search_tool_result', 'text']);
    expect(message.content[0]).toMatchObject({ text: 'Let me check the latest release.' });
    expect(message.content[1]).toMatchObject({ name: 'web_search', input: { query: 'Node.js 24 release notes' } });
    expect(message.content[3]).toMatchObject({ text: 'Node.js 24 ships V8 13.6 and npm 11 (https://nodejs.org/en/blog/release/v24.0.0).' });
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.server_tool_use?.web_search_requests).toBe(1);

    const [first, second] = h.upstream.generateBodies;
    // Kiro got a function with a real schema, never the schemaless server tool.
    const offered = current(first!).userInputMessageContext!.tools!.map((t) => t.toolSpecification);
    expect(offered).toHaveLength(1);
    expect(offered[0]).toMatchObject({ name: 'web_search', inputSchema: { json: { properties: { query: { type: 'string' } }, required: ['query'] } } });
    // The follow-up call carries the search as the tool's call and result.
    const history = second!.conversationState!.history!;
    const lastAssistant = history.at(-1)!.assistantResponseMessage!;
    expect(lastAssistant.content).toBe('Let me check the latest release.');
    expect(lastAssistant.toolUses).toEqual([
      { toolUseId: expect.stringMatching(/^tooluse_/), name: 'web_search', input: { query: 'Node.js 24 release notes' } },
    ]);
    const results = current(second!).userInputMessageContext!.toolResults!;
    expect(results).toHaveLength(1);
    expect(results[0]!.toolUseId).toBe(lastAssistant.toolUses![0]!.toolUseId);
    const resultText = (results[0]!.content as { text: string }[])[0]!.text;
    for (const r of RESULTS) expect(resultText).toContain(r.snippet);
    expect(mcpCalls()).toHaveLength(1);
  });

  it('builds the same message without streaming', async () => {
    h.upstream.scriptNext(toolReply({ name: 'web_search', input: { query: 'node 24' } }), textReply('It is out.'));
    const message = await h.client.messages.create(question(false));
    expect(message.content.map((b) => b.type)).toEqual(['server_tool_use', 'web_search_tool_result', 'text']);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.server_tool_use?.web_search_requests).toBe(1);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
  });

  it('passes through an answer that needs no search', async () => {
    h.upstream.scriptNext(textReply('I know this one.'));
    const message = await h.client.messages.create(question(false));
    expect(message.content).toEqual([{ type: 'text', text: 'I know this one.' }]);
    expect(message.usage.server_tool_use?.web_search_requests).toBe(0);
    expect(mcpCalls()).toHaveLength(0);
  });

  it('ends with tool_use when Kiro also calls a client tool, and feeds the searches back on the next turn', async () => {
    const weather = {
      name: 'get_weather',
      description: 'Weather for a city',
      input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
    };
    h.upstream.scriptNext(
      toolReply([
        { name: 'web_search', input: { query: 'Paris events today' } },
        { name: 'get_weather', input: { city: 'Paris' } },
      ]),
    );
    const tools = [weather, { type: 'web_search_20250305' as const, name: 'web_search' as const }];
    const first = await h.client.messages.create(question(false, { tools, messages: [{ role: 'user', content: 'Plan my day in Paris.' }] }));
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content.map((b) => b.type)).toEqual(['tool_use', 'server_tool_use', 'web_search_tool_result']);
    const clientCall = first.content[0] as Anthropic.ToolUseBlock;
    expect(clientCall).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    expect(h.upstream.generateRequests).toHaveLength(1);

    // The client runs its tool and sends everything back, server blocks included.
    h.upstream.scriptNext(textReply('Sunny; the Louvre has a late opening.'));
    const second = await h.client.messages.create(
      question(false, {
        tools,
        messages: [
          { role: 'user', content: 'Plan my day in Paris.' },
          { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: clientCall.id, content: '22°C, sunny' }] },
        ],
      }),
    );
    expect(second.content).toEqual([{ type: 'text', text: 'Sunny; the Louvre has a late opening.' }]);
    const body = h.upstream.generateBodies[1]!;
    const toolUses = body.conversationState!.history!.flatMap((e) => e.assistantResponseMessage?.toolUses ?? []);
    expect(toolUses.map((u) => u.name).sort()).toEqual(['get_weather', 'web_search']);
    const texts = (current(body).userInputMessageContext!.toolResults ?? []).map((r) => (r.content as { text: string }[])[0]!.text);
    expect(texts.some((t) => t.includes(RESULTS[0]!.snippet))).toBe(true);
    expect(texts).toContain('22°C, sunny');
  });

  it('honours max_uses: a search beyond it gets max_uses_exceeded, and the next call has no search tool', async () => {
    h.upstream.scriptNext(
      toolReply([
        { name: 'web_search', input: { query: 'first' } },
        { name: 'web_search', input: { query: 'second' } },
      ]),
      textReply('Answer from one search.'),
    );
    const message = await h.client.messages.create(question(false, { tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 1 }] }));
    expect(message.content.map((b) => b.type)).toEqual(['server_tool_use', 'web_search_tool_result', 'server_tool_use', 'web_search_tool_result', 'text']);
    expect(message.content[3]).toMatchObject({ content: { type: 'web_search_tool_result_error', error_code: 'max_uses_exceeded' } });
    expect(message.usage.server_tool_use?.web_search_requests).toBe(1);
    expect(mcpCalls()).toHaveLength(1);
    const lastTools = current(h.upstream.generateBodies[1]!).userInputMessageContext!.tools ?? [];
    expect(lastTools.every((t) => !String(t.toolSpecification?.description).startsWith('Search the web'))).toBe(true);
  });

  it(`stops after ${MAX_MODEL_CALLS} model calls with pause_turn when Kiro keeps searching`, async () => {
    h.upstream.script(toolReply({ name: 'web_search', input: { query: 'again' } }));
    const message = await h.client.messages.create(question(false, { tools: [{ type: 'web_search_20250305', name: 'web_search' }] }));
    expect(h.upstream.generateRequests).toHaveLength(MAX_MODEL_CALLS);
    expect(message.stop_reason).toBe('pause_turn');
    expect(mcpCalls()).toHaveLength(MAX_MODEL_CALLS - 1);
    expect(message.usage.server_tool_use?.web_search_requests).toBe(MAX_MODEL_CALLS - 1);
    expect(message.content.at(-1)).toMatchObject({ type: 'web_search_tool_result', content: { error_code: 'max_uses_exceeded' } });
  });

  it('lets a forced search (tool_choice) run once, then lets the model answer', async () => {
    h.upstream.scriptNext(toolReply({ name: 'web_search', input: { query: 'node 24' } }), textReply('Done.'));
    await h.client.messages.create(question(false, { tool_choice: { type: 'tool', name: 'web_search' } }));
    const [first, second] = h.upstream.generateBodies;
    expect(first!.conversationState!.chatTriggerType).toBe('AUTO');
    expect(second!.conversationState!.chatTriggerType).toBe('MANUAL');
  });

  it('answers a failing first call with a real HTTP error, and a failing follow-up with an SSE error after the blocks', async () => {
    h.upstream.scriptNext(upstreamErrors.improperlyFormed());
    await expect(h.client.messages.create(question(false))).rejects.toMatchObject({ status: 400 });

    h.upstream.scriptNext(toolReply({ name: 'web_search', input: { query: 'node 24' } }), upstreamErrors.internal());
    const events = await rawEvents(question(true));
    const names = events.map((e) => e.event);
    expect(names.slice(0, 1)).toEqual(['message_start']);
    expect(names.at(-1)).toBe('error');
    expect(names).not.toContain('message_stop');
    expect(events.filter((e) => e.event === 'content_block_start').map((e) => (e.data.content_block as { type: string }).type)).toEqual([
      'server_tool_use',
      'web_search_tool_result',
    ]);
    expect(events.at(-1)!.data).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });
});

describe('count_tokens with the web search tool', () => {
  it("counts Claude Code's search request (tool_choice naming web_search) instead of refusing it", async () => {
    const { stream: _stream, max_tokens: _max, ...body } = claudeCodeSearch('node 24', false);
    const counted = await h.client.messages.countTokens(body);
    expect(counted.input_tokens).toBeGreaterThan(10);
    const without = await h.client.messages.countTokens({ ...body, tools: [], tool_choice: undefined });
    expect(counted.input_tokens).toBeGreaterThan(without.input_tokens);
  });
});
