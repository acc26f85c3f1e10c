// OpenAI Chat Completions request → ChatRequest. Everything the API accepts either maps onto
// something Kiro can do or is refused with an OpenAI `invalid_request_error` naming the field
// (`param`) and saying why: `n > 1`, logprobs, audio, remote image URLs, the legacy `functions`
// API. `response_format` JSON modes are emulated (bridge/pipeline/structured-output). Sampling
// knobs Kiro has no use for (seed, penalties, top_p, logit_bias…) are accepted and ignored, as are
// unknown fields; what changes the request is listed in `notes`.
//
// Messages: `system` and `developer` messages become the system prompt (in order); `tool`
// messages become tool results in a user turn (kiro/request/convert pairs them with the calls they
// answer, merges turns and repairs what Kiro would reject, listing each repair).
import type { ChatMessage, ChatRequest, ContentBlock, ImageBlock, TextBlock, ThinkingBlock, ToolDefinition } from '../../kiro/types';
import {
  bodyAndModel,
  bool,
  checkUniqueNames,
  fail,
  firstString,
  functionTool,
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
  toolChoice,
  typeName,
  toolArguments,
  unsupported,
  type Json,
} from './openai-common';

export interface ParsedChatCompletionRequest {
  request: ChatRequest;
  /** What was accepted but dropped or changed on the way (shown in the traffic record). */
  notes: string[];
  /** `stream_options.include_usage`. */
  includeUsage: boolean;
  /** `reasoning_effort: "none"`: thinking off, even for a `-thinking` model name. */
  thinkingOff: boolean;
}

function textParts(content: unknown, path: string, allowed: 'text' | 'assistant' | 'tool'): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) fail(path, `expected a string or an array of content parts, got ${typeName(content)}`);
  return content.map((part, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(part)) fail(at, `expected an object, got ${typeName(part)}`);
    if (part.type === 'text') return str(part, 'text', at, true);
    // A refusal the model gave earlier is still what it said.
    if (part.type === 'refusal' && allowed === 'assistant') return str(part, 'refusal', at, true);
    fail(`${at}.type`, `expected "text"${allowed === 'assistant' ? ' or "refusal"' : ''}, got ${JSON.stringify(part.type)}`);
  });
}

function userContent(content: unknown, path: string, allowImages: boolean): (TextBlock | ImageBlock)[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) fail(path, `expected a string or an array of content parts, got ${typeName(content)}`);
  return content.map((part, i): TextBlock | ImageBlock => {
    const at = `${path}[${i}]`;
    if (!isObject(part)) fail(at, `expected an object, got ${typeName(part)}`);
    switch (part.type) {
      case 'text':
        return { type: 'text', text: str(part, 'text', at, true) };
      case 'image_url': {
        if (!allowImages) fail(`${at}.type`, 'images are not allowed here');
        const image = part.image_url;
        // Some clients send the URL as a bare string.
        if (typeof image === 'string') return imageFromUrl(image, `${at}.image_url`);
        if (!isObject(image)) fail(`${at}.image_url`, `expected an object with a url, got ${typeName(image)}`);
        return imageFromUrl(str(image, 'url', `${at}.image_url`, true), `${at}.image_url.url`);
      }
      case 'input_audio':
        unsupported(`${at}.type`, 'audio input is not supported by Kiro (it takes text and images only)');
        break;
      case 'file':
        unsupported(`${at}.type`, 'file inputs are not supported by Kiro (it takes text and images only); extract the text and send it as a text part');
        break;
      default:
        fail(`${at}.type`, `expected "text" or "image_url", got ${JSON.stringify(part.type)}`);
    }
  });
}

/**
 * OpenRouter-style `reasoning_details`: what the bridge sends with Kiro's native reasoning
 * (`reasoning.text` with Kiro's signature), and what Cline and Roo Code keep from an earlier
 * provider. Signed entries go back to Kiro as they are; the readable rest is one text; encrypted
 * entries only their provider can read (dropped with a note).
 */
function reasoningDetails(details: unknown, path: string, notes: string[]): { signed: ThinkingBlock[]; text?: string } {
  const signed: ThinkingBlock[] = [];
  if (!Array.isArray(details)) return { signed };
  const texts: string[] = [];
  let encrypted = 0;
  for (const detail of details) {
    if (!isObject(detail)) continue;
    const signature = typeof detail.signature === 'string' && detail.signature ? detail.signature : undefined;
    if (detail.type === 'reasoning.text' && signature)
      signed.push({ type: 'thinking', thinking: typeof detail.text === 'string' ? detail.text : '', signature });
    else if (typeof detail.text === 'string' && detail.text) texts.push(detail.text);
    else if (typeof detail.summary === 'string' && detail.summary) texts.push(detail.summary);
    else if (present(detail.data)) encrypted++;
  }
  if (encrypted > 0)
    notes.push(
      `${path}.reasoning_details: ${encrypted} encrypted entr${encrypted === 1 ? 'y was' : 'ies were'} dropped (only the provider that wrote them can read them)`,
    );
  return texts.length > 0 ? { signed, text: texts.join('\n\n') } : { signed };
}

