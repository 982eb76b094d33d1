// Dataset-level figures of a labelled split under several intervention settings: per-subset
// accuracy and weighted F1, the audio−video gap, flips against the no-intervention run, and
// UAP / per-token attention averaged over wrong vs right answers, Δ accuracy against that run with
// a bootstrap interval and McNemar's p. Pure: no I/O, no model.
import {
  audioVideoGap,
  confusionMatrix,
  pairedFlips,
  scoresBySubset,
  threeSubsetMean,
} from '../analysis/metrics';
import { pairedAccuracyDelta } from '../analysis/statistics';
import { meanTokenAttention } from '../analysis/tokenAttention';
import { meanUap, type LayerUap } from '../analysis/uap';
import {
  CA_MER_SUBSETS,
  type CaMerSubset,
  type SubsetScores,
  type LayerTokenAttention,
  type AnswerSplit,
  type PairedDelta,
} from '../../protocol/evaluationSummary';

/** The split's ground truth, one entry per clip. */
export interface SplitTruth {
  labels: readonly number[];
  subsets: readonly CaMerSubset[];
  /** Number of classes C. */
  classes: number;
}

/** One setting's answers on every clip. */
export interface SettingRun {
  /** Stable id, e.g. "off", "ar", "pai". */
  id: string;
  predictions: readonly number[];
  /** Heads with `ar_flags` = 1 per clip (all heads of enabled layers for PAI, 0 when off). */
  flaggedHeads: readonly number[];
}

/** A checkpoint's runs over the split. The first setting is the no-intervention baseline. */
export interface CheckpointRuns {
  settings: readonly SettingRun[];
  /** Per clip: UAP per layer of the baseline run. */
  uap: readonly (readonly LayerUap[])[];
  /** Per clip: per-token attention summary per layer of the baseline run. */
  tokenAttention: readonly (readonly LayerTokenAttention[])[];
}

/** Wrong→right and right→wrong counts of a setting against the baseline. */
export interface FlipCounts {
  wrongToRight: number;
  rightToWrong: number;
}

/** A setting's dataset-level figures. */
export interface SettingSummary {
  id: string;
  bySubset: Record<CaMerSubset, SubsetScores>;
  /** Unweighted mean accuracy of the three subsets. */
  meanAccuracy: number;
  /** Audio-aligned minus video-aligned accuracy (points). */
  gap: number;
  /** Mean flagged heads per clip over the whole split. */
  meanFlaggedHeads: number;
  /** Rows = truth, columns = prediction, over the whole split. */
  confusion: number[][];
  /** Against the baseline, per subset; null for the baseline itself. */
  flips: Record<CaMerSubset, FlipCounts> | null;
  /** Δ accuracy against the baseline with interval and McNemar p, per subset and over all clips; null for the baseline. */
  versusBaseline: { bySubset: Record<CaMerSubset, PairedDelta>; all: PairedDelta } | null;
}

/** Everything the results tables show for one checkpoint. */
export interface CheckpointSummary {
  settings: SettingSummary[];
  /** Per subset, the baseline's attention over wrong vs right answers. */
  byAnswer: Record<CaMerSubset, AnswerSplit>;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Summarises a checkpoint's runs on a split (every array indexed by clip, in split order). */
export function summarizeCheckpoint(truth: SplitTruth, runs: CheckpointRuns): CheckpointSummary {
  const n = truth.labels.length;
  const check = (what: string, length: number) => {
    if (length !== n) throw new RangeError(`${what}: ${length} clips, the split has ${n}`);
  };
  check('subsets', truth.subsets.length);
  check('uap', runs.uap.length);
  check('tokenAttention', runs.tokenAttention.length);
  const baseline = runs.settings[0];
  if (baseline === undefined) throw new RangeError('summarizeCheckpoint: no settings');

  const settings = runs.settings.map((run, index): SettingSummary => {
    check(`${run.id} predictions`, run.predictions.length);
    check(`${run.id} flaggedHeads`, run.flaggedHeads.length);
    const bySubset = scoresBySubset(
      run.predictions,
      truth.labels,
      truth.subsets,
      CA_MER_SUBSETS,
      truth.classes,
    );
    const accuracyBySubset = {} as Record<CaMerSubset, number>;
    for (const s of CA_MER_SUBSETS) accuracyBySubset[s] = bySubset[s].accuracy;
    let flips: Record<CaMerSubset, FlipCounts> | null = null;
    let versusBaseline: SettingSummary['versusBaseline'] = null;
    if (index > 0) {
      const delta = (include?: (i: number) => boolean) =>
        pairedAccuracyDelta(truth.labels, baseline.predictions, run.predictions, include);
      const bySubset = {} as Record<CaMerSubset, PairedDelta>;
      for (const s of CA_MER_SUBSETS) bySubset[s] = delta((i) => truth.subsets[i] === s);
      versusBaseline = { bySubset, all: delta() };
      flips = {} as Record<CaMerSubset, FlipCounts>;
      for (const s of CA_MER_SUBSETS) {
        const f = pairedFlips(
          truth.labels,
          baseline.predictions,
          run.predictions,
          (i) => truth.subsets[i] === s,
        );
        flips[s] = { wrongToRight: f.wrongToRight, rightToWrong: f.rightToWrong };
      }
    }
    return {
      id: run.id,
      bySubset,
      meanAccuracy: threeSubsetMean(accuracyBySubset),
      gap: audioVideoGap(accuracyBySubset),
      meanFlaggedHeads: mean(run.flaggedHeads),
      confusion: confusionMatrix(run.predictions, truth.labels, truth.classes),
      flips,
      versusBaseline,
    };
  });

  const byAnswer = {} as Record<CaMerSubset, AnswerSplit>;
  for (const s of CA_MER_SUBSETS) {
    const group = (right: boolean) => {
      const clips: number[] = [];
      for (let i = 0; i < n; i++) {
        if (truth.subsets[i] !== s) continue;
        if ((baseline.predictions[i] === truth.labels[i]) === right) clips.push(i);
      }
      return {
        uap: { count: clips.length, layers: meanUap(clips.map((i) => runs.uap[i] ?? [])) },
        tokenAttention: {
          count: clips.length,
          layers: meanTokenAttention(clips.map((i) => runs.tokenAttention[i] ?? [])),
        },
      };
    };
    byAnswer[s] = { wrong: group(false), right: group(true) };
  }
  return { settings, byAnswer };
}
