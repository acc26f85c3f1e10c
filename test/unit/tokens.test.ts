import { getTokenizer } from '@anthropic-ai/tokenizer';
import { describe, expect, it } from 'vitest';
import {
  IMAGE_FALLBACK_TOKENS,
  MESSAGE_OVERHEAD,
  REQUEST_OVERHEAD,
  SYSTEM_BLOCK_OVERHEAD,
  TOOL_PROMPT_AUTO,
  TOOL_PROMPT_FORCED,
  TokenCounter,
  countTextUncached,
  imageSize,
  imageTokens,
  tokenizerLoaded,
} from '../../src/kiro/tokens';
import type { ChatRequest } from '../../src/kiro/types';
import { randomBytes } from 'node:crypto';

const SAMPLES = [
  'Hello, how are you today?',
  '你好，今天天气怎么样？',
  'function add(a: number, b: number): number {\n  return a + b;\n}\n',
  'Ünïcödé ﬁ ligatures and ＦＵＬＬＷＩＤＴＨ letters (NFKC matters)',
  'emoji 🎉🚀 and <EOT> special-looking text <META>',
  '   leading and trailing whitespace\n\n\n\t',
  JSON.stringify({ type: 'object', properties: { path: { type: 'string', description: 'A file path' } }, required: ['path'] }),
];

describe('loading', () => {
  it('builds the tokenizer on the first count, not when the module loads', () => {
    expect(tokenizerLoaded()).toBe(false);
    // Images and framing need no tokenizer.
    expect(new TokenCounter().countRequest({ system: [], messages: [], tools: [] })).toBe(REQUEST_OVERHEAD);
    expect(tokenizerLoaded()).toBe(false);
    expect(countTextUncached('Hello')).toBeGreaterThan(0);
    expect(tokenizerLoaded()).toBe(true);
  });
});

describe('countTextUncached', () => {
  it('matches Anthropic’s own @anthropic-ai/tokenizer package', () => {
    // The package's countTokens, with its (WASM) tokenizer built once instead of per call.
    const reference = getTokenizer();
    const referenceCount = (text: string) => reference.encode(text.normalize('NFKC'), 'all').length;
    for (const text of SAMPLES) expect(countTextUncached(text), text).toBe(referenceCount(text));
    for (let i = 0; i < 20; i++) {
      // Random hex and base64 (long pieces included), and random Latin-1 text.
      const text = `${randomBytes(200).toString('hex')} ${randomBytes(120).toString('base64')} ${randomBytes(300).toString('latin1')}`;
      expect(countTextUncached(text)).toBe(referenceCount(text));
    }
    reference.free();
    expect(countTextUncached('')).toBe(0);
  });
});

describe('TokenCounter', () => {
  it('remembers counts (short strings as keys, long ones by hash)', () => {
    const counter = new TokenCounter();
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(50);
    const first = counter.text(long);
    const stats = counter.cacheStats;
    expect(counter.text(long)).toBe(first);
    expect(counter.text('short one')).toBe(countTextUncached('short one'));
    expect(counter.text('short one')).toBe(countTextUncached('short one'));
    expect(counter.cacheStats.hits).toBe(stats.hits + 2);
    expect(first).toBe(countTextUncached(long));
  });

  it('evicts the least recently used entry beyond its capacity', () => {
    const counter = new TokenCounter({ cacheEntries: 2 });
    counter.text('a');
    counter.text('b');
    counter.text('a'); // a is now the most recent
    counter.text('c'); // evicts b
    const before = counter.cacheStats;
    counter.text('a');
    counter.text('b');
    expect(counter.cacheStats.hits).toBe(before.hits + 1);
    expect(counter.cacheStats.misses).toBe(before.misses + 1);
    expect(counter.cacheStats.size).toBe(2);
  });

  const request = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
    api: 'anthropic',
    model: 'm',
    system: [],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello, how are you today?' }] }],
    tools: [],
    stopSequences: [],
    stream: false,
    ...extra,
  });

  it('adds documented overheads for messages, system blocks and tools', () => {
    const counter = new TokenCounter();
    const text = countTextUncached('Hello, how are you today?');
    expect(counter.countRequest(request())).toBe(REQUEST_OVERHEAD + MESSAGE_OVERHEAD + text);
    expect(counter.countRequest(request({ system: ['Be brief.'] }))).toBe(
      REQUEST_OVERHEAD + MESSAGE_OVERHEAD + text + SYSTEM_BLOCK_OVERHEAD + countTextUncached('Be brief.'),
    );
    const tool = { name: 'read', description: 'Read a file', inputSchema: { type: 'object', properties: { p: { type: 'string' } } } };
    const toolJson = countTextUncached(JSON.stringify({ name: tool.name, description: tool.description, input_schema: tool.inputSchema }));
    expect(counter.countRequest(request({ tools: [tool] }))).toBe(REQUEST_OVERHEAD + MESSAGE_OVERHEAD + text + TOOL_PROMPT_AUTO + toolJson);
    expect(counter.countRequest(request({ tools: [tool], toolChoice: { type: 'any' } }))).toBe(
      REQUEST_OVERHEAD + MESSAGE_OVERHEAD + text + TOOL_PROMPT_FORCED + toolJson,
    );
  });

  it('counts tool uses, tool results and thinking', () => {
    const counter = new TokenCounter();
    const withHistory = request({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'list' }] },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'I will list the files.' },
            { type: 'tool_use', id: 't1', name: 'ls', input: { path: '.' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', toolUseId: 't1', content: [{ type: 'text', text: 'a.ts b.ts' }], isError: false }] },
      ],
    });
    const plain = counter.countRequest(request({ messages: [{ role: 'user', content: [{ type: 'text', text: 'list' }] }] }));
    const total = counter.countRequest(withHistory);
    const expectedExtra =
      2 * MESSAGE_OVERHEAD +
      countTextUncached('I will list the files.') +
      10 +
      countTextUncached('ls') +
      countTextUncached('{"path":"."}') +
      10 +
      countTextUncached('a.ts b.ts');
    expect(total - plain).toBe(expectedExtra);
  });
});