function assistantMessage(message: Json, path: string, notes: string[]): ChatMessage {
  const content: ContentBlock[] = [];
  // Reasoning a client sends back: Kiro's signed reasoning in OpenRouter-style
  // `reasoning_details` (as the bridge sent it) goes back to Kiro unchanged; otherwise
  // DeepSeek-style `reasoning_content`, `reasoning`, or the readable `reasoning_details`.
  const details = reasoningDetails(message.reasoning_details, path, notes);
  const reasoning = details.signed.length > 0 ? details.text : (firstString(message, ['reasoning_content', 'reasoning']) ?? details.text);
  content.push(...details.signed);
  if (reasoning) content.push({ type: 'thinking', thinking: reasoning });
  if (present(message.content)) {
    for (const text of textParts(message.content, `${path}.content`, 'assistant')) if (text) content.push({ type: 'text', text });
  }
  if (present(message.refusal)) {
    const refusal = str(message, 'refusal', path, false);
    if (refusal) content.push({ type: 'text', text: refusal });
  }
  if (present(message.function_call)) {
    unsupported(`${path}.function_call`, 'the legacy function_call field is not supported; send tool_calls (and tools / tool_choice) instead');
  }
  if (present(message.tool_calls)) {
    list(message.tool_calls, `${path}.tool_calls`).forEach((call, i) => {
      const at = `${path}.tool_calls[${i}]`;
      if (!isObject(call)) fail(at, `expected an object, got ${typeName(call)}`);
      if (call.type !== undefined && call.type !== 'function')
        unsupported(`${at}.type`, `only function tool calls are supported, got ${JSON.stringify(call.type)}`);
      const id = str(call, 'id', at, true);
      const fn = call.function;
      if (!isObject(fn)) fail(`${at}.function`, `expected an object, got ${typeName(fn)}`);
      const name = str(fn, 'name', `${at}.function`, true);
      const args = str(fn, 'arguments', `${at}.function`, false) ?? '';
      content.push({ type: 'tool_use', id, name, input: toolArguments(args, `${at}.function.arguments`, notes) });
    });
  }
  return { role: 'assistant', content };
}

function toolMessage(message: Json, path: string): ChatMessage {
  const toolUseId = str(message, 'tool_call_id', path, true);
  const content = present(message.content) ? userContent(message.content, `${path}.content`, true).filter((b) => b.type !== 'text' || b.text !== '') : [];
  return { role: 'user', content: [{ type: 'tool_result', toolUseId, content, isError: false }] };
}

function conversation(value: unknown, notes: string[]): { system: string[]; messages: ChatMessage[] } {
  if (!present(value)) fail('messages', 'missing required parameter');
  const items = list(value, 'messages');
  if (items.length === 0) fail('messages', 'must contain at least one message');
  const system: string[] = [];
  const messages: ChatMessage[] = [];
  items.forEach((message, i) => {
    const path = `messages[${i}]`;
    if (!isObject(message)) fail(path, `expected an object, got ${typeName(message)}`);
    const role = message.role;
    const name = present(message.name) ? str(message, 'name', path, false) : undefined;
    switch (role) {
      case 'system':
      case 'developer': {
        const text = textParts(message.content, `${path}.content`, 'text').join('\n');
        if (messages.length > 0) notes.push(`${path}: a ${role} message after the conversation began was moved into the system prompt`);
        if (text) system.push(text);
        return;
      }
      case 'user': {
        if (!present(message.content)) fail(`${path}.content`, 'missing required parameter');
        const content: ContentBlock[] = userContent(message.content, `${path}.content`, true);
        if (name) {
          // `name` tells the model who is speaking; Kiro has no field for it, so it goes in the text.
          const first = content.find((b): b is TextBlock => b.type === 'text');
          if (first) first.text = `${name}: ${first.text}`;
          else content.unshift({ type: 'text', text: `${name}:` });
          notes.push(`${path}: the participant name "${name}" was put before the message text`);
        }
        // Text after the tool results of the same turn belongs to that turn (as in Anthropic's API).
        const last = messages[messages.length - 1];
        if (isToolResultTurn(last)) last!.content.push(...content);
        else messages.push({ role: 'user', content });
        return;
      }
      case 'assistant':
        messages.push(assistantMessage(message, path, notes));
        return;
      case 'tool': {
        // One `tool` message per call answered: together they are one user turn.
        const result = toolMessage(message, path);
        const last = messages[messages.length - 1];
        if (isToolResultTurn(last)) last!.content.push(...result.content);
        else messages.push(result);
        return;
      }
      case 'function':
        unsupported(`${path}.role`, 'the legacy "function" role is not supported; answer tool_calls with "tool" messages');
        break;
      default:
        fail(`${path}.role`, `expected "system", "developer", "user", "assistant" or "tool", got ${JSON.stringify(role)}`);
    }
  });
  if (messages.length === 0) fail('messages', 'must contain a user message (only system/developer messages were sent)');
  return { system, messages };
}

