// A real VS Code (code-server 4.100.3 = VS Code 1.100.3) for one test file, isolated from the
// machine: every run gets fresh temporary user-data, extensions, config, XDG and HOME folders, so
// nothing is read from or written to the user's home, and the whole process group is killed on
// stop (and, as a last resort, when the test process exits).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ownedTempDir, processGroupExists, recordProcessGroup } from './owned-temp';
import { codeServerBin, requireTool } from './paths';
import { escapeRegExp, sleep, waitUntil } from './util';

/** User settings every e2e window starts with: no welcome page, no trust prompt, no network chatter. */
export const baseUserSettings: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  // Screenshots and text reads should not depend on a blinking cursor or animations.
  'editor.cursorBlinking': 'solid',
  'workbench.reduceMotion': 'on',
};

export interface CodeServerOptions {
  /** Merged over `baseUserSettings` into `<user-data>/User/settings.json` before start. */
  settings?: Record<string, unknown>;
  /** VSIX files installed with `--install-extension` before start. */
  extensions?: string[];
  /** Extra environment for the server and its extension hosts (e.g. a fake upstream's URL). */
  env?: Record<string, string>;
  /** Name used for the temporary folder, to tell runs apart while debugging. */
  name?: string;
}

interface Dirs {
  root: string;
  userData: string;
  extensions: string;
  home: string;
  xdgConfig: string;
  xdgData: string;
  xdgCache: string;
  xdgState: string;
  workspaces: string;
  configFile: string;
}

const startTimeoutMs = 60_000;
const stopTimeoutMs = 10_000;
const cliTimeoutMs = 120_000;

export class CodeServer {
  readonly dirs: Dirs;
  /** Everything code-server printed (stdout and stderr), also kept in `logFile`. */
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private baseUrl: URL | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly killOnExit = () => this.killGroup('SIGKILL');

  private constructor(options: CodeServerOptions) {
    requireTool(codeServerBin, 'code-server');
    const root = ownedTempDir(options.name ?? 'vscode');
    const dirs: Dirs = {
      root,
      userData: path.join(root, 'user-data'),
      extensions: path.join(root, 'extensions'),
      home: path.join(root, 'home'),
      xdgConfig: path.join(root, 'xdg-config'),
      xdgData: path.join(root, 'xdg-data'),
      xdgCache: path.join(root, 'xdg-cache'),
      xdgState: path.join(root, 'xdg-state'),
      workspaces: path.join(root, 'workspaces'),
      configFile: path.join(root, 'code-server.yaml'),
    };
    for (const [key, dir] of Object.entries(dirs)) {
      if (key !== 'configFile') mkdirSync(dir, { recursive: true });
    }
    this.dirs = dirs;
    this.logFile = path.join(root, 'code-server.log');
    writeFileSync(this.logFile, '');
    this.env = isolatedEnv(dirs, options.env ?? {});
    this.writeUserSettings(options.settings ?? {});
  }

