// `npm run e2e`: builds the bundles and tests, then runs the end-to-end UI test
// (test/e2e/, code-server + chromium; it packages the linux-x64 VSIX itself).
// `npm run screenshots` (--screenshots) also copies its screenshots into media/screenshots/ for
// the README; they are committed, so only an explicit run replaces them.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const scratch = join(root, '.tmp');
mkdirSync(scratch, { recursive: true });

/** e2e screenshot → README screenshot. */
const README_SHOTS = {
  '02-context-menu.png': 'analyze-from-explorer.png',
  '03-analysis-panel.png': 'analysis-panel.png',
  '05-after-rerun.png': 'after-rerun.png',
  '06-heads.png': 'heads.png',
  '07-token-attention.png': 'token-attention.png',
  '12-fixture-heads.png': 'heads-32x32.png',
  '17-conflict-set.png': 'conflict-set.png',
};

/** Runs node with arguments, output inherited; true when it exits 0. */
function node(args) {
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TMPDIR: scratch },
  });
  if (result.error) console.error(result.error.message);
  return result.status === 0;
}

if (!node(['esbuild.mjs', '--tests'])) process.exit(1);
const dir = join(root, 'dist-test', 'e2e');
const tests = existsSync(dir)
  ? readdirSync(dir)
      .filter((name) => name.endsWith('.test.js'))
      .map((name) => join(dir, name))
  : [];
if (tests.length === 0) {
  console.error('no built e2e tests in dist-test/e2e');
  process.exit(1);
}
const ok = node(['--enable-source-maps', '--test', '--test-reporter=spec', ...tests]);
if (ok && process.argv.includes('--screenshots')) {
  const target = join(root, 'media', 'screenshots');
  mkdirSync(target, { recursive: true });
  for (const [from, to] of Object.entries(README_SHOTS)) {
    copyFileSync(join(root, 'test-results', 'e2e', from), join(target, to));
    console.log(`media/screenshots/${to} ← test-results/e2e/${from}`);
  }
}
process.exit(ok ? 0 : 1);
