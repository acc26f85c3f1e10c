// The extension's composition root: builds every adapter and service once, wires them, and
// disposes them in reverse order. Activation stays cheap: nothing here touches the network or
// loads the bridge. The heavy code (accounts, express, the tokenizer) is a separate bundle
// (load-heavy.ts) loaded right after activation returns, for the accounts, off the activation path.
import * as vscode from 'vscode';
import { Disposable, toDisposable, type IDisposable } from '../common/disposable';
import { Redactor } from '../common/redact';
import { generateApiKey, type BridgeConfig } from '../bridge/config';
import type { KiroAccountsService } from '../kiro/accounts/accounts-service';
import { addEnvironmentAccounts, type EnvAccountVariable } from '../kiro/accounts/env-variables';
import { poolAccountProvider, toAccountView, trafficAccountsSource } from './accounts-adapters';
import { ApiKeyStore } from './api-key';
import { BridgeController, type BridgeHandle } from './bridge-controller';
import { claudeSettingsPath } from '../clients/claude-settings';
import { CommandRegistry, contextKeysFor, RUNNING_CONTEXT, startBridge, STATE_CONTEXT } from './commands';
import { SETUP_SCHEME, SetupDocuments } from './configure-client';
import { probePort, type Probe } from '../clients/health-probe';
import { loadHeavyModules } from './load-heavy';
import { OutputChannelLogger } from './log-channel';
import { RequestCounter } from './request-counter';
import type { ExtensionServices } from './services';
import { toBridgeConfig, VsCodeSettings } from './settings';
import { SettingsWatcher } from './settings-watcher';
import { BridgeStatusBar, type StatusModel } from './status-bar';
import { sendTestRequest } from '../clients/test-request';
import { registerTrafficView, type TrafficViewProvider } from './traffic-view';
import { TrafficStore } from '../traffic/traffic-store';
import { VsCodeSecretStore } from './vscode-secret-store';
import { vscodeProxySettings } from './proxy-settings';
import { SecretRegistrationCache } from '../kiro/signin/registration-cache';

export interface ContainerOptions {
  /** Environment to read KIRO_AUTH_TOKEN / KIRO_API_KEY / KIRO_BRIDGE_UPSTREAM_BASE from (tests pass their own). */
  env?: NodeJS.ProcessEnv;
  probe?: Probe;
  followPollMs?: number;
  claudeSettingsFile?: () => string;
  kiroCacheDir?: string;
  sendTestRequest?: ExtensionServices['sendTestRequest'];
}

