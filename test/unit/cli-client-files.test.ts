// The merges `kiro-bridge configure` writes into other tools' files: only the keys and entries it
// owns change, a second run replaces rather than repeats, and layouts it cannot edit safely are
// refused with the reason.
import { describe, expect, it } from 'vitest';
import {
  BLOCK_BEGIN,
  BLOCK_END,
  ClientFileError,
  continueItems,
  envFileText,
  mergeContinueYaml,
  mergeShellRc,
  mergeToml,
  shellKind,
  splitCodexSnippet,
} from '../../src/cli/client-files';
import { clientSetup } from '../../src/clients/client-config';

const input = { baseUrl: 'http://127.0.0.1:8765', apiKey: 'kb-test-key-0123456789abcdefgh', platform: 'linux' as const };
const codex = splitCodexSnippet(clientSetup('codex', input).primary.code);
const continueEntries = continueItems(clientSetup('continue', input).primary.code);

describe('mergeToml (Codex config.toml)', () => {
  it('creates the file from nothing', () => {
    const { text } = mergeToml(undefined, codex.topLevel, codex.table);
    expect(text).toBe(
      [
        'model = "claude-sonnet-4-5"',
        'model_provider = "kiro-bridge"',
        '',
        '[model_providers.kiro-bridge]',
        'name = "Kiro Bridge"',
        'base_url = "http://127.0.0.1:8765/v1"',
        'env_key = "KIRO_BRIDGE_API_KEY"',
        'wire_api = "responses"',
        '',
      ].join('\n'),
    );
  });

  it('replaces its own keys and table, keeps comments, other keys and tables, and reports what changed', () => {
    const before = [
      '# my settings',
      'model = "gpt-5" # the default',
      'approval_policy = "never"',
      '',
      '[model_providers."kiro-bridge"]',
      'name = "old"',
      'base_url = "http://127.0.0.1:1/v1"',
      '',
      '[profiles.deep]',
      'model = "o3"',
    ].join('\n');
    const { text, changes } = mergeToml(before, codex.topLevel, codex.table);
    expect(text).toBe(
      [
        '# my settings',
        'model = "claude-sonnet-4-5"',
        'approval_policy = "never"',
        'model_provider = "kiro-bridge"',
        '',
        '[model_providers.kiro-bridge]',
        'name = "Kiro Bridge"',
        'base_url = "http://127.0.0.1:8765/v1"',
        'env_key = "KIRO_BRIDGE_API_KEY"',
        'wire_api = "responses"',
        '',
        '[profiles.deep]',
        'model = "o3"',
        '',
      ].join('\n'),
    );
    expect(changes).toEqual(['model: "gpt-5" → "claude-sonnet-4-5"', 'model_provider: (unset) → "kiro-bridge"', '[model_providers.kiro-bridge]: replaced']);
    // Merging the result again changes nothing.
    expect(mergeToml(text, codex.topLevel, codex.table)).toEqual({ text, changes: [] });
  });

  it('does not mistake text inside a multi-line string for a key or a table', () => {
    const before = ["instructions = '''", 'model = "inside"', '[model_providers.kiro-bridge]', "'''", '[tools]', 'web_search = true'].join('\n');
    const { text } = mergeToml(before, codex.topLevel, codex.table);
    expect(text.startsWith(["instructions = '''", 'model = "inside"', '[model_providers.kiro-bridge]', "'''", 'model = "claude-sonnet-4-5"'].join('\n'))).toBe(
      true,
    );
    expect(text).toContain('[tools]\nweb_search = true\n\n[model_providers.kiro-bridge]\nname = "Kiro Bridge"');
  });

  it('refuses a file that ends inside a multi-line string', () => {
    expect(() => mergeToml('notes = """\nnever closed', codex.topLevel, codex.table)).toThrow(ClientFileError);
  });
});

