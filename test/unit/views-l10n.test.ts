// Every user-facing string has its Simplified Chinese translation: the manifest's %keys% in both
// package.nls files, and every vscode.l10n.t message of the extension's own views in the l10n
// bundles (with the same {n} placeholders, so no argument is lost in translation).
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const json = (file: string) => JSON.parse(readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown>;

/** String literals passed to vscode.l10n.t( in src/views (the traffic view is not localised yet). */
function l10nMessages(): string[] {
  const dir = path.join(root, 'src', 'views');
  const messages = new Set<string>();
  const call = /vscode\.l10n\.t\(\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/g;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.ts') || file.startsWith('traffic-')) continue;
    const source = readFileSync(path.join(dir, file), 'utf8');
    for (const match of source.matchAll(call)) {
      const literal = match[1]!;
      // The literals are plain JS strings: turn them into JSON strings to read them.
      const body = literal.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"').replace(/\\\\"/g, '\\"');
      messages.add(JSON.parse(`"${body}"`) as string);
    }
  }
  return [...messages];
}

const placeholders = (text: string) => [...new Set(text.match(/\{\d+\}/g) ?? [])].sort();

describe('localisation', () => {
  it('every %key% of package.json exists in English and Chinese, and the two files have the same keys', () => {
    const manifest = readFileSync(path.join(root, 'package.json'), 'utf8');
    const keys = [...new Set([...manifest.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]!))];
    expect(keys.length).toBeGreaterThan(20);
    const en = json('package.nls.json');
    const zh = json('package.nls.zh-cn.json');
    for (const key of keys) {
      expect(en[key], `package.nls.json: ${key}`).toBeTypeOf('string');
      expect(zh[key], `package.nls.zh-cn.json: ${key}`).toBeTypeOf('string');
    }
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
  });

  it('every runtime message has a Chinese translation with the same placeholders', () => {
    const messages = l10nMessages();
    expect(messages.length).toBeGreaterThan(100);
    const en = json('l10n/bundle.l10n.json');
    const zh = json('l10n/bundle.l10n.zh-cn.json');
    const untranslated = messages.filter((m) => typeof zh[m] !== 'string');
    expect(untranslated).toEqual([]);
    expect(messages.filter((m) => en[m] !== m)).toEqual([]);
    for (const message of messages) expect(placeholders(zh[message] as string), message).toEqual(placeholders(message));
    // Nothing stale either.
    expect(Object.keys(zh).filter((k) => !messages.includes(k))).toEqual([]);
  });

  it('the manifest points VS Code at the bundles', () => {
    expect(json('package.json').l10n).toBe('./l10n');
  });
});
