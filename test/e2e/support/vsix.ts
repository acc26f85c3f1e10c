// The extension under test, packaged the way users get it: `npm run package` → a VSIX.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { outputDir, repoRoot, requireTool } from './paths';

interface Manifest {
  publisher: string;
  name: string;
  version: string;
  displayName: string;
}

const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;

/** Identity of the extension under test, from package.json. */
export const extension = {
  /** `publisher.name`, as VS Code and its logs name it. */
  id: `${manifest.publisher}.${manifest.name}`,
  version: manifest.version,
  displayName: manifest.displayName,
} as const;

/**
 * Packages the current tree with `npm run package` into test-output/e2e and returns the VSIX's
 * path. E2E_VSIX=<file> uses an already packaged VSIX instead (e.g. a release candidate).
 */
export function packageVsix(): string {
  if (process.env.E2E_VSIX) return requireTool(path.resolve(process.env.E2E_VSIX), 'E2E_VSIX');
  mkdirSync(outputDir, { recursive: true });
  const file = path.join(outputDir, `${manifest.name}-${manifest.version}.vsix`);
  const result = spawnSync('npm', ['run', 'package', '--', '--out', file], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (result.status !== 0) {
    throw new Error(`npm run package failed (${result.error?.message ?? result.status}):\n${result.stdout}${result.stderr}`);
  }
  return file;
}
