// The JSON body of Kiro's generateAssistantResponse call, as we send it (docs/kiro-protocol.md#request-body).
// Only the fields we fill are typed; the real IDE captures carry the same ones.

export type KiroImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

export interface KiroImage {
  format: KiroImageFormat;
  /** Base64, no data-URL prefix. */
  source: { bytes: string };
}

export interface KiroToolSpecification {
  toolSpecification: {
    name: string;
    description: string;
    inputSchema: { json: Record<string, unknown> };
  };
}

export interface KiroToolResult {
  toolUseId: string;
  content: { text: string }[];
  status: 'success' | 'error';
}

export interface KiroToolUse {
  toolUseId: string;
  name: string;
  /** Always a JSON object: Kiro rejects a string here. */
  input: Record<string, unknown>;
}

export interface KiroUserInputMessageContext {
  /** Only ever on the current message (real IDE history never carries tools). */
  tools?: KiroToolSpecification[];
  toolResults?: KiroToolResult[];
}

export interface KiroUserInputMessage {
  content: string;
  modelId: string;
  origin: 'AI_EDITOR';
  images?: KiroImage[];
  userInputMessageContext?: KiroUserInputMessageContext;
}

/**
 * Native reasoning Kiro gave this turn, sent back exactly as received: Kiro checks the signature
 * against the text and answers THINKING_SIGNATURE_INVALID when either changed. Nested as shown; a
 * flat `{text, signature}` is rejected as malformed.
 */
export interface KiroReasoningContent {
  reasoningText: { text: string; signature: string };
}

export interface KiroAssistantResponseMessage {
  content: string;
  toolUses?: KiroToolUse[];
  reasoningContent?: KiroReasoningContent;
}

export type KiroHistoryEntry = { userInputMessage: KiroUserInputMessage } | { assistantResponseMessage: KiroAssistantResponseMessage };

export type KiroChatTriggerType = 'MANUAL' | 'AUTO';

export interface KiroConversationState {
  agentTaskType: 'vibe';
  chatTriggerType: KiroChatTriggerType;
  conversationId: string;
  currentMessage: { userInputMessage: KiroUserInputMessage & { userInputMessageContext: KiroUserInputMessageContext } };
  /** Strictly alternating user/assistant, starting with user and ending with assistant. */
  history: KiroHistoryEntry[];
}

export interface KiroGenerateRequest {
  conversationState: KiroConversationState;
  profileArn?: string;
}
