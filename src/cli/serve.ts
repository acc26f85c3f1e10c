// `kiro-bridge serve`: the bridge in the foreground. Settings from flags > environment > config
// file > defaults; the accounts saved by `kiro-bridge accounts …` plus KIRO_AUTH_TOKEN's (the Kiro
// IDE's login is imported when there are none); one summary screen once it listens; one log line
// per finished request on stderr; a clean stop on SIGINT/SIGTERM (open streams end with an error
// event, never a hang). Exit codes: 0 stopped cleanly, 1 could not start or stop, 2 bad usage or
// no usable account.
import { Redactor } from '../common/redact';
import { bridgeConfig, generateApiKey } from '../bridge/config';
import { createBridge } from '../bridge/http/server';
import { CREDENTIALS_HELP } from '../kiro/accounts/credentials';
import { KiroError } from '../kiro/errors';
import { describeProxy } from '../kiro/http/proxy';
import { isLoopbackHost } from '../clients/addresses';
import { probePort } from '../clients/health-probe';
import { CliUsageError, describeState, openAccounts, type OpenedAccounts } from './accounts';
import { parseCommandLine, type CommandLine } from './command-line';
import { requestLog, streamLogger } from './request-log';
import { accountsEnvironment, flagHelp } from './settings';
import { formatSummary, type KeySource } from './summary';
import { tuneHeapForServe } from './heap-tuning';
import { startProgress, Style, type OutputStream } from './terminal';
import { version } from '../../package.json';

export const SERVE_USAGE = `Usage: kiro-bridge serve [options]

Runs the bridge in the foreground until Ctrl+C (or SIGTERM). Prints the URL, the key, the
accounts with their credits and the lines for Claude Code and the OpenAI SDK, then one line per
request on stderr.

Options (each also has a config-file key; "kiro-bridge config --help"):
${flagHelp([
  ['--verbose', 'log debug details on stderr'],
  ['--quiet', 'no line per request'],
  ['-h, --help', 'show this help'],
])}

Accounts: KIRO_API_KEY's key and KIRO_AUTH_TOKEN's accounts (first in priority: what the
environment names wins), then the saved ones ("kiro-bridge accounts"). With none, serve imports
the Kiro IDE's login from ~/.aws/sso/cache if there is one.

Environment: KIRO_BRIDGE_API_KEY (the key clients send; generated for the run if unset and not
in the config file), KIRO_AUTH_TOKEN (more accounts: JSON or a path to a JSON file), KIRO_API_KEY
(a Kiro API key, ksk_…, as the Kiro CLI's headless mode reads it),
KIRO_BRIDGE_PORT, KIRO_BRIDGE_HOST, KIRO_BRIDGE_STRATEGY, KIRO_BRIDGE_LOG_FORMAT,
KIRO_BRIDGE_MODEL_ALIASES, KIRO_BRIDGE_ALLOWED_ORIGINS, KIRO_BRIDGE_REGION,
KIRO_BRIDGE_UPSTREAM_BASE, KIRO_BRIDGE_CONFIG_DIR, HTTPS_PROXY / HTTP_PROXY / NO_PROXY.

Exit codes: 0 stopped cleanly, 1 could not start (port in use, …), 2 bad options or no account.
`;

export interface ServeIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
}

/** How long the summary waits for the accounts' first check before it prints what it has. */
const SUMMARY_WAIT_MS = 15_000;

