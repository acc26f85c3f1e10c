// OpenAI Responses request → ChatRequest: as much of the API as Codex CLI and the openai SDK's
// `responses` helpers use. `input` is a string or a list of items (messages, function calls and
// their outputs, custom tool calls, reasoning); `instructions` and system/developer messages
// become the system prompt; tools map to Kiro tools in responses-tools.ts (namespace groups are
// flattened; hosted tools such as web_search are dropped with a note, as the Anthropic side drops
// server tools). Fields that only steer OpenAI's servers (`include`, `client_metadata`,
// `reasoning.summary`, `service_tier`…) are accepted and have nothing to do here.
//
// `previous_response_id` continues a conversation the bridge stored (responses-store.ts); an id
// it does not hold (never stored, `store: false`, evicted, or the bridge restarted) is a 400
// `previous_response_not_found`, as at OpenAI. An `item_reference` input item stands for an output
// item of a stored response (the Vercel AI SDK sends earlier messages and reasoning that way) and
// is replaced by that item; an id the bridge does not hold is a 400 saying to send the item.
// Background mode, the Conversations API and prompt templates need server-side state or features
// Kiro lacks: a clear 400.
import type { ChatMessage, ChatRequest, ContentBlock, ImageBlock, TextBlock } from '../../kiro/types';
import {
  bodyAndModel,
  bool,
  fail,
  firstString,
  imageFromUrl,
  isObject,
  isToolResultTurn,
  list,
  num,
  outputFormat,
  parallelToolCalls,
  present,
  str,
  thinkingFromEffort,
  toolArguments,
  toolChoice,
  typeName,
  unsupported,
  type Json,
} from '../openai/openai-common';
import { OpenAIRequestError } from '../openai/openai-errors';
import { openReasoning } from './reasoning-envelope';
import type { StoredItem, StoredResponse } from './responses-store';
import { CUSTOM_TOOL_INPUT, flatToolName, parseResponsesTools, type NamespacedName } from './responses-tools';

/** Request fields the Response object echoes back. */
export interface ResponseEcho {
  instructions: string | null;
  max_output_tokens: number | null;
  metadata: Record<string, string>;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  temperature: number | null;
  /** The output format as the client sent it (JSON formats are emulated). */
  text: { format: Record<string, unknown> };
  tool_choice: unknown;
  tools: unknown[];
  top_p: number | null;
  truncation: 'auto' | 'disabled';
  user: string | null;
}

export interface ParsedResponsesRequest {
  request: ChatRequest;
  notes: string[];
  echo: ResponseEcho;
  /** System text that came from input items (kept with a stored response). */
  inputSystem: string[];
  /** Names of custom (free-form) tools: their calls go back as `custom_tool_call` items. */
  customTools: Set<string>;
  /** Flattened names of namespace members: their calls go back with `namespace` and `name`. */
  namespacedTools: ReadonlyMap<string, NamespacedName>;
  /** `reasoning.effort: "none"`: thinking off, even for a `-thinking` model name. */
  thinkingOff: boolean;
  /** `include` asks for `reasoning.encrypted_content` (reasoning items carry what replays them). */
  encryptedReasoning: boolean;
}

export interface ResponsesParseOptions {
  defaultThinkingBudget: number;
  /** Looks up a stored response for `previous_response_id`; absent when the bridge keeps none. */
  previous?: (id: string) => StoredResponse | undefined;
  /** Looks up an output item of a stored response for `item_reference`. */
  item?: (id: string) => StoredItem | undefined;
}

/** Output items of hosted tools, replayed by clients: Kiro cannot carry them. */
const HOSTED_ITEM =
  /^(web_search_call|file_search_call|computer_call|computer_call_output|code_interpreter_call|image_generation_call|mcp_call|mcp_list_tools|mcp_approval_request|mcp_approval_response|local_shell_call|local_shell_call_output|shell_call|shell_call_output|apply_patch_call|apply_patch_call_output|tool_search_call|tool_search_output|compaction|compaction_summary)$/;

// ---- input items ----------------------------------------------------------------------------

