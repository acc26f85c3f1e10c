// The client's messages, reshaped into the conversation Kiro accepts: strictly alternating turns
// that start and end with a user turn, every tool result answering a tool call of the assistant
// turn right before it, every tool call answered, no tool call id used twice
// (docs/kiro-protocol.md#conversation-rules). Each change is recorded in the RepairLog with the
// client message it touched.
//
// Where other proxies disagree we take the option that loses nothing the client sent:
// - consecutive same-role messages are merged (as the original kiro2api and kiro.rs do), not dropped;
// - a leading assistant message gets a placeholder user turn before it (the original kiro2api drops it);
// - an orphan tool result becomes plain text in its user turn (some proxies add `unknown_tool` stubs,
//   which would invent a tool call the model never made);
// - an unanswered tool call gets a synthetic error result (the model sees it failed) rather than
//   being deleted from the assistant turn;
// - a repeated tool call id is renamed (with its result) instead of being dropped.
import type { RepairLog } from './repairs';
import type { ChatMessage, ImageBlock, TextBlock } from '../types';

export interface PendingResult {
  toolUseId: string;
  content: (TextBlock | ImageBlock)[];
  isError: boolean;
  /** The client message it came from (undefined for results we made up). */
  message?: number;
}

export interface PendingToolUse {
  id: string;
  name: string;
  input: unknown;
  message: number;
}

export interface UserTurn {
  role: 'user';
  /** Client message indexes merged into this turn (empty for turns we made up). */
  messages: number[];
  texts: string[];
  images: { image: ImageBlock; message?: number }[];
  results: PendingResult[];
}

/** Past reasoning of an assistant turn; `signature` when Kiro signed it (native reasoning). */
export interface PastThinking {
  text: string;
  signature?: string;
  message: number;
}

export interface AssistantTurn {
  role: 'assistant';
  messages: number[];
  texts: string[];
  thinking: PastThinking[];
  /**
   * The message of each block of reasoning Kiro withheld (redacted_thinking), in order; only
   * noted, never sent back (see convert.ts).
   */
  redacted: number[];
  toolUses: PendingToolUse[];
}

export type Turn = UserTurn | AssistantTurn;

/** Text we put where the client gave none; each one is recorded as a repair when used. */
export const PLACEHOLDERS = {
  /** Current message after an assistant prefill: a neutral instruction to go on (other proxies use it too). */
  prefillContinue: 'Continue.',
  /** User turn put before a leading assistant message. */
  conversationStart: '(conversation start)',
  /** Result for a tool call the client never answered; status is error so the model retries or moves on. */
  unansweredToolUse: 'The tool call was not answered: no result was provided for it.',
} as const;

export interface TurnOptions {
  /**
   * Keep past unsigned thinking (thinking is on this request); otherwise it is dropped, as
   * Anthropic does. Reasoning Kiro signed is always kept: it goes back exactly as Kiro gave it.
   */
  keepThinking: boolean;
  /** Names of server-side tools (web_search) whose past calls are carried as text. */
  serverTools: ReadonlySet<string>;
}

/**
 * Reshapes the client's messages into alternating turns ending with a user turn (the current
 * message). Never mutates the input. `messages` must not be empty.
 */
export function normalizeTurns(messages: readonly ChatMessage[], options: TurnOptions, repairs: RepairLog): Turn[] {
  const textCalls = new Map<string, string>();
  let turns = messages.map((message, index) => toTurn(message, index, options, textCalls, repairs));
  turns = mergeConsecutive(turns, repairs);
  turns = handleTrailingAssistant(turns, repairs);
  if (turns[0]!.role === 'assistant') {
    repairs.add(
      'leading-assistant',
      `the conversation starts with an assistant message; a user turn "${PLACEHOLDERS.conversationStart}" was put before it`,
      turns[0]!.messages[0],
    );
    turns.unshift(syntheticUser(PLACEHOLDERS.conversationStart));
  }
  pairToolCalls(turns, textCalls, messages, repairs);
  return turns;
}

function syntheticUser(text: string): UserTurn {
  return { role: 'user', messages: [], texts: [text], images: [], results: [] };
}

/** The neutral types are validated by the bridge; this keeps a stray non-string from crashing us. */
const str = (value: unknown): string => (typeof value === 'string' ? value : '');

function resultText(content: readonly (TextBlock | ImageBlock)[]): string {
  return content
    .filter((c): c is TextBlock => c?.type === 'text')
    .map((c) => str(c.text))
    .join('\n');
}

