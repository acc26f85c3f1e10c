// Public types of the fake Kiro upstream. Everything a test scripts is plain data (so a scenario
// can be logged, compared or built by a helper); everything the fake observed is a record.
import type { IncomingHttpHeaders } from 'node:http';
import type { EventStreamMessage } from '../../../src/kiro/codec/eventstream';

// ---------------------------------------------------------------------------------------------
// Scenarios: what one generateAssistantResponse call answers
// ---------------------------------------------------------------------------------------------

/** A tool call streamed the way Kiro does: start frame (name + id), input fragments, stop frame. */
export interface ToolStepSpec {
  name: string;
  /** Defaults to a fresh `tooluse_` + 22 url-safe characters, like Kiro's. */
  id?: string;
  /** An object (serialised with JSON.stringify) or the exact JSON text to stream. */
  input?: unknown;
  /**
   * How to split the input text: a number of roughly equal fragments (default 3), or the exact
   * fragments (their concatenation is sent as-is, so a test can stream invalid JSON on purpose).
   */
  fragments?: number | string[];
  /** Leave out the `stop: true` frame (a tool that never finishes). */
  noStop?: boolean;
}

/**
 * One step of a scripted generate reply. Event steps become one or more EventStream frames;
 * control steps (`delayMs`, `cut`, `stall`) shape the delivery; `http` must be the only step
 * and answers with a plain HTTP response instead of a stream.
 */
export type ScenarioStep =
  /** Assistant text (assistantResponseEvent `{"content"}`), optionally split over `chunks` frames. */
  | { text: string; chunks?: number }
  /**
   * Reasoning, as Kiro really sends it: `<thinking>…</thinking>` inside assistantResponseEvent
   * text, the end tag followed by a blank line (docs/kiro-protocol.md#thinking). Split over `chunks` frames
   * (default 1) so tags can land across frame boundaries.
   */
  | { thinking: string; chunks?: number }
  /**
   * Native reasoning (reasoningContentEvent): `{text}` frames split over `chunks` (default 1),
   * then a `{signature}` frame. By default the fake signs the text for the serving account (a
   * signature its validator accepts back); a string sends that signature instead, `false` none.
   */
  | { reasoning: string; chunks?: number; signature?: string | false }
  /** Reasoning Kiro withheld: one reasoningContentEvent `{redactedContent}` (base64). */
  | { redactedReasoning: string }
  /**
   * metadataEvent `{tokenUsage}`: Kiro's own token counts (the fake adds `totalTokens`, their
   * sum). Counts left out are left out of the payload.
   */
  | { tokenUsage: TokenUsageSpec }
  | { tool: ToolStepSpec }
  /** Low-level tool frames, for interleaving several tools by id. */
  | { toolStart: { id: string; name: string } }
  | { toolInput: { id: string; input: string; name?: string } }
  | { toolStop: { id: string; name?: string } }
  /** meteringEvent; a number is `{"unit":"credit","unitPlural":"credits","usage":n}`. */
  | { metering: number | Record<string, unknown> }
  /** contextUsageEvent `{"contextUsagePercentage": n}`. */
  | { contextUsage: number }
  /** Any other event frame, e.g. `{event:{type:'followupPromptEvent', json:{…}}}`. */
  | { event: { type: string; json: unknown } }
  /** An exception frame (`:message-type exception`), e.g. ContentLengthExceededException. */
  | { exception: { type: string; message?: string; json?: Record<string, unknown> } }
  /** A framework error frame (`:message-type error`, `:error-code`, `:error-message`). */
  | { error: { code: string; message: string } }
  /** Raw bytes or a message to encode, for odd frames (corrupt CRC, unknown headers…). */
  | { frame: Uint8Array | EventStreamMessage }
  /** Wait before the next step. Cancelled at once if the client goes away or the fake closes. */
  | { delayMs: number }
  /** Destroy the socket here (a connection cut mid-stream). */
  | { cut: true }
  /** Send nothing more and keep the stream open until the client goes away or the fake closes. */
  | { stall: true }
  /** A plain HTTP answer (errors). Must be the last step, preceded by nothing but `delayMs` steps. */
  | { http: HttpReply };

