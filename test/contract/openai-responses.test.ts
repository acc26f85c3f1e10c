// The official `openai` package's Responses API (what Codex CLI speaks) against the bridge and the
// fake Kiro upstream: plain and streamed answers, a function call round trip, previous_response_id,
// item_reference, reasoning, errors, and a stream cut in the middle.
import OpenAI, { APIError } from 'openai';
import type { FunctionTool, ResponseFunctionToolCall, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { beforeEach, describe, expect, it } from 'vitest';
import { cutReply, exceptionReply, textReply, thinkingReply, toolReply, upstreamErrors, type KiroGenerateBody } from '../support/fake-upstream';
import { failureOf } from '../support/failure';
import { TEST_API_KEY, currentMessage, eventually, startHarness, useHarness, type Harness } from './harness';

const MODEL = 'claude-sonnet-4-5';

let h: Harness;
let openai: OpenAI;
useHarness((harness) => {
  h = harness;
  openai = harness.openai();
});

beforeEach(() => {
  h.upstream.clearScripts();
});

const sent = () => h.lastKiroBody();
const current = (body: KiroGenerateBody = sent()) => currentMessage(body);

/** The text of the message items (the SDK adds output_text to non-streamed responses only). */
function outputText(response: { output: { type: string; content?: unknown }[] }): string {
  return response.output
    .filter((i) => i.type === 'message')
    .flatMap((i) => i.content as { type: string; text?: string }[])
    .map((c) => (c.type === 'output_text' ? c.text : ''))
    .join('');
}

const failure = (promise: Promise<unknown>) => failureOf(promise, APIError);

const shellTool: FunctionTool = {
  type: 'function',
  name: 'shell',
  description: 'Runs a shell command and returns its output',
  parameters: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } } }, required: ['command'], additionalProperties: false },
  strict: true,
};

