// The counting-only BPE encoder against Anthropic's own @anthropic-ai/tokenizer (tiktoken's Rust
// core in WASM, the reference): every count must be the same, on text of every kind and on
// random text, long pieces included (those take the heap merge rather than the scan).
import { getTokenizer } from '@anthropic-ai/tokenizer';
import claude from '@anthropic-ai/tokenizer/claude.json';
import { afterAll, describe, expect, it } from 'vitest';
import { BpeCounter, MAX_EXACT_PIECE_BYTES, PRE_SPLIT_PATTERN, RankTable } from '../../src/kiro/bpe';
import { randomInt, seededRandom, testSeed } from '../support/random';

const counter = new BpeCounter(claude);
const reference = getTokenizer();
afterAll(() => reference.free());
const referenceCount = (text: string) => reference.encode(text, 'all').length;

/** Characters of every class the pre-split tells apart, several scripts and byte lengths. */
const ALPHABET = [
  ...'abcxyzABCXYZ0123456789',
  ...' \t\n\r',
  '\u00a0',
  '\u0085',
  '\u2028',
  '\u3000',
  '\ufeff',
  '\u200b',
  ...'.,;:!?\'"-_/\\()[]{}<>@#$%^&*+=|~`',
  ...'éüßçñøåÆŒ',
  ...'中文字日本語の한국어',
  ...'фывапролджэ',
  ...'٠١٢٣',
  ...'½²³',
  '🎉',
  '👍🏽',
  '🚀',
  '𝔘',
  '🇫🇷',
  '\u0301',
  '\u200d',
  '\ud800',
  '\udfff',
  "'s",
  "'re",
  "'ll",
  "'d",
  '<EOT>',
  '<META>',
  '<META_START>',
  '<META_END>',
  '<SOS>',
];

function randomText(rand: () => number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) {
    const piece = ALPHABET[randomInt(rand, 0, ALPHABET.length - 1)]!;
    // Now and then a run of one character: long pieces for the heap merge and the bounded split.
    text += rand() < 0.03 ? piece.repeat(randomInt(rand, 20, 160)) : piece;
  }
  return text;
}

describe('BpeCounter', () => {
  it('uses the pattern claude.json declares', () => {
    expect(claude.pat_str).toBe(PRE_SPLIT_PATTERN);
  });

  it('counts like the reference on text of every kind', () => {
    const samples = [
      'Hello, how are you today?',
      '你好，今天天气怎么样？',
      'function add(a: number, b: number): number {\n  return a + b;\n}\n',
      "it's they're we'll I'd you've",
      'special <EOT> tokens <META_START>inside<META_END> text<SOS>',
      // Whitespace the JavaScript `\s` and tiktoken's disagree on.
      ' \u0085| a\ufeffb \ufeff\ufeffc \u0085\u0085x',
      `${' '.repeat(100)}abc`,
      `a${' '.repeat(65)}`,
      `${'\n'.repeat(70)}x`,
      'x'.repeat(300),
      '!'.repeat(200),
      '1234567890'.repeat(30),
      '🎉'.repeat(100),
      'lone \ud800 and \udc00 surrogates',
      JSON.stringify({ type: 'object', properties: { path: { type: 'string', description: 'A file path' } }, required: ['path'] }).repeat(10),
    ];
    for (const text of samples) expect(counter.count(text), JSON.stringify(text).slice(0, 80)).toBe(referenceCount(text));
    expect(counter.count('')).toBe(0);
  });

  it('counts like the reference on random text', () => {
    const seed = testSeed();
    const rand = seededRandom(seed);
    for (let i = 0; i < 400; i++) {
      const text = randomText(rand, randomInt(rand, 1, 300)).normalize('NFKC');
      expect(counter.count(text), `seed ${seed}, text ${JSON.stringify(text).slice(0, 200)}`).toBe(referenceCount(text));
    }
  });

  it('counts long runs exactly (the merge the reference takes seconds for)', () => {
    // One piece each, thousands of bytes long: merged by the heap, and split by the bounded regex
    // plus the hand-made extension.
    for (const text of ['x'.repeat(3000), 'ab'.repeat(1500), '='.repeat(2500), '7'.repeat(2000), ' '.repeat(2000) + 'y', '🎉'.repeat(800), 'é'.repeat(1500)]) {
      expect(counter.count(text), text.slice(0, 10)).toBe(referenceCount(text));
    }
  });

  it('merges a run longer than MAX_EXACT_PIECE_BYTES in slices of that size', () => {
    const slice = counter.count('y'.repeat(MAX_EXACT_PIECE_BYTES));
    const length = 2 * MAX_EXACT_PIECE_BYTES + 12_345;
    expect(counter.count('y'.repeat(length))).toBe(2 * slice + counter.count('y'.repeat(12_345)));
    // Slices never cut a character: a slice of 3-byte characters ends before the one it would split.
    const perSlice = Math.floor(MAX_EXACT_PIECE_BYTES / 3);
    expect(MAX_EXACT_PIECE_BYTES % 3).not.toBe(0);
    expect(counter.count('中'.repeat(perSlice + 5))).toBe(counter.count('中'.repeat(perSlice)) + counter.count('中'.repeat(5)));
  });
});

