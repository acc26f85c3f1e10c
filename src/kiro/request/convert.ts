// ChatRequest → Kiro generateAssistantResponse body, always in a shape the upstream accepts
// (docs/kiro-protocol.md#conversation-rules), with every repair it had to make listed.
//
// The pipeline: turns.ts reshapes the messages (alternation, tool pairing, prefill), tools.ts
// builds the tool list (history tools defined, schemas cleaned, names shortened), and this module
// lays the result out as Kiro JSON: the system prompt as the first history pair, placeholders for
// empty content, model id and origin on every user turn.
import { KiroError } from '../errors';
import { conversationIdFor } from './ids';
import type {
  KiroAssistantResponseMessage,
  KiroGenerateRequest,
  KiroHistoryEntry,
  KiroImage,
  KiroImageFormat,
  KiroToolResult,
  KiroToolUse,
  KiroUserInputMessage,
  KiroUserInputMessageContext,
} from './kiro-request';
import { DEFAULT_THINKING_BUDGET } from '../models';
import { RepairLog, type Repair } from './repairs';
import { responseFormatInstruction } from './response-format';
import { MAX_KIRO_TOOL_NAME_LENGTH, ToolNames, type ToolNameMap } from './tool-names';
import { planTools, serverToolNames } from './tools';
import { normalizeTurns, type AssistantTurn, type UserTurn } from './turns';
import type { ChatRequest, ImageBlock } from '../types';

export type * from './kiro-request';
export type { Repair, RepairRule } from './repairs';
export { formatRepair } from './repairs';
export type { ToolNameMap } from './tool-names';

export interface ConvertOptions {
  /** Already resolved by models.ts. */
  kiroModel: string;
  /** Sent when known: some accounts get 400 without it, and none is invented. */
  profileArn?: string;
  /** Else derived from the request (its session key, or how the conversation starts). */
  conversationId?: string;
  /** Turns thinking on with this budget; defaults to request.thinking's budget when that is set. */
  thinkingBudget?: number;
  /**
   * Send Kiro-signed reasoning back as `reasoningContent` (default). False sends it as tagged text
   * instead: the fallback when Kiro refused a signature (another account signed it, say).
   */
  signedReasoning?: boolean;
}

export interface ConvertResult {
  body: KiroGenerateRequest;
  /** Every rule applied, for the traffic view. */
  repairs: Repair[];
  /** Shortened tool names → originals, to restore names in responses. */
  toolNames: ToolNameMap;
}

/**
 * Acknowledgement after the system prompt pair: the Kiro IDE's own text (captures
 * kiroIDE_captured_req*.json, history[3]), also used by most 2026 proxies. "OK" works too; the
 * IDE's wording is the one the upstream sees most.
 */
export const SYSTEM_ACKNOWLEDGEMENT = 'I will follow these instructions.';

/**
 * Content for an assistant turn with no text (a pure tool call, or an empty answer). Empty content
 * rejects the whole request (observed 2026). "OK" is what other proxies use for the system
 * acknowledgement and for tool-only turns: short, and non-blank even if the upstream trims (a single
 * space would not survive a trim, and nobody has shown the upstream does not trim).
 */
export const ASSISTANT_PLACEHOLDER = 'OK';

/** User-turn content when the client gave no text. Neutral notes, so the model does not take them as a request. */
export const USER_PLACEHOLDERS = {
  toolResults: '(tool results attached)',
  images: '(image attached)',
  empty: '(empty message)',
} as const;

/** Tool result text when the client's result had none (empty tool results are rejected). */
export const EMPTY_RESULT_PLACEHOLDERS = { success: '(no output)', error: '(the tool failed without a message)' } as const;

