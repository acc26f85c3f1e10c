// `kiro-bridge configure <client>`: prints the exact settings that point a tool at the bridge
// (the same generator as the extension's "Configure Client…"), and writes them into the tool's
// own file when asked: after a y/N question on a terminal, or with --yes. Writing keeps every
// unrelated key, copies the old file to a backup next to it first, and never touches a file it
// cannot parse safely. A bridge key is needed in the settings: KIRO_BRIDGE_API_KEY, else the
// config file's apiKey; when writing without either, a new key is saved in the config file so
// `serve` uses the same one.
import { chmod, copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import writeFileAtomic from 'write-file-atomic';
import { generateApiKey } from '../bridge/config';
import { Redactor, maskSecret } from '../common/redact';
import { clientBaseUrl } from '../clients/addresses';
import { ClaudeSettingsError, claudeSettingsPath, writeClaudeEnv } from '../clients/claude-settings';
import { CLAUDE_ENV_CONFLICTS, clientSetup, CODEX_KEY_VARIABLE, modelsFor, type ClientId, type ClientSetup, type ModelChoice } from '../clients/client-config';
import { CliUsageError, configDir, openAccounts } from './accounts';
import {
  ClientFileError,
  continueItems,
  envFileText,
  mergeContinueYaml,
  mergeShellRc,
  mergeToml,
  shellKind,
  splitCodexSnippet,
  type Merge,
} from './client-files';
import { parseCommandLine, type CommandLine } from './command-line';
import { updateConfigFile } from './config-file';
import { accountsEnvironment } from './settings';
import { Style, type OutputStream } from './terminal';

/** Names the command takes, and the generator's client each one prints. */
const CLIENTS: Record<string, { id: ClientId | 'env'; writes: boolean }> = {
  'claude-code': { id: 'claude-code', writes: true },
  claude: { id: 'claude-code', writes: true },
  codex: { id: 'codex', writes: true },
  continue: { id: 'continue', writes: true },
  env: { id: 'env', writes: true },
  shell: { id: 'env', writes: true },
  cline: { id: 'cline', writes: false },
  'roo-code': { id: 'roo-code', writes: false },
  roo: { id: 'roo-code', writes: false },
  sdk: { id: 'sdk-env', writes: false },
};

export const CONFIGURE_USAGE = `Usage: kiro-bridge configure <client> [--yes | --print] [--port N] [--host HOST]

Prints the settings that point a tool at Kiro Bridge, with the real URL and key, and offers to
write them into the tool's own file (a y/N question on a terminal; --yes writes without asking).
Writing keeps every other setting in the file and copies the old file to a backup next to it.

Clients:
  claude-code   the "env" block of ~/.claude/settings.json ($CLAUDE_CONFIG_DIR)
  codex         a model provider in ~/.codex/config.toml ($CODEX_HOME), key from KIRO_BRIDGE_API_KEY
  continue      model entries in ~/.continue/config.yaml ($CONTINUE_GLOBAL_DIR)
  env           ANTHROPIC_*, OPENAI_* and KIRO_BRIDGE_API_KEY for your shell: written to
                <config folder>/env.sh (owner-only), sourced from ~/.bashrc, ~/.zshrc or ~/.profile
                (fish: ~/.config/fish/conf.d/kiro-bridge.fish)
  cline, roo-code, sdk   printed only (set them in the tool's settings)

Options:
  --yes          write without asking
  --print        print only, never write (the default when not on a terminal)
  --port N, --host HOST   the bridge address to use (default: the config file's, else 127.0.0.1:8765)
  -h, --help     show this help

The key: KIRO_BRIDGE_API_KEY if set, else "apiKey" in the config file; writing without either
saves a new key there, which "kiro-bridge serve" then uses.
`;

export interface ConfigureIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** Asks a yes/no question; undefined when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>;
  home?: string;
}

interface WriteResult {
  file: string;
  backup?: string;
  changes: string[];
  also?: string[];
}

function backupName(file: string, now: Date): string {
  return `${file}.kiro-bridge-backup-${now.toISOString().replace(/[:.]/g, '-')}`;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ClientFileError(`could not read it: ${(error as Error).message}`);
  }
}

/** Backs up, then writes atomically; `secret` files are owner-only, others keep their mode. */
async function writeMerged(file: string, existing: string | undefined, merge: Merge, secret: boolean): Promise<WriteResult> {
  let backup: string | undefined;
  let mode = secret ? 0o600 : 0o644;
  if (existing !== undefined) {
    if (!secret) mode = (await stat(file)).mode & 0o777;
    backup = backupName(file, new Date());
    await copyFile(file, backup);
    await chmod(backup, 0o600).catch(() => undefined);
  } else {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  }
  await writeFileAtomic(file, merge.text, { mode });
  return { file, backup, changes: merge.changes };
}

