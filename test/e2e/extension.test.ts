// The whole product the way a user meets it (issue 7): the packaged VSIX in a real VS Code
// (code-server), driven from the command palette in Chromium, pointed at the fake Kiro upstream
// through the machine-scoped `kiroBridge.advanced.upstreamBase` user setting, and called from this
// process by the official Anthropic and OpenAI SDKs. Steps run in order on one code-server; each
// saves a screenshot as test-output/e2e/extension-<step>.png.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startFakeUpstream, textReply, toolReply, type FakeUpstream, type KiroGenerateBody } from '../support/fake-upstream';
import { CodeServer, Workbench, extension, freePort, isPortOpen, useVsCode, waitForPort } from './support';

// A model every account (free ones too) has; older names make the Anthropic SDK print warnings.
const MODEL = 'claude-haiku-4-5';
const STATUS_ITEM_ID = `${extension.id}.kiroBridge.status`;

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('Kiro Bridge in a real VS Code', () => {
  let upstream: FakeUpstream | undefined;
  let window: Workbench | undefined;
  let second: Workbench | undefined;
  let port = 0;
  let apiKey = '';

  const vscode = useVsCode({
    launch: async (vsix) => {
      upstream = await startFakeUpstream();
      port = await freePort();
      return CodeServer.launch({
        name: 'extension',
        extensions: [vsix],
        settings: {
          'kiroBridge.port': port,
          'kiroBridge.advanced.upstreamBase': upstream.baseUrl,
          // Bodies in the traffic details, as a user debugging a client would set it.
          'kiroBridge.traffic.captureBodies': 'full',
          'workbench.colorTheme': 'Default Dark Modern',
        },
        // Only the settings may point the extension anywhere: nothing from this shell leaks in.
        env: { KIRO_AUTH_TOKEN: '', KIRO_BRIDGE_UPSTREAM_BASE: '', KIRO_BRIDGE_API_KEY: '' },
      });
    },
    windows: () => [window, second],
    afterClose: async () => {
      await upstream?.close();
    },
  });

  const fake = () => {
    if (!upstream) throw new Error('the fake Kiro upstream did not start');
    return upstream;
  };
  const win = () => {
    if (!window) throw new Error('the workbench did not open');
    return window;
  };
  const statusItem = (w: Workbench) => w.statusBarItem({ id: STATUS_ITEM_ID });
  const statusLabel = async (w: Workbench) => (await statusItem(w).locator('a, .statusbar-item-label').first().getAttribute('aria-label')) ?? '';
  const anthropic = () => new Anthropic({ baseURL: `http://127.0.0.1:${port}`, apiKey, maxRetries: 0, timeout: 30_000 });

  it('1. installs the packaged VSIX, which activates in a window', async () => {
    const { server, browser } = vscode();
    expect(server.listExtensions()).toContain(`${extension.id}@${extension.version}`);
    const folder = server.createFolder('project', { 'README.md': '# A project that uses Kiro Bridge\n' });
    window = await Workbench.open(browser, server, folder, { viewport: { width: 1400, height: 860 } });
    await window.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
    await server.waitForActivation(extension.id);
    await statusItem(window).waitFor();
    expect(await statusLabel(window)).toMatch(/Kiro Bridge is stopped/);
    expect(await isPortOpen(port)).toBe(false);
    await window.screenshot('extension-01-installed');
  });

  it('3a. adds an account by typing its refresh token into the input boxes', async () => {
    const token = fake().account.refreshToken;
    await win().runCommand('Kiro Bridge: Add Account (Paste Refresh Token)…');
    await win().pickQuickPickItem('Social login (Google or GitHub)');
    await win().answerInputBox(token, { prompt: /refresh token/i });
    await win().waitForNotification(/^Added .+/, 30_000);
    // Checked with a real refresh against the upstream the setting names.
    expect(fake().refreshCount(token)).toBeGreaterThanOrEqual(1);
    await win().screenshot('extension-02-account-added');
  });

  it("3b. starts the bridge after the one-time notice about Kiro's terms", async () => {
    await win().runCommand('Kiro Bridge: Start');
    expect(await win().waitForDialog(/Before you start Kiro Bridge.*Kiro's terms/)).toMatch(/your own account/);
    await win().screenshot('extension-03-risk-notice');
    await win().answerDialog('I Understand, Start');
    await waitForPort(port, 'open');
    await win().waitForNotification(`Kiro Bridge is running on http://127.0.0.1:${port}.`);
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { service: string; status: string };
    expect(health).toMatchObject({ service: 'kiro-bridge', status: 'ok' });
  });

  it('4. shows the bridge running on the configured port in the status bar', async () => {
    await win().waitForStatusBar(new RegExp(`Kiro :${port}\\b`));
    expect(await statusItem(win()).innerText()).toMatch(new RegExp(`Kiro :${port}\\s+0\\b`));
    expect(await statusLabel(win())).toContain(`Kiro Bridge is running on port ${port}`);
    await win().screenshot('extension-04-running');
  });

  it('5a. copies the API key the way a user does (Copy API Key, then the clipboard)', async () => {
    await win().page.bringToFront();
    await win().runCommand('Kiro Bridge: Copy API Key');
    await win().waitForNotification(/Copied the Kiro Bridge API key/);
    apiKey = await win().readClipboard();
    expect(apiKey).toMatch(/^kb-[\w-]{20,}$/);
    // The key is never shown on screen.
    expect((await win().notifications()).join('\n')).not.toContain(apiKey);
    const refused = await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { 'x-api-key': 'kb-wrong' } });
    expect(refused.status).toBe(401);
  });

  it('5b. streams an Anthropic reply through the bridge inside VS Code', async () => {
    // Paced frames, so the reply reaches the client as several deltas rather than one burst.
    fake().clearScripts();
    fake().scriptNext(textReply('Streaming through VS Code works.', { chunks: 4, frameDelayMs: 60, metering: 0.12 }));
    const stream = anthropic().messages.stream({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: 'Say hello from VS Code' }] });
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const message = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('Streaming through VS Code works.');
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    const sent = fake().lastGenerate().body as KiroGenerateBody;
    expect(sent.conversationState?.currentMessage?.userInputMessage?.content).toContain('Say hello from VS Code');
  });

  it('5c. completes an Anthropic tool-use round trip', async () => {
    fake().clearScripts();
    fake().scriptNext(toolReply({ name: 'get_weather', input: { city: 'Paris' } }, { text: 'Let me check.', metering: 0.2 }));
    const question: Anthropic.MessageParam = { role: 'user', content: 'What is the weather in Paris?' };
    const first = await anthropic()
      .messages.stream({ model: MODEL, max_tokens: 512, tools: [weatherTool], messages: [question] })
      .finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(call).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });

    fake().scriptNext(textReply('It is 22°C and sunny in Paris.', { metering: 0.15 }));
    const second = await anthropic().messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [weatherTool],
      messages: [
        question,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call!.id, content: '22°C and sunny' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content).toEqual([expect.objectContaining({ type: 'text', text: 'It is 22°C and sunny in Paris.' })]);
    const sent = fake().lastGenerate().body as KiroGenerateBody;
    expect(sent.conversationState?.currentMessage?.userInputMessage?.userInputMessageContext?.toolResults).toEqual([
      { toolUseId: call!.id, content: [{ text: '22°C and sunny' }], status: 'success' },
    ]);
  });

  it('5d. answers one OpenAI chat completion', async () => {
    fake().clearScripts();
    fake().scriptNext(textReply('Hello from Kiro, OpenAI-shaped.', { metering: 0.1 }));
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey, maxRetries: 0, timeout: 30_000 });
    const completion = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello?' }] });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('Hello from Kiro, OpenAI-shaped.');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
  });

  it("6. lists those requests in the Traffic view and opens one row's details", async () => {
    await win().runCommand('Notifications: Clear All Notifications');
    await win().runCommand('Kiro Bridge: Show Traffic');
    const traffic = win().webview({ extensionId: extension.id });
    const rows = traffic.locator('.tbody .tr:not([hidden])');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(5);
    const column = async (name: string) => (await rows.locator(`.col-${name}`).allInnerTexts()).map((text) => text.trim());
    // Newest first: the chat completion, the two tool-use calls, the streamed reply, and the
    // request with a wrong key from step 5a, which is refused but still listed.
    expect((await column('api')).slice(0, 4)).toEqual(['openai', 'anthropic', 'anthropic', 'anthropic']);
    expect(await column('status')).toEqual(['200', '200', '200', '200', '401']);
    expect((await column('stop')).slice(0, 4)).toEqual(['end_turn', 'end_turn', 'tool_use', 'end_turn']);
    expect(await column('client')).toEqual([expect.stringMatching(/openai/i), ...Array(3).fill(expect.stringMatching(/anthropic/i)), expect.any(String)]);
    await win().waitForStatusBar(new RegExp(`Kiro :${port}\\s+5\\b`));

    // Room for the table and the details side by side, as a user would make it.
    await win().runCommand('View: Toggle Maximized Panel');
    await rows.nth(2).click();
    const details = traffic.locator('.details');
    await details.waitFor({ state: 'visible' });
    await expect.poll(() => traffic.locator('.details-title').innerText()).toBe('POST /v1/messages — 200');
    const overview = traffic.locator('.details-panel[data-tab="overview"]');
    await expect.poll(() => overview.innerText()).toMatch(/Stop reason\s+tool_use/);
    expect(await overview.innerText()).toMatch(/Client\s+Anthropic SDK/);
    // What Kiro sent, event by event, and the answer the client got: the tool call.
    const tab = async (name: string) => {
      await traffic.locator(`vscode-tab-header[data-tab="${name}"]`).click();
      return traffic.locator(`.details-panel[data-tab="${name}"]`);
    };
    const events = await tab('upstreamEvents');
    await expect.poll(() => events.innerText()).toMatch(/toolUseEvent.*"get_weather"/);
    const response = await tab('response');
    await expect.poll(() => response.innerText()).toMatch(/"type": "tool_use",[\s\S]*"name": "get_weather"/);
    await win().screenshot('extension-06-traffic-details');
    await tab('overview');

    // The status bar item's tooltip lists the account with its credits (the README's picture).
    await statusItem(win()).hover();
    const hover = win().page.locator('.workbench-hover, .monaco-hover').filter({ hasText: 'Kiro Bridge' }).first();
    await hover.waitFor({ state: 'visible' });
    expect(await hover.innerText()).toMatch(new RegExp(`running on http://127\\.0\\.0\\.1:${port}[\\s\\S]*social-1@example\\.com`));
    await win().screenshot('extension-06b-status-tooltip');
    await win().page.mouse.move(600, 300);
    await win().runCommand('View: Toggle Maximized Panel');
  });

  it('7. stops: the port closes and the status bar says stopped', async () => {
    await win().runCommand('Kiro Bridge: Stop');
    await waitForPort(port, 'closed');
    await expect.poll(() => statusLabel(win())).toMatch(/Kiro Bridge is stopped/);
    expect(await statusItem(win()).innerText()).not.toContain(`:${port}`);
    // The Traffic view's title bar offers Start again instead of Stop.
    const titleActions = win().page.locator('.part.panel .title-actions .action-label');
    await expect.poll(() => titleActions.evaluateAll((links) => links.map((a) => a.getAttribute('aria-label')))).toEqual(expect.arrayContaining(['Start']));
    expect(await titleActions.evaluateAll((links) => links.map((a) => a.getAttribute('aria-label')))).not.toContain('Stop');
    await win().screenshot('extension-07-stopped');
  });

  it("8. a second window follows the first one's bridge and takes over when it stops", async () => {
    const { server } = vscode();
    await win().runCommand('Kiro Bridge: Start');
    await waitForPort(port, 'open');
    await win().waitForStatusBar(new RegExp(`Kiro :${port}\\b`));

    // Same browser profile, another folder: the user's second VS Code window. The risk notice
    // was accepted, so it starts on its own, finds the port served, and follows.
    second = await Workbench.open(win().page.context(), server, server.createFolder('second-project'));
    await server.waitForActivation(extension.id, { count: 2 });
    await second.waitForStatusBar(new RegExp(`Kiro :${port} \\(other window\\)`), 30_000);
    expect(await statusLabel(second)).toContain(`Port ${port} is served by another Kiro Bridge window`);
    await second.screenshot('extension-08a-second-window-follows');

    await win().page.bringToFront();
    await win().runCommand('Kiro Bridge: Stop');
    await expect.poll(() => statusLabel(win())).toMatch(/Kiro Bridge is stopped/);

    // The follower checks the port every 30 s and takes it over once it is free.
    await second.page.bringToFront();
    await expect.poll(() => statusLabel(second!), { timeout: 45_000, interval: 500 }).toContain(`Kiro Bridge is running on port ${port}`);
    await waitForPort(port, 'open');
    fake().clearScripts();
    fake().scriptNext(textReply('Served by the second window.'));
    const answer = await anthropic().messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Who serves you?' }] });
    expect(answer.content).toEqual([expect.objectContaining({ type: 'text', text: 'Served by the second window.' })]);
    await second.runCommand('Kiro Bridge: Show Traffic');
    const rows = second.webview({ extensionId: extension.id }).locator('.tbody .tr:not([hidden])');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(1);
    await second.screenshot('extension-08b-second-window-took-over');
    expect(await statusLabel(win())).toMatch(/Kiro Bridge is stopped/);
  });
});
