// A hand-written stand-in for the `vscode` module in unit tests (vitest aliases `vscode` to this
// file, see vitest.config.mts). It implements only the API surface the extension uses, with
// behaviour close enough to VS Code's for the code under test, plus inspection hooks under
// `mock`: every message, quick pick and input box is recorded in `mock.prompts` and answered from
// per-kind queues (`mock.answer`), settings live in a plain map (`mock.setConfig` fires the change
// event), and commands, context keys, the clipboard, opened URLs, status bar items and output
// channels can all be read back. Call `mock.reset()` in `beforeEach`.
//
// Keep it general: other modules' tests use it too. Add what you need, following VS Code's shapes.

/* eslint-disable @typescript-eslint/no-explicit-any */

// ---------------------------------------------------------------------------------------------
// Basic types

export class Disposable {
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => {
      for (const item of items) item.dispose();
    });
  }

  private done = false;

  constructor(private readonly callOnDispose: () => unknown) {}

  dispose(): void {
    if (this.done) return;
    this.done = true;
    this.callOnDispose();
  }
}

export type Event<T> = (listener: (e: T) => unknown, thisArgs?: unknown, disposables?: Disposable[]) => Disposable;

export class EventEmitter<T> {
  private listeners = new Set<(e: T) => unknown>();
  private disposed = false;

  readonly event: Event<T> = (listener, thisArgs, disposables) => {
    const bound = thisArgs ? listener.bind(thisArgs) : listener;
    this.listeners.add(bound);
    const d = new Disposable(() => this.listeners.delete(bound));
    disposables?.push(d);
    return d;
  };

  fire(data: T): void {
    if (this.disposed) return;
    for (const listener of [...this.listeners]) listener(data);
  }

  /** Test hook: how many listeners are attached (leak checks). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
  }
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  readonly token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
  ) {}

  static file(fsPath: string): Uri {
    return new Uri('file', '', fsPath.replace(/\\/g, '/'), '', '');
  }

  static parse(value: string): Uri {
    const url = new URL(value);
    return new Uri(url.protocol.replace(/:$/, ''), url.host, decodeURIComponent(url.pathname), url.search.replace(/^\?/, ''), url.hash.replace(/^#/, ''));
  }

  static joinPath(base: Uri, ...segments: string[]): Uri {
    const joined = [base.path.replace(/\/+$/, ''), ...segments.map((s) => s.replace(/^\/+|\/+$/g, ''))].join('/');
    return new Uri(base.scheme, base.authority, joined, base.query, base.fragment);
  }

  get fsPath(): string {
    return this.path;
  }

  with(change: { scheme?: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
    return new Uri(
      change.scheme ?? this.scheme,
      change.authority ?? this.authority,
      change.path ?? this.path,
      change.query ?? this.query,
      change.fragment ?? this.fragment,
    );
  }

  toString(): string {
    const query = this.query ? `?${this.query}` : '';
    const fragment = this.fragment ? `#${this.fragment}` : '';
    return `${this.scheme}://${this.authority}${this.path}${query}${fragment}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}

export enum LogLevel {
  Off = 0,
  Trace = 1,
  Debug = 2,
  Info = 3,
  Warning = 4,
  Error = 5,
}

export enum ExtensionMode {
  Production = 1,
  Development = 2,
  Test = 3,
}

export enum ExtensionKind {
  UI = 1,
  Workspace = 2,
}

export enum QuickPickItemKind {
  Separator = -1,
  Default = 0,
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export enum ViewColumn {
  Active = -1,
  Beside = -2,
  One = 1,
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class ThemeIcon {
  static readonly File = new ThemeIcon('file');
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}

export class MarkdownString {
  value: string;
  isTrusted?: boolean | { enabledCommands: readonly string[] };
  supportThemeIcons?: boolean;
  supportHtml?: boolean;

  constructor(value = '', supportThemeIcons = false) {
    this.value = value;
    this.supportThemeIcons = supportThemeIcons;
  }

  appendText(value: string): MarkdownString {
    this.value += value.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
    return this;
  }

  appendMarkdown(value: string): MarkdownString {
    this.value += value;
    return this;
  }

  appendCodeblock(code: string, language = ''): MarkdownString {
    this.value += `\n\`\`\`${language}\n${code}\n\`\`\`\n`;
    return this;
  }
}

export const version = '1.100.3';

// ---------------------------------------------------------------------------------------------
// Recording and answering prompts

export type PromptKind = 'info' | 'warning' | 'error' | 'quickPick' | 'inputBox' | 'saveDialog';

export interface RecordedPrompt {
  kind: PromptKind;
  /** The message, or the quick pick / input box title, placeholder or prompt. */
  message: string;
  /** Buttons (for messages) or items (for quick picks). */
  items: any[];
  options: any;
}

