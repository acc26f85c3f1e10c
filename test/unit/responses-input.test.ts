import { describe, expect, it } from 'vitest';
import { OpenAIRequestError } from '../../src/bridge/openai/openai-errors';
import { parseResponsesRequest, type ResponsesParseOptions } from '../../src/bridge/responses/responses-input';
import { ResponsesStore, type StoredResponse } from '../../src/bridge/responses/responses-store';
import { openReasoning, sealReasoning } from '../../src/bridge/responses/reasoning-envelope';
import { toKiroRequest } from '../../src/kiro/request/convert';
import { validateGenerateBody } from '../support/fake-upstream/validate';

const PNG_2X3 = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAEklEQVR4nGP4z8DAwMDAxAAAJAYBA+o3uu8AAAAASUVORK5CYII=';

const parse = (body: Record<string, unknown>, options: Partial<ResponsesParseOptions> = {}) =>
  parseResponsesRequest({ model: 'claude-sonnet-4-5', ...body }, { defaultThinkingBudget: 16_000, ...options });

function refusal(body: Record<string, unknown>, options: Partial<ResponsesParseOptions> = {}): OpenAIRequestError {
  try {
    parse(body, options);
  } catch (error) {
    expect(error).toBeInstanceOf(OpenAIRequestError);
    return error as OpenAIRequestError;
  }
  throw new Error('the body was accepted');
}