function waitAtMost(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

async function portInUseMessage(host: string, port: number, reason: string): Promise<string> {
  const probe = await probePort(host, port, 1500).catch(() => undefined);
  const who =
    probe?.kind === 'kiro-bridge'
      ? `a Kiro Bridge ${probe.health.version} already serves there (another terminal, or a VS Code window): use it, or stop it first`
      : probe?.kind === 'other'
        ? `another program holds it (${probe.detail})`
        : undefined;
  return `could not start: ${reason}${who ? `\n  ${who}` : ''}\n  Fix: pick another port with --port ${port === 65535 ? port - 1 : port + 1} (or KIRO_BRIDGE_PORT, or "kiro-bridge config set port ${port === 65535 ? port - 1 : port + 1}"), or --port 0 for any free one.`;
}

export async function serveCommand(args: string[], io: ServeIO): Promise<number> {
  const errStyle = Style.for(io.stderr, io.env);
  let parsed: CommandLine;
  try {
    parsed = parseCommandLine(args, io.env, { verbose: { type: 'boolean' }, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    io.stderr.write(`kiro-bridge serve: ${(error as Error).message}\n\nRun "kiro-bridge serve --help" for the options.\n`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout.write(SERVE_USAGE);
    return 0;
  }
  const { settings } = parsed;
  // Before the first upstream call compiles undici's parser.
  tuneHeapForServe();
  const redactor = new Redactor();
  redactor.add(settings.apiKey);
  const logger = streamLogger({ stream: io.stderr, format: settings.logFormat, style: errStyle, redactor, minimum: parsed.values.verbose ? 'debug' : 'info' });
  const accountsEnv = accountsEnvironment(io.env, settings);

  let opened: OpenedAccounts;
  try {
    opened = await openAccounts(accountsEnv, { logger, redactor, watch: true, strategy: settings.strategy });
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    io.stderr.write(`kiro-bridge serve: ${redactor.text(error.message)}\n\n${CREDENTIALS_HELP}\n`);
    return 2;
  }
  const { service } = opened;
  service.pool.noAccountMessage = 'no Kiro account is configured; run "kiro-bridge accounts import-kiro" or "kiro-bridge accounts add"';
  if (service.list().length === 0) {
    // Nothing saved, no KIRO_AUTH_TOKEN, no KIRO_API_KEY: use the Kiro IDE's login on this machine, if any.
    try {
      const imported = await service.importKiroIde();
      logger.info(`imported the Kiro IDE login (${imported.label}); it is saved in ${opened.file}`);
    } catch (error) {
      await opened.dispose();
      const reason = error instanceof KiroError ? redactor.text(error.message) : String(error);
      io.stderr.write(
        `kiro-bridge: no Kiro account configured.\n  ${reason}\n\n` +
          'Add one with "kiro-bridge accounts import-kiro" (the Kiro IDE\'s login), "kiro-bridge accounts add" (a refresh token)\n' +
          `or "kiro-bridge accounts login", or set KIRO_AUTH_TOKEN:\n\n${CREDENTIALS_HELP}\n\nThen run the command again.\n`,
      );
      return 2;
    }
  }
  if (service.list().every((a) => a.state === 'disabled')) {
    await opened.dispose();
    io.stderr.write('kiro-bridge: every Kiro account is turned off (disabled); enable one first.\n');
    return 2;
  }

  const keySource: KeySource = parsed.sources.apiKey === 'env' ? 'env' : settings.apiKey ? 'config' : 'generated';
  const apiKey = settings.apiKey ?? generateApiKey();
  const config = bridgeConfig({
    port: settings.port,
    host: settings.host,
    apiKey,
    upstreamBase: settings.upstreamBase,
    region: settings.region,
    pingIntervalSeconds: settings.pingIntervalSeconds,
    requestTimeoutSeconds: settings.requestTimeoutSeconds,
    bodyLimit: settings.bodyLimit,
    allowedOrigins: settings.allowedOrigins,
    modelAliases: settings.modelAliases,
    thinkingDefaultBudget: settings.thinkingBudget,
    captureBodies: settings.captureBodies,
  });
  const traffic = requestLog({ stream: io.stderr, format: settings.logFormat, style: errStyle, redactor, quiet: parsed.values.quiet === true });
  const bridge = createBridge(config, { accounts: service.pool, logger, redactor, traffic });

  let address: Awaited<ReturnType<typeof bridge.start>>;
  try {
    address = await bridge.start();
  } catch (error) {
    const reason = (error as Error).message;
    const message = /already in use/.test(reason) ? await portInUseMessage(config.host, config.port, reason) : `could not start: ${reason}`;
    io.stderr.write(`kiro-bridge serve: ${redactor.text(message)}\n`);
    bridge.dispose();
    await opened.dispose();
    return 1;
  }

  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.stderr.write(`kiro-bridge: ${signal} again, exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      logger.info(`${signal} received, stopping (${bridge.inFlightCount} request(s) in flight)…`);
      bridge
        .stop()
        .then(() => opened.dispose())
        .then(
          () => {
            logger.info('stopped');
            resolve(0);
          },
          (error: Error) => {
            logger.error(`error while stopping: ${error.message}`);
            resolve(1);
          },
        );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // Under npx or an npm script the bridge runs as npm → sh → node. A SIGTERM to npm (docker
    // stop, a process manager, kill) reaches the shell, which dies without passing it on, and the
    // bridge would keep the port as an orphan. So when npm started us, losing the parent counts
    // as SIGTERM. Not otherwise: `nohup kiro-bridge serve &` must outlive its shell.
    if (io.env.npm_lifecycle_event !== undefined) {
      const parent = process.ppid;
      const watch = setInterval(() => {
        if (process.ppid === parent) return;
        clearInterval(watch);
        logger.info('npm, which started the bridge, has exited');
        onSignal('SIGTERM');
      }, 500);
      watch.unref();
    }
  });

  const outStyle = Style.for(io.stdout, io.env);
  io.stdout.write(`${outStyle.bold(`Kiro Bridge ${version}`)} listening on ${address.url}\n`);

  // Check every account now (token, credits, models), so a bad login shows up here and not in
  // the first request, and the summary can show credits.
  const checked = service.checkAll();
  const accounts = service.list().filter((a) => a.state !== 'disabled').length;
  const checking = `Checking ${accounts === 1 ? 'the account' : `${accounts} accounts`} with Kiro`;
  // A spinner or progress line would break a JSON log; there it is one log line.
  const progress = settings.logFormat === 'json' ? undefined : startProgress(io.stderr, io.env, checking);
  const done = await waitAtMost(checked, SUMMARY_WAIT_MS);
  progress?.done();
  if (!done) logger.warn(`${checking}: no answer yet after ${SUMMARY_WAIT_MS / 1000} s; serving anyway`);
  io.stdout.write(
    `${formatSummary(
      {
        url: address.url,
        apiKey,
        keySource,
        configFile: parsed.configFile,
        accounts: service.list(),
        strategy: service.strategy,
        proxy: opened.proxy?.httpsProxy ? describeProxy(opened.proxy.httpsProxy) : undefined,
        exposedHost: isLoopbackHost(config.host) ? undefined : config.host,
        checking: !done,
        platform: io.platform,
        now: Date.now(),
      },
      outStyle,
    )}\n`,
  );
  const report = () => {
    for (const a of service.list()) {
      if (a.state === 'disabled' || a.state === 'ready' || a.state === 'refreshing') continue;
      logger.error(`account ${a.label}: ${describeState(a, Date.now())}${a.stateReason ? ` — ${a.stateReason}` : ''}`);
    }
  };
  if (done) report();
  else void checked.then(report);

  return stopped;
}
