// Merging the bridge's settings into other tools' own files, keeping everything else in them:
// Codex CLI's config.toml, Continue's config.yaml and the shell's startup file. There is no TOML
// or YAML library in the bundle, and none is needed: each merge touches only the keys or the list
// entries it owns, by lines, and refuses (with the reason) any layout it cannot edit safely, so
// the user can paste the snippet by hand instead. Pure functions; configure.ts does the I/O.

export class ClientFileError extends Error {}

export interface Merge {
  text: string;
  /** What changed, for the confirmation message ("model: "gpt-5" → "claude-sonnet-4-5""). */
  changes: string[];
}

// ---- Codex CLI: ~/.codex/config.toml ------------------------------------------------------------

interface TomlLine {
  text: string;
  /** Inside a multi-line string: never a key or a header. */
  inString: boolean;
}

function tomlLines(text: string): TomlLine[] {
  const out: TomlLine[] = [];
  let open: '"""' | "'''" | undefined;
  for (const line of text.split('\n')) {
    const inString = open !== undefined;
    // Toggle on every multi-line delimiter outside a comment (good enough for config files).
    const code = open ? line : line.replace(/#.*$/, '');
    for (const match of code.matchAll(/"""|'''/g)) {
      if (!open) open = match[0] as '"""' | "'''";
      else if (match[0] === open) open = undefined;
    }
    out.push({ text: line, inString });
  }
  return out;
}

const TOML_HEADER = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/;

function tomlKey(line: string): string | undefined {
  const match = /^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=/.exec(line);
  if (!match) return undefined;
  return match[1]!.replace(/^["']|["']$/g, '');
}

/** `model_providers.kiro-bridge`, `model_providers."kiro-bridge"` → the same name. */
function normaliseTable(name: string): string {
  return name
    .split('.')
    .map((part) => part.trim().replace(/^["']|["']$/g, ''))
    .join('.');
}

/**
 * Sets the top-level keys of `wanted` (replacing those lines, or adding them before the first
 * table) and replaces the whole `[table]` (or appends it). Other keys, tables and comments stay.
 */
export function mergeToml(existing: string | undefined, topLevel: Record<string, string>, table: { name: string; body: string[] }): Merge {
  const changes: string[] = [];
  const lines = tomlLines((existing ?? '').replace(/^\uFEFF/, '').replace(/\r\n/g, '\n'));
  if (lines.length && lines[lines.length - 1]!.inString) throw new ClientFileError('it ends inside a multi-line string');
  const firstHeader = lines.findIndex((l) => !l.inString && TOML_HEADER.test(l.text));
  const topEnd = firstHeader < 0 ? lines.length : firstHeader;
  const out = lines.map((l) => l.text);
  const remaining = new Map(Object.entries(topLevel));
  for (let i = 0; i < topEnd; i++) {
    if (lines[i]!.inString) continue;
    const key = tomlKey(lines[i]!.text);
    if (key === undefined || !remaining.has(key)) continue;
    const value = remaining.get(key)!;
    const line = `${key} = ${value}`;
    const old = /=\s*(.*?)\s*(#.*)?$/.exec(lines[i]!.text)?.[1];
    if (old !== value) changes.push(`${key}: ${old} → ${value}`);
    out[i] = line;
    remaining.delete(key);
  }
  if (remaining.size) {
    let insertAt = topEnd;
    while (insertAt > 0 && out[insertAt - 1]!.trim() === '') insertAt--;
    const added = [...remaining].map(([k, v]) => `${k} = ${v}`);
    for (const [k, v] of remaining) changes.push(`${k}: (unset) → ${v}`);
    out.splice(insertAt, 0, ...added, ...(insertAt < out.length && out[insertAt]!.trim() !== '' ? [''] : []));
  }
  // The table: from its header to the next header (outside strings).
  const relined = tomlLines(out.join('\n'));
  const start = relined.findIndex((l) => !l.inString && normaliseTable(TOML_HEADER.exec(l.text)?.[1] ?? '') === table.name && !/^\s*\[\[/.test(l.text));
  const block = [`[${table.name}]`, ...table.body];
  const texts = relined.map((l) => l.text);
  if (start < 0) {
    while (texts.length && texts[texts.length - 1]!.trim() === '') texts.pop();
    if (texts.length) texts.push('');
    texts.push(...block);
    changes.push(`[${table.name}]: added`);
  } else {
    let end = relined.findIndex((l, i) => i > start && !l.inString && TOML_HEADER.test(l.text));
    if (end < 0) end = relined.length;
    // Keep the blank lines before the next table.
    let bodyEnd = end;
    while (bodyEnd > start + 1 && texts[bodyEnd - 1]!.trim() === '') bodyEnd--;
    const old = texts.slice(start, bodyEnd).join('\n');
    if (old !== block.join('\n')) changes.push(`[${table.name}]: replaced`);
    texts.splice(start, bodyEnd - start, ...block);
  }
  return { text: `${texts.join('\n').replace(/\n*$/, '')}\n`, changes };
}

/** The Codex snippet from client-config split into its top-level keys and its provider table. */
export function splitCodexSnippet(code: string): { topLevel: Record<string, string>; table: { name: string; body: string[] } } {
  const lines = code.split('\n');
  const header = lines.findIndex((l) => TOML_HEADER.test(l));
  const topLevel: Record<string, string> = {};
  for (const line of lines.slice(0, header)) {
    const key = tomlKey(line);
    if (key) topLevel[key] = line.slice(line.indexOf('=') + 1).trim();
  }
  return { topLevel, table: { name: normaliseTable(TOML_HEADER.exec(lines[header]!)![1]!), body: lines.slice(header + 1).filter((l) => l.trim() !== '') } };
}

// ---- Continue: ~/.continue/config.yaml ------------------------------------------------------------

export const BLOCK_BEGIN = '# >>> kiro-bridge (kiro-bridge configure writes between these lines) >>>';
export const BLOCK_END = '# <<< kiro-bridge <<<';

function indentOf(line: string): number {
  return /^ */.exec(line)![0].length;
}

/** Re-indents sequence items written with a two-space base to `indent` spaces. */
function reindent(items: string[], indent: number): string[] {
  return items.map((line) => (line.trim() === '' ? line : ' '.repeat(indent) + line.replace(/^ {2}/, '')));
}

/**
 * Adds the bridge's model entries to Continue's `models:` list between marker comments (replaced
 * on the next run), after the user's own entries. `items` are the list entries as client-config
 * writes them (two-space indent).
 */
export function mergeContinueYaml(existing: string | undefined, items: string[]): Merge {
  const text = (existing ?? '').replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  if (text.includes('\t')) throw new ClientFileError('it is indented with tabs');
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const begin = lines.findIndex((l) => l.trim() === BLOCK_BEGIN);
  if (begin >= 0) {
    const end = lines.findIndex((l, i) => i > begin && l.trim() === BLOCK_END);
    if (end < 0) throw new ClientFileError(`it has "${BLOCK_BEGIN}" without "${BLOCK_END}"`);
    const indent = indentOf(lines[begin]!);
    lines.splice(begin, end - begin + 1, ' '.repeat(indent) + BLOCK_BEGIN, ...reindent(items, indent), ' '.repeat(indent) + BLOCK_END);
    return { text: `${lines.join('\n')}\n`, changes: ['models: the Kiro Bridge entries replaced'] };
  }
  const block = (indent: number) => [' '.repeat(indent) + BLOCK_BEGIN, ...reindent(items, indent), ' '.repeat(indent) + BLOCK_END];
  if (lines.length === 0) {
    return {
      text: `${['name: Local Config', 'version: 1.0.0', 'schema: v1', 'models:', ...block(2)].join('\n')}\n`,
      changes: ['created with the Kiro Bridge models'],
    };
  }
  const modelsAt = lines.findIndex((l) => /^models\s*:/.test(l));
  if (modelsAt < 0) {
    while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
    lines.push('models:', ...block(2));
    return { text: `${lines.join('\n')}\n`, changes: ['models: added with the Kiro Bridge entries'] };
  }
  const rest = lines[modelsAt]!.replace(/^models\s*:/, '')
    .replace(/#.*$/, '')
    .trim();
  if (rest === '[]') {
    lines.splice(modelsAt, 1, 'models:', ...block(2));
    return { text: `${lines.join('\n')}\n`, changes: ['models: the Kiro Bridge entries added'] };
  }
  if (rest !== '') throw new ClientFileError('its "models" list is written inline ([…]); add the entries by hand');
  // The list runs while lines are blank, comments, indented, or "- " items at column 0.
  let end = modelsAt + 1;
  let itemIndent: number | undefined;
  while (end < lines.length) {
    const line = lines[end]!;
    const trimmed = line.trim();
    if (trimmed !== '' && !trimmed.startsWith('#')) {
      if (indentOf(line) === 0 && !line.startsWith('-')) break;
      if (itemIndent === undefined && trimmed.startsWith('-')) itemIndent = indentOf(line);
    }
    end++;
  }
  // Blank lines and column-0 comments at the end belong to what follows.
  while (end > modelsAt + 1 && (lines[end - 1]!.trim() === '' || lines[end - 1]!.startsWith('#'))) end--;
  lines.splice(end, 0, ...block(itemIndent ?? 2));
  return { text: `${lines.join('\n')}\n`, changes: ['models: the Kiro Bridge entries added after yours'] };
}

/** The list entries of client-config's Continue snippet (without its `models:` line). */
export function continueItems(code: string): string[] {
  return code.split('\n').filter((l) => !/^models\s*:/.test(l));
}

// ---- the shell: a sourced file of variables, and one block in the startup file ------------------

export type ShellKind = 'posix' | 'fish';

export function shellKind(shell: string | undefined): ShellKind {
  return /(^|\/)fish$/.test(shell ?? '') ? 'fish' : 'posix';
}

function posixQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The variables file (owner-only, it holds the key). */
export function envFileText(vars: Record<string, string>, kind: ShellKind): string {
  const header = '# Written by "kiro-bridge configure env"; sourced by your shell startup file. Holds the bridge key: keep it private.';
  const lines = Object.entries(vars).map(([k, v]) => (kind === 'fish' ? `set -gx ${k} ${posixQuote(v)}` : `export ${k}=${posixQuote(v)}`));
  return `${[header, ...lines].join('\n')}\n`;
}

/** Adds (or replaces) the block that sources `envFile` in a POSIX shell startup file. */
export function mergeShellRc(existing: string | undefined, envFile: string): Merge {
  const text = (existing ?? '').replace(/\r\n/g, '\n');
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const block = [BLOCK_BEGIN, `[ -f ${posixQuote(envFile)} ] && . ${posixQuote(envFile)}`, BLOCK_END];
  const begin = lines.findIndex((l) => l.trim() === BLOCK_BEGIN);
  if (begin >= 0) {
    const end = lines.findIndex((l, i) => i > begin && l.trim() === BLOCK_END);
    if (end < 0) throw new ClientFileError(`it has "${BLOCK_BEGIN}" without "${BLOCK_END}"`);
    const same = lines.slice(begin, end + 1).join('\n') === block.join('\n');
    lines.splice(begin, end - begin + 1, ...block);
    return { text: `${lines.join('\n')}\n`, changes: same ? [] : ['the Kiro Bridge block replaced'] };
  }
  if (lines.length && lines[lines.length - 1]!.trim() !== '') lines.push('');
  lines.push(...block);
  return { text: `${lines.join('\n')}\n`, changes: ['the Kiro Bridge block added at the end'] };
}
