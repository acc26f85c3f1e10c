// `kiro-bridge accounts login`: sign in to Kiro from the terminal, without the Kiro IDE — AWS
// Builder ID, IAM Identity Center, Google or GitHub (docs/kiro-protocol.md#sign-in). In the browser on a
// desktop (a loopback callback on 127.0.0.1), or with a device code where the browser cannot call
// back (SSH, WSL, containers, no display; or --device). The new account is verified (refresh +
// usage check) and saved in accounts.json like `accounts add`; SSO-OIDC client registrations are
// cached in sign-in-clients.json beside it (0600). Ctrl+C cancels at any step and saves nothing.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { FileSecretStore } from '../common/file-secret-store';
import type { Logger } from '../common/logger';
import { Redactor } from '../common/redact';
import { KiroError } from '../kiro/errors';
import { toAddAccountInput } from '../kiro/signin/account-input';
import {
  preferDeviceFlow,
  SecretRegistrationCache,
  signIn,
  SignInError,
  type KiroProfile,
  type SignInMethod,
  type SignInTransport,
  type SignInUi,
} from '../kiro/signin';
import { CliUsageError, configDir, openAccounts, upstreamFromEnv, type CliIO, type OpenedAccounts } from './accounts';

export const LOGIN_USAGE = `Usage: kiro-bridge accounts login [METHOD] [--device | --browser] [--label NAME]

Sign in to Kiro without the Kiro IDE and save the account.

METHOD (asked for when omitted):
  --builder-id               AWS Builder ID
  --idc START_URL            IAM Identity Center, e.g. https://my-org.awsapps.com/start
    --region REGION          the Identity Center region (default us-east-1)
  --google                   Google, through Kiro's sign-in service
  --github                   GitHub, through Kiro's sign-in service

  --device                   use a device code (for SSH, WSL, containers; the default there)
  --browser                  use the browser callback even where a device code would be chosen
  --label NAME               a name to show for the account

Using Kiro through a third-party bridge may break Kiro's terms of service; sign in only with your
own account. Tokens are never printed.
`;

export interface LoginIO extends CliIO {
  /** Opens a URL in the user's browser; false if it could not. Default: the platform's opener. */
  openBrowser?(url: string): boolean;
  /** Reads one visible line (menu choices). Default: a line of stdin. */
  readLine?(prompt: string): Promise<string>;
  /** Cancels the sign-in (tests); the command also cancels on SIGINT. */
  signal?: AbortSignal;
}

/** Opens `url` with the platform's opener, detached; false if it could not be started. */
export function openWithPlatform(url: string, platform: NodeJS.Platform = process.platform): boolean {
  const [command, args] =
    platform === 'darwin' ? ['open', [url]] : platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

function readLineFromStdin(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY === true });
    rl.question(prompt, (answer) => {
      rl.close();
      resolve(answer);
    });
    rl.on('close', () => resolve(''));
  });
}

const METHODS: { label: string; method: () => SignInMethod | 'idc' }[] = [
  { label: 'AWS Builder ID', method: () => ({ kind: 'builder-id' }) },
  { label: 'IAM Identity Center (your organisation)', method: () => 'idc' },
  { label: 'Google', method: () => ({ kind: 'social', provider: 'Google' }) },
  { label: 'GitHub', method: () => ({ kind: 'social', provider: 'Github' }) },
];

async function askMethod(io: LoginIO, readLine: (prompt: string) => Promise<string>): Promise<SignInMethod> {
  io.err(`How do you want to sign in to Kiro?\n${METHODS.map((m, i) => `  ${i + 1}) ${m.label}`).join('\n')}\n`);
  const answer = (await readLine('Choice [1-4]: ')).trim();
  const choice = METHODS[Number(answer) - 1];
  if (!choice) throw new CliUsageError(`"${answer.slice(0, 20)}" is not one of 1-4`);
  const method = choice.method();
  if (method !== 'idc') return method;
  const startUrl = (await readLine('Start URL (https://…awsapps.com/start): ')).trim();
  const region = (await readLine('Identity Center region [us-east-1]: ')).trim() || 'us-east-1';
  return { kind: 'idc', startUrl, region };
}

function methodFromFlags(values: Record<string, string | boolean | undefined>): SignInMethod | undefined {
  const chosen = [values['builder-id'] && 'builder-id', values.idc !== undefined && 'idc', values.google && 'google', values.github && 'github'].filter(
    Boolean,
  );
  if (chosen.length > 1) throw new CliUsageError('choose one of --builder-id, --idc, --google and --github');
  if (values.region !== undefined && values.idc === undefined) throw new CliUsageError('--region goes with --idc');
  if (values['builder-id']) return { kind: 'builder-id' };
  if (values.google) return { kind: 'social', provider: 'Google' };
  if (values.github) return { kind: 'social', provider: 'Github' };
  if (typeof values.idc === 'string') return { kind: 'idc', startUrl: values.idc, region: typeof values.region === 'string' ? values.region : 'us-east-1' };
  return undefined;
}

