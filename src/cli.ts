// Headless entry point over the same bridge the extension runs: `kiro-bridge serve` and
// `kiro-bridge accounts …`. Composition only: read flags and environment into a BridgeConfig, load
// the accounts (saved ones and KIRO_AUTH_TOKEN's) into the pool, start the bridge, print one line
// per finished request on stderr, stop cleanly on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import type { Logger, LogLevel } from './common/logger';
import { Redactor } from './common/redact';
import type { RequestRecord, TrafficSink } from './common/traffic';
import { CAPTURE_MODES } from './common/traffic-protocol';
import { bridgeConfig, DEFAULT_CONFIG, generateApiKey, parseByteSize, type BridgeConfig } from './bridge/config';
import { createBridge } from './bridge/server';
import { formatRecordLine } from './bridge/traffic';
import { CREDENTIALS_HELP } from './kiro/credentials';
import { validateUpstreamBase } from './kiro/endpoints';
import { KiroError } from './kiro/errors';
import { describeProxy } from './kiro/proxy';
import { isSelectionStrategy, type SelectionStrategy } from './kiro/selection';
import { accountsCommand, CliUsageError, describeState, openAccounts, readSecretFromStdin, type OpenedAccounts } from './cli/accounts';
import { loginCommand } from './cli/accounts-login';
import { version } from '../package.json';

const USAGE = `Usage: kiro-bridge <command> [options]

Commands:
  serve       run the bridge in the foreground (Ctrl+C stops it)
  accounts    list, import, add, remove your Kiro accounts and check their credits
              (kiro-bridge accounts --help)

Options of serve:
  --port N               port to listen on (default ${DEFAULT_CONFIG.port}; 0 picks a free one)
  --host H               address to bind (default ${DEFAULT_CONFIG.host}; other addresses expose
                         your Kiro account to the network, guarded only by the key)
  --ping-interval S      seconds between SSE pings while waiting for Kiro (default ${DEFAULT_CONFIG.pingIntervalSeconds})
  --timeout S            seconds Kiro may stay silent before the request fails (default ${DEFAULT_CONFIG.requestTimeoutSeconds})
  --body-limit SIZE      largest request body, e.g. 50mb (default 50mb)
  --allow-origin ORIGIN  let a browser page on ORIGIN call the bridge (repeatable)
  --alias NAME=MODEL     accept model NAME as MODEL (repeatable), e.g. gpt-4o=claude-sonnet-4-5
  --thinking-budget N    thinking budget for "-thinking" model names (default ${DEFAULT_CONFIG.thinkingDefaultBudget})
  --capture MODE         keep request bodies in the traffic record: off | redacted | full (default off)
  --strategy NAME        which account serves: priority (stay on one until it cannot serve; default)
                         or round-robin (take turns)
  --verbose              log debug details on stderr
  --quiet                do not print a line per request
  -h, --help             show this help
  -v, --version          print the version

Accounts: the saved ones (kiro-bridge accounts import-kiro | add), then KIRO_AUTH_TOKEN's. With
none, serve imports the Kiro IDE's login from ~/.aws/sso/cache if there is one.

Environment:
  KIRO_AUTH_TOKEN            more Kiro account(s): JSON, or a path to a JSON file (optional)
  KIRO_BRIDGE_API_KEY        the key clients must send; a random one is generated and printed if unset
  KIRO_BRIDGE_UPSTREAM_BASE  one base URL replacing every Kiro host (tests, proxies)
  KIRO_BRIDGE_REGION         Kiro region when the account names none (default us-east-1)
  KIRO_BRIDGE_STRATEGY       priority | round-robin, as --strategy
  KIRO_BRIDGE_CONFIG_DIR     where accounts.json lives (default: your platform's config folder)
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY   reach Kiro through a proxy
`;

class UsageError extends Error {}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

const LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

function stderrLogger(redactor: Redactor, minimum: LogLevel): Logger {
  const floor = LEVELS.indexOf(minimum);
  const line = (level: LogLevel) => (message: string, ...details: unknown[]) => {
    if (LEVELS.indexOf(level) < floor) return;
    const extra = details.length ? ` ${details.map((d) => (d instanceof Error ? d.message : typeof d === 'string' ? d : JSON.stringify(d))).join(' ')}` : '';
    process.stderr.write(`[${level}] ${redactor.text(message + extra)}\n`);
  };
  return { trace: line('trace'), debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

function positiveNumber(name: string, value: string | undefined, fallback: number, options: { integer?: boolean; min?: number } = {}): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (options.integer && !Number.isInteger(n)) || n < (options.min ?? 0)) {
    throw new UsageError(`--${name} must be a ${options.integer ? 'whole ' : ''}number${options.min !== undefined ? ` ≥ ${options.min}` : ''} (got "${value}")`);
  }
  return n;
}

