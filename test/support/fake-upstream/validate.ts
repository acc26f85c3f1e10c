// The checks the real upstream makes on a generateAssistantResponse body
// (docs/kiro-protocol.md#conversation-rules, #errors). Each failure carries the body the upstream sends for it and a rule id for tests.
//
// What is enforced, and why:
// - history alternates user/assistant, starts with user and (the current message being a user
//   turn) ends with assistant — kiro.rs issue 79 reproduced the 400 with curl;
// - every toolUse / toolResult needs a definition in currentMessage…tools — TOOL_CONFIG_MISSING (xwteam/kiro2api);
// - toolResults answer toolUseIds of the assistant turn right before them; ids are unique (proxies repair both);
// - tool descriptions non-empty (xwteam/kiro2api observed "Invalid tool use format."), names ≤ 64
//   characters (the proxies' limit), input schemas are objects;
// - toolUses[].input is an object;
// - modelId is one the account's tier has — INVALID_MODEL_ID;
// - empty assistant content: rejected by default, as observed in 2026. The Aug-2025 IDE captures
//   send `""` on tool-only assistant turns, so `emptyAssistantContent: 'allow-with-tool-uses'`
//   reproduces that era (see ValidationOptions);
// - oversize input → CONTENT_LENGTH_EXCEEDS_THRESHOLD: a raw body over ~600 KB (checkBodySize,
//   before anything else), or more conversation text than the model takes;
// - native reasoning sent back (`assistantResponseMessage.reasoningContent`) must be nested as
//   `{reasoningText: {text, signature}}` (peers report a flat shape is rejected as malformed), and
//   its signature must be one the serving account gave exactly that text; otherwise 400
//   THINKING_SIGNATURE_INVALID, as peers saw for changed signatures and for reasoning replayed on
//   another account.
import type {
  KiroAssistantResponseMessage,
  KiroGenerateBody,
  KiroHistoryEntry,
  KiroUserInputMessage,
  ValidationFailure,
  ValidationOptions,
  ValidationRule,
} from './types';

export const DEFAULT_MAX_INPUT_CHARS = 720_000;
/**
 * Kiro refuses request bodies above roughly 600 KB (docs/kiro-protocol.md#limits; 2026 proxies'
 * reports range from 600 KB to about 750 KB). The fake takes the low end, the same figure the
 * bridge refuses at, so a test whose request reaches the fake proves the bridge sent nothing
 * larger.
 */
export const DEFAULT_MAX_BODY_BYTES = 600 * 1024;
export const DEFAULT_TOOL_NAME_MAX_LENGTH = 64;

const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const improperlyFormed = (reason: string | null = null) => ({ message: 'Improperly formed request.', reason });
const VALIDATION = { 'x-amzn-errortype': 'ValidationException' };

