// Scenario builders (so tests read well) and the expansion of scenario steps into EventStream
// frames and delivery actions. Pure: no sockets here.
import { randomBytes } from 'node:crypto';
import { encodeKiroEvent, encodeMessage } from '../eventstream-encoder';
import { meteredCredits as creditsOf } from '../../../src/kiro/metering';
import { inputChars } from './validate';
import type { GenerateContext, HttpReply, KiroGenerateBody, Scenario, ScenarioStep, TokenUsageSpec, ToolStepSpec } from './types';

/** A Kiro-style tool id: `tooluse_` + 22 url-safe base64 characters. */
export function kiroToolUseId(): string {
  return `tooluse_${randomBytes(16).toString('base64url')}`;
}

/** Splits text into `parts` pieces of nearly equal length, never inside a code point. */
export function splitText(text: string, parts: number): string[] {
  const points = Array.from(text);
  const n = Math.max(1, Math.min(Math.floor(parts), points.length || 1));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const from = Math.round((i * points.length) / n);
    const to = Math.round(((i + 1) * points.length) / n);
    out.push(points.slice(from, to).join(''));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

export interface ReplyExtras {
  /** Credits reported in a trailing meteringEvent. */
  metering?: number;
  /** Percentage reported in a trailing contextUsageEvent. */
  contextUsage?: number;
  /** Kiro's token counts in a trailing metadataEvent. */
  tokenUsage?: TokenUsageSpec;
  name?: string;
  frameDelayMs?: number;
}

function trailer(extras: ReplyExtras): ScenarioStep[] {
  const steps: ScenarioStep[] = [];
  if (extras.contextUsage !== undefined) steps.push({ contextUsage: extras.contextUsage });
  if (extras.tokenUsage !== undefined) steps.push({ tokenUsage: extras.tokenUsage });
  if (extras.metering !== undefined) steps.push({ metering: extras.metering });
  return steps;
}

function scenario(steps: ScenarioStep[], extras: ReplyExtras, name: string): Scenario {
  return { name: extras.name ?? name, steps, ...(extras.frameDelayMs !== undefined ? { frameDelayMs: extras.frameDelayMs } : {}) };
}

/** A plain text answer, split over `chunks` frames (default 2). */
export function textReply(text: string, extras: ReplyExtras & { chunks?: number } = {}): Scenario {
  return scenario([{ text, chunks: extras.chunks ?? 2 }, ...trailer(extras)], extras, 'text');
}

/** Optional text, then each tool streamed in fragments, one after the other. */
export function toolReply(tools: ToolStepSpec | ToolStepSpec[], extras: ReplyExtras & { text?: string } = {}): Scenario {
  const list = Array.isArray(tools) ? tools : [tools];
  const steps: ScenarioStep[] = [];
  if (extras.text) steps.push({ text: extras.text, chunks: 2 });
  for (const tool of list) steps.push({ tool: { ...tool, id: tool.id ?? kiroToolUseId() } });
  return scenario([...steps, ...trailer(extras)], extras, 'tools');
}

/**
 * Several tools whose frames interleave: every start frame first, then the input fragments
 * round-robin across tools, then the stop frames in reverse order.
 */
export function interleavedToolsReply(tools: ToolStepSpec[], extras: ReplyExtras & { text?: string } = {}): Scenario {
  const steps: ScenarioStep[] = [];
  if (extras.text) steps.push({ text: extras.text, chunks: 1 });
  const prepared = tools.map((tool) => {
    const id = tool.id ?? kiroToolUseId();
    return { id, name: tool.name, fragments: toolFragments(tool) };
  });
  for (const t of prepared) steps.push({ toolStart: { id: t.id, name: t.name } });
  const longest = Math.max(0, ...prepared.map((t) => t.fragments.length));
  for (let i = 0; i < longest; i++) {
    for (const t of prepared) {
      const input = t.fragments[i];
      if (input !== undefined) steps.push({ toolInput: { id: t.id, name: t.name, input } });
    }
  }
  for (const t of [...prepared].reverse()) steps.push({ toolStop: { id: t.id, name: t.name } });
  return scenario([...steps, ...trailer(extras)], extras, 'interleaved-tools');
}

/** How Kiro cuts a large tool input short (what 2026 users report for big Write/Edit calls). */
export interface CutToolSpec {
  name: string;
  /** The whole input the model meant to send (an object, or JSON text). */
  input: unknown;
  /**
   * - `truncated`: the input stops mid-JSON and the stop frame comes anyway;
   * - `empty`: the stop frame comes with no input at all;
   * - `unfinished`: the input stops mid-JSON and the stream ends inside the call (no stop frame,
   *   no context usage).
   */
  cut: 'truncated' | 'empty' | 'unfinished';
  /** Characters of the input sent before the cut (default: half of it). */
  keep?: number;
  /** A ContentLengthExceededException takes the place of the stop frame (Kiro's output limit). */
  exception?: boolean;
  id?: string;
}

/**
 * Optional text and complete tools, then a tool call Kiro cuts short (see CutToolSpec). Without
 * an exception, a `truncated` or `empty` call is followed by the usual context usage and metering.
 */
export function cutToolReply(spec: CutToolSpec, extras: ReplyExtras & { text?: string; before?: ToolStepSpec[] } = {}): Scenario {
  const steps: ScenarioStep[] = [];
  if (extras.text) steps.push({ text: extras.text, chunks: 2 });
  for (const tool of extras.before ?? []) steps.push({ tool: { ...tool, id: tool.id ?? kiroToolUseId() } });
  const whole = typeof spec.input === 'string' ? spec.input : JSON.stringify(spec.input);
  const sent = spec.cut === 'empty' ? '' : whole.slice(0, spec.keep ?? Math.floor(whole.length / 2));
  const stops = spec.cut !== 'unfinished' && !spec.exception;
  steps.push({ tool: { name: spec.name, id: spec.id ?? kiroToolUseId(), fragments: sent ? splitText(sent, 3) : [], noStop: !stops } });
  if (spec.exception) steps.push({ exception: { type: 'ContentLengthExceededException', message: 'Response exceeded the maximum output length.' } });
  else if (stops) steps.push(...trailer(extras));
  return scenario(steps, extras, `cut-tool:${spec.cut}${spec.exception ? '+exception' : ''}`);
}

/** Thinking (as `<thinking>` text), then the answer text. */
export function thinkingReply(thinking: string, text: string, extras: ReplyExtras & { chunks?: number } = {}): Scenario {
  return scenario([{ thinking, chunks: extras.chunks ?? 1 }, { text, chunks: extras.chunks ?? 1 }, ...trailer(extras)], extras, 'thinking');
}

/**
 * Native reasoning, as Kiro streams it for models that reason out of band: reasoningContentEvent
 * text frames, the signature frame (signed for the serving account unless `signature` says
 * otherwise), then the answer text.
 */
export function reasoningReply(
  reasoning: string,
  text: string,
  extras: ReplyExtras & { chunks?: number; signature?: string | false; redacted?: string } = {},
): Scenario {
  const steps: ScenarioStep[] = [];
  if (extras.redacted !== undefined) steps.push({ redactedReasoning: extras.redacted });
  steps.push({ reasoning, chunks: extras.chunks ?? 2, ...(extras.signature !== undefined ? { signature: extras.signature } : {}) });
  steps.push({ text, chunks: extras.chunks ?? 2 });
  return scenario([...steps, ...trailer(extras)], extras, 'reasoning');
}

/** Tokens the fake counts for a request: a quarter of its conversation characters (never 0). */
export function promptTokensOf(body: KiroGenerateBody): number {
  return Math.max(1, Math.ceil(inputChars(body) / 4));
}

/**
 * A model of Kiro's prompt cache: per account and conversationId, the prompt of the previous call
 * is cached, so the next call of the same conversation reads that many tokens from the cache and
 * writes the rest; a conversation id seen for the first time reads nothing. Every answer ends with
 * a metadataEvent carrying those numbers. One model per call of this builder (its own memory).
 */
export function promptCacheReply(text: string, extras: Omit<ReplyExtras, 'tokenUsage'> = {}): (context: GenerateContext) => Scenario {
  const cached = new Map<string, number>();
  return (context) => {
    const prompt = promptTokensOf(context.body);
    const conversation = `${context.account.id}\0${String(context.body.conversationState?.conversationId)}`;
    const read = Math.min(cached.get(conversation) ?? 0, prompt);
    cached.set(conversation, prompt);
    const tokenUsage: TokenUsageSpec = {
      uncachedInputTokens: 0,
      cacheReadInputTokens: read,
      cacheWriteInputTokens: prompt - read,
      outputTokens: Math.max(1, Math.ceil(text.length / 4)),
    };
    return textReply(text, { ...extras, tokenUsage, name: extras.name ?? 'prompt-cache' });
  };
}

/**
 * JSON the way models write it when only asked for it in the prompt: inside a Markdown fence
 * (```json … ```) with a sentence before it, split over several frames.
 */
export function fencedJsonReply(value: unknown, extras: ReplyExtras & { before?: string; after?: string } = {}): Scenario {
  const before = extras.before ?? 'Here is the JSON you asked for:';
  const text = `${before}\n\n\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\`${extras.after ? `\n\n${extras.after}` : ''}`;
  return scenario([{ text, chunks: 4 }, ...trailer(extras)], extras, 'fenced-json');
}

/** JSON inside a sentence, no fence: `Sure! {…} Let me know…`, split over several frames. */
export function proseJsonReply(value: unknown, extras: ReplyExtras & { before?: string; after?: string } = {}): Scenario {
  const text = `${extras.before ?? 'Sure! The result is'} ${JSON.stringify(value)} ${extras.after ?? 'Let me know if you need anything else.'}`;
  return scenario([{ text, chunks: 3 }, ...trailer(extras)], extras, 'prose-json');
}

/** Some text, then an exception frame (e.g. ContentLengthExceededException, ThrottlingException). */
export function exceptionReply(type: string, message = `${type} raised by the fake upstream`, extras: { text?: string; name?: string } = {}): Scenario {
  const steps: ScenarioStep[] = [];
  if (extras.text) steps.push({ text: extras.text, chunks: 1 });
  steps.push({ exception: { type, message } });
  return { name: extras.name ?? `exception:${type}`, steps };
}

/** Some text, then a `:message-type error` frame. */
export function errorFrameReply(code: string, message: string, extras: { text?: string } = {}): Scenario {
  const steps: ScenarioStep[] = [];
  if (extras.text) steps.push({ text: extras.text, chunks: 1 });
  steps.push({ error: { code, message } });
  return { name: `error-frame:${code}`, steps };
}

/** `text` split over `frames` frames, and the socket destroyed after `afterFrames` of them. */
export function cutReply(text: string, frames = 4, afterFrames = 2): Scenario {
  const parts = splitText(text, frames);
  const steps: ScenarioStep[] = parts.slice(0, afterFrames).map((t) => ({ text: t }));
  steps.push({ cut: true });
  return { name: 'cut', steps };
}

/** `text` split over `frames` frames with `delayMs` between them (a slow drip). */
export function slowReply(text: string, frames: number, delayMs: number): Scenario {
  return { name: 'slow', frameDelayMs: delayMs, steps: [{ text, chunks: frames }] };
}

/** Optional text, then silence with the connection held open (for timeouts and aborts). */
export function stallReply(text?: string): Scenario {
  return { name: 'stall', steps: [...(text ? [{ text }] : []), { stall: true }] };
}

/** A plain HTTP answer, optionally after `delayMs`. */
export function httpReply(status: number, body?: unknown, headers?: Record<string, string>, delayMs = 0): Scenario {
  const http: HttpReply = { status, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) };
  return { name: `http-${status}`, steps: [...(delayMs > 0 ? [{ delayMs }] : []), { http }] };
}

