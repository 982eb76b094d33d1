// `mosear-lens analyze --html` and `show --html`: a self-contained report with the panel bundle
// inlined and the same result embedded that --json writes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { EXIT } from '../../src/cli/exitCodes';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { runCli } from '../helpers/cliRun';
import { SAMPLES_DIR, requireEngineFiles } from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { embeddedInit } from '../helpers/reportData';
import { scratchDir } from '../helpers/tempFiles';

describe('mosear-lens --html', () => {
  const dir = scratchDir('cli-html');
  const clip = join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4');
  before(() => requireEngineFiles());

  test('analyze writes a report embedding the same result as --json', async () => {
    const json = join(dir, 'r.json');
    const html = join(dir, 'r.html');
    const run = await runCli([
      'analyze',
      clip,
      '--ep',
      'cpu',
      '--mode',
      'ar',
      '--json',
      json,
      '--html',
      html,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /wrote .*r\.html/);
    const page = readFileSync(html, 'utf8');
    assert.match(
      page,
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'nonce-[A-Za-z0-9]+'; script-src 'nonce-[A-Za-z0-9]+'">/,
    );
    const init = embeddedInit(page);
    assert.deepEqual(init.origin, { kind: 'report' });
    assert.equal(init.canRun, false);
    const saved = JSON.parse(readFileSync(json, 'utf8')) as AnalysisResult;
    assert.deepEqual(init.result, saved);
    // The panel's own bundle and stylesheet, inlined.
    const bundle = readFileSync(join(REPO_ROOT, 'dist', 'webview', 'analysis.css'), 'utf8');
    assert.ok(page.includes(bundle.slice(0, 200)));
    assert.ok(page.length > readFileSync(join(REPO_ROOT, 'dist', 'webview', 'analysis.js')).length);
  });

  test('show --html turns a saved result into a report; --html needs a file', async () => {
    const json = join(dir, 's.json');
    assert.equal(
      (await runCli(['analyze', clip, '--ep', 'cpu', '--json', json, '--quiet'])).code,
      0,
    );
    const html = join(dir, 's.html');
    const run = await runCli(['show', json, '--html', html]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      embeddedInit(readFileSync(html, 'utf8')).result,
      JSON.parse(readFileSync(json, 'utf8')),
    );
    const dash = await runCli(['analyze', clip, '--html', '-']);
    assert.equal(dash.code, EXIT.usage);
    assert.match(dash.stderr, /--html needs a file name/);
    const unwritable = await runCli([
      'show',
      json,
      '--html',
      join(dir, 'missing', 'dir', 'x.html'),
    ]);
    assert.equal(unwritable.code, EXIT.output);
  });
});
