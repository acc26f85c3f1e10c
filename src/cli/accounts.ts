// `kiro-bridge accounts …`: list, import-kiro, add, remove, usage. Accounts live in
// `<config folder>/kiro-bridge/accounts.json` (0600; env-paths picks the platform's folder;
// KIRO_BRIDGE_CONFIG_DIR overrides it) through the same AccountsService the extension uses, so a
// running `serve` follows what these commands change. Tokens are never printed: labels are e-mails
// or masked tokens, and secrets are read from a prompt or stdin rather than from flags when possible.
import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { FileSecretStore } from '../common/file-secret-store';
import type { Logger } from '../common/logger';
import { Redactor } from '../common/redact';
import type { AccountSnapshot, AddAccountInput } from '../kiro/accounts/accounts-api';
import { KiroAccountsService } from '../kiro/accounts/accounts-service';
import { addEnvironmentAccounts } from '../kiro/accounts/env-variables';
import { validateUpstreamBase } from '../kiro/http/endpoints';
import { KiroError } from '../kiro/errors';
import { describeProxy, proxyFromEnvironment, proxySecrets, type ProxySettings } from '../kiro/http/proxy-settings';
import type { SelectionStrategy } from '../kiro/accounts/selection';
import { accountsFile, CliUsageError } from './cli-base';

export { accountsFile, CliUsageError, configDir } from './cli-base';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Reads one secret: a hidden prompt on a terminal, else a line of stdin. */
  readSecret(prompt: string): Promise<string>;
  env: NodeJS.ProcessEnv;
  now?: () => number;
  /** Shows that a long operation is under way (a spinner on a terminal); `done` ends it. */
  progress?(text: string): { done(): void };
}

/** Runs `work` under io.progress, if the caller gave one. */
async function withProgress<T>(io: CliIO, text: string, work: () => Promise<T>): Promise<T> {
  const shown = io.progress?.(text);
  try {
    return await work();
  } finally {
    shown?.done();
  }
}

export const ACCOUNTS_USAGE = `Usage: kiro-bridge accounts <command> [options]

Commands:
  list                 every account with its state, credits left and reset date
  usage [ACCOUNT]      check credits and models with Kiro now (all accounts, or one)
  import-kiro          import the Kiro IDE's login (~/.aws/sso/cache/kiro-auth-token.json)
  add                  add an account by its refresh token (asked for, or read from stdin)
  add --api-key        add a Kiro API key (ksk_…, Kiro Pro and above; asked for, or read from stdin)
  remove ACCOUNT       remove a saved account
  login [METHOD]       sign in with Builder ID, IAM Identity Center, GitHub or Google
                       (kiro-bridge accounts login --help)

ACCOUNT is the number "list" shows, the account id, or its e-mail.

Options:
  --offline            list: show saved state only, do not ask Kiro
  --json               print JSON (list, usage: the accounts; import-kiro, add, remove: the account)
  --cache-dir DIR      import-kiro: the folder holding kiro-auth-token.json
  --idc                add: a Builder ID / IAM Identity Center login (default: Social, GitHub/Google)
  --api-key            add: a Kiro API key instead of a login (never refreshed, no sign-in)
  --client-id ID       add --idc: the client registration id (from ~/.aws/sso/cache/<hash>.json)
  --region REGION      add: the account's AWS region (default us-east-1)
  --label NAME         add: a name to show for the account
  --refresh-token T    add: the token on the command line (visible to other users; prefer the prompt)

Accounts are saved in accounts.json in your config folder (~/.config/kiro-bridge on Linux;
KIRO_BRIDGE_CONFIG_DIR overrides it), readable only by you. KIRO_AUTH_TOKEN accounts and the
KIRO_API_KEY key (as the Kiro CLI reads it) are listed too, but live in those variables.
`;

export interface OpenAccountsOptions {
  logger: Logger;
  redactor: Redactor;
  /** Follow changes other processes make to the file (serve). */
  watch?: boolean;
  strategy?: SelectionStrategy;
  now?: () => number;
  /** The pool's maximum wait for a cooling account etc. */
  pool?: ConstructorParameters<typeof KiroAccountsService>[0]['pool'];
}

export interface OpenedAccounts {
  service: KiroAccountsService;
  file: string;
  /** Where KIRO_AUTH_TOKEN came from, when it named a file. */
  envFile?: string;
  proxy?: ProxySettings;
  dispose(): Promise<void>;
}

