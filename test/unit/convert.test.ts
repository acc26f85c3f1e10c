// The conversation shape rules of toKiroRequest: one focused test per rule (input → exact body
// fragment + the repair listed). Tool rules are in convert-tools.test.ts.
import { describe, expect, it } from 'vitest';
import {
  ASSISTANT_PLACEHOLDER,
  SYSTEM_ACKNOWLEDGEMENT,
  USER_PLACEHOLDERS,
  toKiroRequest,
  type ConvertOptions,
  type ConvertResult,
  type KiroHistoryEntry,
} from '../../src/kiro/request/convert';
import { KiroError } from '../../src/kiro/errors';
import { UUID_V4, conversationIdFor, conversationKey } from '../../src/kiro/request/ids';
import type { ChatMessage, ChatRequest, ContentBlock } from '../../src/kiro/types';

const MODEL = 'claude-sonnet-4.5';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function chat(messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest {
  return { api: 'anthropic', model: 'claude-sonnet-4-5', system: [], messages, tools: [], stopSequences: [], stream: false, ...extra };
}
const user = (...content: (string | ContentBlock)[]): ChatMessage => ({
  role: 'user',
  content: content.map((c) => (typeof c === 'string' ? { type: 'text', text: c } : c)),
});
const assistant = (...content: (string | ContentBlock)[]): ChatMessage => ({
  role: 'assistant',
  content: content.map((c) => (typeof c === 'string' ? { type: 'text', text: c } : c)),
});

function convert(request: ChatRequest, options: Partial<ConvertOptions> = {}): ConvertResult {
  return toKiroRequest(request, { kiroModel: MODEL, ...options });
}
const rules = (result: ConvertResult) => result.repairs.map((r) => r.rule);
const repair = (result: ConvertResult, rule: string) => result.repairs.find((r) => r.rule === rule);
const u = (content: string, extra: object = {}): KiroHistoryEntry => ({ userInputMessage: { content, modelId: MODEL, origin: 'AI_EDITOR', ...extra } });
const a = (content: string, extra: object = {}): KiroHistoryEntry => ({ assistantResponseMessage: { content, ...extra } });

describe('toKiroRequest: the basic body', () => {
  it('one user message is the current message, with model, origin and the defaults', () => {
    const result = convert(chat([user('Hello')]));
    expect(result.body).toEqual({
      conversationState: {
        agentTaskType: 'vibe',
        chatTriggerType: 'MANUAL',
        conversationId: expect.stringMatching(UUID_V4),
        currentMessage: { userInputMessage: { content: 'Hello', modelId: MODEL, origin: 'AI_EDITOR', userInputMessageContext: {} } },
        history: [],
      },
    });
    expect(result.repairs).toEqual([]);
  });

  it('sends profileArn when known, and none otherwise', () => {
    const arn = 'arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEF';
    expect(convert(chat([user('x')]), { profileArn: arn }).body.profileArn).toBe(arn);
    expect('profileArn' in convert(chat([user('x')])).body).toBe(false);
  });

  it('refuses a request with no messages', () => {
    expect(() => convert(chat([]))).toThrow(KiroError);
    try {
      convert(chat([]));
    } catch (error) {
      expect((error as KiroError).errorClass).toBe('bad_request');
      expect((error as KiroError).message).toMatch(/no messages/);
    }
  });

  it('multiple text blocks of a message are joined with a blank line; blank blocks are skipped', () => {
    const result = convert(chat([user('first', '  ', 'second')]));
    expect(result.body.conversationState.currentMessage.userInputMessage.content).toBe('first\n\nsecond');
  });
});

describe('toKiroRequest: system prompt', () => {
  it("becomes the first history pair, acknowledged with the IDE's own words", () => {
    const result = convert(chat([user('q1'), assistant('a1'), user('q2')], { system: ['You are terse.', 'Use British spelling.'] }));
    expect(result.body.conversationState.history).toEqual([u('You are terse.\n\nUse British spelling.'), a(SYSTEM_ACKNOWLEDGEMENT), u('q1'), a('a1')]);
    expect(SYSTEM_ACKNOWLEDGEMENT).toBe('I will follow these instructions.');
    expect(result.repairs).toEqual([]);
  });

  it('blank system blocks make no pair', () => {
    expect(convert(chat([user('q')], { system: ['', '  '] })).body.conversationState.history).toEqual([]);
  });
});

describe('toKiroRequest: alternation', () => {
  it('merges consecutive user messages and lists the repair', () => {
    const result = convert(chat([user('one'), user('two'), assistant('ok'), user('three')]));
    expect(result.body.conversationState.history).toEqual([u('one\n\ntwo'), a('ok')]);
    expect(repair(result, 'merged-turns')).toEqual({
      rule: 'merged-turns',
      detail: 'messages 0, 1: consecutive user messages merged into one turn',
      routine: false,
    });
  });

  it('merges consecutive assistant messages (two in a row is a 400 upstream)', () => {
    const result = convert(chat([user('q'), assistant('part 1'), assistant('part 2'), user('next')]));
    expect(result.body.conversationState.history).toEqual([u('q'), a('part 1\n\npart 2')]);
    expect(repair(result, 'merged-turns')?.detail).toBe('messages 1, 2: consecutive assistant messages merged into one turn');
  });

  it('merges trailing user messages into the current message', () => {
    const result = convert(chat([user('a'), assistant('b'), user('c'), user('d')]));
    expect(result.body.conversationState.currentMessage.userInputMessage.content).toBe('c\n\nd');
    expect(result.body.conversationState.history).toEqual([u('a'), a('b')]);
  });

  it('puts a placeholder user turn before a leading assistant message', () => {
    const result = convert(chat([assistant('Hi, how can I help?'), user('Fix my code')]));
    expect(result.body.conversationState.history).toEqual([u('(conversation start)'), a('Hi, how can I help?')]);
    expect(rules(result)).toEqual(['leading-assistant']);
  });

  it('keeps the system pair first even when the conversation starts with an assistant', () => {
    const history = convert(chat([assistant('Hi'), user('q')], { system: ['S'] })).body.conversationState.history;
    expect(history.map((h) => ('userInputMessage' in h ? 'user' : 'assistant'))).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(history[0]).toEqual(u('S'));
  });
});

describe('toKiroRequest: empty content', () => {
  it('an empty assistant turn gets the placeholder, never empty content', () => {
    const result = convert(chat([user('q'), assistant(''), user('again')]));
    expect(result.body.conversationState.history).toEqual([u('q'), a(ASSISTANT_PLACEHOLDER)]);
    expect(ASSISTANT_PLACEHOLDER).toBe('OK');
    expect(repair(result, 'assistant-content-placeholder')?.detail).toBe('message 1: empty assistant turn sent with content "OK"');
  });

  it('a whitespace-only assistant turn counts as empty', () => {
    const result = convert(chat([user('q'), assistant('  \n '), user('again')]));
    expect(result.body.conversationState.history[1]).toEqual(a('OK'));
  });

  it('an empty user turn gets a neutral placeholder', () => {
    const result = convert(chat([user(''), assistant('hm'), user('')]));
    expect(result.body.conversationState.history[0]).toEqual(u(USER_PLACEHOLDERS.empty));
    expect(result.body.conversationState.currentMessage.userInputMessage.content).toBe('(empty message)');
    expect(repair(result, 'user-content-placeholder')?.detail).toBe('messages 0, 2: empty user turn sent with content "(empty message)"');
  });

  it('a user turn with only an image says so', () => {
    const result = convert(chat([user({ type: 'image', mediaType: 'image/png', data: PNG })]));
    expect(result.body.conversationState.currentMessage.userInputMessage).toMatchObject({
      content: '(image attached)',
      images: [{ format: 'png', source: { bytes: PNG } }],
    });
    expect(repair(result, 'user-content-placeholder')?.detail).toBe('message 0: user turn with only images sent with content "(image attached)"');
  });
});

describe('toKiroRequest: model id and origin', () => {
  it('are on every user turn, the system pair included', () => {
    const result = convert(chat([user('1'), assistant('2'), user('3'), assistant('4'), user('5')], { system: ['S'] }), { kiroModel: 'claude-opus-4.6' });
    const users = [
      ...result.body.conversationState.history.flatMap((h) => ('userInputMessage' in h ? [h.userInputMessage] : [])),
      result.body.conversationState.currentMessage.userInputMessage,
    ];
    expect(users).toHaveLength(4);
    for (const m of users) expect(m).toMatchObject({ modelId: 'claude-opus-4.6', origin: 'AI_EDITOR' });
  });
});

describe('toKiroRequest: images', () => {
  it('become {format, source:{bytes}}; history turns carry images only when they have some', () => {
    const result = convert(
      chat([
        user('look', { type: 'image', mediaType: 'image/jpeg', data: PNG }),
        assistant('seen'),
        user('and this', { type: 'image', mediaType: 'image/webp', data: PNG }, { type: 'image', mediaType: 'image/gif', data: PNG }),
        assistant('ok'),
        user('no image'),
      ]),
    );
    const [first, , second] = result.body.conversationState.history;
    expect(first).toEqual(u('look', { images: [{ format: 'jpeg', source: { bytes: PNG } }] }));
    expect(second).toEqual(
      u('and this', {
        images: [
          { format: 'webp', source: { bytes: PNG } },
          { format: 'gif', source: { bytes: PNG } },
        ],
      }),
    );
    expect('images' in result.body.conversationState.currentMessage.userInputMessage).toBe(false);
  });

  it('tolerates a data-URL prefix and line breaks in the data', () => {
    const data = `data:image/png;base64,${PNG.slice(0, 20)}\n${PNG.slice(20)}`;
    const result = convert(chat([user('x', { type: 'image', mediaType: 'image/png', data })]));
    expect(result.body.conversationState.currentMessage.userInputMessage.images).toEqual([{ format: 'png', source: { bytes: PNG } }]);
  });

  it('drops an image with no data, saying so', () => {
    const result = convert(chat([user('x', { type: 'image', mediaType: 'image/png', data: '' })]));
    expect(result.body.conversationState.currentMessage.userInputMessage.images).toBeUndefined();
    expect(rules(result)).toEqual(['empty-image-dropped']);
  });

  it('refuses data that is not base64 with a clear error naming the message', () => {
    expect(() => convert(chat([user('x'), assistant('y'), user({ type: 'image', mediaType: 'image/png', data: 'not base64!' })]))).toThrow(
      /messages\[2\]: an image is not valid base64/,
    );
  });

  it('refuses a media type Kiro cannot take', () => {
    const block = { type: 'image', mediaType: 'image/bmp', data: PNG } as unknown as ContentBlock;
    expect(() => convert(chat([user(block)]))).toThrow(/image\/bmp/);
  });

  it('drops images in assistant messages (Kiro assistant turns have none), saying so', () => {
    const result = convert(chat([user('q'), assistant('here', { type: 'image', mediaType: 'image/png', data: PNG }), user('thanks')]));
    expect(result.body.conversationState.history[1]).toEqual(a('here'));
    expect(rules(result)).toEqual(['assistant-image-dropped']);
  });
});

describe('toKiroRequest: assistant prefill', () => {
  it('goes into history and the current message asks to continue', () => {
    const result = convert(chat([user('Write JSON'), assistant('{"answer":')]));
    expect(result.body.conversationState.history).toEqual([u('Write JSON'), a('{"answer":')]);
    expect(result.body.conversationState.currentMessage.userInputMessage.content).toBe('Continue.');
    expect(repair(result, 'assistant-prefill')?.detail).toMatch(/^message 1: the last message is an assistant prefill/);
  });

  it('an empty trailing assistant message is dropped instead', () => {
    const result = convert(chat([user('q'), assistant('')]));
    expect(result.body.conversationState.history).toEqual([]);
    expect(result.body.conversationState.currentMessage.userInputMessage.content).toBe('q');
    expect(rules(result)).toEqual(['empty-trailing-assistant']);
  });
});

describe('toKiroRequest: thinking', () => {
  it('prefixes the system prompt with the directive and budget from the options', () => {
    const result = convert(chat([user('q')], { system: ['Be brief.'] }), { thinkingBudget: 4096 });
    expect(result.body.conversationState.history[0]).toEqual(
      u('<thinking_mode>enabled</thinking_mode><max_thinking_length>4096</max_thinking_length>\nBe brief.'),
    );
  });

  it('takes the budget from request.thinking, and makes a system pair when there is no system prompt', () => {
    const result = convert(chat([user('q')], { thinking: { budgetTokens: 10000 } }));
    expect(result.body.conversationState.history).toEqual([
      u('<thinking_mode>enabled</thinking_mode><max_thinking_length>10000</max_thinking_length>'),
      a(SYSTEM_ACKNOWLEDGEMENT),
    ]);
  });

  it('sends past thinking back tagged before the text when thinking is on', () => {
    const result = convert(
      chat([user('q'), assistant({ type: 'thinking', thinking: 'Let me see.' }, 'The answer.'), user('more')], { thinking: { budgetTokens: 2000 } }),
    );
    expect(result.body.conversationState.history[3]).toEqual(a('<thinking>Let me see.</thinking>\n\nThe answer.'));
  });

  it('drops past thinking when thinking is off (as Anthropic does), saying so', () => {
    const result = convert(chat([user('q'), assistant({ type: 'thinking', thinking: 'hmm' }, 'A.'), user('more')]));
    expect(result.body.conversationState.history[1]).toEqual(a('A.'));
    expect(rules(result)).toEqual(['thinking-dropped']);
  });

  it('falls back to the default budget for a budget that is not a positive number', () => {
    const content = (budget: number) =>
      (convert(chat([user('q')]), { thinkingBudget: budget }).body.conversationState.history[0] as { userInputMessage: { content: string } }).userInputMessage
        .content;
    expect(content(0)).toContain('<max_thinking_length>16000</max_thinking_length>');
    expect(content(Number.NaN)).toContain('<max_thinking_length>16000</max_thinking_length>');
    expect(content(2048.7)).toContain('<max_thinking_length>2048</max_thinking_length>');
  });

  it('sends Kiro-signed reasoning back as reasoningContent, text and signature untouched, even with thinking off', () => {
    const signed = { type: 'thinking', thinking: '  Let me see.\n', signature: 'c2lnLTE=' } as const;
    const result = convert(chat([user('q'), assistant(signed, 'The answer.'), user('more')]));
    expect(result.body.conversationState.history[1]).toEqual(
      a('The answer.', { reasoningContent: { reasoningText: { text: '  Let me see.\n', signature: 'c2lnLTE=' } } }),
    );
    expect(result.repairs).toEqual([]);
    // A turn with only signed reasoning and a tool call keeps the placeholder content.
    const toolTurn = convert(
      chat(
        [
          user('q'),
          assistant(signed, { type: 'tool_use', id: 't1', name: 'x', input: {} }),
          user({ type: 'tool_result', toolUseId: 't1', content: [], isError: false }),
        ],
        {
          tools: [{ name: 'x', description: 'x', inputSchema: { type: 'object' } }],
        },
      ),
    );
    expect(toolTurn.body.conversationState.history[1]).toMatchObject({
      assistantResponseMessage: { content: ASSISTANT_PLACEHOLDER, reasoningContent: { reasoningText: { text: signed.thinking, signature: signed.signature } } },
    });
  });

  it('one signed block per turn: a second one and unsigned reasoning go as tagged text, the second noted', () => {
    const result = convert(
      chat(
        [
          user('q'),
          assistant({ type: 'thinking', thinking: 'first', signature: 's1' }, 'A.'),
          assistant({ type: 'thinking', thinking: 'second', signature: 's2' }, { type: 'thinking', thinking: 'plain' }, 'B.'),
          user('more'),
        ],
        { thinking: { budgetTokens: 2000 } },
      ),
    );
    expect(result.body.conversationState.history[3]).toEqual(
      a('<thinking>second\n\nplain</thinking>\n\nA.\n\nB.', { reasoningContent: { reasoningText: { text: 'first', signature: 's1' } } }),
    );
    expect(repair(result, 'reasoning-as-text')?.detail).toContain('message 2: a second signed reasoning block');
  });

  it('signedReasoning: false sends signed reasoning as tagged text, saying why', () => {
    const result = convert(chat([user('q'), assistant({ type: 'thinking', thinking: 'mine', signature: 'other-account' }, 'A.'), user('more')]), {
      signedReasoning: false,
    });
    expect(result.body.conversationState.history[1]).toEqual(a('<thinking>mine</thinking>\n\nA.'));
    expect(repair(result, 'reasoning-as-text')?.detail).toContain('Kiro refused its signature');
  });

  it('leaves redacted reasoning out, saying so (no known shape Kiro takes it back in)', () => {
    const result = convert(chat([user('q'), assistant({ type: 'redacted_thinking', data: 'b3BhcXVl' }, 'A.'), user('more')]));
    expect(result.body.conversationState.history[1]).toEqual(a('A.'));
    expect(JSON.stringify(result.body)).not.toContain('b3BhcXVl');
    expect(repair(result, 'redacted-thinking-dropped')).toMatchObject({ routine: false, detail: expect.stringContaining('message 1') });
  });

  it('sends no directive when thinking is not asked for', () => {
    expect(JSON.stringify(convert(chat([user('q')], { system: ['S'] })).body)).not.toContain('thinking_mode');
  });
});

describe('toKiroRequest: conversation id', () => {
  it('is stable for a session key and differs between keys', () => {
    const one = convert(chat([user('a')], { sessionKey: 'user_abc_session_1' })).body.conversationState.conversationId;
    const again = convert(chat([user('b'), assistant('c'), user('d')], { sessionKey: 'user_abc_session_1' })).body.conversationState.conversationId;
    const other = convert(chat([user('a')], { sessionKey: 'user_abc_session_2' })).body.conversationState.conversationId;
    expect(one).toMatch(UUID_V4);
    expect(again).toBe(one);
    expect(other).not.toBe(one);
    expect(one).not.toContain('abc');
  });

  it('without a session key, follows how the conversation starts; the option wins', () => {
    const id = (request: ChatRequest) => convert(request).body.conversationState.conversationId;
    const first = id(chat([user('a')], { system: ['S'] }));
    expect(first).toMatch(UUID_V4);
    // Later turns of the same conversation keep the id, so Kiro's prompt cache can hit.
    expect(id(chat([user('a'), assistant('b'), user('c')], { system: ['S'] }))).toBe(first);
    // Another first message or another system prompt is another conversation.
    expect(id(chat([user('x')], { system: ['S'] }))).not.toBe(first);
    expect(id(chat([user('a')], { system: ['T'] }))).not.toBe(first);
    // A session key names the conversation instead.
    expect(id(chat([user('a')], { system: ['S'], sessionKey: 'k' }))).not.toBe(first);
    expect(convert(chat([user('a')], { sessionKey: 'k' }), { conversationId: 'fixed-id' }).body.conversationState.conversationId).toBe('fixed-id');
  });

  it('is scoped to the serving account: one conversation never links two accounts', () => {
    const request = chat([user('a')], { sessionKey: 'k' });
    expect(conversationIdFor(request, 'account-1')).toBe(conversationIdFor(request, 'account-1'));
    expect(conversationIdFor(request, 'account-1')).not.toBe(conversationIdFor(request, 'account-2'));
    expect(conversationKey(request).source).toBe('session');
    expect(conversationKey(chat([user('a')])).source).toBe('prompt');
  });
});

describe('toKiroRequest: routine and notable repairs', () => {
  it('an ordinary agent loop needs only routine repairs', () => {
    const result = convert(
      chat(
        [
          user('fix it'),
          assistant({ type: 'tool_use', id: 't1', name: 'Read', input: { path: 'a' } }),
          user({ type: 'tool_result', toolUseId: 't1', content: [{ type: 'text', text: 'code' }], isError: false }),
        ],
        {
          tools: [
            {
              name: 'Read',
              description: 'Read a file',
              inputSchema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { path: { type: 'string' } } },
            },
          ],
        },
      ),
    );
    expect(result.repairs.map((r) => [r.rule, r.routine])).toEqual([
      ['tool-schema-cleaned', true],
      ['assistant-content-placeholder', true],
      ['user-content-placeholder', true],
    ]);
  });

  it('a conversation that had to be reshaped is flagged', () => {
    const result = convert(chat([user('a'), user('b')]));
    expect(result.repairs).toEqual([{ rule: 'merged-turns', detail: 'messages 0, 1: consecutive user messages merged into one turn', routine: false }]);
  });
});

