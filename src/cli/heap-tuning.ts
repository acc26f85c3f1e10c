// V8 settings for `serve`, a long-running process of its own (never applied in the VS Code
// extension host, which other extensions share). Both are read by V8 when it uses them, so
// setting them once at start-up takes effect; measured with `npm run bench:bridge`:
// - The upstream client's HTTP parser (undici's llhttp, WebAssembly) stays on V8's baseline
//   compiler. Optimising its large parser function takes ~35 MB for a moment at start-up, ~10 MB
//   of which the allocator keeps; parsing Kiro's small responses does not get measurably slower.
// - The old generation may grow to 1.5 × what was live after the last full collection, instead of
//   up to 4 × in a process that allocates fast: under 50 connections the bridge holds ~25 MB less
//   for the same CPU (each full collection of its ~12 MB of live objects takes a few ms).
// A flag the user passes themselves (on the command line or in NODE_OPTIONS) wins.
import { setFlagsFromString } from 'node:v8';

export const SERVE_V8_FLAGS = ['--no-wasm-tier-up', '--no-wasm-dynamic-tiering', '--heap-growing-percent=50'];

/** The flags of SERVE_V8_FLAGS that were applied (those the user set are left alone). */
export function tuneHeapForServe(options: { execArgv?: readonly string[]; nodeOptions?: string; set?: (flag: string) => void } = {}): string[] {
  const given = `${(options.execArgv ?? process.execArgv).join(' ')} ${options.nodeOptions ?? process.env.NODE_OPTIONS ?? ''}`.replaceAll('_', '-');
  const set = options.set ?? setFlagsFromString;
  const applied: string[] = [];
  for (const flag of SERVE_V8_FLAGS) {
    const name = flag.replace(/^--(no-)?/, '').replace(/=.*$/, '');
    if (new RegExp(`--(no-)?${name}(?=[=\\s]|$)`).test(given)) continue;
    set(flag);
    applied.push(flag);
  }
  return applied;
}
