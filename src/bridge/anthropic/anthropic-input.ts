// Anthropic Messages request → ChatRequest. Everything the Anthropic API accepts either maps onto
// something Kiro can do or is refused with an `invalid_request_error` that names the field and
// says why (a URL image, a PDF document, a server-side tool result…); `output_config.format` JSON
// output is emulated by the bridge. Fields that change nothing upstream (cache_control, top_k,
// service_tier, …) are accepted and ignored, as are unknown ones.
//
// Thinking blocks keep Kiro's signature so the reasoning goes back to Kiro as it gave it; the
// bridge's own stand-in signature (on reasoning split from `<thinking>` text) is dropped, so that
// reasoning goes back as text. `metadata.user_id` names Claude Code's session: its session part
// keys the Kiro conversation id (kiro/request/ids.ts), so Kiro's prompt cache can hit.
import { isStandInSignature } from './anthropic-output';
import type {
  ChatMessage,
  ChatRequest,
  ContentBlock,
  ImageBlock,
  ImageMediaType,
  ResponseFormat,
  TextBlock,
  ToolChoice,
  ToolDefinition,
} from '../../kiro/types';

export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
}

export interface ParsedAnthropicRequest {
  request: ChatRequest;
  /** What was accepted but dropped or changed on the way (shown in the traffic record). */
  notes: string[];
}

export interface ParseOptions {
  /** Thinking budget when the client turns thinking on without one (`adaptive`). */
  defaultThinkingBudget: number;
}

const IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** Anthropic's server-side tools: Kiro cannot run them, so they are dropped from `tools`. */
const SERVER_TOOL_TYPE = /^(web_search|web_fetch|code_execution|mcp_toolset|tool_search)/;
/** Anthropic-defined client tools (bash, text_editor, computer, memory): no input_schema is sent. */
const CLIENT_TOOL_TYPE = /^(bash|text_editor|str_replace_editor|str_replace_based_edit_tool|computer|memory)_\d+/;
/** Block types of server tools that Kiro has no way to carry; dropped with a note. */
const DROPPED_BLOCKS = new Set([
  'server_tool_use',
  'web_search_tool_result',
  'web_fetch_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
  'mcp_tool_use',
  'mcp_tool_result',
  'container_upload',
  'tool_search_tool_result',
]);

type Json = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new InvalidRequestError(`${path}: ${message}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function str(obj: Json, key: string, path: string, required: true): string;
function str(obj: Json, key: string, path: string, required: false): string | undefined;
function str(obj: Json, key: string, path: string, required: boolean): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) {
    if (required) fail(`${path}.${key}`, 'Field required');
    return undefined;
  }
  if (typeof value !== 'string') fail(`${path}.${key}`, `Input should be a valid string (got ${typeName(value)})`);
  return value;
}

function num(obj: Json, key: string, path: string, options: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(`${path}${key}`, `Input should be a valid number (got ${typeName(value)})`);
  if (options.integer && !Number.isInteger(value)) fail(`${path}${key}`, 'Input should be a valid integer');
  if (options.min !== undefined && value < options.min) fail(`${path}${key}`, `Input should be greater than or equal to ${options.min}`);
  if (options.max !== undefined && value > options.max) fail(`${path}${key}`, `Input should be less than or equal to ${options.max}`);
  return value;
}

function image(block: Json, path: string): ImageBlock {
  const source = block.source;
  if (!isObject(source)) fail(`${path}.source`, 'Field required');
  const kind = source.type;
  if (kind === 'url') {
    fail(`${path}.source.type`, 'URL images are not supported by Kiro (it does not fetch URLs); send the image as base64 ("type": "base64")');
  }
  if (kind === 'file') fail(`${path}.source.type`, 'Files API images are not supported by Kiro; send the image as base64');
  if (kind !== 'base64') fail(`${path}.source.type`, `Input should be 'base64' (got ${JSON.stringify(kind)})`);
  const mediaType = str(source, 'media_type', `${path}.source`, true);
  if (!IMAGE_TYPES.has(mediaType)) {
    fail(`${path}.source.media_type`, `Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp' (got ${JSON.stringify(mediaType)})`);
  }
  let data = str(source, 'data', `${path}.source`, true);
  // Some clients send a data URL where bare base64 belongs; the prefix is unambiguous.
  const comma = data.startsWith('data:') ? data.indexOf(',') : -1;
  if (comma !== -1) data = data.slice(comma + 1);
  if (!data) fail(`${path}.source.data`, 'image data is empty');
  return { type: 'image', mediaType: mediaType as ImageMediaType, data };
}

