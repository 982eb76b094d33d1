// `npm test [-- <tier>…]`: the named tiers (every tier when none is named) in the order below,
// each tier's wall time, a summary, non-zero exit on any failure. Tiers that run built tests get
// the build tier first. `npm test -- --list` prints the tiers. Tiers are named for what they start:
// fast (pure tests, no processes), decode (ffmpeg and ffmpeg.wasm), fuzz (damaged clips through
// the engine with both decoders), golden (onnxruntime on the
// committed models), engine (worker processes, the CLI), webview (Chromium), integration
// (VS Code), results, package, e2e (code-server + Chromium), python (pytest + flake8).
// Neighbouring tiers of one `group` run at the same time, each on its own output buffer printed
// in suite order; each still reports its own wall time, and the total is the elapsed time. On 2
// cores most tiers keep about one core busy (processes starting, browsers waiting on pages), so
// the suite pairs them: the static checks together, then a tier that waits a lot beside one that
// computes (docs/dev/testing.md has each tier's wall and CPU seconds). Paired tiers share no files:
// each test file has its own scratch folder, and the decode cache is written atomically.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
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

/**
 * Runs a node command with its output (stdout and stderr) handed to `output` (a tier's buffer, or
 * straight to stdout when the tier runs alone); resolves true when it exits 0.
 */
function runCaptured(args, output, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('error', (error) => {
      output.push(Buffer.from(`${error.message}\n`));
      resolve(false);
    });
    child.on('close', (code) => resolve(code === 0));
  });
}

/** Runs commands one after the other (output collected); true when every one exits 0. */
async function runAllCaptured(commands, output) {
  let ok = true;
  for (const args of commands) ok = (await runCaptured(args, output)) && ok;
  return ok;
}

/** Reads `# pass N` / `# fail N` from a TAP file written by node's test runner. */
function tapCounts(file) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  // Summed over every block (the integration suite appends one per pass).
  const count = (key) =>
    [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
  return { pass: count('pass'), fail: count('fail') };
}