describe('parseResponsesRequest: input', () => {
  it('a string input is one user message; instructions are the system prompt', () => {
    const { request, echo, notes } = parse({ input: 'hello', instructions: 'Be brief.' });
    expect(request).toMatchObject({
      api: 'responses',
      model: 'claude-sonnet-4-5',
      system: ['Be brief.'],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
      stream: false,
    });
    expect(echo).toMatchObject({
      instructions: 'Be brief.',
      store: true,
      parallel_tool_calls: true,
      tool_choice: 'auto',
      truncation: 'disabled',
      previous_response_id: null,
    });
    expect(notes).toEqual([]);
  });

  it('a Codex-shaped conversation: developer text, reasoning, calls and their outputs, merged into turns', () => {
    const { request, notes, inputSystem } = parse({
      instructions: 'You are Codex.',
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: '<permissions>sandboxed</permissions>' }] },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'list files' },
            { type: 'input_image', image_url: `data:image/png;base64,${PNG_2X3}` },
          ],
        },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'short' }], content: [{ type: 'reasoning_text', text: 'I should run ls.' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Running ls.' }] },
        { type: 'function_call', call_id: 'call_1', name: 'shell', arguments: '{"command":["ls"]}' },
        { type: 'function_call', call_id: 'call_2', name: 'shell', arguments: '{"command":["pwd"]}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'a.txt\nb.txt' },
        { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '/work' }] },
        { role: 'user', content: 'and now?' },
      ],
      tools: [
        {
          type: 'function',
          name: 'shell',
          description: 'Runs a command',
          parameters: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } } }, required: ['command'] },
          strict: false,
        },
      ],
    });
    expect(notes).toEqual([]);
    expect(inputSystem).toEqual(['<permissions>sandboxed</permissions>']);
    expect(request.system).toEqual(['You are Codex.', '<permissions>sandboxed</permissions>']);
    expect(request.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'list files' },
          { type: 'image', mediaType: 'image/png', data: PNG_2X3 },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'I should run ls.' },
          { type: 'text', text: 'Running ls.' },
          { type: 'tool_use', id: 'call_1', name: 'shell', input: { command: ['ls'] } },
          { type: 'tool_use', id: 'call_2', name: 'shell', input: { command: ['pwd'] } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', toolUseId: 'call_1', content: [{ type: 'text', text: 'a.txt\nb.txt' }], isError: false },
          { type: 'tool_result', toolUseId: 'call_2', content: [{ type: 'text', text: '/work' }], isError: false },
          { type: 'text', text: 'and now?' },
        ],
      },
    ]);
    const converted = toKiroRequest(request, { kiroModel: 'claude-sonnet-4.5' });
    expect(converted.repairs.filter((r) => !r.routine)).toEqual([]);
    expect(validateGenerateBody(converted.body, { models: ['claude-sonnet-4.5'] })).toBeUndefined();
  });

  it('reasoning with only a summary uses the summary; encrypted-only reasoning is dropped with a note', () => {
    const { request, notes } = parse({
      input: [
        { role: 'user', content: 'q' },
        {
          type: 'reasoning',
          summary: [
            { type: 'summary_text', text: 'a' },
            { type: 'summary_text', text: 'b' },
          ],
        },
        { type: 'reasoning', summary: [], encrypted_content: 'gAAAA…' },
        { role: 'assistant', content: 'answer' },
        { role: 'user', content: 'q2' },
      ],
    });
    expect(request.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'a\n\nb' },
        { type: 'text', text: 'answer' },
      ],
    });
    expect(notes).toEqual(['input[2]: an encrypted reasoning item was dropped (only OpenAI can read it)']);
  });

  it("the bridge's own envelope replays Kiro's reasoning exactly, whatever summary or content beside it", () => {
    const { request, notes, encryptedReasoning } = parse({
      include: ['reasoning.encrypted_content'],
      input: [
        { role: 'user', content: 'q' },
        {
          type: 'reasoning',
          summary: [{ type: 'summary_text', text: 'a summary' }],
          encrypted_content: sealReasoning({ text: 'exact text\n', signature: 'EqQBKiro==' }),
        },
        { type: 'reasoning', summary: [], encrypted_content: sealReasoning({ redacted: 'b3BhcXVl' }) },
        { type: 'reasoning', summary: [], encrypted_content: sealReasoning({ text: 'tag-split' }) },
        { role: 'assistant', content: 'answer' },
        { role: 'user', content: 'q2' },
      ],
    });
    expect(encryptedReasoning).toBe(true);
    expect(request.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'exact text\n', signature: 'EqQBKiro==' },
        { type: 'redacted_thinking', data: 'b3BhcXVl' },
        { type: 'thinking', thinking: 'tag-split' },
        { type: 'text', text: 'answer' },
      ],
    });
    expect(notes).toEqual([]);
    expect(parse({ input: 'x' }).encryptedReasoning).toBe(false);
    expect(openReasoning('kiro-bridge.reasoning.v1.not-base64-json')).toBeUndefined();
  });

  it('hosted tool items and tools are dropped with notes; unknown ones are refused', () => {
    const { request, notes } = parse({
      input: [
        { role: 'user', content: 'q' },
        { type: 'web_search_call', id: 'ws_1', status: 'completed' },
        { role: 'user', content: 'more' },
      ],
      tools: [{ type: 'web_search' }, { type: 'function', name: 'f' }],
    });
    expect(request.tools.map((t) => t.name)).toEqual(['f']);
    expect(notes).toEqual([
      'tools[0]: dropped the hosted tool "web_search" (Kiro cannot run OpenAI\'s hosted tools)',
      'input[1]: dropped a web_search_call item (Kiro cannot carry hosted tool calls)',
    ]);
    expect(refusal({ input: [{ type: 'telepathy' }] }).param).toBe('input[0].type');
    expect(refusal({ input: 'x', tools: [{ type: 'holodeck' }] }).param).toBe('tools[0].type');
  });

  it('custom tools take a free-form string, carried as {"input": …}; their grammar goes in the description', () => {
    const { request, customTools } = parse({
      input: [
        { role: 'user', content: 'patch it' },
        { type: 'custom_tool_call', call_id: 'c1', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' },
        { type: 'custom_tool_call_output', call_id: 'c1', output: 'Done!' },
      ],
      tools: [{ type: 'custom', name: 'apply_patch', description: 'Apply a patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' } }],
    });
    expect(customTools).toEqual(new Set(['apply_patch']));
    expect(request.tools[0]).toEqual({
      name: 'apply_patch',
      description: 'Apply a patch\n\nThe input must follow this lark grammar:\nstart: "x"',
      inputSchema: {
        type: 'object',
        properties: { input: { type: 'string', description: 'The free-form input for the tool, which must follow this lark grammar.' } },
        required: ['input'],
      },
    });
    expect(request.messages[1]!.content).toEqual([{ type: 'tool_use', id: 'c1', name: 'apply_patch', input: { input: '*** Begin Patch\n*** End Patch' } }]);
  });

  it('namespace tools are flattened to <namespace>__<name>; replayed calls with a namespace get the same name', () => {
    const spawnSchema = { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] };
    const { request, namespacedTools, notes } = parse({
      input: [
        { role: 'user', content: 'delegate' },
        { type: 'function_call', call_id: 'c1', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: '{"message":"go"}' },
        { type: 'function_call_output', call_id: 'c1', output: '{"agent_id":"a1"}' },
        { type: 'function_call', call_id: 'c2', name: 'get_me', namespace: 'mcp__github__', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c2', output: 'octocat' },
      ],
      tools: [
        { type: 'function', name: 'exec_command', parameters: { type: 'object', properties: { cmd: { type: 'string' } } } },
        {
          type: 'namespace',
          name: 'multi_agent_v1',
          description: 'Tools for spawning and managing sub-agents.',
          tools: [
            { type: 'function', name: 'spawn_agent', description: 'Spawn a sub-agent.', strict: false, parameters: spawnSchema },
            { type: 'function', name: 'close_agent', description: '', parameters: { type: 'object', properties: {} } },
          ],
        },
        // Codex's MCP namespaces end in "__"; Codex trims the underscores around the delimiter.
        { type: 'namespace', name: 'mcp__github__', tools: [{ type: 'function', name: 'get_me', description: 'Who am I?' }] },
      ],
      tool_choice: { type: 'function', name: 'spawn_agent', namespace: 'multi_agent_v1' },
    });
    expect(notes).toEqual([]);
    expect(request.tools).toEqual([
      { name: 'exec_command', description: '', inputSchema: { type: 'object', properties: { cmd: { type: 'string' } } } },
      {
        name: 'multi_agent_v1__spawn_agent',
        description: 'Spawn a sub-agent.\n\nPart of the multi_agent_v1 tool group (Tools for spawning and managing sub-agents.).',
        inputSchema: spawnSchema,
      },
      {
        name: 'multi_agent_v1__close_agent',
        description: 'Part of the multi_agent_v1 tool group (Tools for spawning and managing sub-agents.).',
        inputSchema: { type: 'object', properties: {} },
      },
      { name: 'mcp__github__get_me', description: 'Who am I?\n\nPart of the mcp__github__ tool group.', inputSchema: { type: 'object', properties: {} } },
    ]);
    expect([...namespacedTools]).toEqual([
      ['multi_agent_v1__spawn_agent', { namespace: 'multi_agent_v1', name: 'spawn_agent' }],
      ['multi_agent_v1__close_agent', { namespace: 'multi_agent_v1', name: 'close_agent' }],
      ['mcp__github__get_me', { namespace: 'mcp__github__', name: 'get_me' }],
    ]);
    expect(request.toolChoice).toEqual({ type: 'tool', name: 'multi_agent_v1__spawn_agent' });
    expect(request.messages[1]!.content).toEqual([{ type: 'tool_use', id: 'c1', name: 'multi_agent_v1__spawn_agent', input: { message: 'go' } }]);
    expect(request.messages[3]!.content).toEqual([{ type: 'tool_use', id: 'c2', name: 'mcp__github__get_me', input: {} }]);
  });

  it('flattened names Kiro cannot take are shortened reversibly, like every other tool name', () => {
    const namespace = 'mcp__a_server_whose_name_alone_is_nearly_the_whole_budget__';
    const { request } = parse({
      input: 'hi',
      tools: [{ type: 'namespace', name: namespace, tools: [{ type: 'function', name: 'fetch_the_thing', description: 'Fetch.' }] }],
    });
    const flat = 'mcp__a_server_whose_name_alone_is_nearly_the_whole_budget__fetch_the_thing';
    expect(request.tools.map((t) => t.name)).toEqual([flat]);
    const { body, toolNames } = toKiroRequest(request, { kiroModel: 'claude-sonnet-4.5' });
    const sent = body.conversationState.currentMessage.userInputMessage.userInputMessageContext!.tools![0]!.toolSpecification.name;
    expect(sent.length).toBeLessThanOrEqual(63);
    expect(toolNames.fromKiro(sent)).toBe(flat);
  });

  it('a namespace holds function tools only, and its members must not clash with other tools', () => {
    expect(refusal({ input: 'x', tools: [{ type: 'namespace', name: 'ns', tools: [{ type: 'custom', name: 'c' }] }] }).param).toBe('tools[0].tools[0].type');
    expect(refusal({ input: 'x', tools: [{ type: 'namespace', name: '', tools: [] }] }).param).toBe('tools[0].name');
    expect(refusal({ input: 'x', tools: [{ type: 'namespace', name: 'ns', tools: 'spawn' }] }).param).toBe('tools[0].tools');
    expect(
      refusal({
        input: 'x',
        tools: [
          { type: 'function', name: 'ns__f' },
          { type: 'namespace', name: 'ns', tools: [{ type: 'function', name: 'f' }] },
        ],
      }).param,
    ).toBe('tools[1].tools[0].name');
  });

  it('accepts every field Codex sends; tool_search and its items are dropped with notes', () => {
    const { request, notes, echo } = parse({
      input: [
        { type: 'message', id: 'msg_1', role: 'developer', content: [{ type: 'input_text', text: 'rules' }] },
        { type: 'message', id: 'msg_2', role: 'user', content: [{ type: 'input_text', text: 'find a tool' }] },
        { type: 'tool_search_call', call_id: 'ts1', execution: 'client', arguments: { query: 'calendar' }, status: 'completed' },
        { type: 'tool_search_output', call_id: 'ts1', execution: 'client', status: 'completed', tools: [] },
        { type: 'message', id: 'msg_3', role: 'user', content: [{ type: 'input_text', text: 'go on' }] },
      ],
      tools: [
        { type: 'tool_search', execution: 'client', description: 'Search tools', parameters: { type: 'object', properties: {} } },
        { type: 'web_search', external_web_access: false },
      ],
      store: false,
      stream: true,
      include: ['reasoning.encrypted_content'],
      reasoning: { summary: 'auto' },
      prompt_cache_key: '01a24d0c-4e57-71c1-9b8d-0eddaeeb8a2b',
      client_metadata: { 'x-codex-window-id': '01a24d0c:0', thread_id: '01a24d0c' },
      parallel_tool_calls: true,
      tool_choice: 'auto',
    });
    expect(request).toMatchObject({ system: ['rules'], tools: [], stream: true, sessionKey: '01a24d0c-4e57-71c1-9b8d-0eddaeeb8a2b' });
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'find a tool' }] },
      { role: 'user', content: [{ type: 'text', text: 'go on' }] },
    ]);
    expect(echo).toMatchObject({ store: false, reasoning: { effort: null, summary: 'auto' } });
    expect(notes).toEqual([
      'tools[0]: dropped the "tool_search" tool (Kiro cannot load deferred tools; tools held back for it are not offered)',
      'tools[1]: dropped the hosted tool "web_search" (Kiro cannot run OpenAI\'s hosted tools)',
      'input[2]: dropped a tool_search_call item (Kiro cannot carry hosted tool calls)',
      'input[3]: dropped a tool_search_output item (Kiro cannot carry hosted tool calls)',
    ]);
  });

  it('refuses remote images, files, and bad roles, naming the field', () => {
    expect(refusal({ input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] }).param).toBe(
      'input[0].content[0].image_url',
    );
    expect(refusal({ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }] }).param).toBe('input[0].content[0].file_id');
    expect(refusal({ input: [{ role: 'user', content: [{ type: 'input_file', file_data: 'x' }] }] }).param).toBe('input[0].content[0].type');
    expect(refusal({ input: [{ role: 'wizard', content: 'x' }] }).param).toBe('input[0].role');
    expect(refusal({ input: [{ role: 'developer', content: 'only rules' }] }).param).toBe('input');
    expect(refusal({}).param).toBe('input');
  });
});

