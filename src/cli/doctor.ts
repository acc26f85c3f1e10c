// `kiro-bridge doctor`: everything serve needs, checked in the order a failure would explain the
// next one — Node, the config, the accounts, Kiro reachable (through the configured proxy), each
// account's token refresh, the port, and one real request through a bridge started for the check.
// Each check passes or fails with the fix; exit code 0 when nothing failed, 1 otherwise.
import { createServer } from 'node:net';
import { request } from 'undici';
import { Redactor } from '../common/redact';
import { bridgeConfig, generateApiKey } from '../bridge/config';
import { createBridge } from '../bridge/http/server';
import { kiroEndpoints } from '../kiro/http/endpoints';
import { createDispatcher, describeProxy, proxyFromEnvironment } from '../kiro/http/proxy';
import type { AccountSnapshot } from '../kiro/accounts/accounts-api';
import { modelsFor } from '../clients/client-config';
import { probePort } from '../clients/health-probe';
import { sendTestRequest } from '../clients/test-request';
import { CliUsageError, describeState, openAccounts, type OpenedAccounts } from './accounts';
import { parseCommandLine, SettingsSourceError, type CommandLine } from './command-line';
import { accountsEnvironment, flagHelp, type CliSettings } from './settings';
import { padVisible, startProgress, Style, type OutputStream } from './terminal';
import { version, engines } from '../../package.json';

export const DOCTOR_USAGE = `Usage: kiro-bridge doctor [--json] [--no-request] [options]

Checks what "kiro-bridge serve" needs and says how to fix what fails:
  node        the Node.js version
  config      the config file and settings
  accounts    at least one Kiro account (saved, KIRO_AUTH_TOKEN, or the Kiro IDE's login)
  upstream    Kiro's service reachable from here (through HTTPS_PROXY / the "proxy" setting)
  account:N   each account's token refresh and credits
  port        the port serve would listen on
  request     one real request through a bridge started for the check (costs a fraction of a
              credit; --no-request skips it)

Options:
${flagHelp([
  ['--json', 'print the results as JSON'],
  ['--no-request', 'skip the test request'],
  ['-h, --help', 'show this help'],
])}

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 bad options.
`;

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a failure or warning. */
  fix?: string;
}

export interface DoctorReport {
  version: string;
  ok: boolean;
  checks: CheckResult[];
}

export interface DoctorIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
}

const UPSTREAM_TIMEOUT_MS = 10_000;

/** "20.18.1" from ">=20.18.1". */
function minimumNode(): string {
  return /(\d+\.\d+\.\d+)/.exec(engines.node)?.[1] ?? '20.0.0';
}