  /** Prepares fresh folders, seeds settings, installs the VSIXs and starts the server. */
  static async launch(options: CodeServerOptions = {}): Promise<CodeServer> {
    const server = new CodeServer(options);
    try {
      for (const vsix of options.extensions ?? []) server.installExtension(vsix);
      await server.start();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /** `http://127.0.0.1:<port>/` of the running server. */
  get url(): string {
    if (!this.baseUrl) throw new Error('code-server is not running');
    return this.baseUrl.href;
  }

  get port(): number {
    if (!this.baseUrl) throw new Error('code-server is not running');
    return Number(this.baseUrl.port);
  }

  /** The server's process id (its process group has the same id), while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Replaces `User/settings.json` (base settings + these). Takes effect live in open windows. */
  writeUserSettings(settings: Record<string, unknown>): void {
    const file = path.join(this.dirs.userData, 'User', 'settings.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ ...baseUserSettings, ...settings }, null, 2)}\n`);
  }

  /** Installs a VSIX with the code-server CLI into this server's extensions folder. */
  installExtension(vsix: string): void {
    const out = this.cli(['--install-extension', path.resolve(vsix), '--force']);
    if (!/successfully installed/i.test(out)) {
      throw new Error(`installing ${vsix} did not report success:\n${out}`);
    }
  }

  /** `publisher.name@version` of every installed (non built-in) extension. */
  listExtensions(): string[] {
    return this.cli(['--list-extensions', '--show-versions'])
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^[\w-]+\.[\w-]+@/.test(line));
  }

  /** Makes a workspace folder with the given files (paths relative to it) and returns its path. */
  createFolder(name: string, files: Record<string, string> = {}): string {
    const folder = path.join(this.dirs.workspaces, name);
    mkdirSync(folder, { recursive: true });
    for (const [relative, content] of Object.entries(files)) {
      const file = path.join(folder, relative);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    return folder;
  }

  /** The URL that opens a browser window on `folder`. */
  folderUrl(folder: string): string {
    const url = new URL(this.url);
    url.searchParams.set('folder', folder);
    return url.href;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const args = [
      '--auth',
      'none',
      '--bind-addr',
      '127.0.0.1:0',
      '--config',
      this.dirs.configFile,
      '--user-data-dir',
      this.dirs.userData,
      '--extensions-dir',
      this.dirs.extensions,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
    ];
    appendFileSync(this.logFile, `$ code-server ${args.join(' ')}\n`);
    // detached: a process group of its own, so stop() reaches the extension hosts too.
    const child = spawn(codeServerBin, args, {
      cwd: this.dirs.workspaces,
      env: this.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    process.once('exit', this.killOnExit);
    recordProcessGroup(this.dirs.root, child.pid);

    const listening = new Promise<URL>((resolve, reject) => {
      let seen: string | undefined = '';
      const onData = (chunk: Buffer) => {
        appendFileSync(this.logFile, chunk);
        if (seen === undefined) return;
        seen += chunk.toString('utf8');
        const match = /HTTP server listening on (http:\/\/[^\s]+)/.exec(seen);
        if (match?.[1]) {
          resolve(new URL(match[1]));
          seen = undefined;
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`code-server exited (${signal ?? code}) before listening:\n${this.log()}`)));
    });
    // The listening line is only the first sign of life; /healthz answers once routes are up.
    this.baseUrl = await withTimeout(listening, startTimeoutMs, () => `code-server did not start:\n${this.log()}`);
    await waitForHealthz(new URL('healthz', this.baseUrl), Date.now() + startTimeoutMs, () => this.log());
  }

  /** Stops the whole process group (server, extension hosts, their children). Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (this.running) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      this.killGroup('SIGTERM');
      const timer = setTimeout(() => this.killGroup('SIGKILL'), stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    }
    // Extension hosts may outlive the server for a moment; nothing of the group may stay.
    this.killGroup('SIGKILL');
    const pid = child.pid;
    if (pid !== undefined) {
      await waitUntil(
        () => !processGroupExists(pid),
        stopTimeoutMs,
        () => `code-server's process group ${pid} survived SIGKILL`,
      );
    }
    process.removeListener('exit', this.killOnExit);
    recordProcessGroup(this.dirs.root, undefined);
    this.child = undefined;
    this.baseUrl = undefined;
  }

  /** Stops the server and deletes its temporary folders (after copying logs, when asked). */
  async dispose(options: { saveLogsTo?: string } = {}): Promise<void> {
    await this.stop();
    if (options.saveLogsTo) this.saveLogs(options.saveLogsTo);
    rmSync(this.dirs.root, { recursive: true, force: true });
  }

  /** Copies the server log and VS Code's log folder (window, extension hosts, output channels). */
  saveLogs(destination: string): void {
    mkdirSync(destination, { recursive: true });
    cpSync(this.logFile, path.join(destination, 'code-server.log'));
    const logs = path.join(this.dirs.userData, 'logs');
    if (existsSync(logs)) cpSync(logs, path.join(destination, 'vscode-logs'), { recursive: true });
  }

  /** What code-server printed so far. */
  log(): string {
    return readFileSync(this.logFile, 'utf8');
  }

  /** Every file under VS Code's log folder whose name matches, oldest session first. */
  logFiles(match: (file: string) => boolean): string[] {
    const logs = path.join(this.dirs.userData, 'logs');
    if (!existsSync(logs)) return [];
    return (readdirSync(logs, { recursive: true }) as string[])
      .map((relative) => path.join(logs, relative))
      .filter((file) => match(file))
      .sort();
  }

  /** The extension host logs, one per window (`exthost1`, `exthost2`, …). */
  extensionHostLogs(): { file: string; text: string }[] {
    return this.logFiles((file) => path.basename(file) === 'remoteexthost.log').map((file) => ({
      file,
      text: readFileSync(file, 'utf8'),
    }));
  }

  /**
   * The contents of an extension's output channel, read from disk, one entry per extension host
   * that has it. VS Code writes plain channels to `<n>-<Name>.log` in an `output_logging_<time>`
   * folder, and log channels (`{ log: true }`) to `<extension id>/<Name>.log`.
   */
  outputChannelLogs(channel: string): { file: string; text: string }[] {
    const plain = new RegExp(`^\\d+-${escapeRegExp(channel)}\\.log$`);
    return this.logFiles((file) => {
      const base = path.basename(file);
      return base === `${channel}.log` || plain.test(base);
    }).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  }

  /** Extension hosts that have not logged their exit (a closed window's host exits at once). */
  liveExtensionHosts(): number {
    return this.extensionHostLogs().filter((log) => !/Extension host with pid \d+ exiting/.test(log.text)).length;
  }

  /** How many extension hosts (windows) have activated the extension, from their logs. */
  activationCount(extensionId: string): number {
    const line = `_doActivateExtension ${extensionId},`;
    return this.extensionHostLogs().filter((log) => log.text.includes(line)).length;
  }

  /** Waits until `count` extension hosts have activated the extension. */
  async waitForActivation(extensionId: string, options: { count?: number; timeoutMs?: number } = {}): Promise<void> {
    const count = options.count ?? 1;
    await waitUntil(
      () => this.activationCount(extensionId) >= count,
      options.timeoutMs ?? 60_000,
      () => {
        const hosts = this.extensionHostLogs()
          .map((l) => `--- ${l.file}\n${l.text}`)
          .join('\n');
        return `${extensionId} was not activated in ${count} extension host(s):\n${hosts}`;
      },
      250,
    );
  }

  /** Runs the code-server CLI against this server's folders (works whether or not it runs). */
  private cli(args: string[]): string {
    const all = ['--config', this.dirs.configFile, '--user-data-dir', this.dirs.userData, '--extensions-dir', this.dirs.extensions, ...args];
    const result = spawnSync(codeServerBin, all, { env: this.env, encoding: 'utf8', timeout: cliTimeoutMs });
    const out = `${result.stdout ?? ''}${result.stderr ?? ''}`;
    appendFileSync(this.logFile, `$ code-server ${all.join(' ')}\n${out}`);
    if (result.error) throw new Error(`code-server ${args.join(' ')} failed: ${result.error.message}\n${out}`);
    if (result.status !== 0) throw new Error(`code-server ${args.join(' ')} exited ${result.status}:\n${out}`);
    return out;
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}

/**
 * The environment of the server and everything it spawns: HOME and XDG folders are temporary,
 * and variables that would tie it to a VS Code the tests run inside of are dropped (with
 * VSCODE_IPC_HOOK_CLI set, the CLI would install extensions into *that* VS Code).
 */
function isolatedEnv(dirs: Dirs, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(VSCODE_|ELECTRON_)/.test(key) || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return {
    ...env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CACHE_HOME: dirs.xdgCache,
    XDG_STATE_HOME: dirs.xdgState,
    ...extra,
  };
}

async function waitForHealthz(url: URL, deadline: number, log: () => string): Promise<void> {
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // Not accepting connections yet.
    }
    await sleep(100);
  }
  throw new Error(`code-server ${url.href} never answered:\n${log()}`);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
