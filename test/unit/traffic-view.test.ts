// The VS Code glue of the traffic view, against a small stand-in for the parts of the `vscode`
// API it touches: webview options and HTML (CSP, nonce, resource roots), message relay,
// visibility, settings, saving a repro bundle, and registration.

import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const vs = vi.hoisted(() => {
  class Uri {
    constructor(
      readonly scheme: string,
      readonly authority: string,
      readonly path: string,
    ) {}
    static file(p: string) {
      return new Uri('file', '', p);
    }
    static joinPath(base: Uri, ...parts: string[]) {
      return new Uri(base.scheme, base.authority, [base.path.replace(/\/$/, ''), ...parts].join('/'));
    }
    get fsPath() {
      return this.path;
    }
    toString() {
      return `${this.scheme}://${this.authority}${this.path}`;
    }
  }
  type Listener = (e: unknown) => void;
  const emitter = () => {
    const listeners = new Set<Listener>();
    return {
      event: (l: Listener) => {
        listeners.add(l);
        return { dispose: () => listeners.delete(l) };
      },
      fire: (e?: unknown) => [...listeners].forEach((l) => l(e)),
      get size() {
        return listeners.size;
      },
    };
  };
  const config = new Map<string, unknown>();
  const configChanged = emitter();
  const state = {
    registered: [] as { id: string; provider: unknown }[],
    commands: [] as unknown[][],
    saveDialogs: [] as unknown[],
    saveAnswer: undefined as Uri | undefined,
    written: [] as { uri: Uri; text: string }[],
    infos: [] as string[],
    errors: [] as string[],
  };
  const api = {
    Uri,
    version: '1.100.3',
    window: {
      registerWebviewViewProvider: (id: string, provider: unknown) => {
        state.registered.push({ id, provider });
        return { dispose() {} };
      },
      showSaveDialog: async (options: unknown) => {
        state.saveDialogs.push(options);
        return state.saveAnswer;
      },
      showInformationMessage: async (message: string) => {
        state.infos.push(message);
        return undefined;
      },
      showErrorMessage: async (message: string) => {
        state.errors.push(message);
        return undefined;
      },
      showTextDocument: async () => undefined,
    },
    workspace: {
      workspaceFolders: [{ uri: Uri.file('/work/project') }],
      getConfiguration: (section: string) => ({
        get: <T>(key: string, fallback: T): T => (config.has(`${section}.${key}`) ? (config.get(`${section}.${key}`) as T) : fallback),
      }),
      onDidChangeConfiguration: (l: Listener) => configChanged.event(l),
      fs: {
        writeFile: async (uri: Uri, bytes: Uint8Array) => {
          state.written.push({ uri, text: new TextDecoder().decode(bytes) });
        },
      },
    },
    commands: {
      executeCommand: async (...args: unknown[]) => {
        state.commands.push(args);
      },
    },
  };
  return { api, state, config, configChanged, emitter, Uri };
});

vi.mock('vscode', () => vs.api);

import type * as vscode from 'vscode';
import { Redactor } from '../../src/common/redact';
import type { HostMessage } from '../../src/traffic/traffic-protocol';
import { TrafficStore } from '../../src/traffic/traffic-store';
import { readTrafficSettings, registerTrafficView, TRAFFIC_VIEW_ID, TrafficViewProvider, vscodeTrafficConfig } from '../../src/views/traffic-view';
import { sampleRecord, SECRETS } from '../webview/samples';

const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

function fakeView() {
  const received = vs.emitter();
  const visibility = vs.emitter();
  const disposed = vs.emitter();
  const posted: HostMessage[] = [];
  const webview = {
    options: {} as { enableScripts?: boolean; localResourceRoots?: { toString(): string }[] },
    html: '',
    cspSource: CSP_SOURCE,
    asWebviewUri: (uri: InstanceType<typeof vs.Uri>) => new vs.Uri('https', 'file+.vscode-resource.vscode-cdn.net', uri.path),
    postMessage: async (m: HostMessage) => {
      posted.push(m);
      return true;
    },
    onDidReceiveMessage: received.event,
  };
  const view = {
    webview,
    visible: true,
    onDidChangeVisibility: visibility.event,
    onDidDispose: disposed.event,
  };
  return {
    view,
    webview,
    posted,
    fromWebview: (m: unknown) => received.fire(m),
    setVisible: (v: boolean) => {
      view.visible = v;
      visibility.fire();
    },
    dispose: () => disposed.fire(),
    listenerCount: () => received.size + visibility.size + disposed.size,
  };
}

