// Kiro's own numbers about an answer, read in one place: the credits of a meteringEvent and the
// token counts Kiro reports (metadataEvent.tokenUsage). The account pool, the response assembler
// and the fake upstream all read them through here, so they agree on every odd value.
//
// One rule for every number: a finite number that is zero or more counts; anything else
// (negative, NaN, Infinity, a string, missing) is ignored as if the field were absent. Kiro has
// never been seen sending a negative or non-numeric value; were it to, "no reading" is the safe
// interpretation (a negative credit would give credits back, a negative token count would make
// the usage sum lie).
import type { TokenUsage } from './types';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A count Kiro reported, under the one rule above; undefined when it does not count. */
export function reportedNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The credits a meteringEvent reports (`{"unit":"credit","unitPlural":"credits","usage":0.04}`). */
export function meteredCredits(json: unknown): number | undefined {
  return isObject(json) ? reportedNumber(json.usage) : undefined;
}

/** A token count: the number under the rule, rounded to whole tokens. */
function tokenCount(source: Json, names: readonly string[]): number | undefined {
  for (const name of names) {
    const value = reportedNumber(source[name]);
    if (value !== undefined) return Math.round(value);
  }
  return undefined;
}

/**
 * Field names seen for each count, first match wins. Sources disagree, so every variant seen is
 * read:
 * - `metadataEvent.tokenUsage` (peers that read Kiro's 2026 streams): `uncachedInputTokens`,
 *   `cacheReadInputTokens`, `cacheWriteInputTokens`, `outputTokens` (plus `totalTokens`, their
 *   sum). One peer's fixtures send `inputTokens` instead of `uncachedInputTokens`; as in Bedrock's
 *   usage, whose names these are, that count excludes the cached part.
 * - the token fields one peer reads from a meteringEvent: `inputTokens`, `outputTokens`,
 *   `cacheReadInputTokens`, `cacheCreationInputTokens`, in camel or snake case;
 * - a kiro-cli capture note reports `inputTokenCount`, `outputTokenCount`, `cacheReadTokenCount`,
 *   `cacheWriteTokenCount` on messageMetadataEvent (unverified).
 */
const FIELDS = {
  uncachedInputTokens: ['uncachedInputTokens', 'uncached_input_tokens', 'inputTokens', 'input_tokens', 'inputTokenCount'],
  cacheReadInputTokens: ['cacheReadInputTokens', 'cache_read_input_tokens', 'cacheReadTokens', 'cacheReadTokenCount'],
  cacheWriteInputTokens: [
    'cacheWriteInputTokens',
    'cache_write_input_tokens',
    'cacheCreationInputTokens',
    'cache_creation_input_tokens',
    'cacheWriteTokens',
    'cacheWriteTokenCount',
  ],
  outputTokens: ['outputTokens', 'output_tokens', 'outputTokenCount'],
} as const satisfies Record<keyof TokenUsage, readonly string[]>;

/**
 * The token counts of one Kiro event payload, or undefined when it carries none. Looks at the
 * payload itself and at a nested `tokenUsage` (metadataEvent) or `usage` object (a usage number,
 * as meteringEvent's credits, is not a token count).
 */
export function reportedTokenUsage(json: unknown): TokenUsage | undefined {
  if (!isObject(json)) return undefined;
  for (const source of [json.tokenUsage, json.token_usage, isObject(json.usage) ? json.usage : undefined, json]) {
    if (!isObject(source)) continue;
    const usage: TokenUsage = {};
    for (const [key, names] of Object.entries(FIELDS) as [keyof TokenUsage, readonly string[]][]) {
      const value = tokenCount(source, names);
      if (value !== undefined) usage[key] = value;
    }
    if (Object.keys(usage).length > 0) return usage;
  }
  return undefined;
}

/** Every prompt token Kiro counted: uncached, read from its cache and written to it. */
export function promptTokens(usage: TokenUsage): number {
  return (usage.uncachedInputTokens ?? 0) + (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0);
}