describe('RankTable', () => {
  it('holds the whole vocabulary in a few typed arrays', () => {
    const table = counter.table;
    expect(table.size).toBe(claude.bpe_ranks.trim().split(' ').length - 2);
    expect(table.byteSize).toBeLessThan(2 * 1024 * 1024);
    expect(table.rank(Buffer.from('Hello'), 0, 5)).toBe(reference.encode('Hello', 'all')[0]);
    expect(table.rank(Buffer.from(' the'), 0, 4)).toBe(reference.encode(' the', 'all')[0]);
    expect(table.rank(Buffer.from('qqqqqqqqqqqqqqqq'), 0, 16)).toBe(0x7fffffff);
  });

  it('parses tiktoken’s rank list: ranks count up from the first, a repeated token keeps its last rank', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const table = RankTable.parse(`! 10 ${b64('a')} ${b64('b')} ${b64('ab')}\n! 20 ${b64('c')} ${b64('a')}\n`);
    const rank = (text: string) => table.rank(Buffer.from(text), 0, text.length);
    expect([rank('a'), rank('b'), rank('ab'), rank('c'), rank('abc')]).toEqual([21, 11, 12, 20, 0x7fffffff]);
    expect(table.size).toBe(4);
    expect(table.maxTokenBytes).toBe(2);
    expect(() => RankTable.parse('! 0 not*base64')).toThrow(/invalid base64/);
  });

  it('round-trips through the compact form the bundles carry', () => {
    const compact = counter.table.toCompact();
    expect(compact.firstRank).toBe(5);
    expect(compact.ranks).toBeUndefined();
    const rebuilt = RankTable.fromCompact(compact);
    expect([rebuilt.size, rebuilt.byteSize, rebuilt.maxTokenBytes]).toEqual([counter.table.size, counter.table.byteSize, counter.table.maxTokenBytes]);
    // Every token of the vocabulary has the same rank in both.
    const tokens = claude.bpe_ranks.trim().split(' ').slice(2);
    for (const token of tokens) {
      const bytes = Buffer.from(token, 'base64');
      expect(rebuilt.rank(bytes, 0, bytes.length), token).toBe(counter.table.rank(bytes, 0, bytes.length));
    }
    const fromCompact = new BpeCounter({ pat_str: claude.pat_str, special_tokens: claude.special_tokens, compact });
    for (const text of ['Hello, world!', 'x'.repeat(500), '<EOT> 你好 🎉']) expect(fromCompact.count(text)).toBe(referenceCount(text));
  });

  it('keeps ranks that do not count up, and refuses an inconsistent compact form', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const table = RankTable.parse(`! 10 ${b64('a')} ${b64('b')}\n! 40 ${b64('ab')}\n`);
    const compact = table.toCompact();
    expect(compact.firstRank).toBeUndefined();
    const rebuilt = RankTable.fromCompact(compact);
    expect(['a', 'b', 'ab'].map((t) => rebuilt.rank(Buffer.from(t), 0, t.length))).toEqual([10, 11, 40]);
    expect(() => RankTable.fromCompact({ ...compact, bytes: b64('abc') })).toThrow(/do not add up/);
    const twice = RankTable.parse(`! 0 ${b64('a')} ${b64('b')}`).toCompact();
    expect(() => RankTable.fromCompact({ ...twice, bytes: b64('aa') })).toThrow(/lists a token twice/);
  });

  it('refuses a pre-split pattern it does not implement', () => {
    expect(() => new BpeCounter({ ...claude, pat_str: '\\S+|\\s+' })).toThrow(/unsupported pre-split pattern/);
  });
});
