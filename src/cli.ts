// Headless entry point over the same bridge the extension runs: `kiro-bridge serve`.
// Composition only: read flags and environment into a BridgeConfig, load the account, start the
// bridge, print one line per finished request on stderr, stop cleanly on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import type { Logger, LogLevel } from './common/logger';
import { Redactor } from './common/redact';
import type { RequestRecord, TrafficSink } from './common/traffic';
import { CAPTURE_MODES } from './common/traffic-protocol';
import { bridgeConfig, DEFAULT_CONFIG, generateApiKey, parseByteSize, type BridgeConfig } from './bridge/config';
import { createBridge } from './bridge/server';
import { formatRecordLine } from './bridge/traffic';
import { KiroAccount, SingleAccountProvider } from './kiro/account';
import { CREDENTIALS_HELP, CredentialsError, firstEnabled, loadCredentials } from './kiro/credentials';
import { persistRotatedRefreshToken } from './kiro/credentials-file';
import { validateUpstreamBase } from './kiro/endpoints';
import { version } from '../package.json';

const USAGE = `Usage: kiro-bridge <command> [options]

Commands:
  serve       run the bridge in the foreground (Ctrl+C stops it)

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
  --verbose              log debug details on stderr
  --quiet                do not print a line per request
  -h, --help             show this help
  -v, --version          print the version

Environment:
  KIRO_AUTH_TOKEN            your Kiro account(s): JSON, or a path to a JSON file (required)
  KIRO_BRIDGE_API_KEY        the key clients must send; a random one is generated and printed if unset
  KIRO_BRIDGE_UPSTREAM_BASE  one base URL replacing every Kiro host (tests, proxies)
  KIRO_BRIDGE_REGION         Kiro region when the account names none (default us-east-1)
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
export function configFromArgs(args: string[], env: NodeJS.ProcessEnv): { config: Omit<BridgeConfig, 'apiKey'>; verbose: boolean; quiet: boolean } {
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

  const tokenSource = process.env.KIRO_AUTH_TOKEN;
  if (!tokenSource?.trim()) {
    process.stderr.write(`kiro-bridge: no Kiro account configured.\n\n${CREDENTIALS_HELP}\n\nThen run the command again.\n`);
    return 2;
  }
  let loaded: ReturnType<typeof loadCredentials>;
  try {
    loaded = loadCredentials(tokenSource);
  } catch (error) {
    if (!(error instanceof CredentialsError)) throw error;
    process.stderr.write(`kiro-bridge: ${redactor.text(error.message)}\n\n${CREDENTIALS_HELP}\n`);
    return 2;
  }
  const credentials = firstEnabled(loaded.accounts);
  if (!credentials) {
    process.stderr.write(`kiro-bridge: every account in KIRO_AUTH_TOKEN is disabled ("disabled": true); enable one.\n`);
    return 2;
  }
  const enabled = loaded.accounts.filter((a) => !a.disabled).length;

  const generatedKey = !process.env.KIRO_BRIDGE_API_KEY?.trim();
  const apiKey = process.env.KIRO_BRIDGE_API_KEY?.trim() || generateApiKey();
  const config = bridgeConfig({ ...parsed.config, apiKey });

  const account = new KiroAccount({ credentials, upstreamBase: config.upstreamBase, region: config.region, redactor, logger });
  account.tokens.onDidRotateRefreshToken((refreshToken) => {
    if (loaded.file) {
      persistRotatedRefreshToken(loaded.file, credentials.index, refreshToken, account.machineId).then(
        () => logger.info(`saved the rotated refresh token of ${account.label} to ${loaded.file}`),
        (error: Error) => logger.warn(`could not save the rotated refresh token to ${loaded.file}: ${error.message}`),
      );
    } else {
      logger.warn(
        'Kiro rotated the refresh token; the one in KIRO_AUTH_TOKEN may stop working after a restart. ' +
          'Point KIRO_AUTH_TOKEN at a file so the bridge can keep it up to date.',
      );
    }
  });
  const accounts = new SingleAccountProvider(account);
  const bridge = createBridge(config, { accounts, logger, redactor, traffic: requestLog(parsed.quiet) });

  let address: Awaited<ReturnType<typeof bridge.start>>;
  try {
    address = await bridge.start();
  } catch (error) {
    process.stderr.write(`kiro-bridge: could not start: ${(error as Error).message}\n`);
    await accounts.dispose();
    return 1;
  }

  process.stdout.write(`Kiro Bridge ${version} listening on ${address.url}\n`);
  if (!isLoopbackHost(config.host)) {
    logger.warn(`listening on ${config.host}, not only this machine: anyone who can reach it and has the key can use your Kiro account`);
  }
  process.stdout.write(`  account: ${account.label}${enabled > 1 ? ` (first of ${enabled} enabled; the others wait for the account pool)` : ''}\n`);
  if (generatedKey) {
    process.stdout.write(`  API key (generated for this run; set KIRO_BRIDGE_API_KEY to keep one): ${apiKey}\n`);
  }
  process.stdout.write(
    `  Claude Code: ANTHROPIC_BASE_URL=${address.url} ANTHROPIC_API_KEY=${generatedKey ? apiKey : '$KIRO_BRIDGE_API_KEY'} claude\n`,
  );

  // Check the account now, so a bad refresh token shows up here and not in the first request.
  account.getToken().then(
    () => logger.info(`account ${account.label}: signed in`),
    (error: Error) => logger.error(`account ${account.label}: ${error.message}`),
  );

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
        .then(() => accounts.dispose())
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
