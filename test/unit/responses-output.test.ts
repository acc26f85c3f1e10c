import OpenAI, { APIError } from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ResponseEcho } from '../../src/bridge/responses/responses-input';
import {
  ResponsesStreamWriter,
  buildResponse,
  newResponseId,
  outputAsMessage,
  type ResponseObject,
  type ResponsesOutputMeta,
} from '../../src/bridge/responses/responses-output';
import { KiroError } from '../../src/kiro/errors';
import type { OutputEvent } from '../../src/kiro/types';
import { sseReply, useCannedServer } from '../support/canned-server';
import { assemble, countTokens, kiroReasoning, kiroText, kiroTool, nativeReasoningEvents } from '../support/output-events';
import { ENVELOPE_PREFIX, openReasoning } from '../../src/bridge/responses/reasoning-envelope';

const ECHO: ResponseEcho = {
  instructions: 'Be brief.',
  max_output_tokens: null,
  metadata: {},
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: { effort: null, summary: null },
  store: true,
  temperature: 1,
  text: { format: { type: 'text' } },
  tool_choice: 'auto',
  tools: [],
  top_p: 1,
  truncation: 'disabled',
  user: null,
};

function meta(overrides: Partial<ResponsesOutputMeta> = {}): ResponsesOutputMeta {
  return {
    id: 'resp_test',
    model: 'claude-sonnet-4-5',
    created: 1_760_000_000,
    inputTokens: 42,
    countTokens,
    echo: ECHO,
    customTools: new Set(),
    namespacedTools: new Map(),
    ...overrides,
  };
}

function sseOf(events: OutputEvent[], m: ResponsesOutputMeta = meta(), pingFirst = false): string {
  let out = '';
  const writer = new ResponsesStreamWriter({ write: (chunk) => ((out += chunk), true) }, m);
  if (pingFirst) writer.ping();
  writer.start();
  for (const event of events) writer.write([event]);
  return out;
}

/** Our SSE text → [event, data] pairs, checking that every event names its own type. */
function framesOf(text: string): { event: string; data: Record<string, unknown> }[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\n\n')
    .filter((frame) => !frame.startsWith(':'))
    .map((frame) => {
      const [eventLine, dataLine, ...rest] = frame.split('\n');
      expect(rest).toEqual([]);
      expect(eventLine).toMatch(/^event: [a-z_.]+$/);
      const event = eventLine!.slice('event: '.length);
      const data = JSON.parse(dataLine!.slice('data: '.length)) as Record<string, unknown>;
      expect(data.type).toBe(event);
      return { event, data };
    });
}

/** Item ids are random per output; compare outputs with ids replaced by their position. */
function normalized(response: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(response)) as { output: Record<string, unknown>[]; output_text?: unknown; output_parsed?: unknown };
  delete copy.output_text;
  delete copy.output_parsed;
  copy.output = copy.output.map((item, i) => {
    const { parsed_arguments: _a, ...rest } = item;
    const content = Array.isArray(rest.content) ? (rest.content as Record<string, unknown>[]).map(({ parsed: _p, ...c }) => c) : rest.content;
    return { ...rest, id: `item_${i}`, ...(content === undefined ? {} : { content }) };
  });
  return copy;
}

const canned = useCannedServer();
let client: OpenAI;

beforeAll(() => {
  client = new OpenAI({ apiKey: 'test-key', baseURL: `${canned.origin}/v1`, maxRetries: 0 });
});

/**
 * Reads the stream through the SDK's ResponseStream and rebuilds every output item from the
 * added/delta events, checking each against its output_item.done (what a streaming client sees
 * must be what the finished item says).
 */
async function sdkStream(sse: string) {
  canned.reply = sseReply(sse);
  const stream = client.responses.stream({ model: 'claude-sonnet-4-5', input: 'hi' });
  const events: ResponseStreamEvent[] = [];
  const rebuilt: Record<string, unknown>[] = [];
  for await (const event of stream) {
    events.push(event);
    switch (event.type) {
      case 'response.output_item.added':
        rebuilt[event.output_index] = JSON.parse(JSON.stringify(event.item)) as Record<string, unknown>;
        break;
      case 'response.content_part.added':
        (rebuilt[event.output_index]!.content as unknown[]).push(JSON.parse(JSON.stringify(event.part)));
        break;
      case 'response.output_text.delta':
      case 'response.reasoning_text.delta': {
        const part = (rebuilt[event.output_index]!.content as { text: string }[])[event.content_index]!;
        part.text += event.delta;
        break;
      }
      case 'response.function_call_arguments.delta':
        rebuilt[event.output_index]!.arguments = `${rebuilt[event.output_index]!.arguments as string}${event.delta}`;
        break;
      case 'response.custom_tool_call_input.delta':
        rebuilt[event.output_index]!.input = `${rebuilt[event.output_index]!.input as string}${event.delta}`;
        break;
      case 'response.output_item.done': {
        const mine = rebuilt[event.output_index]!;
        if ('status' in mine) mine.status = 'completed';
        expect(mine).toEqual(JSON.parse(JSON.stringify(event.item)));
        break;
      }
    }
  }
  const final = await stream.finalResponse();
  return { events, final, rebuilt };
}

