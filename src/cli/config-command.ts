// `kiro-bridge config path | show | get | set | unset`: the config file without opening an editor,
// and the effective settings with where each one came from (flag, environment, config file or
// default). The key is masked in `show`; `get apiKey` prints it, because it was asked for.
import { generateApiKey } from '../bridge/config';
import { maskSecret } from '../common/redact';
import { describeProxy } from '../kiro/http/proxy-settings';
import { CliUsageError } from './cli-base';
import { parseCommandLine, type CommandLine } from './command-line';
import { ConfigFileError, configFilePath, readConfigFile, unknownKeyMessage, updateConfigFile } from './config-file';
import { parseSetting, SETTINGS, settingsTable, settingSpec, SettingError, type CliSettings, type SettingKey } from './settings';
import { padVisible, Style, type OutputStream } from './terminal';

export const CONFIG_USAGE = `Usage: kiro-bridge config <command>

Commands:
  path                 print where the config file is
  show [--json]        every setting, its value and where it comes from (flag, env, config, default)
  get KEY              print one setting's effective value (exit code 1 when it has none)
  set KEY VALUE        save a setting in the config file (checked first)
  set apiKey           save a new random bridge key (no value: a key on the command line would be
                       visible to other users of this machine)
  unset KEY            remove a setting from the config file

Settings, their flags and environment variables (precedence: flags > environment > config file >
defaults; model aliases and allowed origins add up instead):
${settingsTable()}

The file is config.json in your config folder (~/.config/kiro-bridge on Linux, beside
accounts.json; KIRO_BRIDGE_CONFIG_DIR overrides the folder), written owner-only. Example:
  {"port": 8765, "strategy": "round-robin", "logFormat": "json",
   "modelAliases": {"gpt-4o": "claude-sonnet-4-5"}}
`;

export interface ConfigIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
}

function shown(key: SettingKey, value: unknown): string {
  if (value === undefined) return '(not set)';
  if (key === 'apiKey') return maskSecret(String(value));
  if (key === 'proxy') return describeProxy(String(value));
  if (key === 'bodyLimit' && typeof value === 'number') return value % (1024 * 1024) === 0 ? `${value / (1024 * 1024)}mb` : `${value} bytes`;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export async function configCommand(args: string[], io: ConfigIO): Promise<number> {
  const [command, ...rest] = args;
  if (!command || command === 'help' || args.includes('--help') || args.includes('-h')) {
    io.stdout.write(CONFIG_USAGE);
    return command ? 0 : 2;
  }
  const fail = (message: string, code = 2) => {
    io.stderr.write(`kiro-bridge config: ${message}\n`);
    return code;
  };
  try {
    switch (command) {
      case 'path': {
        if (rest.length) return fail('"path" takes no arguments');
        io.stdout.write(`${configFilePath(io.env)}\n`);
        return 0;
      }
      case 'show': {
        let parsed: CommandLine;
        try {
          parsed = parseCommandLine(rest, io.env, { json: { type: 'boolean' } });
        } catch (error) {
          if (error instanceof CliUsageError) return fail(error.message);
          throw error;
        }
        const rows = SETTINGS.map((spec) => ({ key: spec.key, value: parsed.settings[spec.key as keyof CliSettings], source: parsed.sources[spec.key] }));
        if (parsed.values.json) {
          const settings = Object.fromEntries(
            rows.map((r) => [
              r.key,
              {
                value:
                  r.key === 'apiKey' && r.value !== undefined
                    ? maskSecret(String(r.value))
                    : r.key === 'proxy' && r.value !== undefined
                      ? describeProxy(String(r.value))
                      : (r.value ?? null),
                source: r.source,
              },
            ]),
          );
          io.stdout.write(`${JSON.stringify({ file: parsed.configFile, exists: parsed.configExists, settings }, null, 2)}\n`);
          return 0;
        }
        const style = Style.for(io.stdout, io.env);
        const width = Math.max(...rows.map((r) => r.key.length)) + 2;
        io.stdout.write(`${style.bold('Config file')}: ${parsed.configFile}${parsed.configExists ? '' : ' (none yet)'}\n\n`);
        for (const row of rows) {
          const source = row.source === 'env' ? `env ${SETTINGS.find((s) => s.key === row.key)!.env}` : row.source;
          io.stdout.write(`  ${padVisible(row.key, width)}${padVisible(shown(row.key, row.value), 28)}  ${style.dim(source)}\n`);
        }
        return 0;
      }
      case 'get': {
        const key = rest[0];
        if (!key || rest.length > 1) return fail('"get" takes one setting name');
        const spec = settingSpec(key);
        if (!spec) return fail(unknownKeyMessage(key));
        const parsed = parseCommandLine([], io.env, {}, { settingFlags: false });
        const value = parsed.settings[spec.key as keyof CliSettings];
        if (value === undefined) return 1;
        io.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
        return 0;
      }
      case 'set': {
        const [key, ...values] = rest;
        if (!key) return fail('"set" takes a setting name and a value');
        const spec = settingSpec(key);
        if (!spec) return fail(unknownKeyMessage(key));
        let value: unknown;
        if (values.length === 0) {
          if (spec.key !== 'apiKey') return fail(`"set ${key}" needs a value`);
          value = generateApiKey();
        } else {
          const text = values.join(' ');
          // Numbers and JSON stay typed in the file; anything else is text.
          let raw: unknown = text;
          if (spec.kind.type === 'integer' || spec.kind.type === 'number') raw = Number(text);
          else if (spec.kind.type === 'aliases' && text.trim().startsWith('{')) raw = JSON.parse(text);
          else if (spec.kind.type === 'origins')
            raw = text
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean);
          try {
            value = parseSetting(spec, raw);
          } catch (error) {
            if (error instanceof SettingError) return fail(`${key} ${error.message}`);
            throw error;
          }
          if (spec.kind.type === 'size') value = text.trim();
        }
        const saved = await updateConfigFile(io.env, { [spec.key]: value });
        io.stdout.write(`${spec.key} = ${shown(spec.key, spec.kind.type === 'size' ? Number(parseSetting(spec, value)) : value)} saved in ${saved.path}\n`);
        return 0;
      }
      case 'unset': {
        const key = rest[0];
        if (!key || rest.length > 1) return fail('"unset" takes one setting name');
        const spec = settingSpec(key);
        if (!spec) return fail(unknownKeyMessage(key));
        const file = readConfigFile(io.env);
        if (!(spec.key in file.values)) {
          io.stdout.write(`${spec.key} was not set in ${file.path}\n`);
          return 0;
        }
        const saved = await updateConfigFile(io.env, { [spec.key]: undefined });
        io.stdout.write(`${spec.key} removed from ${saved.path}\n`);
        return 0;
      }
      default:
        return fail(`unknown command "${command.slice(0, 40)}"\n\n${CONFIG_USAGE}`);
    }
  } catch (error) {
    if (error instanceof ConfigFileError || error instanceof CliUsageError) return fail(error.message);
    if (error instanceof SyntaxError) return fail(`the value is not valid JSON (${error.message})`);
    throw error;
  }
}