/** The upstream settings every command shares (environment). */
export function upstreamFromEnv(env: NodeJS.ProcessEnv): { upstreamBase?: string; region?: string; proxy?: ProxySettings } {
  const upstreamBase = env.KIRO_BRIDGE_UPSTREAM_BASE?.trim() || undefined;
  if (upstreamBase) {
    try {
      validateUpstreamBase(upstreamBase);
    } catch (error) {
      throw new CliUsageError(`KIRO_BRIDGE_UPSTREAM_BASE: ${(error as Error).message}`);
    }
  }
  return { upstreamBase, region: env.KIRO_BRIDGE_REGION?.trim() || undefined, proxy: proxyFromEnvironment(env) };
}

/**
 * Builds the accounts service over the CLI's file store, with the KIRO_AUTH_TOKEN accounts (first
 * in priority: what the environment names explicitly wins) and the saved ones.
 */
export async function openAccounts(env: NodeJS.ProcessEnv, options: OpenAccountsOptions): Promise<OpenedAccounts> {
  const file = accountsFile(env);
  const upstream = upstreamFromEnv(env);
  for (const secret of proxySecrets(upstream.proxy)) options.redactor.add(secret);
  const secrets = new FileSecretStore(file, { watch: options.watch ?? false });
  const service = new KiroAccountsService({
    secrets,
    redactor: options.redactor,
    logger: options.logger,
    now: options.now,
    upstreamBase: upstream.upstreamBase,
    region: upstream.region,
    proxy: upstream.proxy,
    strategy: options.strategy,
    watchKiroIde: options.watch ?? false,
    pool: options.pool,
  });
  // Before start(), so that KIRO_AUTH_TOKEN's accounts come before the saved ones.
  const fromEnv = addEnvironmentAccounts(service, env, options.redactor);
  const problem = fromEnv.problems[0];
  if (problem) {
    service.dispose();
    secrets.dispose();
    throw new CliUsageError(problem.message);
  }
  try {
    await service.start();
  } catch (error) {
    service.dispose();
    secrets.dispose();
    throw new CliUsageError(options.redactor.text((error as Error).message));
  }
  return {
    service,
    file,
    envFile: fromEnv.authToken?.file,
    proxy: upstream.proxy,
    async dispose() {
      await service.flush().catch(() => undefined);
      service.dispose();
      secrets.dispose();
    },
  };
}

// ---- formatting -----------------------------------------------------------------------------------

const STATE_WORDS: Record<AccountSnapshot['state'], string> = {
  ready: 'ready',
  refreshing: 'refreshing',
  cooling_down: 'cooling down',
  quota_exhausted: 'quota exhausted',
  suspended: 'SUSPENDED',
  needs_sign_in: 'needs sign-in',
  disabled: 'disabled',
};

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function when(ms: number, now: number): string {
  const minutes = Math.round((ms - now) / 60_000);
  if (minutes < 1) return 'in under a minute';
  if (minutes < 120) return `in ${minutes} min`;
  return `at ${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function credits(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

export function describeState(snapshot: AccountSnapshot, now: number): string {
  let text = STATE_WORDS[snapshot.state];
  if (snapshot.until !== undefined) text += snapshot.state === 'quota_exhausted' ? ` until ${day(snapshot.until)}` : ` (back ${when(snapshot.until, now)})`;
  return text;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The `list` table: one row per account, then the reasons for any account not ready. */
export function formatAccountsTable(snapshots: readonly AccountSnapshot[], now: number): string {
  if (snapshots.length === 0) return 'No Kiro accounts yet. Run "kiro-bridge accounts import-kiro" or "kiro-bridge accounts add".\n';
  const header = ['#', 'account', 'kind', 'source', 'state', 'credits left', 'resets', 'id'];
  const rows = snapshots.map((s, i) => [
    `${i + 1}${s.active ? '*' : ''}`,
    s.label,
    s.kind,
    s.source,
    describeState(s, now),
    s.credits ? `${credits(s.credits.remaining)} / ${credits(s.credits.limit)}` : '–',
    s.credits?.resetAt !== undefined ? day(s.credits.resetAt) : '–',
    s.id,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => pad(cell, widths[c]!))
      .join('  ')
      .trimEnd();
  const lines = [line(header), ...rows.map(line)];
  const notes = snapshots
    .map((s, i) => (s.stateReason && s.state !== 'ready' && s.state !== 'disabled' ? `  ${i + 1}: ${s.stateReason}` : undefined))
    .filter((n): n is string => n !== undefined);
  if (snapshots.some((s) => s.active)) lines.push('', '* the account requests go to now');
  if (notes.length) lines.push('', ...notes);
  return `${lines.join('\n')}\n`;
}

function formatUsage(snapshot: AccountSnapshot, index: number, now: number): string {
  const lines = [`${index + 1}. ${snapshot.label} (${snapshot.kind}, ${snapshot.source}) — ${describeState(snapshot, now)}`];
  if (snapshot.stateReason && snapshot.state !== 'ready') lines.push(`   ${snapshot.stateReason}`);
  if (snapshot.credits) {
    const c = snapshot.credits;
    lines.push(`   plan: ${c.subscription ?? 'unknown'}`);
    lines.push(`   credits: ${credits(c.remaining)} left of ${credits(c.limit)}${c.resetAt !== undefined ? `, resets ${day(c.resetAt)}` : ''}`);
    if (c.usedThisSession > 0) lines.push(`   used by this check's session: ${credits(c.usedThisSession)}`);
  } else {
    lines.push('   credits: unknown (Kiro could not be asked)');
  }
  if (snapshot.models) lines.push(`   models: ${snapshot.models.join(', ') || 'none listed'}`);
  return lines.join('\n');
}