const scenarios: Record<string, () => OutputEvent[]> = {
  'plain text': () => assemble([kiroText('Hello'), kiroText(', wörld 👋'), kiroText(' "quoted" \\ back\nslash\r\n\u2028\t</script>\u0000')]),
  'thinking, text and two tools': () =>
    assemble(
      [
        ...[...'<thinking>\nLet me check "</thinking>" handling.</thinking>\n\nI will look.'].map(kiroText),
        kiroTool({ toolUseId: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA', name: 'Read' }),
        kiroTool({ toolUseId: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA', input: '{"file_path": "/a/b.ts", "limit": 2' }),
        kiroTool({ toolUseId: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA', input: '0}', stop: true }),
        kiroTool({ toolUseId: 'tooluse_BBBBBBBBBBBBBBBBBBBBBB', name: 'Glob', input: '{"pattern":"**/*.md"}', stop: true }),
      ],
      { thinking: true },
    ),
  'a tool with no input': () => assemble([kiroTool({ toolUseId: 't1', name: 'now', stop: true })]),
  'text after a tool': () => assemble([kiroTool({ toolUseId: 't1', name: 'a', input: '{}', stop: true }), kiroText('and then')]),
  'max_tokens after some text': () => assemble([kiroText('one two'), { kind: 'exception', type: 'ContentLengthExceededException', json: {} }]),
  'native reasoning with a signature, a tool, and Kiro token counts': nativeReasoningEvents,
};

describe('Responses stream read by the official SDK', () => {
  for (const [name, build] of Object.entries(scenarios)) {
    it(`${name}: items rebuilt from the deltas, the final response and the non-streaming response agree`, async () => {
      const events = build();
      const expected = buildResponse(events, meta()).body;
      const { final, rebuilt, events: seen } = await sdkStream(sseOf(events, meta(), true));
      // (The SDK takes its final response from response.completed only; an incomplete one is
      // the response.incomplete event's, as with OpenAI itself.)
      const last = seen.at(-1) as { response?: unknown };
      expect(normalized(expected.status === 'completed' ? final : last.response)).toEqual(normalized(expected));
      expect(normalized({ output: rebuilt })).toEqual({ output: (normalized(expected) as ResponseObject).output });
      // sequence numbers count up from 0 without gaps
      expect(seen.map((e) => e.sequence_number)).toEqual(seen.map((_, i) => i));
      expect(seen[0]!.type).toBe('response.created');
      expect(seen[1]!.type).toBe('response.in_progress');
      expect(seen.at(-1)!.type).toBe(expected.status === 'completed' ? 'response.completed' : 'response.incomplete');
    });
  }

  it('the details are what a client expects', () => {
    const { body, stopReason } = buildResponse(scenarios['thinking, text and two tools']!(), meta());
    expect(stopReason).toBe('tool_use');
    expect(body).toMatchObject({
      id: 'resp_test',
      object: 'response',
      created_at: 1_760_000_000,
      status: 'completed',
      error: null,
      incomplete_details: null,
      model: 'claude-sonnet-4-5',
      instructions: 'Be brief.',
    });
    expect(body.output.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call', 'function_call']);
    expect(body.output[0]).toMatchObject({
      type: 'reasoning',
      summary: [],
      content: [{ type: 'reasoning_text', text: 'Let me check "</thinking>" handling.' }],
    });
    expect(body.output[0]!.id).toMatch(/^rs_[0-9a-f]{48}$/);
    expect(body.output[1]).toMatchObject({
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: 'I will look.', annotations: [] }],
    });
    expect(body.output[1]!.id).toMatch(/^msg_[0-9a-f]{48}$/);
    expect(body.output[2]).toMatchObject({
      type: 'function_call',
      call_id: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA',
      name: 'Read',
      arguments: '{"file_path": "/a/b.ts", "limit": 20}',
      status: 'completed',
    });
    expect(body.output[2]!.id).toMatch(/^fc_[0-9a-f]{48}$/);
    expect(body.usage).toMatchObject({
      input_tokens: 42,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: expect.any(Number) },
    });
    expect(body.usage!.total_tokens).toBe(body.usage!.input_tokens + body.usage!.output_tokens);
  });

  it('max_tokens is an incomplete response with the reason', () => {
    const { body } = buildResponse(scenarios['max_tokens after some text']!(), meta());
    expect(body.status).toBe('incomplete');
    expect(body.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });

  it('the SDK parses the non-streaming response and adds output_text', async () => {
    const { body } = buildResponse(scenarios['text after a tool']!(), meta());
    canned.reply = { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const parsed = await client.responses.create({ model: 'claude-sonnet-4-5', input: 'hi' });
    expect(parsed.output_text).toBe('and then');
    expect(parsed.output[0]).toMatchObject({ type: 'function_call', arguments: '{}' });
  });

  it('custom (free-form) tools come back as custom_tool_call items with the raw input', async () => {
    const patch = '*** Begin Patch\n*** Add File: a.txt\n+hello "x"\n*** End Patch';
    const events = assemble([
      kiroTool({ toolUseId: 'tooluse_P', name: 'apply_patch', input: JSON.stringify({ input: patch }).slice(0, 20) }),
      kiroTool({ toolUseId: 'tooluse_P', input: JSON.stringify({ input: patch }).slice(20), stop: true }),
    ]);
    const m = meta({ customTools: new Set(['apply_patch']) });
    const { body } = buildResponse(events, m);
    expect(body.output).toEqual([{ id: expect.stringMatching(/^ctc_/), type: 'custom_tool_call', call_id: 'tooluse_P', name: 'apply_patch', input: patch }]);
    const { final, events: seen } = await sdkStream(sseOf(events, m));
    expect(normalized(final)).toEqual(normalized(body));
    // no JSON fragments of the wrapper leak as input deltas
    expect(seen.filter((e) => e.type === 'response.custom_tool_call_input.delta').map((e) => (e as { delta: string }).delta)).toEqual([patch]);
    expect(outputAsMessage(body.output)).toEqual({
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'tooluse_P', name: 'apply_patch', input: { input: patch } }],
    });
  });

  it('a call of a flattened namespace member goes back as its name plus its namespace, streamed and not', async () => {
    const events = assemble([
      kiroTool({ toolUseId: 'tooluse_N', name: 'multi_agent_v1__spawn_agent', input: '{"message":', stop: false }),
      kiroTool({ toolUseId: 'tooluse_N', input: '"go"}', stop: true }),
      kiroTool({ toolUseId: 'tooluse_P', name: 'exec_command', input: '{"cmd":"ls"}', stop: true }),
    ]);
    const m = meta({ namespacedTools: new Map([['multi_agent_v1__spawn_agent', { namespace: 'multi_agent_v1', name: 'spawn_agent' }]]) });
    const { body } = buildResponse(events, m);
    expect(body.output).toEqual([
      {
        id: expect.stringMatching(/^fc_/),
        type: 'function_call',
        call_id: 'tooluse_N',
        name: 'spawn_agent',
        namespace: 'multi_agent_v1',
        arguments: '{"message":"go"}',
        status: 'completed',
      },
      { id: expect.stringMatching(/^fc_/), type: 'function_call', call_id: 'tooluse_P', name: 'exec_command', arguments: '{"cmd":"ls"}', status: 'completed' },
    ]);
    const frames = framesOf(sseOf(events, m));
    const added = frames.filter((f) => f.event === 'response.output_item.added').map((f) => f.data.item);
    expect(added[0]).toMatchObject({ type: 'function_call', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: '' });
    expect(added[1]).not.toHaveProperty('namespace');
    expect(frames.find((f) => f.event === 'response.function_call_arguments.done')!.data).toMatchObject({ name: 'spawn_agent', arguments: '{"message":"go"}' });
    const { final } = await sdkStream(sseOf(events, m));
    expect(normalized(final)).toEqual(normalized(body));
    // Kept for previous_response_id under the flat name Kiro knows.
    expect(outputAsMessage(body.output).content.map((b) => b.type === 'tool_use' && b.name)).toEqual(['multi_agent_v1__spawn_agent', 'exec_command']);
  });

  it('a mid-stream error reaches the SDK as an APIError, and ends with response.failed for Codex', async () => {
    const events = assemble([kiroText('partial answer'), { kind: 'exception', type: 'ThrottlingException', json: { message: 'Too many requests' } }]);
    const sse = sseOf(events);
    const frames = framesOf(sse);
    expect(frames.slice(-2).map((f) => f.event)).toEqual(['error', 'response.failed']);
    expect(frames.at(-2)!.data).toMatchObject({ code: 'rate_limit_exceeded', message: expect.stringMatching(/Too many requests/), param: null });
    expect(frames.at(-1)!.data.response).toMatchObject({
      id: 'resp_test',
      status: 'failed',
      error: { code: 'rate_limit_exceeded', message: expect.stringMatching(/Too many requests/) },
    });
    expect(sse).not.toContain('response.completed');

    canned.reply = sseReply(sse);
    const stream = client.responses.stream({ model: 'claude-sonnet-4-5', input: 'hi' });
    let seen = '';
    stream.on('response.output_text.delta', (event) => (seen += event.delta));
    const failure = await stream.finalResponse().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(APIError);
    expect((failure as APIError).code).toBe('rate_limit_exceeded');
    expect(seen).toBe('partial answer');
  });

  it('a context overflow mid-stream carries context_length_exceeded (Codex compacts on it)', () => {
    let out = '';
    const writer = new ResponsesStreamWriter({ write: (c) => ((out += c), true) }, meta());
    writer.fail(new KiroError('prompt_too_long', 'prompt is too long: Input is too long.'));
    const failed = framesOf(out).at(-1)!;
    expect(failed.data.response).toMatchObject({ status: 'failed', error: { code: 'context_length_exceeded' } });
    expect(writer.outcome).toMatchObject({ error: { status: 400, param: 'input' } });
    expect(writer.response?.status).toBe('failed');
  });
});

describe('ResponsesStreamWriter: keeping the final response', () => {
  it('hands the final Response over before response.completed is written, and not for a failed one', () => {
    let out = '';
    const seenAtFinal: string[] = [];
    const writer = new ResponsesStreamWriter(
      { write: (c) => ((out += c), true) },
      meta({ onFinal: (response) => seenAtFinal.push(`${response.status}:${out.includes('response.completed') ? 'after' : 'before'}`) }),
    );
    writer.start();
    writer.write(assemble([kiroText('Hello there')]));
    expect(seenAtFinal).toEqual(['completed:before']);
    expect(framesOf(out).at(-1)!.event).toBe('response.completed');

    const failedFinals: unknown[] = [];
    const failing = new ResponsesStreamWriter({ write: () => true }, meta({ onFinal: (r) => failedFinals.push(r) }));
    failing.start();
    failing.fail(new KiroError('stream_broken', 'cut'));
    expect(failedFinals).toEqual([]);
  });
});

describe('ResponsesStreamWriter: the wire format', () => {
  it('response.created and in_progress carry the request echo, with no output or usage yet', () => {
    const frames = framesOf(sseOf(scenarios['plain text']!()));
    expect(frames[0]!.data.response).toMatchObject({
      id: 'resp_test',
      object: 'response',
      status: 'in_progress',
      output: [],
      usage: null,
      instructions: 'Be brief.',
      store: true,
    });
    expect(frames.map((f) => f.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(frames[7]!.data).toMatchObject({
      item_id: frames[2]!.data.item && (frames[2]!.data.item as { id: string }).id,
      output_index: 0,
      content_index: 0,
      text: 'Hello, wörld 👋 "quoted" \\ back\nslash\r\n\u2028\t</script>\u0000',
    });
  });

  it('reasoning: a summary part carrying the reasoning too, only when the client asked for summaries', () => {
    // The scenario streams its reasoning a character at a time: one delta pair per character.
    const reasoning = (frames: { event: string }[]) =>
      frames
        .filter((f) => f.event.includes('reasoning'))
        .map((f) => f.event)
        .filter((event, i, all) => !(event.endsWith('.delta') && all.slice(0, i).includes(event)));
    const plainFrames = framesOf(sseOf(scenarios['thinking, text and two tools']!()));
    expect(reasoning(plainFrames)).toEqual(['response.reasoning_text.delta', 'response.reasoning_text.done']);

    const asked = meta({ echo: { ...ECHO, reasoning: { effort: 'low', summary: 'auto' } } });
    const frames = framesOf(sseOf(scenarios['thinking, text and two tools']!(), asked));
    expect(reasoning(frames)).toEqual([
      'response.reasoning_summary_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.reasoning_text.done',
    ]);
    const text = 'Let me check "</thinking>" handling.';
    const summaryDeltas = frames.filter((f) => f.event === 'response.reasoning_summary_text.delta');
    expect(summaryDeltas.map((f) => f.data.delta).join('')).toBe(text);
    expect(summaryDeltas[0]!.data).toMatchObject({ output_index: 0, summary_index: 0 });
    const done = frames.find((f) => f.event === 'response.output_item.done')!.data.item;
    expect(done).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text }], content: [{ type: 'reasoning_text', text }] });
    // The JSON answer carries the same item.
    expect(buildResponse(scenarios['thinking, text and two tools']!(), asked).body.output[0]).toMatchObject({ summary: [{ type: 'summary_text', text }] });
  });

  it('function calls: added with empty arguments, the argument delta(s), arguments.done with the name, item done', () => {
    const frames = framesOf(sseOf(scenarios['thinking, text and two tools']!()));
    const first = frames.filter((f) => f.data.output_index === 2);
    expect(first.map((f) => f.event)).toEqual([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
    ]);
    expect(first[0]!.data.item).toMatchObject({
      type: 'function_call',
      call_id: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA',
      name: 'Read',
      arguments: '',
      status: 'in_progress',
    });
    expect(first[2]!.data).toMatchObject({ name: 'Read', arguments: '{"file_path": "/a/b.ts", "limit": 20}' });
    // Arguments in several deltas (the event contract allows them) are joined the same way.
    const split = framesOf(
      sseOf([
        { type: 'tool_start', id: 'call_1', name: 'Read' },
        { type: 'tool_delta', id: 'call_1', json: '{"file_path": ' },
        { type: 'tool_delta', id: 'call_1', json: '"/a.ts"}' },
        { type: 'tool_end', id: 'call_1', input: { file_path: '/a.ts' } },
        { type: 'finish', reason: 'tool_use' },
      ]),
    );
    expect(split.filter((f) => f.event === 'response.function_call_arguments.delta').map((f) => f.data.delta)).toEqual(['{"file_path": ', '"/a.ts"}']);
    expect(split.find((f) => f.event === 'response.function_call_arguments.done')!.data).toMatchObject({ arguments: '{"file_path": "/a.ts"}' });
  });

  it('counts output and reasoning tokens and takes Kiro context usage', () => {
    const events: OutputEvent[] = [
      { type: 'thinking', text: 'abcdefgh' },
      { type: 'text', text: 'abcde' },
      { type: 'usage', contextUsagePercentage: 1 },
      { type: 'usage', credits: 0.25 },
      { type: 'finish', reason: 'end_turn' },
    ];
    const m = meta({ contextWindow: 200_000 });
    const built = buildResponse(events, m);
    expect(built.body.usage).toEqual({
      input_tokens: 2000,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 2 },
      total_tokens: 2004,
    });
    expect(built).toMatchObject({ inputTokens: 2000, outputTokens: 4, credits: 0.25, stopReason: 'end_turn' });
    let out = '';
    const writer = new ResponsesStreamWriter({ write: (c) => ((out += c), true) }, m);
    writer.write(events);
    expect(writer.usage).toEqual({ inputTokens: 2000, outputTokens: 4, credits: 0.25 });
    expect(writer.response?.usage).toEqual(built.body.usage);
    expect((framesOf(out).at(-1)!.data.response as ResponseObject).usage).toEqual(built.body.usage);
  });

  it('pings are SSE comments; nothing is written after the end', () => {
    let out = '';
    const writer = new ResponsesStreamWriter({ write: (c) => ((out += c), true) }, meta());
    writer.ping();
    expect(out).toBe(': ping\n\n');
    writer.finish('end_turn');
    const length = out.length;
    writer.write([{ type: 'text', text: 'late' }]);
    writer.fail(new Error('late'));
    writer.ping();
    expect(out.length).toBe(length);
    expect(framesOf(out).map((f) => f.event)).toEqual(['response.created', 'response.in_progress', 'response.completed']);
  });

  it('a broken event sequence becomes an error and response.failed, not broken SSE', () => {
    let out = '';
    const writer = new ResponsesStreamWriter({ write: (c) => ((out += c), true) }, meta());
    writer.write([
      { type: 'tool_start', id: 'a', name: 'x' },
      { type: 'text', text: 'interrupts the tool' },
    ]);
    expect(
      framesOf(out)
        .slice(-2)
        .map((f) => f.event),
    ).toEqual(['error', 'response.failed']);
    expect(writer.ended).toBe(true);
    expect(() => buildResponse([{ type: 'text', text: 'a' }], meta())).toThrow(/without a finish/);
    const error = new KiroError('throttled', 'slow down');
    expect(() => buildResponse([{ type: 'error', error }], meta())).toThrow(error);
  });

  it('outputAsMessage turns the output back into the assistant turn (for previous_response_id)', () => {
    const { body } = buildResponse(scenarios['thinking, text and two tools']!(), meta());
    expect(outputAsMessage(body.output)).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Let me check "</thinking>" handling.' },
        { type: 'text', text: 'I will look.' },
        { type: 'tool_use', id: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA', name: 'Read', input: { file_path: '/a/b.ts', limit: 20 } },
        { type: 'tool_use', id: 'tooluse_BBBBBBBBBBBBBBBBBBBBBB', name: 'Glob', input: { pattern: '**/*.md' } },
      ],
    });
  });

  it('response ids are resp_ + 48 hex and unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newResponseId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^resp_[0-9a-f]{48}$/);
  });
});

