// Runs the traffic webview's built front end in real headless Chromium. A tiny local HTTP server
// serves the page rendered by the provider's own renderTrafficHtml (same CSP, a test nonce, the
// server's origin as cspSource) and the built media/dist files; an init script stands in for the
// VS Code webview API (acquireVsCodeApi with postMessage/getState/setState) and records CSP
// violations. Tests feed host messages with `send` and read what the page posted back.

import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { HostMessage, WebviewMessage } from '../../src/traffic/traffic-protocol';
import { renderTrafficHtml, TRAFFIC_ASSETS } from '../../src/traffic/traffic-html';
import { chromiumArgs } from '../e2e/support/browser';

export const repoRoot = path.resolve(__dirname, '..', '..');
const distDir = path.join(repoRoot, 'media', 'dist');
export const outputDir = path.join(repoRoot, 'test-output', 'webview');
export const TEST_NONCE = 'dGVzdC1ub25jZS0xMjM0NTY3OA';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
};

export type Theme = 'dark' | 'light' | 'high-contrast';

/** A representative slice of the variables VS Code sets on a webview's <html>, per theme. */
const THEME_VARIABLES: Record<Theme, Record<string, string>> = {
  dark: {
    '--vscode-settings-textInputBackground': '#313131',
    '--vscode-settings-textInputForeground': '#cccccc',
    '--vscode-settings-textInputBorder': '#3c3c3c',
    '--vscode-inputOption-activeBackground': 'rgba(36, 137, 219, 0.51)',
    '--vscode-inputOption-activeBorder': '#2488db',
    '--vscode-inputOption-activeForeground': '#ffffff',
    '--vscode-toolbar-activeBackground': 'rgba(99, 102, 103, 0.31)',
    '--vscode-list-focusOutline': '#0078d4',
    '--vscode-list-hoverForeground': '#cccccc',
    '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.36)',
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-font-weight': 'normal',
    '--vscode-editor-font-family': '"Droid Sans Mono", "monospace", monospace',
    '--vscode-editor-font-size': '12px',
    '--vscode-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-errorForeground': '#f85149',
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-panel-background': '#181818',
    '--vscode-panel-border': '#2b2b2b',
    '--vscode-sideBar-background': '#181818',
    '--vscode-editorWidget-background': '#202020',
    '--vscode-focusBorder': '#0078d4',
    '--vscode-list-hoverBackground': '#2a2d2e',
    '--vscode-list-activeSelectionBackground': '#04395e',
    '--vscode-list-activeSelectionForeground': '#ffffff',
    '--vscode-list-inactiveSelectionBackground': '#37373d',
    '--vscode-testing-iconPassed': '#73c991',
    '--vscode-editorWarning-foreground': '#cca700',
    '--vscode-progressBar-background': '#0078d4',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-input-background': '#313131',
    '--vscode-input-foreground': '#cccccc',
    '--vscode-input-border': '#3c3c3c',
    '--vscode-input-placeholderForeground': '#989898',
    '--vscode-settings-dropdownBackground': '#313131',
    '--vscode-settings-dropdownForeground': '#cccccc',
    '--vscode-settings-dropdownBorder': '#3c3c3c',
    '--vscode-settings-dropdownListBorder': '#454545',
    '--vscode-inputValidation-errorBackground': '#5a1d1d',
    '--vscode-inputValidation-errorBorder': '#be1100',
    '--vscode-inputValidation-warningBackground': '#352a05',
    '--vscode-inputValidation-warningBorder': '#b89500',
    '--vscode-toolbar-hoverBackground': 'rgba(90, 93, 94, 0.31)',
    '--vscode-icon-foreground': '#cccccc',
    '--vscode-badge-background': '#616161',
    '--vscode-badge-foreground': '#f8f8f8',
    '--vscode-tab-activeForeground': '#ffffff',
    '--vscode-tab-inactiveForeground': '#9d9d9d',
    '--vscode-panelTitle-activeBorder': '#0078d4',
    '--vscode-panelTitle-activeForeground': '#cccccc',
    '--vscode-panelTitle-inactiveForeground': '#9d9d9d',
    '--vscode-settings-headerBorder': '#2b2b2b',
  },
  light: {
    '--vscode-settings-textInputBackground': '#ffffff',
    '--vscode-settings-textInputForeground': '#3b3b3b',
    '--vscode-settings-textInputBorder': '#cecece',
    '--vscode-inputOption-activeBackground': 'rgba(190, 195, 201, 0.4)',
    '--vscode-inputOption-activeBorder': '#005fb8',
    '--vscode-inputOption-activeForeground': '#000000',
    '--vscode-toolbar-activeBackground': 'rgba(166, 166, 166, 0.31)',
    '--vscode-list-focusOutline': '#005fb8',
    '--vscode-list-hoverForeground': '#3b3b3b',
    '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.16)',
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-font-weight': 'normal',
    '--vscode-editor-font-family': '"Droid Sans Mono", "monospace", monospace',
    '--vscode-editor-font-size': '12px',
    '--vscode-foreground': '#3b3b3b',
    '--vscode-descriptionForeground': '#6f6f6f',
    '--vscode-errorForeground': '#c72e0f',
    '--vscode-editor-background': '#ffffff',
    '--vscode-editor-foreground': '#3b3b3b',
    '--vscode-panel-background': '#f8f8f8',
    '--vscode-panel-border': '#e5e5e5',
    '--vscode-sideBar-background': '#f8f8f8',
    '--vscode-editorWidget-background': '#ffffff',
    '--vscode-focusBorder': '#005fb8',
    '--vscode-list-hoverBackground': '#f2f2f2',
    '--vscode-list-activeSelectionBackground': '#e8e8e8',
    '--vscode-list-activeSelectionForeground': '#000000',
    '--vscode-list-inactiveSelectionBackground': '#e4e6f1',
    '--vscode-testing-iconPassed': '#388a34',
    '--vscode-editorWarning-foreground': '#bf8803',
    '--vscode-progressBar-background': '#005fb8',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-red': '#e51400',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#652d90',
    '--vscode-input-background': '#ffffff',
    '--vscode-input-foreground': '#3b3b3b',
    '--vscode-input-border': '#cecece',
    '--vscode-input-placeholderForeground': '#767676',
    '--vscode-settings-dropdownBackground': '#ffffff',
    '--vscode-settings-dropdownForeground': '#3b3b3b',
    '--vscode-settings-dropdownBorder': '#cecece',
    '--vscode-settings-dropdownListBorder': '#c8c8c8',
    '--vscode-inputValidation-errorBackground': '#f2dede',
    '--vscode-inputValidation-errorBorder': '#be1100',
    '--vscode-inputValidation-warningBackground': '#f6f5d2',
    '--vscode-inputValidation-warningBorder': '#b89500',
    '--vscode-toolbar-hoverBackground': 'rgba(184, 184, 184, 0.31)',
    '--vscode-icon-foreground': '#3b3b3b',
    '--vscode-badge-background': '#cccccc',
    '--vscode-badge-foreground': '#3b3b3b',
    '--vscode-tab-activeForeground': '#3b3b3b',
    '--vscode-tab-inactiveForeground': '#868686',
    '--vscode-panelTitle-activeBorder': '#005fb8',
    '--vscode-panelTitle-activeForeground': '#3b3b3b',
    '--vscode-panelTitle-inactiveForeground': '#3b3b3b',
    '--vscode-settings-headerBorder': '#e5e5e5',
  },
  'high-contrast': {
    '--vscode-settings-textInputBackground': '#000000',
    '--vscode-settings-textInputForeground': '#ffffff',
    '--vscode-settings-textInputBorder': '#6fc3df',
    '--vscode-inputOption-activeBorder': '#6fc3df',
    '--vscode-toolbar-hoverOutline': '#f38518',
    '--vscode-list-focusOutline': '#f38518',
    '--vscode-list-activeSelectionForeground': '#ffffff',
    '--vscode-list-hoverForeground': '#ffffff',
    '--vscode-panelTitle-activeBorder': '#f38518',
    '--vscode-panelTitle-activeForeground': '#ffffff',
    '--vscode-panelTitle-inactiveForeground': '#ffffff',
    '--vscode-settings-headerBorder': '#6fc3df',
    '--vscode-badge-background': '#000000',
    '--vscode-badge-foreground': '#ffffff',
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-editor-font-family': '"Droid Sans Mono", "monospace", monospace',
    '--vscode-editor-font-size': '12px',
    '--vscode-foreground': '#ffffff',
    '--vscode-descriptionForeground': 'rgba(255, 255, 255, 0.7)',
    '--vscode-errorForeground': '#f48771',
    '--vscode-editor-background': '#000000',
    '--vscode-editor-foreground': '#ffffff',
    '--vscode-panel-background': '#000000',
    '--vscode-panel-border': '#6fc3df',
    '--vscode-contrastBorder': '#6fc3df',
    '--vscode-contrastActiveBorder': '#f38518',
    '--vscode-focusBorder': '#f38518',
    '--vscode-list-hoverBackground': '#000000',
    '--vscode-list-activeSelectionBackground': '#000000',
    '--vscode-list-inactiveSelectionBackground': '#000000',
    '--vscode-testing-iconPassed': '#73c991',
    '--vscode-editorWarning-foreground': '#ffd370',
    '--vscode-progressBar-background': '#6fc3df',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-input-background': '#000000',
    '--vscode-input-foreground': '#ffffff',
    '--vscode-input-border': '#6fc3df',
    '--vscode-settings-dropdownBackground': '#000000',
    '--vscode-settings-dropdownForeground': '#ffffff',
    '--vscode-settings-dropdownBorder': '#6fc3df',
    '--vscode-inputValidation-errorBackground': '#000000',
    '--vscode-inputValidation-errorBorder': '#f48771',
    '--vscode-inputValidation-warningBackground': '#000000',
    '--vscode-inputValidation-warningBorder': '#ffd370',
    '--vscode-icon-foreground': '#ffffff',
  },
};

