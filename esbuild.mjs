// Bundles the extension host entry, the headless CLI and the webview front end.
// `--production` minifies and drops source maps; `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { nodeBuildOptions } from './build/esbuild-plugins.mjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const nodeDefaults = nodeBuildOptions({ production });

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  { ...nodeDefaults, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // The extension's heavy half (express, tokenizer, undici, accounts), loaded on first use so that
  // activation parses only the small extension.js (src/views/load-heavy.ts).
  { ...nodeDefaults, entryPoints: ['src/views/heavy-modules.ts'], outfile: 'dist/heavy.js', external: ['vscode'] },
  {
    ...nodeDefaults,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  },
  // Traffic webview front end: script + CSS (uPlot's included), and the codicons stylesheet and
  // font that vscode-icon links by id. Everything lands in media/dist; nothing loads from a CDN.
  {
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['chrome120'],
    minify: production,
    // Inline in development so no stale .map file is left in media/dist for the VSIX to ship.
    sourcemap: production ? false : 'inline',
    sourcesContent: false,
    logLevel: 'warning',
    legalComments: 'none',
    entryPoints: { traffic: 'media/src/traffic/main.ts', codicon: 'node_modules/@vscode/codicons/dist/codicon.css' },
    outdir: 'media/dist',
    loader: { '.ttf': 'file' },
    assetNames: '[name]',
  },
];

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[esbuild] watching…');
} else {
  const results = await Promise.all(builds.map((b) => esbuild.build({ ...b, metafile: true })));
  writeThirdPartyNotices(results.map((r) => r.metafile));
}

/**
 * The bundles carry other people's code (MIT, ISC, Apache-2.0, …) without their comments, so
 * their licences travel in dist/third-party-notices.txt, which the VSIX and the npm package ship.
 */
function writeThirdPartyNotices(metafiles) {
  const packages = new Map();
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile.inputs)) {
      const match = input.match(/^(.*?node_modules\/(?:@[^/]+\/)?[^/]+)\//);
      if (match && !packages.has(match[1])) packages.set(match[1], readPackage(match[1]));
    }
  }
  const sections = [...packages.values()]
    .filter(Boolean)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => `${p.name} ${p.version} (${p.license})\n\n${p.text.trim()}\n`);
  const header = `Kiro Bridge bundles the following packages. Their licences follow.\n\n`;
  mkdirSync('dist', { recursive: true });
  writeFileSync('dist/third-party-notices.txt', header + sections.join(`\n${'-'.repeat(78)}\n\n`));
}

function readPackage(dir) {
  try {
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const licenseFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying|notice)(\.|$)/i.test(f));
    const text = licenseFile ? readFileSync(path.join(dir, licenseFile), 'utf8') : `License: ${manifest.license ?? 'see package'}`;
    return { name: manifest.name, version: manifest.version, license: manifest.license ?? 'unknown', text };
  } catch {
    return undefined;
  }
}