describe("Responses: Kiro's native reasoning and token counts", () => {
  const SIGNATURE = 'EqQBCkgIARABGAIiQKiroSignature0123456789+/==';

  it('encrypted_content carries the text and signature only when include asks for it', () => {
    const without = buildResponse(nativeReasoningEvents(), meta()).body.output[0]!;
    expect(without).toEqual({
      type: 'reasoning',
      id: expect.stringMatching(/^rs_/),
      summary: [],
      content: [{ type: 'reasoning_text', text: 'The user wants a file listing.' }],
    });
    const withEnvelope = buildResponse(nativeReasoningEvents(), meta({ encryptedReasoning: true })).body.output[0]!;
    expect(withEnvelope.type === 'reasoning' && withEnvelope.encrypted_content?.startsWith(ENVELOPE_PREFIX)).toBe(true);
    expect(openReasoning(withEnvelope.type === 'reasoning' ? withEnvelope.encrypted_content : undefined)).toEqual({
      text: 'The user wants a file listing.',
      signature: SIGNATURE,
    });
    // Streamed, the item's done event has it (that is what Codex keeps).
    const done = framesOf(sseOf(nativeReasoningEvents(), meta({ encryptedReasoning: true }))).find(
      (f) => f.event === 'response.output_item.done' && (f.data.item as { type: string }).type === 'reasoning',
    )!;
    expect((done.data.item as { encrypted_content: string }).encrypted_content).toBe(withEnvelope.type === 'reasoning' ? withEnvelope.encrypted_content : '');
  });

  it('tag-split reasoning gets an envelope of its text alone; redacted reasoning an item of its own', () => {
    const tagged = buildResponse(scenarios['thinking, text and two tools']!(), meta({ encryptedReasoning: true })).body.output[0]!;
    expect(openReasoning(tagged.type === 'reasoning' ? tagged.encrypted_content : undefined)).toEqual({ text: 'Let me check "</thinking>" handling.' });
    const { body } = buildResponse(assemble([kiroReasoning({ redactedContent: 'b3BhcXVl' }), kiroText('ok')]), meta({ encryptedReasoning: true }));
    expect(body.output[0]).toMatchObject({ type: 'reasoning', summary: [], content: [] });
    expect(openReasoning(body.output[0]!.type === 'reasoning' ? body.output[0]!.encrypted_content : undefined)).toEqual({ redacted: 'b3BhcXVl' });
  });

  it('the stored turn keeps the signature even when the client did not ask for the envelope', () => {
    const { items } = buildResponse(nativeReasoningEvents(), meta());
    expect(outputAsMessage(items).content[0]).toEqual({ type: 'thinking', thinking: 'The user wants a file listing.', signature: SIGNATURE });
  });

  it("usage: Kiro's counts, the whole prompt in input_tokens and the cache read in cached_tokens", () => {
    expect(buildResponse(nativeReasoningEvents(), meta()).body.usage).toEqual({
      input_tokens: 3520,
      input_tokens_details: { cached_tokens: 3000 },
      output_tokens: 57,
      output_tokens_details: { reasoning_tokens: 8 },
      total_tokens: 3577,
    });
  });
});
