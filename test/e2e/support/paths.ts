// Where the end-to-end tools and outputs live. scripts/e2e-setup.sh installs the tools;
// E2E_TOOLS_DIR and E2E_CHROMIUM point elsewhere when a machine keeps them in another place.
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export const toolsDir = process.env.E2E_TOOLS_DIR ?? path.join(repoRoot, '.e2e');

export const codeServerBin = path.join(toolsDir, 'code-server', 'node_modules', '.bin', 'code-server');

export const chromiumPath = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots, saved logs and the packaged VSIX of a run. */
export const outputDir = process.env.E2E_OUTPUT_DIR ?? path.join(repoRoot, 'test-output', 'e2e');

/** Throws a message that says how to fix it when a tool is missing. */
export function requireTool(file: string, what: string): string {
  if (!existsSync(file)) {
    throw new Error(`${what} not found at ${file}; run \`bash scripts/e2e-setup.sh\` first.`);
  }
  return file;
}
