// Flat ESLint config: typescript-eslint's type-checked rules for TypeScript, plus the import
// zones that keep each folder inside its runtime and layer (ARCHITECTURE.md), and no file cycles.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const vscodeOutsideHost = {
  name: 'vscode',
  message: 'src/core and src/protocol must not import vscode; pass what they need in.',
};
/** What src/core must not import: the layers above it. */
const upperLayers = ['**/extension/**', '**/cli/**', '**/webview/**'];
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
    files: ['src/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [vscodeOutsideHost, ortOutsideInference],
          patterns: [{ group: upperLayers, message: 'src/core is below the CLI and the host.' }],
        },
      ],
    },
  },
  {
    // The protocol is a leaf: its own files and the schema library, nothing else.
    files: ['src/protocol/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [vscodeOutsideHost, ortOutsideInference],
          patterns: [
            { group: ['node:*'], message: 'src/protocol is runtime-neutral: no Node.' },
            {
              group: ['../*', '!../protocol'],
              message: 'src/protocol imports nothing outside itself.',
            },
            {
              regex: '^(?!\\.|valibot$)',
              message: 'src/protocol imports only its own files and valibot.',
            },
          ],
        },
      ],
    },
  },
  {
    // The pure shared leaf: the protocol and itself; webviews, the engine and the CLI use it.
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [vscodeOutsideHost, ortOutsideInference],
          patterns: [
            { group: ['node:*'], message: 'src/shared is runtime-neutral: no Node.' },
            {
              regex: '^(?!\\./|\\.\\./protocol/)',
              message: 'src/shared imports only itself and src/protocol.',
            },
          ],
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
          patterns: [
            { group: ['node:*'], message: 'webview bundles run in a browser: no Node.' },
            {
              group: ['**/src/core/**', '**/src/extension/**', '**/src/cli/**'],
              message:
                'webviews import only src/protocol, src/shared, webview/kit and their own folder.',
            },
          ],
        },
      ],
    },
  },
  {
    // The UI kit serves every panel and knows none.
    files: ['webview/kit/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [vscodeOutsideHost, ortOutsideInference],
          patterns: [
            { group: ['node:*'], message: 'webview bundles run in a browser: no Node.' },
            {
              group: [
                '**/src/core/**',
                '**/src/extension/**',
                '**/src/cli/**',
                '../analysis/*',
                '../compare/*',
                '../evaluation/*',
              ],
              message: 'webview/kit imports only src/protocol, src/shared and itself.',
            },
          ],
        },
      ],
    },
  },
  {
    // Each panel's webview uses the kit, not another panel (Compare shows two Analysis views).
    files: ['webview/evaluation/**', 'webview/analysis/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [vscodeOutsideHost, ortOutsideInference],
          patterns: [
            { group: ['node:*'], message: 'webview bundles run in a browser: no Node.' },
            {
              group: ['**/src/core/**', '**/src/extension/**', '**/src/cli/**'],
              message:
                'webviews import only src/protocol, src/shared, webview/kit and their own folder.',
            },
            {
              group: ['../analysis/*', '../compare/*', '../evaluation/*'],
              message: 'a panel imports the kit, not another panel.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/inference/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [vscodeOutsideHost] }] },
  },
  {
    // No file cycles anywhere in the product (type-only imports count too).
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })],
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
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
