// The "Kiro Bridge: …" commands: registration, and the bridge's own ones (start, stop, restart,
// copy URL / key, regenerate the key, logs, traffic, the status bar menu). Account commands and
// Configure Client live in their own modules. Every user-facing string goes through l10n.
import * as vscode from 'vscode';
import { Disposable } from '../common/disposable';
import { addAccount, addApiKey, manageAccounts, refreshUsage, removeAccount, signIn } from './account-commands';
import { isLoopbackHost } from '../clients/addresses';
import type { BridgeStatus } from './bridge-controller';
import { configureClient } from './configure-client';
import { confirmRisk, riskAccepted } from './risk-notice';
import { currentBaseUrl, type ExtensionServices } from './services';
import { SHOW_MENU_COMMAND } from './status-bar';

export const COMMANDS = {
  start: 'kiroBridge.start',
  stop: 'kiroBridge.stop',
  restart: 'kiroBridge.restart',
  signIn: 'kiroBridge.signIn',
  addAccount: 'kiroBridge.addAccount',
  addApiKey: 'kiroBridge.addApiKey',
  removeAccount: 'kiroBridge.removeAccount',
  refreshUsage: 'kiroBridge.refreshUsage',
  showTraffic: 'kiroBridge.showTraffic',
  copyBaseUrl: 'kiroBridge.copyBaseUrl',
  copyApiKey: 'kiroBridge.copyApiKey',
  regenerateApiKey: 'kiroBridge.regenerateApiKey',
  configureClient: 'kiroBridge.configureClient',
  showLogs: 'kiroBridge.showLogs',
  showMenu: SHOW_MENU_COMMAND,
} as const;

export const RUNNING_CONTEXT = 'kiroBridge.running';
export const STATE_CONTEXT = 'kiroBridge.state';

export interface StartOptions {
  /** A user asked (command, menu): show the outcome. Auto-start stays quiet unless it fails. */
  interactive: boolean;
}

/** Start, with the one-time risk notice, the non-loopback warning, and an answer for every outcome. */
export async function startBridge(services: ExtensionServices, options: StartOptions): Promise<BridgeStatus> {
  if (options.interactive ? !(await confirmRisk(services.globalState)) : !riskAccepted(services.globalState)) {
    return services.controller.status;
  }
  const { settings } = services.settings.read();
  if (!isLoopbackHost(settings.host)) void warnExposedHost(services, settings.host);
  const status = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Starting Kiro Bridge…') }, () =>
    services.controller.start(),
  );
  await reportStart(services, status, options);
  return status;
}

async function warnExposedHost(services: ExtensionServices, host: string): Promise<void> {
  const loopback = vscode.l10n.t('Use 127.0.0.1');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t(
      'Kiro Bridge listens on {0}, so other machines on the network can reach it and use your Kiro account with the API key. Keep 127.0.0.1 unless you need this.',
      host,
    ),
    loopback,
  );
  if (choice === loopback) {
    await services.settings.update('host', '127.0.0.1');
    if (services.controller.status.kind === 'running') await services.controller.restart();
  }
}

async function reportStart(services: ExtensionServices, status: BridgeStatus, options: StartOptions): Promise<void> {
  switch (status.kind) {
    case 'running': {
      if (!options.interactive) return;
      const accounts = await services.accounts().catch(() => undefined);
      if (accounts && accounts.list().length === 0) {
        const signInNow = vscode.l10n.t('Sign In');
        if (
          (await vscode.window.showWarningMessage(vscode.l10n.t('Kiro Bridge is running on {0}, but it has no Kiro account yet.', status.url), signInNow)) ===
          signInNow
        ) {
          await vscode.commands.executeCommand(COMMANDS.signIn);
        }
        return;
      }
      const configure = vscode.l10n.t('Configure Client…');
      const copy = vscode.l10n.t('Copy Base URL');
      const choice = await vscode.window.showInformationMessage(vscode.l10n.t('Kiro Bridge is running on {0}.', status.url), configure, copy);
      if (choice === configure) await vscode.commands.executeCommand(COMMANDS.configureClient);
      if (choice === copy) await vscode.commands.executeCommand(COMMANDS.copyBaseUrl);
      return;
    }
    case 'following':
      if (options.interactive) {
        void vscode.window.showInformationMessage(
          vscode.l10n.t(
            'Port {0} is already served by Kiro Bridge in another window. This window uses it and takes over when that window closes.',
            status.port,
          ),
        );
      }
      return;
    case 'error': {
      const retry = vscode.l10n.t('Retry');
      if (status.reason === 'foreign') {
        const change = vscode.l10n.t('Change Port');
        const choice = await vscode.window.showErrorMessage(
          vscode.l10n.t('Kiro Bridge cannot use port {0}: another program is listening there ({1}).', status.port, status.message),
          change,
          retry,
        );
        if (choice === change) await changePortAndStart(services, status.port);
        if (choice === retry) await startBridge(services, { interactive: true });
        return;
      }
      const logs = vscode.l10n.t('Show Logs');
      const choice = await vscode.window.showErrorMessage(vscode.l10n.t('Kiro Bridge could not start: {0}', status.message), logs, retry);
      if (choice === logs) services.showLogs();
      if (choice === retry) await startBridge(services, { interactive: true });
      return;
    }
    default:
      return;
  }
}

