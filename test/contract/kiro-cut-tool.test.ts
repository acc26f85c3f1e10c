// Kiro cuts large tool inputs (big Write/Edit calls) short: truncated JSON at the stop frame, an
// empty input, a stream that ends inside the call, or a ContentLengthExceededException mid-call.
// The bridge never hands such a call over (it would write a truncated file, or be refused and
// retried unchanged): the answer ends with a note telling the model to work in smaller pieces,
// and `max_tokens` — which Claude Code answers by continuing on its own ("Output token limit hit
// … Break remaining work into smaller pieces"). Clients: the official Anthropic and OpenAI SDKs.
import type Anthropic from '@anthropic-ai/sdk';
import { beforeEach, describe, expect, it } from 'vitest';
import { cutToolReply, textReply, type CutToolSpec } from '../support/fake-upstream';
import { currentMessage, useHarness, type Harness } from './harness';

const MODEL = 'claude-sonnet-4-5';
const NOTE =
  /\[Kiro Bridge: the Write tool call was cut off by Kiro's output limit after \d+ characters of input, so it was not run\..*write a large file in parts/s;

/** Claude Code's own Write and Read tools (their required properties are what matter here). */
const TOOLS: Anthropic.Tool[] = [
  {
    name: 'Write',
    description: 'Writes a file to the local filesystem.',
    input_schema: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } }, required: ['file_path', 'content'] },
  },
  {
    name: 'Read',
    description: 'Reads a file from the local filesystem.',
    input_schema: { type: 'object', properties: { file_path: { type: 'string' } }, required: ['file_path'] },
  },
];

const BIG_FILE = { file_path: '/work/app/src/report.html', content: `<html>\n${'<p>row</p>\n'.repeat(400)}</html>\n` };
const ASK: Anthropic.MessageParam[] = [{ role: 'user', content: 'Write the report page.' }];

let h: Harness;
useHarness((harness) => (h = harness));

beforeEach(() => {
  h.upstream.clearScripts();
});

const cut = (spec: Partial<CutToolSpec> & Pick<CutToolSpec, 'cut'>, extras: Parameters<typeof cutToolReply>[1] = {}) =>
  cutToolReply({ name: 'Write', input: BIG_FILE, ...spec }, { text: 'I will write the report page now.', ...extras });

