// The header's account strip: each account's state, remaining credits as a bar, and reset date.

import type { AccountSummary } from '../../../src/traffic/traffic-protocol';
import { el } from './dom';
import * as fmt from './format';

/** States that mean "serving", "waiting" and "not usable", for colour. */
const STATE_TONE: Record<string, 'ok' | 'warn' | 'bad'> = {
  active: 'ok',
  ready: 'ok',
  refreshing: 'warn',
  cooldown: 'warn',
  throttled: 'warn',
  exhausted: 'bad',
  suspended: 'bad',
  invalid: 'bad',
  expired: 'bad',
  disabled: 'bad',
};

export function remainingFraction(a: AccountSummary): number | undefined {
  if (a.creditsLimit === undefined || a.creditsLimit <= 0 || a.creditsUsed === undefined) return undefined;
  return Math.min(1, Math.max(0, (a.creditsLimit - a.creditsUsed) / a.creditsLimit));
}

export class AccountsStrip {
  readonly element: HTMLElement;

  constructor() {
    this.element = el('div', { className: 'accounts', attrs: { role: 'list', 'aria-label': 'Accounts' } });
  }

  update(accounts: readonly AccountSummary[]): void {
    if (accounts.length === 0) {
      this.element.replaceChildren(el('div', { className: 'account muted', text: 'No Kiro account yet: sign in or import your Kiro IDE login.' }));
      return;
    }
    this.element.replaceChildren(...accounts.map((a) => this.card(a)));
  }

  private card(a: AccountSummary): HTMLElement {
    const tone = STATE_TONE[a.state.toLowerCase()] ?? 'warn';
    const fraction = remainingFraction(a);
    const remaining = a.creditsLimit !== undefined && a.creditsUsed !== undefined ? a.creditsLimit - a.creditsUsed : undefined;
    const bar = el('div', { className: 'credit-bar', attrs: { role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100' } });
    const fill = el('div', { className: 'credit-fill' });
    bar.append(fill);
    if (fraction !== undefined) {
      fill.style.width = `${(fraction * 100).toFixed(1)}%`;
      bar.setAttribute('aria-valuenow', String(Math.round(fraction * 100)));
      bar.setAttribute('aria-label', 'Credits remaining');
      if (fraction < 0.1) fill.classList.add('low');
      else if (fraction < 0.25) fill.classList.add('warn');
    } else bar.classList.add('unknown');
    const credits = remaining !== undefined ? `${fmt.credits(Math.max(0, remaining))} / ${fmt.credits(a.creditsLimit)} left` : 'credits unknown';
    const reset = a.resetsAt !== undefined ? `resets ${fmt.shortDate(a.resetsAt)}` : '';
    const title = [a.label, a.state, credits, reset, a.note].filter(Boolean).join(' · ');
    return el(
      'div',
      { className: 'account', title, attrs: { role: 'listitem' } },
      el('span', { className: 'account-label', text: a.label }),
      el('span', { className: `state state-${tone}`, text: a.state }),
      bar,
      el('div', { className: 'account-meta', text: [credits, reset].filter(Boolean).join(' · ') }),
    );
  }
}
