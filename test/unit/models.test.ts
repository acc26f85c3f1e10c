import { describe, expect, it } from 'vitest';
import { KIRO_MODELS, contextWindow, knownModelNames, modelCatalog, modelKey, resolveModel } from '../../src/kiro/models';

const kiro = (name: string, options?: Parameters<typeof resolveModel>[1]) => resolveModel(name, options)?.kiroModel;

describe('resolveModel: the names clients send', () => {
  it.each([
    ['claude-sonnet-4-5', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-6', 'claude-sonnet-4.6'],
    ['claude-opus-4-5', 'claude-opus-4.5'],
    ['claude-opus-4-5-20251101', 'claude-opus-4.5'],
    ['claude-opus-4-6', 'claude-opus-4.6'],
    ['claude-haiku-4-5', 'claude-haiku-4.5'],
    ['claude-haiku-4-5-20251001', 'claude-haiku-4.5'],
    ['claude-sonnet-4-20250514', 'claude-sonnet-4'],
    ['claude-sonnet-4', 'claude-sonnet-4'],
    ['claude-sonnet-4-0', 'claude-sonnet-4'],
    ['claude-3-7-sonnet-20250219', 'claude-3.7-sonnet'],
    ['claude-3-7-sonnet-latest', 'claude-3.7-sonnet'],
    ['claude-3-5-haiku-20241022', 'auto'],
    ['claude-3-5-haiku-latest', 'auto'],
  ])('%s → %s', (name, expected) => {
    expect(resolveModel(name)).toEqual({ kiroModel: expected, thinking: false, via: 'name' });
  });

  it.each([
    ['claude-sonnet-4.5', 'claude-sonnet-4.5'],
    ['claude-sonnet-4.6', 'claude-sonnet-4.6'],
    ['claude-opus-4.5', 'claude-opus-4.5'],
    ['claude-opus-4.6', 'claude-opus-4.6'],
    ['claude-haiku-4.5', 'claude-haiku-4.5'],
    ['claude-3.7-sonnet', 'claude-3.7-sonnet'],
    ['auto', 'auto'],
    ['deepseek-3.2', 'deepseek-3.2'],
    ['minimax-m2.5', 'minimax-m2.5'],
    ['gpt-5.6-sol', 'gpt-5.6-sol'],
    ['qwen3-coder-next', 'qwen3-coder-next'],
  ])('Kiro id %s passes through', (name, expected) => {
    expect(kiro(name)).toBe(expected);
  });

  it('every Kiro id we list resolves to itself', () => {
    for (const model of KIRO_MODELS) expect(kiro(model.id)).toBe(model.id);
  });

  it.each([
    ['CLAUDE-SONNET-4-5', 'claude-sonnet-4.5'],
    ['Claude-Opus-4.6', 'claude-opus-4.6'],
    ['  claude-sonnet-4-5  ', 'claude-sonnet-4.5'],
    ['claude-sonnet-4.5-20250929', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5-latest', 'claude-sonnet-4.5'],
    ['claude-opus-4-6-20260205', 'claude-opus-4.6'],
    ['claude-haiku-4.5-20991231', 'claude-haiku-4.5'],
    ['claude-4-5-sonnet', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4.5'],
    ['anthropic/claude-sonnet-4.5', 'claude-sonnet-4.5'],
    ['us.anthropic.claude-opus-4-5-20251101-v1:0', 'claude-opus-4.5'],
    ['CLAUDE_SONNET_4_5_20250929_V1_0', 'claude-sonnet-4.5'],
    ['CLAUDE_SONNET_4_20250514_V1_0', 'claude-sonnet-4'],
    ['CLAUDE_3_7_SONNET_20250219_V1_0', 'claude-3.7-sonnet'],
    ['CLAUDE_3_5_HAIKU_20241022_V1_0', 'auto'],
    ['sonnet', 'claude-sonnet-4.5'],
    ['opus', 'claude-opus-4.6'],
    ['haiku', 'claude-haiku-4.5'],
  ])('variant %s → %s', (name, expected) => {
    expect(kiro(name)).toBe(expected);
  });

  it.each([
    ['claude-sonnet-4-5-thinking', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5-20250929-thinking', 'claude-sonnet-4.5'],
    ['claude-opus-4.6-thinking', 'claude-opus-4.6'],
    ['claude-3-7-sonnet-latest-thinking', 'claude-3.7-sonnet'],
    ['CLAUDE-HAIKU-4-5-THINKING', 'claude-haiku-4.5'],
  ])('%s turns thinking on for %s', (name, expected) => {
    expect(resolveModel(name)).toEqual({ kiroModel: expected, thinking: true, via: 'name' });
  });

  it.each(['gpt-4o', 'claude-opus-4-1', 'claude-sonnet-4-7', 'claude-2', 'sonnet-ish', 'claude-sonnet-4-5-extra', '', '   ', 'thinking'])(
    'unknown name %j → undefined (no silent substitution)',
    (name) => {
      expect(resolveModel(name)).toBeUndefined();
    },
  );
});

describe('resolveModel: aliases and available models', () => {
  it('an alias overrides the built-in mapping, case-insensitively', () => {
    const aliases = { 'claude-sonnet-4-5': 'claude-sonnet-4.6', 'GPT-4o': 'claude-opus-4.5' };
    expect(resolveModel('claude-sonnet-4-5', { aliases })).toEqual({ kiroModel: 'claude-sonnet-4.6', thinking: false, via: 'alias' });
    expect(kiro('gpt-4o', { aliases })).toBe('claude-opus-4.5');
    expect(kiro('claude-sonnet-4-5-20250929', { aliases })).toBe('claude-sonnet-4.5');
  });

  it('an alias may name a client model, which is resolved', () => {
    expect(kiro('my-fast', { aliases: { 'my-fast': 'claude-haiku-4-5-20251001' } })).toBe('claude-haiku-4.5');
  });

  it('an alias to an id we do not know is trusted as given', () => {
    expect(kiro('next', { aliases: { next: 'claude-opus-9.9' } })).toBe('claude-opus-9.9');
  });

  it('-thinking works on an alias, and an alias target may carry it', () => {
    const aliases = { big: 'claude-opus-4.6', deep: 'claude-opus-4-6-thinking' };
    expect(resolveModel('big-thinking', { aliases })).toEqual({ kiroModel: 'claude-opus-4.6', thinking: true, via: 'alias' });
    expect(resolveModel('deep', { aliases })).toEqual({ kiroModel: 'claude-opus-4.6', thinking: true, via: 'alias' });
  });

  it('an id the accounts report passes through even if new to us', () => {
    const available = new Set(['claude-opus-4.9']);
    expect(resolveModel('claude-opus-4.9', { available })).toEqual({ kiroModel: 'claude-opus-4.9', thinking: false, via: 'available' });
    expect(resolveModel('Claude-Opus-4.9-thinking', { available })).toEqual({ kiroModel: 'claude-opus-4.9', thinking: true, via: 'available' });
    expect(resolveModel('claude-opus-4.9')).toBeUndefined();
  });
});

describe('modelKey', () => {
  it('reduces every spelling of one model to one key', () => {
    const spellings = [
      'claude-sonnet-4-5',
      'claude-sonnet-4.5',
      'CLAUDE_SONNET_4_5_20250929_V1_0',
      'claude-4-5-sonnet-latest',
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    ];
    expect(new Set(spellings.map((s) => modelKey(s).key))).toEqual(new Set(['sonnet-4-5']));
  });
});

describe('knownModelNames', () => {
  it('lists the client names, Kiro ids and aliases, each once', () => {
    const names = knownModelNames({ aliases: { mine: 'auto' } });
    for (const n of ['claude-sonnet-4-5-20250929', 'claude-opus-4-6', 'claude-sonnet-4.5', 'auto', 'mine']) expect(names).toContain(n);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names.filter((x) => x !== 'mine')) expect(resolveModel(n)).toBeDefined();
  });
});

describe('contextWindow', () => {
  it('is 1M for Sonnet/Opus 4.6 and 200K otherwise', () => {
    expect(contextWindow('claude-sonnet-4.6')).toBe(1_000_000);
    expect(contextWindow('claude-opus-4.6')).toBe(1_000_000);
    expect(contextWindow('claude-sonnet-4.5')).toBe(200_000);
    expect(contextWindow('auto')).toBe(200_000);
    expect(contextWindow('something-new')).toBe(200_000);
  });
});

describe('modelCatalog', () => {
  it('lists resolvable client names with dates, windows and thinking twins', () => {
    const catalog = modelCatalog();
    const ids = catalog.map((e) => e.id);
    expect(ids).toContain('claude-sonnet-4-5-20250929');
    expect(ids).toContain('claude-sonnet-4-5-thinking');
    expect(ids).not.toContain('claude-3-5-haiku-latest-thinking');
    expect(new Set(ids).size).toBe(ids.length);
    for (const entry of catalog) {
      const resolved = resolveModel(entry.id);
      expect(resolved, entry.id).toBeDefined();
      expect(resolved!.kiroModel).toBe(entry.kiroModel);
      expect(resolved!.thinking).toBe(entry.thinking);
      expect(entry.contextWindow).toBe(contextWindow(entry.kiroModel));
      expect(entry.created).toBe(Date.parse(entry.createdAt) / 1000);
    }
    const sonnet = catalog.find((e) => e.id === 'claude-sonnet-4-5-20250929')!;
    expect(sonnet).toMatchObject({ kiroModel: 'claude-sonnet-4.5', displayName: 'Claude Sonnet 4.5', createdAt: '2025-09-29T00:00:00Z', alias: false });
  });

  it('without thinking twins when asked', () => {
    expect(modelCatalog(undefined, { thinkingVariants: false }).some((e) => e.thinking)).toBe(false);
  });

  it('filters by the Kiro ids the accounts can use, and lists available ids no name covers', () => {
    const catalog = modelCatalog(new Set(['claude-sonnet-4.5', 'glm-5']), { thinkingVariants: false });
    expect(catalog.map((e) => e.id)).toEqual(['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5', 'glm-5']);
  });

  it('adds aliases, filtered the same way', () => {
    const aliases = { fast: 'claude-haiku-4-5', big: 'claude-opus-4.6' };
    const all = modelCatalog(undefined, { aliases, thinkingVariants: false });
    expect(all.filter((e) => e.alias)).toEqual([
      expect.objectContaining({ id: 'fast', kiroModel: 'claude-haiku-4.5', alias: true }),
      expect.objectContaining({ id: 'big', kiroModel: 'claude-opus-4.6', alias: true }),
    ]);
    const some = modelCatalog(new Set(['claude-haiku-4.5']), { aliases, thinkingVariants: false });
    expect(some.filter((e) => e.alias).map((e) => e.id)).toEqual(['fast']);
  });
});
