// The real Codex CLI (`@openai/codex`, its npm-shipped binary) against the bridge and the fake
// upstream, configured exactly as `kiro-bridge configure codex` writes it, plus the settings that
// keep a test offline. Everything between the model and the shell is real: Codex sends its own
// requests (developer messages, function tools, the multi_agent_v1 namespace, the hosted
// web_search tool, store: false, include, reasoning.summary, prompt_cache_key, client_metadata),
// runs the command the model asked for, and sends the output back.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CODEX_KEY_VARIABLE, clientSetup } from '../../src/clients/client-config';
import { textReply, toolReply, type GenerateContext, type KiroGenerateBody, type Scenario } from '../support/fake-upstream';
import { root } from './cli-harness';
import { TEST_API_KEY, useHarness, type Harness } from './harness';
import {
  expectSignedReasoningReplayed,
  AGENT_TEST_TIMEOUT_MS,
  CODEX_BIN,
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

let h: Harness;
useHarness((harness) => (h = harness));

let sandbox: AgentSandbox;
let codexHome: string;

beforeEach(() => {
  // Each test reads only its own requests and records.
  h.upstream.clearRecords();
  h.finished.length = 0;
  sandbox = agentSandbox();
  codexHome = path.join(sandbox.home, '.codex');
  mkdirSync(codexHome);
  // Exactly the config the bridge tells users to write (the offline settings go on the command line).
  const setup = clientSetup('codex', { baseUrl: h.url, apiKey: TEST_API_KEY, platform: 'linux' });
  writeFileSync(path.join(codexHome, 'config.toml'), setup.blocks.find((b) => b.target === '~/.codex/config.toml')!.code);
});

afterEach(() => {
  killChildren();
  sandbox.dispose();
  h.upstream.clearScripts();
});

/**
 * What keeps Codex off the network in a test: no update check, analytics, feedback or
 * OpenTelemetry, and no plugin marketplace sync (it resolves github.com and chatgpt.com).
 */
const OFFLINE = ['check_for_update_on_startup=false', 'analytics.enabled=false', 'feedback.enabled=false', 'otel.exporter="none"', 'features.plugins=false'];

function codex(prompt: string) {
  return runAgent(
    CODEX_BIN,
    [
      'exec',
      ...OFFLINE.flatMap((setting) => ['-c', setting]),
      // A key this Codex does not know fails the run instead of being ignored.
      '--strict-config',
      '--skip-git-repo-check',
      '--ephemeral',
      '--color',
      'never',
      // Run the model's commands without a sandbox or approval prompts (nobody to ask; CI
      // containers may not allow the bubblewrap sandbox).
      '--sandbox',
      'danger-full-access',
      prompt,
    ],
    sandbox,
    { CODEX_HOME: codexHome, [CODEX_KEY_VARIABLE]: TEST_API_KEY },
  );
}

/** An MCP-style namespace whose flat member names pass Kiro's 63-character limit. */
const LONG_NAMESPACE = 'mcp__a_server_with_a_name_long_enough_to_need_shortening__';

describe('Codex CLI (real binary) through the bridge', { timeout: AGENT_TEST_TIMEOUT_MS }, () => {
  it('the README shows the config these tests use', () => {
    const setup = clientSetup('codex', { baseUrl: 'http://127.0.0.1:8765', apiKey: '<bridge key>', platform: 'linux' });
    const toml = setup.blocks.find((b) => b.target === '~/.codex/config.toml')!.code;
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).toContain(`\`\`\`toml\n${toml}\n\`\`\``);
  });

  it('runs a shell-tool loop: Codex runs the command the model asked for, the output goes back, the answer quotes it', async () => {
    const secret = randomSecret();
    writeFileSync(path.join(sandbox.work, 'secret.txt'), `${secret}\n`);
    h.upstream.scriptNext(toolReply({ name: 'exec_command', input: { cmd: 'cat secret.txt' } }), ({ body }: GenerateContext): Scenario =>
      textReply(`The file says: ${secretIn(toolResultTexts(body).join('\n'))}`),
    );

    const run = await codex('What does secret.txt say?');

    expect(run.code, run.stderr).toBe(0);
    const [first, second] = h.upstream.generateBodies as [KiroGenerateBody, KiroGenerateBody];
    expect(h.upstream.generateBodies).toHaveLength(2);
    expect(currentText(first)).toContain('What does secret.txt say?');
    expect(declaredTools(first)).toContain('exec_command');
    expect(declaredTools(first)).not.toContain('web_search');
    // The second request carries what the command really printed, which only Codex could know.
    expect(toolResultTexts(second).join('\n')).toContain(secret);
    expect(run.stdout).toContain(`The file says: ${secret}`);
    // Codex's hosted web_search tool cannot run on Kiro: dropped, and the record says so.
    const record = h.finished.find((r) => r.api === 'responses' && r.client === 'Codex')!;
    expect(record.repairs).toContainEqual(expect.stringMatching(/dropped the hosted tool "web_search"/));
  });

  it("Kiro's native reasoning before a tool call comes back unchanged from encrypted_content, in one conversation", async () => {
    const secret = randomSecret();
    writeFileSync(path.join(sandbox.work, 'secret.txt'), `${secret}\n`);
    const reasoning = 'I should read secret.txt with the shell before answering.';
    h.upstream.scriptNext(
      { name: 'reasoning-then-exec', steps: [{ reasoning, chunks: 3 }, { tool: { name: 'exec_command', input: { cmd: 'cat secret.txt' } } }] },
      ({ body }: GenerateContext): Scenario => textReply(`The file says: ${secretIn(toolResultTexts(body).join('\n'))}`),
    );

    const run = await codex('What does secret.txt say?');

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`The file says: ${secret}`);
    // Codex sent the reasoning item back (summary and encrypted_content, no text); its prompt_cache_key kept one conversation id.
    expectSignedReasoningReplayed(h, reasoning);
  });

  it('dispatches namespaced tools: spawn_agent starts a real sub-agent, wait_agent brings back its answer', async () => {
    const word = randomBytes(8).toString('hex');
    // The fake model, deciding from what each request carries (the sub-agent runs alongside).
    h.upstream.script(({ body }: GenerateContext): Scenario => {
      const results = toolResultTexts(body).join('\n');
      const report = /"completed":"(Code word: [0-9a-f]+)"/.exec(`${results}\n${currentText(body)}`)?.[1];
      if (report) return textReply(`The sub-agent said: ${report}`);
      const agent = /"agent_id":"([^"]+)"/.exec(results)?.[1];
      if (agent) return toolReply({ name: 'multi_agent_v1__wait_agent', input: { targets: [agent] } });
      const task = /Reply with the code word ([0-9a-f]+)/.exec(currentText(body))?.[1];
      if (task) return textReply(`Code word: ${task}`);
      // Anything else after a call (e.g. Codex's "unsupported call") ends the run, for the asserts to show.
      if (results) return textReply(`Unexpected tool result: ${results}`);
      return toolReply({ name: 'multi_agent_v1__spawn_agent', input: { message: `Reply with the code word ${word}.` } });
    });

    const run = await codex('Ask a sub-agent for the code word.');

    expect(run.code, run.stderr).toBe(0);
    const bodies = h.upstream.generateBodies;
    // Kiro got the namespace's members as plain tools under their flat names.
    expect(declaredTools(bodies[0]!)).toEqual(
      expect.arrayContaining(['multi_agent_v1__spawn_agent', 'multi_agent_v1__wait_agent', 'multi_agent_v1__close_agent']),
    );
    // Codex ran spawn_agent: the sub-agent's own request reached the model with the task.
    expect(bodies.map(currentText)).toContainEqual(expect.stringContaining(`Reply with the code word ${word}.`));
    // Codex replays the calls with their namespace; they reach Kiro under the flat names again.
    const last = bodies.at(-1)!;
    const replayed = (last.conversationState!.history ?? []).flatMap((turn) => turn.assistantResponseMessage?.toolUses ?? []).map((use) => use.name);
    expect(replayed).toEqual(expect.arrayContaining(['multi_agent_v1__spawn_agent', 'multi_agent_v1__wait_agent']));
    expect(run.stdout).toContain(`The sub-agent said: Code word: ${word}`);
  });

  it("Codex's captured request (fixture) through the openai SDK, not streamed: accepted whole, namespaced calls mapped back, even past Kiro's name limit", async () => {
    const fixture = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'codex-0.171.0-request.json'), 'utf8')) as { body: Record<string, unknown> };
    const tools = [
      ...(fixture.body.tools as object[]),
      {
        type: 'namespace',
        name: LONG_NAMESPACE,
        description: 'An MCP server.',
        tools: [{ type: 'function', name: 'fetch_the_thing', description: 'Fetch it.', parameters: { type: 'object', properties: {} } }],
      },
    ];
    // The fake model calls whatever Kiro name the bridge declared for each member.
    h.upstream.scriptNext(({ body }: GenerateContext) => {
      const names = declaredTools(body);
      return toolReply([
        { name: names.find((n) => n === 'multi_agent_v1__close_agent')!, input: { target: 'a1' } },
        { name: names.find((n) => n.startsWith('mcp__'))!, input: {} },
      ]);
    });

    const response = await h.openai().responses.create({ ...fixture.body, tools, stream: false } as never);

    const kiroNames = declaredTools(h.lastKiroBody());
    const long = kiroNames.find((n) => n.startsWith('mcp__'))!;
    expect(long.length).toBeLessThanOrEqual(63);
    expect(kiroNames).not.toContain('web_search');
    expect(response.output.map((item) => ({ ...item, id: undefined, call_id: undefined }))).toEqual([
      {
        type: 'function_call',
        name: 'close_agent',
        namespace: 'multi_agent_v1',
        arguments: '{"target":"a1"}',
        status: 'completed',
        id: undefined,
        call_id: undefined,
      },
      { type: 'function_call', name: 'fetch_the_thing', namespace: LONG_NAMESPACE, arguments: '{}', status: 'completed', id: undefined, call_id: undefined },
    ]);
    expect(response).toMatchObject({ status: 'completed', store: false, reasoning: { summary: 'auto' } });
  });
});
