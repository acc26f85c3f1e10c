// What every CLI command shares without loading the accounts service: the usage error (exit code
// 2) and where the config folder is. `config` and the settings parser import it from here, so they
// never load the accounts machinery or the HTTP client.
import * as path from 'node:path';
import envPaths from 'env-paths';

export class CliUsageError extends Error {}

/** The folder holding accounts.json: KIRO_BRIDGE_CONFIG_DIR, else the platform's config folder. */
export function configDir(env: NodeJS.ProcessEnv): string {
  const override = env.KIRO_BRIDGE_CONFIG_DIR?.trim();
  if (override) return path.resolve(override);
  return envPaths('kiro-bridge', { suffix: '' }).config;
}

export function accountsFile(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), 'accounts.json');
}
