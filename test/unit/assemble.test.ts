import { describe, expect, it } from 'vitest';
import { ResponseAssembler, StopSequenceScanner, type AssembleOptions } from '../../src/kiro/response/assemble';
import { KiroError } from '../../src/kiro/errors';
import { EventStreamDecoder, EventStreamError } from '../../src/kiro/codec/eventstream';
import { toKiroEvent, type KiroEvent } from '../../src/kiro/codec/events';
import type { OutputEvent } from '../../src/kiro/types';
import { fixtureBytes } from '../support/fixtures';
import { randomInt, seededRandom, testSeed } from '../support/random';

const text = (content: string): KiroEvent => ({ kind: 'event', type: 'assistantResponseEvent', json: { content } });
const toolFrame = (json: Record<string, unknown>): KiroEvent => ({ kind: 'event', type: 'toolUseEvent', json });
const exception = (type: string, message = 'boom'): KiroEvent => ({ kind: 'exception', type, json: { message } });

function run(options: AssembleOptions, events: KiroEvent[], ending: 'end' | Error | 'none' = 'end'): OutputEvent[] {
  const assembler = new ResponseAssembler(options);
  const out: OutputEvent[] = [];
  for (const event of events) out.push(...assembler.push(event));
  if (ending === 'end') out.push(...assembler.end());
  else if (ending !== 'none') out.push(...assembler.fail(ending));
  return out;
}

/** Adjacent text (or thinking) events merged, so assertions do not depend on fragmenting. */
function merged(events: OutputEvent[]): OutputEvent[] {
  const out: OutputEvent[] = [];
  for (const event of events) {
    const last = out.at(-1);
    if ((event.type === 'text' || event.type === 'thinking') && last?.type === event.type) {
      out[out.length - 1] = { type: event.type, text: last.text + event.text };
    } else out.push(event);
  }
  return out;
}

const terminal = (events: OutputEvent[]) => events.filter((e) => e.type === 'finish' || e.type === 'error');

function errorOf(events: OutputEvent[]): KiroError {
  const last = events.at(-1);
  expect(last?.type).toBe('error');
  const error = (last as Extract<OutputEvent, { type: 'error' }>).error;
  expect(error).toBeInstanceOf(KiroError);
  return error as KiroError;
}

describe('ResponseAssembler: text', () => {
  it('passes text through as it arrives and ends the turn', () => {
    const assembler = new ResponseAssembler({ thinking: false });
    expect(assembler.push(text('Hello'))).toEqual([{ type: 'text', text: 'Hello' }]);
    expect(assembler.push(text(', world'))).toEqual([{ type: 'text', text: ', world' }]);
    expect(assembler.done).toBe(false);
    expect(assembler.end()).toEqual([{ type: 'finish', reason: 'end_turn' }]);
    expect(assembler.done).toBe(true);
  });

  it("appends to the caller's array when given one (a batch read into one list)", () => {
    const assembler = new ResponseAssembler({ thinking: false });
    const batch: OutputEvent[] = [];
    expect(assembler.push(text('Hello'), batch)).toBe(batch);
    assembler.push(text(', world'), batch);
    expect(batch).toEqual([
      { type: 'text', text: 'Hello' },
      { type: 'text', text: ', world' },
    ]);
  });

  it('leaves thinking tags untouched when thinking was not asked for', () => {
    const out = run({ thinking: false }, [text('<thinking>x</thinking>\n\nA')]);
    expect(merged(out)).toEqual([
      { type: 'text', text: '<thinking>x</thinking>\n\nA' },
      { type: 'finish', reason: 'end_turn' },
    ]);
  });

  it('splits thinking at the start of the answer, even one character per frame', () => {
    const input = '<thinking>\nI should say "</thinking>" carefully.</thinking>\n\nHere it is.';
    const out = run({ thinking: true }, [...input].map(text));
    expect(merged(out)).toEqual([
      { type: 'thinking', text: 'I should say "</thinking>" carefully.' },
      { type: 'text', text: 'Here it is.' },
      { type: 'finish', reason: 'end_turn' },
    ]);
  });

  it('ignores empty content and events it has no use for', () => {
    const ignored: KiroEvent[] = [
      { kind: 'event', type: 'initial-response', json: { conversationId: '' } },
      { kind: 'event', type: 'followupPromptEvent', json: { followupPrompt: { content: 'more?' } } },
      { kind: 'event', type: 'codeReferenceEvent', json: { references: [] } },
      { kind: 'event', type: 'messageMetadataEvent', json: { conversationId: 'c', utteranceId: 'u' } },
      { kind: 'event', type: 'supplementaryWebLinksEvent', json: { supplementaryWebLinks: [] } },
      { kind: 'event', type: 'invalidStateEvent', json: { reason: 'INVALID_TASK_ASSIST_PLAN', message: 'x' } },
      { kind: 'event', type: 'assistantResponseEvent', json: { content: '' } },
      { kind: 'event', type: 'assistantResponseEvent', json: null },
      { kind: 'event', type: 'somethingNew', json: 42 },
    ];
    const assembler = new ResponseAssembler({ thinking: true });
    for (const event of ignored) expect(assembler.push(event)).toEqual([]);
    expect(merged([...assembler.push(text('ok')), ...assembler.end()])).toEqual([
      { type: 'text', text: 'ok' },
      { type: 'finish', reason: 'end_turn' },
    ]);
  });

  it('a stream with no content at all is an error, not an empty end_turn', () => {
    for (const events of [[], [{ kind: 'event', type: 'meteringEvent', json: { usage: 1 } } as KiroEvent], [text('')]]) {
      const out = run({ thinking: false }, events);
      expect(terminal(out)).toHaveLength(1);
      const error = errorOf(out);
      expect(error.errorClass).toBe('stream_broken');
      expect(error.message).toMatch(/without sending any content/);
    }
  });
});