describe('images', () => {
  const png = (w: number, h: number) => {
    const b = Buffer.alloc(33);
    b.writeUInt32BE(0x89504e47, 0);
    b.writeUInt32BE(0x0d0a1a0a, 4);
    b.writeUInt32BE(13, 8);
    b.write('IHDR', 12, 'latin1');
    b.writeUInt32BE(w, 16);
    b.writeUInt32BE(h, 20);
    return b.toString('base64');
  };
  const gif = (w: number, h: number) => {
    const b = Buffer.alloc(13);
    b.write('GIF89a', 0, 'latin1');
    b.writeUInt16LE(w, 6);
    b.writeUInt16LE(h, 8);
    return b.toString('base64');
  };
  const jpeg = (w: number, h: number) => {
    // SOI, an APP0 segment to skip, then SOF0 with the size.
    const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0]);
    const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 8, h >> 8, h & 255, w >> 8, w & 255, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.alloc(16)]).toString('base64');
  };
  const webp = (w: number, h: number) => {
    const b = Buffer.alloc(30);
    b.write('RIFF', 0, 'latin1');
    b.write('WEBPVP8X', 8, 'latin1');
    b.writeUIntLE(w - 1, 24, 3);
    b.writeUIntLE(h - 1, 27, 3);
    return b.toString('base64');
  };

  it('reads sizes from PNG, GIF, JPEG and WebP headers', () => {
    expect(imageSize(png(640, 480))).toEqual({ width: 640, height: 480 });
    expect(imageSize(gif(32, 16))).toEqual({ width: 32, height: 16 });
    expect(imageSize(jpeg(1024, 768))).toEqual({ width: 1024, height: 768 });
    expect(imageSize(webp(300, 200))).toEqual({ width: 300, height: 200 });
    expect(imageSize('bm90IGFuIGltYWdl')).toBeUndefined();
  });

  it('estimates width × height / 750, scaled like Anthropic scales large images', () => {
    expect(imageTokens({ data: png(1000, 1000) })).toBe(Math.ceil(1_000_000 / 750));
    expect(imageTokens({ data: png(200, 100) })).toBe(Math.ceil(20_000 / 750));
    // 4000×3000 is scaled to a 1568 long edge (1568×1176), then capped at 1.15 MP.
    expect(imageTokens({ data: png(4000, 3000) })).toBe(Math.ceil(1_150_000 / 750));
    expect(imageTokens({ data: 'AAAA' })).toBe(IMAGE_FALLBACK_TOKENS);
  });
});

describe('countRequestAsync', () => {
  it('counts the same as countRequest and lets other work run during a long first count', async () => {
    const request: ChatRequest = {
      api: 'anthropic',
      model: 'm',
      system: ['You are a careful assistant. '.repeat(200)],
      messages: Array.from({ length: 8 }, (_, i) => ({
        role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
        content: [{ type: 'text' as const, text: `Message ${i}: ${'lorem ipsum dolor sit amet '.repeat(400)}` }],
      })),
      tools: [],
      stopSequences: [],
      stream: false,
    };
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const counted = await new TokenCounter().countRequestAsync(request, 8 * 1024);
    clearInterval(timer);
    expect(counted).toBe(new TokenCounter().countRequest(request));
    // ~90K characters in 8K steps: the timer got turns while counting.
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('pathological input', () => {
  it('counts long runs of one character class exactly, NFKC first', () => {
    const reference = getTokenizer();
    // One piece each for the tokenizer; "ﬁ" becomes "fi" under NFKC.
    for (const text of ['x'.repeat(5000), `header\n${'='.repeat(3000)}\nfooter`, `a${' '.repeat(3000)}b`, '🎉'.repeat(1000), 'ﬁ'.repeat(2000)]) {
      expect(countTextUncached(text)).toBe(reference.encode(text.normalize('NFKC'), 'all').length);
    }
    reference.free();
  });

  it('counts hundreds of thousands of one character', () => {
    expect(countTextUncached('y'.repeat(600_000))).toBeGreaterThan(100_000);
  });

  it('stays exact for JSON without spaces', () => {
    const reference = getTokenizer();
    const json = JSON.stringify({ a: [1, 2, 3], nested: { key: 'value', other: 'thing' } }).repeat(20);
    expect(countTextUncached(json)).toBe(reference.encode(json.normalize('NFKC'), 'all').length);
    reference.free();
  });
});
