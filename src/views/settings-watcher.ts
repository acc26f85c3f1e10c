// What a settings change does: live settings go straight to the running bridge; port and host
// offer a restart (never a silent one: clients are mid-request and hard-code the URL); region and
// the upstream base need the accounts rebuilt, which a window reload does; the strategy goes to
// the accounts service. A non-loopback host always gets a warning.
import * as vscode from 'vscode';
import { Disposable } from '../common/disposable';
import type { AccountsService } from '../kiro/accounts/accounts-api';
import { isLoopbackHost } from '../clients/addresses';
import type { BridgeController } from './bridge-controller';
import { LIVE_KEYS, liveConfigPatch, RESTART_KEYS, type SettingKey, type SettingsSource } from './settings';
import type { Logger } from '../common/logger';

export interface SettingsWatcherDeps {
  settings: SettingsSource;
  controller: BridgeController;
  logger: Logger;
  /** The accounts service if it is loaded (a later load reads the settings itself). */
  accounts(): AccountsService | undefined;
  restart(): Promise<unknown>;
}

export class SettingsWatcher extends Disposable {
  constructor(private readonly deps: SettingsWatcherDeps) {
    super();
    this.register(deps.settings.onDidChange((changed) => void this.onChange(changed)));
  }

  private async onChange(changed: ReadonlySet<SettingKey>): Promise<void> {
    const { settings, problems } = this.deps.settings.read();
    for (const problem of problems) this.deps.logger.warn(problem);
    const { controller } = this.deps;

    if (LIVE_KEYS.some((k) => changed.has(k))) controller.updateLive(liveConfigPatch(settings));
    if (changed.has('accountStrategy')) this.deps.accounts()?.setStrategy(settings.accountStrategy);

    if (changed.has('host') && !isLoopbackHost(settings.host)) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t(
          'kiroBridge.host is {0}: other machines on the network will be able to reach the bridge and use your Kiro account with the API key. Keep 127.0.0.1 unless you need this.',
          settings.host,
        ),
      );
    }

    const serving = controller.status.kind === 'running' || controller.status.kind === 'following';
    const needsReload = changed.has('region') || changed.has('advanced.upstreamBase');
    if (needsReload) {
      const reload = vscode.l10n.t('Reload Window');
      const choice = await vscode.window.showInformationMessage(vscode.l10n.t('The new Kiro region or upstream applies after the window reloads.'), reload);
      if (choice === reload) await vscode.commands.executeCommand('workbench.action.reloadWindow');
      return;
    }
    if (serving && RESTART_KEYS.some((k) => changed.has(k))) {
      const restart = vscode.l10n.t('Restart Now');
      const what = changed.has('port') ? vscode.l10n.t('port {0}', settings.port) : vscode.l10n.t('address {0}', settings.host);
      const choice = await vscode.window.showInformationMessage(
        vscode.l10n.t('Kiro Bridge uses the new {0} after a restart. Clients keep working on the old one until then.', what),
        restart,
      );
      if (choice === restart) await this.deps.restart();
    }
  }
}
