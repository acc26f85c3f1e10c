import { describe, expect, it } from 'vitest';
import { parseChatCompletionRequest } from '../../src/bridge/openai/openai-input';
import { OpenAIRequestError } from '../../src/bridge/openai/openai-errors';
import { imageFromUrl, REASONING_BUDGETS } from '../../src/bridge/openai/openai-common';
import { toKiroRequest } from '../../src/kiro/request/convert';
import { validateGenerateBody } from '../support/fake-upstream/validate';

const PNG_2X3 = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAEklEQVR4nGP4z8DAwMDAxAAAJAYBA+o3uu8AAAAASUVORK5CYII=';
const OPTIONS = { defaultThinkingBudget: 16_000 };

const parse = (body: Record<string, unknown>) => parseChatCompletionRequest({ model: 'claude-sonnet-4-5', ...body }, OPTIONS);

/** The error a body gets: its param, code and message. */
function refusal(body: unknown): { param: string | null; code: string | null; message: string } {
  try {
    parseChatCompletionRequest(body, OPTIONS);
  } catch (error) {
    expect(error).toBeInstanceOf(OpenAIRequestError);
    const e = error as OpenAIRequestError;
    return { param: e.param, code: e.code, message: e.message };
  }
  throw new Error('the body was accepted');
}