function atLeast(current: string, minimum: string): boolean {
  const a = current.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

export function checkNode(current: string = process.versions.node): CheckResult {
  const minimum = minimumNode();
  return atLeast(current, minimum)
    ? { id: 'node', title: 'Node.js', status: 'pass', detail: `${current} (needs ${minimum} or newer)` }
    : {
        id: 'node',
        title: 'Node.js',
        status: 'fail',
        detail: `${current} is too old (needs ${minimum} or newer)`,
        fix: `install Node.js ${minimum.split('.')[0]} (${minimum} or newer) from https://nodejs.org or your package manager`,
      };
}

function networkFix(code: string | undefined, proxied: boolean): string {
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return proxied
      ? 'the proxy host name does not resolve: check HTTPS_PROXY / the "proxy" setting'
      : 'DNS lookup failed: check the network; behind a proxy, set HTTPS_PROXY (or "kiro-bridge config set proxy http://proxy:8080")';
  if (proxied)
    return 'the proxy did not let the request through: check HTTPS_PROXY / the "proxy" setting (credentials go in the URL: http://user:password@proxy:8080) and NO_PROXY';
  return 'check the network or firewall; behind a proxy, set HTTPS_PROXY (or "kiro-bridge config set proxy http://proxy:8080")';
}

/** Any HTTP answer from Kiro's data-plane host counts: this checks the road, not the account. */
export async function checkUpstream(settings: CliSettings, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const target = new URL(kiroEndpoints({ region: settings.region, upstreamBase: settings.upstreamBase }).generate).origin;
  const accountsEnv = accountsEnvironment(env, settings);
  const proxy = proxyFromEnvironment(accountsEnv);
  const proxyUrl = target.startsWith('https:') ? proxy?.httpsProxy : proxy?.httpProxy;
  const via = proxyUrl ? `via proxy ${describeProxy(proxyUrl)}` : 'direct';
  const dispatcher = createDispatcher(proxy, { headersTimeout: UPSTREAM_TIMEOUT_MS, bodyTimeout: UPSTREAM_TIMEOUT_MS });
  const started = Date.now();
  try {
    const answer = await request(target, {
      method: 'GET',
      dispatcher,
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
      headers: { 'user-agent': `kiro-bridge-doctor/${version}` },
    });
    await answer.body.dump().catch(() => undefined);
    if (answer.statusCode === 407) {
      return {
        id: 'upstream',
        title: 'Kiro reachable',
        status: 'fail',
        detail: `${target}: the proxy asks for credentials (HTTP 407, ${via})`,
        fix: 'put the proxy user and password in the URL: http://user:password@proxy:8080',
      };
    }
    return {
      id: 'upstream',
      title: 'Kiro reachable',
      status: 'pass',
      detail: `${target} answered HTTP ${answer.statusCode} in ${Date.now() - started} ms (${via})`,
    };
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const code = e.cause?.code ?? e.code;
    const reason = e.name === 'TimeoutError' ? `no answer within ${UPSTREAM_TIMEOUT_MS / 1000} s` : `${code ?? e.message}`;
    return { id: 'upstream', title: 'Kiro reachable', status: 'fail', detail: `${target}: ${reason} (${via})`, fix: networkFix(code, proxyUrl !== undefined) };
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}

function creditsText(account: AccountSnapshot): string {
  const c = account.credits;
  if (!c) return '';
  const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
  return `; ${n(c.remaining)} of ${n(c.limit)} credits left${c.subscription ? ` (${c.subscription})` : ''}`;
}

/** One account's check from its state after a refresh and usage check; `error` if that threw. */
export function accountCheck(account: AccountSnapshot, index: number, now: number, error?: string): CheckResult {
  const id = `account:${index + 1}`;
  const title = `Account ${index + 1} (${account.label})`;
  const reason = account.stateReason ? ` — ${account.stateReason}` : '';
  // A failure that did not change the account's state (network, Kiro's 5xx) is still a failure.
  if (error && (account.state === 'ready' || account.state === 'refreshing')) {
    return {
      id,
      title,
      status: 'fail',
      detail: `could not refresh or check it: ${error}`,
      fix: 'see "Kiro reachable" above; if Kiro is reachable, try again in a minute ("kiro-bridge usage")',
    };
  }
  switch (account.state) {
    case 'ready':
    case 'refreshing':
      return { id, title, status: 'pass', detail: `token refreshed${creditsText(account)}` };
    case 'disabled':
      return { id, title, status: 'skip', detail: 'turned off' };
    case 'needs_sign_in':
      return {
        id,
        title,
        status: 'fail',
        detail: `${account.kind === 'ApiKey' ? 'Kiro refused the API key' : 'the refresh failed'}${reason}`,
        fix:
          account.kind === 'ApiKey'
            ? account.source === 'env'
              ? 'create a new API key in Kiro and put it into KIRO_API_KEY'
              : `create a new API key in Kiro, add it ("kiro-bridge accounts add --api-key"), then remove this one ("kiro-bridge accounts remove ${index + 1}")`
            : account.source === 'env'
              ? 'put a fresh refresh token into KIRO_AUTH_TOKEN'
              : account.source === 'kiro-ide'
                ? 'sign in to the Kiro IDE again, then run "kiro-bridge accounts import-kiro"'
                : `sign in again ("kiro-bridge accounts login"), then remove this one ("kiro-bridge accounts remove ${index + 1}")`,
      };
    case 'suspended':
      return {
        id,
        title,
        status: 'fail',
        detail: `Kiro suspended this account${reason}`,
        fix: `only Kiro support can lift a suspension; meanwhile remove it ("kiro-bridge accounts remove ${index + 1}")`,
      };
    case 'quota_exhausted':
      return {
        id,
        title,
        status: 'warn',
        detail: `${describeState(account, now)}${creditsText(account)}`,
        fix: 'other accounts serve meanwhile; add one with "kiro-bridge accounts login" if none can',
      };
    case 'cooling_down':
      return { id, title, status: 'warn', detail: `${describeState(account, now)}${reason}` };
  }
}

/** Whether serve could listen on host:port now, and if not, who holds it. */
export async function checkPort(host: string, port: number): Promise<CheckResult> {
  const title = 'Port';
  if (port === 0) return { id: 'port', title, status: 'pass', detail: 'port 0: serve picks a free port' };
  const outcome = await new Promise<{ ok: true } | { ok: false; code?: string; message: string }>((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code, message: error.message }));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve({ ok: true })));
  });
  if (outcome.ok) return { id: 'port', title, status: 'pass', detail: `${host}:${port} is free` };
  const next = port === 65535 ? port - 1 : port + 1;
  const move = `use another port: --port ${next}, KIRO_BRIDGE_PORT=${next} or "kiro-bridge config set port ${next}"`;
  if (outcome.code === 'EADDRINUSE') {
    const probe = await probePort(host, port, 1500);
    if (probe.kind === 'kiro-bridge') {
      return {
        id: 'port',
        title,
        status: 'warn',
        detail: `${host}:${port} is taken by a running Kiro Bridge ${probe.health.version}`,
        fix: `clients can use that one; to start another, ${move}`,
      };
    }
    return {
      id: 'port',
      title,
      status: 'fail',
      detail: `${host}:${port} is in use by another program${probe.kind === 'other' ? ` (${probe.detail})` : ''}`,
      fix: move,
    };
  }
  if (outcome.code === 'EADDRNOTAVAIL')
    return { id: 'port', title, status: 'fail', detail: `${host} is not an address of this machine`, fix: 'use --host 127.0.0.1 (the default)' };
  return { id: 'port', title, status: 'fail', detail: `cannot listen on ${host}:${port}: ${outcome.code ?? outcome.message}`, fix: move };
}

