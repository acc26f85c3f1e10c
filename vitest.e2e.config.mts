// End-to-end suite: the packaged extension in a real VS Code (code-server) driven through Chromium.
// One file at a time in one worker: each file starts its own code-server and browser, and the
// machine has two cores. Run `bash scripts/e2e-setup.sh` once first (see test/e2e/README.md).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    // Cleans up after workers that died without stopping their code-server.
    globalSetup: ['test/e2e/support/global-setup.ts'],
    // Steps drive a real UI; packaging and starting VS Code happen in beforeAll.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
  },
});