/** Runs one node --test tier: spec reporter on its output, TAP copy on disk for the counts. */
async function nodeTest(tier, output) {
  const files = builtTests(tier);
  if (files.length === 0) {
    console.error(`no built tests in dist-test/${tier}`);
    return { ok: false, pass: 0, fail: 1 };
  }
  const tap = join(root, 'dist-test', `${tier}.tap`);
  const ok = await runCaptured(
    [
      '--enable-source-maps',
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    output,
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
  { name: 'build', run: (output) => runCaptured(['esbuild.mjs', '--tests'], output) },
  // The static checks run side by side (one node process each; 2 cores): lint is the longest.
  {
    name: 'typecheck',
    group: 'static',
    run: (output) =>
      runAllCaptured(
        tsconfigs.map((p) => [bin('typescript', 'bin/tsc'), '--noEmit', '-p', p]),
        output,
      ),
  },
  {
    name: 'lint',
    group: 'static',
    run: (output) =>
      runCaptured([bin('eslint', 'bin/eslint.js'), '--max-warnings', '0', '.'], output),
  },
  {
    name: 'format',
    group: 'static',
    run: (output) => runCaptured([bin('prettier', 'bin/prettier.cjs'), '--check', '.'], output),
  },
  // Pure tests in plain Node: no processes, no browsers; the everyday loop (seconds).
  { name: 'fast', needsBuild: true, run: (output) => nodeTest('fast', output) },
  // The inference worker, the engine and the CLI end to end (real processes, real checkpoints);
  // beside it the panels' bundles in headless Chromium (playwright-core + Debian chromium), which
  // mostly wait on pages (0.7 of a core alone).
  { name: 'engine', group: 'engine', needsBuild: true, run: (o) => nodeTest('engine', o) },
  { name: 'webview', group: 'engine', needsBuild: true, run: (o) => nodeTest('webview', o) },
  // Decoders against real clips: system ffmpeg/ffprobe processes and the ffmpeg.wasm worker;
  // beside them the extension inside a real VS Code workbench (code-server here; desktop VS Code
  // with MOSEAR_VSCODE_DESKTOP=1): @vscode/test-electron's runTests with the mocha suite.
  { name: 'decode', group: 'decode', needsBuild: true, run: (o) => nodeTest('decode', o) },
  {
    name: 'integration',
    group: 'decode',
    needsBuild: true,
    run: async (output) => {
      const ok = await runCaptured(['dist-test/integration/runTests.js'], output);
      return { ok, ...tapCounts(join(root, 'dist-test', 'integration.counts')) };
    },
  },
  // Generated damaged clips (test/fuzz/generateClips.ts, seven classes) through the engine with
  // both decoders: a result or a documented error naming the file, no hang, no process left;
  // beside them onnxruntime on the committed models against their golden outputs.
  { name: 'fuzz', group: 'golden', needsBuild: true, run: (o) => nodeTest('fuzz', o) },
  { name: 'golden', group: 'golden', needsBuild: true, run: (o) => nodeTest('golden', o) },
  // Decodes the whole test split (minutes on a clean machine; reruns reuse .tmp/decode-cache/)
  // and fails when models/RESULTS.md is stale or its inputs are missing. Alone: it keeps both
  // cores busy.
  {
    name: 'results',
    needsBuild: true,
    run: (output) =>
      runCaptured(['--enable-source-maps', 'dist/cli/results.js', '--check'], output, {
        TMPDIR: scratch,
      }),
  },
  // One VSIX per target (bundles from the build tier), each checked: its own onnxruntime
  // binaries only, bindings, bundles, checkpoints and samples present, nothing forbidden.
  {
    name: 'package',
    needsBuild: true,
    run: (output) => runCaptured(['scripts/package.mjs', '--no-build'], output),
  },
  // The linux-x64 VSIX in code-server driven by chromium (test/e2e; installs code-server once,
  // after the integration tier did), beside the product Python under models/ (golden generator,
  // state-dict recovery, decode spec): flake8 over all of models/, then pytest with Debian's
  // python3-torch (scripts/pythonTests.mjs).
  { name: 'e2e', group: 'last', needsBuild: true, run: (o) => nodeTest('e2e', o) },
  {
    name: 'python',
    group: 'last',
    run: async (output) => {
      const counts = join(scratch, 'python.counts');
      const ok = await runCaptured(['scripts/pythonTests.mjs', counts], output);
      return { ok, ...tapCounts(counts) };
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

/** Runs one tier (awaiting a grouped tier's promise); its outcome with its wall time. */
async function runTier(tier, output) {
  const started = performance.now();
  const outcome = await tier.run(output);
  const seconds = (performance.now() - started) / 1000;
  const ok = typeof outcome === 'boolean' ? outcome : outcome.ok;
  const counts = typeof outcome === 'boolean' ? undefined : outcome;
  return { name: tier.name, ok, seconds, counts };
}

const suiteStarted = performance.now();
const results = [];
let built = false;
for (let i = 0; i < chosen.length;) {
  const tier = chosen[i];
  // A run of neighbouring tiers of the same group: started together, reported in order.
  let end = i + 1;
  while (tier.group !== undefined && end < chosen.length && chosen[end].group === tier.group) end++;
  const batch = [];
  for (const t of chosen.slice(i, end)) {
    if (t.needsBuild && !built) {
      console.log(`\n━━ ${t.name} ━━`);
      results.push({ name: t.name, ok: false, seconds: 0, note: 'skipped: build failed' });
    } else batch.push(t);
  }
  i = end;
  if (batch.length === 0) continue;
  if (batch.length > 1) {
    const names = batch.map((t) => t.name);
    console.log(`\n━━ ${names.join(' + ')} (side by side) ━━`);
    const outputs = batch.map(() => []);
    const done = await Promise.all(batch.map((t, k) => runTier(t, outputs[k])));
    for (const [k, r] of done.entries()) {
      console.log(`\n━━ ${r.name} ━━`);
      process.stdout.write(Buffer.concat(outputs[k]));
      console.log(`━━ ${r.name}: ${r.ok ? 'ok' : 'FAILED'} in ${r.seconds.toFixed(1)} s`);
      const others = names.filter((n) => n !== r.name).join(', ');
      results.push({ ...r, note: `side by side with ${others}` });
    }
    continue;
  }
  const only = batch[0];
  console.log(`\n━━ ${only.name} ━━`);
  // A tier run alone prints its output as it comes.
  const output = { push: (chunk) => process.stdout.write(chunk) };
  const r = await runTier(only, output);
  if (only.name === 'build') built = r.ok;
  results.push(r);
  console.log(`━━ ${only.name}: ${r.ok ? 'ok' : 'FAILED'} in ${r.seconds.toFixed(1)} s`);
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
// Elapsed time, not the sum: tiers of a group overlap.
console.log(
  `  total ${((performance.now() - suiteStarted) / 1000).toFixed(1)} s, ${failedTiers} tier(s) failed`,
);
console.log(`tests: ${pass} passed, ${fail} failed`);
process.exit(failedTiers === 0 ? 0 : 1);
