// Client model names ↔ Kiro model ids (docs/kiro-protocol.md#models).
//
// We send the current dotted lowercase ids (`claude-sonnet-4.5`), which every 2026 client uses;
// whether the upper-case 2025 ids are still accepted is unknown. Names are matched by structure,
// not by substring: `claude-sonnet-4-5`, `claude-sonnet-4.5`, `claude-4-5-sonnet`,
// `CLAUDE_SONNET_4_5_20250929_V1_0`, a dated (`-20250929`, `@20250929`) or `-latest` form, a
// Bedrock form (`us.anthropic.…-v1:0`) all meet the same key. Some proxies map anything
// containing "opus" to their default opus; we refuse unknown versions instead (the bridge answers 400 with the known names), because silently serving a
// different model than the one asked for is worse than a clear error. Users add aliases for
// anything else.

export interface KiroModel {
  /** The Kiro `modelId`. */
  id: string;
  displayName: string;
  /** Input context window in tokens, for usage accounting. */
  contextWindow: number;
}

const K200 = 200_000;
const M1 = 1_000_000;

/**
 * Kiro model ids we know. The first eight are what every 2026 client sends; the rest are one proxy's
 * (xwteam/kiro2api) Aug-2026 catalogue (single source, plan-dependent). Sonnet/Opus 4.6 have a 1M
 * window since 2026-03-24 (kiro.rs); the others 200K. Unknown windows default to 200K.
 */
export const KIRO_MODELS: readonly KiroModel[] = [
  { id: 'claude-sonnet-4.5', displayName: 'Claude Sonnet 4.5', contextWindow: K200 },
  { id: 'claude-sonnet-4.6', displayName: 'Claude Sonnet 4.6', contextWindow: M1 },
  { id: 'claude-opus-4.5', displayName: 'Claude Opus 4.5', contextWindow: K200 },
  { id: 'claude-opus-4.6', displayName: 'Claude Opus 4.6', contextWindow: M1 },
  { id: 'claude-haiku-4.5', displayName: 'Claude Haiku 4.5', contextWindow: K200 },
  { id: 'claude-sonnet-4', displayName: 'Claude Sonnet 4', contextWindow: K200 },
  { id: 'claude-3.7-sonnet', displayName: 'Claude Sonnet 3.7', contextWindow: K200 },
  { id: 'auto', displayName: 'Auto (Kiro picks the model)', contextWindow: K200 },
  { id: 'claude-sonnet-5', displayName: 'Claude Sonnet 5', contextWindow: K200 },
  { id: 'claude-opus-4.7', displayName: 'Claude Opus 4.7', contextWindow: K200 },
  { id: 'claude-opus-4.8', displayName: 'Claude Opus 4.8', contextWindow: K200 },
  { id: 'claude-opus-5', displayName: 'Claude Opus 5', contextWindow: K200 },
  { id: 'claude-fable-5', displayName: 'Claude Fable 5', contextWindow: K200 },
  { id: 'deepseek-3.2', displayName: 'DeepSeek 3.2', contextWindow: K200 },
  { id: 'glm-5', displayName: 'GLM 5', contextWindow: K200 },
  { id: 'qwen3-coder-next', displayName: 'Qwen3 Coder Next', contextWindow: K200 },
  { id: 'minimax-m2.1', displayName: 'MiniMax M2.1', contextWindow: K200 },
  { id: 'minimax-m2.5', displayName: 'MiniMax M2.5', contextWindow: K200 },
  { id: 'gpt-5.6-terra', displayName: 'GPT-5.6 Terra', contextWindow: K200 },
  { id: 'gpt-5.6-luna', displayName: 'GPT-5.6 Luna', contextWindow: K200 },
  { id: 'gpt-5.6-sol', displayName: 'GPT-5.6 Sol', contextWindow: K200 },
];

/** Names clients send, per Kiro model, with the date Anthropic gives the model (`created`). */
interface ClientModel {
  kiro: string;
  /** Catalogue ids, most specific first; the undated one gets a `-thinking` twin in the catalogue. */
  names: string[];
  createdAt: string;
}