function toTurn(message: ChatMessage, index: number, options: TurnOptions, textCalls: Map<string, string>, repairs: RepairLog): Turn {
  const blocks = (Array.isArray(message.content) ? message.content : []).filter((b) => typeof b === 'object' && b !== null);
  if (message.role === 'assistant') {
    const turn: AssistantTurn = { role: 'assistant', messages: [index], texts: [], thinking: [], redacted: [], toolUses: [] };
    for (const block of blocks) {
      switch (block.type) {
        case 'text':
          turn.texts.push(str(block.text));
          break;
        case 'thinking': {
          const signature = str(block.signature);
          if (signature) turn.thinking.push({ text: str(block.thinking), signature, message: index });
          else if (options.keepThinking) turn.thinking.push({ text: str(block.thinking), message: index });
          else if (str(block.thinking).trim() !== '') {
            repairs.add('thinking-dropped', 'past thinking not sent (thinking is off for this request; Anthropic drops it too)', index);
          }
          break;
        }
        case 'redacted_thinking':
          if (str(block.data)) turn.redacted.push(index);
          break;
        case 'tool_use':
          if (options.serverTools.has(block.name)) {
            // Kiro runs no server tools; the call is history the model should still see.
            textCalls.set(block.id, block.name);
            turn.texts.push(`[${block.name} call: ${safeJson(block.input)}]`);
            repairs.add('server-tool-call-as-text', `past ${block.name} call sent as text`, index);
          } else {
            turn.toolUses.push({ id: str(block.id), name: str(block.name), input: block.input, message: index });
          }
          break;
        case 'image':
          repairs.add('assistant-image-dropped', 'image in an assistant message dropped (Kiro assistant turns carry no images)', index);
          break;
        case 'tool_result':
          turn.texts.push(`[tool result ${block.toolUseId}${block.isError ? ' (error)' : ''}]\n${resultText(block.content)}`);
          repairs.add('misplaced-block', 'tool result in an assistant message sent as text', index);
          break;
        default:
          unknownBlock(block, index, repairs);
      }
    }
    return turn;
  }
  const turn: UserTurn = { role: 'user', messages: [index], texts: [], images: [], results: [] };
  for (const block of blocks) {
    switch (block.type) {
      case 'text':
        turn.texts.push(str(block.text));
        break;
      case 'image':
        turn.images.push({ image: block, message: index });
        break;
      case 'tool_result':
        turn.results.push({
          toolUseId: str(block.toolUseId),
          content: Array.isArray(block.content) ? block.content : [],
          isError: block.isError === true,
          message: index,
        });
        break;
      case 'tool_use':
        turn.texts.push(`[tool call ${block.name}: ${safeJson(block.input)}]`);
        repairs.add('misplaced-block', 'tool call in a user message sent as text', index);
        break;
      case 'thinking':
        if (str(block.thinking).trim() !== '') {
          turn.texts.push(str(block.thinking));
          repairs.add('misplaced-block', 'thinking in a user message sent as text', index);
        }
        break;
      case 'redacted_thinking':
        repairs.add('misplaced-block', 'redacted thinking in a user message dropped', index);
        break;
      default:
        unknownBlock(block, index, repairs);
    }
  }
  return turn;
}

function unknownBlock(block: never, index: number, repairs: RepairLog): void {
  const type = (block as { type?: unknown })?.type;
  repairs.add('misplaced-block', `content block of unknown type ${JSON.stringify(type)} dropped`, index);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return String(value);
  }
}

function mergeConsecutive(turns: Turn[], repairs: RepairLog): Turn[] {
  const out: Turn[] = [];
  for (const turn of turns) {
    const previous = out[out.length - 1];
    if (!previous || previous.role !== turn.role) {
      out.push(turn);
      continue;
    }
    repairs.add('merged-turns', `consecutive ${turn.role} messages merged into one turn`, previous.messages[0]);
    for (const m of turn.messages) repairs.add('merged-turns', `consecutive ${turn.role} messages merged into one turn`, m);
    if (previous.role === 'user' && turn.role === 'user') {
      out[out.length - 1] = {
        role: 'user',
        messages: [...previous.messages, ...turn.messages],
        texts: [...previous.texts, ...turn.texts],
        images: [...previous.images, ...turn.images],
        results: [...previous.results, ...turn.results],
      };
    } else if (previous.role === 'assistant' && turn.role === 'assistant') {
      out[out.length - 1] = {
        role: 'assistant',
        messages: [...previous.messages, ...turn.messages],
        texts: [...previous.texts, ...turn.texts],
        thinking: [...previous.thinking, ...turn.thinking],
        redacted: [...previous.redacted, ...turn.redacted],
        toolUses: [...previous.toolUses, ...turn.toolUses],
      };
    }
  }
  return out;
}

const isBlank = (texts: readonly string[]) => texts.every((t) => t.trim() === '');

/**
 * The current message must be a user turn. A trailing assistant message is a prefill: Kiro cannot
 * continue a partial answer, so (as other proxies do) it goes into history and the current message asks
 * to continue. An empty trailing assistant message (some clients append one) is simply dropped.
 */
