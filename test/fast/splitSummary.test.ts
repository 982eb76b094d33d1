import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LayerUap } from '../../src/core/analysis/uap';
import { summarizeCheckpoint, type SplitTruth } from '../../src/core/evaluation/splitSummary';
import type { CaMerSubset, LayerTokenAttention } from '../../src/protocol/evaluationSummary';

// Six clips, two per subset, three classes.
const TRUTH: SplitTruth = {
  labels: [0, 1, 2, 0, 1, 2],
  subsets: [
    'consistent',
    'consistent',
    'video-aligned',
    'video-aligned',
    'audio-aligned',
    'audio-aligned',
  ] satisfies CaMerSubset[],
  classes: 3,
};
const OFF = [0, 1, 1, 0, 1, 0]; // right, right, wrong, right, right, wrong
const AR = [0, 2, 2, 0, 1, 0]; // right, wrong, right, right, right, wrong

/** One-layer UAP whose audio share encodes the clip index, so group means are checkable. */
function uap(i: number): LayerUap[] {
  const audio = i / 10;
  return [{ visual: 1 - audio, audio, text: 0, visualOfAV: 1 - audio, audioOfAV: audio }];
}
function tokens(i: number): LayerTokenAttention[] {
  return [{ audioToken: i, visualTokenMean: 1, visualTokenMax: 2, textTokenMean: 0 }];
}

function summary() {
  return summarizeCheckpoint(TRUTH, {
    settings: [
      { id: 'off', predictions: OFF, flaggedHeads: [0, 0, 0, 0, 0, 0] },
      { id: 'ar', predictions: AR, flaggedHeads: [1, 2, 3, 0, 0, 0] },
    ],
    uap: [0, 1, 2, 3, 4, 5].map(uap),
    tokenAttention: [0, 1, 2, 3, 4, 5].map(tokens),
  });
}

describe('summarizeCheckpoint', () => {
  it('scores every setting per subset with the gap and the three-subset mean', () => {
    const [off, ar] = summary().settings;
    assert.equal(off!.bySubset.consistent.accuracy, 100);
    assert.equal(off!.bySubset['video-aligned'].accuracy, 50);
    assert.equal(off!.bySubset['audio-aligned'].accuracy, 50);
    assert.equal(off!.gap, 0);
    assert.equal(off!.meanAccuracy, 200 / 3);
    assert.equal(ar!.bySubset.consistent.accuracy, 50);
    assert.equal(ar!.bySubset['video-aligned'].accuracy, 100);
    assert.equal(ar!.gap, -50);
    assert.equal(ar!.meanFlaggedHeads, 1);
    assert.deepEqual(ar!.confusion, [
      [2, 0, 0],
      [0, 1, 1],
      [1, 0, 1],
    ]);
  });

  it('counts flips against the first setting per subset', () => {
    const [off, ar] = summary().settings;
    assert.equal(off!.flips, null);
    assert.deepEqual(ar!.flips, {
      consistent: { wrongToRight: 0, rightToWrong: 1 },
      'audio-aligned': { wrongToRight: 0, rightToWrong: 0 },
      'video-aligned': { wrongToRight: 1, rightToWrong: 0 },
    });
  });

  it('averages the baseline attention over wrong vs right answers per subset', () => {
    const { byAnswer } = summary();
    const va = byAnswer['video-aligned'];
    assert.equal(va.wrong.uap.count, 1);
    assert.equal(va.wrong.uap.layers[0]!.audio, 0.2); // clip 2
    assert.equal(va.right.uap.layers[0]!.audio, 0.3); // clip 3
    assert.equal(byAnswer.consistent.wrong.uap.count, 0);
    assert.deepEqual(byAnswer.consistent.wrong.uap.layers, []);
    assert.equal(byAnswer.consistent.right.tokenAttention.layers[0]!.audioToken, 0.5); // clips 0, 1
    assert.equal(byAnswer['audio-aligned'].wrong.tokenAttention.layers[0]!.audioToken, 5);
  });

  it('rejects per-clip arrays that do not match the split', () => {
    assert.throws(
      () =>
        summarizeCheckpoint(TRUTH, {
          settings: [{ id: 'off', predictions: [0], flaggedHeads: [0] }],
          uap: [0, 1, 2, 3, 4, 5].map(uap),
          tokenAttention: [0, 1, 2, 3, 4, 5].map(tokens),
        }),
      RangeError,
    );
  });
});
