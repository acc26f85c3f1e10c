// Flat config: typescript-eslint recommended rules, plus the architecture rule that keeps
// the upstream and bridge layers free of the VS Code API (they run headless from the CLI).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        {
          name: 'vscode',
          message: 'src/kiro, src/bridge, src/common, src/clients, src/traffic and the CLI run without VS Code; reach VS Code through an adapter in src/views.',
        },
      ],
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'media/dist/**', 'node_modules/**', '.e2e/**', 'test-output/**', '*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  { files: ['src/kiro/**', 'src/bridge/**', 'src/common/**', 'src/clients/**', 'src/traffic/**', 'src/cli.ts', 'src/cli/**'], rules: noVscode },
  {
    files: ['**/*.mjs', '**/*.cjs', 'scripts/**/*.js', 'media/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', window: 'readonly', document: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', Buffer: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
