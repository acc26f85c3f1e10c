// What the answer writers of every API share: the output metadata the pipeline hands them, token
// accounting, and reading a complete event list up to its finish.
//
// Kiro returns no token counts, so output is counted with the bridge's tokenizer over what was
// emitted, each run of text or reasoning counted whole (more accurate than summing fragments), and
// the prompt's estimate is replaced by Kiro's own contextUsagePercentage when it arrives (as
// kiro.rs and its ports do).
import { KiroError } from '../../kiro/errors';
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
  inputTokens: number;
  outputTokens: number;
  credits?: number;
}

/** A non-streaming answer, built from the complete event list. */
export interface BuiltOutput<T = unknown> extends UsageTotals {
  body: T;
  /** The neutral finish reason (OpenAI's `stop` covers two), for the traffic record. */
  stopReason: FinishReason;
}

export class UsageMeter {
  inputTokens: number;
  /** Everything generated, reasoning included (OpenAI counts reasoning in completion tokens). */
  outputTokens = 0;
  reasoningTokens = 0;
  credits: number | undefined;
  /** Input of attempts the answer does not show; kept apart so Kiro's own measure does not erase it. */
  private unseenInput = 0;

  constructor(
    private readonly base: Pick<OutputBase, 'inputTokens' | 'countTokens' | 'contextWindow'>,
    /** Added per tool call: the OpenAI writers count it as the tokenizer counts a tool_use block. */
    private readonly toolCallOverhead = TOOL_BLOCK_OVERHEAD,
  ) {
    this.inputTokens = base.inputTokens;
  }

  get totals(): UsageTotals {
    return { inputTokens: this.inputTokens, outputTokens: this.outputTokens, credits: this.credits };
  }

  observe(event: Extract<OutputEvent, { type: 'usage' }>): void {
    if (event.unseen) {
      this.unseenInput += event.unseen.inputTokens;
      this.inputTokens += event.unseen.inputTokens;
      this.outputTokens += event.unseen.outputTokens;
      this.reasoningTokens += event.unseen.reasoningTokens;
    }
    if (event.contextUsagePercentage !== undefined && this.base.contextWindow) {
      // Kiro's own measure of the prompt beats our estimate.
      this.inputTokens = Math.round((event.contextUsagePercentage * this.base.contextWindow) / 100) + this.unseenInput;
    }
    if (event.credits !== undefined) this.credits = event.credits;
  }

  text(text: string): void {
    this.outputTokens += this.base.countTokens(text);
  }

  reasoning(text: string): void {
    const tokens = this.base.countTokens(text);
    this.reasoningTokens += tokens;
    this.outputTokens += tokens;
  }

  toolCall(name: string, args: string): void {
    this.outputTokens += this.toolCallOverhead + this.base.countTokens(name) + this.base.countTokens(args);
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