/** A fixed answer, or a function of the prompt (return undefined to dismiss). */
export type Answer = unknown | ((prompt: RecordedPrompt) => unknown);

interface StatusBarItemMock {
  id: string | undefined;
  alignment: StatusBarAlignment;
  priority: number | undefined;
  name: string | undefined;
  text: string;
  tooltip: string | MarkdownString | undefined;
  color: string | ThemeColor | undefined;
  backgroundColor: ThemeColor | undefined;
  command: string | { command: string; title: string; arguments?: unknown[] } | undefined;
  accessibilityInformation: { label: string } | undefined;
  visible: boolean;
  disposed: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}

export interface OutputLine {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'append';
  message: string;
}

class LogOutputChannelMock {
  readonly lines: OutputLine[] = [];
  private readonly levelEmitter = new EventEmitter<LogLevel>();
  readonly onDidChangeLogLevel = this.levelEmitter.event;
  logLevel = LogLevel.Info;
  visible = false;
  disposed = false;

  constructor(readonly name: string) {}

  private push(level: OutputLine['level'], message: string, args: unknown[]): void {
    const extra = args.length ? ` ${args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}` : '';
    this.lines.push({ level, message: message + extra });
  }

  trace(message: string, ...args: unknown[]): void {
    this.push('trace', message, args);
  }
  debug(message: string, ...args: unknown[]): void {
    this.push('debug', message, args);
  }
  info(message: string, ...args: unknown[]): void {
    this.push('info', message, args);
  }
  warn(message: string, ...args: unknown[]): void {
    this.push('warn', message, args);
  }
  error(error: string | Error, ...args: unknown[]): void {
    this.push('error', error instanceof Error ? error.message : error, args);
  }
  append(value: string): void {
    this.lines.push({ level: 'append', message: value });
  }
  appendLine(value: string): void {
    this.lines.push({ level: 'append', message: value });
  }
  replace(value: string): void {
    this.lines.length = 0;
    this.append(value);
  }
  clear(): void {
    this.lines.length = 0;
  }
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.disposed = true;
  }

  /** Test hook: the user changed the level ("Developer: Set Log Level"). */
  setLevel(level: LogLevel): void {
    this.logLevel = level;
    this.levelEmitter.fire(level);
  }

  /** Test hook: everything written, one string. */
  get text(): string {
    return this.lines.map((l) => l.message).join('\n');
  }
}

interface ConfigurationChangeEvent {
  affectsConfiguration(section: string): boolean;
}

/** Dotted key → value; reading a section returns a view over the keys below it. */
class ConfigurationStore {
  values = new Map<string, unknown>();
  /** Defaults, as a manifest would declare them (used by `inspect`). */
  defaults = new Map<string, unknown>();
  readonly emitter = new EventEmitter<ConfigurationChangeEvent>();
  /** Every `update` call made through the API. */
  readonly updates: { key: string; value: unknown; target: unknown }[] = [];

  section(prefix: string | undefined) {
    const full = (key: string) => (prefix ? `${prefix}.${key}` : key);
    const read = (key: string): unknown => {
      const k = full(key);
      if (this.values.has(k)) return this.values.get(k);
      // An object setting can be read whole, assembled from dotted keys below it.
      const below = [...this.values.keys()].filter((x) => x.startsWith(`${k}.`));
      if (below.length) {
        const out: Record<string, unknown> = {};
        for (const x of below) out[x.slice(k.length + 1)] = this.values.get(x);
        return out;
      }
      return this.defaults.get(k);
    };
    return {
      get: <T>(key: string, defaultValue?: T): T | undefined => {
        const value = read(key);
        return (value === undefined ? defaultValue : value) as T | undefined;
      },
      has: (key: string) => read(key) !== undefined,
      inspect: (key: string) => {
        const k = full(key);
        return { key: k, defaultValue: this.defaults.get(k), globalValue: this.values.get(k) };
      },
      update: async (key: string, value: unknown, target?: unknown) => {
        const k = full(key);
        this.updates.push({ key: k, value, target });
        this.set(k, value);
      },
    };
  }