// Dates are those in the dated ids; Sonnet/Opus 4.6 have no dated id, so their announcement
// dates stand in. Claude 3.5 Haiku is not offered by Kiro; proxies map it to `auto`, which is
// what background calls (Claude Code's small model) want: something fast that works. Haiku 4.5
// goes to `claude-haiku-4.5` rather than `auto` (proxies differ here): the client asked for that
// model, and if an account's tier lacks it the upstream says INVALID_MODEL_ID, which the pool handles.
const CLIENT_MODELS: readonly ClientModel[] = [
  { kiro: 'claude-opus-4.6', names: ['claude-opus-4-6'], createdAt: '2026-02-05T00:00:00Z' },
  { kiro: 'claude-sonnet-4.6', names: ['claude-sonnet-4-6'], createdAt: '2026-02-17T00:00:00Z' },
  { kiro: 'claude-opus-4.5', names: ['claude-opus-4-5-20251101', 'claude-opus-4-5'], createdAt: '2025-11-01T00:00:00Z' },
  { kiro: 'claude-haiku-4.5', names: ['claude-haiku-4-5-20251001', 'claude-haiku-4-5'], createdAt: '2025-10-01T00:00:00Z' },
  { kiro: 'claude-sonnet-4.5', names: ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'], createdAt: '2025-09-29T00:00:00Z' },
  { kiro: 'claude-sonnet-4', names: ['claude-sonnet-4-20250514', 'claude-sonnet-4'], createdAt: '2025-05-14T00:00:00Z' },
  { kiro: 'claude-3.7-sonnet', names: ['claude-3-7-sonnet-20250219', 'claude-3-7-sonnet-latest'], createdAt: '2025-02-19T00:00:00Z' },
  { kiro: 'auto', names: ['claude-3-5-haiku-20241022', 'claude-3-5-haiku-latest'], createdAt: '2024-10-22T00:00:00Z' },
];

/** Bare family names (`sonnet`, `claude-opus`): the defaults 2026 clients give them. */
const FAMILY_DEFAULTS: Readonly<Record<string, string>> = {
  sonnet: 'claude-sonnet-4.5',
  opus: 'claude-opus-4.6',
  haiku: 'claude-haiku-4.5',
};

/** Budget used when thinking is asked for by a `-thinking` model name without a budget. */
export const DEFAULT_THINKING_BUDGET = 16_000;

const DEFAULT_CONTEXT_WINDOW = K200;

const THINKING_SUFFIX = /[-_:]thinking$/;
const FAMILIES = 'sonnet|opus|haiku|fable';
const VERSION_FIRST = new RegExp(`^(\\d+(?:-\\d+)?)-(${FAMILIES})$`);
const TRAILING_ZERO_VERSION = new RegExp(`^(${FAMILIES})-(\\d+)-0$`);

/**
 * The matching key of a model name, with the thinking suffix split off: lower case, `_`/`.`
 * → `-`, vendor prefixes and date / `-latest` / Bedrock version suffixes removed, `claude-`
 * removed, family before version, `4-0` → `4`.
 */
export function modelKey(name: string): { key: string; thinking: boolean } {
  let s = name.trim().toLowerCase();
  let thinking = false;
  // Vendor prefixes: `anthropic/…` (OpenRouter style), `us.anthropic.…` (Bedrock inference profiles).
  s = s.replace(/^(?:[a-z]{2,6}\.)?anthropic[./]/, '');
  s = s.replace(/_/g, '-');
  // Suffixes may come in any order (`…-20250929-thinking`, `…-thinking-latest`).
  for (let previous = ''; previous !== s;) {
    previous = s;
    if (THINKING_SUFFIX.test(s)) {
      thinking = true;
      s = s.replace(THINKING_SUFFIX, '');
    }
    s = s
      .replace(/-v\d+(?:[:-]\d+)?$/, '') // Bedrock `-v1:0`, legacy Kiro `_V1_0`
      .replace(/[-@]\d{8}$/, '') // dated ids, Vertex `@20250929`
      .replace(/-latest$/, '');
  }
  s = s.replace(/\./g, '-').replace(/^claude-/, '');
  s = s.replace(VERSION_FIRST, '$2-$1').replace(TRAILING_ZERO_VERSION, '$1-$2');
  return { key: s, thinking };
}

const BY_ID = new Map(KIRO_MODELS.map((m) => [m.id, m]));

const KEY_TO_KIRO: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  for (const model of KIRO_MODELS) map.set(modelKey(model.id).key, model.id);
  for (const client of CLIENT_MODELS) for (const name of client.names) map.set(modelKey(name).key, client.kiro);
  for (const [family, kiro] of Object.entries(FAMILY_DEFAULTS)) map.set(family, kiro);
  return map;
})();

export interface ResolvedModel {
  /** The Kiro modelId to send. */
  kiroModel: string;
  /** The name asked for thinking (`-thinking` suffix). */
  thinking: boolean;
  /** How the name was recognised. */
  via: 'alias' | 'name' | 'available';
}

export interface ResolveOptions {
  /** User aliases, client name → Kiro model id (or any name this module resolves). They win. */
  aliases?: Readonly<Record<string, string>>;
  /** Kiro ids the accounts reported (ListAvailableModels): these pass through even if new to us. */
  available?: ReadonlySet<string>;
}

function lookupAlias(aliases: Readonly<Record<string, string>> | undefined, name: string): string | undefined {
  if (!aliases) return undefined;
  const wanted = name.trim().toLowerCase();
  for (const [alias, target] of Object.entries(aliases)) {
    if (alias.trim().toLowerCase() === wanted && target.trim() !== '') return target.trim();
  }
  return undefined;
}

