// Roo Code's requests (test/fixtures/clients/roo-code-*.json, from its OpenAI Compatible and
// Anthropic providers) sent through the packages Roo itself uses (openai, @anthropic-ai/sdk),
// with the answer read the way Roo reads it.
import { describe, expect, it, beforeEach } from 'vitest';
import { textReply, thinkingReply, toolReply } from '../support/fake-upstream';
import { clientFixture, fixtureRequest, streamChatFixture, streamMessagesFixture, historyText, lastAssistantTurn } from './client-fixtures';
import { TEST_API_KEY, currentMessage, useHarness, type Harness } from './harness';

let h: Harness;
useHarness((harness) => (h = harness));
beforeEach(() => h.upstream.clearScripts());

describe('Roo Code, OpenAI Compatible provider', () => {
  const fixture = clientFixture('roo-code-openai-compatible.json');

  it('turn 2 after a read_file call: reasoning and text stream back, with the usage chunk Roo asked for', async () => {
    h.upstream.scriptNext(thinkingReply('It exports one constant.', '`src/index.ts` exports `answer`, which is 42.', { chunks: 3 }));
    const request = fixtureRequest(fixture, 'turn 2 after a read_file call');
    const answer = await streamChatFixture(h.openai(), request);

    expect(answer.reasoning).toBe('It exports one constant.');
    expect(answer.text).toBe('`src/index.ts` exports `answer`, which is 42.');
    expect(answer.finishReason).toBe('stop');
    expect(answer.choicelessChunks).toBe(1);
    const record = h.finished.at(-1)!;
    expect(record).toMatchObject({ status: 200, client: 'Roo Code', path: '/v1/chat/completions' });
    expect(answer.usage!.prompt_tokens).toBe(record.inputTokens);
    expect(answer.usage!.completion_tokens).toBe(record.outputTokens);
    expect(record.repairs).toContain('parallel_tool_calls: false cannot be enforced by Kiro; the model may still call several tools at once');

    const kiro = h.lastKiroBody();
    expect(historyText(kiro)).toContain('You are Roo, a highly skilled software engineer.');
    expect(historyText(kiro)).toContain('<max_thinking_length>16000</max_thinking_length>'); // reasoning_effort medium
    expect(lastAssistantTurn(kiro).toolUses).toEqual([
      { toolUseId: 'toolu_roo_01', name: 'read_file', input: { files: [{ path: 'src/index.ts', line_ranges: [] }] } },
    ]);
    const current = currentMessage(kiro);
    expect(current.userInputMessageContext!.toolResults).toEqual([
      {
        toolUseId: 'toolu_roo_01',
        content: [{ text: '<files><file><path>src/index.ts</path><content lines="1-1">1 | export const answer = 42;\n</content></file></files>' }],
        status: 'success',
      },
    ]);
    expect(current.content).toContain('# Current Time');
    expect(current.userInputMessageContext!.tools!.map((t) => t.toolSpecification?.name)).toEqual(['read_file', 'attempt_completion']);
  });

  it('a tool call streams back as index-keyed deltas Roo assembles; "(empty)" tool output and a null argument reach Kiro', async () => {
    h.upstream.scriptNext(
      toolReply(
        { name: 'execute_command', id: 'tooluse_roo_run', input: { command: 'npm test -- --run', cwd: '/home/dev/app' }, fragments: 4 },
        { frameDelayMs: 10 },
      ),
    );
    const answer = await streamChatFixture(h.openai(), fixtureRequest(fixture, 'a tool result with no output, and an empty assistant text'));

    expect(answer.finishReason).toBe('tool_calls');
    expect(answer.toolCalls).toHaveLength(1);
    const [call] = answer.toolCalls;
    expect(call).toMatchObject({ index: 0, id: 'tooluse_roo_run', name: 'execute_command' });
    expect(call!.deltas).toBeGreaterThan(1);
    expect(JSON.parse(call!.arguments)).toEqual({ command: 'npm test -- --run', cwd: '/home/dev/app' });

    const kiro = h.lastKiroBody();
    expect(lastAssistantTurn(kiro).toolUses).toEqual([{ toolUseId: 'toolu_roo_02', name: 'execute_command', input: { command: 'npm test', cwd: null } }]);
    expect(currentMessage(kiro).userInputMessageContext!.toolResults).toEqual([
      { toolUseId: 'toolu_roo_02', content: [{ text: '(empty)' }], status: 'success' },
    ]);
  });
});

describe('Roo Code, Anthropic provider with a custom base URL', () => {
  const fixture = clientFixture('roo-code-anthropic.json');

  it('first turn: thinking with the asked budget, then the tool call; the parallel-tool switch Kiro lacks is noted', async () => {
    h.upstream.scriptNext({
      name: 'think-then-read',
      steps: [
        { thinking: 'I should read the file first.', chunks: 2 },
        { tool: { name: 'read_file', id: 'tooluse_roo_read', input: { path: 'src/index.ts' } } },
      ],
    });
    const { message, events } = await streamMessagesFixture(h.client, fixtureRequest(fixture, 'first turn'));

    expect(message.stop_reason).toBe('tool_use');
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'tool_use']);
    expect(message.content[0]).toMatchObject({ type: 'thinking', thinking: 'I should read the file first.' });
    expect(message.content[1]).toMatchObject({ type: 'tool_use', id: 'tooluse_roo_read', name: 'read_file', input: { path: 'src/index.ts' } });
    expect(events).toEqual(expect.arrayContaining(['start:thinking', 'thinking_delta', 'start:tool_use', 'input_json_delta']));
    expect(historyText(h.lastKiroBody())).toContain('<max_thinking_length>4096</max_thinking_length>');
    expect(h.finished.at(-1)!.repairs).toContain(
      'tool_choice.disable_parallel_tool_use: true cannot be enforced by Kiro; the model may still call several tools at once',
    );
  });

  it('next turn (key sent as a Bearer token, as Roo does with "use auth token"): the signed thinking and the call go back to Kiro', async () => {
    h.upstream.scriptNext(textReply('It exports `answer` (42).'));
    const bearer = h.sdk({ apiKey: null, authToken: TEST_API_KEY });
    const { message } = await streamMessagesFixture(bearer, fixtureRequest(fixture, 'next turn with the thinking and the call sent back'));

    expect(message.stop_reason).toBe('end_turn');
    expect(message.content).toMatchObject([{ type: 'text', text: 'It exports `answer` (42).' }]);
    const kiro = h.lastKiroBody();
    expect(lastAssistantTurn(kiro)).toMatchObject({
      content: expect.stringContaining('<thinking>I should read the file first.</thinking>'),
      toolUses: [{ toolUseId: 'toolu_roo_11', name: 'read_file', input: { path: 'src/index.ts' } }],
    });
    expect(currentMessage(kiro).userInputMessageContext!.toolResults).toEqual([
      { toolUseId: 'toolu_roo_11', content: [{ text: '1 | export const answer = 42;' }], status: 'success' },
    ]);
  });
});
