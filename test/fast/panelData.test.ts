// The Analysis panel's pure derivations (webview/analysis/panelData.ts) and the CSV writer: file names, the τ
// slider scale, token ranks, the biased-heads rows and which flags are shown.
import { headMeanRows, type TokenRows } from '../../src/protocol/tokenRows';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AnalysisResult, LayerDecision } from '../../src/protocol/analysisResult';
import type { ArControls, TauRange } from '../../src/protocol/contract';
import {
  biasedHeadRows,
  countFlags,
  fileStem,
  flipPoints,
  layerFlagSummary,
  reasonText,
  sameControls,
  tauSweepValues,
  sliderToTau,
  tauToSlider,
  tokenWeights,
  missingRowsNote,
  type ShownFlags,
} from '../../webview/analysis/panelData';
import { answerTokenRow, uapFromRows } from '../../src/shared/panelRows';
import { toCsv } from '../../src/shared/csv';

const controls: ArControls = {
  mode: 1,
  ratioKind: 2,
  tau: [0.3],
  headMargin: 0.25,
  alpha: 0.5,
  paiAlpha: 0.1,
  layers: [1],
  headOverride: [[0, 0]],
};

/** One layer, two heads, three tokens: just what the derivations read. */
function tinyResult(): AnalysisResult {
  return {
    clip: { name: 'my clip, "take 2".mp4' },
    model: { metadata: { architecture: { layers: 1, heads: 2 } } },
    intervention: {
      controls,
      modalityMass: [
        [
          [0.2, 0.6, 0.2],
          [0.5, 0.3, 0.2],
        ],
      ],
      modalityMassAfter: [
        [
          [0.5, 0.3, 0.2],
          [0.5, 0.3, 0.2],
        ],
      ],
      arFlags: [[1, 0]],
      tokenAttentionBefore: rowsOf([0.1, 0.6, 0.3, 0.3, 0.3, 0.4]),
      tokenAttention: rowsOf([0.4, 0.3, 0.3, 0.2, 0.2, 0.6]),
    },
  } as unknown as AnalysisResult;
}

/** One layer, two heads, three positions. */
function rowsOf(values: number[]): TokenRows {
  return { heads: 'all', shape: [1, 2, 3], data: Float32Array.from(values) };
}

const decision: LayerDecision = {
  layer: 0,
  enabled: true,
  statistic: 0.6,
  tau: 0.3,
  triggered: true,
  headStatistics: [0.75, 0.375],
  headMean: 0.5625,
  headThreshold: 0.703125,
  flags: [true, false],
  reasons: ['automatic', 'not-selected'],
};

