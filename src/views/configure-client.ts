// "Configure Client…": pick a tool, get its exact settings (real URL and key) in a read-only
// document and on the clipboard; for Claude Code, optionally merge them into its settings file
// (after a modal confirmation, with a backup); then, if wanted, one real test request.
import * as vscode from 'vscode';
import { writeClaudeEnv, ClaudeSettingsError } from '../clients/claude-settings';
import {
  CLAUDE_ENV_CONFLICTS,
  CLIENT_IDS,
  CLIENT_NAMES,
  clientSetup,
  modelsFor,
  setupDocument,
  type ClientId,
  type ClientSetup,
  type ModelChoice,
} from '../clients/client-config';
import { currentBaseUrl, isServing, type ExtensionServices } from './services';

export const SETUP_SCHEME = 'kiro-bridge-setup';

/** Read-only documents for the setup text (an untitled editor would ask to be saved, key and all). */
export class SetupDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.path) ?? '';
  }

  async show(name: string, content: string): Promise<void> {
    const uri = vscode.Uri.parse(`${SETUP_SCHEME}:/${encodeURIComponent(name)}`);
    this.contents.set(uri.path, content);
    this.emitter.fire(uri);
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Active });
  }

  dispose(): void {
    this.emitter.dispose();
    this.contents.clear();
  }
}

function description(client: ClientId): string {
  switch (client) {
    case 'claude-code':
      return vscode.l10n.t('The "env" block for ~/.claude/settings.json; can write it for you.');
    case 'cline':
      return vscode.l10n.t('API provider "Anthropic" with a custom base URL, or "OpenAI Compatible".');
    case 'roo-code':
      return vscode.l10n.t('API provider "Anthropic" with a custom base URL, or "OpenAI Compatible".');
    case 'continue':
      return vscode.l10n.t('Model entries for ~/.continue/config.yaml.');
    case 'codex':
      return vscode.l10n.t('A model provider for ~/.codex/config.toml (Responses API).');
    case 'sdk-env':
      return vscode.l10n.t('ANTHROPIC_* and OPENAI_* environment variables for scripts and SDKs.');
  }
}

interface ClientItem extends vscode.QuickPickItem {
  client: ClientId;
}

export async function configureClient(services: ExtensionServices, preselected?: ClientId): Promise<void> {
  let client = preselected;
  if (!client) {
    const items: ClientItem[] = CLIENT_IDS.map((id) => ({ client: id, label: CLIENT_NAMES[id], detail: description(id) }));
    client = (
      await vscode.window.showQuickPick(items, {
        title: vscode.l10n.t('Configure a client for Kiro Bridge'),
        placeHolder: vscode.l10n.t('Which tool should use Kiro Bridge?'),
      })
    )?.client;
  }
  if (!client) return;

  const baseUrl = currentBaseUrl(services);
  const models = await usableModels(services);
  const setup = clientSetup(client, { baseUrl, apiKey: await services.apiKey.get(), platform: services.platform, models });
  const intro = [vscode.l10n.t('These settings point {0} at Kiro Bridge on {1} with your bridge API key. Keep them private.', setup.name, baseUrl)];
  if (!isServing(services)) intro.push('', vscode.l10n.t('The bridge is not running yet: run "Kiro Bridge: Start".'));
  if (vscode.env.remoteName)
    intro.push('', vscode.l10n.t('This window runs on "{0}": the URL works for tools running there (its terminal, its extensions).', vscode.env.remoteName));
  await vscode.env.clipboard.writeText(setup.primary.code);
  await services.showDocument(`${setup.name}.md`, setupDocument(setup, intro));

  const test = vscode.l10n.t('Send Test Request');
  if (client === 'claude-code') {
    const file = services.claudeSettingsFile();
    const write = vscode.l10n.t('Write to {0}', file);
    const choice = await vscode.window.showInformationMessage(vscode.l10n.t('Copied the Claude Code settings ({0}).', setup.primary.target), write, test);
    if (choice === write) await writeClaudeSettings(services, setup, file);
    else if (choice === test) await runTestRequest(services);
    return;
  }
  const choice = await vscode.window.showInformationMessage(vscode.l10n.t('Copied the {0} settings ({1}).', setup.name, setup.primary.target), test);
  if (choice === test) await runTestRequest(services);
}

