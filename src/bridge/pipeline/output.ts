// What the answer writers of every API share: the output metadata the pipeline hands them, token
// accounting, and reading a complete event list up to its finish.
//
// Token numbers: when Kiro reports its own (metadataEvent.tokenUsage: uncached input, cache read,
// cache write, output), those are the answer's usage. Until then, and for answers without them,
// output is counted with the bridge's tokenizer over what was emitted, each run of text or
// reasoning counted whole (more accurate than summing fragments), and the prompt's estimate is
// replaced by Kiro's contextUsagePercentage when it arrives (as kiro.rs and its ports do).
import { KiroError } from '../../kiro/errors';
import { promptTokens } from '../../kiro/metering';
import { TOOL_BLOCK_OVERHEAD } from '../../kiro/tokens';
import type { FinishReason, OutputEvent } from '../../kiro/types';

/** What every output needs to know, whatever the API. */
export interface OutputBase {
  /** The model name as the client asked for it. */
  model: string;
  /** The bridge's estimate of the prompt's tokens. */
  inputTokens: number;
  /** The bridge's tokenizer; counts what was emitted. */
  countTokens: (text: string) => number;
  /** The model's context window in tokens: turns Kiro's contextUsagePercentage into input tokens. */
  contextWindow?: number;
}

/** Tokens as reported to the client, and Kiro's credits (for the traffic record). */
export interface UsageTotals {
  /** Every prompt token: uncached, read from the cache and written to it. */
  inputTokens: number;
  outputTokens: number;
  credits?: number;
  /** Prompt tokens Kiro read from / wrote to its prompt cache; present only when Kiro reported them. */
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

/** A non-streaming answer, built from the complete event list. */
export interface BuiltOutput<T = unknown> extends UsageTotals {
  body: T;
  /** The neutral finish reason (OpenAI's `stop` covers two), for the traffic record. */
  stopReason: FinishReason;
}

export class UsageMeter {
  /** Every prompt token (uncached + cache read + cache write). */
  inputTokens: number;
  credits: number | undefined;
  /** Set once Kiro reported its cache numbers. */
  cacheReadTokens: number | undefined;
  cacheWriteTokens: number | undefined;
  /** What the bridge counted of the output, reasoning included. */
  private countedOutput = 0;
  private countedReasoning = 0;
  /** Kiro's own output count, when it sent one. */
  private reportedOutput: number | undefined;
  /** Kiro reported the prompt's tokens: its percentage of the context window no longer counts. */
  private reportedInput = false;
  /**
   * Tokens of attempts the answer does not show (a structured-output retry): kept apart so that
   * Kiro's own counts of the answer's call, which replace estimates, do not erase them.
   */
  private unseenInput = 0;
  private unseenOutput = 0;
  private unseenReasoning = 0;

  constructor(
    private readonly base: Pick<OutputBase, 'inputTokens' | 'countTokens' | 'contextWindow'>,
    /** Added per tool call: the OpenAI writers count it as the tokenizer counts a tool_use block. */
    private readonly toolCallOverhead = TOOL_BLOCK_OVERHEAD,
  ) {
    this.inputTokens = base.inputTokens;
  }

  /** Everything generated, reasoning included (OpenAI counts reasoning in completion tokens). */
  get outputTokens(): number {
    return (this.reportedOutput ?? this.countedOutput) + this.unseenOutput;
  }

  /** The reasoning part of the output (Kiro does not split its count: ours, within its total). */
  get reasoningTokens(): number {
    return Math.min(this.countedReasoning, this.reportedOutput ?? this.countedOutput) + this.unseenReasoning;
  }

  /** Prompt tokens not read from the cache nor written to it (Anthropic's `input_tokens`). */
  get uncachedInputTokens(): number {
    return Math.max(0, this.inputTokens - (this.cacheReadTokens ?? 0) - (this.cacheWriteTokens ?? 0));
  }

  get totals(): UsageTotals {
    const totals: UsageTotals = { inputTokens: this.inputTokens, outputTokens: this.outputTokens, credits: this.credits };
    if (this.cacheReadTokens !== undefined) totals.cacheReadTokens = this.cacheReadTokens;
    if (this.cacheWriteTokens !== undefined) totals.cacheWriteTokens = this.cacheWriteTokens;
    return totals;
  }

  observe(event: Extract<OutputEvent, { type: 'usage' }>): void {
    if (event.unseen) {
      this.unseenInput += event.unseen.inputTokens;
      this.inputTokens += event.unseen.inputTokens;
      this.unseenOutput += event.unseen.outputTokens;
      this.unseenReasoning += event.unseen.reasoningTokens;
    }
    const tokens = event.tokens;
    if (tokens) {
      // Kiro's counts are the truth; each one replaces what was estimated (or reported before).
      if (tokens.uncachedInputTokens !== undefined || tokens.cacheReadInputTokens !== undefined || tokens.cacheWriteInputTokens !== undefined) {
        this.inputTokens = promptTokens(tokens) + this.unseenInput;
        this.cacheReadTokens = tokens.cacheReadInputTokens ?? 0;
        this.cacheWriteTokens = tokens.cacheWriteInputTokens ?? 0;
        this.reportedInput = true;
      }
      if (tokens.outputTokens !== undefined) this.reportedOutput = tokens.outputTokens;
    }
    if (event.contextUsagePercentage !== undefined && this.base.contextWindow && !this.reportedInput) {
      // Kiro's own measure of the prompt beats our estimate.
      this.inputTokens = Math.round((event.contextUsagePercentage * this.base.contextWindow) / 100) + this.unseenInput;
    }
    if (event.credits !== undefined) this.credits = event.credits;
  }

  text(text: string): void {
    this.countedOutput += this.base.countTokens(text);
  }

  reasoning(text: string): void {
    const tokens = this.base.countTokens(text);
    this.countedReasoning += tokens;
    this.countedOutput += tokens;
  }

  toolCall(name: string, args: string): void {
    this.countedOutput += this.toolCallOverhead + this.base.countTokens(name) + this.base.countTokens(args);
  }
}

/**
 * Hands every event before the finish to `apply` and returns the finish. Throws the error the
 * events end in, and an internal KiroError when they end in neither (non-streaming builders).
 */
export function finishOf(events: readonly OutputEvent[], apply: (event: OutputEvent) => void): Extract<OutputEvent, { type: 'finish' }> {
  for (const event of events) {
    if (event.type === 'error') throw event.error;
    if (event.type === 'finish') return event;
    apply(event);
  }
  throw new KiroError('internal', 'the response ended without a finish or an error');
}