/** The four disjoint buckets of metadataEvent.tokenUsage. */
export interface TokenUsageSpec {
  uncachedInputTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
  outputTokens?: number;
}

export interface HttpReply {
  status: number;
  /** An object is sent as JSON; a string is sent verbatim. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Scenario {
  /** A short label, kept on the record (handy in failure messages). */
  name?: string;
  steps: ScenarioStep[];
  /** Delay inserted between every two frames (a slow drip), on top of explicit `delayMs` steps. */
  frameDelayMs?: number;
  /**
   * Write size: `'frame'` (default) writes each frame on its own; a number re-chunks the byte
   * stream into writes of at most that many bytes, so frames straddle writes.
   */
  chunkBytes?: 'frame' | number;
  /** Add `"modelId"` to every assistantResponseEvent payload, as newer streams do. */
  echoModelId?: boolean;
  /**
   * Hold the response headers back until the first frame is written, so `delayMs`, `cut` and
   * `stall` steps before it happen before the first byte (a hang or a connection reset before
   * any response). Default false: headers go out at once, as Kiro's do.
   */
  holdHeaders?: boolean;
  /** Response content type; default `application/vnd.amazon.eventstream`. */
  contentType?: string;
  /** Credits this call costs the account (default: the account's `creditsPerCall`, else the sum of metering steps). */
  credits?: number;
}

/** What a responder function gets to decide a reply from. */
export interface GenerateContext {
  request: RecordedRequest;
  body: KiroGenerateBody;
  account: FakeAccountView;
  /** 1-based count of generate calls this account has had served (including this one). */
  callNumber: number;
}

export type ScenarioSource = Scenario | ((context: GenerateContext) => Scenario);

// ---------------------------------------------------------------------------------------------
// The generate request body (docs/kiro-protocol.md#request-body), loosely typed: the fake must see what was sent
// ---------------------------------------------------------------------------------------------

export interface KiroToolSpec {
  toolSpecification?: { name?: unknown; description?: unknown; inputSchema?: { json?: unknown } };
}

export interface KiroToolResult {
  toolUseId?: unknown;
  content?: unknown;
  status?: unknown;
}

export interface KiroUserInputMessage {
  content?: unknown;
  modelId?: unknown;
  origin?: unknown;
  images?: unknown;
  userInputMessageContext?: { tools?: KiroToolSpec[]; toolResults?: KiroToolResult[]; [k: string]: unknown };
  [k: string]: unknown;
}

export interface KiroAssistantResponseMessage {
  content?: unknown;
  toolUses?: { toolUseId?: unknown; name?: unknown; input?: unknown }[];
  /** Native reasoning sent back: `{reasoningText: {text, signature}}`. */
  reasoningContent?: unknown;
  [k: string]: unknown;
}

export interface KiroHistoryEntry {
  userInputMessage?: KiroUserInputMessage;
  assistantResponseMessage?: KiroAssistantResponseMessage;
}

