// The CLI's eval summary prints each intervention's Δ accuracy against off with its interval,
// McNemar p and an "n.s." mark, and says what the intervals are; the shared Δ texts it uses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatBenchmarkSummary } from '../../src/cli/benchmarkReport';
import { DELTA_METHOD } from '../../src/core/analysis/statistics';
import type {
  BenchmarkSummary,
  PairedDelta,
  SettingScores,
} from '../../src/protocol/evaluationSummary';
import { deltaWithIntervalText, pValueText } from '../../src/shared/deltaText';

const delta = (value: number, low: number, high: number, p: number): PairedDelta => ({
  count: 150,
  delta: value,
  ciLow: low,
  ciHigh: high,
  coversZero: low <= 0 && high >= 0,
  wrongToRight: 10,
  rightToWrong: 3,
  mcnemarP: p,
});

describe('Δ texts', () => {
  test('signs, one decimal, no "-0.0"; p-values', () => {
    assert.equal(deltaWithIntervalText(delta(4.444, 1.1, 7.78, 0.07)), '+4.4 [1.1, 7.8]');
    assert.equal(deltaWithIntervalText(delta(-0.01, -2, 1.96, 1)), '0.0 [-2.0, 2.0]');
    assert.equal(deltaWithIntervalText(delta(NaN, NaN, NaN, 1)), '– [–, –]');
    assert.equal(pValueText(0.0703125), '0.070');
    assert.equal(pValueText(1), '1');
    assert.equal(pValueText(0.00001), '<0.001');
  });
});

describe('formatBenchmarkSummary', () => {
  test('prints Δ vs off with interval and p per subset and overall', () => {
    const base: SettingScores = {
      id: 'off',
      title: 'off',
      sweep: null,
      overall: { count: 150, accuracy: 50, weightedF1: 40 },
      bySubset: { consistent: { count: 150, accuracy: 50, weightedF1: 40 } },
      gap: null,
      meanFlaggedHeads: 0,
      confusion: [],
      flips: [],
      versusOff: null,
    };
    const ar: SettingScores = {
      ...base,
      id: 'ar',
      title: 'AR',
      versusOff: {
        overall: delta(4.444, 1.1, 7.78, 0.0703125),
        bySubset: { consistent: delta(-0.7, -2.1, 0.7, 1) },
      },
    };
    const summary: BenchmarkSummary = {
      schema: 'mosear-lens-eval-summary/1',
      manifest: 'manifest.jsonl',
      labels: ['happy', 'sad'],
      clips: 150,
      subsets: ['consistent'],
      failed: [],
      checkpoints: [
        {
          name: 'tiny',
          fileName: 'tiny.onnx',
          evaluated: 150,
          settings: [base, ar],
          byAnswer: null,
        },
      ],
      deltaMethod: DELTA_METHOD,
    };
    const text = formatBenchmarkSummary(summary);
    const row = text
      .split('\n')
      .filter((l) => l.startsWith('AR '))
      .at(-1);
    assert.ok(row !== undefined, text);
    assert.match(row, /-0\.7 \[-2\.1, 0\.7\] p 1 n\.s\.\s+\+4\.4 \[1\.1, 7\.8\] p 0\.070$/);
    assert.match(text, /^Δ vs off\s+consistent\s+all$/m);
    assert.match(text, /2000 resamples, seed 20240601/);
    assert.match(text, /uncorrected for the number of settings/);
    // Without an intervention there is nothing to compare.
    const offOnly = formatBenchmarkSummary({
      ...summary,
      checkpoints: [{ ...summary.checkpoints[0]!, settings: [base] }],
    });
    assert.doesNotMatch(offOnly, /Δ vs off/);
  });
});
