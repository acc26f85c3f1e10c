// Smoke test of the e2e machinery: the VSIX built by `npm run package` installs into a real
// VS Code (code-server 4.100.3 = VS Code 1.100.3), activates, and every workbench move the full
// suite relies on (palette, input box, status bar, webview, Output view) works in Chromium.
// Screenshots land in test-output/e2e/smoke-*.png.
import { describe, expect, it } from 'vitest';
import { CodeServer, Workbench, extension, isPortOpen, processGroupExists, useVsCode, waitUntil } from './support';

describe('the packaged extension in a real VS Code', () => {
  let window: Workbench | undefined;
  let second: Workbench | undefined;

  const vscode = useVsCode({
    launch: (vsix) => CodeServer.launch({ name: 'smoke', extensions: [vsix] }),
    windows: () => [window, second],
  });
  const win = () => {
    if (!window) throw new Error('the workbench did not open');
    return window;
  };

  it('installs the packaged VSIX', () => {
    expect(vscode().server.listExtensions()).toContain(`${extension.id}@${extension.version}`);
  });

  it('opens a folder in the workbench', async () => {
    const { server, browser } = vscode();
    const folder = server.createFolder('project', {
      'README.md': '# Smoke test\n\nOpened by the e2e suite.\n',
      'index.html': 'hello e2e\n',
    });
    window = await Workbench.open(browser, server, folder);
    const explorer = window.page.locator('.explorer-folders-view .monaco-list-row');
    await explorer.filter({ hasText: 'README.md' }).waitFor();
    expect(await explorer.allInnerTexts()).toEqual(expect.arrayContaining(['index.html', 'README.md']));
    await window.screenshot('smoke-01-workbench');
  });

  it('activates the extension, as VS Code itself reports', async () => {
    await vscode().server.waitForActivation(extension.id);
    await win().runCommand('Developer: Show Running Extensions');
    const row = win().page.locator('.runtime-extensions-editor .monaco-list-row').filter({ hasText: extension.displayName });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/Activation: \d+ms/);
    await win().screenshot('smoke-02-running-extensions');
  });

  it('runs palette commands and reads the webview they open', async () => {
    await win().openFile('README.md');
    await win().runCommand('Markdown: Open Preview to the Side');
    const preview = win().webview({ extensionId: 'vscode.markdown-language-features' });
    await preview.locator('h1').filter({ hasText: 'Smoke test' }).waitFor();
    expect(await preview.locator('p').first().innerText()).toBe('Opened by the e2e suite.');
    await win().screenshot('smoke-03-webview');
  });

  it('answers an input box and reads the status bar', async () => {
    await win().openFile('index.html');
    await win().waitForStatusBar(/\bHTML\b/);
    await win().page.keyboard.press('Control+A');
    await win().runCommand('Emmet: Wrap with Abbreviation');
    await win().answerInputBox('section', { prompt: /abbreviation/i });
    await expect.poll(() => win().activeEditorText(), { timeout: 15_000 }).toContain('<section>hello e2e</section>');
    await win().screenshot('smoke-04-input-box');
  });

  it('reads an output channel as the Output view shows it', async () => {
    const shown = await win().readOutputChannel('Extension Host (Remote)');
    const lines = shown.split('\n').map(squash).filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    const onDisk = vscode()
      .server.extensionHostLogs()
      .map((log) => squash(log.text))
      .join('\n');
    for (const line of lines) expect(onDisk).toContain(line);
    await win().screenshot('smoke-05-output-channel');
  });

  it('opens a second window on another folder, with an extension host of its own until it closes', async () => {
    const { server } = vscode();
    second = await Workbench.open(win().page.context(), server, server.createFolder('second-project'));
    await expect.poll(() => second?.page.title()).toContain('second-project');
    await server.waitForActivation(extension.id, { count: 2 });
    expect(server.extensionHostLogs()).toHaveLength(2);
    await second.screenshot('smoke-06-second-window');
    await second.close();
    await waitUntil(
      () => server.liveExtensionHosts() === 1,
      15_000,
      () => 'closing the window left its extension host running',
    );
  });

  it('stops code-server with everything it started', async () => {
    const { server } = vscode();
    const { port, pid } = server;
    expect(pid).toBeDefined();
    expect(await isPortOpen(port)).toBe(true);
    await server.stop();
    expect(await isPortOpen(port)).toBe(false);
    expect(processGroupExists(pid ?? 0)).toBe(false);
  });
});

/** Monaco shows tabs and runs of spaces differently from the file; compare words only. */
function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