const noAccounts = { snapshot: () => [], onDidChange: () => ({ dispose() {} }) };

function makeProvider(store = new TrafficStore()) {
  const extensionUri = vs.Uri.file('/ext/kiro-bridge') as unknown as vscode.Uri;
  return new TrafficViewProvider(extensionUri, store, noAccounts, vscodeTrafficConfig(), { redactor: new Redactor(), extensionVersion: '0.1.0' });
}

function resolve(provider: TrafficViewProvider) {
  const fake = fakeView();
  provider.resolveWebviewView(fake.view as unknown as vscode.WebviewView);
  return fake;
}

beforeEach(() => {
  vs.config.clear();
  vs.state.registered.length = 0;
  vs.state.commands.length = 0;
  vs.state.saveDialogs.length = 0;
  vs.state.saveAnswer = undefined;
  vs.state.written.length = 0;
  vs.state.infos.length = 0;
  vs.state.errors.length = 0;
});

describe('TrafficViewProvider', () => {
  it('loads only from media/ under a strict CSP with a fresh nonce', () => {
    const provider = makeProvider();
    const { webview } = resolve(provider);
    expect(webview.options.enableScripts).toBe(true);
    expect(webview.options.localResourceRoots!.map(String)).toEqual(['file:///ext/kiro-bridge/media']);
    const html = webview.html;
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`style-src ${CSP_SOURCE}`);
    expect(csp).toContain(`font-src ${CSP_SOURCE}`);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]!);
    expect(scripts).toEqual([` nonce="${nonce}" src="${CSP_SOURCE}/ext/kiro-bridge/media/dist/traffic.js"`]);
    expect(html).toContain(`href="${CSP_SOURCE}/ext/kiro-bridge/media/dist/codicon.css" id="vscode-codicon-stylesheet"`);
    expect(html).toContain(`href="${CSP_SOURCE}/ext/kiro-bridge/media/dist/traffic.css"`);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toContain('<style');

    const again = resolve(provider).webview.html;
    expect(/'nonce-([^']+)'/.exec(again)![1]).not.toBe(nonce);
    provider.dispose();
  });

  it('relays messages both ways and pushes only while visible', () => {
    const store = new TrafficStore();
    store.update(sampleRecord(0));
    const provider = makeProvider(store);
    const fake = resolve(provider);
    expect(fake.posted).toEqual([]);
    fake.fromWebview({ type: 'ready' });
    expect(fake.posted.map((m) => m.type)).toEqual(['snapshot']);
    fake.setVisible(false);
    store.update(sampleRecord(1));
    provider.controller.receive({ type: 'select', id: 'req-00001' });
    expect(fake.posted.map((m) => m.type)).toEqual(['snapshot']);
    fake.setVisible(true);
    expect(fake.posted.map((m) => m.type)).toEqual(['snapshot', 'snapshot', 'details']);
    fake.fromWebview({ type: 'bogus' });
    expect(fake.posted).toHaveLength(3);
    provider.dispose();
  });

  it('releases the view listeners when the view is disposed', () => {
    const provider = makeProvider();
    const fake = resolve(provider);
    expect(fake.listenerCount()).toBe(3);
    fake.dispose();
    expect(fake.listenerCount()).toBe(0);
    provider.dispose();
  });

  it('saves a repro bundle where the user chooses, without secrets', async () => {
    const store = new TrafficStore();
    store.update(sampleRecord(3, { clientRequest: { headers: { authorization: `Bearer ${SECRETS.anthropicKey}` } } }));
    const provider = makeProvider(store);
    const fake = resolve(provider);
    fake.fromWebview({ type: 'ready' });
    vs.state.saveAnswer = vs.Uri.file('/tmp/bundle.json');
    fake.fromWebview({ type: 'exportRepro', id: 'req-00003' });
    await vi.waitFor(() => expect(vs.state.written).toHaveLength(1));
    const dialog = vs.state.saveDialogs[0] as { defaultUri: { path: string }; filters: unknown };
    expect(dialog.defaultUri.path).toMatch(/^\/work\/project\/kiro-bridge-repro-\d{8}-\d{6}-req-00003\.json$/);
    expect(dialog.filters).toEqual({ JSON: ['json'] });
    const { uri, text } = vs.state.written[0]!;
    expect(uri.path).toBe('/tmp/bundle.json');
    expect(JSON.parse(text)).toMatchObject({ kind: 'kiro-bridge-repro', environment: { extensionVersion: '0.1.0', vscodeVersion: '1.100.3' } });
    expect(text).not.toContain(SECRETS.anthropicKey);
    await vi.waitFor(() => expect(vs.state.infos[0]).toMatch(/^Repro bundle saved: kiro-bridge-repro-/));
    provider.dispose();
  });

  it('writes nothing when the save dialog is cancelled', async () => {
    const store = new TrafficStore();
    store.update(sampleRecord(3));
    const provider = makeProvider(store);
    const fake = resolve(provider);
    fake.fromWebview({ type: 'exportRepro', id: 'req-00003' });
    await vi.waitFor(() => expect(vs.state.saveDialogs).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 0));
    expect(vs.state.written).toEqual([]);
    expect(vs.state.errors).toEqual([]);
    provider.dispose();
  });

  it('focuses the view for "Show Traffic"', async () => {
    const provider = makeProvider();
    await provider.show();
    expect(vs.state.commands).toEqual([['kiroBridge.traffic.focus']]);
    provider.dispose();
  });
});