describe('ResponseAssembler: tool calls', () => {
  it('emits a tool call whole once it stops: start with the restored name, the input text, the parsed input', () => {
    const names = { fromKiro: (name: string) => (name === 'mcp_fs_write_1a2b' ? 'mcp__filesystem__write_file_with_a_long_name' : name) };
    const assembler = new ResponseAssembler({ thinking: false, toolNames: names });
    expect(assembler.push(text('Writing.'))).toEqual([{ type: 'text', text: 'Writing.' }]);
    // Nothing of the call goes out until Kiro says it is complete: a cut call is never half-sent.
    expect(assembler.push(toolFrame({ toolUseId: 'tooluse_A', name: 'mcp_fs_write_1a2b' }))).toEqual([]);
    expect(assembler.push(toolFrame({ toolUseId: 'tooluse_A', name: 'mcp_fs_write_1a2b', input: '{"path": "a.txt", ' }))).toEqual([]);
    expect(assembler.push(toolFrame({ toolUseId: 'tooluse_A', input: '"content": "hi"}' }))).toEqual([]);
    expect(assembler.push(toolFrame({ toolUseId: 'tooluse_A', stop: true }))).toEqual([
      { type: 'tool_start', id: 'tooluse_A', name: 'mcp__filesystem__write_file_with_a_long_name' },
      { type: 'tool_delta', id: 'tooluse_A', json: '{"path": "a.txt", "content": "hi"}' },
      { type: 'tool_end', id: 'tooluse_A', input: { path: 'a.txt', content: 'hi' } },
    ]);
    expect(assembler.end()).toEqual([{ type: 'finish', reason: 'tool_use' }]);
  });

  it('empty input becomes {}, and an input given as an object is stringified', () => {
    const out = run({ thinking: false }, [
      toolFrame({ toolUseId: 't1', name: 'now', stop: true }),
      toolFrame({ toolUseId: 't2', name: 'calc', input: { a: 1, b: [2] } }),
      toolFrame({ toolUseId: 't2', stop: true, input: '' }),
    ]);
    expect(out).toEqual([
      { type: 'tool_start', id: 't1', name: 'now' },
      { type: 'tool_end', id: 't1', input: {} },
      { type: 'tool_start', id: 't2', name: 'calc' },
      { type: 'tool_delta', id: 't2', json: '{"a":1,"b":[2]}' },
      { type: 'tool_end', id: 't2', input: { a: 1, b: [2] } },
      { type: 'finish', reason: 'tool_use' },
    ]);
  });

  it('serialises interleaved tools: the second waits until the first ends, nothing is lost', () => {
    const out = run({ thinking: false }, [
      toolFrame({ toolUseId: 'A', name: 'read' }),
      toolFrame({ toolUseId: 'B', name: 'grep' }),
      toolFrame({ toolUseId: 'A', input: '{"pa' }),
      toolFrame({ toolUseId: 'B', input: '{"q":' }),
      text('between'),
      toolFrame({ toolUseId: 'B', input: '"x"}', stop: true }),
      toolFrame({ toolUseId: 'A', input: 'th":"f"}' }),
      toolFrame({ toolUseId: 'A', stop: true }),
    ]);
    expect(out).toEqual([
      { type: 'tool_start', id: 'A', name: 'read' },
      { type: 'tool_delta', id: 'A', json: '{"path":"f"}' },
      { type: 'tool_end', id: 'A', input: { path: 'f' } },
      { type: 'tool_start', id: 'B', name: 'grep' },
      { type: 'tool_delta', id: 'B', json: '{"q":"x"}' },
      { type: 'tool_end', id: 'B', input: { q: 'x' } },
      { type: 'text', text: 'between' },
      { type: 'finish', reason: 'tool_use' },
    ]);
  });

  it('keeps the first name when later frames repeat or change it, and waits for a late name', () => {
    const out = run({ thinking: false }, [
      toolFrame({ toolUseId: 'A', input: '{"x":' }),
      toolFrame({ toolUseId: 'A', name: 'first', input: '1' }),
      toolFrame({ toolUseId: 'A', name: 'second', input: '}', stop: true }),
    ]);
    expect(out).toEqual([
      { type: 'tool_start', id: 'A', name: 'first' },
      { type: 'tool_delta', id: 'A', json: '{"x":1}' },
      { type: 'tool_end', id: 'A', input: { x: 1 } },
      { type: 'finish', reason: 'tool_use' },
    ]);
  });

  it('ignores tool frames without an id and frames after a tool stopped', () => {
    const out = run({ thinking: false }, [
      toolFrame({ name: 'orphan', input: '{}' }),
      toolFrame({ toolUseId: 'A', name: 'a', input: '{}', stop: true }),
      toolFrame({ toolUseId: 'A', input: 'garbage', stop: true }),
    ]);
    expect(out).toEqual([
      { type: 'tool_start', id: 'A', name: 'a' },
      { type: 'tool_delta', id: 'A', json: '{}' },
      { type: 'tool_end', id: 'A', input: {} },
      { type: 'finish', reason: 'tool_use' },
    ]);
  });

  it('a tool call whose input Kiro cut off is never emitted: a note takes its place and the turn ends with max_tokens', () => {
    const notes: string[] = [];
    const out = run({ thinking: false, onNote: (note) => notes.push(note) }, [
      toolFrame({ toolUseId: 'tooluse_W', name: 'Write' }),
      toolFrame({ toolUseId: 'tooluse_W', input: '{"file_path":"/tmp/a.html","content":"<html>' }),
      toolFrame({ toolUseId: 'tooluse_W', stop: true }),
      text('more text that must not follow'),
    ]);
    expect(out).toEqual([
      {
        type: 'text',
        text:
          "[Kiro Bridge: the Write tool call was cut off by Kiro's output limit after 44 characters of input, so it was not run. " +
          'Its input began: `{"file_path":"/tmp/a.html","content":"<html>`. ' +
          'Kiro cannot stream a tool input this large in one response. Do the same work in smaller pieces: write a large file in parts ' +
          '(create it with the first part, then add each further part with its own call), and split a large edit into several smaller edits.]',
      },
      { type: 'finish', reason: 'max_tokens' },
    ]);
    expect(notes).toEqual([
      'tool call Write (tooluse_W) cut off by Kiro after 44 characters of input (its input is not complete JSON): not sent to the client; the answer ends with a note asking for smaller pieces',
    ]);
  });

  it('an empty input is a cut-off call when the tool requires properties, and {} when it requires none', () => {
    const requiredInput = (name: string) => ({ Write: ['file_path', 'content'], Edit: ['file_path'] })[name];
    const notes: string[] = [];
    const empty = run({ thinking: false, requiredInput, onNote: (note) => notes.push(note) }, [
      text('Writing the file.'),
      toolFrame({ toolUseId: 'W', name: 'Write', stop: true }),
    ]);
    expect(empty.map((e) => e.type)).toEqual(['text', 'text', 'finish']);
    expect(empty[1]).toMatchObject({
      type: 'text',
      text: expect.stringMatching(
        /^\n\n\[Kiro Bridge: the Write tool call was cut off by Kiro's output limit after 0 characters of input, so it was not run\. Kiro cannot/,
      ),
    });
    expect(empty.at(-1)).toEqual({ type: 'finish', reason: 'max_tokens' });
    expect(notes[0]).toContain('(its input is empty, but file_path, content are required)');

    const braces = run({ thinking: false, requiredInput }, [toolFrame({ toolUseId: 'E', name: 'Edit', input: ' {} ', stop: true })]);
    expect(braces.at(-1)).toEqual({ type: 'finish', reason: 'max_tokens' });
    expect(braces.some((e) => e.type === 'tool_start')).toBe(false);

    const none = run({ thinking: false, requiredInput }, [toolFrame({ toolUseId: 'N', name: 'now', stop: true })]);
    expect(none).toEqual([
      { type: 'tool_start', id: 'N', name: 'now' },
      { type: 'tool_end', id: 'N', input: {} },
      { type: 'finish', reason: 'tool_use' },
    ]);
    // A partial object is the model's business (the client says what is missing): only an empty one is a cut.
    const partial = run({ thinking: false, requiredInput }, [toolFrame({ toolUseId: 'P', name: 'Write', input: '{"file_path":"a"}', stop: true })]);
    expect(partial.at(-1)).toEqual({ type: 'finish', reason: 'tool_use' });
  });

  it('complete calls before a cut one still run (tool_use); what came behind the cut call is dropped, usage still counts', () => {
    const notes: string[] = [];
    const out = run({ thinking: false, onNote: (note) => notes.push(note) }, [
      toolFrame({ toolUseId: 'R', name: 'Read', input: '{"file_path":"a"}', stop: true }),
      toolFrame({ toolUseId: 'W', name: 'Write', input: '{"file_path":"b","content":"' }),
      toolFrame({ toolUseId: 'X', name: 'Bash', input: '{"command":"ls"}' }),
      text('queued behind the Write'),
      toolFrame({ toolUseId: 'W', input: 'abc', stop: true }),
      toolFrame({ toolUseId: 'X', stop: true }),
      text('after the cut'),
      { kind: 'event', type: 'meteringEvent', json: { usage: 0.5 } },
      { kind: 'event', type: 'contextUsageEvent', json: { contextUsagePercentage: 40 } },
    ]);
    expect(out.map((e) => (e.type === 'tool_start' ? `start ${e.id}` : e.type))).toEqual([
      'start R',
      'tool_delta',
      'tool_end',
      'text',
      'usage',
      'usage',
      'finish',
    ]);
    // After a tool block the note is its own paragraph already.
    expect(out[3]).toMatchObject({ type: 'text', text: expect.stringMatching(/^\[Kiro Bridge: the Write tool call/) });
    expect(out.slice(4)).toEqual([
      { type: 'usage', credits: 0.5 },
      { type: 'usage', contextUsagePercentage: 40 },
      { type: 'finish', reason: 'tool_use' },
    ]);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/Write \(W\).*; 2 later part\(s\) of the answer dropped with it$/);
  });

  it('after a cut, any ending finishes the answer: an exception, a broken connection, or the end', () => {
    const cutCall = [toolFrame({ toolUseId: 'W', name: 'Write', input: '{"content":"x', stop: true })];
    for (const [more, ending] of [
      [[exception('ThrottlingException')], 'none'],
      [[exception('ContentLengthExceededException')], 'none'],
      [[{ kind: 'error', type: 'InternalFailure', json: { message: 'oops' } } as KiroEvent], 'none'],
      [[], new Error('ECONNRESET')],
      [[], 'end'],
    ] as const) {
      const out = run({ thinking: false }, [...cutCall, ...more], ending);
      expect(out.at(-1)).toEqual({ type: 'finish', reason: 'max_tokens' });
      expect(terminal(out)).toHaveLength(1);
    }
  });

  it('a tool input that is JSON but not an object is an error', () => {
    const out = run({ thinking: false }, [toolFrame({ toolUseId: 'A', name: 'a', input: '[1,2]', stop: true })]);
    expect(errorOf(out).message).toMatch(/not a JSON object/);
  });

  it('a tool that stops without ever getting a name is an error', () => {
    const out = run({ thinking: false }, [toolFrame({ toolUseId: 'A', input: '{}', stop: true })]);
    expect(errorOf(out).message).toMatch(/without a tool name/);
  });

  it('a stream that ends inside a tool call (Kiro closing a call it cut) ends with the note, never end_turn', () => {
    const notice = expect.stringMatching(/^\[Kiro Bridge: the Write tool call was cut off/);
    const cases: [KiroEvent[], OutputEvent[]][] = [
      [
        [text('Let me write it.'), toolFrame({ toolUseId: 'A', name: 'Write' })],
        [
          { type: 'text', text: 'Let me write it.' },
          { type: 'text', text: expect.stringMatching(/^\n\n\[Kiro Bridge: the Write tool call was cut off/) },
          { type: 'finish', reason: 'max_tokens' },
        ],
      ],
      [
        [toolFrame({ toolUseId: 'A', name: 'Write', input: '{"a":1}' })],
        [
          { type: 'text', text: notice },
          { type: 'finish', reason: 'max_tokens' },
        ],
      ],
      [
        [toolFrame({ toolUseId: 'A', name: 'ok', input: '{}', stop: true }), toolFrame({ toolUseId: 'B', name: 'Write', input: '{' })],
        [
          { type: 'tool_start', id: 'A', name: 'ok' },
          { type: 'tool_delta', id: 'A', json: '{}' },
          { type: 'tool_end', id: 'A', input: {} },
          { type: 'text', text: notice },
          { type: 'finish', reason: 'tool_use' },
        ],
      ],
    ];
    for (const [events, expected] of cases) expect(run({ thinking: false }, events)).toEqual(expected);
  });

  it('flushes held text before a tool starts', () => {
    const out = run({ thinking: true, stopSequences: ['END'] }, [
      text('<thinking>plan</thinking>'),
      text('\n\nok E'),
      toolFrame({ toolUseId: 'A', name: 'a', input: '{}', stop: true }),
    ]);
    expect(merged(out)).toEqual([
      { type: 'thinking', text: 'plan' },
      { type: 'text', text: 'ok E' },
      { type: 'tool_start', id: 'A', name: 'a' },
      { type: 'tool_delta', id: 'A', json: '{}' },
      { type: 'tool_end', id: 'A', input: {} },
      { type: 'finish', reason: 'tool_use' },
    ]);
  });
});

describe('ResponseAssembler: usage, exceptions and broken streams', () => {
  it('reports credits as a running sum and the context usage percentage', () => {
    const out = run({ thinking: false }, [
      text('x'),
      { kind: 'event', type: 'meteringEvent', json: { unit: 'credit', unitPlural: 'credits', usage: 0.25 } },
      { kind: 'event', type: 'meteringEvent', json: { usage: 1.5 } },
      { kind: 'event', type: 'meteringEvent', json: { usage: 'lots' } },
      { kind: 'event', type: 'contextUsageEvent', json: { contextUsagePercentage: 12.5 } },
    ]);
    expect(out).toEqual([
      { type: 'text', text: 'x' },
      { type: 'usage', credits: 0.25 },
      { type: 'usage', credits: 1.75 },
      { type: 'usage', contextUsagePercentage: 12.5 },
      { type: 'finish', reason: 'end_turn' },
    ]);
  });

  it('ContentLengthExceededException ends the turn with max_tokens after flushing held text', () => {
    const out = run(
      { thinking: true, stopSequences: ['###'] },
      [text('<thinking>t</thinking>\n\nAnswer #'), exception('ContentLengthExceededException')],
      'none',
    );
    expect(merged(out)).toEqual([
      { type: 'thinking', text: 't' },
      { type: 'text', text: 'Answer #' },
      { type: 'finish', reason: 'max_tokens' },
    ]);
  });

  it('ContentLengthExceededException inside a tool call drops the call for the note, and ends with max_tokens', () => {
    const notes: string[] = [];
    const out = run(
      { thinking: false, onNote: (note) => notes.push(note) },
      [text('Here it comes.'), toolFrame({ toolUseId: 'A', name: 'Write', input: '{"content":"aaa' }), exception('ContentLengthExceededException')],
      'none',
    );
    expect(out.map((e) => e.type)).toEqual(['text', 'text', 'finish']);
    expect(out.at(-1)).toEqual({ type: 'finish', reason: 'max_tokens' });
    expect(notes[0]).toContain('(Kiro reached its output length limit)');
  });

  it('ContentLengthExceededException after complete tool calls keeps tool_use', () => {
    const out = run(
      { thinking: false },
      [toolFrame({ toolUseId: 'A', name: 'a', input: '{}', stop: true }), exception('ContentLengthExceededException')],
      'none',
    );
    expect(out.at(-1)).toEqual({ type: 'finish', reason: 'tool_use' });
  });

  it('other exceptions and error frames become classified errors, after the text so far', () => {
    const throttled = run({ thinking: false, stopSequences: ['STOP'] }, [text('partial ST'), exception('ThrottlingException', 'Too many requests')], 'none');
    expect(merged(throttled).slice(0, 1)).toEqual([{ type: 'text', text: 'partial ST' }]);
    expect(errorOf(throttled).errorClass).toBe('throttled');

    const framework = run({ thinking: false }, [text('a'), { kind: 'error', type: 'InternalFailure', json: { message: 'oops' } }], 'none');
    expect(errorOf(framework).errorClass).toBe('stream_broken');
    expect(errorOf(framework).message).toContain('InternalFailure');
  });

  it('fail() flushes what is held, then reports the break as stream_broken', () => {
    const assembler = new ResponseAssembler({ thinking: true });
    expect(assembler.push(text('<thinking>deep </thin'))).toEqual([{ type: 'thinking', text: 'deep ' }]);
    const out = assembler.fail(new Error('socket hang up'));
    expect(out[0]).toEqual({ type: 'thinking', text: '</thin' });
    const error = errorOf(out);
    expect(error.errorClass).toBe('stream_broken');
    expect(error.message).toContain('socket hang up');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("fail() inside a tool call (a broken connection, not Kiro's cut) says the call was cut off and not executed", () => {
    const out = run({ thinking: false }, [toolFrame({ toolUseId: 'W', name: 'Write', input: '{"a":' })], new Error('ECONNRESET'));
    expect(out.some((e) => e.type === 'tool_end')).toBe(false);
    expect(errorOf(out).message).toMatch(/ECONNRESET; the Write \(W\) tool call was cut off and was not executed/);
  });

  it('fail() keeps a KiroError as it is (e.g. a timeout)', () => {
    const timeout = new KiroError('timeout', 'Kiro did not answer in time');
    const out = run({ thinking: false }, [text('a')], timeout);
    expect(out.at(-1)).toEqual({ type: 'error', error: timeout });
  });

  it('emits nothing after the end', () => {
    const assembler = new ResponseAssembler({ thinking: false });
    assembler.push(text('a'));
    expect(assembler.end()).toHaveLength(1);
    expect(assembler.push(text('b'))).toEqual([]);
    expect(assembler.end()).toEqual([]);
    expect(assembler.fail(new Error('late'))).toEqual([]);
  });

  it('always ends with exactly one finish or error, last, whatever the frames', () => {
    const seed = testSeed();
    const rand = seededRandom(seed);
    const pool = (): KiroEvent => {
      const id = `t${randomInt(rand, 1, 3)}`;
      switch (randomInt(rand, 0, 7)) {
        case 0:
          return text(['<thinking>', '</thinking>\n\n', 'hi', 'STOP', ' ', '"'][randomInt(rand, 0, 5)]!);
        case 1:
          return toolFrame({ toolUseId: id, name: 'n' });
        case 2:
          return toolFrame({ toolUseId: id, input: ['{', '}', '"a":1', '{}'][randomInt(rand, 0, 3)] });
        case 3:
          return toolFrame({ toolUseId: id, stop: true });
        case 4:
          return { kind: 'event', type: 'meteringEvent', json: { usage: 1 } };
        case 5:
          return exception(rand() < 0.5 ? 'ContentLengthExceededException' : 'ThrottlingException');
        default:
          return text('plain text ');
      }
    };
    for (let round = 0; round < 300; round++) {
      const events = Array.from({ length: randomInt(rand, 0, 12) }, pool);
      const ending = rand() < 0.8 ? 'end' : new Error('cut');
      const out = run({ thinking: rand() < 0.5, stopSequences: ['STOP'] }, events, ending);
      const label = `seed ${seed} round ${round}`;
      expect(terminal(out), label).toHaveLength(1);
      expect(['finish', 'error'], label).toContain(out.at(-1)!.type);
      // block discipline: a tool comes whole (start, at most one delta, end), nothing in between
      let open: string | undefined;
      for (const [i, event] of out.entries()) {
        if (event.type === 'tool_start') {
          expect(open, label).toBeUndefined();
          open = event.id;
          const next = out[i + 1];
          expect(next?.type === 'tool_end' || (next?.type === 'tool_delta' && out[i + 2]?.type === 'tool_end'), label).toBe(true);
        } else if (event.type === 'tool_delta') expect(event.id, label).toBe(open);
        else if (event.type === 'tool_end') {
          expect(event.id, label).toBe(open);
          open = undefined;
        } else if (event.type === 'text' || event.type === 'thinking') expect(open, label).toBeUndefined();
        else if (event.type === 'finish') {
          expect(open, label).toBeUndefined();
          if (event.reason === 'end_turn')
            expect(
              out.some((e) => e.type === 'tool_end'),
              label,
            ).toBe(false);
        }
      }
    }
  });
});

describe('ResponseAssembler: stop sequences', () => {
  it('stops at a sequence split across fragments and reports it', () => {
    const assembler = new ResponseAssembler({ thinking: false, stopSequences: ['</answer>'] });
    expect(assembler.push(text('The result is 4.</ans'))).toEqual([{ type: 'text', text: 'The result is 4.' }]);
    expect(assembler.push(text('wer> and more'))).toEqual([{ type: 'finish', reason: 'stop_sequence', stopSequence: '</answer>' }]);
    expect(assembler.done).toBe(true);
    expect(assembler.push(text('ignored'))).toEqual([]);
    expect(assembler.end()).toEqual([]);
  });

  it('holds back only a possible prefix and releases it when the match fails', () => {
    const assembler = new ResponseAssembler({ thinking: false, stopSequences: ['STOP'] });
    expect(assembler.push(text('abc S'))).toEqual([{ type: 'text', text: 'abc ' }]);
    expect(assembler.push(text('T'))).toEqual([]);
    expect(assembler.push(text('x'))).toEqual([{ type: 'text', text: 'STx' }]);
    expect(merged(assembler.end())).toEqual([{ type: 'finish', reason: 'end_turn' }]);
  });

  it('releases a held prefix at the end of the stream', () => {
    const out = run({ thinking: false, stopSequences: ['STOP'] }, [text('ends with ST')]);
    expect(merged(out)).toEqual([
      { type: 'text', text: 'ends with ST' },
      { type: 'finish', reason: 'end_turn' },
    ]);
  });

  it('matches one character per frame, and not inside thinking', () => {
    const input = '<thinking>I will not say STOP here</thinking>\n\nCounting: 1 2 STOP 3';
    const out = run({ thinking: true, stopSequences: ['STOP'] }, [...input].map(text));
    expect(merged(out)).toEqual([
      { type: 'thinking', text: 'I will not say STOP here' },
      { type: 'text', text: 'Counting: 1 2 ' },
      { type: 'finish', reason: 'stop_sequence', stopSequence: 'STOP' },
    ]);
  });

  it('picks the sequence the model completes first', () => {
    const scanner = new StopSequenceScanner(['world!', 'lo w', '']);
    expect(scanner.push('hello world!')).toEqual({ text: 'hel', matched: 'lo w' });
    const tie = new StopSequenceScanner(['b', 'ab']);
    expect(tie.push('xab')).toEqual({ text: 'x', matched: 'ab' });
  });

  it('ignores empty stop sequences', () => {
    const out = run({ thinking: false, stopSequences: [''] }, [text('abc')]);
    expect(merged(out)).toEqual([
      { type: 'text', text: 'abc' },
      { type: 'finish', reason: 'end_turn' },
    ]);
  });
});

describe('ResponseAssembler on real captures', () => {
  function decode(name: string, chunkSize: number): KiroEvent[] {
    const bytes = fixtureBytes(name);
    const decoder = new EventStreamDecoder();
    const events: KiroEvent[] = [];
    for (let i = 0; i < bytes.length; i += chunkSize) events.push(...decoder.push(bytes.subarray(i, i + chunkSize)).map(toKiroEvent));
    decoder.end();
    return events;
  }
  const contentOf = (events: KiroEvent[]) => events.map((e) => (e.type === 'assistantResponseEvent' ? (e.json as { content: string }).content : '')).join('');

  for (const name of ['caidaoli_simple_text_303B.bin', 'caidaoli_medium_text_674B.bin', 'kiroCLI_initial_response_plus_text_427B.bin']) {
    it(`${name}: the text, then end_turn`, () => {
      for (const chunkSize of [1, 7, 4096]) {
        const events = decode(name, chunkSize);
        for (const thinking of [false, true]) {
          const out = merged(run({ thinking }, events));
          expect(out).toEqual([
            { type: 'text', text: contentOf(events) },
            { type: 'finish', reason: 'end_turn' },
          ]);
        }
      }
    });
  }

  it('caidaoli_simple_text_303B.bin reads as the captured title', () => {
    const out = merged(run({ thinking: true }, decode('caidaoli_simple_text_303B.bin', 64)));
    expect(out[0]).toEqual({ type: 'text', text: 'Immersive Weather Card: Native Web Design & Dynamic Effects' });
  });

  it('caidaoli_text_then_tooluse_2738B.bin: the text, then (the capture ends inside the Write call) the cut-call note', () => {
    const events = decode('caidaoli_text_then_tooluse_2738B.bin', 100);
    const notes: string[] = [];
    const out = run({ thinking: true, onNote: (note) => notes.push(note) }, events);
    const m = merged(out);
    expect(contentOf(events)).toMatch(/^我将为您创建.*HTML文件。$/);
    expect(m).toEqual([
      { type: 'text', text: expect.stringMatching(/^我将为您创建.*HTML文件。\n\n\[Kiro Bridge: the Write tool call was cut off/s) },
      { type: 'finish', reason: 'max_tokens' },
    ]);
    expect((m[0] as { text: string }).text.startsWith(contentOf(events))).toBe(true);
    expect(notes[0]).toMatch(/^tool call Write \(tooluse_1DCqyICMR-CfTS36UNNiwA\) cut off/);
  });

  it('a capture cut mid-frame: the decoder error reaches the client as stream_broken after the text', () => {
    const bytes = fixtureBytes('caidaoli_medium_text_674B.bin');
    const decoder = new EventStreamDecoder();
    const assembler = new ResponseAssembler({ thinking: false });
    const out: OutputEvent[] = [];
    for (const message of decoder.push(bytes.subarray(0, bytes.length - 10))) out.push(...assembler.push(toKiroEvent(message)));
    try {
      decoder.end();
      out.push(...assembler.end());
    } catch (error) {
      expect(error).toBeInstanceOf(EventStreamError);
      out.push(...assembler.fail(error as Error));
    }
    expect(out.filter((e) => e.type === 'text').length).toBe(4);
    expect(errorOf(out).message).toMatch(/stream ended inside a frame/);
  });
});

describe('ResponseAssembler: native reasoning (reasoningContentEvent)', () => {
  const reasoning = (json: Record<string, unknown>): KiroEvent => ({ kind: 'event', type: 'reasoningContentEvent', json });

  it('streams reasoning text, then the signature that ends the block, then the answer', () => {
    const out = run({ thinking: false }, [reasoning({ text: 'Let me ' }), reasoning({ text: 'think.' }), reasoning({ signature: 'sig==' }), text('Answer.')]);
    expect(out).toEqual([
      { type: 'thinking', text: 'Let me ' },
      { type: 'thinking', text: 'think.' },
      { type: 'thinking_signature', signature: 'sig==' },
      { type: 'text', text: 'Answer.' },
      { type: 'finish', reason: 'end_turn' },
    ]);
  });

  it('reads every payload variant seen: text and signature in one frame, `content`, a nested payload, redacted data', () => {
    const out = run({ thinking: false }, [
      reasoning({ redactedContent: 'b3BhcXVl' }),
      reasoning({ content: 'a' }),
      reasoning({ reasoningContentEvent: { text: 'b', signature: 's' } }),
      reasoning({}),
      text('x'),
    ]);
    expect(out).toEqual([
      { type: 'redacted_thinking', data: 'b3BhcXVl' },
      { type: 'thinking', text: 'a' },
      { type: 'thinking', text: 'b' },
      { type: 'thinking_signature', signature: 's' },
      { type: 'text', text: 'x' },
      { type: 'finish', reason: 'end_turn' },
    ]);
  });

  it('turns <thinking> tag detection off once native reasoning arrives, releasing what was held first', () => {
    const out = run({ thinking: true, stopSequences: ['STOP'] }, [
      text('  '),
      reasoning({ text: 'r' }),
      text('<thinking>not a tag</thinking>\n\nSTO'),
      text('ry'),
    ]);
    expect(merged(out)).toEqual([
      { type: 'text', text: '  ' },
      { type: 'thinking', text: 'r' },
      { type: 'text', text: '<thinking>not a tag</thinking>\n\nSTOry' },
      { type: 'finish', reason: 'end_turn' },
    ]);
  });

  it('reasoning arriving while a tool call is open waits for it, in order', () => {
    const out = run({ thinking: false }, [
      toolFrame({ toolUseId: 'A', name: 'a' }),
      reasoning({ text: 'after the call' }),
      toolFrame({ toolUseId: 'A', input: '{}', stop: true }),
      reasoning({ signature: 's' }),
    ]);
    expect(out).toEqual([
      { type: 'tool_start', id: 'A', name: 'a' },
      { type: 'tool_delta', id: 'A', json: '{}' },
      { type: 'tool_end', id: 'A', input: {} },
      { type: 'thinking', text: 'after the call' },
      { type: 'thinking_signature', signature: 's' },
      { type: 'finish', reason: 'tool_use' },
    ]);
  });

  it('a response of reasoning alone is an answer, not a broken stream', () => {
    expect(terminal(run({ thinking: false }, [reasoning({ text: 'only thoughts' })]))).toEqual([{ type: 'finish', reason: 'end_turn' }]);
  });
});

describe('ResponseAssembler: Kiro token counts', () => {
  it('reports metadataEvent.tokenUsage, the variants peers read, and nothing for events without counts', () => {
    const out = run({ thinking: false }, [
      text('x'),
      {
        kind: 'event',
        type: 'metadataEvent',
        json: { tokenUsage: { uncachedInputTokens: 10, cacheReadInputTokens: 900, cacheWriteInputTokens: 90, outputTokens: 5, totalTokens: 1005 } },
      },
      { kind: 'event', type: 'metadataEvent', json: { tokenUsage: { inputTokens: 2, outputTokens: 3, totalTokens: 5 } } },
      { kind: 'event', type: 'meteringEvent', json: { unit: 'credit', usage: 0.5, cache_read_input_tokens: 7 } },
      { kind: 'event', type: 'messageMetadataEvent', json: { conversationId: 'c', utteranceId: 'u' } },
      { kind: 'event', type: 'metadataEvent', json: { stopReason: 'END_TURN' } },
      { kind: 'event', type: 'metadataEvent', json: { tokenUsage: { uncachedInputTokens: -4, outputTokens: Number.NaN } } },
    ]);
    expect(out).toEqual([
      { type: 'text', text: 'x' },
      { type: 'usage', tokens: { uncachedInputTokens: 10, cacheReadInputTokens: 900, cacheWriteInputTokens: 90, outputTokens: 5 } },
      { type: 'usage', tokens: { uncachedInputTokens: 2, outputTokens: 3 } },
      { type: 'usage', credits: 0.5 },
      { type: 'usage', tokens: { cacheReadInputTokens: 7 } },
      { type: 'finish', reason: 'end_turn' },
    ]);
  });

  it('counts credits under the one metering rule: negative and non-numeric usage add nothing', () => {
    const out = run({ thinking: false }, [
      text('x'),
      { kind: 'event', type: 'meteringEvent', json: { usage: 1 } },
      { kind: 'event', type: 'meteringEvent', json: { usage: -0.5 } },
      { kind: 'event', type: 'meteringEvent', json: { usage: Number.POSITIVE_INFINITY } },
      { kind: 'event', type: 'meteringEvent', json: { usage: 0.25 } },
    ]);
    expect(out.filter((e) => e.type === 'usage')).toEqual([
      { type: 'usage', credits: 1 },
      { type: 'usage', credits: 1.25 },
    ]);
  });
});