export interface KiroGenerateBody {
  conversationState?: {
    conversationId?: unknown;
    agentContinuationId?: unknown;
    agentTaskType?: unknown;
    chatTriggerType?: unknown;
    currentMessage?: { userInputMessage?: KiroUserInputMessage };
    history?: KiroHistoryEntry[];
    [k: string]: unknown;
  };
  profileArn?: unknown;
  [k: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/**
 * Every rule the fake enforces on a generate body. The body of the 400 is what the real upstream
 * sends (often `reason: null`); the rule id travels in the `x-fake-kiro-rule` response header and
 * on the record, so tests can tell the rules apart without the fake inventing upstream text.
 */
export type ValidationRule =
  | 'body_not_json'
  | 'missing_conversation_state'
  | 'missing_current_message'
  | 'content_not_string'
  | 'model_id_missing'
  | 'history_not_array'
  | 'history_entry_invalid'
  | 'history_starts_with_assistant'
  | 'history_not_alternating'
  | 'history_ends_with_user'
  | 'empty_assistant_content'
  | 'tool_spec_invalid'
  | 'tool_description_empty'
  | 'tool_name_too_long'
  | 'tool_schema_invalid'
  | 'tool_config_missing'
  | 'tool_use_input_not_object'
  | 'duplicate_tool_use_id'
  | 'tool_result_unmatched'
  | 'tool_result_invalid'
  | 'image_invalid'
  | 'profile_arn_missing'
  | 'profile_arn_refused'
  | 'profile_placeholder_refused'
  | 'content_length_exceeded'
  | 'body_too_large'
  | 'invalid_model_id'
  | 'reasoning_content_invalid'
  | 'thinking_signature_invalid';

export interface ValidationOptions {
  /** Master switch for body rules (bearer tokens are always checked). Default true. */
  enabled?: boolean;
  /** Rules to leave unchecked. */
  skip?: ValidationRule[];
  /**
   * Empty assistant `content`:
   * - `'reject'` (default): 2026 behaviour; proxies report the upstream rejects any empty assistant
   *   content, and every 2026 client fills placeholders (docs/kiro-protocol.md#conversation-rules).
   * - `'allow-with-tool-uses'`: Aug-2025 behaviour, what the captured IDE requests rely on
   *   (tool-only assistant turns with `content: ""`).
   * - `'allow'`.
   */
  emptyAssistantContent?: 'reject' | 'allow-with-tool-uses' | 'allow';
  /** Longest accepted tool name (default 64; docs/kiro-protocol.md#limits). */
  toolNameMaxLength?: number;
  /**
   * Characters of conversation text (all content, tool results, tool specs) above which the
   * fake answers 400 CONTENT_LENGTH_EXCEEDS_THRESHOLD. One proxy (htmambo/kiro2Api) measured failure near 720K chars.
   */
  maxInputChars?: number;
  /**
   * UTF-8 bytes of the raw request body above which the fake answers 400
   * CONTENT_LENGTH_EXCEEDS_THRESHOLD before looking inside it (Kiro refuses bodies above roughly
   * 600 KB). Default DEFAULT_MAX_BODY_BYTES.
   */
  maxBodyBytes?: number;
}

export interface ValidationFailure {
  rule: ValidationRule;
  /** What is wrong, for test failure messages (never sent to the client). */
  detail: string;
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

/** Kiro social (GitHub/Google), AWS SSO-OIDC (Builder ID or IAM Identity Center), or a Kiro API key. */
export type AccountKind = 'social' | 'idc' | 'apikey';

/** What kind of SSO-OIDC login an `idc` account is: it decides the profile Kiro demands. */
export type IdcType = 'builder-id' | 'enterprise';

/** A 2025-10 `getUsageLimits` CREDIT breakdown, in the numbers that matter. */
export interface UsageConfig {
  /** Monthly credit limit (usageLimitWithPrecision). Default 50. */
  limit?: number;
  /** Credits already used this month. Default 0. */
  used?: number;
  freeTrial?: { limit: number; used?: number; status?: 'ACTIVE' | 'EXPIRED'; expiry?: number };
  bonuses?: { limit: number; used?: number; status?: 'ACTIVE' | 'EXPIRED'; code?: string }[];
  /** Unix seconds of the next reset. Default: 00:00 UTC on the 1st of next month. */
  nextDateReset?: number;
  subscriptionTitle?: string;
  subscriptionType?: string;
  email?: string;
  /** Answer with the Aug-2025 VIBE/SPEC schema instead (numbers from this config). */
  legacy?: boolean;
}

export interface ModelInfo {
  modelId: string;
  modelName?: string;
  rateMultiplier?: number;
  tokenLimits?: { maxInputTokens: number; maxOutputTokens: number };
}

export interface AccountOptions {
  kind?: AccountKind;
  /** A label for test messages; default `social-1`, `idc-2`, … */
  label?: string;
  /** Default: a fresh `aor…` token, 120+ characters like real ones (kiro.rs rejects < 100 as truncated). */
  refreshToken?: string;
  /** IdC only; defaults are generated. */
  clientId?: string;
  clientSecret?: string;
  /**
   * IdC only: a Builder ID login (default: no profile of its own; Kiro demands its fixed
   * placeholder on generate, refuses ListAvailableProfiles) or an IAM Identity Center one
   * (profiles from ListAvailableProfiles, one of which Kiro demands).
   */
  idcType?: IdcType;
  /** `apikey` only: the key (default a fresh `ksk_…`). */
  apiKey?: string;
  /** Social only (IdC refreshes carry none). Default: a fresh `arn:aws:codewhisperer:us-east-1:…:profile/…`. */
  profileArn?: string | null;
  /** Model ids this account may use (its tier). Default: every model in DEFAULT_MODELS. */
  models?: (string | ModelInfo)[];
  /** ListAvailableModels `defaultModel.modelId`. Default `auto`. */
  defaultModel?: string;
  /** Hand out a new refresh token on every refresh; the old one stops working. */
  rotateRefreshToken?: boolean;
  /**
   * Milliseconds every refresh of this account takes before answering (cancelled if the client
   * leaves), so concurrent refreshes overlap and single-flight can be tested. Default 0.
   */
  refreshDelayMs?: number;
  /** `expiresIn` of issued access tokens. Default 3600. */
  accessTokenTtlSeconds?: number;
  usage?: UsageConfig;
  /** Credits each served generate call costs (default: the metering steps of the reply). */
  creditsPerCall?: number;
  /** Start suspended (every data-plane call → 403 TEMPORARILY_SUSPENDED). */
  suspended?: boolean;
}

/** Read-only view of an account's state, handed to responders and records. */
export interface FakeAccountView {
  readonly id: string;
  readonly label: string;
  readonly kind: AccountKind;
  readonly idcType: IdcType | undefined;
  readonly refreshToken: string;
  readonly apiKey: string | undefined;
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
  readonly profileArn: string | undefined;
  readonly models: readonly ModelInfo[];
  readonly usedCredits: number;
  readonly suspended: boolean;
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/** Which route a request hit; routes added later bring their own names. */
export type Endpoint = 'generate' | 'refreshToken' | 'oidcToken' | 'usageLimits' | 'target' | 'mcp' | 'unknown' | (string & {});

/**
 * How a call ended, from the fake's side:
 * - `completed`: every scripted step was sent and the response ended normally;
 * - `aborted`: the client went away before the reply was complete (disconnect observed);
 * - `cut`: the fake destroyed the socket on a `cut` step;
 * - `closed`: the fake was closed while the reply was in flight;
 * - `pending`: still in flight.
 */
export type Outcome = 'pending' | 'completed' | 'aborted' | 'cut' | 'closed';

export interface RecordedRequest {
  /** 1-based, in arrival order. */
  seq: number;
  endpoint: Endpoint;
  method: string;
  /** Path without the query string, relative to the fake's base URL. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased names, as Node parsed them. */
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The body parsed as JSON, or undefined if it was empty or not JSON. */
  body: unknown;
  receivedAt: number;
  /** The account whose token authorised the call (bearer, refresh token or client id). */
  account?: FakeAccountView;
  /** `x-amz-target` for calls to `/`. */
  target?: string;
  status?: number;
  /** The validation rule that rejected the call, if any. */
  rejectedBy?: ValidationRule;
  /** Why the call was refused before any scenario (auth, suspension, quota, validation). */
  refusal?: string;
  /** The scenario that answered a generate call. */
  scenario?: string;
  /** Frames written so far (generate streams). */
  framesSent: number;
  outcome: Outcome;
  finishedAt?: number;
}