async function checkRequest(opened: OpenedAccounts, settings: CliSettings, redactor: Redactor): Promise<CheckResult> {
  const title = 'Test request';
  const apiKey = generateApiKey();
  const usable = opened.service.list().filter((a) => a.state !== 'disabled' && a.models);
  const model = modelsFor(usable.length ? [...new Set(usable.flatMap((a) => a.models!))] : undefined).main;
  const bridge = createBridge(
    bridgeConfig({
      apiKey,
      port: 0,
      host: '127.0.0.1',
      upstreamBase: settings.upstreamBase,
      region: settings.region,
      modelAliases: settings.modelAliases,
      requestTimeoutSeconds: Math.min(settings.requestTimeoutSeconds, 120),
    }),
    { accounts: opened.service.pool, redactor },
  );
  try {
    const address = await bridge.start();
    const result = await sendTestRequest(address.url, apiKey, model, 120_000);
    const seconds = (result.durationMs / 1000).toFixed(1);
    if (result.ok) {
      const reply = (result.reply ?? '').replace(/\s+/g, ' ').slice(0, 60);
      return { id: 'request', title, status: 'pass', detail: `${model} answered "${reply}" in ${seconds} s` };
    }
    const error = redactor.text(result.error ?? 'unknown error');
    const fix =
      result.status === 401 || result.status === 403
        ? 'the account needs attention: see the account checks above'
        : result.status === 429
          ? 'no account has credits or capacity left right now: "kiro-bridge usage" shows when they reset'
          : 'run "kiro-bridge serve --verbose" and send the request again to see more';
    return { id: 'request', title, status: 'fail', detail: `HTTP ${result.status || '–'} after ${seconds} s: ${error}`, fix };
  } catch (error) {
    return { id: 'request', title, status: 'fail', detail: redactor.text((error as Error).message), fix: 'run "kiro-bridge serve --verbose" to see more' };
  } finally {
    await bridge.stop().catch(() => undefined);
    bridge.dispose();
  }
}

function formatCheck(check: CheckResult, style: Style, width: number): string {
  // "[FAIL]" is the widest ASCII mark; ✓ and ✗ are one column.
  const markWidth = style.unicode ? 1 : 6;
  const lines = [`  ${padVisible(style.mark(check.status), markWidth)} ${check.title.padEnd(width)}  ${check.detail}`];
  if (check.fix && check.status !== 'pass') lines.push(`${' '.repeat(3 + markWidth)}${style.dim('fix:')} ${check.fix}`);
  return lines.join('\n');
}