describe('panel data', () => {
  test('CSV quotes cells with commas, quotes and line breaks; objects as JSON', () => {
    const csv = toCsv([{ a: 'x,y', b: 'say "hi"', c: 1.5, d: null, e: [1, 2] }]);
    assert.equal(csv, 'a,b,c,d,e\n"x,y","say ""hi""",1.5,,"[1,2]"\n');
    assert.equal(toCsv([], ['only']), 'only\n');
  });

  test('controls compare by value, whatever the key order', () => {
    const { headOverride, layers, ...rest } = controls;
    const reordered = JSON.parse(JSON.stringify({ headOverride, layers, ...rest })) as ArControls;
    assert.ok(sameControls(controls, reordered));
    assert.ok(!sameControls(controls, { ...controls, headOverride: [[0, 1]] }));
    assert.ok(!sameControls(controls, { ...controls, tau: [0.3, 0.3] }));
  });

  test('file stems are safe bare names', () => {
    assert.equal(fileStem(tinyResult()), 'my_clip_take_2_');
    assert.equal(fileStem(null), 'analysis');
    assert.equal(fileStem({ clip: { name: '../../.mp4' } } as unknown as AnalysisResult), '_.._');
  });

  test('the τ slider is linear or log10 per the checkpoint’s sweep, and round-trips', () => {
    const log: TauRange = { min: 0.001, max: 1000, steps: 25, scale: 'log' };
    const linear: TauRange = { min: 0, max: 1, steps: 21, scale: 'linear' };
    assert.equal(tauToSlider(log, 10), 1);
    assert.equal(sliderToTau(log, -2), 0.01);
    assert.equal(tauToSlider(log, 0), -3, 'τ below the sweep sits at its start');
    assert.equal(tauToSlider(linear, 0.35), 0.35);
    assert.equal(sliderToTau(linear, 0.35), 0.35);
  });

  test('token weights per head or head-averaged, with ranks (1 = largest)', () => {
    const r = tinyResult();
    const weights = (
      layer: number,
      head: number | 'mean',
      stage: 'before' | 'after',
      result = r,
    ): ReturnType<typeof tokenWeights> => {
      const answer = answerTokenRow(result, { run: 'intervention', stage, layer, head });
      return tokenWeights('row' in answer ? answer.row : null);
    };
    assert.deepEqual(
      weights(0, 1, 'after').map((t) => [t.weight, t.rank]),
      [
        [Math.fround(0.2), 2],
        [Math.fround(0.2), 3],
        [Math.fround(0.6), 1],
      ],
    );
    const mean = weights(0, 'mean', 'before');
    assert.deepEqual(
      mean.map((t) => t.rank),
      [3, 1, 2],
    );
    assert.ok(Math.abs((mean[1]?.weight ?? 0) - 0.45) < 1e-7);
    assert.deepEqual(weights(5, 'mean', 'after'), []);
    const none = { ...r, intervention: { ...r.intervention, tokenAttention: null } };
    assert.deepEqual(weights(0, 1, 'after', none), [], 'no rows stored: nothing to weigh');
    assert.match(missingRowsNote(null, 1) ?? '', /without token rows \(--tokens none\)/);
    assert.match(missingRowsNote('mean', 1) ?? '', /head 1's own row was not stored/);
    assert.equal(missingRowsNote('mean', 'mean'), null);
    assert.equal(missingRowsNote('all', 1), null);
    const means = {
      ...r,
      intervention: {
        ...r.intervention,
        tokenAttention: headMeanRows(r.intervention.tokenAttention!),
      },
    };
    assert.deepEqual(
      weights(0, 1, 'after', means).map((t) => t.weight),
      weights(0, 'mean', 'after').map((t) => Math.fround(t.weight)),
      'a head-mean result shows the (stored, float32) mean for any head',
    );
  });

  test('biased-head rows: the run’s audio moved and visual share; preview flags have none yet', () => {
    const r = tinyResult();
    const run: ShownFlags = {
      preview: false,
      flags: [[true, false]],
      decisions: [decision],
      count: 1,
    };
    const [row] = biasedHeadRows(r, run, { key: 'statistic', descending: true });
    assert.deepEqual(row, {
      layer: 0,
      head: 0,
      flagged: true,
      reason: 'automatic',
      statistic: 0.75,
      layerMean: 0.5625,
      aboveThreshold: 0.75 - 0.703125,
      audioMoved: 0.6 - 0.3,
      visualBefore: 0.2,
      visualAfter: 0.5,
    });
    const preview: ShownFlags = { ...run, preview: true, flags: [[true, true]], count: 2 };
    const rows = biasedHeadRows(r, preview, { key: 'statistic', descending: false });
    assert.deepEqual(
      rows.map((x) => [x.head, x.audioMoved]),
      [
        [1, null],
        [0, null],
      ],
    );
    assert.equal(
      countFlags([
        [1, 0],
        [1, 1],
      ]),
      3,
    );
    assert.equal(countFlags(new Float32Array([0, 1, 0.2])), 1);
  });
});

describe('32 × 32 views', () => {
  const run: ShownFlags = {
    preview: false,
    flags: [[true, false]],
    decisions: [decision],
    count: 1,
  };

  test('the heads list filters by layer range, least statistic and flagged only', () => {
    const r = tinyResult();
    const sort = { key: 'head', descending: false } as const;
    const all = { fromLayer: null, toLayer: null, minStatistic: null, flaggedOnly: false };
    assert.deepEqual(
      biasedHeadRows(r, run, sort, all).map((x) => [x.head, x.flagged]),
      [
        [0, true],
        [1, false],
      ],
    );
    assert.equal(biasedHeadRows(r, run, sort, { ...all, minStatistic: 0.5 }).length, 1);
    assert.equal(biasedHeadRows(r, run, sort, { ...all, fromLayer: 1 }).length, 0);
    assert.equal(biasedHeadRows(r, run, sort).length, 1, 'flagged only by default');
  });

  test('per-layer summary: the count and the heads furthest above their threshold', () => {
    assert.deepEqual(layerFlagSummary(run), [
      { layer: 0, flagged: 1, heads: 2, strongest: [{ head: 0, aboveThreshold: 0.75 - 0.703125 }] },
    ]);
  });

  test('UAP from token rows: heads averaged, position 0 left out and the rest renormalised', () => {
    const tokens = [{ modality: 'visual' }, { modality: 'audio' }, { modality: 'text' }];
    const rows = tinyResult().intervention.tokenAttention!;
    // The rows are float32: equal to their decimals within float32 rounding.
    const [kept] = uapFromRows(rows, tokens as AnalysisResult['tokens'], false);
    assert.ok(Math.abs((kept?.visual ?? NaN) - 0.3) < 1e-7);
    assert.ok(Math.abs((kept?.visualOfAV ?? NaN) - 0.3 / 0.55) < 1e-7);
    const [skipped] = uapFromRows(rows, tokens as AnalysisResult['tokens'], true);
    // Without position 0: audio (0.3 + 0.2) / 2 and text (0.3 + 0.6) / 2 of their sum 0.7.
    assert.equal(skipped?.visual, 0);
    assert.ok(Math.abs((skipped?.audio ?? NaN) - 0.25 / 0.7) < 1e-7);
    assert.ok(Math.abs((skipped?.text ?? NaN) - 0.45 / 0.7) < 1e-7);
    assert.equal(skipped?.audioOfAV, 1);
    const mean = headMeanRows(rows);
    assert.deepEqual(mean.shape, [1, 1, 3]);
    const [fromMean] = uapFromRows(mean, tokens as AnalysisResult['tokens'], true);
    assert.ok(Math.abs((fromMean?.audio ?? NaN) - 0.25 / 0.7) < 1e-7, 'head means give the same');
  });
});

describe('threshold debugging', () => {
  test('the sweep’s τ values: its steps, evenly spaced on its own scale, ends included', () => {
    assert.deepEqual(
      tauSweepValues({ min: 0, max: 1, steps: 5, scale: 'linear' }),
      [0, 0.25, 0.5, 0.75, 1],
    );
    const log = tauSweepValues({ min: 1e-4, max: 1, steps: 5, scale: 'log' });
    assert.deepEqual(
      log.map((t) => Number(t.toPrecision(6))),
      [1e-4, 1e-3, 1e-2, 1e-1, 1],
    );
  });

  test('flip points: a layer at its statistic; a head at its layer’s, only when it passes its tick', () => {
    const d: LayerDecision = {
      layer: 0,
      enabled: true,
      statistic: 0.4,
      tau: 0.5,
      triggered: false,
      headStatistics: [0.6, 0.2],
      headMean: 0.4,
      headThreshold: 0.5,
      flags: [false, false],
      reasons: ['not-selected', 'not-selected'],
    };
    const high = flipPoints(d, 0);
    assert.deepEqual([high.layerTau, high.headTau], [0.4, 0.4]);
    assert.ok(Math.abs(high.headMargin - 0.5) < 1e-12);
    const low = flipPoints(d, 1);
    assert.equal(low.headTau, null);
    assert.ok(Math.abs(low.headMargin - -0.5) < 1e-12);
    assert.equal(flipPoints({ ...d, reasons: ['forced-off', 'layer-off'] }, 0).headTau, null);
  });

  test('reasons in words, hypothetical when AR does not act', () => {
    assert.equal(reasonText('layer-off', true), 'layer not enabled');
    assert.match(reasonText('automatic', false), /^would be flagged/);
    assert.match(reasonText('automatic', true), /^flagged/);
    assert.doesNotMatch(reasonText('not-selected', true), /not-selected/);
  });
});
