import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/contract/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Tests that need the VS Code API import this hand-written mock instead.
    alias: { vscode: new URL('./test/support/vscode-mock.ts', import.meta.url).pathname },
  },
});
