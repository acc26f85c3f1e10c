// One pooled account as the front ends see it (AccountSnapshot): its state, credits and models,
// and none of its secrets.
import type { AccountSnapshot } from './accounts-api';
import type { PooledAccount } from './account-pool';

export function snapshotOf(entry: PooledAccount, activeId: string | undefined): AccountSnapshot {
  const condition = entry.condition();
  const snapshot: AccountSnapshot = {
    id: entry.id,
    label: entry.label,
    kind: entry.kind,
    source: entry.source,
    state: condition.state,
    active: entry.id === activeId,
  };
  if (condition.reason) snapshot.stateReason = condition.reason;
  if (condition.until !== undefined) snapshot.until = condition.until;
  if (entry.usage) {
    snapshot.credits = {
      remaining: entry.remainingCredits ?? entry.usage.remaining,
      limit: entry.usage.limit,
      usedThisSession: Math.round(entry.usedThisSession * 1000) / 1000,
    };
    if (entry.usage.resetAt !== undefined) snapshot.credits.resetAt = entry.usage.resetAt;
    if (entry.usage.subscription) snapshot.credits.subscription = entry.usage.subscription;
  }
  const models = entry.usableModels();
  if (models) snapshot.models = models;
  return snapshot;
}
