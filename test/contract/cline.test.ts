// Cline's requests (test/fixtures/clients/cline-*.json, from its OpenAI Compatible and Anthropic
// providers) sent through the packages Cline itself uses (openai, @anthropic-ai/sdk), with the
// answer read the way Cline reads it.
import { beforeEach, describe, expect, it } from 'vitest';
import { textReply, thinkingReply, toolReply } from '../support/fake-upstream';
import { clientFixture, fixtureRequest, streamChatFixture, streamMessagesFixture, historyText, lastAssistantTurn } from './client-fixtures';
import { currentMessage, useHarness, type Harness } from './harness';

let h: Harness;
useHarness((harness) => (h = harness));
beforeEach(() => h.upstream.clearScripts());

describe('Cline, OpenAI Compatible provider', () => {
  const fixture = clientFixture('cline-openai-compatible.json');

  it('turn 3 (content null beside tool_calls, an empty tool result, its image in a user message): the next call streams back the way Cline assembles it', async () => {
    h.upstream.scriptNext(
      toolReply(
        {
          name: 'replace_in_file',
          id: 'tooluse_cline_edit',
          input: { path: 'src/logo.svg', diff: '<<<<<<< SEARCH\nwidth="32"\n=======\nwidth="64"\n>>>>>>> REPLACE' },
          fragments: 5,
        },
        { text: 'Doubling the width.', frameDelayMs: 10 },
      ),
    );
    const answer = await streamChatFixture(h.openai(), fixtureRequest(fixture, 'turn 3 of a task'));

    expect(answer.text).toBe('Doubling the width.');
    expect(answer.finishReason).toBe('tool_calls');
    // Cline keeps the id and name of the first delta and appends every later argument fragment.
    expect(answer.toolCalls).toMatchObject([{ index: 0, id: 'tooluse_cline_edit', name: 'replace_in_file' }]);
    expect(answer.toolCalls[0]!.deltas).toBeGreaterThan(1);
    expect(JSON.parse(answer.toolCalls[0]!.arguments)).toEqual({
      path: 'src/logo.svg',
      diff: '<<<<<<< SEARCH\nwidth="32"\n=======\nwidth="64"\n>>>>>>> REPLACE',
    });
    expect(answer.usage!.total_tokens).toBe(answer.usage!.prompt_tokens + answer.usage!.completion_tokens);

    const kiro = h.lastKiroBody();
    const current = currentMessage(kiro);
    expect(lastAssistantTurn(kiro).toolUses).toEqual([{ toolUseId: 'call_cline_1', name: 'read_file', input: { path: 'src/logo.svg' } }]);
    expect(current.userInputMessageContext!.toolResults).toEqual([{ toolUseId: 'call_cline_1', content: [{ text: '(no output)' }], status: 'success' }]);
    expect(current.images).toHaveLength(1);
    expect(current.content).toContain("[read_file for 'src/logo.svg'] Result: (see the image)");
    expect(historyText(kiro)).toContain("I'll look at the logo first.");
    expect(h.finished.at(-1)!.repairs).toEqual(
      expect.arrayContaining([
        'parallel_tool_calls: false cannot be enforced by Kiro; the model may still call several tools at once',
        // The earlier reasoning_details were read as thinking; thinking is off here, so they are not sent (and that is recorded).
        'thinking-dropped: message 1: past thinking not sent (thinking is off for this request; Anthropic drops it too)',
        'empty-tool-result: message 4: empty tool result sent as "(no output)"',
      ]),
    );
  });

  it('an assistant turn without a content field is accepted; the answer is plain text', async () => {
    h.upstream.scriptNext(textReply('Hi!'));
    const answer = await streamChatFixture(h.openai(), fixtureRequest(fixture, 'an assistant turn with no content field'));
    expect(answer).toMatchObject({ text: 'Hi!', finishReason: 'stop' });
    expect(currentMessage(h.lastKiroBody()).content).toContain('You did not use a tool in your previous response!');
  });
});

describe('Cline, Anthropic provider with a custom base URL', () => {
  const fixture = clientFixture('cline-anthropic.json');

  it('a dated model id with a forced tool (tool_choice any): the call comes back under the same model name', async () => {
    h.upstream.scriptNext(toolReply({ name: 'list_files', id: 'tooluse_cline_ls', input: { path: '.', recursive: false } }));
    const { message } = await streamMessagesFixture(h.client, fixtureRequest(fixture, 'native tools, thinking off'));

    expect(message.model).toBe('claude-sonnet-4-5-20250929');
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toMatchObject([{ type: 'tool_use', id: 'tooluse_cline_ls', name: 'list_files', input: { path: '.', recursive: false } }]);
    expect(h.finished.at(-1)!.repairs.some((r) => r.startsWith('tool-choice-required'))).toBe(true);
  });

  it('thinking on: earlier signed thinking goes back to Kiro (as text once Kiro refuses its foreign signature), redacted thinking is dropped with a note', async () => {
    h.upstream.scriptNext(thinkingReply('Two entries.', 'The root holds README.md and src/.'));
    const { message } = await streamMessagesFixture(h.client, fixtureRequest(fixture, 'thinking on, with earlier thinking and redacted thinking sent back'));

    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect(message.content[1]).toMatchObject({ type: 'text', text: 'The root holds README.md and src/.' });
    const kiro = h.lastKiroBody();
    expect(historyText(kiro)).toContain('<max_thinking_length>6000</max_thinking_length>');
    expect(lastAssistantTurn(kiro)).toMatchObject({
      content: expect.stringContaining('<thinking>Listing the root is enough.</thinking>'),
      toolUses: [{ toolUseId: 'toolu_cline_21', name: 'list_files', input: { path: '.', recursive: false } }],
    });
    expect(currentMessage(kiro).userInputMessageContext!.toolResults).toEqual([
      { toolUseId: 'toolu_cline_21', content: [{ text: 'README.md\nsrc/' }], status: 'success' },
    ]);
    // The fixture's signature is Anthropic's, not one Kiro issued: Kiro refuses it, and the bridge
    // resends that thinking as text, once. The redacted block is left out.
    const [refused, resent] = h.upstream.generateRequests.slice(-2);
    expect(refused!.rejectedBy).toBe('thinking_signature_invalid');
    expect(resent!.status).toBe(200);
    const repairs = h.finished.at(-1)!.repairs;
    expect(repairs).toContainEqual(
      expect.stringMatching(/^reasoning-as-text: message 1: signed reasoning sent as <thinking> text: Kiro refused its signature/),
    );
    expect(repairs).toContainEqual(expect.stringMatching(/^redacted-thinking-dropped: message 1: redacted reasoning not sent back/));
  });
});
