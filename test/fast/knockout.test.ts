// Head knockout's arithmetic (src/core/analysis/knockout.ts) and the label lens
// (src/shared/labelLens.ts), checked on numbers worked out by hand.
import { flaggedHeadsByAudio } from '../../src/shared/flaggedHeads';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cumulativePoint,
  gatedRun,
  headsProblem,
  knockoutGate,
  knockoutPair,
  logProbability,
  parseHeadList,
  rankBySingleKnockout,
} from '../../src/core/analysis/knockout';
import { labelLens } from '../../src/shared/labelLens';
import { parseOrThrow, issueError } from '../../src/protocol/issues';
import { HeadRankingSchema, headName } from '../../src/protocol/knockout';

const close = (a: number, b: number, tol = 1e-12): void =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('knockout arithmetic', () => {
  it('log-probability is log softmax, stable for large logits', () => {
    // logits [0, ln 3]: p = [1/4, 3/4].
    close(logProbability([0, Math.log(3)], 0), Math.log(0.25));
    close(logProbability([1000, 1000 + Math.log(3)], 1), Math.log(0.75));
  });

  it('a knockout pair measures the change of the ungated answer', () => {
    const before = gatedRun([Math.log(3), 0]); // p = [3/4, 1/4], answer 0
    const after = gatedRun([0, 0]); // p = [1/2, 1/2]
    const pair = knockoutPair(before, after);
    assert.equal(pair.answer, 0);
    close(pair.answerLogProbChange, Math.log(0.5) - Math.log(0.75));
    assert.equal(after.prediction, 0, 'ties go to the first label');
  });

  it('gatedRun splits layer_logits into rows of C', () => {
    const run = gatedRun([1, 2], [1, 0, 0, 1, 1, 2]);
    assert.deepEqual(run.layerLogits, [
      [1, 0],
      [0, 1],
      [1, 2],
    ]);
  });

  it('the gate is all ones but for the knocked-out heads', () => {
    assert.deepEqual(
      Array.from(
        knockoutGate(
          [
            { layer: 1, head: 0 },
            { layer: 0, head: 2 },
          ],
          2,
          3,
        ),
      ),
      [1, 1, 0, 0, 1, 1],
    );
  });

  it('heads outside the model or named twice are refused', () => {
    assert.equal(headsProblem([{ layer: 1, head: 2 }], 2, 3), undefined);
    assert.match(
      headsProblem([{ layer: 2, head: 0 }], 2, 3)!,
      /L2\.H0: no layer 2 \(the model has layers 0–1\)/,
    );
    assert.match(headsProblem([{ layer: 0, head: 3 }], 2, 3)!, /no head 3/);
    assert.match(
      headsProblem(
        [
          { layer: 0, head: 1 },
          { layer: 0, head: 1 },
        ],
        2,
        3,
      )!,
      /L0\.H1 is named twice/,
    );
  });

  it('flagged heads come most audio-attending first (ties: layer, head)', () => {
    const flags = [
      [1, 0, 1],
      [1, 1, 0],
    ];
    const mass = [
      [
        [0.5, 0.2, 0.3],
        [0, 0.9, 0.1],
        [0.4, 0.5, 0.1],
      ],
      [
        [0.3, 0.2, 0.5],
        [0.1, 0.5, 0.4],
        [0, 1, 0],
      ],
    ];
    assert.deepEqual(flaggedHeadsByAudio(flags, mass).map(headName), [
      'L0.H2', // audio 0.5
      'L1.H1', // audio 0.5, later layer
      'L0.H0', // audio 0.2
      'L1.H0', // audio 0.2
    ]);
  });

  it('ranks by the change in the answer log-probability, largest drop first', () => {
    const heads = [
      { layer: 0, head: 0 },
      { layer: 0, head: 1 },
      { layer: 1, head: 0 },
      { layer: 1, head: 1 },
    ];
    const base = logProbability([Math.log(3), 0], 0); // p(answer 0) = 3/4
    const singles = [
      [Math.log(3), 0], // no change
      [0, 0], // p 1/2: −0.405
      [0, Math.log(3)], // p 1/4: −1.099, prediction flips
      [Math.log(7), 0], // p 7/8: +0.154
    ];
    const ranked = rankBySingleKnockout(heads, singles, 0, base);
    assert.deepEqual(
      ranked.map((h) => headName(h)),
      ['L1.H0', 'L0.H1', 'L0.H0', 'L1.H1'],
    );
    close(ranked[0]!.change, Math.log(0.25 / 0.75));
    assert.equal(ranked[0]!.prediction, 1);
    close(ranked[3]!.change, Math.log(0.875 / 0.75));
    assert.equal(ranked[2]!.change, 0);
    assert.throws(
      () => rankBySingleKnockout(heads, singles.slice(1), 0, base),
      /3 knockout runs for 4 heads/,
    );
  });

  it('a cumulative point gives p(answer), its change and the prediction', () => {
    const base = Math.log(0.75);
    const point = cumulativePoint(2, [0, Math.log(3)], 0, base);
    close(point.probability, 0.25);
    close(point.change, Math.log(1 / 3));
    assert.equal(point.prediction, 1);
    assert.equal(point.removed, 2);
    const ranking = {
      kind: 'mosear-lens/head-ranking',
      labels: ['a', 'b'],
      under: 'off',
      answer: 0,
      baseLogProb: base,
      candidates: 1,
      k: 16,
      ranked: [{ layer: 0, head: 0, logProb: point.logProb, change: point.change, prediction: 1 }],
      cumulative: [cumulativePoint(0, [Math.log(3), 0], 0, base), point],
    };
    assert.doesNotThrow(() => parseOrThrow(HeadRankingSchema, ranking, issueError));
  });

  it('parses head lists as L<l>.H<h> or <l>.<h>', () => {
    assert.deepEqual(parseHeadList('L2.H3, 0.1,l1.h0'), [
      { layer: 2, head: 3 },
      { layer: 0, head: 1 },
      { layer: 1, head: 0 },
    ]);
    assert.throws(() => parseHeadList('2:3'), /"2:3" is not a head/);
  });
});

describe('label lens', () => {
  it('per-layer probabilities, top labels and where the answer takes over', () => {
    const lens = labelLens(
      [
        [0, Math.log(3)], // top 1
        [Math.log(3), 0], // top 0
        [0, Math.log(3)], // top 1
        [0, Math.log(7)], // top 1
      ],
      1,
    );
    assert.deepEqual(lens.top, [1, 0, 1, 1]);
    close(lens.answerProbability[0]!, 0.75);
    close(lens.answerProbability[3]!, 0.875);
    assert.equal(lens.takesOver, 2, 'from layer 2 on the answer leads to the end');
    assert.equal(
      labelLens(
        [
          [0, 1],
          [1, 0],
        ],
        1,
      ).takesOver,
      null,
      'the last layer is not the answer',
    );
  });
});
