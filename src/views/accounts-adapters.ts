// Small adapters between the accounts service and its readers on the VS Code side: the status bar
// (AccountView), the traffic view's header (AccountSummary), and the bridge (AccountProvider over
// the pool, until the bridge takes the pool itself). Type imports only: the accounts code loads
// lazily, after activation.
import type { IDisposable } from '../common/disposable';
import type { AccountSummary } from '../traffic/traffic-protocol';
import type { AccountProvider } from '../kiro/accounts/account-pool';
import type { AccountPool } from '../kiro/accounts/account-pool';
import type { AccountSnapshot, AccountsService } from '../kiro/accounts/accounts-api';
import type { AccountView } from './status-bar';

export function toAccountView(snapshot: AccountSnapshot): AccountView {
  return {
    id: snapshot.id,
    label: snapshot.label,
    ...(snapshot.kind === 'ApiKey' ? { apiKey: true } : {}),
    state: snapshot.state,
    reason: snapshot.stateReason,
    active: snapshot.active,
    remaining: snapshot.credits?.remaining,
    limit: snapshot.credits?.limit,
    resetAt: snapshot.credits?.resetAt,
    subscription: snapshot.credits?.subscription,
  };
}

/** The traffic header's state words (media/src/traffic/accounts.ts colours them). */
const SUMMARY_STATE: Record<string, string> = {
  cooling_down: 'cooldown',
  quota_exhausted: 'exhausted',
  needs_sign_in: 'invalid',
};

export function toAccountSummary(snapshot: AccountSnapshot): AccountSummary {
  const state = snapshot.active && snapshot.state === 'ready' ? 'active' : (SUMMARY_STATE[snapshot.state] ?? snapshot.state);
  const summary: AccountSummary = { label: snapshot.label, state };
  if (snapshot.credits) {
    summary.creditsLimit = snapshot.credits.limit;
    summary.creditsUsed = Math.max(0, Math.round((snapshot.credits.limit - snapshot.credits.remaining) * 100) / 100);
    if (snapshot.credits.resetAt !== undefined) summary.resetsAt = snapshot.credits.resetAt;
  }
  if (snapshot.stateReason) summary.note = snapshot.stateReason;
  return summary;
}

/** The traffic view's AccountsSource over a service that may not be loaded yet. */
export function trafficAccountsSource(current: () => AccountsService | undefined, onDidLoad: (listener: () => void) => IDisposable) {
  return {
    snapshot: (): AccountSummary[] => current()?.list().map(toAccountSummary) ?? [],
    onDidChange(listener: () => void): IDisposable {
      let inner: IDisposable | undefined = current()?.onDidChange(listener);
      const loaded = onDidLoad(() => {
        void inner?.dispose();
        inner = current()?.onDidChange(listener);
        listener();
      });
      return {
        dispose: () => {
          void inner?.dispose();
          void loaded.dispose();
        },
      };
    },
  };
}

/**
 * The bridge serves every request through the pool itself (selection, fail-over between accounts,
 * cool-downs); this only names the VS Code way to add an account in its "no account" answers.
 */
export function poolAccountProvider(pool: AccountPool): AccountProvider {
  pool.noAccountMessage = 'no Kiro account is configured; run "Kiro Bridge: Sign In…" in VS Code';
  return pool;
}
