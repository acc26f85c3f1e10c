import { describe, expect, it } from 'vitest';
import { ThinkingSplitter, type SplitPiece } from '../../src/kiro/response/thinking';
import { randomInt, seededRandom, testSeed } from '../support/random';

/** Feeds `chunks` then flushes; returns the merged thinking and text. */
function split(chunks: string[]): { thinking: string; text: string; pieces: SplitPiece[] } {
  const splitter = new ThinkingSplitter();
  const pieces: SplitPiece[] = [];
  for (const chunk of chunks) pieces.push(...splitter.push(chunk));
  pieces.push(...splitter.flush());
  return {
    thinking: pieces
      .filter((p) => p.kind === 'thinking')
      .map((p) => p.text)
      .join(''),
    text: pieces
      .filter((p) => p.kind === 'text')
      .map((p) => p.text)
      .join(''),
    pieces,
  };
}

const whole = (s: string) => split([s]);
const charByChar = (s: string) => split([...s]);

function randomChunks(s: string, rand: () => number): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < s.length;) {
    const n = randomInt(rand, 1, 6);
    chunks.push(s.slice(i, i + n));
    i += n;
  }
  return chunks;
}

describe('ThinkingSplitter: what counts as thinking', () => {
  const cases: [name: string, input: string, thinking: string, text: string][] = [
    ['a thinking block then the answer', '<thinking>\nplan it</thinking>\n\nThe answer.', 'plan it', 'The answer.'],
    ['leading whitespace before the tag is dropped', '\n \n<thinking>x</thinking>\n\nA', 'x', 'A'],
    ['a single line break after the end tag', '<thinking>x</thinking>\nA', 'x', 'A'],
    ['CRLF line breaks', '<thinking>\r\nx</thinking>\r\n\r\nA', 'x', 'A'],
    ['only two line breaks are separator', '<thinking>x</thinking>\n\n\nA', 'x', '\nA'],
    ['indentation of the answer survives', '<thinking>x</thinking>\n\n    code()', 'x', '    code()'],
    ['spaces before the line break', '<thinking>x</thinking>  \n\nA', 'x', 'A'],
    ['an end tag right after a full stop is real', '<thinking>Done.</thinking>\n\nA', 'Done.', 'A'],
    ['a back-quoted end tag stays thinking', '<thinking>use `</thinking>` to close</thinking>\n\nA', 'use `</thinking>` to close', 'A'],
    ['a double-quoted end tag stays thinking', '<thinking>say "</thinking>"\nok</thinking>\n\nA', 'say "</thinking>"\nok', 'A'],
    ['a single-quoted end tag stays thinking', "<thinking>x '</thinking>'\n</thinking>\n\nA", "x '</thinking>'\n", 'A'],
    ['an end tag mentioned mid-line stays thinking', '<thinking>the </thinking> tag ends it</thinking>\n\nA', 'the </thinking> tag ends it', 'A'],
    ['an end tag at the very end of the text', '<thinking>only thoughts</thinking>', 'only thoughts', ''],
    ['an end tag with trailing whitespace at the end', '<thinking>t</thinking>\n', 't', ''],
    ['an empty thinking block', '<thinking></thinking>\n\nA', '', 'A'],
    ['a block never closed is all thinking', '<thinking>still going', 'still going', ''],
    ['no thinking: text untouched', 'Plain answer with <thinking> in it', '', 'Plain answer with <thinking> in it'],
    ['a tag not at the start is text', 'Hi.\n<thinking>x</thinking>\n\nY', '', 'Hi.\n<thinking>x</thinking>\n\nY'],
    ['a quoted opening tag is text', '<thinking>" is how you open it', '', '<thinking>" is how you open it'],
    ['a back-quoted opening tag is text', '`<thinking>` opens a block', '', '`<thinking>` opens a block'],
    ['another tag name is text', '<thinkingfoo>x', '', '<thinkingfoo>x'],
    ['a second thinking block later is text', '<thinking>a</thinking>\n\nB <thinking>c</thinking>\n\nD', 'a', 'B <thinking>c</thinking>\n\nD'],
    ['whitespace-only answer is passed on', '  \n', '', '  \n'],
    ['a lone partial tag is passed on', '<thin', '', '<thin'],
    ['a lone opening tag is passed on', '<thinking>', '', '<thinking>'],
    ['a partial end tag at the end stays thinking', '<thinking>abc</think', 'abc</think', ''],
    ['non-ASCII thinking and answer', '<thinking>思考 🤔</thinking>\n\n回答 ✓', '思考 🤔', '回答 ✓'],
  ];

  for (const [name, input, thinking, text] of cases) {
    it(name, () => {
      expect(whole(input)).toMatchObject({ thinking, text });
      expect(charByChar(input)).toMatchObject({ thinking, text });
    });
  }

  it('gives the same result however the text is fragmented', () => {
    const seed = testSeed();
    const rand = seededRandom(seed);
    for (const [, input, thinking, text] of cases) {
      for (let round = 0; round < 20; round++) {
        const chunks = randomChunks(input, rand);
        expect(split(chunks), `seed ${seed}, chunks ${JSON.stringify(chunks)}`).toMatchObject({ thinking, text });
      }
    }
  });

  it('never emits empty pieces', () => {
    for (const [, input] of cases) {
      for (const piece of charByChar(input).pieces) expect(piece.text).not.toBe('');
    }
  });
});

