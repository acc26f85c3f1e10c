// Sign in to Kiro from VS Code, without the Kiro IDE: AWS Builder ID, IAM Identity Center, Google
// or GitHub (docs/kiro-protocol.md#sign-in; the flows live in src/kiro/signin). Local windows use the browser
// and a loopback callback; remote windows (SSH, WSL, containers, Codespaces, code-server) use a
// device code, because the browser runs on another machine than the callback would. A progress
// notification shows each step and cancels the sign-in at any of them; nothing is stored unless the
// account was verified (refresh + usage check) and saved by the accounts service.
import * as vscode from 'vscode';
import type { AccountSnapshot } from '../kiro/accounts/accounts-api';
import { KiroError } from '../kiro/errors';
import { isAwsRegion } from '../kiro/http/endpoints';
import { toAddAccountInput } from '../kiro/signin/account-input';
import { SignInError } from '../kiro/signin/errors';
import type { KiroProfile, SignInMethod, SignInTransport, UserCodePrompt } from '../kiro/signin';
import { MemoryRegistrationCache, type RegistrationCache } from '../kiro/signin/registration-cache';
import { loadHeavyModules } from './load-heavy';
import type { ExtensionServices } from './services';
import { formatCredits } from './status-bar';

export type SignInChoice = 'builder-id' | 'idc' | 'google' | 'github';

export type SignInDeps = Pick<ExtensionServices, 'accounts' | 'redactor' | 'logger' | 'showLogs' | 'signInRegistrations' | 'upstreamBase'>;

/** Without a SecretStorage-backed cache (tests), registrations live for the session only. */
const sessionRegistrations = new MemoryRegistrationCache();

function registrationsOf(deps: SignInDeps): RegistrationCache {
  return deps.signInRegistrations ?? sessionRegistrations;
}

export interface SignInMethodItem extends vscode.QuickPickItem {
  signIn: SignInChoice;
}

/** The four sign-in methods, for the Sign In quick pick. */
export function signInMethodItems(): SignInMethodItem[] {
  return [
    { signIn: 'builder-id', label: `$(account) ${vscode.l10n.t('Sign In with AWS Builder ID')}`, detail: vscode.l10n.t('A free personal AWS login for Kiro.') },
    {
      signIn: 'idc',
      label: `$(organization) ${vscode.l10n.t('Sign In with IAM Identity Center…')}`,
      detail: vscode.l10n.t("Your organisation's AWS login (asks for its start URL and region)."),
    },
    { signIn: 'google', label: `$(globe) ${vscode.l10n.t('Sign In with Google')}`, detail: vscode.l10n.t("Through Kiro's sign-in service.") },
    { signIn: 'github', label: `$(github) ${vscode.l10n.t('Sign In with GitHub')}`, detail: vscode.l10n.t("Through Kiro's sign-in service.") },
  ];
}

/** Asks for the Identity Center start URL and region; undefined when the user backs out. */
export async function askIdentityCenter(): Promise<{ startUrl: string; region: string } | undefined> {
  const startUrl = await vscode.window.showInputBox({
    title: vscode.l10n.t('IAM Identity Center: start URL'),
    prompt: vscode.l10n.t('The AWS access portal URL of your organisation'),
    placeHolder: 'https://my-org.awsapps.com/start',
    ignoreFocusOut: true,
    validateInput: (value) => {
      try {
        const url = new URL(value.trim());
        return url.protocol === 'https:' ? undefined : vscode.l10n.t('The start URL must begin with https://');
      } catch {
        return vscode.l10n.t('Enter a URL like https://my-org.awsapps.com/start');
      }
    },
  });
  if (!startUrl) return undefined;
  const region = await vscode.window.showInputBox({
    title: vscode.l10n.t('IAM Identity Center: region'),
    prompt: vscode.l10n.t('The AWS region of your Identity Center instance'),
    value: 'us-east-1',
    ignoreFocusOut: true,
    validateInput: (value) => (isAwsRegion(value.trim()) ? undefined : vscode.l10n.t('Enter an AWS region name, for example us-east-1')),
  });
  if (!region) return undefined;
  return { startUrl: startUrl.trim(), region: region.trim() };
}

function methodName(choice: SignInChoice): string {
  switch (choice) {
    case 'builder-id':
      return vscode.l10n.t('AWS Builder ID');
    case 'idc':
      return vscode.l10n.t('IAM Identity Center');
    case 'google':
      return 'Google';
    case 'github':
      return 'GitHub';
  }
}

