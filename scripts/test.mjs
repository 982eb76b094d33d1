// `npm test [-- <tier>…]`: the named tiers (every tier when none is named) in the order below,
// each tier's wall time, a summary, non-zero exit on any failure. Tiers that run built tests get
// the build tier first. `npm test -- --list` prints the tiers. Tiers are named for what they start:
// fast (pure tests, no processes), decode (ffmpeg and ffmpeg.wasm), fuzz (damaged clips through
// the engine with both decoders), golden (onnxruntime on the
// committed models), engine (worker processes, the CLI), webview (Chromium), integration
// (VS Code), results, package, e2e (code-server + Chromium), python (pytest + flake8).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = (pkg, file) => join(root, 'node_modules', pkg, file);
const scratch = join(root, '.tmp');
mkdirSync(scratch, { recursive: true });

/** Lists built test files of one tier. */
function builtTests(tier) {
  const dir = join(root, 'dist-test', tier);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.js'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Runs a command with inherited output; true when it exits 0. */
function run(args, env = {}) {
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  if (result.error) console.error(result.error.message);
  return result.status === 0;
}

/** Reads `# pass N` / `# fail N` from a TAP file written by node's test runner. */
function tapCounts(file) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  // Summed over every block (the integration suite appends one per pass).
  const count = (key) =>
    [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
  return { pass: count('pass'), fail: count('fail') };
}

/** Runs one node --test tier: spec reporter on stdout, TAP copy on disk for the counts. */
function nodeTest(tier) {
  const files = builtTests(tier);
  if (files.length === 0) {
    console.error(`no built tests in dist-test/${tier}`);
    return { ok: false, pass: 0, fail: 1 };
  }
  const tap = join(root, 'dist-test', `${tier}.tap`);
  const ok = run(
    [
      '--enable-source-maps',
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    { TMPDIR: scratch },
  );
  return { ok, ...tapCounts(tap) };
}

const tsconfigs = [
  'src/protocol',
  'src/shared',
  'src/core',
  'src/cli',
  'src/extension',
  'webview',
  'test',
  'test/integration',
  'bench',
];
const tiers = [
  { name: 'build', run: () => run(['esbuild.mjs', '--tests']) },
  {
    name: 'typecheck',
    run: () =>
      tsconfigs.map((p) => run([bin('typescript', 'bin/tsc'), '--noEmit', '-p', p])).every(Boolean),
  },
  { name: 'lint', run: () => run([bin('eslint', 'bin/eslint.js'), '--max-warnings', '0', '.']) },
  { name: 'format', run: () => run([bin('prettier', 'bin/prettier.cjs'), '--check', '.']) },
  // Pure tests in plain Node: no processes, no browsers; the everyday loop (seconds).
  { name: 'fast', needsBuild: true, run: () => nodeTest('fast') },
  // Decoders against real clips: system ffmpeg/ffprobe processes and the ffmpeg.wasm worker.
  { name: 'decode', needsBuild: true, run: () => nodeTest('decode') },
  // Generated damaged clips (test/fuzz/generateClips.ts, seven classes) through the engine with
  // both decoders: a result or a documented error naming the file, no hang, no process left.
  { name: 'fuzz', needsBuild: true, run: () => nodeTest('fuzz') },
  { name: 'golden', needsBuild: true, run: () => nodeTest('golden') },
  // The inference worker, the engine and the CLI end to end (real processes, real checkpoints).
  { name: 'engine', needsBuild: true, run: () => nodeTest('engine') },
  // The Analysis panel's bundle in headless Chromium (playwright-core + Debian chromium).
  { name: 'webview', needsBuild: true, run: () => nodeTest('webview') },
  // The extension inside a real VS Code workbench (code-server here; desktop VS Code with
  // MOSEAR_VSCODE_DESKTOP=1): @vscode/test-electron's runTests with the mocha suite.
  {
    name: 'integration',
    needsBuild: true,
    run: () => {
      const ok = run(['dist-test/integration/runTests.js']);
      return { ok, ...tapCounts(join(root, 'dist-test', 'integration.counts')) };
    },
  },
  // Decodes the whole test split (minutes on a clean machine; reruns reuse .tmp/decode-cache/)
  // and fails when models/RESULTS.md is stale or its inputs are missing.
  {
    name: 'results',
    needsBuild: true,
    run: () => run(['--enable-source-maps', 'dist/cli/results.js', '--check'], { TMPDIR: scratch }),
  },
  // One VSIX per target (bundles from the build tier), each checked: its own onnxruntime
  // binaries only, bindings, bundles, checkpoints and samples present, nothing forbidden.
  { name: 'package', needsBuild: true, run: () => run(['scripts/package.mjs', '--no-build']) },
  // The linux-x64 VSIX in code-server driven by chromium (test/e2e; installs code-server once).
  { name: 'e2e', needsBuild: true, run: () => nodeTest('e2e') },
  // The product Python under models/ (golden generator, state-dict recovery, decode spec):
  // flake8 over all of models/, then pytest with Debian's python3-torch (scripts/pythonTests.mjs).
  {
    name: 'python',
    run: () => {
      const counts = join(scratch, 'python.counts');
      return { ok: run(['scripts/pythonTests.mjs', counts]), ...tapCounts(counts) };
    },
  },
];

const asked = process.argv.slice(2);
if (asked.includes('--list')) {
  console.log(tiers.map((t) => t.name).join('\n'));
  process.exit(0);
}
const unknown = asked.filter((name) => !tiers.some((t) => t.name === name));
if (unknown.length > 0) {
  console.error(
    `unknown tier(s): ${unknown.join(', ')}; tiers: ${tiers.map((t) => t.name).join(', ')}`,
  );
  process.exit(2);
}
// The named tiers, in suite order, with the build first when one of them runs built tests.
const chosen =
  asked.length === 0
    ? tiers
    : tiers.filter(
        (t) =>
          asked.includes(t.name) ||
          (t.name === 'build' && tiers.some((u) => u.needsBuild && asked.includes(u.name))),
      );

const results = [];
let built = false;
for (const tier of chosen) {
  console.log(`\n━━ ${tier.name} ━━`);
  if (tier.needsBuild && !built) {
    results.push({ name: tier.name, ok: false, seconds: 0, note: 'skipped: build failed' });
    continue;
  }
  const started = performance.now();
  const outcome = tier.run();
  const seconds = (performance.now() - started) / 1000;
  const ok = typeof outcome === 'boolean' ? outcome : outcome.ok;
  const counts = typeof outcome === 'boolean' ? undefined : outcome;
  if (tier.name === 'build') built = ok;
  results.push({ name: tier.name, ok, seconds, counts });
  console.log(`━━ ${tier.name}: ${ok ? 'ok' : 'FAILED'} in ${seconds.toFixed(1)} s`);
}

console.log('\nsummary');
let pass = 0;
let fail = 0;
for (const r of results) {
  const detail = r.counts ? ` (${r.counts.pass} passed, ${r.counts.fail} failed)` : '';
  const note = r.note ? ` (${r.note})` : '';
  console.log(
    `  ${r.ok ? 'ok    ' : 'FAILED'} ${r.name.padEnd(10)} ${r.seconds.toFixed(1).padStart(6)} s${detail}${note}`,
  );
  pass += r.counts?.pass ?? 0;
  fail += r.counts?.fail ?? 0;
  // A failed tier without failing tests (lint, a crash) still counts as one failure.
  if (!r.ok && !r.counts?.fail) fail += 1;
}
const failedTiers = results.filter((r) => !r.ok).length;
console.log(
  `  total ${results.reduce((s, r) => s + r.seconds, 0).toFixed(1)} s, ${failedTiers} tier(s) failed`,
);
console.log(`tests: ${pass} passed, ${fail} failed`);
process.exit(failedTiers === 0 ? 0 : 1);
