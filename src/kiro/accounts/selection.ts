// Which account serves the next request, among those that can.
//
// `priority` (the default) is sticky: stay on the account in use until it cannot serve, then take
// the first usable one in list order and stay there. Traffic then looks like one person on one
// machine (a proxy operator chose this after suspensions tied to spreading requests over accounts).
// `round-robin` spreads requests evenly over every usable account.

export type SelectionStrategy = 'priority' | 'round-robin';

export class AccountSelector {
  private activeId: string | undefined;
  private cursor = 0;

  constructor(public strategy: SelectionStrategy = 'priority') {}

  /** The account priority selection stays on (the last one that served). */
  get active(): string | undefined {
    return this.activeId;
  }

  /**
   * Picks one of `eligible` (every one can serve this request, in priority order). `order` is the
   * whole list in priority order, so round-robin keeps its place when accounts come and go.
   */
  pick<T extends { id: string }>(eligible: readonly T[], order: readonly { id: string }[]): T | undefined {
    if (eligible.length === 0) return undefined;
    if (this.strategy === 'priority') {
      return eligible.find((a) => a.id === this.activeId) ?? eligible[0];
    }
    // Round-robin: the first eligible account at or after the cursor, in list order.
    const ids = new Set(eligible.map((a) => a.id));
    for (let step = 0; step < order.length; step++) {
      const candidate = order[(this.cursor + step) % order.length]!;
      if (ids.has(candidate.id)) {
        this.cursor = (this.cursor + step + 1) % order.length;
        return eligible.find((a) => a.id === candidate.id);
      }
    }
    return eligible[0];
  }

  /** The account that just served a request (priority stays on it). */
  served(id: string): void {
    this.activeId = id;
  }

  /** An account left the pool. */
  forget(id: string): void {
    if (this.activeId === id) this.activeId = undefined;
  }
}
