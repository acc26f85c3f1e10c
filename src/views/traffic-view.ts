// The "Kiro Bridge › Traffic" webview view: VS Code glue around TrafficViewController. It renders
// the page (strict CSP, a fresh nonce, resources only from media/), relays messages, reports
// visibility, and does the one thing that needs VS Code UI: saving a repro bundle.
//
// Wiring (in the composition root):
//   const store = new TrafficStore({ maxEntries: readTrafficSettings().maxEntries });
//   bridge.trafficSink = store;
//   const traffic = registerTrafficView(context, { store, accounts, logger, redactor });
//   commands.registerCommand('kiroBridge.showTraffic', () => traffic.show());

import * as os from 'node:os';
import * as vscode from 'vscode';
import { Disposable, toDisposable, type IDisposable } from '../common/disposable';
import { nullLogger, type Logger } from '../common/logger';
import { defaultRedactor, type Redactor } from '../common/redact';
import type { TrafficViewConfig } from '../traffic/traffic-protocol';
import { CAPTURE_MODES, type CaptureMode } from '../traffic/traffic';
import { TrafficViewController, type AccountsSource, type TrafficConfigSource } from '../traffic/traffic-controller';
import { makeNonce, renderTrafficHtml, TRAFFIC_ASSETS } from '../traffic/traffic-html';
import { clampMaxEntries, DEFAULT_MAX_ENTRIES, type TrafficStore } from '../traffic/traffic-store';

export const TRAFFIC_VIEW_ID = 'kiroBridge.traffic';
const CONFIG_SECTION = 'kiroBridge.traffic';

export interface TrafficViewOptions {
  logger?: Logger;
  redactor?: Redactor;
  /** Shown in repro bundles. */
  extensionVersion?: string;
}

export class TrafficViewProvider extends Disposable implements vscode.WebviewViewProvider {
  readonly controller: TrafficViewController;
  private readonly mediaRoot: vscode.Uri;
  private readonly logger: Logger;

  constructor(extensionUri: vscode.Uri, store: TrafficStore, accounts: AccountsSource, config: TrafficConfigSource, options: TrafficViewOptions = {}) {
    super();
    this.mediaRoot = vscode.Uri.joinPath(extensionUri, 'media');
    this.logger = options.logger ?? nullLogger;
    this.controller = this.register(
      new TrafficViewController({
        store,
        accounts,
        config,
        redactor: options.redactor ?? defaultRedactor,
        logger: this.logger,
        saveRepro: (fileName, contents) => this.saveRepro(fileName, contents),
        notifyError: (message) => void vscode.window.showErrorMessage(message),
        reproEnvironment: () => ({
          extensionVersion: options.extensionVersion,
          vscodeVersion: vscode.version,
          platform: `${process.platform} ${process.arch}`,
          settings: { ...config.read() },
        }),
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    const webview = view.webview;
    webview.options = { enableScripts: true, localResourceRoots: [this.mediaRoot] };
    const subscriptions: IDisposable[] = [];
    // postMessage resolves false when the webview is gone; the next `ready` resyncs, so a lost
    // delta needs no retry.
    this.controller.attach((message) => void webview.postMessage(message), view.visible);
    subscriptions.push(webview.onDidReceiveMessage((message: unknown) => this.controller.receive(message)));
    subscriptions.push(view.onDidChangeVisibility(() => this.controller.setVisible(view.visible)));
    const release = toDisposable(() => {
      for (const s of subscriptions.splice(0)) void s.dispose();
    });
    subscriptions.push(
      view.onDidDispose(() => {
        this.controller.detach();
        void release.dispose();
      }),
    );
    this.register(release);

    // The page is set last, so its `ready` cannot arrive before the listener above exists.
    const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.mediaRoot, 'dist', name)).toString();
    webview.html = renderTrafficHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: asset(TRAFFIC_ASSETS.script),
      styleUri: asset(TRAFFIC_ASSETS.style),
      codiconsUri: asset(TRAFFIC_ASSETS.codicons),
    });
  }

  /** Reveals and focuses the view ("Show Traffic"). */
  async show(): Promise<void> {
    await vscode.commands.executeCommand(`${TRAFFIC_VIEW_ID}.focus`);
  }

  private async saveRepro(fileName: string, contents: string): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(folder, fileName),
      filters: { JSON: ['json'] },
      saveLabel: 'Export',
      title: 'Export repro bundle (secrets removed)',
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(contents));
    this.logger.info(`Traffic view: repro bundle saved to ${target.fsPath}`);
    const open = await vscode.window.showInformationMessage(`Repro bundle saved: ${fileName}`, 'Open');
    if (open === 'Open') await vscode.window.showTextDocument(target);
  }
}

/** The `kiroBridge.traffic.*` settings, with the defaults the manifest declares. */
export function readTrafficSettings(): TrafficViewConfig {
  const section = vscode.workspace.getConfiguration(CONFIG_SECTION);
  const capture = section.get<string>('captureBodies', 'redacted');
  return {
    captureBodies: (CAPTURE_MODES as readonly string[]).includes(capture) ? (capture as CaptureMode) : 'redacted',
    maxEntries: clampMaxEntries(section.get<number>('maxEntries', DEFAULT_MAX_ENTRIES)),
  };
}

/** A TrafficConfigSource over VS Code settings. */
export function vscodeTrafficConfig(): TrafficConfigSource {
  return {
    read: readTrafficSettings,
    onDidChange: (listener) =>
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(CONFIG_SECTION)) listener();
      }),
  };
}

export interface RegisterTrafficViewDeps {
  store: TrafficStore;
  accounts: AccountsSource;
  /** Defaults to the VS Code settings. */
  config?: TrafficConfigSource;
  logger?: Logger;
  redactor?: Redactor;
}

/** Creates the provider, registers it for the view, and ties both to the extension's lifetime. */
export function registerTrafficView(context: vscode.ExtensionContext, deps: RegisterTrafficViewDeps): TrafficViewProvider {
  const provider = new TrafficViewProvider(context.extensionUri, deps.store, deps.accounts, deps.config ?? vscodeTrafficConfig(), {
    logger: deps.logger,
    redactor: deps.redactor,
    extensionVersion: (context.extension?.packageJSON as { version?: string } | undefined)?.version,
  });
  context.subscriptions.push(vscode.window.registerWebviewViewProvider(TRAFFIC_VIEW_ID, provider), provider);
  return provider;
}