/** A `document` block: plain-text sources become text; PDFs and files cannot go to Kiro. */
function documentText(block: Json, path: string): TextBlock {
  const source = block.source;
  if (!isObject(source)) fail(`${path}.source`, 'Field required');
  if (source.type === 'text') {
    const data = str(source, 'data', `${path}.source`, true);
    const title = typeof block.title === 'string' && block.title ? `${block.title}\n\n` : '';
    return { type: 'text', text: `${title}${data}` };
  }
  if (source.type === 'content' && Array.isArray(source.content)) {
    const parts = source.content.map((part, i) => {
      if (!isObject(part) || part.type !== 'text') fail(`${path}.source.content.${i}`, 'only text parts are supported in a content document');
      return str(part, 'text', `${path}.source.content.${i}`, true);
    });
    return { type: 'text', text: parts.join('\n') };
  }
  fail(
    `${path}.source.type`,
    `${JSON.stringify(source.type)} documents are not supported by Kiro (it takes text and images only); extract the text and send it as a text block`,
  );
}

function toolResultContent(value: unknown, path: string): (TextBlock | ImageBlock)[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value ? [{ type: 'text', text: value }] : [];
  if (!Array.isArray(value)) fail(path, `Input should be a string or a list of content blocks (got ${typeName(value)})`);
  const out: (TextBlock | ImageBlock)[] = [];
  value.forEach((part, i) => {
    const at = `${path}.${i}`;
    if (!isObject(part)) fail(at, `Input should be an object (got ${typeName(part)})`);
    switch (part.type) {
      case 'text':
        out.push({ type: 'text', text: str(part, 'text', at, true) });
        break;
      case 'image':
        out.push(image(part, at));
        break;
      case 'document':
        out.push(documentText(part, at));
        break;
      case 'search_result': {
        const texts = Array.isArray(part.content) ? part.content.filter(isObject).map((c) => (typeof c.text === 'string' ? c.text : '')) : [];
        out.push({ type: 'text', text: [part.title, part.source, ...texts].filter((s) => typeof s === 'string' && s).join('\n') });
        break;
      }
      default:
        fail(`${at}.type`, `tool_result content blocks must be 'text', 'image' or 'document' (got ${JSON.stringify(part.type)})`);
    }
  });
  return out;
}

