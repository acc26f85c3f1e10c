// The one screen `serve` prints once it listens: where, which key, which accounts with their
// credits, and the exact lines that point Claude Code and the OpenAI SDK at it. Pure: serve.ts
// gathers the facts, this lays them out.
import type { AccountSnapshot } from '../kiro/accounts/accounts-api';
import type { SelectionStrategy } from '../kiro/accounts/selection';
import { maskSecret } from '../common/redact';
import { describeState } from './accounts';
import { padVisible, type Style } from './terminal';

export type KeySource = 'env' | 'config' | 'generated';

export interface SummaryInput {
  url: string;
  apiKey: string;
  keySource: KeySource;
  configFile: string;
  accounts: readonly AccountSnapshot[];
  strategy: SelectionStrategy;
  /** The proxy as shown in logs (no credentials), if any. */
  proxy?: string;
  /** The bind address, when it is not loopback only. */
  exposedHost?: string;
  /** Accounts still being checked when the summary was printed. */
  checking?: boolean;
  platform: NodeJS.Platform;
  now: number;
}

function credits(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function accountLine(account: AccountSnapshot, index: number, now: number, style: Style, checking: boolean): string {
  const state = describeState(account, now);
  const tone = account.state === 'ready' ? 'green' : account.state === 'disabled' || account.state === 'refreshing' ? 'dim' : 'red';
  const parts = [`${index + 1}${account.active ? '*' : ' '}`, account.label, style.dim(`${account.kind}, ${account.source}`), style.paint(tone, state)];
  if (account.credits) {
    const c = account.credits;
    parts.push(
      `${credits(c.remaining)} of ${credits(c.limit)} credits left${c.resetAt !== undefined ? `, resets ${new Date(c.resetAt).toISOString().slice(0, 10)}` : ''}`,
    );
  } else if (account.state !== 'disabled') {
    parts.push(style.dim(checking ? 'credits: checking…' : 'credits: unknown'));
  }
  return parts.join('  ');
}

/** `NAME=value` lines for the user's shell; `reference` values are variables, not literals. */
function envLines(vars: [string, { literal: string } | { variable: string }][], platform: NodeJS.Platform): string[] {
  if (platform === 'win32') {
    return vars.map(([name, v]) => `$env:${name} = ${'literal' in v ? `'${v.literal.replace(/'/g, "''")}'` : `$env:${v.variable}`}`);
  }
  return vars.map(([name, v]) => `export ${name}=${'literal' in v ? `'${v.literal.replace(/'/g, `'\\''`)}'` : `"$${v.variable}"`}`);
}

export function formatSummary(input: SummaryInput, style: Style): string {
  const label = (text: string) => `  ${padVisible(style.bold(text), 10)}`;
  const lines: string[] = [''];
  const keyValue: { literal: string } | { variable: string } = input.keySource === 'env' ? { variable: 'KIRO_BRIDGE_API_KEY' } : { literal: input.apiKey };
  if (input.keySource === 'generated') {
    lines.push(`${label('API key')}${input.apiKey}`);
    lines.push(`${' '.repeat(12)}${style.dim('generated for this run; keep one with KIRO_BRIDGE_API_KEY or "kiro-bridge config set apiKey"')}`);
  } else {
    lines.push(
      `${label('API key')}${maskSecret(input.apiKey)}  ${style.dim(input.keySource === 'env' ? '(KIRO_BRIDGE_API_KEY)' : `(apiKey in ${input.configFile})`)}`,
    );
  }
  input.accounts.forEach((account, i) => {
    lines.push(`${i === 0 ? label('Accounts') : ' '.repeat(12)}${accountLine(account, i, input.now, style, input.checking === true)}`);
    if (account.stateReason && account.state !== 'ready' && account.state !== 'disabled' && account.state !== 'refreshing') {
      lines.push(`${' '.repeat(16)}${style.dim(account.stateReason)}`);
    }
  });
  if (input.accounts.length > 1) {
    const how = input.strategy === 'priority' ? 'requests stay on one account (*) until it cannot serve' : 'accounts take turns';
    lines.push(`${' '.repeat(12)}${style.dim(`${input.strategy}: ${how}`)}`);
  }
  if (input.proxy) lines.push(`${label('Proxy')}${input.proxy}`);
  if (input.exposedHost) {
    lines.push(
      `${label('Warning')}${style.paint('yellow', `listening on ${input.exposedHost}: anyone who can reach this machine and has the key can use your Kiro account`)}`,
    );
  }
  const root = input.url.replace(/\/+$/, '');
  lines.push('', `  ${style.bold('Claude Code')}`);
  for (const line of envLines(
    [
      ['ANTHROPIC_BASE_URL', { literal: root }],
      ['ANTHROPIC_AUTH_TOKEN', keyValue],
    ],
    input.platform,
  ))
    lines.push(`    ${line}`);
  lines.push(`  ${style.bold('OpenAI SDK')}`);
  for (const line of envLines(
    [
      ['OPENAI_BASE_URL', { literal: `${root}/v1` }],
      ['OPENAI_API_KEY', keyValue],
    ],
    input.platform,
  ))
    lines.push(`    ${line}`);
  lines.push('', style.dim(`  More clients: kiro-bridge configure <client>. Ctrl+C stops. One line per request follows on stderr.`), '');
  return lines.join('\n');
}
