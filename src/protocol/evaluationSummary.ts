// The summary of a benchmark evaluation (`summary.json` in a run folder, the Evaluate panel's data,
// the HTML report's embedded data) and the per-clip attention figures it is built from. Scores of
// empty groups are NaN in memory (null once written as JSON), so they are checked as `typeof`.
import * as v from 'valibot';
import { LayerUapSchema } from './analysisResult';
import { RATIO_KIND_NAMES } from './contract';
import { numberArray } from './issues';

/** The CA-MER subsets, in the order tables list them. */
export const CA_MER_SUBSETS = ['consistent', 'audio-aligned', 'video-aligned'] as const;

/** A CA-MER subset name. */
export type CaMerSubset = (typeof CA_MER_SUBSETS)[number];

/** A number that may be NaN (an empty group's mean or score). */
const numberOrNaN = v.custom<number>((x) => typeof x === 'number', 'must be a number or NaN');

/** Accuracy and weighted F1 of one subset. */
export const SubsetScoresSchema = v.object({
  /** Number of samples in the subset. */
  count: v.number(),
  /** Percentage 0–100 (NaN when the subset is empty). */
  accuracy: numberOrNaN,
  /** Percentage 0–100 (NaN when the subset is empty). */
  weightedF1: numberOrNaN,
});
export type SubsetScores = v.InferOutput<typeof SubsetScoresSchema>;

/** Head-averaged per-token weights of one layer, summarised by modality. */
export const LayerTokenAttentionSchema = v.object({
  /** Mean weight per audio token (the audio token's weight when there is one); NaN without audio. */
  audioToken: numberOrNaN,
  /** Mean weight per visual token; NaN without visual tokens. */
  visualTokenMean: numberOrNaN,
  /** The largest visual token weight; NaN without visual tokens. */
  visualTokenMax: numberOrNaN,
  /** Mean weight per text token; NaN without text tokens. */
  textTokenMean: numberOrNaN,
});
export type LayerTokenAttention = v.InferOutput<typeof LayerTokenAttentionSchema>;

/** The numeric fields of `LayerTokenAttention`, for averaging and tables. */
export const LAYER_TOKEN_ATTENTION_KEYS = [
  'audioToken',
  'visualTokenMean',
  'visualTokenMax',
  'textTokenMean',
] as const;

/** A per-layer average over a group of clips (`layers` empty when count is 0). */
export interface GroupMean<T> {
  count: number;
  layers: T[];
}

/** The schema of a `GroupMean` of `layer` items. */
function groupMeanSchema<T>(layer: v.GenericSchema<T>) {
  return v.object({ count: v.number(), layers: v.array(layer) });
}

const answerGroupSchema = v.object({
  uap: groupMeanSchema(LayerUapSchema),
  tokenAttention: groupMeanSchema(LayerTokenAttentionSchema),
});

/** Baseline attention figures of one subset, split by whether the baseline answered right. */
export const AnswerSplitSchema = v.object({ wrong: answerGroupSchema, right: answerGroupSchema });
export type AnswerSplit = v.InferOutput<typeof AnswerSplitSchema>;

/** The parameter values of one sweep point (only the swept ones are set). */
export const SweepPointSchema = v.object({
  tau: v.exactOptional(v.number()),
  alpha: v.exactOptional(v.number()),
});
export type SweepPoint = v.InferOutput<typeof SweepPointSchema>;

/**
 * Where and by which rule a setting was chosen (`mosear-lens choose`): the evaluation it was
 * chosen on, so an evaluation of it elsewhere can say so (and warn when it is the same manifest).
 */
export const ChosenBySchema = v.object({
  /** The manifest of the evaluation the setting was chosen on, and its sha256. */
  manifest: v.string(),
  manifestSha256: v.string(),
  /** Clips of that evaluation with a result for the checkpoint. */
  clips: v.number(),
  /** That evaluation's run folder. */
  runFolder: v.string(),
  /** The rule's id (`ar-defaults`, `best-mean`) and the rule in words. */
  rule: v.string(),
  ruleText: v.string(),
});
export type ChosenBy = v.InferOutput<typeof ChosenBySchema>;

/** A clip whose answer differs between `off` and a setting. */
export const FlipClipSchema = v.object({
  clip: v.number(),
  path: v.string(),
  subset: v.nullable(v.string()),
  label: v.number(),
  before: v.number(),
  after: v.number(),
  kind: v.picklist(['wrong-to-right', 'right-to-wrong', 'wrong-to-wrong']),
});
export type FlipClip = v.InferOutput<typeof FlipClipSchema>;

/** A setting's accuracy against `off` on the same clips, with its uncertainty. */
export const PairedDeltaSchema = v.object({
  /** Clips compared. */
  count: v.number(),
  /** Setting minus `off` accuracy in points (NaN without clips). */
  delta: numberOrNaN,
  /** Paired bootstrap percentile interval of `delta` (points; NaN without clips). */
  ciLow: numberOrNaN,
  ciHigh: numberOrNaN,
  /** Whether the interval includes 0 (the difference is not significant at this level). */
  coversZero: v.boolean(),
  /** Discordant pairs: wrong→right (b) and right→wrong (c). */
  wrongToRight: v.number(),
  rightToWrong: v.number(),
  /** Exact two-sided McNemar p on b and c. */
  mcnemarP: v.number(),
});
export type PairedDelta = v.InferOutput<typeof PairedDeltaSchema>;

/** A setting against `off`: overall and per subset named in the manifest. */
export const VersusOffSchema = v.object({
  overall: PairedDeltaSchema,
  bySubset: v.record(v.string(), PairedDeltaSchema),
});
export type VersusOff = v.InferOutput<typeof VersusOffSchema>;

