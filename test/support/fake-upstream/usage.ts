// getUsageLimits answers (docs/kiro-protocol.md#usage-limits): the 2025-10 CREDIT schema, or the
// Aug-2025 VIBE/SPEC schema of the captured fixture, filled from an account's numbers.
import { nextMonthlyReset, type FakeAccount } from './accounts';

const precise = (n: number) => Math.round(n * 100) / 100;

export function usageLimitsBody(account: FakeAccount, nowMs: number): Record<string, unknown> {
  const u = account.usage;
  const reset = u.nextDateReset ?? nextMonthlyReset(nowMs);
  const daysUntilReset = Math.max(0, Math.ceil((reset * 1000 - nowMs) / 86_400_000));
  const limit = u.limit ?? 50;
  const used = (u.used ?? 0) + account.usedCredits;
  const email = u.email ?? `${account.label}@example.com`;
  const userId = `d-9067642ac7.${account.id}`;
  const subscriptionInfo = {
    subscriptionTitle: u.subscriptionTitle ?? 'KIRO FREE',
    type: u.subscriptionType ?? 'Q_DEVELOPER_STANDALONE_FREE',
    subscriptionManagementTarget: 'PURCHASE',
    overageCapability: 'OVERAGE_INCAPABLE',
    upgradeCapability: 'UPGRADE_CAPABLE',
  };
  const trialExpiry = u.freeTrial?.expiry ?? nowMs / 1000 + 14 * 86_400 + 0.465;

  if (u.legacy) {
    const breakdown = (resourceType: 'SPEC' | 'VIBE', overageRate: number, overageCap: number) => ({
      nextDateReset: reset,
      overageCharges: 0,
      resourceType,
      unit: 'INVOCATIONS',
      usageLimit: Math.round(limit),
      overageRate,
      currentUsage: Math.round(resourceType === 'VIBE' ? used : 0),
      overageCap,
      currency: 'USD',
      currentOverages: 0,
      ...(u.freeTrial
        ? {
            freeTrialInfo: {
              freeTrialExpiry: trialExpiry,
              freeTrialStatus: u.freeTrial.status ?? 'ACTIVE',
              usageLimit: u.freeTrial.limit,
              currentUsage: u.freeTrial.used ?? 0,
            },
          }
        : {}),
    });
    return {
      limits: [],
      usageBreakdownList: [breakdown('SPEC', 0.2, 200), breakdown('VIBE', 0.04, 1000)],
      userInfo: { email, userId },
      daysUntilReset,
      overageConfiguration: { overageStatus: 'DISABLED' },
      nextDateReset: reset,
      subscriptionInfo,
      usageBreakdown: null,
    };
  }

  const breakdown: Record<string, unknown> = {
    resourceType: 'CREDIT',
    unit: 'CREDIT',
    displayName: 'Credit',
    displayNamePlural: 'Credits',
    usageLimit: Math.floor(limit),
    usageLimitWithPrecision: precise(limit),
    currentUsage: Math.floor(used),
    currentUsageWithPrecision: precise(used),
    overageCap: 0,
    overageRate: 0.04,
    currency: 'USD',
    nextDateReset: reset,
  };
  if (u.freeTrial) {
    const trialUsed = u.freeTrial.used ?? 0;
    breakdown.freeTrialInfo = {
      freeTrialStatus: u.freeTrial.status ?? 'ACTIVE',
      freeTrialExpiry: trialExpiry,
      usageLimit: Math.floor(u.freeTrial.limit),
      usageLimitWithPrecision: precise(u.freeTrial.limit),
      currentUsage: Math.floor(trialUsed),
      currentUsageWithPrecision: precise(trialUsed),
    };
  }
  if (u.bonuses?.length) {
    breakdown.bonuses = u.bonuses.map((b, i) => ({
      bonusCode: b.code ?? `BONUS_${i + 1}`,
      status: b.status ?? 'ACTIVE',
      usageLimit: b.limit,
      currentUsage: b.used ?? 0,
    }));
  }
  return {
    limits: [],
    usageBreakdownList: [breakdown],
    userInfo: { email, userId },
    daysUntilReset,
    nextDateReset: reset,
    overageConfiguration: { overageStatus: 'DISABLED' },
    subscriptionInfo,
    usageBreakdown: null,
  };
}