describe('toKiroRequest: malformed neutral input', () => {
  it('stray nulls and non-strings do not crash the converter; unknown blocks are reported', () => {
    const junk = [null, { type: 'text', text: 5 }, { type: 'video', url: 'x' }, { type: 'thinking' }] as unknown as ContentBlock[];
    const result = convert(
      chat([
        { role: 'user', content: junk },
        { role: 'assistant', content: [{ type: 'tool_use', id: 7, name: null, input: {} }] as unknown as ContentBlock[] },
        { role: 'user', content: [{ type: 'tool_result', toolUseId: 7, content: null, isError: 'yes' }] as unknown as ContentBlock[] },
      ]),
    );
    expect(result.body.conversationState.history[0]).toEqual(u('(empty message)'));
    expect(repair(result, 'misplaced-block')?.detail).toBe('message 0: content block of unknown type "video" dropped');
    expect(rules(result)).toContain('missing-tool-use-id');
  });
});

describe('toKiroRequest: misplaced blocks', () => {
  it('a tool call in a user message and a tool result in an assistant message are carried as text', () => {
    const result = convert(
      chat([
        user('q', { type: 'tool_use', id: 't', name: 'Read', input: { p: 1 } }),
        assistant('a', { type: 'tool_result', toolUseId: 't', content: [{ type: 'text', text: 'out' }], isError: false }),
        user('next'),
      ]),
    );
    expect(result.body.conversationState.history).toEqual([u('q\n\n[tool call Read: {"p":1}]'), a('a\n\n[tool result t]\nout')]);
    expect(repair(result, 'misplaced-block')?.detail).toBe(
      'message 0: tool call in a user message sent as text; message 1: tool result in an assistant message sent as text',
    );
  });
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('toKiroRequest: never mutates its input', () => {
  it('works on a deeply frozen request that needs every kind of repair', () => {
    const request = chat(
      [
        assistant('lead'),
        user('q', { type: 'tool_result', toolUseId: 'orphan', content: [{ type: 'text', text: 'r' }], isError: false }),
        user('q2'),
        assistant({ type: 'thinking', thinking: 't' }, { type: 'tool_use', id: 'dup', name: 'x'.repeat(80), input: '{"a":1}' }),
        user({ type: 'tool_result', toolUseId: 'dup', content: [{ type: 'image', mediaType: 'image/png', data: PNG }], isError: true }),
        assistant({ type: 'tool_use', id: 'dup', name: 'Read', input: null }),
        user('go'),
        assistant('prefill'),
      ],
      {
        system: ['sys'],
        tools: [
          {
            name: 'x'.repeat(80),
            description: '',
            inputSchema: { $schema: 's', type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { type: 'number' } } },
          },
          { name: 'web_search', description: '', inputSchema: {} },
        ],
        toolChoice: { type: 'tool', name: 'x'.repeat(80) },
        thinking: { budgetTokens: 1024 },
        sessionKey: 's',
      },
    );
    const before = JSON.stringify(request);
    deepFreeze(request);
    const result = convert(request);
    expect(JSON.stringify(request)).toBe(before);
    expect(result.repairs.length).toBeGreaterThan(8);
  });
});