describe('parseResponsesRequest: options', () => {
  it('maps max_output_tokens, temperature, stream, store, reasoning and tool_choice', () => {
    const tools = [{ type: 'function', name: 'f', parameters: { type: 'object', properties: {} } }];
    const { request, echo, thinkingOff } = parse({
      input: 'x',
      max_output_tokens: 500,
      temperature: 0.2,
      top_p: 0.9,
      stream: true,
      store: false,
      reasoning: { effort: 'high', summary: 'auto' },
      tools,
      tool_choice: { type: 'function', name: 'f' },
      metadata: { a: 'b' },
      prompt_cache_key: 'conv-1',
      include: ['reasoning.encrypted_content'],
    });
    expect(request).toMatchObject({
      maxTokens: 500,
      temperature: 0.2,
      stream: true,
      thinking: { budgetTokens: 32_000 },
      toolChoice: { type: 'tool', name: 'f' },
      sessionKey: 'conv-1',
    });
    expect(echo).toMatchObject({
      max_output_tokens: 500,
      temperature: 0.2,
      top_p: 0.9,
      store: false,
      reasoning: { effort: 'high', summary: 'auto' },
      tool_choice: { type: 'function', name: 'f' },
      tools,
      metadata: { a: 'b' },
    });
    expect(thinkingOff).toBe(false);
    expect(parse({ input: 'x', reasoning: { effort: 'none' } }).thinkingOff).toBe(true);
    expect(parse({ input: 'x', tools, tool_choice: 'required' }).request.toolChoice).toEqual({ type: 'any' });
  });

  it('what Kiro or the bridge cannot do is a clear 400', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ background: true }, 'background'],
      [{ conversation: 'conv_1' }, 'conversation'],
      [{ prompt: { id: 'pmpt_1' } }, 'prompt'],
      [{ top_logprobs: 2 }, 'top_logprobs'],
      [{ tool_choice: { type: 'web_search_preview' }, tools: [{ type: 'function', name: 'f' }] }, 'tool_choice.type'],
    ];
    for (const [extra, param] of cases) {
      const error = refusal({ input: 'x', ...extra });
      expect(error.param).toBe(param);
      expect(error.code).toBe('unsupported_parameter');
    }
    expect(() => parse({ input: 'x', text: { format: { type: 'text' }, verbosity: 'low' }, truncation: 'auto', service_tier: 'auto' })).not.toThrow();
  });
});

