// How the CLI writes for a person: colour and symbols only where a terminal shows them, plain
// ASCII text everywhere else (pipes, files, CI logs), and a spinner or one progress line for
// anything that waits on the network. Node built-ins only.
//
// Colour rules (https://no-color.org and Node's own convention): FORCE_COLOR (not "0") turns
// colour on even through a pipe; otherwise NO_COLOR (any non-empty value), TERM=dumb or a stream
// that is not a TTY turns it off. The SGR codes are written here rather than through
// util.styleText, whose own NO_COLOR/TTY checks differ between Node 20 minor versions.

export interface OutputStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

const SGR = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

export type Tone = keyof typeof SGR;

function set(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name];
  return value !== undefined && value !== '';
}

export function colorEnabled(stream: Pick<OutputStream, 'isTTY'>, env: NodeJS.ProcessEnv): boolean {
  if (set(env, 'FORCE_COLOR')) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (set(env, 'NO_COLOR') || env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** ✓, ✗ and the spinner only on a terminal that was not asked for plain output. */
export function unicodeEnabled(stream: Pick<OutputStream, 'isTTY'>, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !set(env, 'NO_COLOR') && env.TERM !== 'dumb';
}

export class Style {
  constructor(
    readonly color: boolean,
    readonly unicode: boolean,
  ) {}

  static for(stream: Pick<OutputStream, 'isTTY'>, env: NodeJS.ProcessEnv): Style {
    return new Style(colorEnabled(stream, env), unicodeEnabled(stream, env));
  }

  static readonly plain = new Style(false, false);

  paint(tone: Tone, text: string): string {
    if (!this.color || text === '') return text;
    const [on, off] = SGR[tone];
    return `\u001b[${on}m${text}\u001b[${off}m`;
  }

  bold(text: string): string {
    return this.paint('bold', text);
  }

  dim(text: string): string {
    return this.paint('dim', text);
  }

  /** The mark before a check's result. */
  mark(status: 'pass' | 'fail' | 'warn' | 'skip'): string {
    switch (status) {
      case 'pass':
        return this.paint('green', this.unicode ? '✓' : '[ok]');
      case 'fail':
        return this.paint('red', this.unicode ? '✗' : '[FAIL]');
      case 'warn':
        return this.paint('yellow', this.unicode ? '!' : '[warn]');
      case 'skip':
        return this.paint('dim', this.unicode ? '–' : '[skip]');
    }
  }

  /** An HTTP status in the colour of its class. */
  status(code: number | undefined): string {
    const text = String(code ?? '-');
    if (code === undefined) return text;
    return this.paint(code >= 500 ? 'red' : code >= 400 ? 'yellow' : 'green', text);
  }
}

/** Removes SGR colour codes (tests, width calculations). */
export function stripStyle(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[\d+m/g, '');
}

export interface Progress {
  /** Changes the text the spinner shows (a terminal only; elsewhere ignored). */
  update(text: string): void;
  /** Stops; `line` (if any) is printed as the outcome. */
  done(line?: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A spinner on a terminal (redrawn in place, cleared when done); elsewhere one plain
 * "text…" line when the work starts, so a log still shows what the wait was for.
 */
export function startProgress(stream: OutputStream, env: NodeJS.ProcessEnv, text: string): Progress {
  const animate = stream.isTTY === true && env.TERM !== 'dumb' && !set(env, 'CI');
  if (!animate) {
    stream.write(`${text}…\n`);
    return {
      update() {},
      done(line) {
        if (line) stream.write(`${line}\n`);
      },
    };
  }
  const style = Style.for(stream, env);
  const symbols = unicodeEnabled(stream, env) ? FRAMES : ['-', '\\', '|', '/'];
  let current = text;
  let frame = 0;
  const draw = () => stream.write(`\r\u001b[2K${style.paint('cyan', symbols[frame++ % symbols.length]!)} ${current}`);
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  let finished = false;
  return {
    update(next) {
      current = next;
    },
    done(line) {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      stream.write('\r\u001b[2K');
      if (line) stream.write(`${line}\n`);
    },
  };
}

/** Pads to `width` visible characters (colour codes do not count). */
export function padVisible(text: string, width: number): string {
  const visible = stripStyle(text).length;
  return visible >= width ? text : text + ' '.repeat(width - visible);
}