async function writeClaudeSettings(services: ExtensionServices, setup: ClientSetup, file: string): Promise<void> {
  const confirm = vscode.l10n.t('Write Settings');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('Write the Kiro Bridge settings into {0}?', file),
    {
      modal: true,
      detail: vscode.l10n.t(
        'Sets ANTHROPIC_BASE_URL, ANTHROPIC_AUTH_TOKEN and the model variables in its "env" block, removes ANTHROPIC_API_KEY if present (it would override the token), and keeps everything else. The current file is copied to a backup next to it first. Running Claude Code sessions need a restart to pick it up.',
      ),
    },
    confirm,
  );
  if (choice !== confirm) return;
  try {
    const result = await writeClaudeEnv(file, setup.claudeEnv!, CLAUDE_ENV_CONFLICTS);
    services.logger.info(
      `wrote Claude Code settings to ${file} (changed: ${result.changed.join(', ') || 'nothing'}; removed: ${result.removed.join(', ') || 'nothing'}; backup: ${result.backup ?? 'none'})`,
    );
    const test = vscode.l10n.t('Send Test Request');
    const open = vscode.l10n.t('Open File');
    const message = result.backup ? vscode.l10n.t('Updated {0} (backup: {1}).', file, result.backup) : vscode.l10n.t('Created {0}.', file);
    const next = await vscode.window.showInformationMessage(message, test, open);
    if (next === test) await runTestRequest(services);
    if (next === open) await vscode.window.showTextDocument(vscode.Uri.file(file));
  } catch (error) {
    const reason = services.redactor.text(error instanceof Error ? error.message : String(error));
    services.logger.warn(`did not write Claude Code settings to ${file}: ${reason}`);
    const open = vscode.l10n.t('Open File');
    const shown =
      error instanceof ClaudeSettingsError ? vscode.l10n.t('Did not change {0}: {1}', file, reason) : vscode.l10n.t('Could not write {0}: {1}', file, reason);
    if ((await vscode.window.showErrorMessage(shown, open)) === open) await vscode.window.showTextDocument(vscode.Uri.file(file));
  }
}

/** The snippet models, from what the enabled accounts can use (defaults while unknown). */
async function usableModels(services: ExtensionServices): Promise<ModelChoice> {
  const accounts = await services.accounts().catch(() => undefined);
  const lists = accounts?.list().filter((a) => a.state !== 'disabled' && a.models) ?? [];
  return modelsFor(lists.length ? [...new Set(lists.flatMap((a) => a.models!))] : undefined);
}

/** One real request through the bridge, reported plainly. */
export async function runTestRequest(services: ExtensionServices): Promise<void> {
  if (!isServing(services)) {
    const start = vscode.l10n.t('Start');
    if ((await vscode.window.showWarningMessage(vscode.l10n.t('Kiro Bridge is not running, so there is nothing to test yet.'), start)) !== start) return;
    await vscode.commands.executeCommand('kiroBridge.start');
    if (!isServing(services)) return;
  }
  const baseUrl = currentBaseUrl(services);
  const key = await services.apiKey.get();
  const model = (await usableModels(services)).main;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Sending a test request through Kiro Bridge ({0})…', model) },
    () => services.sendTestRequest(baseUrl, key, model),
  );
  const seconds = (result.durationMs / 1000).toFixed(1);
  const traffic = vscode.l10n.t('Show Traffic');
  if (result.ok) {
    services.logger.info(`test request OK in ${seconds} s`);
    const reply = (result.reply ?? '').replace(/\s+/g, ' ').slice(0, 80);
    const choice = await vscode.window.showInformationMessage(vscode.l10n.t('Test request OK in {0} s. Kiro answered: "{1}"', seconds, reply), traffic);
    if (choice === traffic) await services.showTraffic();
    return;
  }
  const error = services.redactor.text(result.error ?? 'unknown error');
  services.logger.warn(`test request failed (HTTP ${result.status}): ${error}`);
  const logs = vscode.l10n.t('Show Logs');
  const choice = await vscode.window.showErrorMessage(
    result.status ? vscode.l10n.t('Test request failed (HTTP {0}): {1}', result.status, error) : vscode.l10n.t('Test request failed: {0}', error),
    traffic,
    logs,
  );
  if (choice === traffic) await services.showTraffic();
  if (choice === logs) services.showLogs();
}