function userParts(content: unknown, path: string): (TextBlock | ImageBlock)[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return list(content, path).map((part, i): TextBlock | ImageBlock => {
    const at = `${path}[${i}]`;
    if (!isObject(part)) fail(at, `expected an object, got ${typeName(part)}`);
    switch (part.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
        return { type: 'text', text: str(part, 'text', at, true) };
      case 'input_image': {
        if (present(part.file_id))
          unsupported(`${at}.file_id`, 'images by file id are not supported (the bridge has no Files API); send image_url as a base64 data URL');
        const url = part.image_url;
        if (typeof url === 'string') return imageFromUrl(url, `${at}.image_url`);
        if (isObject(url)) return imageFromUrl(str(url, 'url', `${at}.image_url`, true), `${at}.image_url.url`);
        fail(`${at}.image_url`, 'missing required parameter');
        break;
      }
      case 'input_file':
        unsupported(`${at}.type`, 'file inputs are not supported by Kiro (it takes text and images only); extract the text and send it as input_text');
        break;
      case 'input_audio':
        unsupported(`${at}.type`, 'audio input is not supported by Kiro');
        break;
      default:
        fail(`${at}.type`, `expected "input_text" or "input_image", got ${JSON.stringify(part.type)}`);
    }
  });
}

function assistantParts(content: unknown, path: string): TextBlock[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return list(content, path).flatMap((part, i): TextBlock[] => {
    const at = `${path}[${i}]`;
    if (!isObject(part)) fail(at, `expected an object, got ${typeName(part)}`);
    if (part.type === 'output_text' || part.type === 'input_text' || part.type === 'text') {
      const text = str(part, 'text', at, true);
      return text ? [{ type: 'text', text }] : [];
    }
    if (part.type === 'refusal') return [{ type: 'text', text: str(part, 'refusal', at, true) }];
    fail(`${at}.type`, `expected "output_text" or "refusal", got ${JSON.stringify(part.type)}`);
  });
}

function toolOutput(output: unknown, path: string): (TextBlock | ImageBlock)[] {
  if (!present(output)) return [];
  if (typeof output === 'string') return output ? [{ type: 'text', text: output }] : [];
  return userParts(output, path).filter((b) => b.type !== 'text' || b.text !== '');
}

/**
 * The content blocks of one item of an answer: an assistant message, a call, or reasoning. Both a
 * request's input items and the output the bridge stores become conversation turns through it;
 * merging items into turns is up to the caller.
 */
export function itemBlocks(item: Json, path: string, notes: string[]): ContentBlock[] {
  switch (item.type ?? 'message') {
    case 'message':
      return assistantParts(item.content, `${path}.content`);
    case 'function_call': {
      const callId = str(item, 'call_id', path, true);
      const name = str(item, 'name', path, true);
      // A namespace member's call (Codex sends the pair) carries the flat name it was declared as.
      const namespace = str(item, 'namespace', path, false);
      const args = str(item, 'arguments', path, false) ?? '';
      return [
        {
          type: 'tool_use',
          id: callId,
          name: namespace ? flatToolName(namespace, name) : name,
          input: toolArguments(args, `${path}.arguments`, notes),
        },
      ];
    }
    case 'custom_tool_call': {
      const callId = str(item, 'call_id', path, true);
      const name = str(item, 'name', path, true);
      const input = str(item, 'input', path, false) ?? '';
      return [{ type: 'tool_use', id: callId, name, input: { [CUSTOM_TOOL_INPUT]: input } }];
    }
    case 'reasoning': {
      // The bridge's own envelope (./reasoning-envelope) is the reasoning exactly as Kiro gave
      // it; the summary or content beside it are copies.
      const envelope = openReasoning(item.encrypted_content);
      if (envelope?.redacted !== undefined) return [{ type: 'redacted_thinking', data: envelope.redacted }];
      if (envelope)
        return [{ type: 'thinking', thinking: envelope.text ?? '', ...(envelope.signature !== undefined ? { signature: envelope.signature } : {}) }];
      const texts = [
        ...(Array.isArray(item.content) ? item.content : []),
        // Only when there is no raw reasoning: the summary is the next best account of it.
        ...(Array.isArray(item.content) && item.content.length > 0 ? [] : Array.isArray(item.summary) ? item.summary : []),
      ]
        .map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : ''))
        .filter(Boolean);
      if (texts.length === 0) {
        if (present(item.encrypted_content)) notes.push(`${path}: an encrypted reasoning item was dropped (only OpenAI can read it)`);
        return [];
      }
      return [{ type: 'thinking', thinking: texts.join('\n\n') }];
    }
    default:
      // Not part of an answer (the callers pass only the types above).
      return [];
  }
}

/** Builds the conversation, merging what OpenAI spreads over several items into one turn. */
class Conversation {
  readonly system: string[] = [];
  readonly messages: ChatMessage[] = [];

  constructor(
    private readonly notes: string[],
    private readonly lookUpItem: ((id: string) => StoredItem | undefined) | undefined,
  ) {}

