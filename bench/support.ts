// What the benchmarks share: a child process's memory from /proc, waiting for it to settle, and
// waiting for a line a child prints.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A process's resident memory now and at its peak, in MB (Linux). */
export function rssMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/**
 * A process's RSS once it has settled: read every 250 ms until four readings in a row are within
 * 0.5 MB of each other (a second without change), or 6 s have passed.
 */
export async function settledRss(pid: number): Promise<{ rss: number; peak: number }> {
  const readings: number[] = [];
  for (let waited = 0; ; waited += 250) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = rssMb(pid);
    readings.push(now.rss);
    const last = readings.slice(-4);
    if ((last.length === 4 && Math.max(...last) - Math.min(...last) < 0.5) || waited >= 6000) return now;
  }
}

export interface Child {
  process: ChildProcess;
  /** The words of the line's first group. */
  words: string[];
}

/** Everything a child printed so far (waits may start after the line they look for arrived). */
const outputs = new WeakMap<ChildProcess, { text: string }>();

/** Resolves once the child's stdout matches `pattern`; rejects if it exits first (`what` names it). */
export function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<Child> {
  let output = outputs.get(child);
  if (!output) {
    const collected = { text: '' };
    child.stdout!.on('data', (chunk: Buffer) => (collected.text += chunk.toString()));
    outputs.set(child, (output = collected));
  }
  const seen = output;
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = pattern.exec(seen.text);
      if (!line) return;
      child.stdout!.off('data', check);
      child.off('exit', onExit);
      resolve({ process: child, words: (line[1] ?? '').split(' ') });
    };
    const onExit = (code: number | null) => reject(new Error(`${what} exited with ${code}:\n${seen.text}`));
    child.stdout!.on('data', check);
    child.on('exit', onExit);
    check();
  });
}
