// Reading a getUsageLimits answer (docs/kiro-protocol.md#usage-limits) into the numbers users care
// about: credits left, the limit they come from, when they reset, the plan, and the e-mail the
// login belongs to.
//
// Remaining = (limit − used) of the CREDIT breakdown, plus an ACTIVE free trial's (limit − used),
// plus every ACTIVE bonus's (limit − used), clamped at 0 (the formula proxies share).
// Precise (`…WithPrecision`) numbers win over the rounded ones. Timestamps are Unix seconds with
// fractions (one proxy wrongly reads them as milliseconds). The Aug-2025 schema had VIBE/SPEC breakdowns
// counted in invocations; agent requests are VIBE, so that one stands in for CREDIT.

export interface UsageSummary {
  remaining: number;
  /** Everything that counts toward `remaining`: base limit + active trial + active bonuses. */
  limit: number;
  used: number;
  /** Epoch ms of the next monthly reset, if Kiro said. */
  resetAt?: number;
  /** e.g. "KIRO FREE", "KIRO PRO". */
  subscription?: string;
  email?: string;
  /** The unit Kiro counts in ("CREDIT", or "INVOCATIONS" on the legacy schema). */
  unit: string;
  freeTrial?: { remaining: number; expiresAt?: number };
  bonusRemaining: number;
  /** Paid overage is on: requests go on past the limit (billed), so 0 left does not mean blocked. */
  overageEnabled: boolean;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function number(obj: Json, precise: string, rounded: string): number {
  const p = obj[precise];
  if (typeof p === 'number' && Number.isFinite(p)) return p;
  const r = obj[rounded];
  return typeof r === 'number' && Number.isFinite(r) ? r : 0;
}

function secondsToMs(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return undefined;
  // Unix seconds; a value already in milliseconds (> year 33658 in seconds) is taken as such.
  return value > 1e12 ? Math.round(value) : Math.round(value * 1000);
}

function isActive(status: unknown): boolean {
  return typeof status === 'string' && status.toUpperCase() === 'ACTIVE';
}

export class UsageFormatError extends Error {
  override readonly name = 'UsageFormatError';
}

function pickBreakdown(list: unknown[]): Json | undefined {
  const entries = list.filter(isObject);
  return (
    entries.find((b) => b.resourceType === 'CREDIT') ??
    entries.find((b) => b.resourceType === 'VIBE') ??
    entries.find((b) => typeof b.usageLimit === 'number' || typeof b.usageLimitWithPrecision === 'number')
  );
}

export function summarizeUsage(answer: unknown): UsageSummary {
  if (!isObject(answer)) throw new UsageFormatError('the usage answer is not a JSON object');
  const list = Array.isArray(answer.usageBreakdownList) ? answer.usageBreakdownList : [];
  const breakdown = pickBreakdown(list);
  if (!breakdown) throw new UsageFormatError('the usage answer has no credit breakdown');

  const baseLimit = number(breakdown, 'usageLimitWithPrecision', 'usageLimit');
  const baseUsed = number(breakdown, 'currentUsageWithPrecision', 'currentUsage');
  let limit = baseLimit;
  let used = baseUsed;
  let remaining = Math.max(0, baseLimit - baseUsed);

  let freeTrial: UsageSummary['freeTrial'];
  const trial = breakdown.freeTrialInfo;
  if (isObject(trial) && isActive(trial.freeTrialStatus)) {
    const trialLimit = number(trial, 'usageLimitWithPrecision', 'usageLimit');
    const trialUsed = number(trial, 'currentUsageWithPrecision', 'currentUsage');
    const left = Math.max(0, trialLimit - trialUsed);
    limit += trialLimit;
    used += trialUsed;
    remaining += left;
    freeTrial = { remaining: left, expiresAt: secondsToMs(trial.freeTrialExpiry) };
  }

  let bonusRemaining = 0;
  if (Array.isArray(breakdown.bonuses)) {
    for (const bonus of breakdown.bonuses) {
      if (!isObject(bonus) || !isActive(bonus.status)) continue;
      const bonusLimit = number(bonus, 'usageLimitWithPrecision', 'usageLimit');
      const bonusUsed = number(bonus, 'currentUsageWithPrecision', 'currentUsage');
      limit += bonusLimit;
      used += bonusUsed;
      bonusRemaining += Math.max(0, bonusLimit - bonusUsed);
    }
    remaining += bonusRemaining;
  }

  const subscriptionInfo = isObject(answer.subscriptionInfo) ? answer.subscriptionInfo : undefined;
  const userInfo = isObject(answer.userInfo) ? answer.userInfo : undefined;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    remaining: round(remaining),
    limit: round(limit),
    used: round(used),
    resetAt: secondsToMs(breakdown.nextDateReset) ?? secondsToMs(answer.nextDateReset),
    subscription: typeof subscriptionInfo?.subscriptionTitle === 'string' ? subscriptionInfo.subscriptionTitle : undefined,
    email: typeof userInfo?.email === 'string' && userInfo.email ? userInfo.email : undefined,
    unit: typeof breakdown.unit === 'string' ? breakdown.unit : 'CREDIT',
    freeTrial,
    bonusRemaining: round(bonusRemaining),
    overageEnabled: isObject(answer.overageConfiguration) && answer.overageConfiguration.overageStatus === 'ENABLED',
  };
}
