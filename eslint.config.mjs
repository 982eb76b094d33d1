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
/** No Node built-ins in a runtime-neutral or browser folder. */
const noNode = (why) => ({ group: ['node:*'], message: `${why}: no Node.` });
const webviewOnly = {
  group: ['**/src/core/**', '**/src/extension/**', '**/src/cli/**'],
  message: 'webviews import only src/protocol, src/shared, webview/kit and their own folder.',
};
/** An import zone: files that may not import what `patterns` name (nor vscode or onnxruntime). */
function zone(files, patterns) {
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [vscodeOutsideHost, ortOutsideInference], patterns },
      ],
    },
  };
}

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
  zone(
    ['src/core/**'],
    [{ group: upperLayers, message: 'src/core is below the CLI and the host.' }],
  ),
  // The protocol is a leaf: its own files and the schema library, nothing else.
  zone(
    ['src/protocol/**'],
    [
      noNode('src/protocol is runtime-neutral'),
      { regex: '^(?!\\./|valibot$)', message: 'src/protocol imports only itself and valibot.' },
    ],
  ),
  // The pure shared leaf: the protocol and itself; webviews, the engine and the CLI use it.
  zone(
    ['src/shared/**'],
    [
      noNode('src/shared is runtime-neutral'),
      {
        regex: '^(?!\\./|\\.\\./protocol/)',
        message: 'src/shared imports only itself and src/protocol.',
      },
    ],
  ),
  // Webviews: the protocol, the shared leaf, the kit and their own folder. Compare shows two
  // Analysis views, so only it may import webview/analysis; the kit knows no panel.
  zone(['webview/**'], [noNode('webview bundles run in a browser'), webviewOnly]),
  zone(
    ['webview/kit/**', 'webview/analysis/**', 'webview/evaluation/**'],
    [
      noNode('webview bundles run in a browser'),
      webviewOnly,
      { group: ['../analysis/*', '../compare/*', '../evaluation/*'], message: 'use webview/kit.' },
    ],
  ),
  {
    files: ['src/core/inference/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [vscodeOutsideHost],
          patterns: [{ group: upperLayers, message: 'below the host.' }],
        },
      ],
    },
  },
  {
    // No file cycles anywhere in the product (the rule follows value imports; type-only ones are
    // exempt by design, and none form a cycle today).
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
  // A benchmark's floor is a bare in-process session.run: benches may load onnxruntime.
  {
    files: ['bench/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [vscodeOutsideHost] }] },
  },
  {
    files: ['src/cli/**', 'scripts/**', 'test/**', 'bench/**', '*.mjs'],
    rules: { 'no-console': 'off' },
  },
);
