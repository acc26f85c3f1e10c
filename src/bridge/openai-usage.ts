// Token accounting shared by the Chat Completions and Responses writers. Kiro returns no token
// counts, so output is counted with the bridge's tokenizer over what was emitted, each run of
// text or reasoning counted whole (more accurate than summing fragments), and the prompt's
// estimate is replaced by Kiro's own contextUsagePercentage when it arrives (as the Anthropic
// writer does).
import type { OutputEvent } from '../kiro/types';

export interface OpenAIOutputMeta {
  /** `chatcmpl-…` or `resp_…`. */
  id: string;
  /** The model name as the client asked for it. */
  model: string;
  /** Unix seconds. */
  created: number;
  /** The bridge's estimate of the prompt's tokens. */
  inputTokens: number;
  countTokens: (text: string) => number;
  /** The model's context window: turns Kiro's contextUsagePercentage into input tokens. */
  contextWindow?: number;
}

/** Overhead per tool call, as the tokenizer module counts a tool_use block. */
const TOOL_CALL_OVERHEAD = 10;

export class UsageMeter {
  inputTokens: number;
  /** Everything generated, reasoning included (OpenAI counts reasoning in completion tokens). */
  outputTokens = 0;
  reasoningTokens = 0;
  credits: number | undefined;

  constructor(private readonly meta: OpenAIOutputMeta) {
    this.inputTokens = meta.inputTokens;
  }

  observe(event: Extract<OutputEvent, { type: 'usage' }>): void {
    if (event.contextUsagePercentage !== undefined && this.meta.contextWindow) {
      this.inputTokens = Math.round((event.contextUsagePercentage * this.meta.contextWindow) / 100);
    }
    if (event.credits !== undefined) this.credits = event.credits;
  }

  text(text: string): void {
    this.outputTokens += this.meta.countTokens(text);
  }

  reasoning(text: string): void {
    const tokens = this.meta.countTokens(text);
    this.reasoningTokens += tokens;
    this.outputTokens += tokens;
  }

  toolCall(name: string, args: string): void {
    this.outputTokens += TOOL_CALL_OVERHEAD + this.meta.countTokens(name) + this.meta.countTokens(args);
  }
}