// ---- commands ---------------------------------------------------------------------------------------

function findAccount(snapshots: readonly AccountSnapshot[], key: string): AccountSnapshot {
  const trimmed = key.trim();
  const byNumber = /^\d+$/.test(trimmed) ? snapshots[Number(trimmed) - 1] : undefined;
  const found = byNumber ?? snapshots.find((s) => s.id === trimmed) ?? snapshots.find((s) => s.label.toLowerCase() === trimmed.toLowerCase());
  if (!found) throw new CliUsageError(`no account "${trimmed.slice(0, 80)}"; "kiro-bridge accounts list" shows the numbers and ids`);
  return found;
}

const quietLogger = (io: CliIO, redactor: Redactor): Logger => {
  const line = (level: string) => (message: string) => io.err(`[${level}] ${redactor.text(message)}\n`);
  return { trace: () => {}, debug: () => {}, info: () => {}, warn: line('warn'), error: line('error') };
};

/** Runs `kiro-bridge accounts …`; resolves with the exit code. */
export async function accountsCommand(args: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = args;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    io.out(ACCOUNTS_USAGE);
    return command ? 0 : 2;
  }
  const redactor = new Redactor();
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: {
        offline: { type: 'boolean' },
        json: { type: 'boolean' },
        'cache-dir': { type: 'string' },
        idc: { type: 'boolean' },
        social: { type: 'boolean' },
        'client-id': { type: 'string' },
        region: { type: 'string' },
        label: { type: 'string' },
        'refresh-token': { type: 'string' },
        'api-key': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    io.err(`kiro-bridge accounts: ${(error as Error).message}\n\n${ACCOUNTS_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(ACCOUNTS_USAGE);
    return 0;
  }
  const known = ['list', 'usage', 'import-kiro', 'add', 'remove'];
  if (!known.includes(command)) {
    io.err(`kiro-bridge accounts: unknown command "${command.slice(0, 40)}"\n\n${ACCOUNTS_USAGE}`);
    return 2;
  }

  let opened: OpenedAccounts | undefined;
  const now = io.now ?? Date.now;
  try {
    opened = await openAccounts(io.env, { logger: quietLogger(io, redactor), redactor, now });
    if (opened.proxy?.httpsProxy) io.err(`using proxy ${describeProxy(opened.proxy.httpsProxy)}\n`);
    const { service } = opened;
    switch (command) {
      case 'list': {
        if (!values.offline) await withProgress(io, 'Asking Kiro for credits', () => service.refreshUsage());
        const list = service.list();
        io.out(values.json ? `${JSON.stringify(list, null, 2)}\n` : formatAccountsTable(list, now()));
        return 0;
      }
      case 'usage': {
        const target = positionals[0] ? findAccount(service.list(), positionals[0]) : undefined;
        await withProgress(io, 'Asking Kiro for credits and models', () =>
          target ? service.refreshUsage(target.id).catch(() => undefined) : service.refreshUsage(),
        );
        const list = target ? [service.get(target.id)!] : service.list();
        if (values.json) io.out(`${JSON.stringify(list, null, 2)}\n`);
        else if (list.length === 0) io.out(formatAccountsTable([], now()));
        else
          io.out(
            `${list
              .map((s) =>
                formatUsage(
                  s,
                  service.list().findIndex((x) => x.id === s.id),
                  now(),
                ),
              )
              .join('\n\n')}\n`,
          );
        return 0;
      }
      case 'import-kiro': {
        const snapshot = await withProgress(io, 'Checking the Kiro IDE login with Kiro', () =>
          service.importKiroIde({ cacheDir: typeof values['cache-dir'] === 'string' ? path.resolve(values['cache-dir']) : undefined }),
        );
        if (values.json) {
          io.out(`${JSON.stringify({ imported: snapshot, file: opened.file }, null, 2)}\n`);
          return 0;
        }
        io.out(`Imported the Kiro IDE login: ${snapshot.label} (${snapshot.kind}).\n`);
        if (snapshot.credits) io.out(`Credits: ${credits(snapshot.credits.remaining)} left of ${credits(snapshot.credits.limit)}.\n`);
        io.out(`Saved in ${opened.file}. The bridge follows the IDE's token file, so both stay signed in.\n`);
        return 0;
      }
      case 'add': {
        if ([values.idc, values.social, values['api-key']].filter(Boolean).length > 1) throw new CliUsageError('choose one of --idc, --social and --api-key');
        const common = {
          region: typeof values.region === 'string' ? values.region : undefined,
          label: typeof values.label === 'string' ? values.label : undefined,
          source: 'manual' as const,
        };
        let input: AddAccountInput;
        let checking: string;
        if (values['api-key']) {
          if (values['refresh-token'] || values['client-id']) throw new CliUsageError('--api-key takes no refresh token or client id');
          // Read, never taken from the command line (other users could see it there).
          const apiKey = (await io.readSecret('Kiro API key, ksk_… (input hidden): ')).trim();
          redactor.add(apiKey);
          input = { kind: 'ApiKey', apiKey, ...common };
          checking = 'Checking the API key with Kiro';
        } else {
          const kind = values.idc ? 'IdC' : 'Social';
          let refreshToken = typeof values['refresh-token'] === 'string' ? values['refresh-token'] : undefined;
          if (refreshToken) io.err('note: a token on the command line is visible to other users of this machine; the prompt is safer.\n');
          refreshToken ??= await io.readSecret('Refresh token (input hidden): ');
          let clientId = typeof values['client-id'] === 'string' ? values['client-id'] : undefined;
          let clientSecret: string | undefined;
          if (kind === 'IdC') {
            clientId ??= (await io.readSecret('Client id: ')).trim();
            clientSecret = (await io.readSecret('Client secret (input hidden): ')).trim();
          }
          input = { kind, refreshToken: refreshToken.trim(), clientId, clientSecret, ...common };
          checking = 'Checking the account with Kiro';
        }
        const snapshot = await withProgress(io, checking, () => service.add(input));
        if (values.json) {
          io.out(`${JSON.stringify({ added: snapshot, file: opened.file }, null, 2)}\n`);
          return 0;
        }
        const kindLabel = snapshot.kind === 'ApiKey' ? 'Kiro API key' : snapshot.kind;
        io.out(
          `Added ${snapshot.label} (${kindLabel})${snapshot.credits ? `: ${credits(snapshot.credits.remaining)} of ${credits(snapshot.credits.limit)} credits left` : ''}.\n`,
        );
        io.out(`Saved in ${opened.file}.\n`);
        return 0;
      }
      case 'remove': {
        if (!positionals[0]) throw new CliUsageError('name the account to remove (its number from "list", its id or its e-mail)');
        const target = findAccount(service.list(), positionals[0]);
        await service.remove(target.id);
        io.out(values.json ? `${JSON.stringify({ removed: target }, null, 2)}\n` : `Removed ${target.label}.\n`);
        return 0;
      }
    }
    return 2;
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.err(`kiro-bridge accounts: ${redactor.text(error.message)}\n`);
      return 2;
    }
    if (error instanceof KiroError) {
      io.err(`kiro-bridge accounts: ${redactor.text(error.message)}\n`);
      return 1;
    }
    throw error;
  } finally {
    await opened?.dispose();
  }
}

/** Reads a secret from the terminal without echo, or one line from piped stdin. */
export function readSecretFromStdin(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    return new Promise((resolve, reject) => {
      let data = '';
      const onData = (chunk: Buffer) => {
        data += chunk.toString('utf8');
        const newline = data.indexOf('\n');
        if (newline >= 0) finish(data.slice(0, newline));
      };
      const onEnd = () => finish(data);
      const finish = (line: string) => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
        resolve(line.replace(/\r$/, ''));
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.on('error', reject);
      stdin.resume();
    });
  }
  return new Promise((resolve) => {
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          stdin.setRawMode(false);
          process.stderr.write('\n');
          process.exit(130);
        }
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}