const IMAGE_FORMATS: ReadonlySet<string> = new Set<KiroImageFormat>(['png', 'jpeg', 'gif', 'webp']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The thinking directive Kiro understands at the start of the system prompt (docs/kiro-protocol.md#thinking). */
export function thinkingDirective(budget: number): string {
  return `<thinking_mode>enabled</thinking_mode><max_thinking_length>${budget}</max_thinking_length>`;
}

export function toKiroRequest(request: ChatRequest, options: ConvertOptions): ConvertResult {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  if (messages.length === 0) {
    throw new KiroError('bad_request', 'the request has no messages; send at least one user message');
  }
  const repairs = new RepairLog();
  const names = new ToolNames();
  const tools = Array.isArray(request.tools) ? request.tools : [];

  const requestedBudget = options.thinkingBudget ?? request.thinking?.budgetTokens;
  const thinking = options.thinkingBudget !== undefined || request.thinking !== undefined;
  const budget =
    requestedBudget !== undefined && Number.isFinite(requestedBudget) && requestedBudget >= 1 ? Math.floor(requestedBudget) : DEFAULT_THINKING_BUDGET;

  const turns = normalizeTurns(messages, { keepThinking: thinking, serverTools: serverToolNames(tools) }, repairs);
  const usedNames = turns.flatMap((t) => (t.role === 'assistant' ? t.toolUses.map((u) => u.name) : []));
  const plan = planTools(tools, request.toolChoice, usedNames, names, repairs);

  const modelId = options.kiroModel;
  const history: KiroHistoryEntry[] = [];
  const instructions = [plan.instruction];
  if (request.responseFormat) {
    instructions.push(responseFormatInstruction(request.responseFormat));
    const what = request.responseFormat.schema
      ? `the JSON schema${request.responseFormat.name ? ` "${request.responseFormat.name}"` : ''}`
      : 'the JSON object format';
    repairs.add('response-format-in-prompt', `${what} was put in the system prompt (Kiro cannot constrain its output); the bridge validates the answer`);
  }
  const system = systemPrompt(request.system, thinking ? budget : undefined, instructions);
  if (system !== '') {
    history.push({ userInputMessage: { content: system, modelId, origin: 'AI_EDITOR' } });
    history.push({ assistantResponseMessage: { content: SYSTEM_ACKNOWLEDGEMENT } });
  }
  const current = turns[turns.length - 1] as UserTurn;
  for (const turn of turns.slice(0, -1)) {
    history.push(
      turn.role === 'user'
        ? { userInputMessage: userMessage(turn, modelId, repairs) }
        : { assistantResponseMessage: assistantMessage(turn, names, repairs, options.signedReasoning !== false) },
    );
  }

  const currentMessage = userMessage(current, modelId, repairs);
  const context: KiroUserInputMessageContext = {
    ...(plan.specs.length > 0 ? { tools: plan.specs } : {}),
    ...(currentMessage.userInputMessageContext ?? {}),
  };
  for (const [short, original] of names.rewrites()) {
    repairs.add(
      'tool-name-shortened',
      `sent as ${short} (Kiro takes names of up to ${MAX_KIRO_TOOL_NAME_LENGTH} characters from [A-Za-z0-9_-]); restored in responses`,
      original,
    );
  }

  const body: KiroGenerateRequest = {
    conversationState: {
      agentTaskType: 'vibe',
      chatTriggerType: plan.trigger,
      conversationId: options.conversationId ?? conversationIdFor(request),
      currentMessage: { userInputMessage: { ...currentMessage, userInputMessageContext: context } },
      history,
    },
    ...(options.profileArn ? { profileArn: options.profileArn } : {}),
  };
  return { body, repairs: repairs.list(), toolNames: names };
}

function systemPrompt(blocks: readonly string[] | undefined, thinkingBudget: number | undefined, instructions: readonly (string | undefined)[]): string {
  const text = [...(Array.isArray(blocks) ? blocks : []), ...instructions].filter((b) => typeof b === 'string' && b.trim() !== '').join('\n\n');
  if (thinkingBudget === undefined) return text;
  // The directive must open the system prompt: the upstream recognises it as a prefix.
  return text === '' ? thinkingDirective(thinkingBudget) : `${thinkingDirective(thinkingBudget)}\n${text}`;
}

const joinTexts = (texts: readonly string[]) => texts.filter((t) => typeof t === 'string' && t.trim() !== '').join('\n\n');

function userMessage(turn: UserTurn, modelId: string, repairs: RepairLog): KiroUserInputMessage {
  const images: KiroImage[] = [];
  for (const { image, message } of turn.images) {
    const converted = kiroImage(image, message, repairs);
    if (converted) images.push(converted);
  }
  const toolResults: KiroToolResult[] = turn.results.map((result) => {
    for (const block of result.content) {
      if (block?.type !== 'image') continue;
      // Kiro tool results carry text only; the image goes with the turn so the model still sees it.
      const converted = kiroImage(block, result.message, repairs);
      if (converted) images.push(converted);
      repairs.add('tool-result-images', 'images inside a tool result sent as images of the user turn', result.message);
    }
    let text = result.content
      .filter((c) => c?.type === 'text')
      .map((c) => (typeof c.text === 'string' ? c.text : ''))
      .join('\n');
    if (text.trim() === '') {
      const hasImage = result.content.some((c) => c.type === 'image');
      text = hasImage ? USER_PLACEHOLDERS.images : result.isError ? EMPTY_RESULT_PLACEHOLDERS.error : EMPTY_RESULT_PLACEHOLDERS.success;
      if (!hasImage) repairs.add('empty-tool-result', `empty tool result sent as "${text}"`, result.message);
    }
    return { toolUseId: result.toolUseId, content: [{ text }], status: result.isError ? 'error' : 'success' };
  });

  let content = joinTexts(turn.texts);
  if (content === '') {
    content = toolResults.length > 0 ? USER_PLACEHOLDERS.toolResults : images.length > 0 ? USER_PLACEHOLDERS.images : USER_PLACEHOLDERS.empty;
    const why = toolResults.length > 0 ? 'user turn with only tool results' : images.length > 0 ? 'user turn with only images' : 'empty user turn';
    repairs.add('user-content-placeholder', `${why} sent with content "${content}"`, turn.messages[0]);
  }
  return {
    content,
    modelId,
    origin: 'AI_EDITOR',
    ...(images.length > 0 ? { images } : {}),
    ...(toolResults.length > 0 ? { userInputMessageContext: { toolResults } } : {}),
  };
}

function assistantMessage(turn: AssistantTurn, names: ToolNames, repairs: RepairLog, signedReasoning: boolean): KiroAssistantResponseMessage {
  const text = joinTexts(turn.texts);
  // Kiro's own reasoning goes back as Kiro sent it: one signed block per turn, text and signature
  // untouched. Kiro takes one per assistant turn; further signed blocks (rare: two answers merged
  // into one turn) and unsigned reasoning go back the way the model wrote it before native
  // reasoning existed: tagged, before the answer.
  const signed = signedReasoning ? turn.thinking.find((t) => t.signature !== undefined) : undefined;
  const tagged = turn.thinking.filter((t) => t !== signed && t.text.trim() !== '');
  for (const t of tagged) {
    if (t.signature === undefined) continue;
    repairs.add(
      'reasoning-as-text',
      signedReasoning
        ? 'a second signed reasoning block in one assistant turn sent as <thinking> text (Kiro takes one per turn)'
        : 'signed reasoning sent as <thinking> text: Kiro refused its signature (it was signed for another account or conversation)',
      t.message,
    );
  }
  for (const message of turn.redacted) {
    // No public source shows how Kiro takes redacted reasoning back; a guessed shape could make
    // Kiro reject every later turn of the conversation, so it is left out.
    repairs.add('redacted-thinking-dropped', 'redacted reasoning not sent back (Kiro takes back signed reasoning text only)', message);
  }
  const thought = tagged.map((t) => t.text).join('\n\n');
  let content = thought !== '' ? `<thinking>${thought}</thinking>\n\n${text}` : text;
  if (content.trim() === '') {
    content = ASSISTANT_PLACEHOLDER;
    const why = turn.toolUses.length > 0 ? 'assistant turn with only tool calls' : 'empty assistant turn';
    repairs.add('assistant-content-placeholder', `${why} sent with content "${content}"`, turn.messages[0]);
  }
  const toolUses: KiroToolUse[] = turn.toolUses.map((use) => ({
    toolUseId: use.id,
    name: names.toKiro(use.name),
    input: objectInput(use.input, use.message, repairs),
  }));
  return {
    content,
    ...(toolUses.length > 0 ? { toolUses } : {}),
    ...(signed ? { reasoningContent: { reasoningText: { text: signed.text, signature: signed.signature! } } } : {}),
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Tool call input must be a JSON object: Kiro rejects anything else. The client's input goes into
 * the body as it is, uncopied: the body is only ever serialized, never changed.
 */
function objectInput(input: unknown, message: number, repairs: RepairLog): Record<string, unknown> {
  if (isPlainObject(input)) return input;
  if (input === undefined || input === null) {
    repairs.add('tool-use-input-wrapped', 'missing tool call input sent as {}', message);
    return {};
  }
  if (typeof input === 'string') {
    // OpenAI-style arguments arrive as a JSON string.
    try {
      const parsed: unknown = JSON.parse(input);
      if (isPlainObject(parsed)) {
        repairs.add('tool-use-input-wrapped', 'tool call input given as a JSON string sent as the object it holds', message);
        return parsed;
      }
    } catch {
      // not JSON: wrapped below
    }
  }
  repairs.add('tool-use-input-wrapped', 'non-object tool call input sent as {"value": …} (Kiro takes only objects)', message);
  return { value: input };
}

function kiroImage(image: ImageBlock, message: number | undefined, repairs: RepairLog): KiroImage | undefined {
  const where = message === undefined ? 'an image' : `messages[${message}]: an image`;
  const subtype = String(image.mediaType ?? '')
    .toLowerCase()
    .replace(/^image\//, '');
  const format = subtype === 'jpg' ? 'jpeg' : subtype;
  if (!IMAGE_FORMATS.has(format)) {
    throw new KiroError('bad_request', `${where} has media type ${JSON.stringify(image.mediaType)}; Kiro takes image/png, image/jpeg, image/gif or image/webp`);
  }
  // Tolerate a data-URL prefix, line breaks and the URL-safe alphabet; anything else is not base64.
  const bytes = String(image.data ?? '')
    .replace(/^data:[^,]*;base64,/, '')
    .replace(/\s+/g, '')
    .replace(/-/g, '+')
    .replace(/_/g, '/');
  if (bytes === '') {
    repairs.add('empty-image-dropped', 'image with no data dropped', message);
    return undefined;
  }
  if (!BASE64.test(bytes) || bytes.length % 4 === 1) {
    throw new KiroError('bad_request', `${where} is not valid base64 data`);
  }
  return { format: format as KiroImageFormat, source: { bytes } };
}