  set(key: string, value: unknown): void {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
    this.emitter.fire({ affectsConfiguration: (section) => key === section || key.startsWith(`${section}.`) || section.startsWith(`${key}.`) });
  }
}

class MementoMock {
  private readonly data = new Map<string, unknown>();
  get<T>(key: string, defaultValue?: T): T | undefined {
    return (this.data.has(key) ? this.data.get(key) : defaultValue) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.data.delete(key);
    else this.data.set(key, value);
  }
  keys(): readonly string[] {
    return [...this.data.keys()];
  }
  setKeysForSync(_keys: readonly string[]): void {}
}

/** SecretStorage as VS Code ≥ 1.80 behaves: `onDidChange` fires only for changes made elsewhere. */
class SecretStorageMock {
  readonly values = new Map<string, string>();
  private readonly emitter = new EventEmitter<{ key: string }>();
  readonly onDidChange = this.emitter.event;

  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
  /** Test hook: another window stored or deleted a secret. */
  changeFromOtherWindow(key: string, value: string | undefined): void {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
    this.emitter.fire({ key });
  }
}

function createState() {
  return {
    prompts: [] as RecordedPrompt[],
    answers: new Map<PromptKind, Answer[]>(),
    statusBarItems: [] as StatusBarItemMock[],
    outputChannels: [] as LogOutputChannelMock[],
    commands: new Map<string, (...args: any[]) => unknown>(),
    executed: [] as { command: string; args: unknown[] }[],
    context: new Map<string, unknown>(),
    clipboard: '',
    openedExternal: [] as string[],
    webviewViewProviders: new Map<string, unknown>(),
    /** Every withProgress call: its title, reported messages, and the source that cancels it (the notification's Cancel button). */
    progress: [] as { title?: string; location: unknown; cancellable?: boolean; messages?: string[]; source?: CancellationTokenSource }[],
    config: new ConfigurationStore(),
    remoteName: undefined as string | undefined,
    language: 'en',
    /** l10n bundle used by `l10n.t` (message → translation). */
    bundle: undefined as Record<string, string> | undefined,
    /** Files shown with `window.showTextDocument` / opened with `workspace.openTextDocument`. */
    shownDocuments: [] as string[],
    /** Documents opened with `workspace.openTextDocument`, with their text. */
    documents: [] as { uri: string; text: string }[],
    contentProviders: new Map<string, { provideTextDocumentContent(uri: Uri): string | undefined | Promise<string | undefined> }>(),
    workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
  };
}

let state = createState();

async function ask(kind: PromptKind, message: string, items: any[], options: any): Promise<any> {
  const prompt: RecordedPrompt = { kind, message, items, options };
  state.prompts.push(prompt);
  const queue = state.answers.get(kind);
  const answer = queue?.shift();
  const value = typeof answer === 'function' ? (answer as (p: RecordedPrompt) => unknown)(prompt) : answer;
  return value;
}

/** Messages take `(message, ...items)` or `(message, options, ...items)`. */
function splitMessageArgs(rest: any[]): { options: any; items: any[] } {
  if (rest.length && rest[0] && typeof rest[0] === 'object' && !('title' in rest[0]) && ('modal' in rest[0] || 'detail' in rest[0])) {
    return { options: rest[0], items: rest.slice(1) };
  }
  return { options: undefined, items: rest };
}

function message(kind: 'info' | 'warning' | 'error') {
  return (text: string, ...rest: any[]) => {
    const { options, items } = splitMessageArgs(rest);
    return ask(kind, text, items, options);
  };
}

// ---------------------------------------------------------------------------------------------
// Namespaces