function handleTrailingAssistant(turns: Turn[], repairs: RepairLog): Turn[] {
  const last = turns[turns.length - 1]!;
  if (last.role !== 'assistant') return turns;
  if (turns.length > 1 && isBlank(last.texts) && isBlank(last.thinking.map((t) => t.text)) && last.redacted.length === 0 && last.toolUses.length === 0) {
    repairs.add('empty-trailing-assistant', 'empty assistant message at the end dropped', last.messages[0]);
    return turns.slice(0, -1);
  }
  repairs.add(
    'assistant-prefill',
    `the last message is an assistant prefill; Kiro cannot continue it in place, so it was sent as history and the current message is "${PLACEHOLDERS.prefillContinue}"`,
    last.messages[0],
  );
  return [...turns, syntheticUser(PLACEHOLDERS.prefillContinue)];
}

/**
 * Makes tool calls and results pair up turn by turn. Results for a tool call id are matched, in
 * order, to the calls with that id in the assistant turn right before; anything left over on either
 * side is repaired.
 */
function pairToolCalls(turns: Turn[], textCalls: ReadonlyMap<string, string>, messages: readonly ChatMessage[], repairs: RepairLog): void {
  const originalIds = new Set<string>();
  for (const m of messages) for (const b of Array.isArray(m.content) ? m.content : []) if (b?.type === 'tool_use') originalIds.add(str(b.id));
  const used = new Set<string>();
  let fresh = 0;
  const unusedId = (base: string) => {
    let id: string;
    do id = `${base}_${++fresh}`;
    while (used.has(id) || originalIds.has(id));
    return id;
  };

  // Per tool call id of the previous assistant turn: the ids (after renaming) still to answer.
  let slots = new Map<string, { id: string; message: number }[]>();
  for (const turn of turns) {
    if (turn.role === 'assistant') {
      slots = new Map();
      turn.toolUses = turn.toolUses.map((use) => {
        let id = use.id;
        if (typeof id !== 'string' || id === '') {
          id = unusedId('tooluse_kb');
          repairs.add('missing-tool-use-id', `tool call ${use.name} had no id; sent as ${id}`, use.message);
        } else if (used.has(id)) {
          id = unusedId(use.id);
          repairs.add('duplicate-tool-use-id', `tool call id ${use.id} was already used; renamed to ${id} (with its result)`, use.message);
        }
        used.add(id);
        const key = typeof use.id === 'string' ? use.id : '';
        slots.set(key, [...(slots.get(key) ?? []), { id, message: use.message }]);
        return id === use.id ? use : { ...use, id };
      });
      continue;
    }
    const answerable = new Set(slots.keys());
    const matched: PendingResult[] = [];
    const asText: string[] = [];
    for (const result of turn.results) {
      const serverTool = textCalls.get(result.toolUseId);
      if (serverTool !== undefined) {
        asText.push(`[${serverTool} result${result.isError ? ' (error)' : ''}]\n${resultText(result.content)}`);
        moveImages(result, turn, repairs);
        repairs.add('server-tool-call-as-text', `past ${serverTool} result sent as text`, result.message);
        continue;
      }
      const id = slots.get(result.toolUseId)?.shift()?.id;
      if (id !== undefined) {
        matched.push(id === result.toolUseId ? result : { ...result, toolUseId: id });
        continue;
      }
      asText.push(`[result of tool call ${result.toolUseId}${result.isError ? ' (error)' : ''}]\n${resultText(result.content)}`);
      moveImages(result, turn, repairs);
      if (answerable.has(result.toolUseId)) {
        repairs.add('duplicate-tool-result', `second result for tool call ${result.toolUseId} sent as text`, result.message);
      } else {
        repairs.add(
          'orphan-tool-result',
          `result for tool call ${result.toolUseId}, which the assistant turn before did not make, sent as text`,
          result.message,
        );
      }
    }
    for (const unanswered of slots.values()) {
      for (const { id, message } of unanswered) {
        matched.push({ toolUseId: id, content: [{ type: 'text', text: PLACEHOLDERS.unansweredToolUse }], isError: true });
        repairs.add('unanswered-tool-use', `tool call ${id} had no result; an error result was added`, message);
      }
    }
    slots = new Map();
    turn.results = matched;
    // Results come before the user's own words, as in the client's message.
    if (asText.length > 0) turn.texts = [...asText, ...turn.texts];
  }
}

function moveImages(result: PendingResult, turn: UserTurn, repairs: RepairLog): void {
  for (const block of result.content) {
    if (block.type !== 'image') continue;
    turn.images.push({ image: block, message: result.message });
    repairs.add('tool-result-images', 'images inside a tool result sent as images of the user turn', result.message);
  }
}