  user(content: ContentBlock[]): void {
    const last = this.messages[this.messages.length - 1];
    // Tool outputs of one turn, and text right after them, are one user turn.
    if (isToolResultTurn(last)) last!.content.push(...content);
    else this.messages.push({ role: 'user', content });
  }

  /** Reasoning, message and calls of one answer are separate items; together they are one turn. */
  assistant(content: ContentBlock[]): void {
    const last = this.messages[this.messages.length - 1];
    if (last?.role === 'assistant') {
      // Thinking comes first in a turn; reasoning after text starts a new answer.
      const reasoning = content.some((b) => b.type === 'thinking' || b.type === 'redacted_thinking');
      if (reasoning && last.content.some((b) => b.type !== 'thinking' && b.type !== 'redacted_thinking')) this.messages.push({ role: 'assistant', content });
      else last.content.push(...content);
    } else {
      this.messages.push({ role: 'assistant', content });
    }
  }

  item(item: unknown, path: string): void {
    if (!isObject(item)) fail(path, `expected an object, got ${typeName(item)}`);
    // Both a message's and an item reference's `type` are optional in the API.
    const type = item.type ?? (present(item.role) ? 'message' : present(item.id) ? 'item_reference' : undefined);
    switch (type) {
      case 'message':
        return this.message(item, path);
      case 'function_call':
      case 'custom_tool_call':
      case 'reasoning': {
        const blocks = itemBlocks(item, path, this.notes);
        if (blocks.length > 0) this.assistant(blocks);
        return;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const callId = str(item, 'call_id', path, true);
        return this.user([{ type: 'tool_result', toolUseId: callId, content: toolOutput(item.output, `${path}.output`), isError: false }]);
      }
      case 'item_reference':
        return this.item(this.referenced(item, path), path);
      default:
        if (typeof type === 'string' && HOSTED_ITEM.test(type)) {
          this.notes.push(`${path}: dropped a ${type} item (Kiro cannot carry hosted tool calls)`);
          return;
        }
        fail(`${path}.type`, `unsupported input item type ${JSON.stringify(type)}`);
    }
  }

  /** The stored output item an `item_reference` names. */
  private referenced(reference: Json, path: string): StoredItem {
    const id = str(reference, 'id', path, true);
    const found = this.lookUpItem?.(id);
    if (!found) {
      throw new OpenAIRequestError(
        `${path}.id: Item with id '${id.slice(0, 100)}' not found. The bridge keeps the output items of recent responses in memory only (not those sent with store: false, nor across restarts); send the item itself instead of an item_reference.`,
        `${path}.id`,
        'item_not_found',
      );
    }
    return found;
  }

  private message(item: Json, path: string): void {
    const role = item.role;
    switch (role) {
      case 'system':
      case 'developer': {
        const text = userParts(item.content, `${path}.content`)
          .map((b) => {
            if (b.type !== 'text') fail(`${path}.content`, `${role} messages take text only`);
            return b.text;
          })
          .join('\n');
        if (this.messages.length > 0) this.notes.push(`${path}: a ${role} message after the conversation began was moved into the system prompt`);
        if (text) this.system.push(text);
        return;
      }
      case 'user':
        return this.user(userParts(item.content, `${path}.content`));
      case 'assistant':
        return this.assistant(itemBlocks(item, path, this.notes));
      default:
        fail(`${path}.role`, `expected "user", "assistant", "system" or "developer", got ${JSON.stringify(role)}`);
    }
  }
}

// ---- the request ----------------------------------------------------------------------------

function refuseWhatKiroCannotDo(body: Json): void {
  if (bool(body, 'background') === true)
    unsupported('background', 'background responses are not supported; the bridge answers while the request is open (stream it for long answers)');
  if (present(body.conversation))
    unsupported('conversation', 'the Conversations API is not supported; send the input items, or chain responses with previous_response_id');
  if (present(body.prompt)) unsupported('prompt', 'prompt templates are not supported; send instructions and input');
  const topLogprobs = num(body, 'top_logprobs', { integer: true, min: 0, max: 20 });
  if (topLogprobs !== undefined && topLogprobs > 0) unsupported('top_logprobs', 'Kiro does not return log probabilities');
  if (present(body.text) && !isObject(body.text)) fail('text', `expected an object, got ${typeName(body.text)}`);
}

function stringMap(value: unknown, param: string): Record<string, string> {
  if (!present(value)) return {};
  if (!isObject(value)) fail(param, `expected an object, got ${typeName(value)}`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`${param}.${key}`, `expected a string, got ${typeName(v)}`);
    out[key] = v;
  }
  return out;
}