async function showUserCode(prompt: UserCodePrompt): Promise<void> {
  const copyAndOpen = vscode.l10n.t('Copy Code and Open Page');
  const open = vscode.l10n.t('Open Page');
  const choice = await vscode.window.showInformationMessage(
    vscode.l10n.t('To sign in, open the sign-in page and check that it shows the code {0}.', prompt.userCode),
    copyAndOpen,
    open,
  );
  if (choice === copyAndOpen) await vscode.env.clipboard.writeText(prompt.userCode);
  if (choice === copyAndOpen || choice === open) await vscode.env.openExternal(vscode.Uri.parse(prompt.verificationUriComplete, true));
}

async function pickProfile(profiles: KiroProfile[]): Promise<KiroProfile | undefined> {
  const picked = await vscode.window.showQuickPick(
    profiles.map((profile) => ({ label: profile.profileName, description: profile.region, detail: profile.arn, profile })),
    { title: vscode.l10n.t('Choose the Kiro profile to use'), ignoreFocusOut: true },
  );
  return picked?.profile;
}

/** Asks what the choice needs (Identity Center: start URL and region); undefined when the user backs out. */
export async function signInMethodFor(choice: SignInChoice): Promise<SignInMethod | undefined> {
  switch (choice) {
    case 'builder-id':
      return { kind: 'builder-id' };
    case 'google':
      return { kind: 'social', provider: 'Google' };
    case 'github':
      return { kind: 'social', provider: 'Github' };
    case 'idc': {
      const details = await askIdentityCenter();
      return details ? { kind: 'idc', ...details } : undefined;
    }
  }
}

/**
 * Runs one sign-in with a progress notification, then saves the account. Resolves with the saved
 * account, or undefined when the user cancelled or it failed (the user has been told why).
 */
export async function signInWith(deps: SignInDeps, choice: SignInChoice, options: { transport?: SignInTransport } = {}): Promise<AccountSnapshot | undefined> {
  const method = await signInMethodFor(choice);
  if (!method) return undefined;
  return runSignIn(deps, method, methodName(choice), options.transport);
}

async function runSignIn(deps: SignInDeps, method: SignInMethod, name: string, forced?: SignInTransport): Promise<AccountSnapshot | undefined> {
  // In a remote window the browser is on another machine than a loopback callback would be.
  const transport: SignInTransport = forced ?? (vscode.env.remoteName ? 'device' : 'browser');
  try {
    const account = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Signing in to Kiro with {0}', name), cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        const cancel = token.onCancellationRequested(() => controller.abort());
        try {
          // The flows verify with a real refresh (undici, the account machinery): heavy.js.
          const { signIn } = await loadHeavyModules();
          const result = await signIn({
            method,
            transport,
            registrations: registrationsOf(deps),
            signal: controller.signal,
            upstreamBase: deps.upstreamBase?.(),
            redactor: deps.redactor,
            logger: deps.logger,
            ui: {
              openUrl: async (url) => vscode.env.openExternal(vscode.Uri.parse(url, true)),
              showUserCode: (prompt) => void showUserCode(prompt),
              pickProfile,
              progress: (message) => progress.report({ message }),
            },
          });
          progress.report({ message: vscode.l10n.t('Saving the account…') });
          const accounts = await deps.accounts();
          return await accounts.add(toAddAccountInput(result));
        } finally {
          cancel.dispose();
        }
      },
    );
    const credits = account.credits
      ? vscode.l10n.t('{0} of {1} credits left', formatCredits(account.credits.remaining), formatCredits(account.credits.limit))
      : undefined;
    void vscode.window.showInformationMessage(
      credits ? vscode.l10n.t('Signed in to Kiro as {0} ({1}).', account.label, credits) : vscode.l10n.t('Signed in to Kiro as {0}.', account.label),
    );
    return account;
  } catch (error) {
    if (error instanceof SignInError && error.cancelled) return undefined;
    const text = deps.redactor.text(error instanceof Error ? error.message : String(error));
    deps.logger.warn(`sign-in with ${name} failed: ${text}`);
    const useDevice = vscode.l10n.t('Use a Device Code');
    const logs = vscode.l10n.t('Show Logs');
    const offerDevice = error instanceof SignInError && transport === 'browser' && (error.failure === 'ports_busy' || error.failure === 'timeout');
    const message = error instanceof KiroError ? vscode.l10n.t('Signed in, but the account could not be saved: {0}', text) : text;
    const picked = await (offerDevice ? vscode.window.showErrorMessage(message, useDevice, logs) : vscode.window.showErrorMessage(message, logs));
    if (picked === useDevice) return runSignIn(deps, method, name, 'device');
    if (picked === logs) deps.showLogs();
    return undefined;
  }
}