function tools(value: unknown): ToolDefinition[] {
  if (!present(value)) return [];
  const out = list(value, 'tools').map((tool, i) => {
    const path = `tools[${i}]`;
    if (!isObject(tool)) fail(path, `expected an object, got ${typeName(tool)}`);
    if (tool.type !== 'function') unsupported(`${path}.type`, `only function tools are supported by Kiro, got ${JSON.stringify(tool.type)}`);
    if (!isObject(tool.function)) fail(`${path}.function`, `expected an object, got ${typeName(tool.function)}`);
    return functionTool(tool.function, `${path}.function`);
  });
  checkUniqueNames(out, (i) => `tools[${i}].function.name`);
  return out;
}

function stopSequences(value: unknown): string[] {
  if (!present(value)) return [];
  if (typeof value === 'string') return value ? [value] : [];
  // OpenAI allows four; the bridge emulates stop sequences itself and takes any number (clients
  // written for other OpenAI-compatible servers send more).
  return list(value, 'stop')
    .map((s, i) => {
      if (typeof s !== 'string') fail(`stop[${i}]`, `expected a string, got ${typeName(s)}`);
      return s;
    })
    .filter((s) => s.length > 0);
}

/** Fields whose only values Kiro can honour are the defaults; anything else is a clear 400. */
function refuseWhatKiroCannotDo(body: Json): void {
  const n = num(body, 'n', { integer: true, min: 1, max: 128 });
  if (n !== undefined && n > 1) unsupported('n', 'Kiro returns one choice per request; send n = 1 (or leave it out) and make several requests');
  if (bool(body, 'logprobs') === true) unsupported('logprobs', 'Kiro does not return log probabilities');
  const topLogprobs = num(body, 'top_logprobs', { integer: true, min: 0, max: 20 });
  if (topLogprobs !== undefined && topLogprobs > 0) unsupported('top_logprobs', 'Kiro does not return log probabilities');
  if (present(body.functions)) unsupported('functions', 'the legacy functions API is not supported; send tools instead');
  if (present(body.function_call)) unsupported('function_call', 'the legacy function_call field is not supported; send tool_choice instead');
  if (present(body.audio)) unsupported('audio', 'audio output is not supported by Kiro');
  if (present(body.modalities)) {
    const modalities = list(body.modalities, 'modalities');
    if (modalities.some((m) => m !== 'text')) unsupported('modalities', 'Kiro answers with text only; send ["text"]');
  }
  if (present(body.web_search_options)) unsupported('web_search_options', 'web search is not available through Kiro chat completions');
}

export interface ChatParseOptions {
  /** Budget for a `-thinking` model or a request that turns thinking on without an effort. */
  defaultThinkingBudget: number;
}

/** Validates and maps a `POST /v1/chat/completions` body. */
export function parseChatCompletionRequest(input: unknown, _options: ChatParseOptions): ParsedChatCompletionRequest {
  const { body, model } = bodyAndModel(input);
  const notes: string[] = [];
  refuseWhatKiroCannotDo(body);

  const maxCompletionTokens = num(body, 'max_completion_tokens', { integer: true, min: 1 });
  const maxTokens = num(body, 'max_tokens', { integer: true, min: 1 });
  const temperature = num(body, 'temperature', { min: 0, max: 2 });
  num(body, 'top_p', { min: 0, max: 1 });
  const stream = bool(body, 'stream') === true;
  let includeUsage = false;
  if (present(body.stream_options)) {
    if (!isObject(body.stream_options)) fail('stream_options', `expected an object, got ${typeName(body.stream_options)}`);
    includeUsage = bool(body.stream_options, 'include_usage') === true;
  }
  parallelToolCalls(body, notes);

  const definedTools = tools(body.tools);
  const choice = toolChoice(body.tool_choice, definedTools, (c) => (isObject(c.function) && typeof c.function.name === 'string' ? c.function.name : undefined));
  const thinking = thinkingFromEffort(body.reasoning_effort, 'reasoning_effort');
  const { system, messages } = conversation(body.messages, notes);

  const request: ChatRequest = {
    api: 'openai',
    model,
    system,
    messages,
    tools: definedTools,
    toolChoice: choice,
    maxTokens: maxCompletionTokens ?? maxTokens,
    temperature,
    stopSequences: stopSequences(body.stop),
    stream,
    sessionKey: firstString(body, ['prompt_cache_key', 'user', 'safety_identifier']),
  };
  if (thinking) request.thinking = thinking;
  const format = outputFormat(body.response_format, 'response_format', true);
  if (format) request.responseFormat = format;
  return { request, notes, includeUsage, thinkingOff: thinking === undefined };
}