describe('mergeContinueYaml (Continue config.yaml)', () => {
  it('creates a complete config from nothing', () => {
    const { text } = mergeContinueYaml(undefined, continueEntries);
    expect(
      text.startsWith(
        `name: Local Config\nversion: 1.0.0\nschema: v1\nmodels:\n  ${BLOCK_BEGIN}\n  - name: "Kiro claude-sonnet-4-5"\n    provider: anthropic\n`,
      ),
    ).toBe(true);
    expect(text.endsWith(`  ${BLOCK_END}\n`)).toBe(true);
  });

  it("adds its entries after the user's, at their indentation, and replaces them on the next run", () => {
    const before = ['name: Mine', 'models:', '- name: Local', '  provider: ollama', '', '# tools follow', 'context:', '- provider: code'].join('\n');
    const once = mergeContinueYaml(before, continueEntries).text;
    const lines = once.split('\n');
    expect(lines.slice(0, 5)).toEqual(['name: Mine', 'models:', '- name: Local', '  provider: ollama', BLOCK_BEGIN]);
    expect(lines[5]).toBe('- name: "Kiro claude-sonnet-4-5"');
    expect(once).toContain(`${BLOCK_END}\n\n# tools follow\ncontext:\n- provider: code\n`);
    const other = continueItems(clientSetup('continue', { ...input, baseUrl: 'http://127.0.0.1:9999' }).primary.code);
    const twice = mergeContinueYaml(once, other).text;
    expect(twice.match(/>>> kiro-bridge/g)).toHaveLength(1);
    expect(twice).toContain('http://127.0.0.1:9999/v1/');
    expect(twice).not.toContain('127.0.0.1:8765');
  });

  it('fills an empty inline list and adds a missing one', () => {
    expect(mergeContinueYaml('name: a\nmodels: []\n', continueEntries).text.startsWith(`name: a\nmodels:\n  ${BLOCK_BEGIN}\n`)).toBe(true);
    expect(mergeContinueYaml('name: a\n', continueEntries).text.startsWith(`name: a\nmodels:\n  ${BLOCK_BEGIN}\n`)).toBe(true);
  });

  it('refuses layouts it cannot edit by lines', () => {
    expect(() => mergeContinueYaml('models: [{name: x}]\n', continueEntries)).toThrow('written inline');
    expect(() => mergeContinueYaml('models:\n\t- name: x\n', continueEntries)).toThrow('tabs');
    expect(() => mergeContinueYaml(`models:\n  ${BLOCK_BEGIN}\n`, continueEntries)).toThrow('without');
  });
});

describe('the shell', () => {
  it('sources the variables file from one block, added once and replaced after', () => {
    const first = mergeShellRc('alias ll="ls -l"\n', '/home/u/.config/kiro-bridge/env.sh');
    expect(first.text).toBe(
      `alias ll="ls -l"\n\n${BLOCK_BEGIN}\n[ -f '/home/u/.config/kiro-bridge/env.sh' ] && . '/home/u/.config/kiro-bridge/env.sh'\n${BLOCK_END}\n`,
    );
    expect(mergeShellRc(first.text, '/home/u/.config/kiro-bridge/env.sh')).toEqual({ text: first.text, changes: [] });
    const moved = mergeShellRc(first.text, "/home/o'neil/env.sh").text;
    expect(moved.split(BLOCK_BEGIN)).toHaveLength(2);
    expect(moved).toContain(`'/home/o'\\''neil/env.sh'`);
  });

  it('quotes values for POSIX shells and fish', () => {
    expect(envFileText({ A: "it's" }, 'posix')).toContain(`export A='it'\\''s'`);
    expect(envFileText({ A: 'x' }, 'fish')).toContain(`set -gx A 'x'`);
    expect(shellKind('/usr/bin/fish')).toBe('fish');
    expect(shellKind('/bin/zsh')).toBe('posix');
    expect(shellKind(undefined)).toBe('posix');
  });
});
