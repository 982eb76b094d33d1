// The `analyze` summary at a real model's head count (32 layers × 32 heads, the random-weight
// model of test/helpers/fullShapeResult.ts): flags per layer and the top 10 heads by default, a
// screenful rather than one line per flagged head; `--all-heads` (analyze and show) lists every one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { TOP_HEADS } from '../../src/cli/analysisReport';
import { runCli } from '../helpers/cliRun';
import { requireEngineFiles } from '../helpers/engineFixtures';
import { FULL_SHAPE, FULL_SHAPE_CLIP, fullShapeModel } from '../helpers/fullShapeResult';
import { scratchDir } from '../helpers/tempFiles';

/** The head-table rows of a summary: "  layer  head  stat …" lines under "flagged heads". */
function headRows(summary: string): string[] {
  return summary.split('\n').filter((line) => /^\s+\d+\s+\d+\s+[\d.e-]+\s+[>≤] /.test(line));
}

describe('CLI summary at 32 × 32 heads', { timeout: 900_000 }, () => {
  const dir = scratchDir('cli-scale');
  let model = '';
  before(async () => {
    requireEngineFiles();
    model = await fullShapeModel();
  });

  test('analyze prints per-layer counts and the top 10 heads; --all-heads every flagged head', async () => {
    const out = join(dir, 'full.json');
    const args = ['analyze', FULL_SHAPE_CLIP, '--model', model, '--ep', 'cpu', '--mode', 'ar'];
    const setting = ['--ratio-kind', 'share', '--tau', '0.001', '--margin', '-0.5'];
    const run = await runCli([...args, ...setting, '--json', out]);
    assert.equal(run.code, 0, run.stderr);
    const result = readAnalysisResult(JSON.parse(readFileSync(out, 'utf8')));
    const flagged = result.intervention.arFlags.flat().filter((v) => v > 0.5).length;
    assert.ok(flagged > 100, `the setting must flag hundreds of heads, got ${flagged}`);
    const lines = run.stdout.split('\n');
    // Before this summary it printed one line per flagged head.
    assert.ok(lines.length <= 120, `${lines.length} lines`);
    assert.equal(headRows(run.stdout).length, TOP_HEADS);
    assert.match(run.stdout, new RegExp(`top ${TOP_HEADS} of ${flagged} by head stat`));
    assert.match(run.stdout, new RegExp(`per layer \\(of ${FULL_SHAPE.heads} heads\\):`));
    const counts = result.intervention.arFlags.map((row) => row.filter((v) => v > 0.5).length);
    for (const [l, n] of counts.entries()) assert.match(run.stdout, new RegExp(`\\bL${l} ${n}\\b`));

    const all = await runCli([...args, ...setting, '--all-heads']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(headRows(all.stdout).length, flagged);
    const shown = await runCli(['show', out, '--all-heads']);
    assert.equal(headRows(shown.stdout).length, flagged);
    const short = await runCli(['show', out]);
    assert.equal(
      short.stdout,
      run.stdout.replace(/^decoder: .*\n/, '').replace(/\nwrote .*\n$/, ''),
    );
  });
});