export async function doctorCommand(args: string[], io: DoctorIO): Promise<number> {
  let parsed: CommandLine;
  try {
    parsed = parseCommandLine(args, io.env, { json: { type: 'boolean' }, 'no-request': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    // A broken config file or variable is a finding, not a usage error.
    if (error instanceof SettingsSourceError) {
      return report(io, args.includes('--json'), [
        checkNode(),
        {
          id: 'config',
          title: 'Config',
          status: 'fail',
          detail: error.message,
          fix: 'fix or remove the setting named above ("kiro-bridge config path" shows the file)',
        },
      ]);
    }
    io.stderr.write(`kiro-bridge doctor: ${error.message}\n\nRun "kiro-bridge doctor --help" for the options.\n`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout.write(DOCTOR_USAGE);
    return 0;
  }
  const json = parsed.values.json === true;
  const { settings } = parsed;
  const redactor = new Redactor();
  redactor.add(settings.apiKey);
  const checks: CheckResult[] = [];
  const run = async (label: string, work: () => Promise<CheckResult | CheckResult[]>) => {
    const progress = json ? undefined : startProgress(io.stderr, io.env, label);
    try {
      const result = await work();
      checks.push(...(Array.isArray(result) ? result : [result]));
    } finally {
      progress?.done();
    }
  };

  checks.push(checkNode());
  checks.push({
    id: 'config',
    title: 'Config',
    status: 'pass',
    detail: parsed.configExists ? `${parsed.configFile} (valid)` : `no config file (${parsed.configFile}); defaults and environment`,
  });

  let opened: OpenedAccounts | undefined;
  const noLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  try {
    opened = await openAccounts(accountsEnvironment(io.env, settings), { logger: noLogger, redactor, strategy: settings.strategy });
    const list = opened.service.list();
    const bySource = (source: AccountSnapshot['source']) => list.filter((a) => a.source === source).length;
    if (list.length === 0) {
      checks.push({
        id: 'accounts',
        title: 'Accounts',
        status: 'fail',
        detail: 'no Kiro account: none saved, no KIRO_AUTH_TOKEN or KIRO_API_KEY, and no Kiro IDE login to import',
        fix: 'add one: "kiro-bridge accounts login" (browser or device code), "kiro-bridge accounts import-kiro" (the Kiro IDE\'s login) or "kiro-bridge accounts add" (a refresh token)',
      });
    } else {
      const parts = [`${bySource('manual') + bySource('sign-in') + bySource('kiro-ide')} saved`, `${bySource('env')} from KIRO_AUTH_TOKEN / KIRO_API_KEY`];
      checks.push({ id: 'accounts', title: 'Accounts', status: 'pass', detail: `${list.length} (${parts.join(', ')})` });
    }
  } catch (error) {
    checks.push({
      id: 'accounts',
      title: 'Accounts',
      status: 'fail',
      detail: redactor.text((error as Error).message),
      fix: 'fix KIRO_AUTH_TOKEN: a JSON array of {"auth":"Social"|"IdC","refreshToken":"…"} or a path to a file holding it',
    });
  }

  try {
    await run('Reaching Kiro', () => checkUpstream(settings, io.env));
    const list = opened?.service.list() ?? [];
    if (opened && list.length) {
      await run(`Refreshing ${list.length === 1 ? 'the account' : `${list.length} accounts`}`, async () => {
        const service = opened!.service;
        const errors = await Promise.all(
          list.map((a) =>
            a.state === 'disabled'
              ? undefined
              : service.refreshUsage(a.id).then(
                  () => undefined,
                  (error: Error) => redactor.text(error.message),
                ),
          ),
        );
        const now = Date.now();
        return list.map((a, i) => accountCheck(service.get(a.id) ?? a, i, now, errors[i]));
      });
    }
    await run('Checking the port', () => checkPort(settings.host, settings.port));
    const ready = checks.some((c) => c.id.startsWith('account:') && (c.status === 'pass' || c.status === 'warn'));
    if (parsed.values['no-request']) {
      checks.push({ id: 'request', title: 'Test request', status: 'skip', detail: 'skipped (--no-request)' });
    } else if (!opened || !ready) {
      checks.push({ id: 'request', title: 'Test request', status: 'skip', detail: 'no account can serve, so no request was sent' });
    } else {
      await run('Sending a test request through a bridge', () => checkRequest(opened!, settings, redactor));
    }
  } finally {
    await opened?.dispose();
  }
  return report(
    io,
    json,
    checks.map((c) => ({ ...c, detail: redactor.text(c.detail), fix: c.fix && redactor.text(c.fix) })),
  );
}

function report(io: DoctorIO, json: boolean, checks: CheckResult[]): number {
  const failed = checks.filter((c) => c.status === 'fail').length;
  const result: DoctorReport = { version, ok: failed === 0, checks };
  if (json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return failed ? 1 : 0;
  }
  const style = Style.for(io.stdout, io.env);
  const width = Math.max(...checks.map((c) => c.title.length));
  const lines = [`Kiro Bridge ${version} doctor`, '', ...checks.map((c) => formatCheck(c, style, width)), ''];
  const warned = checks.filter((c) => c.status === 'warn').length;
  if (failed) lines.push(style.paint('red', `${failed} of ${checks.length} checks failed.`));
  else lines.push(style.paint('green', `All checks passed${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}.`));
  io.stdout.write(`${lines.join('\n')}\n`);
  return failed ? 1 : 0;
}
