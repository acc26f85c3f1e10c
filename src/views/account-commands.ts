// Account commands: Sign In (import the Kiro IDE login, paste a refresh token, or add a Kiro API
// key), Add Account, Add Kiro API Key, Remove Account, Refresh Usage, and the per-account menu
// (enable/disable, refresh, remove). Every new account is validated with Kiro before it is saved
// (AccountsService.add). Tokens and keys are typed into password boxes, kept in SecretStorage, and
// never shown or logged.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AccountSnapshot, AddAccountInput } from '../kiro/accounts/accounts-api';
import { KIRO_API_KEY_PREFIX, looksShortened } from '../kiro/accounts/credentials';
import { isAwsRegion } from '../kiro/http/endpoints';
import { defaultKiroCacheDir, KIRO_IDE_TOKEN_FILE } from '../kiro/accounts/kiro-ide';
import type { ExtensionServices } from './services';
import { signInMethodItems, signInWith, type SignInChoice } from './sign-in';
import { formatCredits } from './status-bar';

function errorText(services: ExtensionServices, error: unknown): string {
  return services.redactor.text(error instanceof Error ? error.message : String(error));
}

function describeCredits(account: AccountSnapshot): string {
  if (!account.credits) return '';
  return vscode.l10n.t('{0} of {1} credits left', formatCredits(account.credits.remaining), formatCredits(account.credits.limit));
}

/** The Kiro IDE's login file on the machine the extension runs on (the remote one in a remote window). */
export function kiroIdeLoginFile(services: Pick<ExtensionServices, 'kiroCacheDir'>): string {
  return path.join(services.kiroCacheDir ?? defaultKiroCacheDir(), KIRO_IDE_TOKEN_FILE);
}

interface SignInItem extends vscode.QuickPickItem {
  action: 'import' | 'paste' | 'api-key' | 'sign-in';
  signIn?: SignInChoice;
}

export async function signIn(services: ExtensionServices): Promise<void> {
  const file = kiroIdeLoginFile(services);
  const found = existsSync(file);
  const remote = vscode.env.remoteName;
  const items: SignInItem[] = [
    {
      action: 'import',
      label: `$(cloud-download) ${vscode.l10n.t('Import Kiro IDE Login')}`,
      description: found ? file : vscode.l10n.t('not found on this machine'),
      detail: found
        ? vscode.l10n.t('Copies the login the Kiro IDE keeps in {0} and follows it when the IDE refreshes it.', path.dirname(file))
        : remote
          ? vscode.l10n.t('This window runs on "{0}", where no Kiro IDE login was found. Sign in above instead.', remote)
          : vscode.l10n.t('No Kiro IDE login was found on this machine. Sign in above instead.'),
    },
    {
      action: 'paste',
      label: `$(key) ${vscode.l10n.t('Paste a Refresh Token…')}`,
      detail: vscode.l10n.t('For a Kiro account from another machine or a remote window: Social (Google/GitHub) or IdC (Builder ID/Identity Center).'),
    },
    {
      action: 'api-key',
      label: `$(key) ${vscode.l10n.t('Add Kiro API Key…')}`,
      detail: vscode.l10n.t("A ksk_… key from Kiro's settings (Pro plans and above), as the Kiro CLI uses in headless mode: no sign-in, nothing to refresh."),
    },
  ];
  // Signing in here (Builder ID, Identity Center, Google, GitHub) needs neither the IDE nor a token:
  // it comes first, unless the Kiro IDE's login is right there to import.
  const [importItem, pasteItem, apiKeyItem] = items as [SignInItem, SignInItem, SignInItem];
  const signInItems: SignInItem[] = signInMethodItems().map((item) => ({ ...item, action: 'sign-in' }));
  const separator = (label: string): SignInItem => ({ label, kind: vscode.QuickPickItemKind.Separator, action: 'import' });
  const ordered = found
    ? [importItem, ...signInItems, separator(vscode.l10n.t('Existing login')), pasteItem, apiKeyItem]
    : [...signInItems, separator(vscode.l10n.t('Existing login')), pasteItem, apiKeyItem, importItem];
  const picked = await vscode.window.showQuickPick(ordered, {
    title: vscode.l10n.t('Kiro Bridge: Sign In'),
    placeHolder: vscode.l10n.t('How do you want to add your Kiro account?'),
  });
  if (!picked) return;
  if (picked.action === 'sign-in' && picked.signIn) await signInWith(services, picked.signIn);
  else if (picked.action === 'import') await importKiroIde(services);
  else if (picked.action === 'api-key') await addApiKey(services);
  else await addAccount(services);
}

