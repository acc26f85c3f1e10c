// Continue's CLI `cn` (test/fixtures/clients/continue-cli.json, from its agent loop and the
// OpenAI adapter it talks through) sent through the openai package, with the answer read the way
// cn reads it: content deltas, tool-call deltas joined by index, usage when a chunk carries it.
import { beforeEach, describe, expect, it } from 'vitest';
import { textReply, toolReply } from '../support/fake-upstream';
import { clientFixture, fixtureRequest, streamChatFixture, streamMessagesFixture } from './client-fixtures';
import { currentMessage, useHarness, type Harness } from './harness';

let h: Harness;
useHarness((harness) => (h = harness));
beforeEach(() => h.upstream.clearScripts());

describe('Continue CLI (cn), provider openai', () => {
  const fixture = clientFixture('continue-cli.json');

  it('the agent loop after two tool calls (one cancelled): Kiro gets both results and the whole turn; the next calls stream back', async () => {
    h.upstream.scriptNext(
      toolReply(
        [
          { name: 'Search', id: 'tooluse_cn_search', input: { pattern: 'answer =' }, fragments: 3 },
          { name: 'Bash', id: 'tooluse_cn_bash', input: { command: 'git grep -n answer' }, fragments: 3 },
        ],
        { text: 'Searching again.' },
      ),
    );
    const request = fixtureRequest(fixture, 'agent loop after two tool calls');
    const answer = await streamChatFixture(h.openai(), request);

    expect(answer.text).toBe('Searching again.');
    expect(answer.finishReason).toBe('tool_calls');
    expect(answer.toolCalls.map((c) => ({ index: c.index, id: c.id, name: c.name, input: JSON.parse(c.arguments) as unknown }))).toEqual([
      { index: 0, id: 'tooluse_cn_search', name: 'Search', input: { pattern: 'answer =' } },
      { index: 1, id: 'tooluse_cn_bash', name: 'Bash', input: { command: 'git grep -n answer' } },
    ]);
    // cn asks for no usage chunk, and gets none.
    expect(answer.choicelessChunks).toBe(0);

    const kiro = h.lastKiroBody();
    const history = JSON.stringify(kiro.conversationState!.history);
    // Both system blocks, in order.
    expect(history).toContain('You are an agent in the Continue CLI.\\n<context name=\\"rules\\">Prefer small diffs.</context>');
    // The two assistant messages of one turn (cn's stored thinking, then the calls) are one Kiro turn.
    const assistant = kiro
      .conversationState!.history!.map((e) => e.assistantResponseMessage)
      .filter(Boolean)
      .at(-1)!;
    expect(assistant.content).toContain('Looking at the repository first.');
    expect(assistant.toolUses).toEqual([
      { toolUseId: 'call_cn_1', name: 'Search', input: { pattern: 'answer' } },
      { toolUseId: 'call_cn_2', name: 'Bash', input: { command: 'rm -rf node_modules' } },
    ]);
    expect(currentMessage(kiro).userInputMessageContext!.toolResults).toEqual([
      { toolUseId: 'call_cn_1', content: [{ text: 'src/index.ts:1:export const answer = 42;' }], status: 'success' },
      { toolUseId: 'call_cn_2', content: [{ text: 'Tool cancelled' }], status: 'success' },
    ]);
    expect(h.finished.at(-1)).toMatchObject({ status: 200, path: '/v1/chat/completions', stopReason: 'tool_use' });
  });

  it("with stream_options.include_usage added, the usage chunk comes last with the bridge's count", async () => {
    h.upstream.scriptNext(toolReply({ name: 'Search', input: { pattern: 'x' } }));
    const request = fixtureRequest(fixture, 'agent loop after two tool calls');
    request.body.stream_options = { include_usage: true };
    const answer = await streamChatFixture(h.openai(), request);
    expect(answer.choicelessChunks).toBe(1);
    expect(answer.usage!.prompt_tokens).toBe(h.finished.at(-1)!.inputTokens);
  });
});

describe('Continue CLI (cn), provider anthropic (what `kiro-bridge configure continue` writes)', () => {
  const fixture = clientFixture('continue-cli.json');

  it('the same loop over the Messages API with its cache hints: the tool result and the follow-up text are one turn for Kiro', async () => {
    h.upstream.scriptNext(textReply('Line 1 of src/index.ts: `export const answer = 42;`', { chunks: 3 }));
    const { message } = await streamMessagesFixture(h.client, fixtureRequest(fixture, 'provider anthropic: the same loop over the Messages API'));

    expect(message.stop_reason).toBe('end_turn');
    expect(message.content).toMatchObject([{ type: 'text', text: 'Line 1 of src/index.ts: `export const answer = 42;`' }]);
    const kiro = h.lastKiroBody();
    const current = currentMessage(kiro);
    expect(current.content).toContain('Show me the line.');
    expect(current.userInputMessageContext!.toolResults).toEqual([
      { toolUseId: 'toolu_cn_1', content: [{ text: 'src/index.ts:1:export const answer = 42;' }], status: 'success' },
    ]);
    expect(JSON.stringify(kiro.conversationState!.history)).toContain('You are an agent in the Continue CLI.');
    expect(h.finished.at(-1)).toMatchObject({ status: 200, path: '/v1/messages', repairs: [] });
  });
});
