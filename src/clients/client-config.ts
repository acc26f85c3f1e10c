// Exact setup for each client tool, with the bridge's real URL and key filled in. Pure: the
// command shows, copies or writes what this returns. Strings here are code and setting names
// (not translated); the command localises the surrounding words.
//
// Facts per client (checked against their docs and sources):
// - Claude Code reads `env` from ~/.claude/settings.json ($CLAUDE_CONFIG_DIR overrides the
//   folder) and appends /v1/messages to ANTHROPIC_BASE_URL. ANTHROPIC_AUTH_TOKEN is sent as
//   `Authorization: Bearer`; ANTHROPIC_API_KEY (x-api-key) makes interactive Claude Code ask for
//   approval and, if both are set, both headers go out — so we set the token and drop the key.
//   Background tasks use the haiku-class model (ANTHROPIC_DEFAULT_HAIKU_MODEL; older versions read
//   ANTHROPIC_SMALL_FAST_MODEL).
// - Cline and Roo Code: provider "Anthropic" with "Use custom base URL" (the root URL), or
//   "OpenAI Compatible" with the /v1 URL.
// - Continue's anthropic provider resolves `messages` against apiBase, so apiBase must end in
//   "/v1/" with the slash.
// - Codex CLI speaks the Responses API (`wire_api = "responses"`, the only value recent releases
//   accept), appends /responses to base_url, and reads the key from the variable `env_key` names.

export type ClientId = 'claude-code' | 'cline' | 'roo-code' | 'continue' | 'codex' | 'sdk-env';

export const CLIENT_IDS: readonly ClientId[] = ['claude-code', 'cline', 'roo-code', 'continue', 'codex', 'sdk-env'];

export interface ModelChoice {
  /** The everyday model. */
  main: string;
  /** Background / small tasks. */
  fast: string;
  /** The strongest model, for clients that offer a choice. */
  strong: string;
}

export const DEFAULT_MODELS: ModelChoice = {
  main: 'claude-sonnet-4-5',
  fast: 'claude-haiku-4-5',
  strong: 'claude-opus-4-6',
};

/** Newest first: the first one the accounts can use wins. */
const MAIN_PREFERENCE = ['claude-sonnet-4.6', 'claude-sonnet-4.5', 'claude-sonnet-4'];
const FAST_PREFERENCE = ['claude-haiku-4.5'];
const STRONG_PREFERENCE = ['claude-opus-4.6', 'claude-opus-4.5'];

/** The name clients send for a Kiro model id: `claude-sonnet-4.6` → `claude-sonnet-4-6`. */
function clientName(kiroId: string): string {
  return kiroId.replace(/\./g, '-');
}

/**
 * Models for the snippets from what the accounts can use (Kiro model ids from
 * ListAvailableModels). Unknown lists give the defaults, which every tier has (the free tier:
 * auto, Sonnet 4.5, Haiku 4.5). A missing fast or strong model falls back to the main one, so a
 * client is never pointed at a model its account lacks.
 */
export function modelsFor(available: readonly string[] | undefined): ModelChoice {
  if (!available || available.length === 0) return DEFAULT_MODELS;
  const first = (preference: string[]) => preference.find((id) => available.includes(id));
  const main = first(MAIN_PREFERENCE);
  if (!main) return DEFAULT_MODELS;
  const fast = first(FAST_PREFERENCE) ?? main;
  const strong = first(STRONG_PREFERENCE) ?? main;
  return { main: clientName(main), fast: clientName(fast), strong: clientName(strong) };
}

export interface ClientSetupInput {
  /** The bridge's root URL, e.g. http://127.0.0.1:8765 (no trailing slash). */
  baseUrl: string;
  apiKey: string;
  /** Decides shell syntax for environment variables. */
  platform: NodeJS.Platform;
  models?: ModelChoice;
}

export interface SnippetBlock {
  /** Where it goes, e.g. "~/.claude/settings.json" or "Cline › API Provider". */
  target: string;
  language: 'json' | 'yaml' | 'toml' | 'shellscript' | 'powershell' | 'text';
  code: string;
}

export interface ClientSetup {
  client: ClientId;
  name: string;
  blocks: SnippetBlock[];
  /** The one block "Copy" puts on the clipboard. */
  primary: SnippetBlock;
  /** For Claude Code: the `env` entries to merge into its settings file. */
  claudeEnv?: Record<string, string>;
}

export const CLIENT_NAMES: Record<ClientId, string> = {
  'claude-code': 'Claude Code',
  cline: 'Cline',
  'roo-code': 'Roo Code',
  continue: 'Continue',
  codex: 'Codex CLI',
  'sdk-env': 'OpenAI / Anthropic SDK',
};

/** The environment variable Codex reads the key from (our own name, so it never clashes). */
export const CODEX_KEY_VARIABLE = 'KIRO_BRIDGE_API_KEY';

/** `env` keys Claude Code must not keep when pointed at the bridge (they would override ours). */
export const CLAUDE_ENV_CONFLICTS = [
  'ANTHROPIC_API_KEY',
  'CLAUDE_CODE_API_BASE_URL',
  'CLAUDE_CODE_USE_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
  'CLAUDE_CODE_USE_FOUNDRY',
];

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** A double-quoted string valid in JSON, YAML and TOML. */
function quoted(value: string): string {
  return JSON.stringify(value);
}