/** The connection is dropped before any response byte (a reset before the first byte). */
export function resetBeforeHeadersReply(): Scenario {
  return { name: 'reset-before-headers', holdHeaders: true, steps: [{ cut: true }] };
}

/** No response at all (not even headers) until the client gives up or the fake closes. */
export function hangBeforeHeadersReply(): Scenario {
  return { name: 'hang-before-headers', holdHeaders: true, steps: [{ stall: true }] };
}

/** `scenario` with its response held back by `delayMs` (headers included): a slow first byte. */
export function delayedReply(scenario: Scenario, delayMs: number): Scenario {
  const http = scenario.steps.some((s) => 'http' in s);
  return { ...scenario, holdHeaders: http ? scenario.holdHeaders : true, steps: [{ delayMs }, ...scenario.steps] };
}

// ---------------------------------------------------------------------------------------------
// Expansion
// ---------------------------------------------------------------------------------------------

export type DeliveryAction = { kind: 'frame'; bytes: Uint8Array } | { kind: 'delay'; ms: number } | { kind: 'cut' } | { kind: 'stall' };

function toolFragments(tool: ToolStepSpec): string[] {
  if (Array.isArray(tool.fragments)) return tool.fragments;
  const text = typeof tool.input === 'string' ? tool.input : JSON.stringify(tool.input ?? {});
  return text === '' ? [] : splitText(text, tool.fragments ?? 3);
}