describe('responses: text', () => {
  it('answers a string input with a completed response, output_text and usage', async () => {
    h.upstream.scriptNext(textReply('Paris is the capital of France.', { chunks: 3 }));
    const response = await openai.responses.create({
      model: MODEL,
      instructions: 'Answer in one sentence.',
      input: 'What is the capital of France?',
      max_output_tokens: 256,
    });
    expect(response.object).toBe('response');
    expect(response.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(response.status).toBe('completed');
    expect(response.model).toBe(MODEL);
    expect(response.output_text).toBe('Paris is the capital of France.');
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    expect(response.instructions).toBe('Answer in one sentence.');
    expect(response.max_output_tokens).toBe(256);
    expect(response.usage!.input_tokens).toBeGreaterThan(5);
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens);
    expect(JSON.stringify(sent().conversationState!.history)).toContain('Answer in one sentence.');
    expect(current().content).toContain('What is the capital of France?');
    expect(h.finished.at(-1)).toMatchObject({ api: 'responses', path: '/v1/responses', status: 200, modelAsked: MODEL, stopReason: 'end_turn' });
  });

  it('streams the Responses events in order and the SDK assembles the final response', async () => {
    // frames apart in time, so each goes out as its own delta (a burst is joined into one)
    h.upstream.scriptNext(textReply('Hello there, streaming world.', { chunks: 4, frameDelayMs: 15 }));
    const stream = openai.responses.stream({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_text', text: 'Say hello' }] }] });
    const events: ResponseStreamEvent[] = [];
    let text = '';
    stream.on('response.output_text.delta', (event) => (text += event.delta));
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(text).toBe('Hello there, streaming world.');
    expect(outputText(final)).toBe('Hello there, streaming world.');
    expect(final.status).toBe('completed');
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(types.filter((t) => t === 'response.output_text.delta').length).toBeGreaterThanOrEqual(2);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(h.finished.at(-1)).toMatchObject({ api: 'responses', stream: true, status: 200 });
  });

  it('reasoning.effort turns thinking on; the reasoning comes back as a reasoning item', async () => {
    h.upstream.scriptNext(thinkingReply('6 times 7 is 42.', 'The answer is 42.', { chunks: 3 }));
    const stream = openai.responses.stream({ model: MODEL, input: 'What is 6×7?', reasoning: { effort: 'low' } });
    let reasoning = '';
    stream.on('response.reasoning_text.delta', (event) => (reasoning += event.delta));
    const final = await stream.finalResponse();
    expect(reasoning).toBe('6 times 7 is 42.');
    expect(final.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    expect(final.output[0]).toMatchObject({ type: 'reasoning', content: [{ type: 'reasoning_text', text: '6 times 7 is 42.' }] });
    expect(outputText(final)).toBe('The answer is 42.');
    expect(final.usage!.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(JSON.stringify(sent())).toContain('<max_thinking_length>4000</max_thinking_length>');
  });
});

describe('responses: tools', () => {
  it('completes a function call round trip with function_call_output', async () => {
    h.upstream.scriptNext(toolReply({ name: 'shell', input: { command: ['ls', '-la'] } }));
    const first = await openai.responses.create({ model: MODEL, tools: [shellTool], input: 'List the files.' });
    const call = first.output.find((i): i is ResponseFunctionToolCall => i.type === 'function_call')!;
    expect(call).toMatchObject({ type: 'function_call', name: 'shell', status: 'completed' });
    expect(call.id).toMatch(/^fc_/);
    expect(JSON.parse(call.arguments)).toEqual({ command: ['ls', '-la'] });
    expect(h.finished.at(-1)!.stopReason).toBe('tool_use');

    h.upstream.scriptNext(textReply('There are two files.'));
    const second = await openai.responses.create({
      model: MODEL,
      tools: [shellTool],
      store: false,
      input: [{ role: 'user', content: 'List the files.' }, ...first.output, { type: 'function_call_output', call_id: call.call_id, output: 'a.txt\nb.txt' }],
    });
    expect(second.output_text).toBe('There are two files.');
    expect(current().userInputMessageContext!.toolResults).toEqual([{ toolUseId: call.call_id, content: [{ text: 'a.txt\nb.txt' }], status: 'success' }]);
    const assistant = sent()
      .conversationState!.history!.map((e) => e.assistantResponseMessage)
      .filter(Boolean)
      .at(-1)!;
    expect(assistant.toolUses).toEqual([{ toolUseId: call.call_id, name: 'shell', input: { command: ['ls', '-la'] } }]);
  });

  it("streams each function call's arguments whole, as one delta; parallel calls are separate items", async () => {
    h.upstream.scriptNext(
      toolReply(
        [
          { name: 'shell', input: { command: ['cat', 'a.txt'] }, fragments: 4 },
          { name: 'shell', input: { command: ['cat', 'b.txt'] }, fragments: 3 },
        ],
        { frameDelayMs: 15 },
      ),
    );
    const stream = openai.responses.stream({ model: MODEL, tools: [shellTool], input: 'Show both files.' });
    const deltas: { index: number; delta: string }[] = [];
    stream.on('response.function_call_arguments.delta', (event) => deltas.push({ index: event.output_index, delta: event.delta }));
    const final = await stream.finalResponse();
    const calls = final.output.flatMap((i) => (i.type === 'function_call' ? [i] : []));
    expect(calls.map((c) => JSON.parse(c.arguments))).toEqual([{ command: ['cat', 'a.txt'] }, { command: ['cat', 'b.txt'] }]);
    expect(deltas).toEqual([
      { index: 0, delta: calls[0]!.arguments },
      { index: 1, delta: calls[1]!.arguments },
    ]);
  });
});

describe('responses: previous_response_id', () => {
  it('continues a stored response: the earlier turns go to Kiro, and GET /v1/responses/{id} returns it', async () => {
    h.upstream.scriptNext(textReply('Nice to meet you, Ada.'));
    const first = await openai.responses.create({ model: MODEL, input: 'My name is Ada.' });
    h.upstream.scriptNext(textReply('Your name is Ada.'));
    const second = await openai.responses.create({ model: MODEL, input: 'What is my name?', previous_response_id: first.id });
    expect(second.output_text).toBe('Your name is Ada.');
    expect(second.previous_response_id).toBe(first.id);
    const history = JSON.stringify(sent().conversationState!.history);
    expect(history).toContain('My name is Ada.');
    expect(history).toContain('Nice to meet you, Ada.');
    expect(current().content).toContain('What is my name?');

    const retrieved = await openai.responses.retrieve(second.id);
    expect(retrieved.id).toBe(second.id);
    expect(retrieved.output_text).toBe('Your name is Ada.');
  });

  it('a response sent with store: false cannot be continued: 400 previous_response_not_found', async () => {
    h.upstream.scriptNext(textReply('not kept'));
    const unstored = await openai.responses.create({ model: MODEL, input: 'x', store: false });
    const calls = h.upstream.generateRequests.length;
    const error = await failure(openai.responses.create({ model: MODEL, input: 'y', previous_response_id: unstored.id }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.code).toBe('previous_response_not_found');
    expect(error.param).toBe('previous_response_id');
    expect(h.upstream.generateRequests.length).toBe(calls);
    await expect(openai.responses.retrieve(unstored.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('responses: item_reference', () => {
  it('refers to the reasoning, message and call items of a stored streamed response; Kiro gets them in the history', async () => {
    h.upstream.scriptNext({
      name: 'think-text-tool',
      steps: [
        { thinking: 'The shell can list them.' },
        { text: 'Listing the files.' },
        { tool: { name: 'shell', id: 'tooluse_ref1', input: { command: ['ls'] } } },
      ],
    });
    const first = await openai.responses.stream({ model: MODEL, tools: [shellTool], input: 'List the files.', reasoning: { effort: 'low' } }).finalResponse();
    expect(first.output.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call']);
    const ids = first.output.map((i) => i.id!);

    h.upstream.scriptNext(textReply('There are two files.'));
    const second = await openai.responses.create({
      model: MODEL,
      tools: [shellTool],
      reasoning: { effort: 'low' }, // past thinking goes to Kiro only while thinking is on
      input: [
        { role: 'user', content: 'List the files.' },
        ...ids.map((id) => ({ type: 'item_reference' as const, id })),
        { type: 'function_call_output', call_id: 'tooluse_ref1', output: 'a.txt\nb.txt' },
      ],
    });
    expect(second.output_text).toBe('There are two files.');
    const assistant = sent()
      .conversationState!.history!.map((e) => e.assistantResponseMessage)
      .filter(Boolean)
      .at(-1)!;
    expect(assistant.content).toContain('The shell can list them.');
    expect(assistant.content).toContain('Listing the files.');
    expect(assistant.toolUses).toEqual([{ toolUseId: 'tooluse_ref1', name: 'shell', input: { command: ['ls'] } }]);
    expect(current().userInputMessageContext!.toolResults).toEqual([{ toolUseId: 'tooluse_ref1', content: [{ text: 'a.txt\nb.txt' }], status: 'success' }]);

    // the second response's own items can be referenced in turn
    h.upstream.scriptNext(textReply('Yes.'));
    const third = await openai.responses.create({
      model: MODEL,
      input: [
        { role: 'user', content: 'Sure?' },
        { type: 'item_reference', id: second.output[0]!.id! },
        { role: 'user', content: 'Really?' },
      ],
    });
    expect(third.output_text).toBe('Yes.');
    expect(JSON.stringify(sent().conversationState!.history)).toContain('There are two files.');
  });

  it('an item of a store: false response, or of an evicted one, is a 400 naming the field; Kiro is not called', async () => {
    h.upstream.scriptNext(textReply('not kept'));
    const unstored = await openai.responses.create({ model: MODEL, input: 'x', store: false });
    h.upstream.scriptNext(textReply('kept for a while'));
    const stored = await openai.responses.create({ model: MODEL, input: 'y' });
    h.bridge.responses.delete(stored.id);
    const calls = h.upstream.generateRequests.length;
    for (const response of [unstored, stored]) {
      const itemId = response.output[0]!.id!;
      const error = await failure(
        openai.responses.create({
          model: MODEL,
          input: [
            { role: 'user', content: 'q' },
            { type: 'item_reference', id: itemId },
          ],
        }),
      );
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, param: 'input[1].id', code: 'item_not_found', type: 'invalid_request_error' });
      expect(error.message).toContain(`Item with id '${itemId}' not found`);
      expect(error.message).toContain('send the item itself');
    }
    expect(h.upstream.generateRequests.length).toBe(calls);
  });
});

describe('responses: errors', () => {
  it('prompt too long → 400 context_length_exceeded on input; unknown model → 404', async () => {
    h.upstream.scriptNext(upstreamErrors.contentLengthExceeded());
    const long = await failure(openai.responses.create({ model: MODEL, input: 'x' }));
    expect(long.status).toBe(400);
    expect(long.code).toBe('context_length_exceeded');
    expect(long.param).toBe('input');
    const unknown = await failure(openai.responses.create({ model: 'gpt-imaginary-9', input: 'x' }));
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.code).toBe('model_not_found');
  });

  it('features Kiro lacks are a clear 400 before Kiro is called', async () => {
    const calls = h.upstream.generateRequests.length;
    const template = await failure(openai.responses.create({ model: MODEL, input: 'x', prompt: { id: 'pmpt_1' } }));
    expect(template.param).toBe('prompt');
    const background = await failure(openai.responses.create({ model: MODEL, input: 'x', background: true }));
    expect(background.param).toBe('background');
    expect(h.upstream.generateRequests.length).toBe(calls);
  });

  it('quota used up → 429 insufficient_quota', async () => {
    // On a bridge of its own: the pool remembers an exhausted account.
    const local = await startHarness();
    try {
      local.upstream.script(upstreamErrors.monthlyLimit());
      const client = local.openai();
      const error = await failure(client.responses.create({ model: MODEL, input: 'x' }));
      expect(error.status).toBe(429);
      expect(error.code).toBe('insufficient_quota');
    } finally {
      await local.close();
    }
  });
});

describe('responses: a stream that breaks', () => {
  it('a cut mid-stream ends with error + response.failed, which the SDK raises; never response.completed', async () => {
    h.upstream.scriptNext(cutReply('This answer will be cut off in the middle.', 4, 2));
    const stream = openai.responses.stream({ model: MODEL, input: 'go' });
    let seen = '';
    stream.on('response.output_text.delta', (event) => (seen += event.delta));
    const error = await failure(stream.finalResponse());
    expect(error.message.length).toBeGreaterThan(0);
    expect('This answer will be cut off in the middle.'.startsWith(seen)).toBe(true);
    expect(seen.length).toBeGreaterThan(0);

    h.upstream.scriptNext(cutReply('Cut again here, once more for the raw view.', 4, 2));
    const response = await fetch(`${h.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, stream: true, input: 'go' }),
    });
    const raw = await response.text();
    const names = [...raw.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    expect(names.slice(-2)).toEqual(['error', 'response.failed']);
    expect(names).not.toContain('response.completed');
    const failed = JSON.parse(raw.trim().split('\n').at(-1)!.slice('data: '.length)) as { response: { status: string; error: { code: string } } };
    expect(failed.response.status).toBe('failed');
    expect(failed.response.error.code).toBe('stream_broken');
    await eventually(() => h.finished.at(-1)?.path === '/v1/responses' && h.finished.at(-1)?.error !== undefined, 5000, 'the record');
  });

  it("Kiro's output limit mid-answer is an incomplete response (max_output_tokens)", async () => {
    h.upstream.scriptNext(exceptionReply('ContentLengthExceededException', 'too long', { text: 'The beginning of a long' }));
    const response = await openai.responses.create({ model: MODEL, input: 'write a lot' });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.output_text).toBe('The beginning of a long');
  });
});
