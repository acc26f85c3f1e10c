// Kiro's numbers read in one place: every reader (account pool, assembler, fake upstream) goes
// through these, so the rule for odd values is tested once, here.
import { describe, expect, it } from 'vitest';
import { meteredCredits, promptTokens, reportedNumber, reportedTokenUsage } from '../../src/kiro/metering';
import { meteredCredits as scenarioCredits } from '../support/fake-upstream/scenario';

describe('reportedNumber: the one rule', () => {
  it('counts finite numbers of zero or more, and nothing else', () => {
    expect([0, 0.0421, 3.5, 1e6].map(reportedNumber)).toEqual([0, 0.0421, 3.5, 1e6]);
    for (const odd of [-1, -0.01, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1', null, undefined, {}, [1]]) {
      expect(reportedNumber(odd)).toBeUndefined();
    }
  });
});

describe('meteredCredits', () => {
  it('reads the usage of a meteringEvent under the rule', () => {
    expect(meteredCredits({ unit: 'credit', unitPlural: 'credits', usage: 0.0421 })).toBe(0.0421);
    expect(meteredCredits({ usage: 0 })).toBe(0);
    expect(meteredCredits({ usage: -1 })).toBeUndefined();
    expect(meteredCredits({ usage: '1' })).toBeUndefined();
    expect(meteredCredits(null)).toBeUndefined();
    expect(meteredCredits([{ usage: 1 }])).toBeUndefined();
  });

  it('the fake upstream charges what the bridge reads (a negative metering step charges nothing)', () => {
    const scenario = { steps: [{ metering: 1.5 }, { metering: -2 }, { metering: { usage: 'x' } }, { metering: { usage: 0.25 } }] };
    expect(scenarioCredits(scenario)).toBe(1.75);
  });
});

describe('reportedTokenUsage', () => {
  it('reads metadataEvent.tokenUsage, leaving out counts that were not sent', () => {
    expect(
      reportedTokenUsage({
        tokenUsage: { uncachedInputTokens: 12, cacheReadInputTokens: 3400, cacheWriteInputTokens: 56, outputTokens: 78, totalTokens: 3546 },
      }),
    ).toEqual({
      uncachedInputTokens: 12,
      cacheReadInputTokens: 3400,
      cacheWriteInputTokens: 56,
      outputTokens: 78,
    });
    expect(reportedTokenUsage({ tokenUsage: { outputTokens: 9 } })).toEqual({ outputTokens: 9 });
  });

  it('accepts every naming variant seen, in camel and snake case', () => {
    expect(reportedTokenUsage({ tokenUsage: { inputTokens: 5, outputTokens: 6, totalTokens: 11 } })).toEqual({ uncachedInputTokens: 5, outputTokens: 6 });
    expect(
      reportedTokenUsage({ unit: 'credit', usage: 1, input_tokens: 1, cache_read_input_tokens: 2, cache_creation_input_tokens: 3, output_tokens: 4 }),
    ).toEqual({
      uncachedInputTokens: 1,
      cacheReadInputTokens: 2,
      cacheWriteInputTokens: 3,
      outputTokens: 4,
    });
    expect(reportedTokenUsage({ usage: { inputTokenCount: 1, outputTokenCount: 2, cacheReadTokenCount: 3, cacheWriteTokenCount: 4 } })).toEqual({
      uncachedInputTokens: 1,
      cacheReadInputTokens: 3,
      cacheWriteInputTokens: 4,
      outputTokens: 2,
    });
  });

  it('drops counts that break the rule, rounds fractions, and finds nothing in other payloads', () => {
    expect(reportedTokenUsage({ tokenUsage: { uncachedInputTokens: -3, cacheReadInputTokens: 10.6, outputTokens: 'many' } })).toEqual({
      cacheReadInputTokens: 11,
    });
    expect(reportedTokenUsage({ unit: 'credit', unitPlural: 'credits', usage: 3.5 })).toBeUndefined();
    expect(reportedTokenUsage({ conversationId: 'c', utteranceId: 'u' })).toBeUndefined();
    expect(reportedTokenUsage({ tokenUsage: {} })).toBeUndefined();
    expect(reportedTokenUsage('text')).toBeUndefined();
  });

  it('the prompt is the sum of its three disjoint buckets', () => {
    expect(promptTokens({ uncachedInputTokens: 10, cacheReadInputTokens: 900, cacheWriteInputTokens: 90, outputTokens: 5 })).toBe(1000);
    expect(promptTokens({ outputTokens: 5 })).toBe(0);
  });
});
