import { describe, expect, it } from 'vitest';
import { InvalidRequestError, parseAnthropicRequest, parseCountTokensRequest, sessionOfUserId } from '../../src/bridge/anthropic/anthropic-input';
import { thinkingSignature } from '../../src/bridge/anthropic/anthropic-output';

const options = { defaultThinkingBudget: 16_000 };
const base = { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };

function parse(body: Record<string, unknown>) {
  return parseAnthropicRequest({ ...base, ...body }, options);
}

function rejection(body: unknown, count = false): string {
  try {
    (count ? parseCountTokensRequest : parseAnthropicRequest)(body, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('parseAnthropicRequest', () => {
  it('maps a minimal request', () => {
    const { request, notes } = parseAnthropicRequest(base, options);
    expect(request).toEqual({
      api: 'anthropic',
      model: 'claude-sonnet-4-5',
      system: [],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      tools: [],
      toolChoice: undefined,
      maxTokens: 100,
      temperature: undefined,
      stopSequences: [],
      thinking: undefined,
      stream: false,
      sessionKey: undefined,
    });
    expect(notes).toEqual([]);
  });

  it('takes system as a string or as text blocks, dropping empty ones', () => {
    expect(parse({ system: 'Be brief.' }).request.system).toEqual(['Be brief.']);
    expect(
      parse({
        system: [
          { type: 'text', text: 'A' },
          { type: 'text', text: '', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'B' },
        ],
      }).request.system,
    ).toEqual(['A', 'B']);
    expect(rejection({ ...base, system: [{ type: 'image' }] })).toMatch(/^system\.0: /);
    expect(rejection({ ...base, system: 5 })).toMatch(/^system: /);
  });

  it('a system message among the messages (Claude Code sends one per turn to some models) joins the system prompt, with a note', () => {
    const { request, notes } = parse({
      system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'say hi' }] },
        { role: 'system', content: [{ type: 'text', text: '# Environment\nPlatform: linux', cache_control: { type: 'ephemeral' } }] },
      ],
    });
    expect(request.system).toEqual(['You are Claude Code.', '# Environment\nPlatform: linux']);
    expect(request.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'say hi' }] }]);
    expect(notes).toEqual(['messages.1: a system message was moved into the system prompt (Kiro takes one system prompt, ahead of the conversation)']);
    expect(
      rejection({
        ...base,
        messages: [
          { role: 'user', content: 'x' },
          { role: 'system', content: [{ type: 'image' }] },
        ],
      }),
    ).toMatch(/^messages\.1\.content\.0: /);
  });

  it('maps tool_use, tool_result (string, blocks, is_error, images) and thinking blocks', () => {
    const png = { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' };
    const { request } = parse({
      messages: [
        { role: 'user', content: 'list files' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'I should list.', signature: 'sig' },
            { type: 'text', text: 'Listing.' },
            { type: 'tool_use', id: 'toolu_1', name: 'ls', input: { path: '.' } },
            { type: 'tool_use', id: 'toolu_2', name: 'shot' },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.ts\nb.ts' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              is_error: true,
              content: [
                { type: 'text', text: 'no display' },
                { type: 'image', source: png },
              ],
            },
          ],
        },
      ],
    });
    expect(request.messages[1]!.content).toEqual([
      { type: 'thinking', thinking: 'I should list.', signature: 'sig' },
      { type: 'text', text: 'Listing.' },
      { type: 'tool_use', id: 'toolu_1', name: 'ls', input: { path: '.' } },
      { type: 'tool_use', id: 'toolu_2', name: 'shot', input: {} },
    ]);
    expect(request.messages[2]!.content).toEqual([
      { type: 'tool_result', toolUseId: 'toolu_1', content: [{ type: 'text', text: 'a.ts\nb.ts' }], isError: false },
      {
        type: 'tool_result',
        toolUseId: 'toolu_2',
        content: [
          { type: 'text', text: 'no display' },
          { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
        ],
        isError: true,
      },
    ]);
  });

  it('refuses blocks in the wrong role', () => {
    expect(rejection({ ...base, messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'b', input: {} }] }] })).toContain(
      'only appear in assistant messages',
    );
    expect(rejection({ ...base, messages: [{ role: 'assistant', content: [{ type: 'tool_result', tool_use_id: 'a' }] }] })).toContain(
      'only appear in user messages',
    );
  });

  it('refuses images Kiro cannot take, with the field path', () => {
    const image = (source: unknown) => ({ ...base, messages: [{ role: 'user', content: [{ type: 'image', source }] }] });
    expect(rejection(image({ type: 'url', url: 'https://x/y.png' }))).toMatch(/^messages\.0\.content\.0\.source\.type: URL images are not supported/);
    expect(rejection(image({ type: 'file', file_id: 'f' }))).toContain('Files API');
    expect(rejection(image({ type: 'base64', media_type: 'image/bmp', data: 'AAAA' }))).toMatch(/media_type/);
    expect(rejection(image({ type: 'base64', media_type: 'image/png', data: '' }))).toContain('empty');
  });

  it('strips a data-URL prefix from base64 image data', () => {
    const { request } = parse({
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'data:image/jpeg;base64,/9j/4AAQ' } }] }],
    });
    expect(request.messages[0]!.content[0]).toEqual({ type: 'image', mediaType: 'image/jpeg', data: '/9j/4AAQ' });
  });

  it('turns text documents into text and refuses PDFs clearly', () => {
    const { request } = parse({
      messages: [{ role: 'user', content: [{ type: 'document', title: 'Notes', source: { type: 'text', media_type: 'text/plain', data: 'remember milk' } }] }],
    });
    expect(request.messages[0]!.content).toEqual([{ type: 'text', text: 'Notes\n\nremember milk' }]);
    expect(
      rejection({
        ...base,
        messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } }] }],
      }),
    ).toContain('"base64" documents are not supported by Kiro');
  });

  it('drops blocks Kiro cannot carry and says so', () => {
    const { request, notes } = parse({
      messages: [
        { role: 'user', content: 'search' },
        {
          role: 'assistant',
          content: [
            { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'q' } },
            { type: 'text', text: 'ok' },
          ],
        },
        { role: 'user', content: 'more' },
      ],
    });
    expect(request.messages[1]!.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(notes).toEqual([expect.stringContaining('server_tool_use')]);
    expect(rejection({ ...base, messages: [{ role: 'user', content: [{ type: 'banana' }] }] })).toContain('unsupported content block type "banana"');
  });

  it('maps tools, drops server tools with a note, and refuses schema-less client tools', () => {
    const { request, notes } = parse({
      tools: [
        { name: 'read', description: 'Read a file', input_schema: { type: 'object', properties: { p: { type: 'string' } } } },
        { name: 'noDesc', input_schema: { type: 'object' } },
        { type: 'web_search_20250305', name: 'web_search', max_uses: 5 },
      ],
    });
    expect(request.tools).toEqual([
      { name: 'read', description: 'Read a file', inputSchema: { type: 'object', properties: { p: { type: 'string' } } } },
      { name: 'noDesc', description: '', inputSchema: { type: 'object' } },
    ]);
    expect(notes).toEqual([expect.stringContaining('web_search')]);
    expect(rejection({ ...base, tools: [{ type: 'bash_20250124', name: 'bash' }] })).toContain('custom tool with an input_schema');
    expect(rejection({ ...base, tools: [{ name: 'x' }] })).toBe('tools.0.input_schema: Field required');
    expect(rejection({ ...base, tools: [{ name: 'x', input_schema: { type: 'string' } }] })).toContain("Input should be 'object'");
    expect(
      rejection({
        ...base,
        tools: [
          { name: 'x', input_schema: {} },
          { name: 'x', input_schema: {} },
        ],
      }),
    ).toContain('unique');
  });

  it('maps tool_choice and checks it against the tools', () => {
    const tools = [{ name: 'read', input_schema: { type: 'object' } }];
    const oneAtATime = parse({ tools, tool_choice: { type: 'auto', disable_parallel_tool_use: true } });
    expect(oneAtATime.request.toolChoice).toEqual({ type: 'auto' });
    // Roo Code sends it on every call; Kiro has no such switch, so the record says so.
    expect(oneAtATime.notes).toEqual([
      'tool_choice.disable_parallel_tool_use: true cannot be enforced by Kiro; the model may still call several tools at once',
    ]);
    expect(parse({ tools, tool_choice: { type: 'any', disable_parallel_tool_use: false } }).notes).toEqual([]);
    expect(parse({ tools, tool_choice: { type: 'tool', name: 'read' } }).request.toolChoice).toEqual({ type: 'tool', name: 'read' });
    expect(parse({ tool_choice: { type: 'none' } }).request.toolChoice).toEqual({ type: 'none' });
    expect(rejection({ ...base, tools, tool_choice: { type: 'tool', name: 'write' } })).toContain('no tool named "write"');
    expect(rejection({ ...base, tool_choice: { type: 'any' } })).toContain('needs at least one tool');
    expect(rejection({ ...base, tool_choice: { type: 'sometimes' } })).toMatch(/^tool_choice\.type/);
  });

  it('maps thinking (enabled, adaptive, disabled) and checks the budget', () => {
    expect(parse({ max_tokens: 5000, thinking: { type: 'enabled', budget_tokens: 2048 } }).request.thinking).toEqual({ budgetTokens: 2048 });
    expect(parse({ thinking: { type: 'adaptive' } }).request.thinking).toEqual({ budgetTokens: 16_000 });
    expect(parse({ thinking: { type: 'disabled' } }).request.thinking).toBeUndefined();
    expect(rejection({ ...base, thinking: { type: 'enabled', budget_tokens: 500 } })).toContain('greater than or equal to 1024');
    expect(rejection({ ...base, max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 4000 } })).toContain('max_tokens');
    expect(rejection({ ...base, thinking: { type: 'enabled' } })).toBe('thinking.budget_tokens: Field required');
  });

  it('maps stop sequences, metadata, temperature and stream', () => {
    const { request } = parse({ stop_sequences: ['END', ''], metadata: { user_id: 'u-1' }, temperature: 0.5, stream: true });
    expect(request.stopSequences).toEqual(['END']);
    expect(request.sessionKey).toBe('u-1');
    expect(request.temperature).toBe(0.5);
    expect(request.stream).toBe(true);
    expect(rejection({ ...base, temperature: 1.5 })).toMatch(/^temperature: /);
    expect(rejection({ ...base, stream: 'yes' })).toMatch(/^stream: /);
    expect(rejection({ ...base, stop_sequences: [1] })).toMatch(/^stop_sequences\.0/);
    expect(rejection({ ...base, metadata: { user_id: 5 } })).toMatch(/^metadata\.user_id/);
  });

  it("metadata.user_id: Claude Code's session part keys the conversation, in either format", () => {
    const session = '7d0e2f61-4b5c-4a9d-8f11-2c3d4e5f6a7b';
    const legacy = `user_${'ab'.repeat(32)}_account__session_${session}`;
    const withAccount = `user_${'ab'.repeat(32)}_account_0f9a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b_session_${session}`;
    const json = JSON.stringify({ device_id: 'ab'.repeat(32), account_uuid: '', session_id: session });
    for (const userId of [legacy, withAccount, json]) expect(parse({ metadata: { user_id: userId } }).request.sessionKey).toBe(session);
    expect(sessionOfUserId('{"device_id":"d"}')).toBe('{"device_id":"d"}');
    expect(sessionOfUserId('{not json')).toBe('{not json');
    expect(parse({ metadata: { user_id: '  ' } }).request.sessionKey).toBeUndefined();
  });

  it("thinking keeps Kiro's signature, drops the bridge's stand-in, and redacted_thinking is kept", () => {
    const standIn = thinkingSignature('old');
    const { request, notes } = parse({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [
            { type: 'redacted_thinking', data: 'b3BhcXVl' },
            { type: 'thinking', thinking: 'native', signature: 'EqQBKiro==' },
            { type: 'thinking', thinking: 'old', signature: standIn },
            { type: 'text', text: 'A' },
          ],
        },
        { role: 'user', content: 'q2' },
      ],
    });
    expect(request.messages[1]!.content).toEqual([
      { type: 'redacted_thinking', data: 'b3BhcXVl' },
      { type: 'thinking', thinking: 'native', signature: 'EqQBKiro==' },
      { type: 'thinking', thinking: 'old' },
      { type: 'text', text: 'A' },
    ]);
    expect(notes).toEqual([]);
    expect(rejection({ ...base, messages: [{ role: 'assistant', content: [{ type: 'redacted_thinking' }] }] })).toMatch(/^messages\.0\.content\.0\.data/);
  });

  it('checks the top-level shape', () => {
    expect(rejection(null)).toMatch(/^body: /);
    expect(rejection([])).toMatch(/^body: /);
    expect(rejection({ messages: base.messages })).toBe('body.model: Field required');
    expect(rejection({ ...base, model: '  ' })).toMatch(/^model: /);
    expect(rejection({ ...base, max_tokens: 0 })).toMatch(/^max_tokens: /);
    expect(rejection({ ...base, max_tokens: 1.5 })).toMatch(/^max_tokens: .*integer/);
    expect(rejection({ ...base, messages: [] })).toMatch(/^messages: /);
    expect(rejection({ ...base, messages: [{ role: 'system', content: 'x' }] })).toContain('top-level "system"');
    expect(rejection({ ...base, messages: [{ role: 'wizard', content: 'x' }] })).toMatch(/^messages\.0\.role: /);
    expect(rejection({ ...base, messages: [{ role: 'user', content: 5 }] })).toMatch(/^messages\.0\.content: /);
  });

  it('count_tokens ignores max_tokens and stream', () => {
    const { request } = parseCountTokensRequest({ model: 'claude-sonnet-4-5', messages: base.messages, max_tokens: 'whatever', stream: 'x' }, options);
    expect(request.maxTokens).toBeUndefined();
    expect(request.stream).toBe(false);
    expect(rejection({ model: 'm' }, true)).toBe('messages: Field required');
  });
});
