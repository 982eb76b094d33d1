// Modality counterfactuals, the pure part: the replaced inputs (silence, grey frames), what a
// variant's logits say about the original answer (label, probabilities, log-probability change),
// and the verdict rule that decides from the swap variants only. README "Modality
// counterfactuals" states the same rule in words; `VERDICT_RULE.text` is what results carry.
import type {
  CounterfactualVariant,
  CounterfactualRun,
  Verdict,
  VerdictName,
  VerdictRule,
  VariantOutcome,
} from '../../protocol/counterfactualResult';

/**
 * A swap moves the answer when the answer changes or its log-probability falls by at least
 * ln 2 nats (its probability at least halves).
 */
export const LOG_PROB_DROP_THRESHOLD = Math.LN2;

/** The verdict rule as results state it. */
export const VERDICT_RULE: VerdictRule = {
  logProbDropThreshold: LOG_PROB_DROP_THRESHOLD,
  text:
    'A swap (a modality taken from another clip) moves the answer when the answer label changes ' +
    'or the original answer’s log-probability drops by at least ln 2 ≈ 0.693 nats (its ' +
    'probability at least halves). A modality decides when more than half of its swaps move the ' +
    'answer. audio-decided: audio decides and frames do not; video-decided: frames decide and ' +
    'audio does not; both: both decide; neither: neither does; undecided: a modality has no ' +
    'swap that ran. Silenced audio, grey frames and a removed transcript are shown beside and ' +
    'do not decide.',
};

/** RGB 128 of 255: the grey frame in the `frames` input's [0, 1] range (CONTRACT.md §1). */
export const GREY_VALUE = 128 / 255;

/** What the grey value means, as results state it. */
export const GREY_MEANING =
  'every pixel RGB (128, 128, 128), i.e. 128/255 ≈ 0.502 in each channel of the frames input ' +
  '(RGB in [0, 1]); the graph normalises it like any decoded frame (CONTRACT.md: normalisation ' +
  'happens inside the graph)';

/** Frames of the same shape, every value the grey of GREY_VALUE. */
export function greyFrames(like: Float32Array): Float32Array {
  return new Float32Array(like.length).fill(GREY_VALUE);
}

/** Audio of the same length, all zeros (the clip's own S: fixed, or its variable length). */
export function silencedAudio(like: Float32Array): Float32Array {
  return new Float32Array(like.length);
}

/** log softmax(logits), stably in float64. */
export function logSoftmax(logits: ArrayLike<number>): number[] {
  const values = Array.from(logits);
  const max = Math.max(...values);
  const logTotal = Math.log(values.reduce((sum, x) => sum + Math.exp(x - max), 0));
  return values.map((x) => x - max - logTotal);
}

/** Index of the largest value (the first on ties). */
function argmaxOf(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++)
    if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/**
 * What a variant's logits say against the original's in the same run: its own answer, every
 * label's probability, and the change of the original answer's log-probability.
 */
export function variantOutcome(
  labels: readonly string[],
  originalLogits: ArrayLike<number>,
  variantLogits: ArrayLike<number>,
): VariantOutcome {
  const before = logSoftmax(originalLogits);
  const after = logSoftmax(variantLogits);
  const answer = argmaxOf(before);
  const index = argmaxOf(after);
  const answerLogProbChange = (after[answer] as number) - (before[answer] as number);
  return {
    index,
    label: labels[index] ?? String(index),
    probabilities: after.map(Math.exp),
    answerLogProbChange,
    moved: index !== answer || answerLogProbChange <= -LOG_PROB_DROP_THRESHOLD,
  };
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The verdict of one run from its swap variants (the rule of VERDICT_RULE). */
export function verdictOf(
  variants: readonly CounterfactualVariant[],
  run: CounterfactualRun,
): Verdict {
  const outcomes = (kind: CounterfactualVariant['kind']): VariantOutcome[] =>
    variants
      .filter((x) => x.kind === kind)
      .map((x) => x[run])
      .filter((o): o is VariantOutcome => o !== null);
  const audio = outcomes('audio-swapped');
  const frames = outcomes('frames-swapped');
  const audioMoved = audio.filter((o) => o.moved).length;
  const framesMoved = frames.filter((o) => o.moved).length;
  let verdict: VerdictName;
  if (audio.length === 0 || frames.length === 0) verdict = 'undecided';
  else {
    const audioDecides = audioMoved * 2 > audio.length;
    const framesDecide = framesMoved * 2 > frames.length;
    verdict = audioDecides
      ? framesDecide
        ? 'both'
        : 'audio-decided'
      : framesDecide
        ? 'video-decided'
        : 'neither';
  }
  return {
    verdict,
    audioSwaps: audio.length,
    audioSwapsMoved: audioMoved,
    framesSwaps: frames.length,
    framesSwapsMoved: framesMoved,
    meanAudioSwapChange: mean(audio.map((o) => o.answerLogProbChange)),
    meanFramesSwapChange: mean(frames.map((o) => o.answerLogProbChange)),
  };
}
