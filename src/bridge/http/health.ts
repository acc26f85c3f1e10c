// GET /health: who is listening on this port. No key needed and no secrets in it: another VS Code
// window uses it to recognise a bridge that is already running, and scripts use it as a probe.
import type { AccountProvider } from '../../kiro/accounts/account-pool';
import { version } from '../../../package.json';

export interface HealthAnswer {
  service: 'kiro-bridge';
  version: string;
  status: 'ok' | 'no_account' | 'needs_sign_in';
  /** Process id, so a window can tell its own bridge from another one. */
  pid: number;
  uptimeSeconds: number;
  apis: string[];
  accounts: { total: number; states: string[] };
}

export function healthAnswer(accounts: AccountProvider, startedAt: number): HealthAnswer {
  const all = accounts.all();
  const states = all.map((a) => a.tokenState);
  const status = all.length === 0 ? 'no_account' : states.every((s) => s === 'needs_sign_in') ? 'needs_sign_in' : 'ok';
  return {
    service: 'kiro-bridge',
    version,
    status,
    pid: process.pid,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    apis: ['anthropic'],
    accounts: { total: all.length, states },
  };
}
