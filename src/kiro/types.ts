// The neutral shapes between the client APIs and Kiro. `bridge/anthropic` and `bridge/openai`
// both turn their requests into a ChatRequest and turn OutputEvents back into their own wire
// format; `kiro/request` and `kiro/response` never see either client format.

export type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

export interface TextBlock {
  type: 'text';
  text: string;
}

export interface ImageBlock {
  type: 'image';
  mediaType: ImageMediaType;
  /** Base64 without a data-URL prefix. */
  data: string;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

export interface ToolResultBlock {
  type: 'tool_result';
  toolUseId: string;
  content: (TextBlock | ImageBlock)[];
  isError: boolean;
}

/** A past thinking block sent back by the client. */
export interface ThinkingBlock {
  type: 'thinking';
  thinking: string;
  /**
   * The signature Kiro gave this reasoning (its native reasoning): it goes back to Kiro, with the
   * text unchanged, as the turn's `reasoningContent`. Absent for reasoning the bridge split out of
   * `<thinking>` text, which goes back as tagged text.
   */
  signature?: string;
}

/** Reasoning Kiro withheld: the opaque data it sent in its place (`redactedContent`). */
export interface RedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}

export type ContentBlock = TextBlock | ImageBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock | RedactedThinkingBlock;

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the tool's input (an object schema). */
  inputSchema: Record<string, unknown>;
}

export type ToolChoice = { type: 'auto' } | { type: 'any' } | { type: 'none' } | { type: 'tool'; name: string };

export type ClientApi = 'anthropic' | 'openai' | 'responses';

/**
 * The client asked for JSON output (Anthropic `output_config.format`, OpenAI `response_format`,
 * Responses `text.format`). Kiro cannot constrain decoding: the bridge puts the format in the
 * system prompt and validates the answer itself.
 */
export interface ResponseFormat {
  /** The JSON Schema the answer must match; absent: any JSON object (OpenAI's `json_object`). */
  schema?: Record<string, unknown>;
  /** The schema's name and description, when the client gave them (OpenAI's `json_schema`). */
  name?: string;
  description?: string;
  /** Where the schema sits in the client's request (`response_format.json_schema.schema`), for errors. */
  param: string;
}

/** One client request, in neutral form. */
export interface ChatRequest {
  api: ClientApi;
  /** The model name exactly as the client sent it (echoed back in responses). */
  model: string;
  /** System prompt blocks, in order. */
  system: string[];
  messages: ChatMessage[];
  tools: ToolDefinition[];
  toolChoice?: ToolChoice;
  maxTokens?: number;
  temperature?: number;
  stopSequences: string[];
  /** Present when the client asked for thinking (field, `-thinking` suffix, reasoning effort). */
  thinking?: { budgetTokens: number };
  stream: boolean;
  /**
   * The client's session (Claude Code's session id from metadata.user_id, Codex's
   * prompt_cache_key, OpenAI user / safety_identifier): one Kiro conversation id per session, so
   * Kiro's prompt cache can hit.
   */
  sessionKey?: string;
  /** The answer must be JSON (matching a schema, if given). */
  responseFormat?: ResponseFormat;
}

export type FinishReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';

/**
 * Token counts Kiro reported for an answer (metadataEvent.tokenUsage). The buckets are disjoint:
 * the prompt is uncached + cache read + cache write. A count Kiro did not send is absent.
 */
export interface TokenUsage {
  /** Prompt tokens neither read from nor written to Kiro's prompt cache. */
  uncachedInputTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
  outputTokens?: number;
}

/** What the assembled Kiro response says, in order, as it arrives. */
export type OutputEvent =
  | { type: 'text'; text: string }
  | { type: 'thinking'; text: string }
  /** Kiro's signature for the reasoning just streamed: it ends that thinking block. */
  | { type: 'thinking_signature'; signature: string }
  /** Reasoning Kiro withheld, as one opaque block. */
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_start'; id: string; name: string }
  | { type: 'tool_delta'; id: string; json: string }
  | { type: 'tool_end'; id: string; input: unknown }
  | {
      type: 'usage';
      /** Percent of the context window, from Kiro's contextUsageEvent. */
      contextUsagePercentage?: number;
      /** Credits charged so far, from Kiro's meteringEvents. */
      credits?: number;
      /** Kiro's own token counts (they win over the bridge's estimates). */
      tokens?: TokenUsage;
      /**
       * Tokens Kiro processed that the answer does not show (an earlier attempt the bridge
       * discarded, text dropped around a JSON answer): added to the answer's usage.
       */
      unseen?: { inputTokens: number; outputTokens: number; reasoningTokens: number };
    }
  | { type: 'finish'; reason: FinishReason; stopSequence?: string }
  | { type: 'error'; error: Error };