describe('text.format', () => {
  it('JSON formats become the neutral response format and are echoed as sent', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
    const format = { type: 'json_schema', name: 'thing', schema, strict: true };
    const parsed = parse({ input: 'x', text: { format, verbosity: 'low' } });
    expect(parsed.request.responseFormat).toEqual({ name: 'thing', schema, param: 'text.format.schema' });
    expect(parsed.echo.text).toEqual({ format });
    const object = parse({ input: 'x', text: { format: { type: 'json_object' } } });
    expect(object.request.responseFormat).toEqual({ param: 'text.format' });
    expect(object.echo.text).toEqual({ format: { type: 'json_object' } });
    expect(parse({ input: 'x' }).echo.text).toEqual({ format: { type: 'text' } });
  });

  it('a malformed format is a 400 naming the field', () => {
    expect(refusal({ input: 'x', text: 'json' }).param).toBe('text');
    expect(refusal({ input: 'x', text: { format: { type: 'xml' } } }).param).toBe('text.format.type');
    expect(refusal({ input: 'x', text: { format: { type: 'json_schema', schema: {} } } }).param).toBe('text.format.name');
    expect(refusal({ input: 'x', text: { format: { type: 'json_schema', name: 'x', schema: [] } } }).param).toBe('text.format.schema');
  });
});