export async function importKiroIde(services: ExtensionServices): Promise<AccountSnapshot | undefined> {
  const accounts = await services.accounts();
  try {
    const account = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Importing the Kiro IDE login and checking it with Kiro…') },
      () => accounts.importKiroIde(services.kiroCacheDir ? { cacheDir: services.kiroCacheDir } : {}),
    );
    const credits = describeCredits(account);
    void vscode.window.showInformationMessage(
      credits
        ? vscode.l10n.t('Imported {0} from the Kiro IDE ({1}).', account.label, credits)
        : vscode.l10n.t('Imported {0} from the Kiro IDE.', account.label),
    );
    return account;
  } catch (error) {
    const paste = vscode.l10n.t('Paste a Refresh Token…');
    const choice = await vscode.window.showErrorMessage(vscode.l10n.t('Could not import the Kiro IDE login: {0}', errorText(services, error)), paste);
    if (choice === paste) await addAccount(services);
    return undefined;
  }
}

interface KindItem extends vscode.QuickPickItem {
  authKind: 'Social' | 'IdC' | 'ApiKey';
}

export async function addAccount(services: ExtensionServices): Promise<AccountSnapshot | undefined> {
  const kinds: KindItem[] = [
    { authKind: 'Social', label: vscode.l10n.t('Social login (Google or GitHub)'), detail: vscode.l10n.t('A refresh token that starts with "aor".') },
    {
      authKind: 'IdC',
      label: vscode.l10n.t('AWS Builder ID or IAM Identity Center (IdC)'),
      detail: vscode.l10n.t('Needs the refresh token plus the client id and client secret of its registration.'),
    },
    { authKind: 'ApiKey', label: vscode.l10n.t('Kiro API key'), detail: vscode.l10n.t('A key that starts with "ksk_"; never refreshed.') },
  ];
  const kind = await vscode.window.showQuickPick(kinds, {
    title: vscode.l10n.t('Add Kiro Account (1/2)'),
    placeHolder: vscode.l10n.t('How does this account sign in to Kiro?'),
    ignoreFocusOut: true,
  });
  if (!kind) return undefined;
  if (kind.authKind === 'ApiKey') return addApiKey(services);

  const notEmpty = (what: string) => (value: string) => (value.trim() ? undefined : vscode.l10n.t('{0} is required.', what));
  const refreshToken = await vscode.window.showInputBox({
    title: vscode.l10n.t('Add Kiro Account (2/2)'),
    prompt: vscode.l10n.t("Paste the refresh token. It is checked with Kiro, then kept in VS Code's secret storage; it is never shown or logged."),
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) =>
      notEmpty(vscode.l10n.t('The refresh token'))(value) ??
      (looksShortened(value) ? vscode.l10n.t('This looks shortened ("…"); copy the whole token.') : undefined),
  });
  if (refreshToken === undefined) return undefined;

  let clientId: string | undefined;
  let clientSecret: string | undefined;
  let region: string | undefined;
  if (kind.authKind === 'IdC') {
    clientId = await vscode.window.showInputBox({
      title: vscode.l10n.t('IdC client id'),
      prompt: vscode.l10n.t("The clientId of the account's client registration."),
      ignoreFocusOut: true,
      validateInput: notEmpty(vscode.l10n.t('The client id')),
    });
    if (clientId === undefined) return undefined;
    clientSecret = await vscode.window.showInputBox({
      title: vscode.l10n.t('IdC client secret'),
      prompt: vscode.l10n.t('The clientSecret of the same registration.'),
      password: true,
      ignoreFocusOut: true,
      validateInput: notEmpty(vscode.l10n.t('The client secret')),
    });
    if (clientSecret === undefined) return undefined;
    region = await vscode.window.showInputBox({
      title: vscode.l10n.t('IdC region'),
      prompt: vscode.l10n.t('The AWS region of the sign-in (OIDC), e.g. us-east-1. Builder ID is always us-east-1.'),
      value: 'us-east-1',
      ignoreFocusOut: true,
      validateInput: (value) => (isAwsRegion(value.trim()) ? undefined : vscode.l10n.t('Enter an AWS region such as us-east-1.')),
    });
    if (region === undefined) return undefined;
  }

  return checkAndAdd(
    services,
    {
      kind: kind.authKind,
      refreshToken: refreshToken.trim(),
      clientId: clientId?.trim(),
      clientSecret: clientSecret?.trim(),
      region: region?.trim(),
    },
    {
      checking: vscode.l10n.t('Checking the account with Kiro…'),
      refused: (reason) => vscode.l10n.t('Kiro did not accept this account: {0}', reason),
      again: () => addAccount(services),
    },
  );
}