function contentBlock(block: unknown, path: string, role: 'user' | 'assistant', notes: string[]): ContentBlock | undefined {
  if (!isObject(block)) fail(path, `Input should be an object (got ${typeName(block)})`);
  const kind = block.type;
  switch (kind) {
    case 'text':
      return { type: 'text', text: str(block, 'text', path, true) };
    case 'image':
      return image(block, path);
    case 'document':
      return documentText(block, path);
    case 'tool_use': {
      if (role !== 'assistant') fail(`${path}.type`, 'tool_use blocks may only appear in assistant messages');
      const id = str(block, 'id', path, true);
      const name = str(block, 'name', path, true);
      const input = block.input === undefined ? {} : block.input;
      if (!isObject(input)) fail(`${path}.input`, `Input should be an object (got ${typeName(input)})`);
      return { type: 'tool_use', id, name, input };
    }
    case 'tool_result': {
      if (role !== 'user') fail(`${path}.type`, 'tool_result blocks may only appear in user messages');
      const toolUseId = str(block, 'tool_use_id', path, true);
      const isError = block.is_error;
      if (isError !== undefined && isError !== null && typeof isError !== 'boolean') fail(`${path}.is_error`, 'Input should be a valid boolean');
      return { type: 'tool_result', toolUseId, content: toolResultContent(block.content, `${path}.content`), isError: isError === true };
    }
    case 'thinking': {
      const thinking = str(block, 'thinking', path, true);
      const signature = str(block, 'signature', path, false);
      return signature && !isStandInSignature(signature) ? { type: 'thinking', thinking, signature } : { type: 'thinking', thinking };
    }
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: str(block, 'data', path, true) };
    default:
      if (typeof kind === 'string' && DROPPED_BLOCKS.has(kind)) {
        notes.push(`dropped a ${kind} block (${path}): Kiro cannot carry it`);
        return undefined;
      }
      fail(`${path}.type`, `unsupported content block type ${JSON.stringify(kind)}`);
  }
}

/**
 * The conversation. A `system` message among them (Claude Code sends one per turn, with the
 * environment, to models it believes take per-turn system messages) joins the system prompt,
 * with a note: Kiro has a single system prompt, sent ahead of the conversation.
 */
function messages(value: unknown, notes: string[], systemText: string[]): ChatMessage[] {
  if (value === undefined) fail('messages', 'Field required');
  if (!Array.isArray(value)) fail('messages', `Input should be a valid list (got ${typeName(value)})`);
  if (value.length === 0) fail('messages', 'at least one message is required');
  const out: ChatMessage[] = [];
  value.forEach((message, i) => {
    const path = `messages.${i}`;
    if (!isObject(message)) fail(path, `Input should be an object (got ${typeName(message)})`);
    const role = message.role;
    if (role === 'system') {
      systemText.push(...system(message.content, `${path}.content`));
      notes.push(`${path}: a system message was moved into the system prompt (Kiro takes one system prompt, ahead of the conversation)`);
      return;
    }
    if (role !== 'user' && role !== 'assistant') fail(`${path}.role`, `Input should be 'user', 'assistant' or 'system' (got ${JSON.stringify(role)})`);
    const content = message.content;
    if (typeof content === 'string') {
      out.push({ role, content: [{ type: 'text', text: content }] });
      return;
    }
    if (!Array.isArray(content)) fail(`${path}.content`, `Input should be a string or a list of content blocks (got ${typeName(content)})`);
    const blocks: ContentBlock[] = [];
    content.forEach((block, j) => {
      const mapped = contentBlock(block, `${path}.content.${j}`, role, notes);
      if (mapped) blocks.push(mapped);
    });
    out.push({ role, content: blocks });
  });
  if (out.length === 0) fail('messages', 'at least one user or assistant message is required; put system prompts in the top-level "system" field');
  return out;
}

function system(value: unknown, path = 'system'): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value ? [value] : [];
  if (!Array.isArray(value)) fail(path, `Input should be a string or a list of text blocks (got ${typeName(value)})`);
  return value
    .map((block, i) => {
      if (!isObject(block) || block.type !== 'text') fail(`${path}.${i}`, 'system blocks must be text blocks ({"type": "text", "text": …})');
      return str(block, 'text', `${path}.${i}`, true);
    })
    .filter((text) => text.length > 0);
}

