// Real coding-agent CLIs (Codex, Claude Code) run as a user runs them, against the bridge and the
// fake upstream: a home folder, a work folder and a config folder of their own (never the user's
// settings, logins or sessions), stdin closed, and an environment with nothing from the test
// runner but PATH. A run that outlives its time limit is killed and reported with its output.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { killChildren, root, spawnWith, tempHome } from './cli-harness';
import { expect } from 'vitest';
import type { KiroGenerateBody } from '../support/fake-upstream';
import { findCurrentMessage, type Harness } from './harness';

export { killChildren };

/** The npm-installed binaries the tests run (devDependencies, pinned exactly). */
export const CODEX_BIN = path.join(root, 'node_modules', '.bin', 'codex');
export const CLAUDE_BIN = path.join(root, 'node_modules', '.bin', 'claude');

/** How long one agent run may take (a run takes one to three seconds here). */
export const AGENT_TIMEOUT_MS = 30_000;
/** A test's limit: one run, plus the bridge and the checks. */
export const AGENT_TEST_TIMEOUT_MS = AGENT_TIMEOUT_MS + 10_000;

export interface AgentSandbox {
  /** HOME of the agent process. */
  home: string;
  /** The folder the agent works in (its cwd). */
  work: string;
  dispose(): void;
}

export function agentSandbox(): AgentSandbox {
  const { home, dispose } = tempHome();
  const work = path.join(home, 'work');
  mkdirSync(work);
  return { home, work, dispose };
}

export interface AgentRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args` in `sandbox.work` and waits for it to exit (killed after `timeoutMs`). */
export async function runAgent(
  command: string,
  args: string[],
  sandbox: AgentSandbox,
  env: Record<string, string | undefined>,
  timeoutMs = AGENT_TIMEOUT_MS,
): Promise<AgentRun> {
  const run = spawnWith(command, args, sandbox.home, env, { cwd: sandbox.work });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const exit = await Promise.race([run.exit, timedOut]);
  clearTimeout(timer);
  if (exit === 'timeout') {
    run.child.kill('SIGKILL');
    throw new Error(`${path.basename(command)} did not finish within ${timeoutMs} ms\n--- stdout\n${run.out()}\n--- stderr\n${run.err()}`);
  }
  return { code: exit.code, stdout: run.out(), stderr: run.err() };
}

/** A file's content only the agent's command can reveal: 24 random hex digits. */
export function randomSecret(): string {
  return randomBytes(12).toString('hex');
}

/**
 * What the fake model "reads" in a tool result: the secret (agents wrap command output in their
 * own headers and reminders, so the model looks for the value, as a real one would).
 */
export function secretIn(text: string): string | undefined {
  return /\b[0-9a-f]{24}\b/.exec(text)?.[0];
}

/** Text of every tool result the Kiro request's current message carries. */
export function toolResultTexts(body: KiroGenerateBody): string[] {
  const results = findCurrentMessage(body)?.userInputMessageContext?.toolResults ?? [];
  return results.map((result) =>
    (Array.isArray(result.content) ? result.content : []).map((part: { text?: unknown }) => (typeof part.text === 'string' ? part.text : '')).join(''),
  );
}

/** The current user message's text of a Kiro request. */
export function currentText(body: KiroGenerateBody): string {
  const content = findCurrentMessage(body)?.content;
  return typeof content === 'string' ? content : '';
}

/** Names of the tools a Kiro request declares. */
export function declaredTools(body: KiroGenerateBody): string[] {
  const tools = findCurrentMessage(body)?.userInputMessageContext?.tools ?? [];
  return tools.map((tool) => String(tool.toolSpecification?.name));
}

/**
 * The agent kept Kiro's signed reasoning from the first answer and sent it back in the second
 * request: the fake upstream (which checks signatures) took it on the first try, the assistant
 * turn carries it exactly as Kiro signed it, and both requests share one Kiro conversation id.
 */
export function expectSignedReasoningReplayed(h: Harness, reasoning: string): void {
  expect(h.upstream.generateRequests.map((r) => [r.status, r.rejectedBy])).toEqual([
    [200, undefined],
    [200, undefined],
  ]);
  const [first, second] = h.upstream.generateBodies as [KiroGenerateBody, KiroGenerateBody];
  const turn = second.conversationState!.history!.at(-1)!.assistantResponseMessage!;
  expect(turn.reasoningContent).toEqual({ reasoningText: { text: reasoning, signature: h.upstream.account.signReasoning(reasoning) } });
  expect(second.conversationState!.conversationId).toBe(first.conversationState!.conversationId);
}
