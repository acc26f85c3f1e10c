// The accounts the environment names, read the same way by the extension and the CLI:
// KIRO_AUTH_TOKEN (inline JSON or a file, see credentials.ts) and KIRO_API_KEY (as the Kiro CLI's
// headless mode reads it). A variable that cannot be used is returned as a problem, never thrown:
// the extension warns and goes on, the CLI stops with a usage error.
import type { Redactor } from '../../common/redact';
import type { KiroAccountsService } from './accounts-service';
import { loadCredentials } from './credentials';

export type EnvAccountVariable = 'KIRO_AUTH_TOKEN' | 'KIRO_API_KEY';

export interface EnvAccountProblem {
  variable: EnvAccountVariable;
  /** Why it could not be used, redacted. */
  message: string;
}

export interface EnvAccountsAdded {
  /** What KIRO_AUTH_TOKEN held (and the file it named), when it was set and read. */
  authToken?: { accounts: number; file?: string };
  /** KIRO_API_KEY's key was taken. */
  apiKey: boolean;
  /** KIRO_AUTH_TOKEN's problem first. */
  problems: EnvAccountProblem[];
}

/** Adds the accounts of KIRO_AUTH_TOKEN, then the key of KIRO_API_KEY (registered with the redactor first). */
export function addEnvironmentAccounts(
  service: Pick<KiroAccountsService, 'addEnvAccounts' | 'addEnvApiKey'>,
  env: NodeJS.ProcessEnv,
  redactor: Redactor,
): EnvAccountsAdded {
  const added: EnvAccountsAdded = { apiKey: false, problems: [] };
  const problem = (variable: EnvAccountVariable, error: unknown) =>
    added.problems.push({ variable, message: redactor.text(error instanceof Error ? error.message : String(error)) });
  const tokenSource = env.KIRO_AUTH_TOKEN;
  if (tokenSource?.trim()) {
    try {
      const loaded = loadCredentials(tokenSource);
      service.addEnvAccounts(loaded.accounts, { file: loaded.file });
      added.authToken = { accounts: loaded.accounts.length, file: loaded.file };
    } catch (error) {
      problem('KIRO_AUTH_TOKEN', error);
    }
  }
  const apiKey = env.KIRO_API_KEY?.trim();
  if (apiKey) {
    redactor.add(apiKey);
    try {
      service.addEnvApiKey(apiKey);
      added.apiKey = true;
    } catch (error) {
      problem('KIRO_API_KEY', error);
    }
  }
  return added;
}
