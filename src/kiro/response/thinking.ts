// Splits Kiro's emulated extended thinking out of the answer text. Kiro has no thinking field:
// when the client asks for thinking, the request carries a `<thinking_mode>` directive and the
// model writes `<thinking>…</thinking>` at the head of its ordinary text stream
// (docs/kiro-protocol.md#thinking).
//
// The rules, chosen to be safe when the model merely *talks about* the tags:
// - Thinking is recognised only at the start of the answer: the first non-whitespace text must be
//   a real `<thinking>` tag. Any other first character switches detection off for the rest of the
//   response, so a tag mentioned later in prose or code is never swallowed. (Peers also look for
//   tags mid-answer; that is how quoted tags in code answers got eaten.)
// - `<thinking>` is not a tag when directly followed by a quote character (`"`, `'`, `` ` ``).
// - `</thinking>` ends the block only when not preceded by a quote character and followed, after
//   optional spaces/tabs, by a line break, or by the end of the text (a tool call or the end of
//   the stream). A `</thinking>` followed by other text on the same line is the model quoting the
//   tag and stays part of the thinking. The line breaks after the real end tag (up to `\n\n`) are
//   dropped, as is one line break right after the opening tag.
// - Only what could still turn into a tag is held back: the tail of the buffer that is a prefix
//   of `</thinking>` (or of `<thinking>` before anything is decided), or a complete end tag whose
//   following line break has not arrived yet. Everything else is released at once, and once
//   thinking is over (or never started) text passes through untouched with no holdback at all.
//
// (Peers treat a long list of punctuation around a tag as "quoted"; that rejects a real end tag
// after a full stop, `done.</thinking>`, so only true quote characters count here.)

export interface SplitPiece {
  kind: 'text' | 'thinking';
  text: string;
}

const OPEN_TAG = '<thinking>';
const CLOSE_TAG = '</thinking>';
const QUOTES = new Set(['"', "'", '`']);

type State =
  /** Nothing but whitespace (and perhaps the start of `<thinking>`) seen so far. */
  | 'start'
  /** Inside the thinking block. */
  | 'thinking'
  /** Right after the real end tag: dropping the line breaks that separate it from the answer. */
  | 'after-thinking'
  /** Plain text for the rest of the response. */
  | 'text';

const isWhitespace = (s: string) => /^\s*$/.test(s);

/** Length of the longest suffix of `buffer` that is a proper prefix of `tag` (0 if none). */
function partialTagSuffix(buffer: string, tag: string): number {
  const from = Math.max(0, buffer.length - tag.length + 1);
  for (let i = buffer.indexOf('<', from); i !== -1; i = buffer.indexOf('<', i + 1)) {
    if (tag.startsWith(buffer.slice(i))) return buffer.length - i;
  }
  return 0;
}

export class ThinkingSplitter {
  private state: State = 'start';
  /** Text received but not yet released (only what could still become or complete a tag). */
  private held = '';
  /** The last character released as thinking (the "before" of a tag at the head of `held`). */
  private lastThinkingChar = '';

  push(text: string): SplitPiece[] {
    if (!text) return [];
    if (this.state === 'text') return [{ kind: 'text', text }];
    this.held += text;
    const out: SplitPiece[] = [];
    this.advance(out);
    return out;
  }

  /**
   * The text run ended (a tool call starts, or the stream is over): nothing more can complete a
   * tag, so release everything held. Detection stays off afterwards (thinking only at the start).
   */
  flush(): SplitPiece[] {
    const out: SplitPiece[] = [];
    const held = this.held;
    this.held = '';
    switch (this.state) {
      case 'start':
        if (held) out.push({ kind: 'text', text: held });
        break;
      case 'thinking': {
        // A complete end tag with only whitespace after it is real at the end of the run.
        const rest = held.startsWith(CLOSE_TAG) ? held.slice(CLOSE_TAG.length) : undefined;
        if (!(rest !== undefined && isWhitespace(rest) && !QUOTES.has(this.lastThinkingChar)) && held) {
          this.emitThinking(out, held);
        }
        break;
      }
      case 'after-thinking':
      case 'text':
        break;
    }
    this.state = 'text';
    return out;
  }

  private advance(out: SplitPiece[]): void {
    if (this.state === 'start') this.decideStart();
    if (this.state === 'thinking') this.scanThinking(out);
    if (this.state === 'after-thinking') this.dropSeparator();
    if (this.state === 'text' && this.held) {
      out.push({ kind: 'text', text: this.held });
      this.held = '';
    }
  }

  private decideStart(): void {
    const body = this.held.trimStart();
    if (body.length <= OPEN_TAG.length) {
      // Still undecided while all we have is whitespace and a prefix of the tag (or the whole tag,
      // whose next character decides whether it is quoted).
      if (OPEN_TAG.startsWith(body)) return;
    } else if (body.startsWith(OPEN_TAG) && !QUOTES.has(body.charAt(OPEN_TAG.length))) {
      const rest = body.slice(OPEN_TAG.length);
      if (rest === '\r') return; // its `\n` is on the way: both are dropped together
      this.state = 'thinking';
      this.held = rest.replace(/^\r?\n/, '');
      return;
    }
    this.state = 'text';
  }

  private scanThinking(out: SplitPiece[]): void {
    const buffer = this.held;
    let from = 0;
    for (;;) {
      const at = buffer.indexOf(CLOSE_TAG, from);
      if (at === -1) break;
      const before = at > 0 ? buffer.charAt(at - 1) : this.lastThinkingChar;
      if (QUOTES.has(before)) {
        from = at + 1;
        continue;
      }
      const after = buffer.slice(at + CLOSE_TAG.length);
      const next = after.replace(/^[ \t]+/, '').charAt(0);
      if (next === '') {
        // Cannot tell yet whether a line break follows: hold from the tag on.
        this.emitThinking(out, buffer.slice(0, at));
        this.held = buffer.slice(at);
        return;
      }
      if (next === '\n' || next === '\r') {
        this.emitThinking(out, buffer.slice(0, at));
        this.state = 'after-thinking';
        this.held = after;
        return;
      }
      from = at + 1;
    }
    const keep = partialTagSuffix(buffer, CLOSE_TAG);
    this.emitThinking(out, buffer.slice(0, buffer.length - keep));
    this.held = buffer.slice(buffer.length - keep);
  }

  /** Drops spaces/tabs and up to two line breaks after the end tag, then it is plain text. */
  private dropSeparator(): void {
    // Everything so far is separator with room for more (fewer than two breaks, perhaps a lone
    // `\r` whose `\n` is on its way): wait.
    if (/^[ \t]*(?:\r?\n[ \t]*)?\r?$/.test(this.held)) return;
    const separator = /^[ \t]*(?:\r?\n[ \t]*){0,2}/.exec(this.held)?.[0] ?? '';
    // Trailing spaces after the last consumed break belong to the answer (indentation).
    const consumed = separator.replace(/[ \t]+$/, '');
    this.held = this.held.slice(consumed.length);
    this.state = 'text';
  }

  private emitThinking(out: SplitPiece[], text: string): void {
    if (!text) return;
    out.push({ kind: 'thinking', text });
    this.lastThinkingChar = text.charAt(text.length - 1);
  }
}