/** Maps a client model name to a Kiro model id; undefined when the name is not known. */
export function resolveModel(name: string, options: ResolveOptions = {}): ResolvedModel | undefined {
  if (typeof name !== 'string' || name.trim() === '') return undefined;
  const { key, thinking } = modelKey(name);

  // Aliases: the full name first, then without its `-thinking` suffix.
  const base = name.trim().replace(/[-_:]thinking$/i, '');
  const alias = lookupAlias(options.aliases, name) ?? lookupAlias(options.aliases, base);
  if (alias !== undefined) {
    // An alias may point at a name we resolve (`my-model` → `claude-sonnet-4-5`) or at a Kiro
    // id we do not know yet; the user's word stands.
    const target = modelKey(alias);
    return { kiroModel: KEY_TO_KIRO.get(target.key) ?? alias.replace(/[-_:]thinking$/i, ''), thinking: thinking || target.thinking, via: 'alias' };
  }

  const kiro = KEY_TO_KIRO.get(key);
  if (kiro !== undefined) return { kiroModel: kiro, thinking, via: 'name' };

  if (options.available) {
    const wanted = base.toLowerCase();
    for (const id of options.available) {
      if (id.toLowerCase() === wanted) return { kiroModel: id, thinking, via: 'available' };
    }
  }
  return undefined;
}

/** Every name the bridge accepts (client names, Kiro ids, aliases), for "unknown model" errors. */
export function knownModelNames(options: ResolveOptions = {}): string[] {
  const names = new Set<string>();
  for (const client of CLIENT_MODELS) for (const name of client.names) names.add(name);
  for (const model of KIRO_MODELS) names.add(model.id);
  for (const id of options.available ?? []) names.add(id);
  for (const alias of Object.keys(options.aliases ?? {})) names.add(alias);
  return [...names];
}

/** The context window of a Kiro model, in tokens (200K when unknown). */
export function contextWindow(kiroModel: string): number {
  return BY_ID.get(kiroModel)?.contextWindow ?? DEFAULT_CONTEXT_WINDOW;
}

export interface ModelCatalogEntry {
  /** The name a client sends. */
  id: string;
  kiroModel: string;
  displayName: string;
  contextWindow: number;
  /** RFC 3339, for Anthropic's `created_at`. */
  createdAt: string;
  /** Unix seconds, for OpenAI's `created`. */
  created: number;
  /** Selecting this name turns thinking on. */
  thinking: boolean;
  /** A user alias rather than a built-in name. */
  alias: boolean;
}

export interface CatalogOptions {
  aliases?: Readonly<Record<string, string>>;
  /** List a `-thinking` twin of each undated Claude name (for clients that cannot send `thinking`). Default true. */
  thinkingVariants?: boolean;
}

// Kiro ids we have no client name for (new models, non-Claude ones) are listed under their own id
// with no known date; this fixed stamp keeps `/v1/models` stable between calls.
const UNKNOWN_CREATED_AT = '2025-01-01T00:00:00Z';

function entry(id: string, kiroModel: string, createdAt: string, thinking: boolean, alias: boolean): ModelCatalogEntry {
  const model = BY_ID.get(kiroModel);
  const display = model?.displayName ?? kiroModel;
  return {
    id,
    kiroModel,
    displayName: alias ? `${id} (${display})` : thinking ? `${display} (thinking)` : display,
    contextWindow: contextWindow(kiroModel),
    createdAt,
    created: Math.floor(Date.parse(createdAt) / 1000),
    thinking,
    alias,
  };
}

/**
 * The `/v1/models` list: the names clients send, newest first, then aliases, then any available
 * Kiro id no name covers. With `available`, only models some account can use are listed.
 */
export function modelCatalog(available?: ReadonlySet<string>, options: CatalogOptions = {}): ModelCatalogEntry[] {
  const usable = (kiro: string) => available === undefined || available.has(kiro);
  const withThinking = options.thinkingVariants ?? true;
  const out: ModelCatalogEntry[] = [];
  const covered = new Set<string>();
  for (const client of CLIENT_MODELS) {
    if (!usable(client.kiro)) continue;
    covered.add(client.kiro);
    for (const name of client.names) out.push(entry(name, client.kiro, client.createdAt, false, false));
    const undated = client.names[client.names.length - 1]!;
    if (withThinking && client.kiro !== 'auto') out.push(entry(`${undated}-thinking`, client.kiro, client.createdAt, true, false));
  }
  for (const [alias, target] of Object.entries(options.aliases ?? {})) {
    const resolved = resolveModel(alias, { aliases: { [alias]: target } });
    if (!resolved || !usable(resolved.kiroModel)) continue;
    const created = CLIENT_MODELS.find((c) => c.kiro === resolved.kiroModel)?.createdAt ?? UNKNOWN_CREATED_AT;
    out.push(entry(alias, resolved.kiroModel, created, resolved.thinking, true));
  }
  const extra = available ? [...available] : [];
  for (const id of extra) {
    if (covered.has(id)) continue;
    covered.add(id);
    out.push(entry(id, id, UNKNOWN_CREATED_AT, false, false));
  }
  return out;
}
