// Finding the JSON in a model's answer. Asked for JSON without constrained decoding, models still
// wrap it in a Markdown fence or put a sentence before or after it; the value itself is usually
// intact. This module lists what the answer could mean, most likely first; the caller keeps the
// first candidate that matches the schema.

/** A JSON value found in an answer, with the text it was parsed from. */
export interface JsonCandidate {
  value: unknown;
  /** The JSON exactly as the model wrote it (trimmed). */
  text: string;
  /** The whole answer, a fenced code block, or a bracketed span inside prose. */
  from: 'whole' | 'fence' | 'prose';
}

export interface Extraction {
  candidates: JsonCandidate[];
  /** When nothing parsed: why the most plausible piece is not JSON (for the retry's message). */
  parseError?: string;
}

/** Enough for any real answer; bounds the work on pathological text full of brackets. */
const MAX_CANDIDATES = 16;
const MAX_SPAN_ATTEMPTS = 64;
/** A fence's opening line (three backticks and an optional language); FENCE is a whole block. */
const FENCE_OPENING = /```[^\n`]*\r?\n/;
const FENCE = new RegExp(`${FENCE_OPENING.source}([\\s\\S]*?)\`\`\``, 'g');

type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

function parse(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The index just past the bracket that closes the one at `start` (`{` or `[`), skipping brackets
 * inside strings; -1 when the brackets do not balance before the text ends.
 */
export function closingIndex(text: string, start: number): number {
  const expected: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') expected.push('}');
    else if (c === '[') expected.push(']');
    else if (c === '}' || c === ']') {
      if (expected.pop() !== c) return -1;
      if (expected.length === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * The JSON values `answer` may be, most likely first: the whole answer; else the content of each
 * fenced code block; else each outermost `{…}` or `[…]` in the text that parses (a span that
 * does not parse is searched inside). Duplicates are dropped.
 */
export function extractJson(answer: string): Extraction {
  const whole = answer.trim();
  if (whole === '') return { candidates: [], parseError: 'the answer is empty' };
  const first = parse(whole);
  if (first.ok) return { candidates: [{ value: first.value, text: whole, from: 'whole' }] };

  const candidates: JsonCandidate[] = [];
  const seen = new Set<string>();
  let parseError: string | undefined;
  /** Takes `text` if it parses (a text seen before did, and is not parsed again); whether it parses. */
  const add = (text: string, from: JsonCandidate['from']): boolean => {
    if (seen.has(text)) return true;
    const parsed = parse(text);
    if (!parsed.ok) {
      parseError ??= `${from === 'fence' ? 'the fenced code block' : 'the bracketed text'} is not valid JSON (${parsed.error})`;
      return false;
    }
    if (candidates.length >= MAX_CANDIDATES) return true;
    seen.add(text);
    candidates.push({ value: parsed.value, text, from });
    return true;
  };

  for (const match of whole.matchAll(FENCE)) {
    const text = match[1]!.trim();
    if (text) add(text, 'fence');
  }

  let attempts = 0;
  for (let i = 0; i < whole.length && attempts < MAX_SPAN_ATTEMPTS && candidates.length < MAX_CANDIDATES; i++) {
    const c = whole[i];
    if (c !== '{' && c !== '[') continue;
    attempts++;
    const end = closingIndex(whole, i);
    if (end === -1) continue;
    // Outermost only: what a parsed span contains is part of it, not another answer.
    if (add(whole.slice(i, end), 'prose')) i = end - 1;
  }

  if (candidates.length > 0) return { candidates };
  if (parseError === undefined) {
    parseError = /[{[]/.test(whole)
      ? `the answer is not valid JSON (${first.error}), and no complete JSON object or array was found in it`
      : 'the answer contains no JSON object or array';
  }
  return { candidates, parseError };
}

/**
 * The JSON part of an answer cut short (no complete value to find): from the first fenced block's
 * content, or else from the first `{` or `[`, to the end; the whole answer when there is neither.
 */
export function truncatedJson(answer: string): string {
  const fence = FENCE_OPENING.exec(answer);
  if (fence) return answer.slice(fence.index + fence[0].length).replace(/`{1,3}\s*$/, '');
  const start = answer.search(/[{[]/);
  return start === -1 ? answer.trim() : answer.slice(start);
}
