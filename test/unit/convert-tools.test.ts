// Tool rules of toKiroRequest: definitions, names, schemas, results, pairing, tool_choice.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { USER_PLACEHOLDERS, toKiroRequest, type ConvertResult, type KiroHistoryEntry } from '../../src/kiro/request/convert';
import { normalizeToolSchema } from '../../src/kiro/request/schema';
import { MAX_KIRO_TOOL_NAME_LENGTH, ToolNames, shortenToolName } from '../../src/kiro/request/tool-names';
import { MAX_TOOL_DESCRIPTION_LENGTH, SYNTHESIZED_TOOL_DESCRIPTION } from '../../src/kiro/request/tools';
import type { ChatMessage, ChatRequest, ContentBlock, ToolDefinition } from '../../src/kiro/types';

const MODEL = 'claude-sonnet-4.5';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const chat = (messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest => ({
  api: 'anthropic',
  model: 'claude-sonnet-4-5',
  system: [],
  messages,
  tools: [],
  stopSequences: [],
  stream: false,
  ...extra,
});
const blocks = (content: (string | ContentBlock)[]): ContentBlock[] => content.map((c) => (typeof c === 'string' ? { type: 'text', text: c } : c));
const user = (...content: (string | ContentBlock)[]): ChatMessage => ({ role: 'user', content: blocks(content) });
const assistant = (...content: (string | ContentBlock)[]): ChatMessage => ({ role: 'assistant', content: blocks(content) });
const call = (id: string, name: string, input: unknown = {}): ContentBlock => ({ type: 'tool_use', id, name, input });
const result = (toolUseId: string, text: string | null, isError = false): ContentBlock => ({
  type: 'tool_result',
  toolUseId,
  content: text === null ? [] : [{ type: 'text', text }],
  isError,
});
const tool = (name: string, extra: Partial<ToolDefinition> = {}): ToolDefinition => ({
  name,
  description: `The ${name} tool.`,
  inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  ...extra,
});

const convert = (request: ChatRequest) => toKiroRequest(request, { kiroModel: MODEL });
const rules = (r: ConvertResult) => r.repairs.map((x) => x.rule);
const repair = (r: ConvertResult, rule: string) => r.repairs.find((x) => x.rule === rule)?.detail;
const toolSpecs = (r: ConvertResult) => r.body.conversationState.currentMessage.userInputMessage.userInputMessageContext.tools ?? [];
const toolNamesSent = (r: ConvertResult) => toolSpecs(r).map((t) => t.toolSpecification.name);
const current = (r: ConvertResult) => r.body.conversationState.currentMessage.userInputMessage;
const historyUser = (r: ConvertResult, i: number) =>
  (r.body.conversationState.history[i] as Extract<KiroHistoryEntry, { userInputMessage: unknown }>).userInputMessage;
const historyAssistant = (r: ConvertResult, i: number) =>
  (r.body.conversationState.history[i] as Extract<KiroHistoryEntry, { assistantResponseMessage: unknown }>).assistantResponseMessage;

describe('tool definitions', () => {
  it('offered tools go on the current message only, with their schema as inputSchema.json', () => {
    const r = convert(chat([user('q'), assistant('a'), user('list files')], { tools: [tool('Read')] }));
    expect(toolSpecs(r)).toEqual([
      {
        toolSpecification: {
          name: 'Read',
          description: 'The Read tool.',
          inputSchema: { json: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
        },
      },
    ]);
    expect(JSON.stringify(r.body.conversationState.history)).not.toContain('"tools"');
    expect(r.repairs).toEqual([]);
  });

  it('a tool used in history but no longer offered gets a stub definition', () => {
    const r = convert(
      chat([user('q'), assistant(call('t1', 'Glob', { pattern: '*' })), user(result('t1', 'a.ts')), assistant('done'), user('thanks')], {
        tools: [tool('Read')],
      }),
    );
    expect(toolSpecs(r)).toEqual([
      expect.objectContaining({ toolSpecification: expect.objectContaining({ name: 'Read' }) }),
      {
        toolSpecification: { name: 'Glob', description: SYNTHESIZED_TOOL_DESCRIPTION, inputSchema: { json: { type: 'object', properties: {}, required: [] } } },
      },
    ]);
    expect(SYNTHESIZED_TOOL_DESCRIPTION.trim()).not.toBe('');
    expect(repair(r, 'tool-definition-synthesized')).toBe('Glob: used earlier but not offered now; a stub definition was sent');
  });

  it('tools used in history are defined even when the request offers no tools at all', () => {
    const r = convert(chat([user('q'), assistant(call('t1', 'Bash', { command: 'ls' })), user(result('t1', 'x'))]));
    expect(toolNamesSent(r)).toEqual(['Bash']);
  });

  it('an empty description is filled with the tool name', () => {
    const r = convert(chat([user('q')], { tools: [tool('Read', { description: '   ' })] }));
    expect(toolSpecs(r)[0]!.toolSpecification.description).toBe('Read');
    expect(repair(r, 'tool-description-filled')).toBe('Read: empty description replaced by the tool name');
  });

  it(`descriptions are cut at ${MAX_TOOL_DESCRIPTION_LENGTH} characters, never inside a character`, () => {
    const long = 'a'.repeat(MAX_TOOL_DESCRIPTION_LENGTH - 1) + '😀' + 'tail';
    const r = convert(chat([user('q')], { tools: [tool('Read', { description: long })] }));
    const sent = toolSpecs(r)[0]!.toolSpecification.description;
    expect(Array.from(sent)).toHaveLength(MAX_TOOL_DESCRIPTION_LENGTH);
    expect(sent.endsWith('😀')).toBe(true);
    expect(repair(r, 'tool-description-truncated')).toBe(`Read: description cut to ${MAX_TOOL_DESCRIPTION_LENGTH} characters`);
    const exact = convert(chat([user('q')], { tools: [tool('Read', { description: 'b'.repeat(MAX_TOOL_DESCRIPTION_LENGTH) })] }));
    expect(rules(exact)).toEqual([]);
  });

  it('a second definition of the same name is dropped', () => {
    const r = convert(chat([user('q')], { tools: [tool('Read'), tool('Read', { description: 'other' })] }));
    expect(toolSpecs(r).map((t) => t.toolSpecification.description)).toEqual(['The Read tool.']);
    expect(rules(r)).toEqual(['duplicate-tool-definition']);
  });

  it('schemas are cleaned and the changes listed per tool', () => {
    const r = convert(
      chat([user('q')], {
        tools: [
          tool('Edit', {
            inputSchema: {
              $schema: 'http://json-schema.org/draft-07/schema#',
              type: 'object',
              properties: { file: { $ref: '#/definitions/Path' }, mode: null },
              required: ['file', 'missing'],
              definitions: { Path: { type: 'string', description: 'A path' } },
            },
          }),
        ],
      }),
    );
    expect(toolSpecs(r)[0]!.toolSpecification.inputSchema.json).toEqual({
      type: 'object',
      properties: { file: { type: 'string', description: 'A path' }, mode: {} },
      required: ['file'],
    });
    expect(repair(r, 'tool-schema-normalized')).toBe(
      'Edit: dropped $schema, inlined $ref #/definitions/Path, replaced the ill-typed schema of $.properties.mode with {}, dropped definitions, dropped required names with no property: missing',
    );
    const many = convert(chat([user('q')], { tools: ['A', 'B', 'C'].map((n) => tool(n, { inputSchema: { $schema: 'x', type: 'object', properties: {} } })) }));
    expect(repair(many, 'tool-schema-cleaned')).toBe('A, B, C: dropped $schema');
    expect(many.repairs).toEqual([{ rule: 'tool-schema-cleaned', detail: 'A, B, C: dropped $schema', routine: true }]);
  });
});

describe('tool names longer than Kiro takes', () => {
  const longName = 'mcp__chrome-devtools-server__take_a_full_page_screenshot_of_the_current_tab_and_save_it';

  it('are shortened deterministically, the same in history and in the tool list, and restored by the map', () => {
    const r = convert(chat([user('q'), assistant(call('t1', longName, { x: 1 })), user(result('t1', 'saved'))], { tools: [tool(longName)] }));
    const short = shortenToolName(longName);
    expect(short).toHaveLength(MAX_KIRO_TOOL_NAME_LENGTH);
    const sha = createHash('sha256').update(longName).digest('hex');
    expect(short).toBe(`${longName.slice(0, MAX_KIRO_TOOL_NAME_LENGTH - 9)}_${sha.slice(0, 8)}`);
    expect(toolNamesSent(r)).toEqual([short]);
    expect(historyAssistant(r, 1).toolUses).toEqual([{ toolUseId: 't1', name: short, input: { x: 1 } }]);
    expect(r.toolNames.fromKiro(short)).toBe(longName);
    expect(r.toolNames.toKiro(longName)).toBe(short);
    expect(r.toolNames.fromKiro('Read')).toBe('Read');
    expect(repair(r, 'tool-name-shortened')).toMatch(new RegExp(`^${longName}: sent as ${short} `));
    // Stable across turns and requests.
    const again = convert(chat([user('other')], { tools: [tool(longName)] }));
    expect(toolNamesSent(again)).toEqual([short]);
  });

  it('names up to 63 characters of the accepted alphabet are untouched; others are mapped reversibly', () => {
    const names = new ToolNames();
    const ok = 'a'.repeat(63);
    expect(names.toKiro(ok)).toBe(ok);
    const dotted = names.toKiro('files.read');
    expect(dotted).toMatch(/^files_read_[0-9a-f]{8}$/);
    expect(names.fromKiro(dotted)).toBe('files.read');
    expect(names.toKiro('a'.repeat(64))).toHaveLength(63);
    expect(shortenToolName('x'.repeat(100))).not.toBe(shortenToolName('x'.repeat(101)));
  });
});

describe('server tools (web_search)', () => {
  it('are never sent to Kiro as plain tools', () => {
    const serverTool = { name: 'web_search', description: '', inputSchema: {}, type: 'web_search_20250305' } as ToolDefinition;
    const r = convert(chat([user('news?')], { tools: [serverTool, tool('Read')] }));
    expect(toolNamesSent(r)).toEqual(['Read']);
    expect(repair(r, 'server-tool-dropped')).toBe('web_search: server tool not sent to Kiro (it has no server-side tools)');
  });

  it('a client function named web_search with a real schema is an ordinary tool', () => {
    const own = tool('web_search', { inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } });
    const r = convert(chat([user('q'), assistant(call('t', 'web_search', { query: 'x' })), user(result('t', 'found'))], { tools: [own] }));
    expect(toolNamesSent(r)).toEqual(['web_search']);
    expect(current(r).userInputMessageContext.toolResults).toEqual([{ toolUseId: 't', content: [{ text: 'found' }], status: 'success' }]);
  });

  it('past web_search calls are carried as text, so no web_search definition is needed', () => {
    const r = convert(
      chat(
        [
          user('news?'),
          assistant('Searching.', call('srv1', 'web_search', { query: 'kiro' })),
          user(result('srv1', 'Kiro is an IDE')),
          assistant('It is an IDE.'),
          user('ok'),
        ],
        {
          tools: [{ name: 'web_search', description: '', inputSchema: {} }],
        },
      ),
    );
    expect(toolNamesSent(r)).toEqual([]);
    expect(historyAssistant(r, 1)).toEqual({ content: 'Searching.\n\n[web_search call: {"query":"kiro"}]' });
    expect(historyUser(r, 2).content).toBe('[web_search result]\nKiro is an IDE');
    expect(historyUser(r, 2).userInputMessageContext).toBeUndefined();
    expect(rules(r)).toEqual(['server-tool-call-as-text', 'server-tool-dropped']);
  });
});

describe('tool results', () => {
  it('carry text items and status from isError; a result-only user turn gets a placeholder', () => {
    const r = convert(
      chat([user('q'), assistant(call('a', 'Read'), call('b', 'Read')), user(result('a', 'line 1'), result('b', 'ENOENT', true))], { tools: [tool('Read')] }),
    );
    expect(current(r)).toEqual({
      content: USER_PLACEHOLDERS.toolResults,
      modelId: MODEL,
      origin: 'AI_EDITOR',
      userInputMessageContext: {
        tools: [expect.objectContaining({ toolSpecification: expect.objectContaining({ name: 'Read' }) })],
        toolResults: [
          { toolUseId: 'a', content: [{ text: 'line 1' }], status: 'success' },
          { toolUseId: 'b', content: [{ text: 'ENOENT' }], status: 'error' },
        ],
      },
    });
    expect(repair(r, 'user-content-placeholder')).toBe('message 2: user turn with only tool results sent with content "(tool results attached)"');
  });

  it('several text blocks of one result become one text item', () => {
    const block: ContentBlock = {
      type: 'tool_result',
      toolUseId: 'a',
      isError: false,
      content: [
        { type: 'text', text: 'one' },
        { type: 'text', text: 'two' },
      ],
    };
    const r = convert(chat([user('q'), assistant(call('a', 'Read')), user(block)], { tools: [tool('Read')] }));
    expect(current(r).userInputMessageContext.toolResults).toEqual([{ toolUseId: 'a', content: [{ text: 'one\ntwo' }], status: 'success' }]);
  });

  it("history tool results go in that turn's context, with the user text kept", () => {
    const r = convert(
      chat([user('q'), assistant(call('a', 'Read')), user(result('a', 'data'), 'now summarise'), assistant('Summary.'), user('thanks')], {
        tools: [tool('Read')],
      }),
    );
    expect(historyUser(r, 2)).toEqual({
      content: 'now summarise',
      modelId: MODEL,
      origin: 'AI_EDITOR',
      userInputMessageContext: { toolResults: [{ toolUseId: 'a', content: [{ text: 'data' }], status: 'success' }] },
    });
  });

  it('an empty result is not sent empty', () => {
    const r = convert(
      chat([user('q'), assistant(call('a', 'Bash'), call('b', 'Bash')), user(result('a', null), result('b', '', true))], { tools: [tool('Bash')] }),
    );
    expect(current(r).userInputMessageContext.toolResults).toEqual([
      { toolUseId: 'a', content: [{ text: '(no output)' }], status: 'success' },
      { toolUseId: 'b', content: [{ text: '(the tool failed without a message)' }], status: 'error' },
    ]);
    expect(repair(r, 'empty-tool-result')).toBe(
      'message 2: empty tool result sent as "(no output)"; message 2: empty tool result sent as "(the tool failed without a message)"',
    );
  });

  it('images inside a result travel as images of that user turn', () => {
    const shot: ContentBlock = {
      type: 'tool_result',
      toolUseId: 's',
      isError: false,
      content: [
        { type: 'text', text: 'screenshot' },
        { type: 'image', mediaType: 'image/png', data: PNG },
      ],
    };
    const r = convert(chat([user('q'), assistant(call('s', 'Screenshot')), user(shot)], { tools: [tool('Screenshot')] }));
    expect(current(r).images).toEqual([{ format: 'png', source: { bytes: PNG } }]);
    expect(current(r).userInputMessageContext.toolResults).toEqual([{ toolUseId: 's', content: [{ text: 'screenshot' }], status: 'success' }]);
    expect(repair(r, 'tool-result-images')).toBe('message 2: images inside a tool result sent as images of the user turn');
  });

  it('an orphan result (no matching call in the turn before) becomes plain text', () => {
    const r = convert(chat([user('q'), assistant('no tools here'), user(result('ghost', 'stale output', true), 'continue please')], { tools: [tool('Read')] }));
    expect(current(r).content).toBe('[result of tool call ghost (error)]\nstale output\n\ncontinue please');
    expect(current(r).userInputMessageContext.toolResults).toBeUndefined();
    expect(repair(r, 'orphan-tool-result')).toBe('message 2: result for tool call ghost, which the assistant turn before did not make, sent as text');
  });

  it('a result answering a call from an older turn is an orphan too', () => {
    const r = convert(
      chat([user('q'), assistant(call('old', 'Read')), user(result('old', 'x')), assistant('ok'), user(result('old', 'again'))], { tools: [tool('Read')] }),
    );
    expect(rules(r)).toContain('orphan-tool-result');
    expect(current(r).content).toBe('[result of tool call old]\nagain');
  });

  it('an unanswered call gets a synthetic error result', () => {
    const r = convert(
      chat([user('q'), assistant(call('a', 'Read'), call('b', 'Read')), user(result('a', 'ok')), assistant('fine'), user('next')], { tools: [tool('Read')] }),
    );
    expect(historyUser(r, 2).userInputMessageContext!.toolResults).toEqual([
      { toolUseId: 'a', content: [{ text: 'ok' }], status: 'success' },
      { toolUseId: 'b', content: [{ text: 'The tool call was not answered: no result was provided for it.' }], status: 'error' },
    ]);
    expect(repair(r, 'unanswered-tool-use')).toBe('message 1: tool call b had no result; an error result was added');
  });

  it('a call followed by a plain user message is answered with an error and the text kept', () => {
    const r = convert(chat([user('q'), assistant(call('a', 'Bash', { command: 'rm -rf /' })), user('No! Do not run that.')], { tools: [tool('Bash')] }));
    expect(current(r).content).toBe('No! Do not run that.');
    expect(current(r).userInputMessageContext.toolResults).toEqual([
      { toolUseId: 'a', content: [{ text: 'The tool call was not answered: no result was provided for it.' }], status: 'error' },
    ]);
  });

  it('a prefill with a tool call gets its call answered in the current message', () => {
    const r = convert(chat([user('q'), assistant('Let me look.', call('a', 'Read'))], { tools: [tool('Read')] }));
    expect(current(r).content).toBe('Continue.');
    expect(current(r).userInputMessageContext.toolResults).toEqual([expect.objectContaining({ toolUseId: 'a', status: 'error' })]);
    expect(rules(r)).toEqual(['assistant-prefill', 'unanswered-tool-use']);
  });

  it('a repeated call id in a later turn is renamed, with its result', () => {
    const r = convert(
      chat([user('q'), assistant(call('t', 'Read')), user(result('t', 'first')), assistant(call('t', 'Read')), user(result('t', 'second'))], {
        tools: [tool('Read')],
      }),
    );
    expect(historyAssistant(r, 3).toolUses).toEqual([{ toolUseId: 't_1', name: 'Read', input: {} }]);
    expect(current(r).userInputMessageContext.toolResults).toEqual([{ toolUseId: 't_1', content: [{ text: 'second' }], status: 'success' }]);
    expect(repair(r, 'duplicate-tool-use-id')).toBe('message 3: tool call id t was already used; renamed to t_1 (with its result)');
  });

  it('a repeated call id within one turn is renamed; results are matched in order; a third result is text', () => {
    const r = convert(
      chat(
        [user('q'), assistant(call('d', 'Read', { n: 1 }), call('d', 'Read', { n: 2 })), user(result('d', 'one'), result('d', 'two'), result('d', 'three'))],
        {
          tools: [tool('Read')],
        },
      ),
    );
    expect(historyAssistant(r, 1).toolUses!.map((t) => [t.toolUseId, t.input])).toEqual([
      ['d', { n: 1 }],
      ['d_1', { n: 2 }],
    ]);
    expect(current(r).userInputMessageContext.toolResults!.map((t) => [t.toolUseId, t.content[0]!.text])).toEqual([
      ['d', 'one'],
      ['d_1', 'two'],
    ]);
    expect(current(r).content).toBe('[result of tool call d]\nthree');
    expect(rules(r)).toEqual(['duplicate-tool-use-id', 'duplicate-tool-result', 'assistant-content-placeholder']);
  });

  it('a renamed id never collides with an id the client used elsewhere', () => {
    const r = convert(
      chat(
        [
          user('q'),
          assistant(call('t', 'Read'), call('t_1', 'Read')),
          user(result('t', 'a'), result('t_1', 'b')),
          assistant(call('t', 'Read')),
          user(result('t', 'c')),
        ],
        {
          tools: [tool('Read')],
        },
      ),
    );
    const ids = [...historyAssistant(r, 1).toolUses!, ...historyAssistant(r, 3).toolUses!].map((t) => t.toolUseId);
    expect(new Set(ids).size).toBe(3);
    expect(ids).toEqual(['t', 't_1', 't_2']);
  });

  it('a call with no id gets one', () => {
    const r = convert(chat([user('q'), assistant(call('', 'Read')), user('hm')], { tools: [tool('Read')] }));
    expect(historyAssistant(r, 1).toolUses![0]!.toolUseId).toBe('tooluse_kb_1');
    expect(rules(r)).toContain('missing-tool-use-id');
  });

  it('tool call input is always an object', () => {
    const r = convert(
      chat(
        [
          user('q'),
          assistant(call('a', 'T', '{"path":"x"}'), call('b', 'T', 42), call('c', 'T', null), call('d', 'T', [1])),
          user(result('a', '1'), result('b', '2'), result('c', '3'), result('d', '4')),
        ],
        {
          tools: [tool('T')],
        },
      ),
    );
    expect(historyAssistant(r, 1).toolUses!.map((t) => t.input)).toEqual([{ path: 'x' }, { value: 42 }, {}, { value: [1] }]);
    expect(repair(r, 'tool-use-input-wrapped')).toBe(
      'message 1: tool call input given as a JSON string sent as the object it holds; message 1: non-object tool call input sent as {"value": …} (Kiro takes only objects); message 1: missing tool call input sent as {}',
    );
  });
});

describe('tool_choice', () => {
  const tools = [tool('Read'), tool('Write')];

  it('auto (or none given) is chatTriggerType MANUAL', () => {
    expect(convert(chat([user('q')], { tools, toolChoice: { type: 'auto' } })).body.conversationState.chatTriggerType).toBe('MANUAL');
    expect(convert(chat([user('q')], { tools })).body.conversationState.chatTriggerType).toBe('MANUAL');
  });

  it('any is AUTO with an instruction at the end of the system prompt', () => {
    const r = convert(chat([user('q')], { tools, toolChoice: { type: 'any' }, system: ['S'] }));
    expect(r.body.conversationState.chatTriggerType).toBe('AUTO');
    expect(historyUser(r, 0).content).toBe('S\n\nYou must call at least one of the available tools in this response.');
    expect(rules(r)).toEqual(['tool-choice-required']);
  });

  it('a named tool is AUTO with an instruction naming the tool as Kiro sees it', () => {
    const long = 'mcp__server__' + 'very_long_tool_name_'.repeat(4);
    const r = convert(chat([user('q')], { tools: [...tools, tool(long)], toolChoice: { type: 'tool', name: long } }));
    expect(r.body.conversationState.chatTriggerType).toBe('AUTO');
    expect(historyUser(r, 0).content).toBe(`You must call the tool "${shortenToolName(long)}" in this response.`);
  });

  it('a named tool that is not offered is ignored, saying so', () => {
    const r = convert(chat([user('q')], { tools, toolChoice: { type: 'tool', name: 'Nope' } }));
    expect(r.body.conversationState.chatTriggerType).toBe('MANUAL');
    expect(r.body.conversationState.history).toEqual([]);
    expect(repair(r, 'tool-choice-unknown-tool')).toBe('tool_choice names "Nope", which is not among the tools sent; ignored');
  });

  it('none sends no tools when the conversation used none', () => {
    const r = convert(chat([user('q')], { tools, toolChoice: { type: 'none' } }));
    expect(toolSpecs(r)).toEqual([]);
    expect(r.body.conversationState.history).toEqual([]);
    expect(repair(r, 'tool-choice-none')).toBe('tool_choice none: 2 tools not sent');
  });

  it('none keeps the real definitions of tools used in history, and asks for text only', () => {
    const r = convert(
      chat([user('q'), assistant(call('a', 'Write', { path: 'x' })), user(result('a', 'written')), assistant('done'), user('explain')], {
        tools,
        toolChoice: { type: 'none' },
      }),
    );
    expect(toolSpecs(r)).toEqual([expect.objectContaining({ toolSpecification: expect.objectContaining({ name: 'Write', description: 'The Write tool.' }) })]);
    expect(historyUser(r, 0).content).toBe('Do not call any tools in this response; answer with text only.');
    expect(repair(r, 'tool-choice-none')).toBe('tool_choice none: 1 tools not sent; 1 used earlier kept defined, with an instruction not to call tools');
  });
});

describe('normalizeToolSchema', () => {
  it('keeps what carries meaning', () => {
    const schema = {
      type: 'object',
      properties: {
        mode: { type: 'string', enum: ['a', 'b'], default: 'a', description: 'Mode' },
        count: { type: ['integer', 'null'], minimum: 0, maximum: 10 },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
        path: { anyOf: [{ anyOf: [{ not: {} }, { type: 'string' }] }, { type: 'null' }] },
        nested: { type: 'object', properties: { deep: { type: 'boolean' } }, additionalProperties: false },
      },
      required: ['mode'],
      additionalProperties: false,
    };
    expect(normalizeToolSchema(schema)).toEqual({ schema, changes: [], routine: true });
  });

  it('inlines nested and chained local refs and drops recursive ones', () => {
    const { schema, changes } = normalizeToolSchema({
      type: 'object',
      properties: { node: { $ref: '#/$defs/Node' }, list: { type: 'array', items: { $ref: '#/$defs/Leaf' } } },
      $defs: {
        Leaf: { $ref: '#/$defs/Str' },
        Str: { type: 'string' },
        Node: { type: 'object', properties: { child: { $ref: '#/$defs/Node' }, name: { type: 'string' } } },
      },
    });
    expect(schema).toEqual({
      type: 'object',
      properties: {
        node: { type: 'object', properties: { child: {}, name: { type: 'string' } } },
        list: { type: 'array', items: { type: 'string' } },
      },
      required: [],
    });
    expect(changes).toEqual([
      'inlined $ref #/$defs/Node',
      'dropped recursive $ref #/$defs/Node',
      'inlined $ref #/$defs/Leaf',
      'inlined $ref #/$defs/Str',
      'dropped $defs',
    ]);
  });

  it('drops null and ill-typed fields', () => {
    const { schema } = normalizeToolSchema({
      type: 'object',
      properties: { a: { type: 5, description: null, enum: 'x' }, b: 'junk' },
      required: [null, 'a', 'a', 7],
      title: 3,
    });
    expect(schema).toEqual({ type: 'object', properties: { a: {}, b: {} }, required: ['a'] });
  });

  it('makes any top level an object schema', () => {
    expect(normalizeToolSchema(undefined).schema).toEqual({ type: 'object', properties: {}, required: [] });
    expect(normalizeToolSchema(null).changes).toEqual(['replaced a null schema with an empty object schema']);
    expect(normalizeToolSchema({}).schema).toEqual({ type: 'object', properties: {}, required: [] });
    expect(normalizeToolSchema({ type: 'string' })).toEqual({
      schema: { type: 'object', properties: {}, required: [] },
      changes: ['changed top-level type "string" to "object"'],
      routine: false,
    });
    expect(normalizeToolSchema({ properties: { a: { type: 'string' } } })).toMatchObject({ changes: ['added type "object"'], routine: true });
    expect(normalizeToolSchema({ properties: null, required: 'a' }).schema).toEqual({ type: 'object', properties: {}, required: [] });
  });

  it('never mutates its input', () => {
    const input = { $schema: 'x', type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { type: 'string', enum: ['x'] } } };
    const copy = structuredClone(input);
    const { schema } = normalizeToolSchema(input);
    expect(input).toEqual(copy);
    (schema.properties as { a: { enum: string[] } }).a.enum.push('y');
    expect(input.$defs.A.enum).toEqual(['x']);
  });

  it('survives pathological nesting', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 200; i++) deep = { type: 'object', properties: { d: deep } };
    const { schema, changes } = normalizeToolSchema(deep);
    expect(schema.type).toBe('object');
    expect(changes.some((c) => c.includes('nested deeper'))).toBe(true);
  });
});