const BODY_CLASS: Record<Theme, string> = {
  dark: 'vscode-dark',
  light: 'vscode-light',
  'high-contrast': 'vscode-high-contrast',
};

export interface WebviewServer {
  origin: string;
  close(): Promise<void>;
}

export function assertBuilt(): void {
  const missing = Object.values(TRAFFIC_ASSETS).filter((f) => !existsSync(path.join(distDir, f)));
  if (missing.length) throw new Error(`media/dist is not built (missing ${missing.join(', ')}): run \`npm run build\` first.`);
}

/** Serves the page (rendered like the provider renders it) and media/dist on 127.0.0.1. */
export async function startServer(): Promise<WebviewServer> {
  assertBuilt();
  let origin = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/favicon.ico') {
      // Browsers ask; a webview never does. Answer quietly so the console stays clean.
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/') {
      const asset = (name: string) => `${origin}/media/dist/${name}`;
      const html = renderTrafficHtml({
        cspSource: origin,
        nonce: TEST_NONCE,
        scriptUri: asset(TRAFFIC_ASSETS.script),
        styleUri: asset(TRAFFIC_ASSETS.style),
        codiconsUri: asset(TRAFFIC_ASSETS.codicons),
      });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
      return;
    }
    const match = /^\/media\/dist\/([A-Za-z0-9._-]+)$/.exec(url.pathname);
    const file = match ? path.join(distDir, match[1]!) : undefined;
    if (!file || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...chromiumArgs],
  });
}

