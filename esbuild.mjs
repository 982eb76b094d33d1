// One esbuild context per target; type checking is separate (`npm run typecheck`).
// Usage: node esbuild.mjs [--watch] [--tests]
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const withTests = process.argv.includes('--tests');

/** Options shared by every Node target: CommonJS, native and host modules left external. */
const node = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'warning',
};

/** Lists `*.test.ts` files under a folder, recursively. */
function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

const targets = [
  {
    name: 'cli',
    entryPoints: {
      'cli/main': 'src/cli/main.ts',
      'cli/results': 'src/cli/results.ts',
      'bench/engine': 'bench/engine.ts',
      'bench/evaluation': 'bench/evaluation.ts',
      'bench/record': 'bench/record.ts',
      'bench/sessionOptions': 'bench/sessionOptions.ts',
      // Issue 15's webview timings in headless Chromium (the webview tier's harness).
      'bench/webviewPaint': 'bench/webviewPaint.ts',
      // Times one full-width LLaMA-2 layer in process (a bench, like the floor of the others).
      'bench/fullWidthLayer': 'bench/fullWidthLayer.ts',
      // Forked by the engine (one process per checkpoint); the only bundle that loads onnxruntime.
      'core/inferenceWorker': 'src/core/inference/inferenceWorker.ts',
    },
    outdir: 'dist',
  },
  // The ffmpeg.wasm decoder's child process; it loads @ffmpeg/core's UMD files at run time, so
  // the GPL core stays in its own files (never bundled) and runs in its own process.
  {
    name: 'decode-worker',
    entryPoints: { 'decode/wasmWorker': 'src/core/decode/wasmWorker.ts' },
    outdir: 'dist',
    external: [...node.external, '@ffmpeg/core'],
  },
  // The extension host's entry (VS Code loads dist/extension.js; `vscode` stays external).
  {
    name: 'extension',
    entryPoints: { extension: 'src/extension/extension.ts' },
    outdir: 'dist',
  },
  {
    name: 'bench-decode',
    entryPoints: { 'bench/decodeBackends': 'bench/decodeBackends.ts' },
    outdir: 'dist',
  },
];
/** A schema builder call in src/protocol: a valibot function other than a parse, or a local one. */
const SCHEMA_BUILDER =
  /(?<!function )\b(v\.(?!(?:parse|safeParse|parser|safeParser|is|assert)\()\w+|numberArray|messageSchema|float32ArrayOf)\(/g;

/**
 * Gives every schema construction in src/protocol esbuild's PURE annotation (comment lines left
 * alone), so a webview bundle keeps only the schemas it parses with: esbuild drops an unused
 * top-level call only when told it has no side effects, and valibot's builders only build
 * objects. (A spread, `{ ...entries }` or `[...list]`, still keeps its schema: esbuild cannot
 * prove a spread free of side effects.)
 */
const pureSchemas = {
  name: 'pure-schemas',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]protocol[\\/][^\\/]+\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const lines = source
        .split('\n')
        .map((line) =>
          /^\s*(\/\/|\/?\*)/.test(line)
            ? line
            : line.replace(SCHEMA_BUILDER, '/* @__PURE__ */ $1('),
        );
      return { contents: lines.join('\n'), loader: 'ts' };
    });
  },
};

/** Webview bundles: browser, one IIFE per panel, CSS emitted beside the script. */
const webview = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  // Halves the panel bundle (it is inlined into every HTML report); licences stay at the end.
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [pureSchemas],
};
const webviewTargets = [
  {
    name: 'webview',
    entryPoints: { 'webview/analysis': 'webview/analysis/main.ts' },
    outdir: 'dist',
  },
  // The Compare panel (two subjects on one clip); it imports the Analysis panel's views.
  {
    name: 'webview-compare',
    entryPoints: { 'webview/compare': 'webview/compare/main.ts' },
    outdir: 'dist',
  },
  // The Evaluate panel (benchmark runs); it imports the Analysis panel's shared modules.
  {
    name: 'webview-evaluate',
    entryPoints: { 'webview/evaluation': 'webview/evaluation/main.ts' },
    outdir: 'dist',
  },
];
if (withTests) {
  rmSync('dist-test', { recursive: true, force: true });
  targets.push({
    name: 'tests',
    entryPoints: testFiles('test'),
    outbase: 'test',
    outdir: 'dist-test',
  });
  // The integration suite (mocha bundled, loaded by VS Code's extension host) and its runner.
  targets.push({
    name: 'integration',
    entryPoints: {
      'integration/index': 'test/integration/index.ts',
      'integration/runTests': 'test/integration/runTests.ts',
    },
    outdir: 'dist-test',
    external: [...node.external, '@vscode/test-electron'],
    // Mocha's parallel mode (unused here) resolves its worker files at run time.
    logOverride: { 'require-resolve-not-external': 'silent' },
  });
}

const contexts = await Promise.all([
  ...targets.map((target) => {
    const { name, ...options } = target;
    void name;
    return esbuild.context({ ...node, ...options });
  }),
  ...webviewTargets.map((target) => {
    const { name, ...options } = target;
    void name;
    return esbuild.context({ ...webview, ...options });
  }),
]);
const allTargets = [...targets, ...webviewTargets];
if (watch) {
  await Promise.all(contexts.map((ctx) => ctx.watch()));
  console.log(`esbuild: watching ${allTargets.map((t) => t.name).join(', ')}`);
} else {
  const started = performance.now();
  await Promise.all(contexts.map((ctx) => ctx.rebuild()));
  await Promise.all(contexts.map((ctx) => ctx.dispose()));
  const ms = Math.round(performance.now() - started);
  console.log(`esbuild: built ${allTargets.map((t) => t.name).join(', ')} in ${ms} ms`);
}