describe('previous_response_id', () => {
  const stored: StoredResponse = {
    id: 'resp_prev',
    system: ['<env>linux</env>'],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'My name is Ada.' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Hello Ada.' }] },
    ],
    response: { id: 'resp_prev' },
    items: [],
  };

  it('continues the stored conversation (its input system text kept, instructions not carried over)', () => {
    const store = new ResponsesStore();
    store.put(stored);
    const { request, echo } = parse(
      { input: 'What is my name?', instructions: 'New rules.', previous_response_id: 'resp_prev' },
      { previous: (id) => store.get(id) },
    );
    expect(request.system).toEqual(['New rules.', '<env>linux</env>']);
    expect(request.messages.map((m) => m.content[0])).toEqual([
      { type: 'text', text: 'My name is Ada.' },
      { type: 'text', text: 'Hello Ada.' },
      { type: 'text', text: 'What is my name?' },
    ]);
    expect(echo.previous_response_id).toBe('resp_prev');
    // the stored conversation itself is not changed by the new request
    expect(store.get('resp_prev')!.messages).toHaveLength(2);
  });

  it('an unknown id is previous_response_not_found; no store at all is unsupported', () => {
    const error = refusal({ input: 'x', previous_response_id: 'resp_gone' }, { previous: () => undefined });
    expect(error).toMatchObject({ param: 'previous_response_id', code: 'previous_response_not_found', status: 400 });
    expect(error.message).toMatch(/not found.*send the whole conversation/);
    expect(refusal({ input: 'x', previous_response_id: 'resp_prev' }).code).toBe('unsupported_parameter');
  });
});