function tools(value: unknown, notes: string[]): ToolDefinition[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail('tools', `Input should be a valid list (got ${typeName(value)})`);
  const out: ToolDefinition[] = [];
  const seen = new Set<string>();
  value.forEach((tool, i) => {
    const path = `tools.${i}`;
    if (!isObject(tool)) fail(path, `Input should be an object (got ${typeName(tool)})`);
    const type = typeof tool.type === 'string' ? tool.type : 'custom';
    const name = str(tool, 'name', path, true);
    if (type !== 'custom' && SERVER_TOOL_TYPE.test(type)) {
      notes.push(`dropped server tool "${name}" (${type}): Kiro cannot run Anthropic's server tools`);
      return;
    }
    if (type !== 'custom' && CLIENT_TOOL_TYPE.test(type) && tool.input_schema === undefined) {
      fail(
        `${path}.type`,
        `Anthropic-defined tool ${JSON.stringify(type)} has no schema Kiro could use; define "${name}" as a custom tool with an input_schema`,
      );
    }
    const schema = tool.input_schema;
    if (!isObject(schema)) fail(`${path}.input_schema`, schema === undefined ? 'Field required' : `Input should be an object (got ${typeName(schema)})`);
    if (schema.type !== undefined && schema.type !== 'object')
      fail(`${path}.input_schema.type`, `Input should be 'object' (got ${JSON.stringify(schema.type)})`);
    if (!name) fail(`${path}.name`, 'String should have at least 1 character');
    if (seen.has(name)) fail(`${path}.name`, `tool names must be unique ("${name}" appears twice)`);
    seen.add(name);
    out.push({ name, description: str(tool, 'description', path, false) ?? '', inputSchema: schema });
  });
  return out;
}

function toolChoice(value: unknown, defined: ToolDefinition[], notes: string[]): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) fail('tool_choice', `Input should be an object (got ${typeName(value)})`);
  if (value.disable_parallel_tool_use === true && value.type !== 'none') {
    notes.push('tool_choice.disable_parallel_tool_use: true cannot be enforced by Kiro; the model may still call several tools at once');
  }
  switch (value.type) {
    case 'auto':
    case 'any':
    case 'none':
      return { type: value.type };
    case 'tool': {
      const name = str(value, 'name', 'tool_choice', true);
      if (!defined.some((t) => t.name === name)) fail('tool_choice.name', `no tool named "${name}" is defined in tools`);
      return { type: 'tool', name };
    }
    default:
      fail('tool_choice.type', `Input should be 'auto', 'any', 'tool' or 'none' (got ${JSON.stringify(value.type)})`);
  }
}

function thinking(value: unknown, maxTokens: number | undefined, options: ParseOptions): ChatRequest['thinking'] {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) fail('thinking', `Input should be an object (got ${typeName(value)})`);
  switch (value.type) {
    case 'disabled':
      return undefined;
    case 'adaptive':
      return { budgetTokens: options.defaultThinkingBudget };
    case 'enabled': {
      const budget = num(value, 'budget_tokens', 'thinking.', { integer: true, min: 1024 });
      if (budget === undefined) fail('thinking.budget_tokens', 'Field required');
      if (maxTokens !== undefined && budget >= maxTokens) fail('thinking.budget_tokens', '`max_tokens` must be greater than `thinking.budget_tokens`');
      return { budgetTokens: budget };
    }
    default:
      fail('thinking.type', `Input should be 'enabled', 'disabled' or 'adaptive' (got ${JSON.stringify(value.type)})`);
  }
}

function stopSequences(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail('stop_sequences', `Input should be a valid list (got ${typeName(value)})`);
  return value
    .map((s, i) => {
      if (typeof s !== 'string') fail(`stop_sequences.${i}`, 'Input should be a valid string');
      return s;
    })
    .filter((s) => s.length > 0);
}

/**
 * The session a `metadata.user_id` names. Claude Code sends `user_<hash>_account_<uuid>_session_<uuid>`
 * (the account part may be empty), newer versions a JSON object with `session_id`; only the
 * session part is the conversation, so only it keys the conversation id. Anything else is used
 * whole.
 */
export function sessionOfUserId(userId: string): string {
  const trimmed = userId.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      const session = isObject(parsed) ? parsed.session_id : undefined;
      if (typeof session === 'string' && session) return session;
    } catch {
      // not JSON after all: the string itself is the key
    }
    return trimmed;
  }
  const match = /_session_([^_\s]+)$/.exec(trimmed);
  return match ? match[1]! : trimmed;
}