export const window = {
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),

  async showQuickPick(items: any[] | Promise<any[]>, options?: any): Promise<any> {
    const resolved = await items;
    const label = options?.title ?? options?.placeHolder ?? '';
    return ask('quickPick', label, resolved, options);
  },

  async showInputBox(options?: any): Promise<string | undefined> {
    const label = options?.title ?? options?.prompt ?? options?.placeHolder ?? '';
    const value = await ask('inputBox', label, [], options);
    if (typeof value === 'string' && options?.validateInput) {
      const problem = await options.validateInput(value);
      // VS Code keeps the box open on a validation message; a test answer that fails it is a bug.
      if (problem) throw new Error(`vscode-mock: input "${value}" failed validation: ${typeof problem === 'string' ? problem : problem.message}`);
    }
    return value as string | undefined;
  },

  async showSaveDialog(options?: any): Promise<Uri | undefined> {
    return ask('saveDialog', options?.title ?? '', [], options);
  },

  async showTextDocument(doc: any): Promise<unknown> {
    state.shownDocuments.push(doc instanceof Uri ? doc.toString() : String(doc?.uri?.toString() ?? doc));
    return {};
  },

  createStatusBarItem(
    idOrAlignment?: string | StatusBarAlignment,
    alignmentOrPriority?: StatusBarAlignment | number,
    maybePriority?: number,
  ): StatusBarItemMock {
    const hasId = typeof idOrAlignment === 'string';
    const item: StatusBarItemMock = {
      id: hasId ? idOrAlignment : undefined,
      alignment: (hasId ? alignmentOrPriority : idOrAlignment) ?? StatusBarAlignment.Left,
      priority: hasId ? maybePriority : (alignmentOrPriority as number | undefined),
      name: undefined,
      text: '',
      tooltip: undefined,
      color: undefined,
      backgroundColor: undefined,
      command: undefined,
      accessibilityInformation: undefined,
      visible: false,
      disposed: false,
      show() {
        this.visible = true;
      },
      hide() {
        this.visible = false;
      },
      dispose() {
        this.disposed = true;
        this.visible = false;
      },
    };
    state.statusBarItems.push(item);
    return item;
  },

  createOutputChannel(name: string, _options?: string | { log: true }): LogOutputChannelMock {
    const channel = new LogOutputChannelMock(name);
    state.outputChannels.push(channel);
    return channel;
  },

  async withProgress<R>(
    options: { title?: string; location: unknown; cancellable?: boolean },
    task: (progress: { report(v: unknown): void }, token: unknown) => Promise<R>,
  ): Promise<R> {
    const entry = {
      title: options.title,
      location: options.location,
      cancellable: options.cancellable === true,
      messages: [] as string[],
      source: new CancellationTokenSource(),
    };
    state.progress.push(entry);
    const report = (value: unknown) => {
      const text = (value as { message?: unknown } | undefined)?.message;
      if (typeof text === 'string') entry.messages.push(text);
    };
    return task({ report }, entry.source.token);
  },

  registerWebviewViewProvider(viewId: string, provider: unknown): Disposable {
    state.webviewViewProviders.set(viewId, provider);
    return new Disposable(() => state.webviewViewProviders.delete(viewId));
  },
};

export const workspace = {
  getConfiguration(section?: string) {
    return state.config.section(section);
  },
  onDidChangeConfiguration: ((listener: (e: ConfigurationChangeEvent) => unknown, thisArgs?: unknown, disposables?: Disposable[]) =>
    state.config.emitter.event(listener, thisArgs, disposables)) as Event<ConfigurationChangeEvent>,
  get workspaceFolders() {
    return state.workspaceFolders;
  },
  async openTextDocument(target: Uri | string | { content?: string; language?: string }) {
    let uri: Uri;
    let text = '';
    if (target instanceof Uri) {
      uri = target;
      const provider = state.contentProviders.get(uri.scheme);
      if (provider) text = (await provider.provideTextDocumentContent(uri)) ?? '';
    } else if (typeof target === 'string') {
      uri = Uri.file(target);
    } else {
      uri = Uri.parse(`untitled:/Untitled-${state.documents.length + 1}`);
      text = target.content ?? '';
    }
    const document = { uri, getText: () => text, languageId: typeof target === 'object' && !(target instanceof Uri) ? target.language : undefined };
    state.documents.push({ uri: uri.toString(), text });
    return document;
  },
  registerTextDocumentContentProvider(
    scheme: string,
    provider: { provideTextDocumentContent(uri: Uri): string | undefined | Promise<string | undefined> },
  ): Disposable {
    state.contentProviders.set(scheme, provider);
    return new Disposable(() => state.contentProviders.delete(scheme));
  },
  fs: {
    async writeFile(_uri: Uri, _content: Uint8Array): Promise<void> {},
  },
};