function shellQuoted(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function powershellQuoted(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `NAME=value` lines for a shell on `platform` (PowerShell on Windows, POSIX elsewhere). */
export function envLines(vars: Record<string, string>, platform: NodeJS.Platform): SnippetBlock {
  if (platform === 'win32') {
    return {
      target: 'PowerShell',
      language: 'powershell',
      code: Object.entries(vars)
        .map(([k, v]) => `$env:${k} = ${powershellQuoted(v)}`)
        .join('\n'),
    };
  }
  return {
    target: 'shell',
    language: 'shellscript',
    code: Object.entries(vars)
      .map(([k, v]) => `export ${k}=${shellQuoted(v)}`)
      .join('\n'),
  };
}

export function claudeCodeEnv(input: ClientSetupInput): Record<string, string> {
  const models = input.models ?? DEFAULT_MODELS;
  return {
    ANTHROPIC_BASE_URL: trimSlash(input.baseUrl),
    ANTHROPIC_AUTH_TOKEN: input.apiKey,
    ANTHROPIC_MODEL: models.main,
    ANTHROPIC_DEFAULT_SONNET_MODEL: models.main,
    ANTHROPIC_DEFAULT_OPUS_MODEL: models.strong,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: models.fast,
    ANTHROPIC_SMALL_FAST_MODEL: models.fast,
  };
}

function uiFields(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export function clientSetup(client: ClientId, input: ClientSetupInput): ClientSetup {
  const root = trimSlash(input.baseUrl);
  const v1 = `${root}/v1`;
  const models = input.models ?? DEFAULT_MODELS;
  const name = CLIENT_NAMES[client];
  switch (client) {
    case 'claude-code': {
      const env = claudeCodeEnv(input);
      const settings: SnippetBlock = { target: '~/.claude/settings.json', language: 'json', code: JSON.stringify({ env }, null, 2) };
      const shell = envLines({ ANTHROPIC_BASE_URL: env.ANTHROPIC_BASE_URL!, ANTHROPIC_AUTH_TOKEN: input.apiKey }, input.platform);
      return { client, name, blocks: [settings, { ...shell, target: `${shell.target} (one session only)` }], primary: settings, claudeEnv: env };
    }
    case 'cline':
    case 'roo-code': {
      const anthropic: SnippetBlock = {
        target: `${name} › API Provider: Anthropic`,
        language: 'text',
        code: uiFields([
          ['API Provider', 'Anthropic'],
          ['API Key', input.apiKey],
          ['Use custom base URL', root],
          ['Model', models.main],
        ]),
      };
      const openai: SnippetBlock = {
        target: `${name} › API Provider: OpenAI Compatible`,
        language: 'text',
        code: uiFields([
          ['API Provider', 'OpenAI Compatible'],
          ['Base URL', v1],
          ['API Key', input.apiKey],
          ['Model ID', models.main],
        ]),
      };
      return { client, name, blocks: [anthropic, openai], primary: anthropic };
    }
    case 'continue': {
      const model = (title: string, id: string, roles: string[]) =>
        [
          `  - name: ${quoted(title)}`,
          '    provider: anthropic',
          `    model: ${quoted(id)}`,
          `    apiBase: ${quoted(`${v1}/`)}`,
          `    apiKey: ${quoted(input.apiKey)}`,
          '    roles:',
          ...roles.map((r) => `      - ${r}`),
        ].join('\n');
      const yaml = [
        'models:',
        model(`Kiro ${models.main}`, models.main, ['chat', 'edit', 'apply']),
        model(`Kiro ${models.fast}`, models.fast, ['chat', 'summarize']),
      ].join('\n');
      const block: SnippetBlock = { target: '~/.continue/config.yaml (add to models:)', language: 'yaml', code: yaml };
      return { client, name, blocks: [block], primary: block };
    }
    case 'codex': {
      const toml = [
        `model = ${quoted(models.main)}`,
        'model_provider = "kiro-bridge"',
        '',
        '[model_providers.kiro-bridge]',
        'name = "Kiro Bridge"',
        `base_url = ${quoted(v1)}`,
        `env_key = ${quoted(CODEX_KEY_VARIABLE)}`,
        'wire_api = "responses"',
      ].join('\n');
      const block: SnippetBlock = { target: '~/.codex/config.toml', language: 'toml', code: toml };
      const key = envLines({ [CODEX_KEY_VARIABLE]: input.apiKey }, input.platform);
      return { client, name, blocks: [block, { ...key, target: `${key.target} (before running codex)` }], primary: block };
    }
    case 'sdk-env': {
      const block = envLines(
        {
          ANTHROPIC_BASE_URL: root,
          ANTHROPIC_API_KEY: input.apiKey,
          OPENAI_BASE_URL: v1,
          OPENAI_API_KEY: input.apiKey,
        },
        input.platform,
      );
      return { client, name, blocks: [block], primary: block };
    }
  }
}

/** The whole setup as one Markdown document (what "Configure Client…" shows). */
export function setupDocument(setup: ClientSetup, intro: string[]): string {
  const parts = [`# ${setup.name} → Kiro Bridge`, '', ...intro, ''];
  for (const block of setup.blocks) {
    parts.push(`## ${block.target}`, '', `\`\`\`${block.language === 'text' ? '' : block.language}`, block.code, '```', '');
  }
  return parts.join('\n');
}