function credits(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function quietLogger(io: CliIO, redactor: Redactor): Logger {
  const line = (level: string) => (message: string) => io.err(`[${level}] ${redactor.text(message)}\n`);
  return { trace: () => {}, debug: () => {}, info: () => {}, warn: line('warn'), error: line('error') };
}

/** Runs `kiro-bridge accounts login …`; resolves with the exit code (130 when cancelled). */
export async function loginCommand(args: string[], io: LoginIO): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'builder-id': { type: 'boolean' },
        idc: { type: 'string' },
        region: { type: 'string' },
        google: { type: 'boolean' },
        github: { type: 'boolean' },
        device: { type: 'boolean' },
        browser: { type: 'boolean' },
        label: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.err(`kiro-bridge accounts login: ${(error as Error).message}\n\n${LOGIN_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(LOGIN_USAGE);
    return 0;
  }
  const redactor = new Redactor();
  const openBrowser = io.openBrowser ?? ((url: string) => (io.env.KIRO_BRIDGE_NO_BROWSER ? false : openWithPlatform(url)));
  const readLine = io.readLine ?? readLineFromStdin;
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  io.signal?.addEventListener('abort', onAbort, { once: true });
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    io.err('\nCancelling the sign-in…\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);

  let opened: OpenedAccounts | undefined;
  let clients: FileSecretStore | undefined;
  try {
    if (values.device && values.browser) throw new CliUsageError('choose one of --device and --browser');
    const method = methodFromFlags(values) ?? (await askMethod(io, readLine));
    const remote = preferDeviceFlow(io.env);
    const transport: SignInTransport = values.device ? 'device' : values.browser ? 'browser' : remote ? 'device' : 'browser';
    if (transport === 'device' && !values.device)
      io.err('No local browser can reach this terminal (SSH, WSL, container or no display): using a device code.\n');
    const upstream = upstreamFromEnv(io.env);
    opened = await openAccounts(io.env, { logger: quietLogger(io, redactor), redactor, now: io.now });
    clients = new FileSecretStore(path.join(configDir(io.env), 'sign-in-clients.json'), { watch: false });

    const ui: SignInUi = {
      openUrl: async (url) => {
        io.err(`\nSign in in your browser:\n  ${url}\n`);
        if (!openBrowser(url)) io.err('(Could not open a browser here: open the address above on this machine.)\n');
        return true;
      },
      showUserCode: (prompt) => {
        const expires = new Date(prompt.expiresAt).toISOString().slice(11, 16);
        io.err(
          `\nOpen this page on any device and approve the sign-in:\n  ${prompt.verificationUriComplete}\nIt must show the code:  ${prompt.userCode}\n(The code expires at ${expires} UTC.)\n`,
        );
        if (!remote) openBrowser(prompt.verificationUriComplete);
      },
      pickProfile: async (profiles: KiroProfile[]) => {
        io.err(`\nThis account has several Kiro profiles:\n${profiles.map((p, i) => `  ${i + 1}) ${p.profileName} (${p.region}, ${p.arn})`).join('\n')}\n`);
        const answer = (await readLine(`Profile [1-${profiles.length}, default 1]: `)).trim();
        if (answer === '') return profiles[0];
        return profiles[Number(answer) - 1];
      },
      progress: (message) => io.err(`${message}\n`),
    };
    const result = await signIn({
      method,
      transport,
      ui,
      registrations: new SecretRegistrationCache(clients),
      signal: controller.signal,
      upstreamBase: upstream.upstreamBase,
      redactor,
      logger: quietLogger(io, redactor),
    });
    const snapshot = await opened.service.add(toAddAccountInput(result, typeof values.label === 'string' ? values.label : undefined));
    io.out(
      `Signed in: ${snapshot.label} (${snapshot.kind}, ${result.provider})${snapshot.credits ? `: ${credits(snapshot.credits.remaining)} of ${credits(snapshot.credits.limit)} credits left` : ''}.\n`,
    );
    io.out(`Saved in ${opened.file}.\n`);
    return 0;
  } catch (error) {
    if (error instanceof SignInError && error.cancelled) {
      io.err(`${error.message}\n`);
      return 130;
    }
    if (error instanceof CliUsageError) {
      io.err(`kiro-bridge accounts login: ${redactor.text(error.message)}\n`);
      return 2;
    }
    if (error instanceof SignInError || error instanceof KiroError) {
      io.err(`kiro-bridge accounts login: ${redactor.text(error.message)}\n`);
      if (error instanceof SignInError && (error.failure === 'ports_busy' || error.failure === 'timeout'))
        io.err('Try again with --device to sign in with a code instead.\n');
      return 1;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSigint);
    io.signal?.removeEventListener('abort', onAbort);
    await opened?.dispose();
    clients?.dispose();
  }
}
