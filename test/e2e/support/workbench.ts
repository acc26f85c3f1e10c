// One browser window on a code-server workbench, with the moves a user makes: the command palette,
// input boxes, quick picks, the status bar, webviews, the Output view, screenshots.
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';
import type { CodeServer } from './code-server';
import { outputDir } from './paths';
import { escapeRegExp, matches, sleep, waitUntil } from './util';

export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** How long the workbench may take to appear (observed: 3–7 s). */
  timeoutMs?: number;
}

const defaultViewport = { width: 1280, height: 800 };
const uiTimeoutMs = 15_000;

export class Workbench {
  /** Errors the page logged (console errors, uncaught exceptions), for failure reports. */
  readonly consoleErrors: string[] = [];

  private constructor(
    readonly page: Page,
    readonly server: CodeServer,
    readonly folder: string,
    private readonly ownContext: BrowserContext | undefined,
  ) {
    page.on('console', (message) => {
      if (message.type() === 'error') this.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => this.consoleErrors.push(`pageerror: ${error.message}`));
  }

  /**
   * Opens a new window on `folder` and waits for the workbench. Pass a BrowserContext to open
   * several windows of one browser profile (like two tabs of one user); a Browser gets a fresh one.
   */
  static async open(target: Browser | BrowserContext, server: CodeServer, folder: string, options: OpenOptions = {}): Promise<Workbench> {
    const viewport = options.viewport ?? defaultViewport;
    const ownContext = 'newContext' in target ? await target.newContext({ viewport }) : undefined;
    const page = await (ownContext ?? (target as BrowserContext)).newPage();
    if (!ownContext) await page.setViewportSize(viewport);
    const workbench = new Workbench(page, server, folder, ownContext);
    await page.goto(server.folderUrl(folder));
    await workbench.waitReady(options.timeoutMs ?? 60_000);
    return workbench;
  }

  /** Waits for the workbench and its status bar to be on screen. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
    await this.statusBar.waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /** Closes this window (its extension host then shuts down). */
  async close(): Promise<void> {
    await this.page.close();
    await this.ownContext?.close();
  }

  // ---- command palette, quick picks, input boxes ------------------------------------------------

  get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  private get quickInputBox(): Locator {
    return this.quickInput.locator('.quick-input-box input');
  }

  /** A row of the open quick pick whose label is exactly `label` (a RegExp matches as given). */
  quickPickItem(label: string | RegExp): Locator {
    const text = typeof label === 'string' ? new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) : label;
    return this.quickInput.locator('.quick-input-list .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: text }) });
  }

  /**
   * Runs a command by the title the palette shows ("Kiro Bridge: Start"): F1, type the title, wait
   * for exactly that entry, click it. Waits until the palette has let go of it; a command that
   * opens an input box or quick pick then owns the widget.
   *
   * Until the click, a miss is retried with a fresh palette: a command whose `when` clause has
   * only just become true (a file's language being resolved) is missing from a palette opened a
   * moment earlier, and a previous command's aftermath (an extension focusing an editor) can
   * close the palette while it opens. After the click nothing is retried.
   */
  async runCommand(title: string): Promise<void> {
    const item = this.quickPickItem(title).first();
    const attempts = 3;
    for (let attempt = 1; ; attempt++) {
      await this.openPalette();
      try {
        await this.quickInputBox.fill(`>${title}`, { timeout: 5_000 });
        await item.waitFor({ state: 'visible', timeout: attempt < attempts ? 5_000 : uiTimeoutMs });
        await item.click({ timeout: 5_000 });
        break;
      } catch (error) {
        const open = await this.quickInput.isVisible();
        if (attempt < attempts) {
          if (open) await this.dismissQuickInput();
          continue;
        }
        if (!open) throw error;
        const shown = await this.quickInput.locator('.quick-input-list .monaco-list-row').allInnerTexts();
        throw new Error(`command "${title}" is not in the palette; it shows: ${JSON.stringify(shown)}`);
      }
    }
    await item.waitFor({ state: 'hidden', timeout: uiTimeoutMs });
  }

  /** Picks an item of an open quick pick (showQuickPick) by its label. */
  async pickQuickPickItem(label: string | RegExp, options: { timeoutMs?: number } = {}): Promise<void> {
    const item = this.quickPickItem(label).first();
    try {
      await item.waitFor({ state: 'visible', timeout: options.timeoutMs ?? uiTimeoutMs });
    } catch {
      const shown = await this.quickInput.locator('.quick-input-list .monaco-list-row').allInnerTexts();
      throw new Error(`quick pick has no item ${String(label)}; it shows: ${JSON.stringify(shown)}`);
    }
    await item.click();
    await item.waitFor({ state: 'hidden', timeout: uiTimeoutMs });
  }

  /**
   * Answers an input box (showInputBox): waits for it (and for `prompt` in its title, prompt or
   * placeholder, when given), types `value`, presses Enter, and waits until the box has accepted
   * it: closed, or replaced by the next prompt. Throws with the box's message if it refuses the
   * value (validateInput).
   */
  async answerInputBox(value: string, options: { prompt?: string | RegExp; timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? uiTimeoutMs;
    await this.quickInputBox.waitFor({ state: 'visible', timeout: timeoutMs });
    if (options.prompt !== undefined) {
      const prompt = options.prompt;
      await waitUntil(
        async () => matches(await this.quickInputDescription(), prompt),
        timeoutMs,
        async () => `input box never asked for ${String(prompt)}; it says: ${await this.quickInputDescription()}`,
      );
    }
    await this.quickInputBox.fill(value);
    await this.quickInputBox.press('Enter');
    await waitUntil(
      async () => !(await this.quickInput.isVisible()) || (await this.quickInputBox.inputValue()) !== value,
      timeoutMs,
      async () => `input box did not accept the value; it says: ${await this.quickInputDescription()}`,
    );
  }

  /** Title, prompt/validation message and placeholder of the open quick input, joined. */
  async quickInputDescription(): Promise<string> {
    if (!(await this.quickInput.isVisible())) return '';
    const parts = [
      await this.quickInput
        .locator('.quick-input-title')
        .innerText()
        .catch(() => ''),
      await this.quickInput
        .locator('.quick-input-message')
        .innerText()
        .catch(() => ''),
      (await this.quickInputBox.getAttribute('placeholder').catch(() => null)) ?? '',
    ];
    return parts
      .map((p) => p.trim())
      .filter(Boolean)
      .join(' | ');
  }

  /** Dismisses an open quick input (Escape). */
  async dismissQuickInput(): Promise<void> {
    if (!(await this.quickInput.isVisible())) return;
    await this.page.keyboard.press('Escape');
    await this.quickInput.waitFor({ state: 'hidden', timeout: uiTimeoutMs });
  }

  private async openPalette(): Promise<void> {
    // F1 reaches the workbench from anywhere (webviews forward it); the second try covers a
    // keypress that landed while focus was moving.
    for (const key of ['F1', 'Control+Shift+P']) {
      await this.page.keyboard.press(key);
      try {
        await this.quickInputBox.waitFor({ state: 'visible', timeout: 5_000 });
        return;
      } catch {
        // try the other binding
      }
    }
    throw new Error('the command palette did not open');
  }

  // ---- editors -----------------------------------------------------------------------------------

  /** Opens a file of the workspace folder in an editor (Go to File) and waits for its tab. */
  async openFile(relativePath: string): Promise<void> {
    await this.runCommand('Go to File...');
    await this.quickInputBox.fill(relativePath);
    await this.pickQuickPickItem(path.basename(relativePath));
    await this.page
      .locator(`.tabs-container .tab.active[data-resource-name="${path.basename(relativePath)}"]`)
      .waitFor({ state: 'visible', timeout: uiTimeoutMs });
  }

  /** The visible lines of the active text editor, top to bottom. */
  async activeEditorText(): Promise<string> {
    const editor = this.page.locator('.editor-group-container.active .monaco-editor').first();
    return visibleLines(editor);
  }

  // ---- status bar, notifications -------------------------------------------------------------------

  get statusBar(): Locator {
    return this.page.locator('[id="workbench.parts.statusbar"]');
  }

  async statusBarText(): Promise<string> {
    return (await this.statusBar.innerText()).replace(/\s+/g, ' ').trim();
  }

  /**
   * A status bar item by its text, or by the id VS Code gives an extension's item:
   * `statusBarItem({ id: '<publisher.name>.<item id>' })` for `createStatusBarItem('<item id>', …)`.
   */
  statusBarItem(match: string | RegExp | { id: string }): Locator {
    if (typeof match === 'object' && 'id' in match) return this.statusBar.locator(`[id="${match.id}"]`);
    return this.statusBar.locator('.statusbar-item').filter({ hasText: match });
  }

  /** Waits until the status bar text matches, and returns it. */
  async waitForStatusBar(match: string | RegExp, timeoutMs = uiTimeoutMs): Promise<string> {
    let text = '';
    await waitUntil(
      async () => matches((text = await this.statusBarText()), match),
      timeoutMs,
      async () => `status bar never showed ${String(match)}; it shows: ${text}`,
    );
    return text;
  }

  /** Messages of the notification toasts on screen. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
  }

  /** Waits for a notification toast whose message matches, and returns its message. */
  async waitForNotification(match: string | RegExp, timeoutMs = uiTimeoutMs): Promise<string> {
    let found: string | undefined;
    await waitUntil(
      async () => (found = (await this.notifications()).find((text) => matches(text, match))) !== undefined,
      timeoutMs,
      async () => `no notification matched ${String(match)}; shown: ${JSON.stringify(await this.notifications())}`,
    );
    return found ?? '';
  }

  // ---- modal dialogs, clipboard ---------------------------------------------------------------------

  /** The modal dialog on screen (`showWarningMessage(…, { modal: true }, …)`), if any. */
  get dialog(): Locator {
    return this.page.locator('.monaco-dialog-box');
  }

  /** Waits for a modal dialog whose message and detail match, and returns its text. */
  async waitForDialog(match: string | RegExp, timeoutMs = uiTimeoutMs): Promise<string> {
    let text = '';
    await waitUntil(
      async () => (await this.dialog.isVisible()) && matches((text = (await this.dialog.innerText()).replace(/\s+/g, ' ')), match),
      timeoutMs,
      () => `no modal dialog matched ${String(match)}; ${text ? `shown: ${text}` : 'none is open'}`,
    );
    return text;
  }

  /** Clicks a button of the open modal dialog by its exact label, and waits for the dialog to close. */
  async answerDialog(button: string): Promise<void> {
    const choice = this.dialog.locator('.dialog-buttons .monaco-button').filter({ hasText: new RegExp(`^\\s*${escapeRegExp(button)}\\s*$`) });
    await choice.click({ timeout: uiTimeoutMs });
    await this.dialog.waitFor({ state: 'hidden', timeout: uiTimeoutMs });
  }

  /**
   * What the window's clipboard holds, read the way a paste would (`navigator.clipboard`). The
   * browser context needs the clipboard permissions: `page.context().grantPermissions(['clipboard-read', 'clipboard-write'])`.
   */
  async readClipboard(): Promise<string> {
    return this.page.evaluate(() => navigator.clipboard.readText());
  }

  // ---- webviews, Output view ----------------------------------------------------------------------

  /**
   * The content of a webview. VS Code hosts each webview in an outer iframe (`iframe.webview`)
   * whose src names the owning extension, with the extension's document in an inner
   * `iframe#active-frame`. `index` picks among several webviews of one extension.
   */
  webview(options: { extensionId?: string; index?: number } = {}): FrameLocator {
    const owner = options.extensionId ? `[src*="extensionId=${options.extensionId}"]` : '';
    return this.page
      .locator(`iframe.webview.ready${owner}`)
      .nth(options.index ?? 0)
      .contentFrame()
      .locator('iframe#active-frame')
      .contentFrame();
  }

  /**
   * Shows an output channel in the Output view and returns its visible text (the Output view
   * follows the end of the channel). For the whole text use `server.outputChannelLogs(name)`.
   */
  async readOutputChannel(channel: string): Promise<string> {
    await this.runCommand('Output: Show Output Channels...');
    await this.pickQuickPickItem(channel);
    const editor = this.page.locator('.part.panel .monaco-editor').first();
    await editor.locator('.view-lines').waitFor({ state: 'visible', timeout: uiTimeoutMs });
    // The channel's content streams into the editor after it opens: read until it holds still.
    let previous = '';
    let current = await visibleLines(editor);
    for (let reads = 0; (current === '' || current !== previous) && reads < 25; reads++) {
      await sleep(200);
      previous = current;
      current = await visibleLines(editor);
    }
    return current;
  }

  // ---- screenshots -----------------------------------------------------------------------------------

  /** Saves `test-output/e2e/<step>.png` and returns its path. */
  async screenshot(step: string): Promise<string> {
    const file = path.join(outputDir, `${step.replace(/[^\w.-]+/g, '-')}.png`);
    mkdirSync(path.dirname(file), { recursive: true });
    await this.page.screenshot({ path: file });
    return file;
  }
}

/** Monaco renders only the visible lines, absolutely positioned and not in DOM order. */
async function visibleLines(editor: Locator): Promise<string> {
  return editor.locator('.view-lines').evaluate((root) =>
    Array.from(root.querySelectorAll<HTMLElement>('.view-line'))
      .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
      .map((line) => (line.textContent ?? '').replace(/\u00a0/g, ' '))
      .join('\n'),
  );
}
