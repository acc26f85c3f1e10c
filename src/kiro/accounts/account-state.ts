// The health of one account in the pool: whether it can serve now and, if not, why and until
// when. Timed states (cooling down, quota exhausted) end by themselves when their time passes;
// the others end only on an event that can fix them (a new refresh token, the user's action).
// "needs sign-in" in particular never clears by waiting: a rejected refresh token stays rejected,
// and retrying it in a loop only looks like an attack on the account.

export type AccountState = 'ready' | 'refreshing' | 'cooling_down' | 'quota_exhausted' | 'suspended' | 'needs_sign_in' | 'disabled';

export interface AccountCondition {
  state: AccountState;
  /** A human sentence without secrets. */
  reason?: string;
  /** Epoch ms, for cooling_down and quota_exhausted. */
  until?: number;
}

/** What survives a restart (quota exhausted until the reset, a suspension, a rejected login). */
export interface HealthMarks {
  needsSignIn?: string;
  suspended?: string;
  exhaustedUntil?: number;
  exhaustedReason?: string;
  /** Remaining credits last known when the quota ran out (a later, higher number clears the mark). */
  exhaustedRemaining?: number;
  coolingUntil?: number;
  coolingReason?: string;
}

/** States in which an account takes requests (a refresh in flight is waited for, not avoided). */
export function canServe(state: AccountState): boolean {
  return state === 'ready' || state === 'refreshing';
}

export class AccountHealth {
  private marks: HealthMarks;
  /** 429s in a row without a success in between (the cool-down grows with them). */
  throttleStrikes = 0;

  constructor(
    private readonly now: () => number,
    initial: HealthMarks = {},
    public disabled = false,
  ) {
    this.marks = { ...initial };
  }

  /** The condition now; `refreshing` is the token manager's refresh in flight. */
  condition(refreshing = false): AccountCondition {
    const m = this.marks;
    const now = this.now();
    if (this.disabled) return { state: 'disabled', reason: 'turned off by you' };
    if (m.needsSignIn !== undefined) return { state: 'needs_sign_in', reason: m.needsSignIn };
    if (m.suspended !== undefined) return { state: 'suspended', reason: m.suspended };
    if (m.exhaustedUntil !== undefined && m.exhaustedUntil > now) {
      return { state: 'quota_exhausted', reason: m.exhaustedReason ?? 'monthly credits used up', until: m.exhaustedUntil };
    }
    if (m.coolingUntil !== undefined && m.coolingUntil > now) {
      return { state: 'cooling_down', reason: m.coolingReason ?? 'backing off after errors', until: m.coolingUntil };
    }
    if (refreshing) return { state: 'refreshing' };
    return { state: 'ready' };
  }

  /** The marks to persist (timed marks that have passed are dropped). */
  persisted(): HealthMarks {
    const now = this.now();
    const out: HealthMarks = {};
    if (this.marks.needsSignIn !== undefined) out.needsSignIn = this.marks.needsSignIn;
    if (this.marks.suspended !== undefined) out.suspended = this.marks.suspended;
    if (this.marks.exhaustedUntil !== undefined && this.marks.exhaustedUntil > now) {
      out.exhaustedUntil = this.marks.exhaustedUntil;
      if (this.marks.exhaustedReason) out.exhaustedReason = this.marks.exhaustedReason;
      if (this.marks.exhaustedRemaining !== undefined) out.exhaustedRemaining = this.marks.exhaustedRemaining;
    }
    // Cool-downs are short and about this process's traffic: not worth keeping across a restart.
    return out;
  }

  markNeedsSignIn(reason: string): void {
    this.marks.needsSignIn = reason;
  }

  /** A new refresh token arrived (re-import, the IDE rotated it): the sign-in mark no longer applies. */
  clearNeedsSignIn(): void {
    delete this.marks.needsSignIn;
  }

  markSuspended(reason: string): void {
    this.marks.suspended = reason;
  }

  clearSuspended(): void {
    delete this.marks.suspended;
  }

  markExhausted(until: number, reason: string, remainingKnown?: number): void {
    this.marks.exhaustedUntil = until;
    this.marks.exhaustedReason = reason;
    this.marks.exhaustedRemaining = remainingKnown;
  }

  /**
   * A usage check saw `remaining` credits: a quota mark is lifted only if the balance grew since
   * the mark (credits bought, a bonus granted). A stale positive balance that Kiro's 402 already
   * contradicted must not flip the account back and forth.
   */
  noteRemaining(remaining: number, until: number | undefined, reason: string): void {
    const m = this.marks;
    if (remaining <= 0) {
      if (until !== undefined && (m.exhaustedUntil === undefined || m.exhaustedUntil <= this.now())) this.markExhausted(until, reason, 0);
      return;
    }
    if (m.exhaustedUntil !== undefined && remaining > (m.exhaustedRemaining ?? 0)) this.clearExhausted();
  }

  clearExhausted(): void {
    delete this.marks.exhaustedUntil;
    delete this.marks.exhaustedReason;
    delete this.marks.exhaustedRemaining;
  }

  markCooling(until: number, reason: string): void {
    // Never shorten a cool-down already running.
    if (this.marks.coolingUntil !== undefined && this.marks.coolingUntil > until) return;
    this.marks.coolingUntil = until;
    this.marks.coolingReason = reason;
  }

  clearCooling(): void {
    delete this.marks.coolingUntil;
    delete this.marks.coolingReason;
  }

  /** Forgets every mark (not the user's disabled switch): a fresh start for the account. */
  reset(): void {
    this.marks = {};
    this.throttleStrikes = 0;
  }

  /** A request succeeded: the throttle streak is over. */
  served(): void {
    this.throttleStrikes = 0;
  }
}
