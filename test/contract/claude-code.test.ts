// The real Claude Code (`@anthropic-ai/claude-code`, its npm-shipped native binary) in headless
// mode (`claude -p`) against the bridge and the fake upstream, configured exactly as
// `kiro-bridge configure claude-code` writes it (the `env` block of its settings.json), plus the
// variables that keep a test offline. Everything between the model and the shell is real: Claude
// Code sends its own requests (system blocks with cache_control, thinking with `display`,
// `output_config.effort`, `context_management`, a `defer_loading` tool, its beta headers, and for
// some models a per-turn `system` message), runs the Bash command the model asked for, and sends
// the output back.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientSetup } from '../../src/clients/client-config';
import { cutToolReply, textReply, toolReply, type GenerateContext, type KiroGenerateBody, type Scenario } from '../support/fake-upstream';
import { root } from './cli-harness';
import { TEST_API_KEY, useHarness, type Harness } from './harness';
import {
  expectSignedReasoningReplayed,
  AGENT_TEST_TIMEOUT_MS,
  CLAUDE_BIN,
  agentSandbox,
  currentText,
  declaredTools,
  killChildren,
  randomSecret,
  runAgent,
  secretIn,
  toolResultTexts,
  type AgentSandbox,
} from './agent-cli-harness';

/** A model name Claude Code sends a per-turn `system` message to; a user would alias it to a Kiro model. */
const PER_TURN_SYSTEM_MODEL = 'claude-opus-5-5';

let h: Harness;
useHarness((harness) => (h = harness), { config: { modelAliases: { [PER_TURN_SYSTEM_MODEL]: 'claude-opus-4.6' } } });

let sandbox: AgentSandbox;
let configDir: string;

