// Modality counterfactuals, the pure parts: a variant's outcome (worked by hand), the verdict rule
// at its threshold, partner choice from a manifest and a folder (one label only is refused),
// Spearman's ρ with ties and its seeded bootstrap interval, the reliance summary, the schema.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GREY_VALUE,
  LOG_PROB_DROP_THRESHOLD,
  greyFrames,
  logSoftmax,
  silencedAudio,
  variantOutcome,
  verdictOf,
} from '../../src/core/analysis/counterfactuals';
import {
  averageRanks,
  spearman,
  spearmanWithInterval,
} from '../../src/core/analysis/rankCorrelation';
import {
  PartnerError,
  partnersFromFolder,
  partnersFromManifest,
} from '../../src/core/engine/counterfactualPartners';
import { summarizeReliance } from '../../src/core/evaluation/relianceSummary';
import type {
  CounterfactualVariant,
  VariantOutcome,
} from '../../src/protocol/counterfactualResult';
import type { RelianceClip } from '../../src/protocol/relianceSummary';

const LABELS = ['neutral', 'happy', 'sad', 'angry'];

/** An outcome with the given answer and log-probability change (other fields irrelevant). */
function outcome(index: number, change: number, answer = 0): VariantOutcome {
  return {
    index,
    label: LABELS[index] as string,
    probabilities: [],
    answerLogProbChange: change,
    moved: index !== answer || change <= -LOG_PROB_DROP_THRESHOLD,
  };
}

function variant(
  kind: CounterfactualVariant['kind'],
  off: VariantOutcome | null,
  intervention: VariantOutcome | null = off,
): CounterfactualVariant {
  return { kind, off, intervention };
}

describe('variant outcomes', () => {
  test('worked by hand: logits [0, 0] → [ln 3, 0]', () => {
    // Before: p = (½, ½), the answer is label 0 (first on ties). After: p = (¾, ¼).
    const o = variantOutcome(['a', 'b'], [0, 0], [Math.log(3), 0]);
    assert.equal(o.index, 0);
    assert.equal(o.label, 'a');
    assert.ok(Math.abs((o.probabilities[0] as number) - 0.75) < 1e-12);
    assert.ok(Math.abs(o.answerLogProbChange - Math.log(1.5)) < 1e-12);
    assert.equal(o.moved, false);
  });

  test('the answer falling to a quarter moves it; a flip moves it whatever the change', () => {
    // p(answer) from ¾ to ¼ (log change −ln 3) and the answer flips.
    const flip = variantOutcome(['a', 'b'], [Math.log(3), 0], [0, Math.log(3)]);
    assert.equal(flip.index, 1);
    assert.ok(Math.abs(flip.answerLogProbChange + Math.log(3)) < 1e-12);
    assert.equal(flip.moved, true);
    // Three labels: the answer keeps the lead, its probability 0.8 → 4/10.9 (more than halved).
    const halved = variantOutcome(
      ['a', 'b', 'c'],
      [Math.log(8), 0, 0],
      [Math.log(4), Math.log(3.9), Math.log(3)],
    );
    assert.equal(halved.index, 0);
    assert.ok(halved.answerLogProbChange <= -Math.LN2 + 1e-12);
    assert.equal(halved.moved, true);
  });

  test('log softmax is stable and sums to one', () => {
    const l = logSoftmax([1000, 1000]);
    assert.ok(Math.abs((l[0] as number) - Math.log(0.5)) < 1e-12);
  });

  test('grey is RGB 128 in the [0, 1] input; silence keeps the length', () => {
    const grey = greyFrames(new Float32Array(6));
    assert.equal(grey.length, 6);
    assert.ok(grey.every((x) => x === Math.fround(128 / 255)));
    assert.equal(GREY_VALUE, 128 / 255);
    const silence = silencedAudio(Float32Array.from([0.5, -0.25, 1]));
    assert.deepEqual([...silence], [0, 0, 0]);
  });
});