export const commands = {
  registerCommand(id: string, handler: (...args: any[]) => unknown): Disposable {
    if (state.commands.has(id)) throw new Error(`command '${id}' already exists`);
    state.commands.set(id, handler);
    return new Disposable(() => state.commands.delete(id));
  },
  async executeCommand<T = unknown>(id: string, ...args: unknown[]): Promise<T> {
    state.executed.push({ command: id, args });
    if (id === 'setContext') {
      state.context.set(args[0] as string, args[1]);
      return undefined as T;
    }
    const handler = state.commands.get(id);
    return (handler ? await handler(...args) : undefined) as T;
  },
  async getCommands(): Promise<string[]> {
    return [...state.commands.keys()];
  },
};

export const env = {
  clipboard: {
    async readText(): Promise<string> {
      return state.clipboard;
    },
    async writeText(value: string): Promise<void> {
      state.clipboard = value;
    },
  },
  async openExternal(target: Uri): Promise<boolean> {
    state.openedExternal.push(target.toString());
    return true;
  },
  async asExternalUri(target: Uri): Promise<Uri> {
    return target;
  },
  get remoteName(): string | undefined {
    return state.remoteName;
  },
  get language(): string {
    return state.language;
  },
  appName: 'Visual Studio Code',
  appHost: 'desktop',
  uriScheme: 'vscode',
  machineId: 'mock-machine-id',
  sessionId: 'mock-session-id',
};

function format(template: string, args: unknown[]): string {
  const named = args.length === 1 && args[0] && typeof args[0] === 'object' && !Array.isArray(args[0]) ? (args[0] as Record<string, unknown>) : undefined;
  return template.replace(/\{([^{}]+)\}/g, (whole, key: string) => {
    const value = named ? named[key] : /^\d+$/.test(key) ? args[Number(key)] : undefined;
    return value === undefined ? whole : String(value);
  });
}

export const l10n = {
  t(...params: any[]): string {
    // t(message, ...args) | t(message, record) | t({ message, args, comment })
    if (typeof params[0] === 'object') {
      const { message: text, args } = params[0] as { message: string; args?: unknown[] | Record<string, unknown> };
      const translated = state.bundle?.[text] ?? text;
      return format(translated, Array.isArray(args) ? args : args ? [args] : []);
    }
    const [text, ...args] = params as [string, ...unknown[]];
    return format(state.bundle?.[text] ?? text, args);
  },
  bundle: undefined as Record<string, string> | undefined,
  uri: undefined as Uri | undefined,
};

// ---------------------------------------------------------------------------------------------
// Test hooks

export interface MockExtensionContext {
  subscriptions: { dispose(): unknown }[];
  secrets: SecretStorageMock;
  globalState: MementoMock;
  workspaceState: MementoMock;
  extensionUri: Uri;
  extensionPath: string;
  extensionMode: ExtensionMode;
  extension: { id: string; packageJSON: Record<string, unknown>; extensionKind: ExtensionKind };
  globalStorageUri: Uri;
  logUri: Uri;
  asAbsolutePath(relative: string): string;
}