/** What keeps Claude Code off the network in a test: no telemetry, error reports, updates or other calls home. */
const OFFLINE = { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', DISABLE_AUTOUPDATER: '1' };

beforeEach(() => {
  // Each test reads only its own requests and records.
  h.upstream.clearRecords();
  h.finished.length = 0;
  sandbox = agentSandbox();
  configDir = path.join(sandbox.home, '.claude');
  mkdirSync(configDir);
  // The settings file the bridge writes for users.
  const setup = clientSetup('claude-code', { baseUrl: h.url, apiKey: TEST_API_KEY, platform: 'linux' });
  writeFileSync(path.join(configDir, 'settings.json'), JSON.stringify({ env: setup.claudeEnv }, null, 2));
});

afterEach(() => {
  killChildren();
  sandbox.dispose();
  h.upstream.clearScripts();
});

function claude(prompt: string, extraArgs: string[] = []) {
  // Headless, allowed to run Bash without asking (there is nobody to ask).
  return runAgent(CLAUDE_BIN, ['-p', prompt, '--allowedTools', 'Bash', ...extraArgs], sandbox, { CLAUDE_CONFIG_DIR: configDir, ...OFFLINE });
}

/** The fake model: asks for `cat secret.txt`, then quotes the secret it finds in the result. */
function scriptBashLoop(): void {
  h.upstream.scriptNext(
    toolReply({ name: 'Bash', input: { command: 'cat secret.txt', description: 'Show secret.txt' } }),
    ({ body }: GenerateContext): Scenario => textReply(`The file says: ${secretIn(toolResultTexts(body).join('\n'))}`),
  );
}

describe('Claude Code (real binary) through the bridge', { timeout: AGENT_TEST_TIMEOUT_MS }, () => {
  it('the README shows the settings these tests use', () => {
    const setup = clientSetup('claude-code', { baseUrl: 'http://127.0.0.1:8765', apiKey: '<bridge key>', platform: 'linux' });
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).toContain(`\`\`\`json\n${JSON.stringify({ env: setup.claudeEnv }, null, 2)}\n\`\`\``);
  });

  it('runs a Bash-tool loop: Claude Code runs the command the model asked for, the output goes back, the answer quotes it', async () => {
    const secret = randomSecret();
    writeFileSync(path.join(sandbox.work, 'secret.txt'), `${secret}\n`);
    scriptBashLoop();

    const run = await claude('What does secret.txt say?');

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const bodies = h.upstream.generateBodies;
    expect(bodies).toHaveLength(2);
    const [first, second] = bodies as [KiroGenerateBody, KiroGenerateBody];
    expect(currentText(first)).toContain('What does secret.txt say?');
    expect(declaredTools(first)).toContain('Bash');
    // The second request carries what the command really printed, which only Claude Code could know.
    expect(toolResultTexts(second).join('\n')).toContain(secret);
    expect(run.stdout.trim()).toBe(`The file says: ${secret}`);
    const records = h.finished.filter((r) => r.path === '/v1/messages');
    expect(records.map((r) => [r.client, r.status, r.modelAsked])).toEqual([
      ['Claude Code', 200, 'claude-sonnet-4-5'],
      ['Claude Code', 200, 'claude-sonnet-4-5'],
    ]);
  });

  it("Kiro's native reasoning before a tool call comes back unchanged, in one conversation", async () => {
    const secret = randomSecret();
    writeFileSync(path.join(sandbox.work, 'secret.txt'), `${secret}\n`);
    const reasoning = 'I should read secret.txt with Bash before answering.';
    h.upstream.scriptNext(
      {
        name: 'reasoning-then-bash',
        steps: [{ reasoning, chunks: 3 }, { tool: { name: 'Bash', input: { command: 'cat secret.txt', description: 'Show secret.txt' } } }],
      },
      ({ body }: GenerateContext): Scenario => textReply(`The file says: ${secretIn(toolResultTexts(body).join('\n'))}`),
    );

    const run = await claude('What does secret.txt say?');

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout.trim()).toBe(`The file says: ${secret}`);
    // Claude Code kept the thinking block with its signature; its session id kept one conversation id.
    expectSignedReasoningReplayed(h, reasoning);
  });

  it('a per-turn system message (sent to some models) joins the system prompt, and the loop still works', async () => {
    const secret = randomSecret();
    writeFileSync(path.join(sandbox.work, 'secret.txt'), `${secret}\n`);
    scriptBashLoop();

    const run = await claude('What does secret.txt say?', ['--model', PER_TURN_SYSTEM_MODEL]);

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout.trim()).toBe(`The file says: ${secret}`);
    const records = h.finished.filter((r) => r.path === '/v1/messages');
    expect(records.map((r) => [r.status, r.modelAsked, r.kiroModel])).toEqual([
      [200, PER_TURN_SYSTEM_MODEL, 'claude-opus-4.6'],
      [200, PER_TURN_SYSTEM_MODEL, 'claude-opus-4.6'],
    ]);
    for (const record of records)
      expect(record.repairs).toContainEqual(expect.stringMatching(/^messages\.\d+: a system message was moved into the system prompt/));
    // Its text (the environment, with the work folder) reached Kiro with the system prompt.
    expect(JSON.stringify(h.upstream.generateBodies[0]!.conversationState!.history ?? [])).toContain(sandbox.work);
  });

  it('a Write whose input Kiro cuts short: Claude Code gets the note and max_tokens, goes on by itself, and the file is written in pieces', async () => {
    const file = path.join(sandbox.work, 'big.txt');
    const note = /\[Kiro Bridge: the Write tool call was cut off by Kiro's output limit/;
    const lastAssistant = (body: KiroGenerateBody) => String(body.conversationState?.history?.at(-1)?.assistantResponseMessage?.content ?? '');
    h.upstream.scriptNext(
      // The model tries the whole file at once; Kiro cuts the call.
      cutToolReply({ name: 'Write', input: { file_path: file, content: 'part 1\n'.repeat(2000) }, cut: 'truncated' }, { text: 'Writing big.txt.' }),
      // Told what happened, it writes the first part, then appends the second with the shell.
      ({ body }: GenerateContext): Scenario =>
        note.test(lastAssistant(body))
          ? toolReply({ name: 'Write', input: { file_path: file, content: 'part 1\n' } })
          : textReply('no note in the turn before'),
      toolReply({ name: 'Bash', input: { command: `echo 'part 2' >> ${file}`, description: 'Append part 2' } }),
      textReply('big.txt is written.'),
    );

    const run = await claude('Create big.txt', ['--allowedTools', 'Write']);

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('part 1\npart 2\n');
    expect(run.stdout.trim()).toBe('big.txt is written.');
    const bodies = h.upstream.generateBodies;
    expect(bodies).toHaveLength(4);
    // Claude Code answered max_tokens on its own: the note in the turn it sent back, and its
    // instruction to break the work into smaller pieces.
    expect(lastAssistant(bodies[1]!)).toMatch(note);
    expect(currentText(bodies[1]!)).toContain('Break remaining work into smaller pieces');
    const records = h.finished.filter((r) => r.path === '/v1/messages');
    expect(records.map((r) => r.stopReason)).toEqual(['max_tokens', 'tool_use', 'tool_use', 'end_turn']);
    expect(records[0]!.repairs).toContainEqual(
      expect.stringMatching(/^tool call Write \(tooluse_[\w-]+\) cut off by Kiro after \d+ characters of input \(its input is not complete JSON\)/),
    );
  });
});
