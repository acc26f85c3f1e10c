import { describe, expect, it } from 'vitest';
import { SERVE_V8_FLAGS, tuneHeapForServe } from '../../src/cli/heap-tuning';

describe('tuneHeapForServe', () => {
  const run = (execArgv: string[], nodeOptions = '') => {
    const set: string[] = [];
    const applied = tuneHeapForServe({ execArgv, nodeOptions, set: (flag) => set.push(flag) });
    expect(applied).toEqual(set);
    return set;
  };

  it('sets the serve flags', () => {
    expect(run([])).toEqual(SERVE_V8_FLAGS);
    expect(SERVE_V8_FLAGS).toEqual(['--no-wasm-tier-up', '--no-wasm-dynamic-tiering', '--heap-growing-percent=50']);
  });

  it('leaves alone what the user set, on the command line or in NODE_OPTIONS, in either spelling', () => {
    expect(run(['--heap-growing-percent=20'])).toEqual(['--no-wasm-tier-up', '--no-wasm-dynamic-tiering']);
    expect(run([], '--max-old-space-size=512 --heap_growing_percent=30')).toEqual(['--no-wasm-tier-up', '--no-wasm-dynamic-tiering']);
    expect(run(['--wasm-tier-up'])).toEqual(['--no-wasm-dynamic-tiering', '--heap-growing-percent=50']);
    expect(run([], '--no-wasm-dynamic-tiering')).toEqual(['--no-wasm-tier-up', '--heap-growing-percent=50']);
  });

  it('is not fooled by a flag whose name only starts the same', () => {
    expect(run(['--wasm-tier-up-filter=3'])).toEqual(SERVE_V8_FLAGS);
  });
});