/** How the intervals were made (one seed and level for every setting and subset). */
export const DeltaMethodSchema = v.object({
  /** e.g. "paired bootstrap, percentile". */
  interval: v.string(),
  resamples: v.number(),
  seed: v.number(),
  /** Coverage, e.g. 0.95. */
  level: v.number(),
  /** e.g. "exact McNemar, two-sided". */
  test: v.string(),
});
export type DeltaMethod = v.InferOutput<typeof DeltaMethodSchema>;

/** One setting's figures for one checkpoint. */
export const SettingScoresSchema = v.object({
  id: v.string(),
  title: v.string(),
  sweep: v.nullable(SweepPointSchema),
  /**
   * Why this intervention setting cannot change the model (src/shared/noEffect.ts: "α = 0", …);
   * empty when it can and for `off`, the baseline. Absent in summaries written before it.
   */
  noEffect: v.exactOptional(v.array(v.string())),
  overall: SubsetScoresSchema,
  /** Per subset named in the manifest (clips without one are only in `overall`). */
  bySubset: v.record(v.string(), SubsetScoresSchema),
  /** Audio-aligned minus video-aligned accuracy (points); null without both subsets. */
  gap: v.nullable(numberOrNaN),
  meanFlaggedHeads: numberOrNaN,
  /** Rows = truth, columns = prediction. */
  confusion: v.array(v.array(v.number())),
  /** Against `off`; empty for `off` itself. */
  flips: v.array(FlipClipSchema),
  /** Δ accuracy against `off` with its interval and test; null for `off`, absent in older summaries. */
  versusOff: v.exactOptional(v.nullable(VersusOffSchema)),
  /**
   * Set when the setting was chosen on another evaluation (`eval --choice`); `sameManifest`: it
   * was chosen on this very manifest (selection on the split it reports: not an honest score).
   */
  chosenBy: v.exactOptional(v.object({ ...ChosenBySchema.entries, sameManifest: v.boolean() })),
});
export type SettingScores = v.InferOutput<typeof SettingScoresSchema>;

/** One group of clips' layer × head map under one setting. */
export const HeadGroupMapSchema = v.object({
  /** Clips in the group (those whose records hold head data). */
  clips: v.number(),
  /** [L][Hh]: share of the group's clips in which the head was flagged (0–1). */
  flagShare: numberArray(2),
  /** [L][Hh]: mean of the `off` run's head statistic over the group; null when records lack it. */
  meanStatistic: v.nullable(numberArray(2)),
});
export type HeadGroupMap = v.InferOutput<typeof HeadGroupMapSchema>;

/** The head groups a map may have: every clip, a subset of the manifest, right or wrong answers. */
export const HEAD_GROUP_ORDER = ['all', ...CA_MER_SUBSETS, 'right', 'wrong'] as const;

/** One setting's head maps (settings that can flag heads: mode AR or PAI-style). */
export const SettingHeadMapsSchema = v.object({
  /** The setting's id. */
  setting: v.string(),
  /**
   * By group: "all", each subset named in the manifest, and "right" / "wrong" (this setting's
   * answers). Groups without clips are left out.
   */
  groups: v.record(v.string(), HeadGroupMapSchema),
});
export type SettingHeadMaps = v.InferOutput<typeof SettingHeadMapsSchema>;

/** A checkpoint's heads over the benchmark: how often each head is flagged, its mean statistic. */
export const CheckpointHeadMapsSchema = v.object({
  layers: v.number(),
  heads: v.number(),
  /** The ratio kind of the head statistic (the `off` setting's, the checkpoint's default). */
  statistic: v.picklist(RATIO_KIND_NAMES),
  settings: v.array(SettingHeadMapsSchema),
});
export type CheckpointHeadMaps = v.InferOutput<typeof CheckpointHeadMapsSchema>;

/** One checkpoint's figures. */
export const CheckpointEvaluationSchema = v.object({
  name: v.string(),
  fileName: v.string(),
  /** Clips with a result for this checkpoint. */
  evaluated: v.number(),
  settings: v.array(SettingScoresSchema),
  /** The `off` run's attention by subset and answer (CA-MER subsets only); null otherwise. */
  byAnswer: v.nullable(
    v.object({
      consistent: AnswerSplitSchema,
      'audio-aligned': AnswerSplitSchema,
      'video-aligned': AnswerSplitSchema,
    }),
  ),
  /** Layer × head maps per setting and group; null when no record holds head data, absent in older summaries. */
  heads: v.exactOptional(v.nullable(CheckpointHeadMapsSchema)),
});
export type CheckpointEvaluation = v.InferOutput<typeof CheckpointEvaluationSchema>;

/** A clip (or a clip with one checkpoint) that could not be evaluated. */
export const FailedClipSchema = v.object({
  clip: v.number(),
  path: v.string(),
  checkpoint: v.nullable(v.string()),
  code: v.string(),
  message: v.string(),
});
export type FailedClip = v.InferOutput<typeof FailedClipSchema>;

/** Everything an evaluation's tables, charts and reports show. */
export const BenchmarkSummarySchema = v.object({
  schema: v.literal('mosear-lens-eval-summary/1'),
  manifest: v.string(),
  labels: v.array(v.string()),
  /** Clips the run covered (its shard, or all of them after a merge). */
  clips: v.number(),
  subsets: v.array(v.string()),
  failed: v.array(FailedClipSchema),
  checkpoints: v.array(CheckpointEvaluationSchema),
  /** How every setting's `versusOff` was computed; absent in older summaries. */
  deltaMethod: v.exactOptional(DeltaMethodSchema),
});
export type BenchmarkSummary = v.InferOutput<typeof BenchmarkSummarySchema>;
