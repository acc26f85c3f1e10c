// Formatting for cells and details: compact, locale-independent where columns must line up.

export function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `1 request`, `2 requests`. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `14:03:27` in local time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** `2026-11-27 14:03:27.412` in local time. */
export function fullTime(ms: number): string {
  const d = new Date(ms);
  const millis = String(d.getMilliseconds()).padStart(3, '0');
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${clockTime(ms)}.${millis}`;
}

/** `840 ms`, `3.2 s`, `2 m 05 s`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} m ${pad2(s % 60)} s`;
}

/** `950`, `12.3k`, `1.2M`. */
export function count(n: number | undefined): string {
  if (n === undefined) return '';
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** `87%` (a share from 0 to 1); '' when unknown. */
export function percent(share: number | undefined): string {
  if (share === undefined || !Number.isFinite(share)) return '';
  return `${Math.round(share * 100)}%`;
}

/** Credits are fractional (0.03, 3.5). */
export function credits(n: number | undefined): string {
  if (n === undefined) return '';
  if (n === 0) return '0';
  if (n < 0.01) return n.toFixed(3);
  if (n < 100) return String(Math.round(n * 100) / 100);
  if (n < 1000) return String(Math.round(n * 10) / 10);
  return String(Math.round(n));
}

/** `Dec 1` (or `Dec 1, 2027` when not this year). */
export function shortDate(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const base = `${months[d.getMonth()]} ${d.getDate()}`;
  return d.getFullYear() === new Date(now).getFullYear() ? base : `${base}, ${d.getFullYear()}`;
}

/** Pretty JSON for the details pane; strings stay strings. */
export function prettyJson(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}
