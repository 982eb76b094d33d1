import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accuracy,
  audioVideoGap,
  classScores,
  confusionMatrix,
  isCaMerSubset,
  pairedFlips,
  scoresBySubset,
  threeSubsetMean,
  weightedF1,
} from '../../src/core/analysis/metrics';
import { argmax, softmax } from '../../src/core/analysis/probabilities';

function close(actual: number, expected: number, what = 'value') {
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: ${actual} ≠ ${expected}`);
}

describe('softmax and argmax', () => {
  it('gives probabilities that sum to 1 and survive large logits', () => {
    const p = softmax([1000, 1000 + Math.log(3)]);
    close(p[0] as number, 0.25);
    close(p[1] as number, 0.75);
    assert.equal(argmax([0.1, 0.7, 0.7, 0.2]), 1, 'first of a tie');
    assert.equal(argmax([]), -1);
  });
});

describe('accuracy and confusion matrix', () => {
  it('counts matches as a percentage', () => {
    assert.equal(accuracy([0, 1, 2, 2], [0, 1, 1, 2]), 75);
    assert.ok(Number.isNaN(accuracy([], [])));
  });

  it('puts the truth on rows and predictions on columns', () => {
    assert.deepEqual(confusionMatrix([0, 1, 2, 2], [0, 1, 1, 2], 3), [
      [1, 0, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
  });

  it('rejects mismatched lengths and values outside the classes', () => {
    assert.throws(() => accuracy([0, 1], [0]), RangeError);
    assert.throws(() => confusionMatrix([3], [0], 3), RangeError);
    assert.throws(() => confusionMatrix([0], [-1], 3), RangeError);
    assert.throws(() => confusionMatrix([0.5], [0], 3), RangeError);
  });
});

describe('weighted F1', () => {
  it('weights per-class F1 by support', () => {
    // class 0: P = 1, R = 2/3, F1 = 0.8, support 3; class 1: P = 1/2, R = 1, F1 = 2/3, support 1.
    close(weightedF1([0, 0, 1, 1], [0, 0, 0, 1], 2), (100 * (0.8 * 3 + (2 / 3) * 1)) / 4);
    const scores = classScores(confusionMatrix([0, 0, 1, 1], [0, 0, 0, 1], 2));
    close(scores[0]!.precision, 1);
    close(scores[0]!.recall, 2 / 3);
    close(scores[1]!.f1, 2 / 3);
  });

  it('gives a predicted class without support weight 0 and F1 0 where nothing matches', () => {
    // class 0: P = 1, R = 1/2, F1 = 2/3 (support 2); class 1 has no support.
    close(weightedF1([0, 1], [0, 0], 2), (100 * 2) / 3);
    assert.equal(weightedF1([1, 0], [0, 1], 2), 0);
    assert.equal(weightedF1([2, 2, 2], [2, 2, 2], 6), 100);
    assert.ok(Number.isNaN(weightedF1([], [], 6)));
  });
});

describe('per-subset scores, gap and three-subset mean', () => {
  it('scores each named subset in order, empty subsets as NaN', () => {
    const scores = scoresBySubset(
      [0, 1, 1, 0],
      [0, 1, 0, 0],
      ['a', 'a', 'b', 'b'],
      ['b', 'a', 'c'],
      2,
    );
    assert.deepEqual(Object.keys(scores), ['b', 'a', 'c']);
    assert.equal(scores.a.accuracy, 100);
    assert.equal(scores.b.accuracy, 50);
    assert.equal(scores.b.count, 2);
    assert.equal(scores.c.count, 0);
    assert.ok(Number.isNaN(scores.c.accuracy));
  });

  it('computes audio-aligned − video-aligned and the unweighted mean of three subsets', () => {
    const acc = { consistent: 80, 'audio-aligned': 70, 'video-aligned': 58 };
    close(audioVideoGap(acc), 12);
    close(threeSubsetMean(acc), 208 / 3);
    assert.ok(isCaMerSubset('video-aligned'));
    assert.ok(!isCaMerSubset('video'));
  });
});

describe('paired flips', () => {
  const labels = [0, 1, 2, 3, 4];
  const before = [0, 0, 2, 0, 1];
  const after = [1, 1, 2, 0, 2];

  it('counts wrong→right, right→wrong and changed wrong answers', () => {
    const f = pairedFlips(labels, before, after);
    assert.equal(f.count, 5);
    assert.equal(f.wrongToRight, 1);
    assert.deepEqual(f.wrongToRightIndices, [1]);
    assert.equal(f.rightToWrong, 1);
    assert.deepEqual(f.rightToWrongIndices, [0]);
    assert.equal(f.wrongToOtherWrong, 1);
  });

  it('restricts the comparison to included samples', () => {
    const f = pairedFlips(labels, before, after, (i) => i >= 2);
    assert.equal(f.count, 3);
    assert.equal(f.wrongToRight, 0);
    assert.equal(f.rightToWrong, 0);
    assert.throws(() => pairedFlips(labels, before, [0]), RangeError);
  });
});