export function validatePort(value: string): string | undefined {
  const n = Number(value.trim());
  return /^\d+$/.test(value.trim()) && n >= 1 && n <= 65535 ? undefined : vscode.l10n.t('Enter a port number from 1 to 65535.');
}

async function changePortAndStart(services: ExtensionServices, current: number): Promise<void> {
  const value = await vscode.window.showInputBox({
    title: vscode.l10n.t('Kiro Bridge port'),
    prompt: vscode.l10n.t('A free port for the bridge. Clients that use the old port need the new URL (run "Configure Client…" again).'),
    value: String(current < 65535 ? current + 1 : 1024),
    validateInput: validatePort,
    ignoreFocusOut: true,
  });
  if (value === undefined) return;
  await services.settings.update('port', Number(value.trim()));
  await startBridge(services, { interactive: true });
}

export async function stopBridge(services: ExtensionServices): Promise<void> {
  await services.controller.stop();
  services.counter.clearInFlight();
}

export async function restartBridge(services: ExtensionServices): Promise<void> {
  const status = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Restarting Kiro Bridge…') }, () =>
    services.controller.restart(),
  );
  services.counter.clearInFlight();
  await reportStart(services, status, { interactive: false });
}

async function copyBaseUrl(services: ExtensionServices): Promise<void> {
  const url = currentBaseUrl(services);
  await vscode.env.clipboard.writeText(url);
  const kind = services.controller.status.kind;
  if (kind === 'running' || kind === 'following') {
    void vscode.window.showInformationMessage(vscode.l10n.t('Copied {0} (Anthropic clients). OpenAI clients use {0}/v1.', url));
    return;
  }
  const start = vscode.l10n.t('Start');
  if ((await vscode.window.showInformationMessage(vscode.l10n.t('Copied {0}. The bridge is not running yet.', url), start)) === start) {
    await startBridge(services, { interactive: true });
  }
}

async function copyApiKey(services: ExtensionServices): Promise<void> {
  const key = await services.apiKey.get();
  await vscode.env.clipboard.writeText(key);
  // The key itself is never shown in a notification (screenshots, screen sharing).
  void vscode.window.showInformationMessage(vscode.l10n.t('Copied the Kiro Bridge API key. Clients send it as x-api-key or as a Bearer token.'));
}

async function regenerateApiKey(services: ExtensionServices): Promise<void> {
  const regenerate = vscode.l10n.t('Regenerate');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('Regenerate the Kiro Bridge API key?'),
    { modal: true, detail: vscode.l10n.t('Every client configured with the current key gets "401 invalid key" until you give it the new one.') },
    regenerate,
  );
  if (choice !== regenerate) return;
  await services.apiKey.regenerate();
  services.logger.info('the client API key was regenerated');
  // The running bridge takes the new key at once (the container forwards key changes), and other
  // windows learn it through SecretStorage: no restart is needed.
  const copy = vscode.l10n.t('Copy API Key');
  const configure = vscode.l10n.t('Configure Client…');
  const next = await vscode.window.showInformationMessage(
    vscode.l10n.t('New API key created. The bridge already uses it; update your clients.'),
    copy,
    configure,
  );
  if (next === copy) await copyApiKey(services);
  if (next === configure) await configureClient(services);
}

interface MenuItem extends vscode.QuickPickItem {
  command?: string;
}