/**
 * `output_config.format` (or `output_format`, its deprecated beta name): a JSON Schema the answer
 * must match. Kiro cannot constrain its output; the bridge emulates it (bridge/pipeline/structured-output).
 */
function outputFormat(body: Json): ResponseFormat | undefined {
  let format: unknown;
  let path = 'output_config.format';
  const config = body.output_config;
  if (config !== undefined && config !== null) {
    if (!isObject(config)) fail('output_config', `Input should be an object (got ${typeName(config)})`);
    format = config.format ?? undefined;
  }
  if (body.output_format !== undefined && body.output_format !== null) {
    if (format !== undefined) fail('output_format', 'send either output_config.format or output_format (its deprecated beta name), not both');
    format = body.output_format;
    path = 'output_format';
  }
  if (format === undefined) return undefined;
  if (!isObject(format)) fail(path, `Input should be an object (got ${typeName(format)})`);
  if (format.type !== 'json_schema') fail(`${path}.type`, `Input should be 'json_schema' (got ${JSON.stringify(format.type)})`);
  const schema = format.schema;
  if (!isObject(schema)) fail(`${path}.schema`, schema === undefined ? 'Field required' : `Input should be an object (got ${typeName(schema)})`);
  return { schema, param: `${path}.schema` };
}

function sessionKey(metadata: unknown): string | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  if (!isObject(metadata)) fail('metadata', `Input should be an object (got ${typeName(metadata)})`);
  const userId = metadata.user_id;
  if (userId === undefined || userId === null) return undefined;
  if (typeof userId !== 'string') fail('metadata.user_id', 'Input should be a valid string');
  return userId.trim() ? sessionOfUserId(userId) : undefined;
}

/** Validates and maps a `POST /v1/messages` body. */
export function parseAnthropicRequest(body: unknown, options: ParseOptions): ParsedAnthropicRequest {
  return parse(body, options, false);
}

/** Validates and maps a `POST /v1/messages/count_tokens` body (no max_tokens or stream). */
export function parseCountTokensRequest(body: unknown, options: ParseOptions): ParsedAnthropicRequest {
  return parse(body, options, true);
}

function parse(body: unknown, options: ParseOptions, countOnly: boolean): ParsedAnthropicRequest {
  if (!isObject(body)) fail('body', `the request body must be a JSON object (got ${typeName(body)})`);
  const notes: string[] = [];
  const model = str(body, 'model', 'body', true).trim();
  if (!model) fail('model', 'String should have at least 1 character');
  const maxTokens = countOnly ? undefined : num(body, 'max_tokens', '', { integer: true, min: 1 });
  const temperature = num(body, 'temperature', '', { min: 0, max: 1 });
  num(body, 'top_p', '', { min: 0, max: 1 });
  num(body, 'top_k', '', { integer: true, min: 0 });
  const stream = countOnly ? false : body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') fail('stream', 'Input should be a valid boolean');
  const definedTools = tools(body.tools, notes);
  const inConversationSystem: string[] = [];
  const conversation = messages(body.messages, notes, inConversationSystem);
  const request: ChatRequest = {
    api: 'anthropic',
    model,
    system: [...system(body.system), ...inConversationSystem],
    messages: conversation,
    tools: definedTools,
    toolChoice: toolChoice(body.tool_choice, definedTools, notes),
    maxTokens,
    temperature,
    stopSequences: stopSequences(body.stop_sequences),
    thinking: thinking(body.thinking, maxTokens, options),
    stream: stream === true,
    sessionKey: sessionKey(body.metadata),
  };
  if (request.toolChoice?.type === 'any' && request.tools.length === 0) fail('tool_choice', '"any" needs at least one tool in tools');
  const format = outputFormat(body);
  if (format) request.responseFormat = format;
  return { request, notes };
}
