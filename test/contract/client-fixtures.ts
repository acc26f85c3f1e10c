// Request bodies other agents really send (test/fixtures/clients/, each file says where in the
// agent's source it comes from), and the two ways those agents read the answer: the openai
// package's chat stream, assembled the way Cline, Roo Code and Continue assemble it (content,
// reasoning_content, tool-call deltas by index, the usage chunk), and the Anthropic SDK's own
// message accumulator.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import type { KiroGenerateBody } from '../support/fake-upstream';

export interface FixtureRequest {
  name: string;
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export interface ClientFixture {
  client: string;
  provider: string;
  notes: string;
  requests: FixtureRequest[];
}

const fixturesDir = path.resolve(__dirname, '..', 'fixtures', 'clients');

export function clientFixture(file: string): ClientFixture {
  return JSON.parse(readFileSync(path.join(fixturesDir, file), 'utf8')) as ClientFixture;
}

/** One request of a fixture, by name (a fresh copy, so a test may change it). */
export function fixtureRequest(fixture: ClientFixture, name: string): FixtureRequest {
  const found = fixture.requests.find((r) => r.name === name);
  if (!found) throw new Error(`${fixture.client}: no request named "${name}"`);
  return structuredClone(found);
}

export interface AssembledChatStream {
  text: string;
  reasoning: string;
  /** Calls by their stream index: the first delta names the call, later ones add argument text. */
  toolCalls: { index: number; id: string; name: string; arguments: string; deltas: number }[];
  finishReason: string | null;
  usage: OpenAI.CompletionUsage | undefined;
  /** Chunks with an empty `choices` (the usage chunk). */
  choicelessChunks: number;
}

/** Sends a Chat Completions fixture through the openai package and assembles the stream. */
export async function streamChatFixture(openai: OpenAI, request: FixtureRequest): Promise<AssembledChatStream> {
  const body = { ...request.body, stream: true } as unknown as OpenAI.ChatCompletionCreateParamsStreaming;
  const stream = await openai.chat.completions.create(body, { headers: request.headers });
  const out: AssembledChatStream = { text: '', reasoning: '', toolCalls: [], finishReason: null, usage: undefined, choicelessChunks: 0 };
  for await (const chunk of stream) {
    if (chunk.usage) out.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) {
      out.choicelessChunks++;
      continue;
    }
    const delta = choice.delta as OpenAI.ChatCompletionChunk.Choice.Delta & { reasoning_content?: string };
    if (delta.content) out.text += delta.content;
    if (delta.reasoning_content) out.reasoning += delta.reasoning_content;
    for (const call of delta.tool_calls ?? []) {
      let entry = out.toolCalls.find((c) => c.index === call.index);
      if (!entry) {
        entry = { index: call.index, id: call.id ?? '', name: call.function?.name ?? '', arguments: '', deltas: 0 };
        out.toolCalls.push(entry);
      }
      entry.deltas++;
      entry.arguments += call.function?.arguments ?? '';
    }
    if (choice.finish_reason) out.finishReason = choice.finish_reason;
  }
  return out;
}

/** Sends a Messages fixture through the Anthropic SDK's stream helper; its final message and the event types seen. */
export async function streamMessagesFixture(client: Anthropic, request: FixtureRequest): Promise<{ message: Anthropic.Message; events: string[] }> {
  const body = { ...request.body } as unknown as Anthropic.MessageStreamParams;
  const stream = client.messages.stream(body, { headers: request.headers });
  const events: string[] = [];
  for await (const event of stream) {
    if (event.type === 'content_block_delta') events.push(event.delta.type);
    else if (event.type === 'content_block_start') events.push(`start:${event.content_block.type}`);
  }
  return { message: await stream.finalMessage(), events };
}

/** The conversation history Kiro received, as JSON text (for `toContain` checks). */
export const historyText = (body: KiroGenerateBody) => JSON.stringify(body.conversationState!.history);

/** The last assistant turn of the history Kiro received. */
export const lastAssistantTurn = (body: KiroGenerateBody) =>
  body
    .conversationState!.history!.map((e) => e.assistantResponseMessage)
    .filter(Boolean)
    .at(-1)!;