describe('Anthropic SDK', () => {
  for (const [label, spec] of [
    ['truncated JSON at the stop frame', { cut: 'truncated' }],
    ['an empty input for a tool that requires file_path and content', { cut: 'empty' }],
    ['a stream that ends inside the call', { cut: 'unfinished' }],
    ['a ContentLengthExceededException inside the call', { cut: 'truncated', exception: true }],
  ] as const) {
    it(`streaming, ${label}: no tool_use, the note, stop_reason max_tokens`, async () => {
      h.upstream.scriptNext(cut(spec, { metering: 0.4 }));
      const stream = h.client.messages.stream({ model: MODEL, max_tokens: 4096, tools: TOOLS, messages: ASK });
      const types: string[] = [];
      stream.on('streamEvent', (event) => {
        types.push(event.type === 'content_block_start' ? `start:${event.content_block.type}` : event.type);
      });
      const message = await stream.finalMessage();
      expect(types).not.toContain('start:tool_use');
      expect(message.stop_reason).toBe('max_tokens');
      expect(message.content).toHaveLength(1);
      const [block] = message.content;
      expect(block).toMatchObject({ type: 'text' });
      const text = (block as Anthropic.TextBlock).text;
      expect(text.startsWith('I will write the report page now.\n\n[Kiro Bridge:')).toBe(true);
      expect(text).toMatch(NOTE);
      // The note quotes the start of what arrived, which names the file.
      if (spec.cut === 'empty') expect(text).not.toContain('Its input began');
      else expect(text).toContain('Its input began: `{"file_path":"/work/app/src/report.html"');

      const record = h.finished.at(-1)!;
      expect(record.status).toBe(200);
      expect(record.stopReason).toBe('max_tokens');
      expect(record.flags.truncated).toBe(true);
      expect(record.repairs.some((note) => /^tool call Write \(tooluse_[\w-]+\) cut off by Kiro after \d+ characters of input/.test(note))).toBe(true);
    });
  }

  it('non-streaming: the same answer', async () => {
    h.upstream.scriptNext(cut({ cut: 'truncated' }));
    const message = await h.client.messages.create({ model: MODEL, max_tokens: 4096, tools: TOOLS, messages: ASK });
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.content.map((b) => b.type)).toEqual(['text']);
    expect((message.content[0] as Anthropic.TextBlock).text).toMatch(NOTE);
  });

  it('complete calls before the cut one still run: tool_use with the Read call and the note', async () => {
    h.upstream.scriptNext(cut({ cut: 'truncated' }, { text: '', before: [{ name: 'Read', input: { file_path: '/work/app/src/data.json' } }] }));
    const message = await h.client.messages.stream({ model: MODEL, max_tokens: 4096, tools: TOOLS, messages: ASK }).finalMessage();
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content.map((b) => b.type)).toEqual(['tool_use', 'text']);
    expect(message.content[0]).toMatchObject({ type: 'tool_use', name: 'Read', input: { file_path: '/work/app/src/data.json' } });
    expect((message.content[1] as Anthropic.TextBlock).text).toMatch(/^\[Kiro Bridge: the Write tool call was cut off/);
  });

  it('the next turn carries the note back to Kiro, so the model knows to write in smaller pieces', async () => {
    h.upstream.scriptNext(cut({ cut: 'empty' }));
    const first = await h.client.messages.create({ model: MODEL, max_tokens: 4096, tools: TOOLS, messages: ASK });
    expect(first.stop_reason).toBe('max_tokens');
    // What Claude Code sends after max_tokens: the partial turn, then its recovery instruction.
    h.upstream.scriptNext(textReply('Writing it in parts.'));
    const recovery =
      'Output token limit hit. Resume directly — no apology, no recap of what you were doing. Pick up mid-thought if that is where the cut happened. Break remaining work into smaller pieces.';
    await h.client.messages.create({
      model: MODEL,
      max_tokens: 4096,
      tools: TOOLS,
      messages: [...ASK, { role: 'assistant', content: first.content }, { role: 'user', content: recovery }],
    });
    const body = h.lastKiroBody();
    const history = body.conversationState!.history!;
    const assistant = history.at(-1)!.assistantResponseMessage!;
    expect(assistant.content).toMatch(NOTE);
    expect(currentMessage(body).content).toBe(recovery);
  });
});

describe('OpenAI SDK', () => {
  const tools = [
    {
      type: 'function' as const,
      function: {
        name: 'Write',
        description: 'Writes a file.',
        parameters: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } }, required: ['file_path', 'content'] },
      },
    },
  ];

  it('chat completions, streaming: finish_reason length, the note as content, no tool_calls', async () => {
    h.upstream.scriptNext(cut({ cut: 'truncated' }));
    const stream = h.openai().chat.completions.stream({ model: MODEL, tools, messages: [{ role: 'user', content: 'Write the report page.' }] });
    const completion = await stream.finalChatCompletion();
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('length');
    expect(choice.message.tool_calls ?? []).toEqual([]);
    expect(choice.message.content).toMatch(NOTE);
  });

  it('responses: incomplete (max_output_tokens), a message with the note, no function_call', async () => {
    h.upstream.scriptNext(cut({ cut: 'empty' }));
    const response = await h.openai().responses.create({
      model: MODEL,
      input: 'Write the report page.',
      tools: [{ type: 'function', name: 'Write', description: 'Writes a file.', strict: false, parameters: tools[0]!.function.parameters }],
    });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details?.reason).toBe('max_output_tokens');
    expect(response.output.map((item) => item.type)).toEqual(['message']);
    expect(response.output_text).toMatch(NOTE);
  });
});
