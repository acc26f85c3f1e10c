// Validation pieces both OpenAI request parsers share (Chat Completions and Responses): typed field
// readers that name the offending field in OpenAI's `param` form (`messages[2].content`), data-URL
// images, function tool definitions, tool_choice, reasoning effort → thinking budget, and the
// JSON output formats (`response_format`, `text.format`).
import type { ChatMessage, ChatRequest, ImageBlock, ImageMediaType, ResponseFormat, ToolChoice, ToolDefinition } from '../../kiro/types';
import { OpenAIRequestError } from './openai-errors';

export type Json = Record<string, unknown>;

export function fail(param: string, message: string, code: string | null = null): never {
  throw new OpenAIRequestError(`${param}: ${message}`, param, code);
}

/** For what the bridge understands but Kiro cannot do: a 400 that says so. */
export function unsupported(param: string, message: string): never {
  throw new OpenAIRequestError(`${param}: ${message}`, param, 'unsupported_parameter');
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

export function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

export function str(obj: Json, key: string, path: string, required: true): string;
export function str(obj: Json, key: string, path: string, required: false): string | undefined;
export function str(obj: Json, key: string, path: string, required: boolean): string | undefined {
  const value = obj[key];
  const param = path ? `${path}.${key}` : key;
  if (!present(value)) {
    if (required) fail(param, 'missing required parameter');
    return undefined;
  }
  if (typeof value !== 'string') fail(param, `expected a string, got ${typeName(value)}`);
  return value;
}

export function num(obj: Json, key: string, options: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const value = obj[key];
  if (!present(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(key, `expected a number, got ${typeName(value)}`);
  if (options.integer && !Number.isInteger(value)) fail(key, 'expected an integer');
  if (options.min !== undefined && value < options.min) fail(key, `must be at least ${options.min}`);
  if (options.max !== undefined && value > options.max) fail(key, `must be at most ${options.max}`);
  return value;
}

export function bool(obj: Json, key: string): boolean | undefined {
  const value = obj[key];
  if (!present(value)) return undefined;
  if (typeof value !== 'boolean') fail(key, `expected a boolean, got ${typeName(value)}`);
  return value;
}

export function list(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) fail(param, `expected an array, got ${typeName(value)}`);
  return value;
}

// ---- images ---------------------------------------------------------------------------------

const IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),/;

/**
 * An image given as a URL. Kiro takes image bytes only and does not fetch URLs, so only data URLs
 * (`data:image/png;base64,…`) are accepted; anything else is a 400 that says how to send it.
 */
export function imageFromUrl(url: string, param: string): ImageBlock {
  const match = DATA_URL.exec(url);
  if (!match) {
    fail(
      param,
      `remote image URLs are not supported: Kiro does not fetch URLs. Send the image inline as a base64 data URL ("data:image/png;base64,…")`,
      'invalid_image_url',
    );
  }
  let mediaType = match[1]!.toLowerCase();
  if (mediaType === 'image/jpg') mediaType = 'image/jpeg';
  if (!IMAGE_TYPES.has(mediaType)) {
    fail(param, `unsupported image type ${JSON.stringify(match[1])}: Kiro takes image/png, image/jpeg, image/gif and image/webp`, 'invalid_image_format');
  }
  if (!match[2]!.split(';').includes('base64')) fail(param, 'the data URL must be base64-encoded (";base64,")', 'invalid_image_url');
  const data = url.slice(match[0].length).replace(/\s+/g, '');
  if (!data) fail(param, 'the image data is empty', 'invalid_image_url');
  return { type: 'image', mediaType: mediaType as ImageMediaType, data };
}

// ---- tools ----------------------------------------------------------------------------------

/**
 * A call's `arguments` text as Kiro's tool input (an object). Empty is `{}`; text that is not a
 * JSON object is kept, wrapped, with a note: the bridge never emits such arguments, and the
 * model should still see what it sent.
 */
export function toolArguments(raw: string, path: string, notes: string[]): unknown {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    notes.push(`${path}: the arguments are not valid JSON; sent to Kiro as {"arguments": "<the text>"}`);
    return { arguments: raw };
  }
  if (isObject(parsed)) return parsed;
  notes.push(`${path}: the arguments are JSON but not an object; sent to Kiro as {"value": …}`);
  return { value: parsed };
}

/** A function tool: `{name, description?, parameters?, strict?}` (wherever the API nests it). */
export function functionTool(fn: Json, path: string): ToolDefinition {
  const name = str(fn, 'name', path, true);
  if (!name) fail(`${path}.name`, 'must not be empty');
  const parameters = fn.parameters;
  let inputSchema: Json;
  if (!present(parameters)) {
    // OpenAI allows a function with no parameters: it takes an empty object.
    inputSchema = { type: 'object', properties: {} };
  } else {
    if (!isObject(parameters)) fail(`${path}.parameters`, `expected an object (a JSON Schema), got ${typeName(parameters)}`);
    if (parameters.type !== undefined && parameters.type !== 'object') {
      fail(`${path}.parameters.type`, `function parameters must be an object schema ("type": "object"), got ${JSON.stringify(parameters.type)}`);
    }
    inputSchema = parameters;
  }
  // The schema is cleaned for Kiro by kiro/request/convert (strict-mode keywords, $refs, $defs…).
  return { name, description: str(fn, 'description', path, false) ?? '', inputSchema };
}