interface CheckAndAddTexts {
  /** The progress notification's title while Kiro checks. */
  checking: string;
  /** The error message for Kiro's (redacted) reason. */
  refused: (reason: string) => string;
  /** What "Try Again" runs. */
  again: () => Promise<AccountSnapshot | undefined>;
}

/** Checks a new account with Kiro under a progress notification, then says what was added, or why not with "Try Again". */
async function checkAndAdd(services: ExtensionServices, input: AddAccountInput, texts: CheckAndAddTexts): Promise<AccountSnapshot | undefined> {
  const accounts = await services.accounts();
  try {
    const account = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: texts.checking }, () => accounts.add(input));
    const credits = describeCredits(account);
    void vscode.window.showInformationMessage(credits ? vscode.l10n.t('Added {0} ({1}).', account.label, credits) : vscode.l10n.t('Added {0}.', account.label));
    return account;
  } catch (error) {
    const again = vscode.l10n.t('Try Again');
    const choice = await vscode.window.showErrorMessage(texts.refused(errorText(services, error)), again);
    if (choice === again) return texts.again();
    return undefined;
  }
}

/** Why `value` cannot be a Kiro API key (what the password box shows), or undefined. */
function apiKeyInputProblem(value: string): string | undefined {
  const key = value.trim();
  if (!key) return vscode.l10n.t('{0} is required.', vscode.l10n.t('The API key'));
  if (!key.startsWith(KIRO_API_KEY_PREFIX)) return vscode.l10n.t('A Kiro API key starts with "ksk_".');
  if (looksShortened(key)) return vscode.l10n.t('This looks shortened ("…"); copy the whole key.');
  return undefined;
}

/** Adds a Kiro API key: checked with Kiro (a usage call with the key), then kept in SecretStorage. */
export async function addApiKey(services: ExtensionServices): Promise<AccountSnapshot | undefined> {
  const apiKey = await vscode.window.showInputBox({
    title: vscode.l10n.t('Add Kiro API Key'),
    prompt: vscode.l10n.t("Paste the Kiro API key (ksk_…). It is checked with Kiro, then kept in VS Code's secret storage; it is never shown or logged."),
    placeHolder: 'ksk_…',
    password: true,
    ignoreFocusOut: true,
    validateInput: apiKeyInputProblem,
  });
  if (apiKey === undefined) return undefined;
  services.redactor.add(apiKey.trim());
  return checkAndAdd(
    services,
    { kind: 'ApiKey', apiKey: apiKey.trim() },
    {
      checking: vscode.l10n.t('Checking the API key with Kiro…'),
      refused: (reason) => vscode.l10n.t('Kiro did not accept this API key: {0}', reason),
      again: () => addApiKey(services),
    },
  );
}