describe('the verdict rule (swaps only)', () => {
  const swaps = (audio: VariantOutcome[], frames: VariantOutcome[]): CounterfactualVariant[] => [
    variant('original', outcome(0, 0)),
    // Silence and grey move the answer here, and must not decide.
    variant('audio-silenced', outcome(2, -5)),
    variant('frames-grey', outcome(3, -5)),
    ...audio.map((o) => variant('audio-swapped', o)),
    ...frames.map((o) => variant('frames-swapped', o)),
  ];

  test('audio-decided, video-decided, both, neither by majority of each modality’s swaps', () => {
    const moved = outcome(1, -2);
    const kept = outcome(0, -0.1);
    assert.equal(
      verdictOf(swaps([moved, moved, kept], [kept, kept, moved]), 'off').verdict,
      'audio-decided',
    );
    assert.equal(
      verdictOf(swaps([kept, kept, moved], [moved, moved, kept]), 'off').verdict,
      'video-decided',
    );
    assert.equal(verdictOf(swaps([moved], [moved]), 'off').verdict, 'both');
    assert.equal(verdictOf(swaps([kept], [kept]), 'off').verdict, 'neither');
    // Exactly half is not more than half.
    assert.equal(verdictOf(swaps([moved, kept], [kept]), 'off').verdict, 'neither');
  });

  test('the threshold: a drop of exactly ln 2 moves the answer, a little less does not', () => {
    const at = outcome(0, -LOG_PROB_DROP_THRESHOLD);
    const below = outcome(0, -0.69);
    assert.equal(at.moved, true);
    assert.equal(below.moved, false);
    const v = verdictOf(swaps([at], [below]), 'off');
    assert.equal(v.verdict, 'audio-decided');
    assert.equal(v.audioSwapsMoved, 1);
    assert.equal(v.framesSwapsMoved, 0);
    assert.ok(Math.abs((v.meanAudioSwapChange as number) + Math.LN2) < 1e-15);
  });

  test('a modality with no swap that ran is undecided', () => {
    const variants = swaps([outcome(1, -3)], []);
    variants.push({
      kind: 'frames-swapped',
      partner: 'x.mp4',
      problem: 'no',
      off: null,
      intervention: null,
    });
    const v = verdictOf(variants, 'off');
    assert.equal(v.verdict, 'undecided');
    assert.equal(v.framesSwaps, 0);
    assert.equal(v.meanFramesSwapChange, null);
  });

  test('off and the intervention are judged apart', () => {
    const variants = [
      variant('audio-swapped', outcome(1, -2), outcome(0, -0.1)),
      variant('frames-swapped', outcome(0, -0.1), outcome(2, -3)),
    ];
    assert.equal(verdictOf(variants, 'off').verdict, 'audio-decided');
    assert.equal(verdictOf(variants, 'intervention').verdict, 'video-decided');
  });
});

describe('swap partners', () => {
  const entry = (path: string, label: number, subset: string | null) => ({ path, label, subset });
  const entries = [
    entry('/d/clip.mp4', 0, 'consistent'),
    entry('/d/h-audio.mp4', 1, 'audio-aligned'),
    entry('/d/h-cons.mp4', 1, 'consistent'),
    entry('/d/s-video.mp4', 2, 'video-aligned'),
    entry('/d/n-cons.mp4', 0, 'consistent'),
  ];

  test('from a manifest: the first consistent clip of each other label, else its first clip', () => {
    const partners = partnersFromManifest('/d/clip.mp4', entries, LABELS, 'manifest.jsonl');
    assert.deepEqual(
      partners.map((p) => [p.name, p.label, p.choice, p.replaces]),
      [
        ['h-cons.mp4', 'happy', 'manifest', 'both'],
        ['s-video.mp4', 'sad', 'manifest', 'both'],
      ],
    );
    assert.match(partners[0]?.how ?? '', /first consistent clip labelled happy in manifest\.jsonl/);
    assert.match(partners[1]?.how ?? '', /no consistent one/);
  });

  test('a clip outside the manifest gets a partner of every label', () => {
    const partners = partnersFromManifest('/e/other.mp4', entries, LABELS, 'm.jsonl');
    assert.deepEqual(
      partners.map((p) => p.name),
      ['clip.mp4', 'h-cons.mp4', 's-video.mp4'],
    );
  });

  test('one label only: a clear message, no partner', () => {
    const one = [entry('/d/clip.mp4', 2, 'consistent'), entry('/d/b.mp4', 2, 'consistent')];
    assert.throws(
      () => partnersFromManifest('/d/clip.mp4', one, LABELS, 'manifest.jsonl'),
      (error: unknown) =>
        error instanceof PartnerError &&
        /one label only \(sad\).*no automatic swap partner.*--audio-from/.test(error.message),
    );
  });

  test('from a folder: clips after the clip by name, wrapping round, other files ignored', () => {
    const names = ['b.mp4', 'a.mp4', 'notes.txt', 'd.MKV', 'clip.mp4'];
    const partners = partnersFromFolder('/f/b.mp4', names, 2);
    assert.deepEqual(
      partners.map((p) => p.path),
      ['/f/clip.mp4', '/f/d.MKV'],
    );
    assert.deepEqual(
      partnersFromFolder('/f/d.MKV', names, 3).map((p) => p.name),
      ['a.mp4', 'b.mp4', 'clip.mp4'],
    );
    assert.ok(partners.every((p) => p.label === null && p.choice === 'folder'));
    assert.throws(() => partnersFromFolder('/f/b.mp4', ['b.mp4', 'x.txt'], 2), PartnerError);
  });
});