export function codexConfigPath(env: NodeJS.ProcessEnv, home: string): string {
  return path.join(env.CODEX_HOME?.trim() || path.join(home, '.codex'), 'config.toml');
}

export function continueConfigPath(env: NodeJS.ProcessEnv, home: string): string {
  return path.join(env.CONTINUE_GLOBAL_DIR?.trim() || path.join(home, '.continue'), 'config.yaml');
}

export function shellStartupFile(env: NodeJS.ProcessEnv, home: string): string {
  const shell = path.basename(env.SHELL ?? '');
  if (shell === 'fish') return path.join(home, '.config', 'fish', 'conf.d', 'kiro-bridge.fish');
  if (shell === 'zsh') return path.join(env.ZDOTDIR?.trim() || home, '.zshrc');
  if (shell === 'bash') return path.join(home, '.bashrc');
  return path.join(home, '.profile');
}

/** The variables `configure env` sets. */
function shellVariables(setup: ClientSetup, apiKey: string): Record<string, string> {
  const vars: Record<string, string> = { [CODEX_KEY_VARIABLE]: apiKey };
  for (const line of setup.primary.code.split('\n')) {
    const match = /^export ([A-Z_]+)='(.*)'$/.exec(line);
    if (match) vars[match[1]!] = match[2]!.replace(/'\\''/g, "'");
  }
  return vars;
}

async function writeClient(client: ClientId | 'env', setup: ClientSetup, apiKey: string, io: ConfigureIO, home: string): Promise<WriteResult> {
  switch (client) {
    case 'claude-code': {
      const file = claudeSettingsPath(io.env, home);
      const result = await writeClaudeEnv(file, setup.claudeEnv!, CLAUDE_ENV_CONFLICTS);
      return {
        file,
        backup: result.backup,
        changes: [...result.changed.map((k) => `env.${k} set`), ...result.removed.map((k) => `env.${k} removed (it would override the bridge key)`)],
      };
    }
    case 'codex': {
      const file = codexConfigPath(io.env, home);
      const existing = await readIfExists(file);
      const { topLevel, table } = splitCodexSnippet(setup.primary.code);
      return writeMerged(file, existing, mergeToml(existing, topLevel, table), false);
    }
    case 'continue': {
      const file = continueConfigPath(io.env, home);
      if ((await readIfExists(file)) === undefined && (await readIfExists(path.join(path.dirname(file), 'config.json'))) !== undefined) {
        throw new ClientFileError(
          `Continue uses ${path.join(path.dirname(file), 'config.json')} here; a new config.yaml would replace it. Add the entries printed above to it by hand`,
        );
      }
      const existing = await readIfExists(file);
      return writeMerged(file, existing, mergeContinueYaml(existing, continueItems(setup.primary.code)), true);
    }
    case 'env': {
      if (io.platform === 'win32')
        throw new ClientFileError(
          'writing PowerShell profiles is not supported; set the variables printed above with "setx", or in System Properties › Environment Variables',
        );
      const kind = shellKind(io.env.SHELL);
      const vars = shellVariables(setup, apiKey);
      if (kind === 'fish') {
        const file = shellStartupFile(io.env, home);
        const existing = await readIfExists(file);
        return writeMerged(file, existing, { text: envFileText(vars, 'fish'), changes: ['variables written'] }, true);
      }
      const envFile = path.join(configDir(io.env), 'env.sh');
      const existingVars = await readIfExists(envFile);
      await writeMerged(envFile, existingVars, { text: envFileText(vars, 'posix'), changes: [] }, true);
      const rc = shellStartupFile(io.env, home);
      const existing = await readIfExists(rc);
      const result = await writeMerged(rc, existing, mergeShellRc(existing, envFile), false);
      return { ...result, also: [`${envFile} (the variables, owner-only)`] };
    }
    default:
      throw new ClientFileError(`${setup.name} keeps its settings in its own UI: enter the values printed above there`);
  }
}

async function availableModels(env: NodeJS.ProcessEnv): Promise<ModelChoice> {
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  try {
    const opened = await openAccounts(env, { logger: quiet, redactor: new Redactor() });
    try {
      const lists = opened.service.list().filter((a) => a.state !== 'disabled' && a.models);
      return modelsFor(lists.length ? [...new Set(lists.flatMap((a) => a.models!))] : undefined);
    } finally {
      await opened.dispose();
    }
  } catch {
    return modelsFor(undefined);
  }
}

function formatSetup(setup: ClientSetup, style: Style): string {
  const parts: string[] = [];
  for (const block of setup.blocks) parts.push(style.bold(`# ${block.target}`), block.code, '');
  return parts.join('\n');
}

export async function configureCommand(args: string[], io: ConfigureIO): Promise<number> {
  let parsed: CommandLine;
  try {
    parsed = parseCommandLine(
      args,
      io.env,
      { yes: { type: 'boolean', short: 'y' }, print: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      { positionals: true },
    );
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    io.stderr.write(`kiro-bridge configure: ${error.message}\n\nRun "kiro-bridge configure --help" for the clients and options.\n`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout.write(CONFIGURE_USAGE);
    return 0;
  }
  const name = parsed.positionals[0];
  const client = name ? CLIENTS[name] : undefined;
  if (!name || !client || parsed.positionals.length > 1) {
    io.stderr.write(
      `kiro-bridge configure: ${name ? `unknown client "${name.slice(0, 40)}"` : 'name the client'}; one of claude-code, codex, continue, env, cline, roo-code, sdk\n`,
    );
    return 2;
  }
  if (parsed.values.yes && parsed.values.print) {
    io.stderr.write('kiro-bridge configure: choose one of --yes and --print\n');
    return 2;
  }
  const { settings } = parsed;
  if (settings.port === 0) {
    io.stderr.write('kiro-bridge configure: port 0 means "any free port", which no client can be told; give the port serve uses (--port N)\n');
    return 2;
  }
  const home = io.home ?? os.homedir();
  const style = Style.for(io.stdout, io.env);
  const note = (text: string) => io.stderr.write(`${text}\n`);
  const baseUrl = clientBaseUrl(settings.host, settings.port);
  const models = await availableModels(accountsEnvironment(io.env, settings));
  const haveKey = settings.apiKey !== undefined;
  const shownKey = settings.apiKey ?? '<bridge key>';
  const generatorId = client.id === 'env' ? 'sdk-env' : client.id;
  const printed = clientSetup(generatorId, { baseUrl, apiKey: shownKey, platform: io.platform, models });
  io.stdout.write(formatSetup(printed, style));
  if (!haveKey) note('No bridge key is set yet (KIRO_BRIDGE_API_KEY, or "apiKey" in the config file): writing saves a new one in the config file.');

  const file =
    client.id === 'claude-code'
      ? claudeSettingsPath(io.env, home)
      : client.id === 'codex'
        ? codexConfigPath(io.env, home)
        : client.id === 'continue'
          ? continueConfigPath(io.env, home)
          : client.id === 'env'
            ? shellStartupFile(io.env, home)
            : undefined;
  if (!client.writes || !file || parsed.values.print) return 0;
  if (!parsed.values.yes) {
    if (!io.confirm) {
      note(`Not written. "kiro-bridge configure ${name} --yes" writes it into ${file} (other settings are kept, the old file is backed up).`);
      return 0;
    }
    if (!(await io.confirm(`Write this into ${file}? Other settings are kept and the old file is backed up. [y/N] `))) {
      note('Nothing written.');
      return 0;
    }
  }

  let apiKey = settings.apiKey;
  try {
    if (!apiKey) {
      apiKey = generateApiKey();
      const saved = await updateConfigFile(io.env, { apiKey });
      note(`Saved a new bridge key (${maskSecret(apiKey)}) in ${saved.path}; "kiro-bridge serve" uses it.`);
    }
    const setup = clientSetup(generatorId, { baseUrl, apiKey, platform: io.platform, models });
    const result = await writeClient(client.id, setup, apiKey, io, home);
    io.stdout.write(`${style.mark('pass')} Wrote ${result.file}${result.backup ? ` (backup: ${result.backup})` : ' (new file)'}\n`);
    for (const change of result.changes) io.stdout.write(`    ${change}\n`);
    for (const also of result.also ?? []) io.stdout.write(`    also: ${also}\n`);
    if (client.id === 'codex' && io.env[CODEX_KEY_VARIABLE] !== apiKey) {
      note(`Codex reads the key from ${CODEX_KEY_VARIABLE}: set it in the shell that runs codex ("kiro-bridge configure env" does it for every new shell).`);
    }
    if (client.id === 'env') note('Open a new terminal (or source the file) to use the variables.');
    if (client.id === 'claude-code') note('Restart running Claude Code sessions to pick it up.');
    return 0;
  } catch (error) {
    const reason = new Redactor().text((error as Error).message);
    if (error instanceof ClientFileError || error instanceof ClaudeSettingsError) {
      io.stderr.write(`kiro-bridge configure: did not change ${file}: ${reason}\n`);
    } else {
      io.stderr.write(`kiro-bridge configure: could not write ${file}: ${reason}\n`);
    }
    return 1;
  }
}

/** A y/N question on the terminal; undefined when stdin or stdout is not one. */
export function terminalConfirm(): ((question: string) => Promise<boolean>) | undefined {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return undefined;
  return (question) =>
    new Promise((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      rl.question(question, (answer) => {
        rl.close();
        resolve(/^y(es)?$/i.test(answer.trim()));
      });
    });
}