interface AccountItem extends vscode.QuickPickItem {
  account: AccountSnapshot;
}

function accountItems(accounts: readonly AccountSnapshot[]): AccountItem[] {
  return accounts.map((account) => ({
    account,
    label: `${account.active ? '$(star-full) ' : ''}${account.label}`,
    description: [account.state.replace(/_/g, ' '), describeCredits(account)].filter(Boolean).join(' · '),
    detail: account.stateReason,
  }));
}

async function pickAccount(services: ExtensionServices, title: string): Promise<AccountSnapshot | undefined> {
  const accounts = (await services.accounts()).list();
  if (accounts.length === 0) {
    const signInNow = vscode.l10n.t('Sign In');
    if ((await vscode.window.showInformationMessage(vscode.l10n.t('There is no Kiro account yet.'), signInNow)) === signInNow) await signIn(services);
    return undefined;
  }
  return (await vscode.window.showQuickPick(accountItems(accounts), { title, placeHolder: vscode.l10n.t('Choose an account') }))?.account;
}

export async function removeAccount(services: ExtensionServices, chosen?: AccountSnapshot): Promise<void> {
  const account = chosen ?? (await pickAccount(services, vscode.l10n.t('Remove Kiro Account')));
  if (!account) return;
  const remove = vscode.l10n.t('Remove');
  const detail =
    account.source === 'env'
      ? vscode.l10n.t(
          'This account comes from an environment variable (KIRO_AUTH_TOKEN or KIRO_API_KEY); it comes back on the next start unless you remove it there.',
        )
      : vscode.l10n.t("Its tokens are deleted from VS Code's secret storage on this machine. Your Kiro account itself is not changed.");
  const choice = await vscode.window.showWarningMessage(vscode.l10n.t('Remove {0} from Kiro Bridge?', account.label), { modal: true, detail }, remove);
  if (choice !== remove) return;
  await (await services.accounts()).remove(account.id);
  void vscode.window.showInformationMessage(vscode.l10n.t('Removed {0}.', account.label));
}

export async function refreshUsage(services: ExtensionServices): Promise<void> {
  const accounts = await services.accounts();
  if (accounts.list().length === 0) {
    // Says there is none and offers Sign In.
    await pickAccount(services, vscode.l10n.t('Refresh Usage'));
    return;
  }
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Checking Kiro usage…') }, () => accounts.refreshUsage());
  const list = accounts.list();
  const summary = list.map((a) => `${a.label}: ${a.credits ? formatCredits(a.credits.remaining) : a.state.replace(/_/g, ' ')}`).join(' · ');
  void vscode.window.showInformationMessage(vscode.l10n.t('Credits left — {0}', summary));
}

interface ActionItem extends vscode.QuickPickItem {
  run: () => Promise<unknown>;
}

/** Pick an account, then what to do with it. */
export async function manageAccounts(services: ExtensionServices): Promise<void> {
  const account = await pickAccount(services, vscode.l10n.t('Kiro Accounts'));
  if (!account) return;
  const accounts = await services.accounts();
  const disabled = account.state === 'disabled';
  const actions: ActionItem[] = [
    {
      label: disabled ? `$(check) ${vscode.l10n.t('Enable')}` : `$(circle-slash) ${vscode.l10n.t('Disable')}`,
      detail: disabled ? vscode.l10n.t('Let this account serve requests again.') : vscode.l10n.t('Keep the account but stop using it for requests.'),
      run: () => accounts.setDisabled(account.id, !disabled),
    },
    { label: `$(refresh) ${vscode.l10n.t('Refresh Usage')}`, run: () => accounts.refreshUsage(account.id) },
    { label: `$(trash) ${vscode.l10n.t('Remove…')}`, run: () => removeAccount(services, account) },
  ];
  const picked = await vscode.window.showQuickPick(actions, { title: account.label, placeHolder: describeCredits(account) || account.state });
  if (picked) await picked.run();
}
