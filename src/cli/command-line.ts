// One parser for every command that reads settings (serve, doctor, configure, config show): the
// command's own flags plus every setting flag, then the config file and the environment, in the
// precedence settings.ts defines. Errors become CliUsageError (exit code 2) with the source named.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliUsageError } from './cli-base';
import { ConfigFileError, readConfigFile } from './config-file';
import { resolveSettings, settingFlags, SettingError, type ResolvedSettings } from './settings';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A bad setting in the config file or the environment (not in the command's own flags). */
export class SettingsSourceError extends CliUsageError {}

export interface CommandLine extends ResolvedSettings {
  values: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
  configFile: string;
  configExists: boolean;
}

export function parseCommandLine(
  args: string[],
  env: NodeJS.ProcessEnv,
  own: Options,
  options: { positionals?: boolean; settingFlags?: boolean } = {},
): CommandLine {
  let values: CommandLine['values'];
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { ...(options.settingFlags === false ? {} : settingFlags()), ...own },
      strict: true,
      allowPositionals: options.positionals ?? false,
    }) as { values: CommandLine['values']; positionals: string[] });
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  if (values.help) return { values, positionals, configFile: '', configExists: false, ...resolveSettings({ env: {} }) };
  try {
    const file = readConfigFile(env);
    const resolved = resolveSettings({ flags: values, env, file: file.values, fileLabel: file.path });
    return { ...resolved, values, positionals, configFile: file.path, configExists: file.exists };
  } catch (error) {
    if (error instanceof ConfigFileError) throw new SettingsSourceError(error.message);
    // A flag's own error names the flag; the others name a variable or the file.
    if (error instanceof SettingError) throw error.message.startsWith('--') ? new CliUsageError(error.message) : new SettingsSourceError(error.message);
    throw error;
  }
}
