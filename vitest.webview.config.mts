import { defineConfig } from 'vitest/config';

// Browser tests of the traffic webview: real headless Chromium (Debian's /usr/bin/chromium via
// playwright-core) against the built media/dist. Run `npm run build` first; `npm test` leaves
// these out so it passes on machines without Chromium.
export default defineConfig({
  test: {
    include: ['test/webview/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