/** The status bar's quick pick: the common actions for the current state. */
export async function showMenu(services: ExtensionServices): Promise<void> {
  const status = services.controller.status;
  const serving = status.kind === 'running' || status.kind === 'following';
  const item = (icon: string, label: string, command: string, description?: string): MenuItem => ({ label: `$(${icon}) ${label}`, command, description });
  const separator = (label: string): MenuItem => ({ label, kind: vscode.QuickPickItemKind.Separator });
  const items: MenuItem[] = [];
  if (serving) {
    items.push(item('debug-stop', status.kind === 'following' ? vscode.l10n.t('Stop Following') : vscode.l10n.t('Stop'), COMMANDS.stop, status.url));
    if (status.kind === 'running') items.push(item('debug-restart', vscode.l10n.t('Restart'), COMMANDS.restart));
  } else {
    items.push(item('play', vscode.l10n.t('Start'), COMMANDS.start, currentBaseUrl(services)));
  }
  items.push(
    item('pulse', vscode.l10n.t('Show Traffic'), COMMANDS.showTraffic),
    item('plug', vscode.l10n.t('Configure Client…'), COMMANDS.configureClient),
    item('link', vscode.l10n.t('Copy Base URL'), COMMANDS.copyBaseUrl),
    item('key', vscode.l10n.t('Copy API Key'), COMMANDS.copyApiKey),
    separator(vscode.l10n.t('Accounts')),
    item('sign-in', vscode.l10n.t('Sign In…'), COMMANDS.signIn),
    item('account', vscode.l10n.t('Manage Accounts…'), 'kiroBridge.manageAccounts'),
    item('refresh', vscode.l10n.t('Refresh Usage'), COMMANDS.refreshUsage),
    separator(''),
    item('output', vscode.l10n.t('Show Logs'), COMMANDS.showLogs),
    item('settings-gear', vscode.l10n.t('Open Settings'), 'workbench.action.openSettings'),
  );
  const picked = await vscode.window.showQuickPick(items, { title: 'Kiro Bridge', placeHolder: vscode.l10n.t('Choose an action') });
  if (!picked?.command) return;
  if (picked.command === 'workbench.action.openSettings') await vscode.commands.executeCommand(picked.command, '@ext:kiro-bridge.kiro-bridge');
  else if (picked.command === 'kiroBridge.manageAccounts') await manageAccounts(services);
  else await vscode.commands.executeCommand(picked.command);
}

/** Registers every command; disposing unregisters them. */
export class CommandRegistry extends Disposable {
  constructor(services: ExtensionServices) {
    super();
    const handlers: Record<string, () => Promise<unknown> | unknown> = {
      [COMMANDS.start]: () => startBridge(services, { interactive: true }),
      [COMMANDS.stop]: () => stopBridge(services),
      [COMMANDS.restart]: () => restartBridge(services),
      [COMMANDS.signIn]: () => signIn(services),
      [COMMANDS.addAccount]: () => addAccount(services),
      [COMMANDS.addApiKey]: () => addApiKey(services),
      [COMMANDS.removeAccount]: () => removeAccount(services),
      [COMMANDS.refreshUsage]: () => refreshUsage(services),
      [COMMANDS.showTraffic]: () => services.showTraffic(),
      [COMMANDS.copyBaseUrl]: () => copyBaseUrl(services),
      [COMMANDS.copyApiKey]: () => copyApiKey(services),
      [COMMANDS.regenerateApiKey]: () => regenerateApiKey(services),
      [COMMANDS.configureClient]: () => configureClient(services),
      [COMMANDS.showLogs]: () => services.showLogs(),
      [COMMANDS.showMenu]: () => showMenu(services),
    };
    for (const [id, handler] of Object.entries(handlers)) {
      this.register(vscode.commands.registerCommand(id, () => this.run(services, id, handler)));
    }
  }

  /** One place that turns an unexpected failure into a message instead of a silent nothing. */
  private async run(services: ExtensionServices, id: string, handler: () => Promise<unknown> | unknown): Promise<unknown> {
    try {
      return await handler();
    } catch (error) {
      const message = services.redactor.text(error instanceof Error ? error.message : String(error));
      services.logger.error(`${id} failed: ${message}`);
      const logs = vscode.l10n.t('Show Logs');
      if ((await vscode.window.showErrorMessage(vscode.l10n.t('Kiro Bridge: {0}', message), logs)) === logs) services.showLogs();
      return undefined;
    }
  }
}

/** Keeps the `kiroBridge.running` / `kiroBridge.state` context keys in step with the bridge. */
export function contextKeysFor(status: BridgeStatus): { running: boolean; state: string } {
  return { running: status.kind === 'running' || status.kind === 'following', state: status.kind };
}