export interface CspViolation {
  directive: string;
  blockedURI: string;
  sample: string;
}

export interface OpenOptions {
  theme?: Theme;
  /** What getState() returns at start (a previous session's view state). */
  state?: unknown;
  viewport?: { width: number; height: number };
  /** Receives every message the page posts, in order (for wiring a real host controller). */
  onPost?: (message: unknown) => void;
}

export class WebviewPage {
  readonly consoleErrors: string[] = [];

  private constructor(
    readonly page: Page,
    readonly context: BrowserContext,
  ) {
    page.on('console', (msg) => {
      if (msg.type() === 'error') this.consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => this.consoleErrors.push(`pageerror: ${err.message}`));
  }

  static async open(browser: Browser, server: WebviewServer, options: OpenOptions = {}): Promise<WebviewPage> {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 760 } });
    const page = await context.newPage();
    const view = new WebviewPage(page, context);
    if (options.onPost) await page.exposeFunction('__toHost', options.onPost);
    const theme = options.theme ?? 'dark';
    await page.addInitScript(
      ({ state, variables, bodyClass, relay }) => {
        const w = window as unknown as Record<string, unknown>;
        const posted: unknown[] = [];
        const violations: unknown[] = [];
        let saved: unknown = state;
        w.__posted = posted;
        w.__cspViolations = violations;
        w.__getSavedState = () => saved;
        w.acquireVsCodeApi = () => ({
          postMessage: (message: unknown) => {
            const copy = JSON.parse(JSON.stringify(message));
            posted.push(copy);
            if (relay) (w.__toHost as (m: unknown) => void)(copy);
          },
          getState: () => saved,
          setState: (next: unknown) => {
            saved = JSON.parse(JSON.stringify(next));
          },
        });
        document.addEventListener('securitypolicyviolation', (e) => {
          violations.push({ directive: e.violatedDirective, blockedURI: e.blockedURI, sample: e.sample });
        });
        // VS Code sets theme variables on <html> and a theme class on <body>, before any script
        // of the page runs; do the same as soon as each element exists.
        const applyTheme = () => {
          const html = document.documentElement;
          if (html && !html.dataset.themed) {
            for (const [name, value] of Object.entries(variables)) html.style.setProperty(name, value);
            html.dataset.themed = 'yes';
          }
          if (document.body && !document.body.classList.contains(bodyClass)) document.body.classList.add(bodyClass);
          return Boolean(html && document.body);
        };
        if (!applyTheme()) {
          const observer = new MutationObserver(() => {
            if (applyTheme()) observer.disconnect();
          });
          observer.observe(document, { childList: true, subtree: true });
        }
      },
      { state: options.state ?? null, variables: THEME_VARIABLES[theme], bodyClass: BODY_CLASS[theme], relay: Boolean(options.onPost) },
    );
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
    return view;
  }

  /** Delivers a host → webview message the way VS Code does (a window `message` event). */
  async send(message: HostMessage | Record<string, unknown>): Promise<void> {
    await this.page.evaluate((data) => window.dispatchEvent(new MessageEvent('message', { data })), message);
    await this.settle();
  }

  /**
   * Like `send`, but returns how long the page took to handle the message and draw (two
   * animation frames), measured inside the page so the test harness's own transfer is excluded.
   */
  async sendTimed(message: HostMessage): Promise<number> {
    return this.page.evaluate(async (data) => {
      const started = performance.now();
      window.dispatchEvent(new MessageEvent('message', { data }));
      await new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
      return performance.now() - started;
    }, message);
  }

  /** Waits two animation frames so batched renders have landed. */
  async settle(): Promise<void> {
    await this.page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
  }

  async posted(): Promise<WebviewMessage[]> {
    return this.page.evaluate(() => (window as unknown as { __posted: WebviewMessage[] }).__posted);
  }

  async savedState(): Promise<unknown> {
    return this.page.evaluate(() => (window as unknown as { __getSavedState: () => unknown }).__getSavedState());
  }

  async cspViolations(): Promise<CspViolation[]> {
    return this.page.evaluate(() => (window as unknown as { __cspViolations: CspViolation[] }).__cspViolations);
  }

  /** Text of each rendered table row's cells, top to bottom. */
  async visibleRows(): Promise<{ id: string; cells: string[] }[]> {
    return this.page.evaluate(() => {
      const rows = [...document.querySelectorAll<HTMLElement>('.tbody .tr')].filter((r) => !r.hidden);
      rows.sort((a, b) => Number(a.getAttribute('aria-rowindex')) - Number(b.getAttribute('aria-rowindex')));
      const viewport = document.querySelector<HTMLElement>('.table-scroll')!.getBoundingClientRect();
      return rows
        .filter((r) => {
          const box = r.getBoundingClientRect();
          return box.bottom > viewport.top + 24 && box.top < viewport.bottom;
        })
        .map((r) => ({ id: r.dataset.id ?? '', cells: [...r.querySelectorAll('.td')].map((c) => c.textContent ?? '') }));
    });
  }

  async screenshot(name: string): Promise<string> {
    const file = path.join(outputDir, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
