// Classification metrics over prediction vectors: accuracy, weighted F1, confusion matrices,
// the CA-MER summary figures (per-subset accuracy, the audio−video gap, the three-subset mean)
// and paired flips between two runs on the same clips. Pure arithmetic on label indices.
import {
  CA_MER_SUBSETS,
  type CaMerSubset,
  type SubsetScores,
} from '../../protocol/evaluationSummary';

/** True for one of the three CA-MER subset names. */
export function isCaMerSubset(value: unknown): value is CaMerSubset {
  return (CA_MER_SUBSETS as readonly unknown[]).includes(value);
}

function checkPaired(a: ArrayLike<unknown>, b: ArrayLike<unknown>, what: string): void {
  if (a.length !== b.length) {
    throw new RangeError(`${what}: ${a.length} values vs ${b.length} values`);
  }
}

/** Percentage (0–100) of positions where the prediction equals the label; NaN when empty. */
export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkPaired(predictions, labels, 'accuracy');
  if (labels.length === 0) return NaN;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return (100 * correct) / labels.length;
}

/**
 * Confusion matrix [C][C] with rows = true label, columns = prediction. Labels and predictions
 * must be integers in 0 … classes − 1.
 */
export function confusionMatrix(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
): number[][] {
  checkPaired(predictions, labels, 'confusionMatrix');
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const truth = labels[i] as number;
    const predicted = predictions[i] as number;
    const isClass = (v: number) => Number.isInteger(v) && v >= 0 && v < classes;
    const row = matrix[truth];
    if (row === undefined || !isClass(truth) || !isClass(predicted)) {
      throw new RangeError(
        `confusionMatrix: label ${truth} / prediction ${predicted} at ${i} is not a class index < ${classes}`,
      );
    }
    row[predicted] = (row[predicted] as number) + 1;
  }
  return matrix;
}

/** Per-class precision, recall, F1 (0–1) and support from a confusion matrix. */
export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** How many samples have this true label. */
  support: number;
}

/** Precision, recall and F1 of each class; 0 where a denominator is 0 (scikit-learn's default). */
export function classScores(matrix: readonly (readonly number[])[]): ClassScores[] {
  return matrix.map((row, c) => {
    const tp = row[c] ?? 0;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((n, r) => n + (r[c] ?? 0), 0);
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { precision, recall, f1, support };
  });
}

/**
 * Weighted F1 as a percentage (0–100): per-class F1 weighted by each class's support (scikit-
 * learn's `average="weighted"`, the MER2023 metric). NaN when there are no samples.
 */
export function weightedF1(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
): number {
  if (labels.length === 0) return NaN;
  const scores = classScores(confusionMatrix(predictions, labels, classes));
  const weighted = scores.reduce((sum, s) => sum + s.f1 * s.support, 0);
  return (100 * weighted) / labels.length;
}

/**
 * Accuracy and weighted F1 per subset, for the subsets named in `subsetNames` (in that order),
 * from per-sample predictions, labels and subset names.
 */
export function scoresBySubset<S extends string>(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  subsets: readonly string[],
  subsetNames: readonly S[],
  classes: number,
): Record<S, SubsetScores> {
  checkPaired(predictions, labels, 'scoresBySubset');
  checkPaired(subsets, labels, 'scoresBySubset (subsets)');
  const out = {} as Record<S, SubsetScores>;
  for (const name of subsetNames) {
    const p: number[] = [];
    const y: number[] = [];
    subsets.forEach((s, i) => {
      if (s !== name) return;
      p.push(predictions[i] as number);
      y.push(labels[i] as number);
    });
    out[name] = {
      count: y.length,
      accuracy: accuracy(p, y),
      weightedF1: weightedF1(p, y, classes),
    };
  }
  return out;
}

/** The paper's bias figure: audio-aligned minus video-aligned accuracy (points). */
export function audioVideoGap(accuracyBySubset: Readonly<Record<CaMerSubset, number>>): number {
  return accuracyBySubset['audio-aligned'] - accuracyBySubset['video-aligned'];
}

/** Unweighted mean of the three subsets' accuracies (each subset counts equally). */
export function threeSubsetMean(accuracyBySubset: Readonly<Record<CaMerSubset, number>>): number {
  return CA_MER_SUBSETS.reduce((sum, s) => sum + accuracyBySubset[s], 0) / CA_MER_SUBSETS.length;
}

/** How answers changed between two runs on the same samples. */
export interface PairedFlips {
  /** Wrong before, right after. */
  wrongToRight: number;
  /** Right before, wrong after. */
  rightToWrong: number;
  /** Wrong in both runs with a different wrong answer. */
  wrongToOtherWrong: number;
  /** Samples compared. */
  count: number;
  /** Indices (into the inputs) of the wrong→right samples, ascending. */
  wrongToRightIndices: number[];
  /** Indices of the right→wrong samples, ascending. */
  rightToWrongIndices: number[];
}

/**
 * Compares two prediction vectors for the same samples (`before` usually without intervention,
 * `after` with it). An optional mask restricts the comparison to some samples (e.g. one subset).
 */
export function pairedFlips(
  labels: ArrayLike<number>,
  before: ArrayLike<number>,
  after: ArrayLike<number>,
  include?: (index: number) => boolean,
): PairedFlips {
  checkPaired(labels, before, 'pairedFlips (before)');
  checkPaired(labels, after, 'pairedFlips (after)');
  const out: PairedFlips = {
    wrongToRight: 0,
    rightToWrong: 0,
    wrongToOtherWrong: 0,
    count: 0,
    wrongToRightIndices: [],
    rightToWrongIndices: [],
  };
  for (let i = 0; i < labels.length; i++) {
    if (include !== undefined && !include(i)) continue;
    out.count++;
    const wasRight = before[i] === labels[i];
    const isRight = after[i] === labels[i];
    if (!wasRight && isRight) {
      out.wrongToRight++;
      out.wrongToRightIndices.push(i);
    } else if (wasRight && !isRight) {
      out.rightToWrong++;
      out.rightToWrongIndices.push(i);
    } else if (!wasRight && before[i] !== after[i]) {
      out.wrongToOtherWrong++;
    }
  }
  return out;
}
