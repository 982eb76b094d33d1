// The token-imbalance probe (the paper's Fig. 3c; issue 18 item 5) through contract 1.2's
// optional `audio_repeat` input (CONTRACT.md §1c): one clip analysed with its audio token repeated
// k times for several k, and per k the prediction, every label's probability and the audio UAP
// per layer (|A| counts all k copies), under `off` and the requested intervention. Plain data:
// the engine computes it (src/core/engine/imbalance.ts), the CLI prints it, the Analysis panel
// draws it.
import * as v from 'valibot';
import { ArControlsSchema, finiteNumber } from './contract';
import { numberArray } from './issues';

/** Why the probe is unavailable for a checkpoint without the optional input (everywhere). */
export const IMBALANCE_UNAVAILABLE =
  'token-imbalance probe unavailable: the checkpoint has no audio_repeat input (contract 1.2 optional)';

/** The k a probe runs by default (each capped by the model's `mosear.audio.repeat_max`). */
export const DEFAULT_AUDIO_REPEATS: readonly number[] = [1, 2, 4, 8, 16, 32];

/** The most k values one probe runs. */
export const MAX_AUDIO_REPEATS = 16;

const index = v.pipe(v.number(), v.integer('must be an integer ≥ 0'), v.minValue(0));
const repeat = v.pipe(v.number(), v.integer('must be an integer ≥ 1'), v.minValue(1));

/** One run (off or the intervention) at one k. */
export const ImbalanceRunSchema = v.object({
  /** argmax of the logits. */
  prediction: index,
  /** softmax(logits), in label order. */
  probabilities: numberArray(1),
  /** Per layer: the head-averaged whole-row audio share (UAP's `audio`, all k copies). */
  audioUap: numberArray(1),
  /** Per layer: audio / (audio + visual) of the head-averaged masses. */
  audioOfAV: numberArray(1),
  /** log p(k = 1's answer) at this k minus at k = 1 (0 at k = 1). */
  answerLogProbChange: finiteNumber,
});
export type ImbalanceRun = v.InferOutput<typeof ImbalanceRunSchema>;

/** One k. */
export const ImbalancePointSchema = v.object({
  k: repeat,
  /** N of the run: the layout's total with k audio positions. */
  tokens: index,
  off: ImbalanceRunSchema,
  intervention: ImbalanceRunSchema,
});
export type ImbalancePoint = v.InferOutput<typeof ImbalancePointSchema>;

export const IMBALANCE_RESULT_KIND = 'mosear-lens/imbalance';

/** A probe of one clip over several k (ascending; the first is 1). */
export const ImbalanceResultSchema = v.object({
  kind: v.literal(IMBALANCE_RESULT_KIND),
  labels: v.array(v.string()),
  /** The intervention's controls (`off` is the same with mode 0). */
  controls: ArControlsSchema,
  /** k = 1's predictions: the answers whose probability the points follow. */
  answer: v.object({ off: index, intervention: index }),
  points: v.array(ImbalancePointSchema),
});
export type ImbalanceResult = v.InferOutput<typeof ImbalanceResultSchema>;

/** A kept probe (the Analysis webview's state) parsed back; null when it does not parse. */
export function imbalanceResultOrNull(value: unknown): ImbalanceResult | null {
  const parsed = v.safeParse(ImbalanceResultSchema, value);
  return parsed.success ? parsed.output : null;
}

/** A probe's progress: `done` of `total` k values. */
export const ImbalanceProgressSchema = v.object({ done: index, total: index });
export type ImbalanceProgress = v.InferOutput<typeof ImbalanceProgressSchema>;

/**
 * A list of k as typed ("1,2,4,8"): sorted, without repeats, 1 added first; an error text for
 * anything else (not a whole number ≥ 1, above `max`, more than MAX_AUDIO_REPEATS values).
 */
export function parseAudioRepeats(text: string, max: number): number[] | string {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) return 'no k given';
  const ks = new Set<number>([1]);
  for (const part of parts) {
    const k = Number(part);
    if (!/^\d+$/.test(part) || !Number.isInteger(k) || k < 1) {
      return `"${part}" is not a whole number ≥ 1`;
    }
    if (k > max) return `${k} is above the model's cap (mosear.audio.repeat_max ${max})`;
    ks.add(k);
  }
  if (ks.size > MAX_AUDIO_REPEATS) return `at most ${MAX_AUDIO_REPEATS} values of k`;
  return [...ks].sort((a, b) => a - b);
}

export const IMBALANCE_SUMMARY_KIND = 'mosear-lens/imbalance-summary';

/** One subset's accuracy at one k. */
export const SubsetAccuracySchema = v.object({
  subset: v.string(),
  correct: index,
  clips: index,
  /** 100 · correct / clips. */
  percent: finiteNumber,
});

/** A benchmark at one k: accuracy per subset and the gap. */
export const ImbalanceBenchmarkPointSchema = v.object({
  k: repeat,
  subsets: v.array(SubsetAccuracySchema),
  /** audio-aligned − video-aligned accuracy in points (null without both subsets). */
  gap: v.nullable(finiteNumber),
});
export type ImbalanceBenchmarkPoint = v.InferOutput<typeof ImbalanceBenchmarkPointSchema>;

/** One checkpoint over the manifest. */
export const ImbalanceCheckpointSchema = v.object({
  name: v.string(),
  path: v.string(),
  points: v.array(ImbalanceBenchmarkPointSchema),
  /** Per clip (manifest order): its predicted label index at each k (null: it did not run). */
  clips: v.array(
    v.object({
      path: v.string(),
      subset: v.string(),
      label: index,
      predictions: v.nullable(v.array(index)),
      problem: v.nullable(v.string()),
    }),
  ),
});
export type ImbalanceCheckpoint = v.InferOutput<typeof ImbalanceCheckpointSchema>;

/** `eval --audio-repeat`: the token-imbalance probe over a labelled manifest, under `off`. */
export const ImbalanceSummarySchema = v.object({
  kind: v.literal(IMBALANCE_SUMMARY_KIND),
  manifest: v.string(),
  labels: v.array(v.string()),
  repeats: v.array(repeat),
  checkpoints: v.array(ImbalanceCheckpointSchema),
});
export type ImbalanceSummary = v.InferOutput<typeof ImbalanceSummarySchema>;