const BODIES: Record<ValidationRule, () => Record<string, unknown>> = {
  body_not_json: () => ({ message: 'The request body is not valid JSON.' }),
  missing_conversation_state: () => improperlyFormed(),
  missing_current_message: () => improperlyFormed(),
  content_not_string: () => improperlyFormed(),
  model_id_missing: () => improperlyFormed(),
  history_not_array: () => improperlyFormed(),
  history_entry_invalid: () => improperlyFormed(),
  history_starts_with_assistant: () => improperlyFormed(),
  history_not_alternating: () => improperlyFormed(),
  history_ends_with_user: () => improperlyFormed(),
  empty_assistant_content: () => improperlyFormed(),
  tool_spec_invalid: () => improperlyFormed('REQUEST_BODY_INVALID'),
  tool_description_empty: () => ({ message: 'Invalid tool use format.', reason: 'REQUEST_BODY_INVALID' }),
  tool_name_too_long: () => ({ message: 'Invalid tool use format.', reason: 'REQUEST_BODY_INVALID' }),
  tool_schema_invalid: () => improperlyFormed('REQUEST_BODY_INVALID'),
  tool_config_missing: () => improperlyFormed('TOOL_CONFIG_MISSING'),
  tool_use_input_not_object: () => improperlyFormed(),
  duplicate_tool_use_id: () => improperlyFormed(),
  tool_result_unmatched: () => improperlyFormed(),
  tool_result_invalid: () => improperlyFormed(),
  image_invalid: () => improperlyFormed(),
  profile_arn_missing: () => ({ message: 'profileArn is required for this request.', reason: null }),
  profile_arn_refused: () => ({ __type: 'com.amazon.aws.codewhisperer#AccessDeniedException', message: 'User is not authorized to make this call.' }),
  profile_placeholder_refused: () => ({ message: 'The bearer token included in the request is invalid.' }),
  content_length_exceeded: () => ({ message: 'Input is too long.', reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' }),
  // The body a 2026 proxy recorded when probing Kiro's size limit.
  body_too_large: () => ({ message: 'Input content length exceeds threshold.', reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' }),
  invalid_model_id: () => ({ message: 'Invalid model. Please select a different model to continue.', reason: 'INVALID_MODEL_ID' }),
  reasoning_content_invalid: () => improperlyFormed('REQUEST_BODY_INVALID'),
  thinking_signature_invalid: () => improperlyFormed('THINKING_SIGNATURE_INVALID'),
};

export function validationFailure(rule: ValidationRule, detail: string): ValidationFailure {
  return {
    rule,
    detail,
    status: 400,
    body: BODIES[rule](),
    headers: { ...(rule === 'body_not_json' ? { 'x-amzn-errortype': 'SerializationException' } : VALIDATION), 'x-fake-kiro-rule': rule },
  };
}

/** The size check Kiro makes before reading a generate body: its raw UTF-8 bytes. */
export function checkBodySize(rawBody: string, options: ValidationOptions = {}): ValidationFailure | undefined {
  if (options.enabled === false || options.skip?.includes('body_too_large')) return undefined;
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const bytes = Buffer.byteLength(rawBody, 'utf8');
  return bytes > limit ? validationFailure('body_too_large', `the body is ${bytes} bytes (max ${limit})`) : undefined;
}

/** Who is asking: the account's tier decides which models it may use. (Profiles: ./profiles.) */
export interface ValidationSubject {
  models: readonly string[];
  /** Whether the serving account signed `text` with `signature` (default: no signature is valid). */
  verifiesReasoning?: (text: string, signature: string) => boolean;
}

class Rejection extends Error {
  constructor(
    readonly rule: ValidationRule,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a parsed generate body. Returns the first rule it breaks (in the order the fake checks
 * them: shape, model, history, tools, pairing, content, size), or undefined if it is acceptable.
 */
export function validateGenerateBody(body: unknown, subject: ValidationSubject, options: ValidationOptions = {}): ValidationFailure | undefined {
  if (options.enabled === false) return undefined;
  const skip = new Set(options.skip ?? []);
  const fail = (rule: ValidationRule, detail: string) => {
    if (!skip.has(rule)) throw new Rejection(rule, detail);
  };
  try {
    check(body, subject, options, fail);
    return undefined;
  } catch (error) {
    if (error instanceof Rejection) return validationFailure(error.rule, error.detail);
    throw error;
  }
}

type Fail = (rule: ValidationRule, detail: string) => void;

function check(raw: unknown, subject: ValidationSubject, options: ValidationOptions, fail: Fail): void {
  if (!isObject(raw) || !isObject(raw.conversationState)) {
    fail('missing_conversation_state', 'body has no conversationState object');
    return;
  }
  const body = raw as KiroGenerateBody;
  const state = body.conversationState!;
  const current = state.currentMessage?.userInputMessage;
  if (!isObject(current)) {
    fail('missing_current_message', 'conversationState.currentMessage.userInputMessage is missing');
    return;
  }
  if (typeof current.content !== 'string') fail('content_not_string', 'currentMessage content is not a string');

  // Model and tier.
  if (typeof current.modelId !== 'string' || current.modelId === '') {
    fail('model_id_missing', 'currentMessage has no modelId');
  } else if (!subject.models.includes(current.modelId)) {
    fail('invalid_model_id', `modelId "${current.modelId}" is not among this account's models (${subject.models.join(', ')})`);
  }

  // History shape.
  const history: KiroHistoryEntry[] = [];
  if (state.history !== undefined && state.history !== null) {
    if (!Array.isArray(state.history)) fail('history_not_array', 'conversationState.history is not an array');
    else history.push(...state.history);
  }
  const roles = history.map((entry, i) => {
    const user = isObject(entry) && isObject(entry.userInputMessage);
    const assistant = isObject(entry) && isObject(entry.assistantResponseMessage);
    if (user === assistant) fail('history_entry_invalid', `history[${i}] must hold exactly one of userInputMessage / assistantResponseMessage`);
    return user ? 'user' : 'assistant';
  });
  if (roles[0] === 'assistant') fail('history_starts_with_assistant', 'history[0] is an assistant message');
  for (let i = 1; i < roles.length; i++) {
    if (roles[i] === roles[i - 1]) fail('history_not_alternating', `history[${i - 1}] and history[${i}] are both ${roles[i]} messages`);
  }
  if (roles.length > 0 && roles[roles.length - 1] === 'user') {
    fail('history_ends_with_user', 'the last history entry is a user message, so it and the current message do not alternate');
  }

  // Tool definitions.
  const maxName = options.toolNameMaxLength ?? DEFAULT_TOOL_NAME_MAX_LENGTH;
  const toolNames = new Set<string>();
  const tools = current.userInputMessageContext?.tools;
  if (tools !== undefined) {
    if (!Array.isArray(tools)) fail('tool_spec_invalid', 'userInputMessageContext.tools is not an array');
    else {
      tools.forEach((tool, i) => {
        const spec = isObject(tool) ? tool.toolSpecification : undefined;
        if (!isObject(spec) || typeof spec.name !== 'string' || spec.name === '') {
          fail('tool_spec_invalid', `tools[${i}] has no toolSpecification.name`);
          return;
        }
        const name = spec.name;
        toolNames.add(name);
        if (typeof spec.description !== 'string' || spec.description.trim() === '') {
          fail('tool_description_empty', `tool "${name}" has an empty description`);
        }
        if (name.length > maxName) fail('tool_name_too_long', `tool name "${name}" is ${name.length} characters (max ${maxName})`);
        const schema = isObject(spec.inputSchema) ? spec.inputSchema.json : undefined;
        if (!isObject(schema)) fail('tool_schema_invalid', `tool "${name}" has no inputSchema.json object`);
      });
    }
  }
  // Only the current message's tools count as definitions; real IDE history never carries tools.

  // Tool uses and results: ids unique, results answer the assistant turn right before, every
  // tool named has a definition.
  const toolUseNames = new Map<string, string>();
  let previousAssistant: KiroAssistantResponseMessage | undefined;
  const turns: { user?: KiroUserInputMessage; assistant?: KiroAssistantResponseMessage; where: string }[] = [
    ...history.map((entry, i) => ({ user: entry?.userInputMessage, assistant: entry?.assistantResponseMessage, where: `history[${i}]` })),
    { user: current, where: 'currentMessage' },
  ];
  for (const turn of turns) {
    if (turn.assistant) {
      const assistant = turn.assistant;
      const uses = assistant.toolUses ?? [];
      if (!Array.isArray(uses)) fail('tool_use_input_not_object', `${turn.where}.toolUses is not an array`);
      for (const use of Array.isArray(uses) ? uses : []) {
        const id = typeof use?.toolUseId === 'string' ? use.toolUseId : '';
        const name = typeof use?.name === 'string' ? use.name : '';
        if (toolUseNames.has(id)) fail('duplicate_tool_use_id', `toolUseId "${id}" appears more than once`);
        toolUseNames.set(id, name);
        if (!isObject(use?.input)) fail('tool_use_input_not_object', `${turn.where} toolUse "${id}" input is not a JSON object`);
        if (!toolNames.has(name)) fail('tool_config_missing', `${turn.where} uses tool "${name}" which has no definition in currentMessage tools`);
      }
      const emptyMode = options.emptyAssistantContent ?? 'reject';
      const empty = assistant.content === undefined || assistant.content === null || assistant.content === '';
      if (empty && emptyMode !== 'allow' && !(emptyMode === 'allow-with-tool-uses' && Array.isArray(uses) && uses.length > 0)) {
        fail('empty_assistant_content', `${turn.where} has empty assistant content`);
      }
      if (assistant.content !== undefined && assistant.content !== null && typeof assistant.content !== 'string') {
        fail('content_not_string', `${turn.where} content is not a string`);
      }
      if (assistant.reasoningContent !== undefined) {
        const reasoning = assistant.reasoningContent;
        const text = isObject(reasoning) && isObject(reasoning.reasoningText) ? reasoning.reasoningText : undefined;
        if (!text || typeof text.text !== 'string' || typeof text.signature !== 'string' || Object.keys(reasoning as object).length !== 1) {
          fail('reasoning_content_invalid', `${turn.where}.reasoningContent is not {reasoningText: {text, signature}}`);
        } else if (!(subject.verifiesReasoning?.(text.text, text.signature) ?? false)) {
          fail('thinking_signature_invalid', `${turn.where}.reasoningContent signature was not issued by this account for this text`);
        }
      }
      previousAssistant = assistant;
      continue;
    }
    const user = turn.user!;
    if (user !== current && user.content !== undefined && typeof user.content !== 'string') {
      fail('content_not_string', `${turn.where} content is not a string`);
    }
    const results = user.userInputMessageContext?.toolResults;
    if (results !== undefined) {
      if (!Array.isArray(results)) fail('tool_result_invalid', `${turn.where} toolResults is not an array`);
      const answerable = new Set(
        (Array.isArray(previousAssistant?.toolUses) ? previousAssistant!.toolUses : []).map((u) => (typeof u?.toolUseId === 'string' ? u.toolUseId : '')),
      );
      const seen = new Set<string>();
      for (const result of Array.isArray(results) ? results : []) {
        const id = typeof result?.toolUseId === 'string' ? result.toolUseId : '';
        if (seen.has(id)) fail('duplicate_tool_use_id', `${turn.where} has two toolResults for "${id}"`);
        seen.add(id);
        if (!answerable.has(id)) {
          fail('tool_result_unmatched', `${turn.where} toolResult "${id}" does not answer a toolUse of the assistant turn before it`);
        } else if (!toolNames.has(toolUseNames.get(id) ?? '')) {
          fail('tool_config_missing', `${turn.where} toolResult "${id}" is for tool "${toolUseNames.get(id)}" which has no definition`);
        }
        const content = result?.content;
        const contentOk = Array.isArray(content) && content.every((c) => isObject(c) && (typeof c.text === 'string' || 'json' in c));
        if (!contentOk) fail('tool_result_invalid', `${turn.where} toolResult "${id}" content must be an array of {text} or {json}`);
        if (result?.status !== undefined && result.status !== 'success' && result.status !== 'error') {
          fail('tool_result_invalid', `${turn.where} toolResult "${id}" status must be success or error`);
        }
      }
    }
    if (user.images !== undefined && user.images !== null) {
      if (!Array.isArray(user.images)) fail('image_invalid', `${turn.where}.images is not an array`);
      for (const [k, image] of (Array.isArray(user.images) ? user.images : []).entries()) {
        const format = isObject(image) ? image.format : undefined;
        const bytes = isObject(image) && isObject(image.source) ? image.source.bytes : undefined;
        if (typeof format !== 'string' || !IMAGE_FORMATS.has(format))
          fail('image_invalid', `${turn.where}.images[${k}] format "${String(format)}" is not png/jpeg/gif/webp`);
        if (typeof bytes !== 'string' || bytes === '' || !BASE64.test(bytes)) fail('image_invalid', `${turn.where}.images[${k}] source.bytes is not base64`);
      }
    }
    previousAssistant = undefined;
  }

  const maxChars = options.maxInputChars ?? DEFAULT_MAX_INPUT_CHARS;
  const size = inputChars(body);
  if (size > maxChars) fail('content_length_exceeded', `input is ${size} characters (max ${maxChars})`);
}

/** Characters of conversation input: every string in the conversation state except ids. */
export function inputChars(body: KiroGenerateBody): number {
  let total = 0;
  const walk = (value: unknown, key: string) => {
    if (typeof value === 'string') {
      if (key !== 'toolUseId' && key !== 'modelId' && key !== 'conversationId' && key !== 'bytes') total += value.length;
    } else if (Array.isArray(value)) {
      for (const v of value) walk(v, key);
    } else if (isObject(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    }
  };
  walk(body.conversationState, '');
  return total;
}
