// What the command handlers need, as one object the container fills in. Tests build it from real
// pieces (controller, key store, settings over the vscode mock) and a real accounts service.
import type * as vscode from 'vscode';
import type { Logger } from '../common/logger';
import type { Redactor } from '../common/redact';
import type { AccountsService } from '../kiro/accounts/accounts-api';
import type { RegistrationCache } from '../kiro/signin/registration-cache';
import type { ApiKeyStore } from './api-key';
import type { BridgeController } from './bridge-controller';
import { clientBaseUrl } from '../clients/addresses';
import type { RequestCounter } from './request-counter';
import type { SettingsSource } from './settings';
import type { TestRequestResult } from '../clients/test-request';

export interface ExtensionServices {
  controller: BridgeController;
  settings: SettingsSource;
  apiKey: ApiKeyStore;
  counter: RequestCounter;
  logger: Logger;
  redactor: Redactor;
  /** Reveals the "Kiro Bridge" output channel. */
  showLogs(): void;
  globalState: vscode.Memento;
  /** The accounts service, loaded on first use. */
  accounts(): Promise<AccountsService>;
  /** Focuses the traffic view. */
  showTraffic(): Promise<void>;
  /** Shows text in a read-only editor (setup instructions). */
  showDocument(name: string, content: string): Promise<void>;
  /** Claude Code's user settings file. */
  claudeSettingsFile(): string;
  sendTestRequest(baseUrl: string, apiKey: string, model: string): Promise<TestRequestResult>;
  platform: NodeJS.Platform;
  /** Where the Kiro IDE keeps its login (default ~/.aws/sso/cache). */
  kiroCacheDir?: string;
  /** Where sign-ins cache their SSO-OIDC client registrations (SecretStorage; session-only if absent). */
  signInRegistrations?: RegistrationCache;
  /** The upstream base in force (setting or KIRO_BRIDGE_UPSTREAM_BASE), read when a sign-in starts. */
  upstreamBase?(): string | undefined;
}

/** The URL clients use now: the serving bridge's, else the one the settings say. */
export function currentBaseUrl(services: Pick<ExtensionServices, 'controller' | 'settings'>): string {
  const status = services.controller.status;
  if (status.kind === 'running' || status.kind === 'following') return status.url;
  const { host, port } = services.settings.read().settings;
  return clientBaseUrl(host, port);
}

/** Whether a client could reach a bridge right now (here or in another window). */
export function isServing(services: Pick<ExtensionServices, 'controller'>): boolean {
  const kind = services.controller.status.kind;
  return kind === 'running' || kind === 'following';
}
