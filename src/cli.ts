// Headless entry point over the same bridge the extension runs — `npx kiro-bridge …`. Composition
// only: pick the command, hand it the process's streams and environment, turn its result into the
// exit code. Every command lives in src/cli/ and has its own --help. A command's module is imported
// when that command runs: `serve` never loads sign-in, doctor or the client configurations.
import type { CliIO } from './cli/accounts';
import { version } from '../package.json';

export const USAGE = `Usage: kiro-bridge <command> [options]

Your own Kiro account as a local Anthropic- and OpenAI-compatible API (Claude Code, Codex,
Continue, Cline, Roo, SDKs).

Commands:
  serve                run the bridge in the foreground (Ctrl+C stops it)
  accounts             list, add (login | import-kiro | add), remove your Kiro accounts
  usage [ACCOUNT]      credits left and models, asked from Kiro now (--json)
  doctor               check everything serve needs, with the fix for what fails (--json)
  configure <client>   print or write the settings for claude-code, codex, continue, env, …
  config               the config file: path, show, get, set, unset

Run "kiro-bridge <command> --help" for a command's options.

Options:
  -h, --help           show this help
  -v, --version        print the version

Settings come from flags, then environment variables, then the config file, then defaults
("kiro-bridge config --help" lists them). Quick start:

  npx kiro-bridge accounts login      # or: accounts import-kiro (the Kiro IDE's login)
  npx kiro-bridge serve

Exit codes: 0 success, 1 failure (a check failed, the port is taken, Kiro refused), 2 bad usage
or nothing to work with (no account).
`;

const USAGES: Record<string, () => Promise<string>> = {
  serve: async () => (await import('./cli/serve')).SERVE_USAGE,
  accounts: async () => (await import('./cli/accounts')).ACCOUNTS_USAGE,
  usage: async () => (await import('./cli/accounts')).ACCOUNTS_USAGE,
  doctor: async () => (await import('./cli/doctor')).DOCTOR_USAGE,
  configure: async () => (await import('./cli/configure')).CONFIGURE_USAGE,
  config: async () => (await import('./cli/config-command')).CONFIG_USAGE,
};

/**
 * The accounts commands read region, upstream base and proxy from the environment; the config
 * file's values fill in where the environment has none. Undefined (after saying why) when the
 * config file or a variable is invalid.
 */
async function accountsIO(): Promise<CliIO | undefined> {
  const [{ CliUsageError, readSecretFromStdin }, { parseCommandLine }, { accountsEnvironment }, { startProgress }] = await Promise.all([
    import('./cli/accounts'),
    import('./cli/command-line'),
    import('./cli/settings'),
    import('./cli/terminal'),
  ]);
  let env: NodeJS.ProcessEnv;
  try {
    env = accountsEnvironment(process.env, parseCommandLine([], process.env, {}, { settingFlags: false }).settings);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    process.stderr.write(`kiro-bridge: ${error.message}\n`);
    return undefined;
  }
  return {
    out: (text: string) => process.stdout.write(text),
    err: (text: string) => process.stderr.write(text),
    readSecret: readSecretFromStdin,
    env,
    progress: (text: string) => startProgress(process.stderr, process.env, text),
  };
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'help') {
    const topic = rest[0];
    const usage = topic ? USAGES[topic] : undefined;
    process.stdout.write(usage ? await usage() : USAGE);
    return topic && !usage ? 2 : 0;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const streams = { stdout: process.stdout, stderr: process.stderr, env: process.env };
  switch (command) {
    case 'serve':
      return (await import('./cli/serve')).serveCommand(rest, { ...streams, platform: process.platform });
    case 'accounts':
    case 'usage': {
      const io = await accountsIO();
      if (!io) return 2;
      const { accountsCommand } = await import('./cli/accounts');
      if (command === 'usage') return accountsCommand(['usage', ...rest], io);
      return rest[0] === 'login' ? (await import('./cli/accounts-login')).loginCommand(rest.slice(1), io) : accountsCommand(rest, io);
    }
    case 'doctor':
      return (await import('./cli/doctor')).doctorCommand(rest, streams);
    case 'configure': {
      const { configureCommand, terminalConfirm } = await import('./cli/configure');
      return configureCommand(rest, { ...streams, platform: process.platform, confirm: terminalConfirm() });
    }
    case 'config':
      return (await import('./cli/config-command')).configCommand(rest, streams);
  }
  process.stderr.write(`kiro-bridge: unknown command "${command.slice(0, 40)}"\n\n${USAGE}`);
  return 2;
}

// Run only as the entry point (tests import the modules).
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
