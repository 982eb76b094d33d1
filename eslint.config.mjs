// Flat ESLint config: typescript-eslint's type-checked rules for TypeScript, plus the import
// zones that keep each folder inside its runtime (DESIGN.md §2).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const vscodeOutsideHost = {
  name: 'vscode',
  message: 'src/core and src/protocol must not import vscode; pass what they need in.',
};
const ortOutsideInference = {
  name: 'onnxruntime-node',
  message: 'onnxruntime-node is loaded only by src/core/inference (the worker side).',
};

export default defineConfig(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'dist-test/',
      'out/',
      'coverage/',
      '.vscode-test/',
      '.tmp/',
      'models/',
    ],
  },
  js.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: { console: 'readonly', process: 'readonly', performance: 'readonly' },
    },
  },
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises that the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    rules: {
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      'no-restricted-imports': ['error', { paths: [ortOutsideInference] }],
    },
  },
  {
    files: ['src/core/**', 'src/protocol/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [vscodeOutsideHost, ortOutsideInference] }],
    },
  },
  {
    files: ['src/protocol/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [vscodeOutsideHost, ortOutsideInference],
          patterns: [{ group: ['node:*'], message: 'src/protocol is runtime-neutral: no Node.' }],
        },
      ],
    },
  },
  {
    files: ['webview/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [vscodeOutsideHost, ortOutsideInference],
          patterns: [{ group: ['node:*'], message: 'webview bundles run in a browser: no Node.' }],
        },
      ],
    },
  },
  {
    files: ['src/core/inference/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [vscodeOutsideHost] }] },
  },
  {
    files: ['test/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src/cli/**', 'scripts/**', 'test/**', 'bench/**', '*.mjs'],
    rules: { 'no-console': 'off' },
  },
);
