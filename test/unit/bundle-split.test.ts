// Activation stays cheap only while dist/extension.js leaves the heavy libraries to dist/heavy.js
// (loaded on first use). One stray static import pulls them back in; this keeps it from happening
// unnoticed.
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';

async function bundledInputs(entry: string): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    outfile: 'out.js',
    external: ['vscode'],
    define: { 'process.env.KIRO_BRIDGE_BUILD': '"production"' },
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

const HEAVY = ['node_modules/undici/', 'node_modules/express/', 'node_modules/@anthropic-ai/tokenizer/', 'node_modules/js-tiktoken/'];

describe('extension bundle split', () => {
  it('keeps express, undici and the tokenizer out of extension.js', async () => {
    const inputs = await bundledInputs('src/extension.ts');
    expect(inputs.some((f) => f.startsWith('src/views/container'))).toBe(true);
    for (const heavy of HEAVY) expect(inputs.filter((f) => f.includes(heavy)), heavy).toEqual([]);
  });

  it('has them in heavy.js', async () => {
    const inputs = await bundledInputs('src/views/heavy-modules.ts');
    for (const heavy of HEAVY) expect(inputs.some((f) => f.includes(heavy)), heavy).toBe(true);
  });
});
