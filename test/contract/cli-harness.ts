// Running the built CLI as a user does: bundled with the same esbuild options as esbuild.mjs's CLI
// build (into a temporary folder of its own, so test files never race each other or dist/), then
// started as a child process with a home and config folder of its own — never the user's saved
// accounts, Kiro IDE login or client settings.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { nodeBuildOptions } from '../../build/esbuild-plugins.mjs';

export const root = path.resolve(__dirname, '..', '..');

/** Bundles src/cli.ts to `<dir>/cli.js` (with the shebang, as dist/cli.js has); a development build unless `production`. */
export async function buildCli(options: { production?: boolean } = {}): Promise<{ dir: string; cli: string; dispose(): void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiro-cli-build-'));
  const cli = path.join(dir, 'cli.js');
  await build({
    ...nodeBuildOptions({ production: options.production ?? false }),
    entryPoints: [path.join(root, 'src', 'cli.ts')],
    outfile: cli,
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'silent',
  });
  return { dir, cli, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Run {
  child: ChildProcess;
  out(): string;
  err(): string;
  exit: Promise<Exit>;
}

const children: ChildProcess[] = [];

/** Kills whatever a test left running (afterEach). */
export function killChildren(): void {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * Starts `command args` with only PATH, HOME, KIRO_BRIDGE_CONFIG_DIR and `env` in its
 * environment (no NO_COLOR/FORCE_COLOR/CI from the test runner unless given).
 */
export function spawnWith(
  command: string,
  args: string[],
  home: string,
  env: Record<string, string | undefined>,
  options: { stdin?: string; cwd?: string } = {},
): Run {
  const child = spawn(command, args, {
    cwd: options.cwd ?? home,
    env: { PATH: process.env.PATH, HOME: home, KIRO_BRIDGE_CONFIG_DIR: path.join(home, 'config'), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  else child.stdin!.end();
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exit = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, out: () => out, err: () => err, exit };
}

export function runCli(cli: string, args: string[], home: string, env: Record<string, string | undefined> = {}, options: { stdin?: string } = {}): Run {
  return spawnWith(process.execPath, [cli, ...args], home, env, options);
}

export interface Serving extends Run {
  url: string;
}

/** Waits for serve's "listening on URL" line and for the summary after it. */
export async function waitServing(run: Run, timeoutMs = 20_000): Promise<Serving> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const url = /listening on (http:\/\/\S+)/.exec(run.out())?.[1];
    // The summary ends with the "More clients" line.
    if (url && /More clients/.test(run.out())) return { ...run, url };
    if (run.child.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not start:\n${run.out()}\n${run.err()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function tempHome(): { home: string; dispose(): void } {
  const home = mkdtempSync(path.join(tmpdir(), 'kiro-cli-home-'));
  return { home, dispose: () => rmSync(home, { recursive: true, force: true }) };
}