const event = (type: string, json: unknown) => encodeKiroEvent({ kind: 'event', type, json });

/** What expansion needs to know about the call being answered. */
export interface ExpandContext {
  /** Echoed in assistantResponseEvents when the scenario asks (`echoModelId`). */
  modelId?: string;
  /** Signs native reasoning for the serving account (the default signature of `reasoning` steps). */
  signReasoning?: (text: string) => string;
}

/** The frames and pauses a scenario's stream consists of (an `http` step is rejected). */
export function expandScenario(scenario: Scenario, context: ExpandContext = {}): DeliveryAction[] {
  const { modelId } = context;
  const actions: DeliveryAction[] = [];
  const text = (content: string) => {
    actions.push({ kind: 'frame', bytes: event('assistantResponseEvent', scenario.echoModelId && modelId ? { content, modelId } : { content }) });
  };
  for (const step of scenario.steps) {
    if ('text' in step) {
      for (const part of splitText(step.text, step.chunks ?? 1)) text(part);
    } else if ('thinking' in step) {
      for (const part of splitText(`<thinking>${step.thinking}</thinking>\n\n`, step.chunks ?? 1)) text(part);
    } else if ('reasoning' in step) {
      for (const part of splitText(step.reasoning, step.chunks ?? 1)) {
        if (part) actions.push({ kind: 'frame', bytes: event('reasoningContentEvent', { text: part }) });
      }
      const signature = step.signature === undefined ? context.signReasoning?.(step.reasoning) : step.signature;
      if (signature) actions.push({ kind: 'frame', bytes: event('reasoningContentEvent', { signature }) });
    } else if ('redactedReasoning' in step) {
      actions.push({ kind: 'frame', bytes: event('reasoningContentEvent', { redactedContent: step.redactedReasoning }) });
    } else if ('tokenUsage' in step) {
      const usage = step.tokenUsage;
      const total = (usage.uncachedInputTokens ?? 0) + (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0) + (usage.outputTokens ?? 0);
      actions.push({ kind: 'frame', bytes: event('metadataEvent', { tokenUsage: { ...usage, totalTokens: total } }) });
    } else if ('tool' in step) {
      const id = step.tool.id ?? kiroToolUseId();
      const name = step.tool.name;
      actions.push({ kind: 'frame', bytes: event('toolUseEvent', { name, toolUseId: id }) });
      for (const input of toolFragments(step.tool)) {
        actions.push({ kind: 'frame', bytes: event('toolUseEvent', { input, name, toolUseId: id }) });
      }
      if (!step.tool.noStop) actions.push({ kind: 'frame', bytes: event('toolUseEvent', { name, stop: true, toolUseId: id }) });
    } else if ('toolStart' in step) {
      actions.push({ kind: 'frame', bytes: event('toolUseEvent', { name: step.toolStart.name, toolUseId: step.toolStart.id }) });
    } else if ('toolInput' in step) {
      const { id, name, input } = step.toolInput;
      actions.push({ kind: 'frame', bytes: event('toolUseEvent', { input, ...(name ? { name } : {}), toolUseId: id }) });
    } else if ('toolStop' in step) {
      const { id, name } = step.toolStop;
      actions.push({ kind: 'frame', bytes: event('toolUseEvent', { ...(name ? { name } : {}), stop: true, toolUseId: id }) });
    } else if ('metering' in step) {
      const json = typeof step.metering === 'number' ? { unit: 'credit', unitPlural: 'credits', usage: step.metering } : step.metering;
      actions.push({ kind: 'frame', bytes: event('meteringEvent', json) });
    } else if ('contextUsage' in step) {
      actions.push({ kind: 'frame', bytes: event('contextUsageEvent', { contextUsagePercentage: step.contextUsage }) });
    } else if ('event' in step) {
      actions.push({ kind: 'frame', bytes: event(step.event.type, step.event.json) });
    } else if ('exception' in step) {
      const { type, message, json } = step.exception;
      actions.push({ kind: 'frame', bytes: encodeKiroEvent({ kind: 'exception', type, json: json ?? { message: message ?? type } }) });
    } else if ('error' in step) {
      actions.push({ kind: 'frame', bytes: encodeKiroEvent({ kind: 'error', type: step.error.code, json: { message: step.error.message } }) });
    } else if ('frame' in step) {
      actions.push({ kind: 'frame', bytes: step.frame instanceof Uint8Array ? step.frame : encodeMessage(step.frame) });
    } else if ('delayMs' in step) {
      actions.push({ kind: 'delay', ms: step.delayMs });
    } else if ('cut' in step) {
      actions.push({ kind: 'cut' });
    } else if ('stall' in step) {
      actions.push({ kind: 'stall' });
    } else if ('http' in step) {
      throw new Error('fake upstream: an http step cannot be part of a stream');
    }
  }
  if (scenario.frameDelayMs && scenario.frameDelayMs > 0) {
    const paced: DeliveryAction[] = [];
    let framesSeen = 0;
    for (const action of actions) {
      if (action.kind === 'frame' && framesSeen++ > 0) paced.push({ kind: 'delay', ms: scenario.frameDelayMs });
      paced.push(action);
    }
    return paced;
  }
  return actions;
}

/** The `http` step of a scenario and the delays before it, if it is an HTTP reply. */
export function httpStepOf(scenario: Scenario): { reply: HttpReply; delayMs: number } | undefined {
  const index = scenario.steps.findIndex((s) => 'http' in s);
  if (index < 0) return undefined;
  const before = scenario.steps.slice(0, index);
  if (index !== scenario.steps.length - 1 || !before.every((s) => 'delayMs' in s)) {
    throw new Error('fake upstream: an http step must be the last step of its scenario, after nothing but delayMs steps');
  }
  const delayMs = before.reduce((sum, s) => sum + ('delayMs' in s ? s.delayMs : 0), 0);
  return { reply: (scenario.steps[index] as { http: HttpReply }).http, delayMs };
}

/**
 * Credits a scenario's metering steps report (what the account is charged by default), read as
 * the bridge reads a meteringEvent: a negative or non-numeric usage counts nothing.
 */
export function meteredCredits(scenario: Scenario): number {
  let total = 0;
  for (const step of scenario.steps) {
    if ('metering' in step) total += creditsOf(typeof step.metering === 'number' ? { usage: step.metering } : step.metering) ?? 0;
  }
  return total;
}