describe('parseChatCompletionRequest: messages', () => {
  it('system and developer messages become the system prompt, in order', () => {
    const { request, notes } = parse({
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'developer',
          content: [
            { type: 'text', text: 'Use ' },
            { type: 'text', text: 'tools.' },
          ],
        },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(request.api).toBe('openai');
    expect(request.system).toEqual(['Be brief.', 'Use \ntools.']);
    expect(request.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    expect(notes).toEqual([]);
  });

  it('a system message after the conversation began is kept (in the system prompt) and noted', () => {
    const { request, notes } = parse({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'system', content: 'Now answer in French.' },
        { role: 'user', content: 'again' },
      ],
    });
    expect(request.system).toEqual(['Now answer in French.']);
    expect(notes).toEqual(['messages[2]: a system message after the conversation began was moved into the system prompt']);
  });

  it('user content parts: text and data-URL images', () => {
    const { request } = parse({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_2X3}`, detail: 'high' } },
            { type: 'image_url', image_url: `data:image/jpg;base64,${PNG_2X3}` },
          ],
        },
      ],
    });
    expect(request.messages[0]!.content).toEqual([
      { type: 'text', text: 'What is this?' },
      { type: 'image', mediaType: 'image/png', data: PNG_2X3 },
      { type: 'image', mediaType: 'image/jpeg', data: PNG_2X3 },
    ]);
  });

  it('a remote image URL is a clear 400 naming the field', () => {
    const error = refusal({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] });
    expect(error.param).toBe('messages[0].content[0].image_url.url');
    expect(error.code).toBe('invalid_image_url');
    expect(error.message).toMatch(/remote image URLs are not supported.*data URL/);
  });

  it('bad data URLs: unsupported type, not base64, empty', () => {
    expect(() => imageFromUrl('data:image/bmp;base64,AAAA', 'p')).toThrow(/unsupported image type/);
    expect(() => imageFromUrl('data:image/png,AAAA', 'p')).toThrow(/base64/);
    expect(() => imageFromUrl('data:image/png;base64,', 'p')).toThrow(/empty/);
  });

  it('assistant tool_calls and tool messages become a tool round trip, results merged into one turn', () => {
    const { request, notes } = parse({
      messages: [
        { role: 'user', content: 'weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'rain' }] },
        { role: 'user', content: 'thanks — which is warmer?' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'weather',
            description: 'Weather for a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
    });
    expect(notes).toEqual([]);
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', toolUseId: 'call_1', content: [{ type: 'text', text: 'sunny' }], isError: false },
          { type: 'tool_result', toolUseId: 'call_2', content: [{ type: 'text', text: 'rain' }], isError: false },
          { type: 'text', text: 'thanks — which is warmer?' },
        ],
      },
    ]);
    // and Kiro accepts what the converter makes of it, with nothing but routine repairs
    const converted = toKiroRequest(request, { kiroModel: 'claude-sonnet-4.5' });
    expect(converted.repairs.filter((r) => !r.routine)).toEqual([]);
    expect(validateGenerateBody(converted.body, { models: ['claude-sonnet-4.5'] })).toBeUndefined();
  });

  it('arguments that are not a JSON object are kept for the model, with a note', () => {
    const { request, notes } = parse({
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'f', arguments: '{"broken": ' } },
            { id: 'b', type: 'function', function: { name: 'f', arguments: '[1,2]' } },
            { id: 'c', type: 'function', function: { name: 'f', arguments: '' } },
          ],
        },
      ],
    });
    const uses = request.messages[1]!.content;
    expect(uses).toEqual([
      { type: 'tool_use', id: 'a', name: 'f', input: { arguments: '{"broken": ' } },
      { type: 'tool_use', id: 'b', name: 'f', input: { value: [1, 2] } },
      { type: 'tool_use', id: 'c', name: 'f', input: {} },
    ]);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^messages\[1\]\.tool_calls\[0\]\.function\.arguments: the arguments are not valid JSON/);
  });

  it('assistant reasoning_content comes back as thinking before the text', () => {
    const { request } = parse({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'A' },
            { type: 'refusal', refusal: 'no' },
          ],
          reasoning_content: 'hmm',
        },
        { role: 'user', content: 'q2' },
      ],
    });
    expect(request.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'hmm' },
        { type: 'text', text: 'A' },
        { type: 'text', text: 'no' },
      ],
    });
  });

  it('OpenRouter-style reasoning_details (kept by Cline and Roo Code) come back as thinking; encrypted entries are dropped with a note', () => {
    const { request, notes } = parse({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: 'A',
          reasoning_details: [
            { type: 'reasoning.text', text: 'first', format: 'anthropic-claude-v1', index: 0 },
            { type: 'reasoning.summary', summary: 'second', index: 1 },
            { type: 'reasoning.encrypted', data: 'opaque', index: 2 },
          ],
        },
        { role: 'user', content: 'q2' },
      ],
    });
    expect(request.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'first\n\nsecond' },
        { type: 'text', text: 'A' },
      ],
    });
    expect(notes).toEqual(['messages[1].reasoning_details: 1 encrypted entry was dropped (only the provider that wrote them can read them)']);
    // reasoning_content wins when both are sent
    const both = parse({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'A', reasoning_content: 'rc', reasoning_details: [{ type: 'reasoning.text', text: 'rd' }] },
        { role: 'user', content: 'q2' },
      ],
    });
    expect(both.request.messages[1]!.content[0]).toEqual({ type: 'thinking', thinking: 'rc' });
  });

  it("Kiro's signed reasoning in reasoning_details (as the bridge sent it) comes back signed, over reasoning_content", () => {
    const { request, notes } = parse({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: 'A',
          reasoning_content: 'native',
          reasoning_details: [
            { type: 'reasoning.encrypted', data: 'b3BhcXVl', format: 'unknown', index: 0 },
            { type: 'reasoning.text', text: 'native', signature: 'EqQBKiro==', format: 'unknown', index: 1 },
          ],
        },
        { role: 'user', content: 'q2' },
      ],
    });
    expect(request.messages[1]!.content).toEqual([
      { type: 'thinking', thinking: 'native', signature: 'EqQBKiro==' },
      { type: 'text', text: 'A' },
    ]);
    expect(notes).toEqual(['messages[1].reasoning_details: 1 encrypted entry was dropped (only the provider that wrote them can read them)']);
  });

  it('a user name goes in front of the text, with a note', () => {
    const { request, notes } = parse({ messages: [{ role: 'user', name: 'alice', content: 'hi all' }] });
    expect(request.messages[0]!.content).toEqual([{ type: 'text', text: 'alice: hi all' }]);
    expect(notes).toEqual(['messages[0]: the participant name "alice" was put before the message text']);
  });

  it('refuses what it cannot map, naming the field', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ messages: [] }, 'messages', /at least one message/],
      [{ messages: [{ role: 'system', content: 'only system' }] }, 'messages', /user message/],
      [{ messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', /expected "system"/],
      [{ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role', /legacy/],
      [{ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }, 'messages[0].content[0].type', /audio/],
      [{ messages: [{ role: 'user', content: [{ type: 'file', file: {} }] }] }, 'messages[0].content[0].type', /file inputs/],
      [{ messages: [{ role: 'user', content: 42 }] }, 'messages[0].content', /string or an array/],
      [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id', /missing/],
      [{ messages: [{ role: 'assistant', tool_calls: [{ id: 'x', type: 'custom', custom: {} }] }] }, 'messages[0].tool_calls[0].type', /function tool calls/],
    ];
    for (const [body, param, message] of cases) {
      const error = refusal({ model: 'm', ...body });
      expect(error.param, JSON.stringify(body)).toBe(param);
      expect(error.message).toMatch(message);
    }
  });
});

describe('parseChatCompletionRequest: options', () => {
  const user = [{ role: 'user', content: 'hi' }];

  it('maps max tokens, temperature, stop, stream and include_usage', () => {
    const { request, includeUsage } = parse({
      messages: user,
      max_tokens: 100,
      temperature: 1.5,
      stop: 'END',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(request).toMatchObject({ maxTokens: 100, temperature: 1.5, stopSequences: ['END'], stream: true });
    expect(includeUsage).toBe(true);
    expect(parse({ messages: user, max_tokens: 100, max_completion_tokens: 50 }).request.maxTokens).toBe(50);
    expect(parse({ messages: user, stop: ['a', '', 'b'] }).request.stopSequences).toEqual(['a', 'b']);
    expect(parse({ messages: user }).includeUsage).toBe(false);
  });

  it('tools (schemas passed on for kiro/request/convert to clean) and every tool_choice form', () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'a',
          parameters: {
            type: 'object',
            properties: { x: { type: 'string' } },
            additionalProperties: false,
            $schema: 'http://json-schema.org/draft-07/schema#',
          },
          strict: true,
        },
      },
      { type: 'function', function: { name: 'b' } },
    ];
    const { request } = parse({ messages: user, tools });
    expect(request.tools.map((t) => t.name)).toEqual(['a', 'b']);
    expect(request.tools[1]!.inputSchema).toEqual({ type: 'object', properties: {} });
    // what Kiro rejects is cleaned on the way out
    const spec = toKiroRequest(request, { kiroModel: 'claude-sonnet-4.5' }).body.conversationState.currentMessage.userInputMessage.userInputMessageContext!
      .tools![0]!;
    expect(JSON.stringify(spec)).not.toContain('$schema');
    expect(parse({ messages: user, tools, tool_choice: 'auto' }).request.toolChoice).toEqual({ type: 'auto' });
    expect(parse({ messages: user, tools, tool_choice: 'none' }).request.toolChoice).toEqual({ type: 'none' });
    expect(parse({ messages: user, tools, tool_choice: 'required' }).request.toolChoice).toEqual({ type: 'any' });
    expect(parse({ messages: user, tools, tool_choice: { type: 'function', function: { name: 'b' } } }).request.toolChoice).toEqual({
      type: 'tool',
      name: 'b',
    });
    expect(refusal({ model: 'm', messages: user, tools, tool_choice: { type: 'function', function: { name: 'zz' } } }).message).toMatch(
      /no function named "zz"/,
    );
    expect(refusal({ model: 'm', messages: user, tool_choice: 'required' }).message).toMatch(/at least one tool/);
    expect(refusal({ model: 'm', messages: user, tools: [tools[0], tools[0]] }).param).toBe('tools[1].function.name');
    expect(refusal({ model: 'm', messages: user, tools: [{ type: 'function', function: { name: 'a', parameters: { type: 'array' } } }] }).param).toBe(
      'tools[0].function.parameters.type',
    );
    expect(refusal({ model: 'm', messages: user, tools: [{ type: 'custom', custom: { name: 'a' } }] }).param).toBe('tools[0].type');
  });

  it('parallel_tool_calls: false is accepted with a note (Kiro cannot enforce it)', () => {
    expect(parse({ messages: user, parallel_tool_calls: false }).notes[0]).toMatch(/parallel_tool_calls/);
    expect(parse({ messages: user, parallel_tool_calls: true }).notes).toEqual([]);
  });

  it('reasoning_effort → a thinking budget; "none" turns thinking off', () => {
    for (const [effort, budget] of Object.entries(REASONING_BUDGETS)) {
      expect(parse({ messages: user, reasoning_effort: effort }).request.thinking).toEqual({ budgetTokens: budget });
    }
    const off = parse({ messages: user, reasoning_effort: 'none' });
    expect(off.request.thinking).toBeUndefined();
    expect(off.thinkingOff).toBe(true);
    expect(parse({ messages: user }).thinkingOff).toBe(false);
    expect(refusal({ model: 'm', messages: user, reasoning_effort: 'max' }).param).toBe('reasoning_effort');
  });

  it('session key from prompt_cache_key, else user', () => {
    expect(parse({ messages: user, user: 'u1' }).request.sessionKey).toBe('u1');
    expect(parse({ messages: user, user: 'u1', prompt_cache_key: 'conv-7' }).request.sessionKey).toBe('conv-7');
  });

  it('what Kiro cannot do is a clear 400 naming the parameter', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ n: 2 }, 'n'],
      [{ logprobs: true }, 'logprobs'],
      [{ top_logprobs: 3 }, 'top_logprobs'],
      [{ modalities: ['text', 'audio'] }, 'modalities'],
      [{ audio: { voice: 'alloy', format: 'mp3' } }, 'audio'],
      [{ functions: [{ name: 'f' }] }, 'functions'],
      [{ function_call: 'auto' }, 'function_call'],
      [{ web_search_options: {} }, 'web_search_options'],
    ];
    for (const [extra, param] of cases) {
      const error = refusal({ model: 'm', messages: user, ...extra });
      expect(error.param).toBe(param);
      expect(error.code).toBe('unsupported_parameter');
    }
    // the defaults are fine
    expect(() =>
      parse({ messages: user, n: 1, logprobs: false, response_format: { type: 'text' }, modalities: ['text'], seed: 4, top_p: 0.5, frequency_penalty: 0.1 }),
    ).not.toThrow();
  });

  it('response_format JSON modes become the neutral response format (emulated by the bridge)', () => {
    const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'], additionalProperties: false };
    expect(
      parse({ messages: user, response_format: { type: 'json_schema', json_schema: { name: 'thing', description: 'A thing', schema, strict: true } } }).request
        .responseFormat,
    ).toEqual({
      name: 'thing',
      description: 'A thing',
      schema,
      param: 'response_format.json_schema.schema',
    });
    expect(parse({ messages: user, response_format: { type: 'json_object' } }).request.responseFormat).toEqual({ param: 'response_format' });
    expect(parse({ messages: user, response_format: { type: 'text' } }).request.responseFormat).toBeUndefined();
    expect(parse({ messages: user }).request.responseFormat).toBeUndefined();
  });

  it('malformed response_format is a 400 naming the field', () => {
    const cases: [unknown, string][] = [
      ['json', 'response_format'],
      [{ type: 'yaml' }, 'response_format.type'],
      [{ type: 'json_schema' }, 'response_format.json_schema'],
      [{ type: 'json_schema', json_schema: { schema: {} } }, 'response_format.json_schema.name'],
      [{ type: 'json_schema', json_schema: { name: 'x', schema: 'object' } }, 'response_format.json_schema.schema'],
      [{ type: 'json_schema', json_schema: { name: 'x', strict: 'yes' } }, 'response_format.json_schema.strict'],
    ];
    for (const [format, param] of cases) expect(refusal({ model: 'm', messages: user, response_format: format }).param, JSON.stringify(format)).toBe(param);
  });

  it('type errors name the field', () => {
    expect(refusal({ model: 'm', messages: user, temperature: 3 }).param).toBe('temperature');
    expect(refusal({ model: 'm', messages: user, max_tokens: 0 }).param).toBe('max_tokens');
    expect(refusal({ model: 'm', messages: user, stream: 'yes' }).param).toBe('stream');
    expect(refusal({ model: 'm', messages: user, stop: ['a', 3] }).param).toBe('stop[1]');
    expect(parse({ messages: user, stop: ['a', 'b', 'c', 'd', 'e'] }).request.stopSequences).toHaveLength(5);
    expect(refusal({ messages: user }).param).toBe('model');
    expect(refusal([1, 2]).param).toBe('body');
  });
});