export class Container extends Disposable {
  readonly redactor = new Redactor();
  readonly channel: vscode.LogOutputChannel;
  readonly logger: OutputChannelLogger;
  readonly settings = new VsCodeSettings();
  readonly apiKey: ApiKeyStore;
  readonly counter = new RequestCounter();
  readonly trafficStore: TrafficStore;
  readonly controller: BridgeController;
  readonly services: ExtensionServices;
  private traffic: TrafficViewProvider | undefined;
  private accountsService: KiroAccountsService | undefined;
  private accountsLoading: Promise<KiroAccountsService> | undefined;
  private readonly accountsListeners = new Set<() => void>();
  private shuttingDown: Promise<void> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly options: ContainerOptions = {},
  ) {
    super();
    this.channel = this.register(vscode.window.createOutputChannel('Kiro Bridge', { log: true }));
    this.logger = new OutputChannelLogger(this.channel, this.redactor);
    const secrets = new VsCodeSecretStore(context.secrets);
    this.apiKey = this.register(new ApiKeyStore(secrets, generateApiKey, this.redactor));
    const initial = this.settings.read();
    this.trafficStore = this.register(new TrafficStore({ maxEntries: initial.settings.trafficMaxEntries }));
    this.register(this.counter.forwardTo(this.trafficStore));
    this.controller = this.register(
      new BridgeController({
        readConfig: async () => toBridgeConfig(this.effectiveSettings(), await this.apiKey.get()),
        createBridge: (config) => this.createBridge(config),
        probe: options.probe ?? ((host, port) => probePort(host, port)),
        logger: this.logger,
        followPollMs: options.followPollMs,
      }),
    );
    const setupDocuments = this.register(new SetupDocuments());
    this.register(vscode.workspace.registerTextDocumentContentProvider(SETUP_SCHEME, setupDocuments));
    this.services = {
      controller: this.controller,
      settings: this.settings,
      apiKey: this.apiKey,
      counter: this.counter,
      logger: this.logger,
      redactor: this.redactor,
      showLogs: () => this.logger.show(),
      globalState: context.globalState,
      accounts: () => this.loadAccounts(),
      showTraffic: async () => this.traffic?.show(),
      showDocument: (name, content) => setupDocuments.show(name, content),
      claudeSettingsFile: options.claudeSettingsFile ?? (() => claudeSettingsPath(this.env)),
      sendTestRequest: options.sendTestRequest ?? sendTestRequest,
      platform: process.platform,
      kiroCacheDir: options.kiroCacheDir,
      signInRegistrations: new SecretRegistrationCache(secrets),
      upstreamBase: () => this.effectiveSettings().upstreamBase,
    };
  }

  private get env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  /** Registers the UI and kicks off the non-blocking work; returns at once. */
  activate(): void {
    const { settings, problems } = this.settings.read();
    for (const problem of problems) this.logger.warn(problem);
    this.register(this.controller.onDidChange((status) => this.setContext(contextKeysFor(status))));
    this.setContext(contextKeysFor(this.controller.status));
    this.register(this.apiKey.onDidChange((apiKey) => this.controller.updateLive({ apiKey })));
    this.register(new CommandRegistry(this.services));
    this.register(
      new SettingsWatcher({
        settings: this.settings,
        controller: this.controller,
        logger: this.logger,
        accounts: () => this.accountsService,
        restart: async () => vscode.commands.executeCommand('kiroBridge.restart'),
      }),
    );
    this.traffic = registerTrafficView(this.context, {
      store: this.trafficStore,
      accounts: trafficAccountsSource(
        () => this.accountsService,
        (listener) => this.onAccountsLoaded(listener),
      ),
      logger: this.logger,
      redactor: this.redactor,
    });
    this.register(
      new BridgeStatusBar({
        model: () => this.statusModel(),
        onDidChange: (listener) => this.onStatusChange(listener),
      }),
    );
    // Accounts next (secret storage only, no network), then the auto-start if the user wants it.
    void this.loadAccounts()
      .catch((error: Error) => this.logger.error(`could not load the Kiro accounts: ${error.message}`))
      .then(() => {
        if (settings.autoStart && !this.isDisposed) return startBridge(this.services, { interactive: false });
        return undefined;
      });
  }

  /** Stops the bridge and releases everything; `deactivate` awaits it. */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      try {
        // VS Code gives deactivate a few seconds: one for answers in flight, then end them.
        this.controller.updateLive({ stopGraceSeconds: 1 });
        await this.controller.shutdown();
      } catch (error) {
        this.logger.warn(`stopping the bridge failed: ${(error as Error).message}`);
      }
      await this.accountsService?.flush().catch(() => undefined);
      this.dispose();
    })();
    return this.shuttingDown;
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.accountsService?.dispose();
    this.accountsService = undefined;
    this.accountsListeners.clear();
  }

  /** Settings, with the CLI's environment variable as the fallback for the upstream base. */
  private effectiveSettings() {
    const { settings } = this.settings.read();
    const fromEnv = this.env.KIRO_BRIDGE_UPSTREAM_BASE?.trim();
    return settings.upstreamBase || !fromEnv ? settings : { ...settings, upstreamBase: fromEnv };
  }

  private loadAccounts(): Promise<KiroAccountsService> {
    if (this.accountsService) return Promise.resolve(this.accountsService);
    this.accountsLoading ??= (async () => {
      const { KiroAccountsService } = await loadHeavyModules();
      const settings = this.effectiveSettings();
      const service = new KiroAccountsService({
        secrets: new VsCodeSecretStore(this.context.secrets),
        redactor: this.redactor,
        logger: this.logger,
        upstreamBase: settings.upstreamBase,
        region: settings.region,
        strategy: settings.accountStrategy,
        kiroCacheDir: this.options.kiroCacheDir,
        proxy: vscodeProxySettings(this.env),
      });
      if (this.isDisposed) {
        service.dispose();
        throw new Error('the extension is shutting down');
      }
      await service.start();
      this.addEnvAccounts(service);
      this.accountsService = service;
      for (const listener of [...this.accountsListeners]) listener();
      return service;
    })().finally(() => {
      this.accountsLoading = undefined;
    });
    return this.accountsLoading;
  }

  /** KIRO_AUTH_TOKEN and KIRO_API_KEY work here as in the CLI (handy for remote machines and tests). */
  private addEnvAccounts(service: KiroAccountsService): void {
    const added = addEnvironmentAccounts(service, this.env, this.redactor);
    const problem = (variable: EnvAccountVariable) => added.problems.find((p) => p.variable === variable)?.message;
    const keyProblem = problem('KIRO_API_KEY');
    if (added.apiKey) this.logger.info('added the Kiro API key of KIRO_API_KEY');
    else if (keyProblem !== undefined) this.logger.warn(`KIRO_API_KEY is set but could not be used: ${keyProblem}`);
    const tokenProblem = problem('KIRO_AUTH_TOKEN');
    if (added.authToken) this.logger.info(`added ${added.authToken.accounts} account(s) from KIRO_AUTH_TOKEN`);
    else if (tokenProblem !== undefined) this.logger.warn(`KIRO_AUTH_TOKEN is set but could not be read: ${tokenProblem}`);
  }

  private onAccountsLoaded(listener: () => void): IDisposable {
    this.accountsListeners.add(listener);
    return toDisposable(() => {
      this.accountsListeners.delete(listener);
    });
  }

  private async createBridge(config: BridgeConfig): Promise<BridgeHandle> {
    const [{ createBridge }, accounts] = await Promise.all([loadHeavyModules(), this.loadAccounts()]);
    const bridge = createBridge(config, { accounts: poolAccountProvider(accounts.pool), logger: this.logger, traffic: this.counter, redactor: this.redactor });
    // Credits for the status bar once the user has chosen to run the bridge.
    void accounts.checkAll().catch(() => undefined);
    return bridge;
  }

  private statusModel(): StatusModel {
    const accounts = this.accountsService;
    return {
      bridge: this.controller.status,
      requests: this.counter.counts,
      accounts: accounts?.list().map(toAccountView),
      strategy: accounts && accounts.list().length > 1 ? accounts.strategy : undefined,
    };
  }

  private onStatusChange(listener: () => void): IDisposable {
    const subscriptions: IDisposable[] = [this.controller.onDidChange(listener), this.counter.onDidChange(listener)];
    let accountsSubscription = this.accountsService?.onDidChange(listener);
    subscriptions.push(
      this.onAccountsLoaded(() => {
        void accountsSubscription?.dispose();
        accountsSubscription = this.accountsService?.onDidChange(listener);
        listener();
      }),
    );
    return toDisposable(() => {
      for (const s of subscriptions) void s.dispose();
      void accountsSubscription?.dispose();
    });
  }

  private setContext(keys: { running: boolean; state: string }): void {
    void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, keys.running);
    void vscode.commands.executeCommand('setContext', STATE_CONTEXT, keys.state);
  }
}