/** Flags and environment → BridgeConfig (without the key, which may be generated). */
export function configFromArgs(
  args: string[],
  env: NodeJS.ProcessEnv,
): { config: Omit<BridgeConfig, 'apiKey'>; verbose: boolean; quiet: boolean; strategy: SelectionStrategy } {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'ping-interval': { type: 'string' },
      timeout: { type: 'string' },
      'body-limit': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      alias: { type: 'string', multiple: true },
      'thinking-budget': { type: 'string' },
      capture: { type: 'string' },
      strategy: { type: 'string' },
      verbose: { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const port = positiveNumber('port', values.port, DEFAULT_CONFIG.port, { integer: true });
  if (port > 65535) throw new UsageError(`--port must be at most 65535 (got ${port})`);
  const bodyLimit = values['body-limit'] === undefined ? DEFAULT_CONFIG.bodyLimit : parseByteSize(values['body-limit']);
  if (!bodyLimit) throw new UsageError(`--body-limit must be a size like 50mb (got "${values['body-limit']}")`);
  const capture = values.capture ?? DEFAULT_CONFIG.captureBodies;
  if (!(CAPTURE_MODES as readonly string[]).includes(capture)) throw new UsageError(`--capture must be off, redacted or full (got "${capture}")`);
  const modelAliases: Record<string, string> = {};
  for (const alias of values.alias ?? []) {
    const eq = alias.indexOf('=');
    if (eq <= 0 || eq === alias.length - 1) throw new UsageError(`--alias must look like NAME=MODEL (got "${alias}")`);
    modelAliases[alias.slice(0, eq).trim()] = alias.slice(eq + 1).trim();
  }
  const strategy = values.strategy ?? (env.KIRO_BRIDGE_STRATEGY?.trim() || 'priority');
  if (!isSelectionStrategy(strategy)) throw new UsageError(`--strategy must be priority or round-robin (got "${strategy.slice(0, 40)}")`);
  const upstreamBase = env.KIRO_BRIDGE_UPSTREAM_BASE?.trim() || undefined;
  if (upstreamBase) {
    try {
      validateUpstreamBase(upstreamBase);
    } catch (error) {
      throw new UsageError(`KIRO_BRIDGE_UPSTREAM_BASE: ${(error as Error).message}`);
    }
  }
  return {
    config: {
      ...DEFAULT_CONFIG,
      port,
      host: values.host ?? DEFAULT_CONFIG.host,
      pingIntervalSeconds: positiveNumber('ping-interval', values['ping-interval'], DEFAULT_CONFIG.pingIntervalSeconds, { min: 0.05 }),
      requestTimeoutSeconds: positiveNumber('timeout', values.timeout, DEFAULT_CONFIG.requestTimeoutSeconds, { min: 1 }),
      bodyLimit,
      allowedOrigins: values['allow-origin'] ?? [],
      modelAliases,
      thinkingDefaultBudget: positiveNumber('thinking-budget', values['thinking-budget'], DEFAULT_CONFIG.thinkingDefaultBudget, { integer: true, min: 1024 }),
      captureBodies: capture as BridgeConfig['captureBodies'],
      upstreamBase,
      region: env.KIRO_BRIDGE_REGION?.trim() || DEFAULT_CONFIG.region,
    },
    verbose: values.verbose === true,
    quiet: values.quiet === true,
    strategy,
  };
}

function requestLog(quiet: boolean): TrafficSink {
  return {
    update(record: Readonly<RequestRecord>) {
      if (!quiet && record.durationMs !== undefined && record.status !== undefined) process.stderr.write(`${formatRecordLine(record)}\n`);
    },
  };
}

async function serve(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof configFromArgs>;
  try {
    parsed = configFromArgs(args, process.env);
  } catch (error) {
    process.stderr.write(`kiro-bridge: ${(error as Error).message}\n\nRun "kiro-bridge serve --help" for the options.\n`);
    return 2;
  }
  const redactor = new Redactor();
  const logger = stderrLogger(redactor, parsed.verbose ? 'debug' : 'info');

  let opened: OpenedAccounts;
  try {
    opened = await openAccounts(process.env, { logger, redactor, watch: true, strategy: parsed.strategy });
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    process.stderr.write(`kiro-bridge: ${redactor.text(error.message)}\n\n${CREDENTIALS_HELP}\n`);
    return 2;
  }
  const { service } = opened;
  service.pool.noAccountMessage = 'no Kiro account is configured; run "kiro-bridge accounts import-kiro" or "kiro-bridge accounts add"';
  if (service.list().length === 0) {
    // Nothing saved and no KIRO_AUTH_TOKEN: use the Kiro IDE's login on this machine, if any.
    try {
      const imported = await service.importKiroIde();
      process.stderr.write(`kiro-bridge: imported the Kiro IDE login (${imported.label}); it is saved in ${opened.file}\n`);
    } catch (error) {
      await opened.dispose();
      const reason = error instanceof KiroError ? redactor.text(error.message) : String(error);
      process.stderr.write(
        `kiro-bridge: no Kiro account configured.\n  ${reason}\n\n` +
          'Add one with "kiro-bridge accounts import-kiro" (the Kiro IDE\'s login), "kiro-bridge accounts add" (a refresh token)\n' +
          `or "kiro-bridge accounts login", or set KIRO_AUTH_TOKEN:\n\n${CREDENTIALS_HELP}\n\nThen run the command again.\n`,
      );
      return 2;
    }
  }
  if (service.list().every((a) => a.state === 'disabled')) {
    await opened.dispose();
    process.stderr.write('kiro-bridge: every Kiro account is turned off (disabled); enable one first.\n');
    return 2;
  }

  const generatedKey = !process.env.KIRO_BRIDGE_API_KEY?.trim();
  const apiKey = process.env.KIRO_BRIDGE_API_KEY?.trim() || generateApiKey();
  const config = bridgeConfig({ ...parsed.config, apiKey });
  const bridge = createBridge(config, { accounts: service.pool, logger, redactor, traffic: requestLog(parsed.quiet) });

  let address: Awaited<ReturnType<typeof bridge.start>>;
  try {
    address = await bridge.start();
  } catch (error) {
    process.stderr.write(`kiro-bridge: could not start: ${(error as Error).message}\n`);
    await opened.dispose();
    return 1;
  }

  process.stdout.write(`Kiro Bridge ${version} listening on ${address.url}\n`);
  if (!isLoopbackHost(config.host)) {
    logger.warn(`listening on ${config.host}, not only this machine: anyone who can reach it and has the key can use your Kiro account`);
  }
  const snapshots = service.list();
  for (const [i, a] of snapshots.entries()) {
    process.stdout.write(`  account ${i + 1}: ${a.label} (${a.kind}, ${a.source}${a.state === 'ready' ? '' : `, ${describeState(a, Date.now())}`})\n`);
  }
  if (snapshots.length > 1) process.stdout.write(`  accounts take turns by: ${service.strategy}\n`);
  if (opened.proxy?.httpsProxy) process.stdout.write(`  proxy: ${describeProxy(opened.proxy.httpsProxy)}\n`);
  if (generatedKey) {
    process.stdout.write(`  API key (generated for this run; set KIRO_BRIDGE_API_KEY to keep one): ${apiKey}\n`);
  }
  process.stdout.write(
    `  Claude Code: ANTHROPIC_BASE_URL=${address.url} ANTHROPIC_API_KEY=${generatedKey ? apiKey : '$KIRO_BRIDGE_API_KEY'} claude\n`,
  );

  // Check every account now (token, credits, models), so a bad login shows up here and not in
  // the first request.
  service.checkAll().then(() => {
    for (const a of service.list()) {
      if (a.state === 'disabled') continue;
      const credits = a.credits ? `, ${a.credits.remaining} of ${a.credits.limit} credits left` : '';
      if (a.state === 'ready' || a.state === 'refreshing') logger.info(`account ${a.label}: signed in${credits}`);
      else logger.error(`account ${a.label}: ${describeState(a, Date.now())}${a.stateReason ? ` — ${a.stateReason}` : ''}`);
    }
  });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`kiro-bridge: ${signal} again, exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`kiro-bridge: ${signal} received, stopping (${bridge.inFlightCount} request(s) in flight)…\n`);
      bridge
        .stop()
        .then(() => opened.dispose())
        .then(
          () => {
            process.stderr.write('kiro-bridge: stopped\n');
            resolve(0);
          },
          (error: Error) => {
            process.stderr.write(`kiro-bridge: error while stopping: ${error.message}\n`);
            resolve(1);
          },
        );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  if (command === 'accounts') {
    const io = {
      out: (text: string) => process.stdout.write(text),
      err: (text: string) => process.stderr.write(text),
      readSecret: readSecretFromStdin,
      env: process.env,
    };
    return rest[0] === 'login' ? loginCommand(rest.slice(1), io) : accountsCommand(rest, io);
  }
  if (command === 'serve') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(USAGE);
      return 0;
    }
    return serve(rest);
  }
  process.stderr.write(`kiro-bridge: unknown command "${command}"\n\n${USAGE}`);
  return 1;
}

// Run only as the entry point (tests import configFromArgs).
if (typeof require !== 'undefined' && require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`kiro-bridge: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