/** Validates and maps a `POST /v1/responses` body. */
export function parseResponsesRequest(input: unknown, options: ResponsesParseOptions): ParsedResponsesRequest {
  const { body, model } = bodyAndModel(input);
  const notes: string[] = [];
  refuseWhatKiroCannotDo(body);

  const instructions = str(body, 'instructions', '', false);
  const maxOutputTokens = num(body, 'max_output_tokens', { integer: true, min: 1 });
  const temperature = num(body, 'temperature', { min: 0, max: 2 });
  const topP = num(body, 'top_p', { min: 0, max: 1 });
  const stream = bool(body, 'stream') === true;
  const store = bool(body, 'store') !== false;
  const parallel = parallelToolCalls(body, notes);
  const truncation = body.truncation;
  if (present(truncation) && truncation !== 'auto' && truncation !== 'disabled')
    fail('truncation', `expected "auto" or "disabled", got ${JSON.stringify(truncation)}`);
  const metadata = stringMap(body.metadata, 'metadata');

  let effort: unknown;
  let summary: string | null = null;
  if (present(body.reasoning)) {
    if (!isObject(body.reasoning)) fail('reasoning', `expected an object, got ${typeName(body.reasoning)}`);
    effort = body.reasoning.effort;
    summary = typeof body.reasoning.summary === 'string' ? body.reasoning.summary : null;
  }
  const thinking = thinkingFromEffort(effort, 'reasoning.effort');

  const { tools: definedTools, custom: customTools, namespaced: namespacedTools } = parseResponsesTools(body.tools, notes);
  const choice = toolChoice(body.tool_choice, definedTools, (c) => {
    if (typeof c.name !== 'string') return undefined;
    return typeof c.namespace === 'string' && c.namespace ? flatToolName(c.namespace, c.name) : c.name;
  });

  const conversation = new Conversation(notes, options.item);
  const previousId = str(body, 'previous_response_id', '', false);
  let carried: StoredResponse | undefined;
  if (previousId) {
    if (!options.previous) unsupported('previous_response_id', 'this bridge keeps no responses; send the whole conversation as input');
    carried = options.previous(previousId);
    if (!carried) {
      throw new OpenAIRequestError(
        `previous_response_id: Previous response with id '${previousId.slice(0, 100)}' not found. The bridge keeps recent responses in memory only (not those sent with store: false, nor across restarts); send the whole conversation as input instead.`,
        'previous_response_id',
        'previous_response_not_found',
      );
    }
    conversation.messages.push(...structuredClone(carried.messages));
  }
  if (!present(body.input)) fail('input', 'missing required parameter');
  if (typeof body.input === 'string') conversation.user([{ type: 'text', text: body.input }]);
  else list(body.input, 'input').forEach((item, i) => conversation.item(item, `input[${i}]`));
  const inputSystem = conversation.system;
  const include = present(body.include) ? list(body.include, 'include') : [];
  if (conversation.messages.length === 0) fail('input', 'must contain a user message (only system/developer messages were sent)');

  const system = [...(instructions ? [instructions] : []), ...(carried?.system ?? []), ...inputSystem];
  const request: ChatRequest = {
    api: 'responses',
    model,
    system,
    messages: conversation.messages,
    tools: definedTools,
    toolChoice: choice,
    maxTokens: maxOutputTokens,
    temperature,
    stopSequences: [],
    stream,
    sessionKey: firstString(body, ['prompt_cache_key', 'safety_identifier', 'user']),
  };
  if (thinking) request.thinking = thinking;
  const textFormat = isObject(body.text) ? body.text.format : undefined;
  const format = outputFormat(textFormat, 'text.format', false);
  if (format) request.responseFormat = format;

  const echo: ResponseEcho = {
    instructions: instructions ?? null,
    max_output_tokens: maxOutputTokens ?? null,
    metadata,
    parallel_tool_calls: parallel ?? true,
    previous_response_id: previousId ?? null,
    reasoning: { effort: typeof effort === 'string' ? effort : null, summary },
    store,
    temperature: temperature ?? 1,
    text: { format: format && isObject(textFormat) ? textFormat : { type: 'text' } },
    tool_choice: present(body.tool_choice) ? body.tool_choice : 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_p: topP ?? 1,
    truncation: truncation === 'auto' ? 'auto' : 'disabled',
    user: typeof body.user === 'string' ? body.user : null,
  };
  return {
    request,
    notes,
    echo,
    inputSystem,
    customTools,
    namespacedTools,
    thinkingOff: thinking === undefined,
    encryptedReasoning: include.includes('reasoning.encrypted_content'),
  };
}
