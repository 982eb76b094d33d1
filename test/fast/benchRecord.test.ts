// The pure part of `npm run bench` (bench/recordStats.ts): quantiles, issue 16's ratio names
// and directions, the targets' verdicts and the Markdown table. No timing is asserted.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  figure,
  markdownTables,
  quantile,
  ratiosOf,
  TARGETS,
  verdict,
  type Figure,
} from '../../bench/recordStats';

describe('bench record statistics', () => {
  test('median and p90 interpolate between order statistics, in any input order', () => {
    assert.equal(quantile([3, 1, 2], 0.5), 2);
    assert.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
    // (10 − 1)·0.9 = 8.1: between the 9th and 10th smallest.
    assert.ok(Math.abs(quantile([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 0.9) - 9.1) < 1e-12);
    assert.ok(Number.isNaN(quantile([], 0.5)));
    const f = figure('rerun', 'project', 'tiny', 'ms', [5, 1, 3]);
    assert.deepEqual([f.runs, f.median, f.p90], [3, 3, 4.6]);
    assert.deepEqual(f.samples, [5, 1, 3]);
  });

  test('ratios are named as issue 16 names them and point the right way', () => {
    const figures: Figure[] = [
      figure('rerun', 'project', 'fixture', 'ms', [100]),
      figure('rerun', 'pytorch', 'fixture', 'ms', [300]),
      figure('rerun', 'floor', 'fixture', 'ms', [80]),
      figure('analyze_warm', 'project', 'tiny', 'ms', [400]),
      figure('analyze_warm', 'pytorch', 'tiny', 'ms', [600]),
      figure('analyze_cold', 'project', 'tiny', 'ms', [700]),
      figure('analyze_cold', 'pytorch', 'tiny', 'ms', [1400]),
      figure('sweep_step', 'project', 'tiny', 'ms', [1200]),
      figure('sweep_step', 'floor', 'tiny', 'ms', [1000]),
      figure('eval_with_decode', 'project', 'one-process', 'clips/s', [6]),
      figure('eval_with_decode', 'project', 'per-frame', 'clips/s', [3]),
    ];
    const r = ratiosOf(figures, { cliMB: 60, workerMB: 20, tensorMB: 20 });
    assert.equal(r['rerun_speedup_vs_pytorch.fixture'], 3);
    assert.equal(r['rerun_vs_floor.fixture'], 1.25);
    assert.equal(r.analyze_speedup_vs_python, 1.5);
    assert.equal(r.cold_cli_vs_python, 0.5);
    assert.equal(r.sweep_step_vs_floor, 1.2);
    assert.equal(r.eval_speedup_vs_per_frame_decode, 2);
    assert.equal(r.memory_cli_vs_tensors, 3);
    assert.equal(r.memory_worker_vs_tensors, 1);
    // Sizes that were not measured (tiny, n1000 here) have no ratio rather than a NaN.
    assert.equal('rerun_speedup_vs_pytorch.tiny' in r, false);
    for (const t of TARGETS) assert.ok(/^[a-z_]+(\.(tiny|fixture|n1000))?$/.test(t.ratio), t.ratio);
  });

  test('verdicts: at least, at most, and not measured; the table lists every target', () => {
    const min = TARGETS.find((t) => t.ratio === 'rerun_speedup_vs_pytorch.fixture')!;
    const max = TARGETS.find((t) => t.ratio === 'sweep_step_vs_floor')!;
    assert.equal(verdict(min, { [min.ratio]: 2 }), 'met');
    assert.equal(verdict(min, { [min.ratio]: 1.99 }), 'missed');
    assert.equal(verdict(max, { [max.ratio]: 1.3 }), 'met');
    assert.equal(verdict(max, { [max.ratio]: 1.31 }), 'missed');
    assert.equal(verdict(max, {}), 'not measured');
    const md = markdownTables([figure('rerun', 'floor', 'tiny', 'ms', [7.94])], { [max.ratio]: 2 });
    const lines = md.split('\n');
    assert.equal(lines.filter((l) => l.includes('`')).length, TARGETS.length);
    assert.ok(lines.includes('| rerun | tiny | floor | 1 | 7.94 | 7.94 | ms |'));
    assert.ok(md.includes('| `sweep_step_vs_floor` ≤ 1.3 | 2.00 | missed |'));
  });
});