describe('item_reference', () => {
  // Output items as the bridge gave them to the client in an earlier response.
  const items = [
    { id: 'rs_1', type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Check the weather tool.' }] },
    {
      id: 'msg_1',
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'Let me check.', annotations: [], logprobs: [] }],
    },
    { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}', status: 'completed' },
    { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_2', name: 'apply_patch', input: '*** Begin Patch' },
  ];
  const earlier: StoredResponse = { id: 'resp_earlier', system: [], messages: [], response: { id: 'resp_earlier', output: items }, items };
  const store = new ResponsesStore();
  store.put(earlier);
  const item = (id: string) => store.item(id);
  const tools = [
    { type: 'function', name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    { type: 'custom', name: 'apply_patch' },
  ];
  const tail = [
    { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
    { type: 'custom_tool_call_output', call_id: 'call_2', output: 'patched' },
  ];

  it('a reference is replaced by the stored item: the same request as sending the items themselves', () => {
    const byReference = parse(
      {
        input: [{ role: 'user', content: 'Weather in Paris?' }, ...['rs_1', 'msg_1', 'fc_1', 'ctc_1'].map((id) => ({ type: 'item_reference', id })), ...tail],
        tools,
      },
      { item },
    );
    const inline = parse({ input: [{ role: 'user', content: 'Weather in Paris?' }, ...earlier.items, ...tail], tools });
    expect(byReference.request).toEqual(inline.request);
    expect(byReference.notes).toEqual([]);
    expect(byReference.request.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Check the weather tool.' },
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'apply_patch', input: { input: '*** Begin Patch' } },
      ],
    });
  });

  it('the Vercel AI SDK shape: the message by reference, the call itself (type optional on the reference)', () => {
    const { request } = parse(
      {
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris?' }] },
          { type: 'item_reference', id: 'msg_1' },
          { type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' },
          { type: 'function_call_output', call_id: 'call_1', output: '{"sky":"sunny"}' },
          { role: 'user', content: 'And the reasoning?' },
          { id: 'rs_1' },
        ],
        tools: tools.slice(0, 1),
      },
      { item },
    );
    expect(request.messages.map((m) => [m.role, m.content.map((b) => b.type)])).toEqual([
      ['user', ['text']],
      ['assistant', ['text', 'tool_use']],
      ['user', ['tool_result', 'text']],
      ['assistant', ['thinking']],
    ]);
  });

  it('an id the bridge does not hold is a 400 naming the field and saying to send the item itself', () => {
    const error = refusal(
      {
        input: [
          { role: 'user', content: 'q' },
          { type: 'item_reference', id: 'msg_evicted' },
        ],
      },
      { item },
    );
    expect(error).toMatchObject({ status: 400, param: 'input[1].id', code: 'item_not_found' });
    expect(error.message).toContain("Item with id 'msg_evicted' not found");
    expect(error.message).toMatch(/store: false.*send the item itself/);
    // a bridge without a store holds no items at all
    expect(refusal({ input: [{ type: 'item_reference', id: 'msg_1' }] }).param).toBe('input[0].id');
    expect(refusal({ input: [{ type: 'item_reference' }] }, { item }).param).toBe('input[0].id');
  });
});

