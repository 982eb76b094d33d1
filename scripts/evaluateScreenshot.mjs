// `npm run screenshots:evaluate`: the README's screenshot of the Evaluate panel's trade-off plot,
// from a real evaluation. It evaluates both shipped checkpoints on the CA-MER-synth test split
// with a τ sweep (the CLI, `mosear-lens eval`, into .tmp/readme-eval; a re-run resumes, so only a
// first run takes minutes), opens the run folder's report.html (the Evaluate panel, offline) in
// headless chromium and saves the trade-off section to media/screenshots/evaluate-tradeoff.png.
// The screenshot is committed, so only an explicit run replaces it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from './vscode/codeServer.mjs';

const root = join(import.meta.dirname, '..');
const scratch = join(root, '.tmp');
const runDir = join(scratch, 'readme-eval');
const target = join(root, 'media', 'screenshots', 'evaluate-tradeoff.png');
// τ on the share scale (the checkpoints' ratio kind) at a fixed α: mosear-tiny's stored default
// α is 0, and a sweep at α 0 cannot change the model.
const SWEEP = ['--sweep', 'tau=0:1:0.1', '--sweep', 'alpha=0.3'];
// The checkpoint whose plot the README shows.
const CHECKPOINT = 'mosear-tiny';

/** Runs node with arguments, output inherited; exits on failure. */
function node(args) {
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TMPDIR: scratch },
  });
  if (result.status !== 0) {
    console.error(result.error?.message ?? `node ${args.join(' ')} exited ${result.status}`);
    process.exit(1);
  }
}

mkdirSync(scratch, { recursive: true });
node(['esbuild.mjs']);
node([
  'dist/cli/main.js',
  'eval',
  'models/data/ca-mer-synth/test',
  ...SWEEP,
  '--jobs',
  '2',
  '--out',
  runDir,
]);

const context = await launchChromium({ workDir: join(scratch, 'readme-eval-chromium') });
try {
  const page = await context.newPage();
  // Light, like the README's other screenshots (the report follows the colour scheme).
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.goto(pathToFileURL(join(runDir, 'report.html')).href);
  await page.waitForSelector('#app[data-ready="true"]');
  await page.$eval(
    '[data-testid=eval-tradeoff-checkpoint]',
    (select, name) => {
      select.value = name;
      if (select.value !== name) throw new Error(`no checkpoint ${name} in the evaluation`);
      select.dispatchEvent(new globalThis.Event('change'));
    },
    CHECKPOINT,
  );
  await page.waitForFunction(
    () =>
      Number(
        globalThis.document.querySelector('[data-testid=eval-tradeoff-chart]')?.dataset.points,
      ) > 0,
  );
  // Views redraw on the next animation frame.
  await page.evaluate(() => new Promise((resolve) => globalThis.requestAnimationFrame(resolve)));
  mkdirSync(join(root, 'media', 'screenshots'), { recursive: true });
  await page.locator('[data-section=eval-tradeoff]').screenshot({ path: target });
  console.log(`media/screenshots/evaluate-tradeoff.png (${statSync(target).size} bytes)`);
} finally {
  await context.close();
}
