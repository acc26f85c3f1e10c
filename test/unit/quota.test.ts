// Reading getUsageLimits answers: the 2025-10 CREDIT schema as the fake upstream builds it (with a
// free trial and bonuses), the real Aug-2025 capture (VIBE/SPEC), and broken answers.
import { describe, expect, it } from 'vitest';
import { summarizeUsage, UsageFormatError } from '../../src/kiro/accounts/quota';
import { fixtureJson } from '../support/fixtures';
import { FakeAccount, usageLimitsBody } from '../support/fake-upstream';

const NOW = Date.UTC(2026, 4, 17, 12, 0, 0);

function body(usage: ConstructorParameters<typeof FakeAccount>[0]['usage']): unknown {
  return usageLimitsBody(new FakeAccount({ label: 'q', usage }, () => NOW), NOW);
}

describe('summarizeUsage', () => {
  it('computes remaining credits from the CREDIT breakdown', () => {
    const summary = summarizeUsage(body({ limit: 50, used: 12.37 }));
    expect(summary).toMatchObject({
      remaining: 37.63,
      limit: 50,
      used: 12.37,
      subscription: 'KIRO FREE',
      email: 'q@example.com',
      unit: 'CREDIT',
      bonusRemaining: 0,
    });
    expect(summary.resetAt).toBe(Date.UTC(2026, 5, 1));
    expect(summary.freeTrial).toBeUndefined();
  });

  it('adds an active free trial and active bonuses, ignoring expired ones', () => {
    const summary = summarizeUsage(
      body({
        limit: 50,
        used: 50,
        freeTrial: { limit: 500, used: 100 },
        bonuses: [
          { limit: 20, used: 5 },
          { limit: 100, used: 0, status: 'EXPIRED' },
        ],
      }),
    );
    expect(summary.remaining).toBe(0 + 400 + 15);
    expect(summary.limit).toBe(50 + 500 + 20);
    expect(summary.bonusRemaining).toBe(15);
    expect(summary.freeTrial?.remaining).toBe(400);
    expect(summary.freeTrial?.expiresAt).toBeGreaterThan(NOW);

    const expiredTrial = summarizeUsage(body({ limit: 50, used: 10, freeTrial: { limit: 500, used: 0, status: 'EXPIRED' } }));
    expect(expiredTrial.remaining).toBe(40);
  });

  it('clamps overuse at zero', () => {
    expect(summarizeUsage(body({ limit: 50, used: 53.2 })).remaining).toBe(0);
  });

  it('says whether paid overage is on', () => {
    const answer = body({ limit: 50 }) as Record<string, unknown>;
    expect(summarizeUsage(answer).overageEnabled).toBe(false);
    expect(summarizeUsage({ ...answer, overageConfiguration: { overageStatus: 'ENABLED' } }).overageEnabled).toBe(true);
  });

  it('reads the real Aug-2025 capture (VIBE/SPEC, seconds-based dates)', () => {
    const captured = fixtureJson('getUsageLimits_response_2025-08_legacy_VIBE_SPEC.json');
    const summary = summarizeUsage(captured);
    expect(summary.unit).toBe('INVOCATIONS');
    // The VIBE (agent) breakdown: 50 invocations plus the active 100-invocation trial, none used.
    expect(summary).toMatchObject({ limit: 150, remaining: 150, used: 0, email: 'xxx@mail.com' });
    // A 2025 date, so the timestamp was read as seconds, not milliseconds.
    expect(new Date(summary.resetAt!).getUTCFullYear()).toBe(2025);
    expect(summary.subscription).toBe('KIRO FREE');
  });

  it('rejects answers without a breakdown', () => {
    expect(() => summarizeUsage({ usageBreakdownList: [] })).toThrow(UsageFormatError);
    expect(() => summarizeUsage('nope')).toThrow(UsageFormatError);
    expect(() => summarizeUsage(null)).toThrow(UsageFormatError);
  });
});