describe('ThinkingSplitter: holds back only what could become a tag', () => {
  it('releases plain text the moment it arrives', () => {
    const splitter = new ThinkingSplitter();
    expect(splitter.push('Hello')).toEqual([{ kind: 'text', text: 'Hello' }]);
    expect(splitter.push(' <b>')).toEqual([{ kind: 'text', text: ' <b>' }]);
    expect(splitter.push('<thinking>')).toEqual([{ kind: 'text', text: '<thinking>' }]);
  });

  it('decides at the first character that cannot start the tag', () => {
    const splitter = new ThinkingSplitter();
    expect(splitter.push('  ')).toEqual([]);
    expect(splitter.push('<')).toEqual([]);
    expect(splitter.push('d')).toEqual([{ kind: 'text', text: '  <d' }]);
    expect(splitter.push('iv>')).toEqual([{ kind: 'text', text: 'iv>' }]);
  });

  it('waits for one character after the opening tag, then streams thinking', () => {
    const splitter = new ThinkingSplitter();
    expect(splitter.push('<thinking>')).toEqual([]);
    expect(splitter.push('I')).toEqual([{ kind: 'thinking', text: 'I' }]);
    expect(splitter.push(' think')).toEqual([{ kind: 'thinking', text: ' think' }]);
  });

  it('inside thinking holds only a possible end-tag prefix, and releases it when it is not one', () => {
    const splitter = new ThinkingSplitter();
    splitter.push('<thinking>x');
    expect(splitter.push(' a <')).toEqual([{ kind: 'thinking', text: ' a ' }]);
    expect(splitter.push('b')).toEqual([{ kind: 'thinking', text: '<b' }]);
    expect(splitter.push(' </thi')).toEqual([{ kind: 'thinking', text: ' ' }]);
    expect(splitter.push('s')).toEqual([{ kind: 'thinking', text: '</this' }]);
  });

  it('holds a complete end tag until the next character says whether it is real', () => {
    const splitter = new ThinkingSplitter();
    splitter.push('<thinking>x');
    expect(splitter.push('</thinking>')).toEqual([]);
    expect(splitter.push(' ')).toEqual([]);
    // same-line text: it was a mention, and all of it is thinking
    expect(splitter.push('tags')).toEqual([{ kind: 'thinking', text: '</thinking> tags' }]);
    expect(splitter.push('</thinking>')).toEqual([]);
    expect(splitter.push('\n')).toEqual([]);
    expect(splitter.push('\nAnswer')).toEqual([{ kind: 'text', text: 'Answer' }]);
    // once thinking is over, nothing is held back any more
    expect(splitter.push('</thinking>')).toEqual([{ kind: 'text', text: '</thinking>' }]);
  });

  it('releases the answer after a single line break as soon as non-blank text follows', () => {
    const splitter = new ThinkingSplitter();
    splitter.push('<thinking>x</thinking>\n');
    expect(splitter.push('A')).toEqual([{ kind: 'text', text: 'A' }]);
  });

  it('flush at a tool boundary closes a pending end tag and ends detection', () => {
    const splitter = new ThinkingSplitter();
    expect(splitter.push('<thinking>plan</thinking>')).toEqual([{ kind: 'thinking', text: 'plan' }]);
    expect(splitter.flush()).toEqual([]);
    expect(splitter.push('<thinking>after a tool')).toEqual([{ kind: 'text', text: '<thinking>after a tool' }]);
  });

  it('flush releases a held partial end tag as thinking', () => {
    const splitter = new ThinkingSplitter();
    splitter.push('<thinking>abc </thin');
    expect(splitter.flush()).toEqual([{ kind: 'thinking', text: '</thin' }]);
  });
});