describe('ResponsesStore', () => {
  const entry = (id: string, text = 'x', itemIds: string[] = []): StoredResponse => {
    const items = itemIds.map((itemId) => ({ id: itemId, type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] }));
    return { id, system: [], messages: [{ role: 'user', content: [{ type: 'text', text }] }], response: { id, output: items }, items };
  };

  it('keeps the most recently used entries within the count', () => {
    const store = new ResponsesStore({ maxEntries: 2 });
    store.put(entry('a'));
    store.put(entry('b'));
    store.get('a');
    store.put(entry('c'));
    expect(store.get('b')).toBeUndefined();
    expect(store.get('a')?.id).toBe('a');
    expect(store.get('c')?.id).toBe('c');
    expect(store.size).toBe(2);
  });

  it('keeps within the byte budget, refuses an entry larger than all of it, and deletes', () => {
    const store = new ResponsesStore({ maxBytes: 500 });
    store.put(entry('a', 'x'.repeat(200)));
    store.put(entry('b', 'y'.repeat(200)));
    expect(store.get('a')).toBeUndefined();
    expect(store.heldBytes).toBeLessThanOrEqual(500);
    expect(store.put(entry('huge', 'z'.repeat(1000)))).toBe(false);
    expect(store.get('huge')).toBeUndefined();
    expect(store.get('b')?.id).toBe('b');
    expect(store.delete('b')).toBe(true);
    expect(store.delete('b')).toBe(false);
    expect(store.heldBytes).toBe(0);
  });

  it('indexes output items by id while their response is held, and forgets them with it', () => {
    const store = new ResponsesStore({ maxEntries: 2 });
    store.put(entry('a', 'from a', ['msg_a1', 'fc_a2']));
    store.put(entry('b', 'from b', ['msg_b1']));
    expect(store.item('msg_a1')).toMatchObject({ id: 'msg_a1', content: [{ text: 'from a' }] });
    expect(store.item('fc_a2')?.id).toBe('fc_a2');
    expect(store.item('msg_nope')).toBeUndefined();
    // looking up an item counts as using its response: b is now the oldest and goes first
    store.put(entry('c', 'from c', ['msg_c1']));
    expect(store.get('b')).toBeUndefined();
    expect(store.item('msg_b1')).toBeUndefined();
    expect(store.item('msg_a1')?.id).toBe('msg_a1');
    expect(store.indexedItems).toBe(3);
    store.delete('a');
    expect(store.item('msg_a1')).toBeUndefined();
    expect(store.item('fc_a2')).toBeUndefined();
    expect(store.indexedItems).toBe(1);
    store.clear();
    expect(store.item('msg_c1')).toBeUndefined();
    expect(store.indexedItems).toBe(0);
  });

  it('replacing a response re-indexes its items; evicting for bytes drops the evicted items', () => {
    const store = new ResponsesStore({ maxBytes: 1000 });
    store.put(entry('a', 'one', ['msg_old']));
    store.put(entry('a', 'two', ['msg_new']));
    expect(store.item('msg_old')).toBeUndefined();
    expect(store.item('msg_new')).toMatchObject({ content: [{ text: 'two' }] });
    store.put(entry('b', 'y'.repeat(350), ['msg_b']));
    expect(store.get('a')).toBeUndefined();
    expect(store.item('msg_new')).toBeUndefined();
    expect(store.item('msg_b')?.id).toBe('msg_b');
    expect(store.indexedItems).toBe(1);
  });

  it("counts a reasoning envelope kept in the items when the client's copy went without it", () => {
    const envelope = 'e'.repeat(400);
    const reasoning = (shown: boolean): StoredResponse => {
      const item = { id: 'rs_1', type: 'reasoning', summary: [], content: [], encrypted_content: envelope };
      const { encrypted_content: _hidden, ...visible } = item;
      return { id: 'r', system: [], messages: [], response: { id: 'r', output: [shown ? item : visible] }, items: [item] };
    };
    const shownStore = new ResponsesStore();
    const shown = reasoning(true);
    shownStore.put(shown);
    const hiddenStore = new ResponsesStore();
    const hidden = reasoning(false);
    hiddenStore.put(hidden);
    // Shown, the envelope is in the response's size; hidden, it is counted from the item, once.
    expect(shownStore.heldBytes).toBe(2 + JSON.stringify(shown.response).length);
    expect(hiddenStore.heldBytes).toBe(2 + JSON.stringify(hidden.response).length + envelope.length);
    expect(new ResponsesStore({ maxBytes: 300 }).put(reasoning(false))).toBe(false);
  });

  it('putting the same id again replaces it without double counting', () => {
    const store = new ResponsesStore();
    store.put(entry('a', 'one'));
    const before = store.heldBytes;
    store.put(entry('a', 'two'));
    expect(store.heldBytes).toBe(before);
    expect(store.size).toBe(1);
  });
});