describe('Spearman ρ and its bootstrap interval', () => {
  test('worked by hand: no ties (ρ = 1 − 6Σd²/(n(n²−1)) = 0.8)', () => {
    assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) - 0.8) < 1e-12);
  });

  test('worked by hand: ties share the mean rank (ρ = 3/√10)', () => {
    assert.deepEqual(averageRanks([10, 20, 20, 30]), [1, 2.5, 2.5, 4]);
    assert.deepEqual(averageRanks([3, 1, 3, 3]), [3, 1, 3, 3]);
    assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 3 / Math.sqrt(10)) < 1e-12);
    assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
  });

  test('the interval: seeded, [1, 1] for a monotone relation, constant resamples left out', () => {
    const x = [0.1, 0.2, 0.3];
    const up = spearmanWithInterval(x, [1, 5, 9]);
    assert.deepEqual([up.rho, up.low, up.high], [1, 1, 1]);
    // A resample of one clip drawn thrice has no ρ: probability 3/27 = 1/9 of 2000 resamples.
    assert.ok(up.resamplesUsed > 1700 && up.resamplesUsed < 1900, String(up.resamplesUsed));
    const down = spearmanWithInterval(x, [9, 5, 1]);
    assert.deepEqual([down.rho, down.low, down.high], [-1, -1, -1]);
    const noisy = [0.3, 0.1, 0.4, 0.15, 0.9, 0.26, 0.5, 0.35];
    const y = [1, 3, 2, 0, 5, 4, 6, 2.5];
    const a = spearmanWithInterval(noisy, y, { seed: 7 });
    assert.deepEqual(spearmanWithInterval(noisy, y, { seed: 7 }), a);
    assert.ok(a.low <= a.rho && a.rho <= a.high && a.low >= -1 && a.high <= 1);
    assert.notDeepEqual(spearmanWithInterval(noisy, y, { seed: 8 }), a);
  });
});

describe('the reliance summary', () => {
  const clip = (
    subset: string,
    drop: number,
    shares: number[],
    verdict: RelianceClip['verdictOff'],
  ): RelianceClip => ({
    path: `${subset}-${drop}.mp4`,
    label: 'happy',
    subset,
    answerOff: 'happy',
    verdictOff: verdict,
    verdictIntervention: 'neither',
    audioSwapDrop: drop,
    framesSwapDrop: 1,
    silenceDrop: 0.5,
    greyDrop: null,
    followsAudio: drop > 1 ? 1 : 0,
    followsFrames: 0,
    audioShareOff: shares,
    problem: null,
  });

  test('subset verdict counts, follows-shares, per-layer ρ and the best layer', () => {
    const clips = [
      clip('audio-aligned', 3, [0.9, 0.1], 'audio-decided'),
      clip('audio-aligned', 2, [0.8, 0.2], 'audio-decided'),
      clip('video-aligned', 0.5, [0.2, 0.3], 'video-decided'),
      clip('video-aligned', 0.1, [0.1, 0.4], 'neither'),
      { ...clip('video-aligned', 9, [1, 1], 'both'), problem: 'unreadable', audioSwapDrop: null },
    ];
    const s = summarizeReliance(clips, { resamples: 200 });
    assert.deepEqual(
      s.subsets.map((x) => [x.subset, x.clips]),
      [
        ['audio-aligned', 2],
        ['video-aligned', 2],
        ['all', 4],
      ],
    );
    const all = s.subsets[2];
    assert.equal(all?.verdictsOff['audio-decided'], 2);
    assert.equal(all?.verdictsOff['video-decided'], 1);
    assert.equal(all?.verdictsOff.neither, 1);
    assert.equal(all?.followsAudio, 0.5);
    assert.ok(Math.abs((all?.meanAudioSwapDrop as number) - 1.4) < 1e-12);
    assert.equal(all?.meanGreyDrop, null);
    // Layer 0 orders the drops exactly (ρ = 1); layer 1 reverses them (ρ = −1).
    assert.equal(s.layers[0]?.rho, 1);
    assert.ok(Math.abs((s.layers[1]?.rho as number) + 1) < 1e-12);
    assert.equal(s.bestLayer, 0);
  });
});