export function checkUniqueNames(tools: readonly ToolDefinition[], path: (i: number) => string): void {
  const seen = new Set<string>();
  tools.forEach((tool, i) => {
    if (seen.has(tool.name)) fail(path(i), `tool names must be unique ("${tool.name}" appears twice)`);
    seen.add(tool.name);
  });
}

/**
 * `tool_choice`: `auto` / `none` / `required` / a named function. `named` reads the name from a
 * `{type: "function", …}` object (Chat nests it under `function`, Responses does not).
 */
export function toolChoice(value: unknown, tools: readonly ToolDefinition[], named: (choice: Json) => string | undefined): ToolChoice | undefined {
  if (!present(value)) return undefined;
  if (typeof value === 'string') {
    switch (value) {
      case 'auto':
        return { type: 'auto' };
      case 'none':
        return { type: 'none' };
      case 'required':
        if (tools.length === 0) fail('tool_choice', '"required" needs at least one tool in tools');
        return { type: 'any' };
      default:
        fail('tool_choice', `expected "auto", "none", "required" or a function, got ${JSON.stringify(value)}`);
    }
  }
  if (!isObject(value)) fail('tool_choice', `expected a string or an object, got ${typeName(value)}`);
  if (value.type !== 'function') {
    unsupported(
      'tool_choice.type',
      `${JSON.stringify(value.type)} tool choices are not supported by Kiro; use "auto", "none", "required" or {"type": "function", …}`,
    );
  }
  const name = named(value);
  if (!name) fail('tool_choice', 'missing the function name');
  if (!tools.some((t) => t.name === name)) fail('tool_choice', `no function named "${name}" is defined in tools`);
  return { type: 'tool', name };
}

// ---- reasoning ------------------------------------------------------------------------------

/**
 * Reasoning effort → Kiro thinking budget. low/medium/high are the budgets other proxies use;
 * minimal is Anthropic's smallest budget; xhigh doubles high; none turns thinking off.
 */
export const REASONING_BUDGETS: Readonly<Record<string, number>> = {
  minimal: 1024,
  low: 4000,
  medium: 16_000,
  high: 32_000,
  xhigh: 64_000,
};

export function thinkingFromEffort(effort: unknown, param: string): ChatRequest['thinking'] | null {
  if (!present(effort)) return null;
  if (effort === 'none') return undefined;
  if (typeof effort !== 'string' || REASONING_BUDGETS[effort] === undefined) {
    fail(param, `expected "none", "minimal", "low", "medium", "high" or "xhigh", got ${JSON.stringify(effort)}`);
  }
  return { budgetTokens: REASONING_BUDGETS[effort]! };
}

/** The request body as an object, and its `model` (trimmed, not empty). */
export function bodyAndModel(body: unknown): { body: Json; model: string } {
  if (!isObject(body)) fail('body', `the request body must be a JSON object, got ${typeName(body)}`);
  const model = str(body, 'model', '', true).trim();
  if (!model) fail('model', 'must not be empty');
  return { body, model };
}

/** `parallel_tool_calls`; `false` is accepted with a note, since Kiro cannot enforce it. */
export function parallelToolCalls(body: Json, notes: string[]): boolean | undefined {
  const parallel = bool(body, 'parallel_tool_calls');
  if (parallel === false) notes.push('parallel_tool_calls: false cannot be enforced by Kiro; the model may still call several tools at once');
  return parallel;
}

/** The first string of the keys that is set (for session keys). */
export function firstString(obj: Json, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = obj[key];
    if (typeof value === 'string' && value) return value;
  }
  return undefined;
}

/** Only tool results: the user turn OpenAI spreads over one message or item per call answered. */
export function isToolResultTurn(message: ChatMessage | undefined): boolean {
  return message !== undefined && message.role === 'user' && message.content.length > 0 && message.content.every((b) => b.type === 'tool_result');
}

/**
 * An output format (`response_format` in Chat Completions, `text.format` in Responses): `text`
 * (undefined), `json_object`, or `json_schema`, whose fields sit in `json_schema` (Chat) or beside
 * `type` (Responses, `nested: false`). `strict` is accepted either way: the bridge validates every
 * answer against the schema.
 */
export function outputFormat(value: unknown, param: string, nested: boolean): ResponseFormat | undefined {
  if (!present(value)) return undefined;
  if (!isObject(value)) fail(param, `expected an object, got ${typeName(value)}`);
  switch (value.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { param };
    case 'json_schema': {
      const path = nested ? `${param}.json_schema` : param;
      const spec = nested ? value.json_schema : value;
      if (!isObject(spec)) fail(path, present(spec) ? `expected an object, got ${typeName(spec)}` : 'missing required parameter');
      const name = str(spec, 'name', path, true);
      if (!name) fail(`${path}.name`, 'must not be empty');
      const description = str(spec, 'description', path, false);
      if (present(spec.strict) && typeof spec.strict !== 'boolean') fail(`${path}.strict`, `expected a boolean, got ${typeName(spec.strict)}`);
      const schema = spec.schema;
      if (present(schema) && !isObject(schema)) fail(`${path}.schema`, `expected an object, got ${typeName(schema)}`);
      const format: ResponseFormat = { name, param: `${path}.schema` };
      if (isObject(schema)) format.schema = schema;
      if (description) format.description = description;
      return format;
    }
    default:
      fail(`${param}.type`, `expected "text", "json_object" or "json_schema", got ${JSON.stringify(value.type)}`);
  }
}