describe('settings', () => {
  it('reads kiroBridge.traffic.* with defaults and bounds', () => {
    expect(readTrafficSettings()).toEqual({ captureBodies: 'redacted', maxEntries: 500 });
    vs.config.set('kiroBridge.traffic.captureBodies', 'full');
    vs.config.set('kiroBridge.traffic.maxEntries', 50_000);
    expect(readTrafficSettings()).toEqual({ captureBodies: 'full', maxEntries: 10_000 });
    vs.config.set('kiroBridge.traffic.captureBodies', 'everything');
    vs.config.set('kiroBridge.traffic.maxEntries', 'lots');
    expect(readTrafficSettings()).toEqual({ captureBodies: 'redacted', maxEntries: 500 });
  });

  it('applies a change of the traffic settings to the store and the view', () => {
    const store = new TrafficStore();
    const provider = makeProvider(store);
    const fake = resolve(provider);
    fake.fromWebview({ type: 'ready' });
    vs.config.set('kiroBridge.traffic.maxEntries', 100);
    vs.configChanged.fire({ affectsConfiguration: (s: string) => s === 'kiroBridge.traffic' });
    expect(store.maxEntries).toBe(100);
    expect(fake.posted.at(-1)).toEqual({ type: 'config', config: { captureBodies: 'redacted', maxEntries: 100 } });
    vs.configChanged.fire({ affectsConfiguration: (s: string) => s === 'kiroBridge.port' });
    expect(fake.posted.filter((m) => m.type === 'config')).toHaveLength(1);
    provider.dispose();
  });
});

describe('registerTrafficView', () => {
  it('registers the provider for the view and ties it to the extension', () => {
    const subscriptions: { dispose(): unknown }[] = [];
    const context = {
      extensionUri: vs.Uri.file('/ext/kiro-bridge'),
      subscriptions,
      extension: { packageJSON: { version: '9.9.9' } },
    } as unknown as vscode.ExtensionContext;
    const provider = registerTrafficView(context, { store: new TrafficStore(), accounts: noAccounts });
    expect(vs.state.registered).toEqual([{ id: TRAFFIC_VIEW_ID, provider }]);
    expect(TRAFFIC_VIEW_ID).toBe('kiroBridge.traffic');
    expect(subscriptions).toContain(provider);
    for (const s of subscriptions) void s.dispose();
  });
});

describe('manifest', () => {
  it('contributes the Kiro Bridge panel container and the Traffic webview view', () => {
    const root = path.resolve(__dirname, '..', '..');
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    const container = manifest.contributes.viewsContainers.panel.find((c: { id: string }) => c.id === 'kiroBridge');
    expect(container).toMatchObject({ title: 'Kiro Bridge' });
    expect(existsSync(path.join(root, container.icon))).toBe(true);
    expect(manifest.contributes.views.kiroBridge).toContainEqual(expect.objectContaining({ type: 'webview', id: TRAFFIC_VIEW_ID, name: 'Traffic' }));
  });
});
