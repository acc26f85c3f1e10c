// The real Kiro IDE request bodies (test/fixtures/kiro/kiroIDE_captured_req*.json, Aug 2025):
// rebuild the conversation each one carries as a ChatRequest, convert it, and check we produce the
// same structure the IDE sent — alternation, tool calls and results, tools, model id on every user
// turn — differing only where other proxies report the 2026 upstream got stricter (empty content).
import { describe, expect, it } from 'vitest';
import { toKiroRequest, type ConvertResult, type KiroGenerateRequest, type KiroHistoryEntry } from '../../src/kiro/request/convert';
import { resolveModel } from '../../src/kiro/models';
import type { ChatMessage, ChatRequest, ContentBlock, ToolDefinition } from '../../src/kiro/types';
import { fixtureJson, fixtureNames } from '../support/fixtures';

interface IdeUser {
  content: string;
  modelId: string;
  origin: string;
  images?: unknown[];
  userInputMessageContext?: {
    tools?: { toolSpecification: { name: string; description: string; inputSchema: { json: Record<string, unknown> } } }[];
    toolResults?: { toolUseId: string; content: { text: string }[]; status: 'success' | 'error' }[];
  };
}
interface IdeAssistant {
  content: string;
  toolUses?: { toolUseId: string; name: string; input: unknown }[];
}
interface IdeBody {
  conversationState: {
    chatTriggerType: string;
    conversationId: string;
    currentMessage: { userInputMessage: IdeUser };
    history: ({ userInputMessage: IdeUser } | { assistantResponseMessage: IdeAssistant })[];
  };
}

const captures = fixtureNames('.json').filter((n) => n.startsWith('kiroIDE_captured_req'));

function userBlocks(m: IdeUser): ContentBlock[] {
  const results: ContentBlock[] = (m.userInputMessageContext?.toolResults ?? []).map((r) => ({
    type: 'tool_result',
    toolUseId: r.toolUseId,
    content: r.content.map((c) => ({ type: 'text', text: c.text })),
    isError: r.status === 'error',
  }));
  return [...results, ...(m.content ? [{ type: 'text' as const, text: m.content }] : [])];
}

/** The conversation a capture carries, as a client would have sent it. */
function toChatRequest(body: IdeBody): ChatRequest {
  const messages: ChatMessage[] = body.conversationState.history.map((entry) =>
    'userInputMessage' in entry
      ? { role: 'user', content: userBlocks(entry.userInputMessage) }
      : {
          role: 'assistant',
          content: [
            ...(entry.assistantResponseMessage.content ? [{ type: 'text' as const, text: entry.assistantResponseMessage.content }] : []),
            ...(entry.assistantResponseMessage.toolUses ?? []).map((t) => ({ type: 'tool_use' as const, id: t.toolUseId, name: t.name, input: t.input })),
          ],
        },
  );
  const current = body.conversationState.currentMessage.userInputMessage;
  messages.push({ role: 'user', content: userBlocks(current) });
  const tools: ToolDefinition[] = (current.userInputMessageContext?.tools ?? []).map((t) => ({
    name: t.toolSpecification.name,
    description: t.toolSpecification.description,
    inputSchema: t.toolSpecification.inputSchema.json,
  }));
  return { api: 'anthropic', model: current.modelId, system: [], messages, tools, stopSequences: [], stream: true };
}

const role = (e: KiroHistoryEntry | IdeBody['conversationState']['history'][number]) => ('userInputMessage' in e ? 'user' : 'assistant');

describe.each(captures)('real IDE capture %s', (name) => {
  const ide = fixtureJson<IdeBody>(name);
  const request = toChatRequest(ide);
  const kiroModel = resolveModel(request.model)!.kiroModel;
  const converted: ConvertResult = toKiroRequest(request, { kiroModel, conversationId: ide.conversationState.conversationId });
  const body: KiroGenerateRequest = converted.body;
  const ideHistory = ide.conversationState.history;
  const ours = body.conversationState.history;

  it("resolves the IDE's legacy model id to a current one", () => {
    expect(['claude-sonnet-4', 'auto']).toContain(kiroModel);
  });

  it('keeps the alternation and the number of turns', () => {
    expect(ours.map(role)).toEqual(ideHistory.map(role));
    expect(ours.length % 2).toBe(0);
  });

  it('keeps every tool call and result, in place', () => {
    ideHistory.forEach((entry, i) => {
      const mine = ours[i]!;
      if ('assistantResponseMessage' in entry) {
        const uses = entry.assistantResponseMessage.toolUses ?? [];
        expect('assistantResponseMessage' in mine && (mine.assistantResponseMessage.toolUses ?? [])).toEqual(uses);
      } else {
        const results = entry.userInputMessage.userInputMessageContext?.toolResults;
        expect('userInputMessage' in mine && mine.userInputMessage.userInputMessageContext?.toolResults).toEqual(results ?? undefined);
      }
    });
    const ideCurrent = ide.conversationState.currentMessage.userInputMessage.userInputMessageContext;
    expect(body.conversationState.currentMessage.userInputMessage.userInputMessageContext.toolResults).toEqual(ideCurrent?.toolResults);
  });

  it("sends the same tools, with the IDE's own schemas intact apart from $schema", () => {
    const ideTools = ide.conversationState.currentMessage.userInputMessage.userInputMessageContext?.tools ?? [];
    const sent = body.conversationState.currentMessage.userInputMessage.userInputMessageContext.tools ?? [];
    expect(sent.map((t) => t.toolSpecification.name)).toEqual(ideTools.map((t) => t.toolSpecification.name));
    sent.forEach((t, i) => {
      const { $schema: _dropped, ...rest } = ideTools[i]!.toolSpecification.inputSchema.json;
      expect(t.toolSpecification.inputSchema.json).toEqual(rest);
      expect(t.toolSpecification.description).toBe(ideTools[i]!.toolSpecification.description);
    });
  });

  it('puts the model id and origin on every user turn', () => {
    const users = [...ours.flatMap((e) => ('userInputMessage' in e ? [e.userInputMessage] : [])), body.conversationState.currentMessage.userInputMessage];
    for (const m of users) expect(m).toMatchObject({ modelId: kiroModel, origin: 'AI_EDITOR' });
  });

  it('keeps every non-empty content as the IDE sent it; fills only the empty ones', () => {
    const all = [...ideHistory, { userInputMessage: ide.conversationState.currentMessage.userInputMessage }];
    const mine = [...ours, { userInputMessage: body.conversationState.currentMessage.userInputMessage }];
    all.forEach((entry, i) => {
      const theirs = 'userInputMessage' in entry ? entry.userInputMessage.content : entry.assistantResponseMessage.content;
      const m = mine[i]!;
      const content = 'userInputMessage' in m ? m.userInputMessage.content : m.assistantResponseMessage.content;
      if (theirs.trim() !== '') expect(content).toBe(theirs);
      else expect(content.trim()).not.toBe('');
    });
    const allowed = new Set(['assistant-content-placeholder', 'user-content-placeholder', 'tool-schema-cleaned']);
    for (const r of converted.repairs) expect(allowed.has(r.rule), `${r.rule}: ${r.detail}`).toBe(true);
  });

  it("keeps the IDE's conversation shape fields", () => {
    expect(body.conversationState).toMatchObject({
      chatTriggerType: ide.conversationState.chatTriggerType,
      conversationId: ide.conversationState.conversationId,
      agentTaskType: 'vibe',
    });
  });
});

it('found the IDE captures', () => {
  expect(captures.length).toBeGreaterThanOrEqual(5);
});