export const mock = {
  /** Forgets everything: prompts, answers, commands, settings, items, clipboard. */
  reset(): void {
    state.config.emitter.dispose();
    state = createState();
  },

  get prompts(): RecordedPrompt[] {
    return state.prompts;
  },

  /** The prompts of one kind, in order. */
  promptsOf(kind: PromptKind): RecordedPrompt[] {
    return state.prompts.filter((p) => p.kind === kind);
  },

  /**
   * Queues the answer to the next prompt of `kind`. A message answer is the button title (or
   * item); a quick pick answer an item (or a function choosing one from `prompt.items`); an
   * input box answer the text. Unanswered prompts resolve undefined, as if dismissed.
   */
  answer(kind: PromptKind, ...answers: Answer[]): void {
    const queue = state.answers.get(kind) ?? [];
    queue.push(...answers);
    state.answers.set(kind, queue);
  },

  /** Answers the next quick pick with the first item whose label (or title) matches. */
  pick(match: RegExp | string): void {
    mock.answer('quickPick', (prompt: RecordedPrompt) => {
      const found = prompt.items.find((item) => {
        const label = typeof item === 'string' ? item : (item?.label ?? item?.title ?? '');
        return typeof match === 'string' ? label.includes(match) : match.test(label);
      });
      if (!found) throw new Error(`vscode-mock: no quick pick item matches ${String(match)} in ${JSON.stringify(prompt.items.map((i) => i?.label ?? i))}`);
      return found;
    });
  },

  /** Answers the next message of `kind` by clicking the button whose title matches. */
  click(kind: 'info' | 'warning' | 'error', match: RegExp | string): void {
    mock.answer(kind, (prompt: RecordedPrompt) => {
      const found = prompt.items.find((item) => {
        const title = typeof item === 'string' ? item : (item?.title ?? '');
        return typeof match === 'string' ? title.includes(match) : match.test(title);
      });
      if (!found) throw new Error(`vscode-mock: no button matches ${String(match)} in "${prompt.message}" (${JSON.stringify(prompt.items)})`);
      return found;
    });
  },

  /** Answers still queued (a test that queued more than the code asked has a bug). */
  pendingAnswers(): number {
    let n = 0;
    for (const queue of state.answers.values()) n += queue.length;
    return n;
  },

  /** Sets a setting (full dotted key) and fires `onDidChangeConfiguration`. */
  setConfig(key: string, value: unknown): void {
    state.config.set(key, value);
  },

  /** Declares manifest defaults (full dotted keys). */
  setConfigDefaults(defaults: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(defaults)) state.config.defaults.set(k, v);
  },

  get configUpdates() {
    return state.config.updates;
  },

  get statusBarItems(): StatusBarItemMock[] {
    return state.statusBarItems;
  },

  get outputChannels(): LogOutputChannelMock[] {
    return state.outputChannels;
  },

  /** Registered command ids. */
  get commands(): string[] {
    return [...state.commands.keys()];
  },

  /** Runs a registered command as the palette would. */
  async run(id: string, ...args: unknown[]): Promise<unknown> {
    const handler = state.commands.get(id);
    if (!handler) throw new Error(`vscode-mock: command ${id} is not registered`);
    return handler(...args);
  },

  get executed() {
    return state.executed;
  },

  /** Values set with `setContext`. */
  context(key: string): unknown {
    return state.context.get(key);
  },

  get clipboard(): string {
    return state.clipboard;
  },

  get openedExternal(): string[] {
    return state.openedExternal;
  },

  get progress() {
    return state.progress;
  },

  /** URIs (as strings) passed to `window.showTextDocument`. */
  get shownDocuments(): string[] {
    return state.shownDocuments;
  },

  /** Documents opened through `workspace.openTextDocument`, with the text a provider gave. */
  get documents(): { uri: string; text: string }[] {
    return state.documents;
  },

  get webviewViewProviders(): Map<string, unknown> {
    return state.webviewViewProviders;
  },

  setRemoteName(name: string | undefined): void {
    state.remoteName = name;
  },

  /** Translations `l10n.t` should use (message → translated message), as a bundle would give. */
  setL10nBundle(bundle: Record<string, string> | undefined): void {
    state.bundle = bundle;
  },

  setWorkspaceFolders(paths: string[] | undefined): void {
    state.workspaceFolders = paths?.map((p, index) => ({ uri: Uri.file(p), name: p.split('/').pop() ?? p, index }));
  },

  /** A fresh ExtensionContext with working secrets and mementos. */
  extensionContext(options: { extensionPath?: string; packageJSON?: Record<string, unknown>; mode?: ExtensionMode } = {}): MockExtensionContext {
    const extensionPath = options.extensionPath ?? '/ext/kiro-bridge';
    return {
      subscriptions: [],
      secrets: new SecretStorageMock(),
      globalState: new MementoMock(),
      workspaceState: new MementoMock(),
      extensionUri: Uri.file(extensionPath),
      extensionPath,
      extensionMode: options.mode ?? ExtensionMode.Test,
      extension: { id: 'kiro-bridge.kiro-bridge', packageJSON: options.packageJSON ?? { version: '0.0.0-test' }, extensionKind: ExtensionKind.Workspace },
      globalStorageUri: Uri.file('/tmp/kiro-bridge-global'),
      logUri: Uri.file('/tmp/kiro-bridge-log'),
      asAbsolutePath: (relative: string) => `${extensionPath}/${relative}`,
    };
  },
};

export type { StatusBarItemMock, LogOutputChannelMock, SecretStorageMock, MementoMock, ConfigurationChangeEvent };
