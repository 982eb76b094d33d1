// The RelianceSummary: modality counterfactuals over a benchmark (`mosear-lens eval
// --counterfactuals`, `counterfactuals.json` in the run folder). Per clip the audio-swap and
// frames-swap effects (silence and grey beside); per subset how often the answer follows the
// audio or the video; per layer the rank correlation between the off run's audio attention share
// and the causal audio effect, with a bootstrap interval.
import * as v from 'valibot';
import { ArControlsSchema } from './contract';
import { SwapPartnerSchema, VerdictNameSchema, VerdictRuleSchema } from './counterfactualResult';
import { issuePath, mustBe, parseOrThrow } from './issues';

/** The `kind` of a reliance summary. */
export const RELIANCE_SUMMARY_KIND = 'mosear-lens/reliance';
export const RELIANCE_SCHEMA_VERSION = 1;

/** A number, or null where it is undefined (no clip, a constant side). */
const maybe = v.nullable(v.pipe(v.number(), v.finite()));

/** One clip's counterfactual effects under off (log-probability changes of the answer, nats). */
export const RelianceClipSchema = v.object({
  path: v.string(),
  label: v.string(),
  subset: v.nullable(v.string()),
  /** The off run's answer on the clip as it is. */
  answerOff: v.string(),
  verdictOff: VerdictNameSchema,
  verdictIntervention: VerdictNameSchema,
  /** Causal audio effect: the answer's log-probability drop, mean over the audio swaps (off). */
  audioSwapDrop: maybe,
  framesSwapDrop: maybe,
  silenceDrop: maybe,
  greyDrop: maybe,
  /** Share of audio swaps after which the off answer is the partner's label. */
  followsAudio: maybe,
  /** Share of frames swaps after which the off answer is the partner's label. */
  followsFrames: maybe,
  /** The off run's audioOfAV per layer (UAP before the intervention). */
  audioShareOff: v.array(v.number()),
  /** Why the clip has no counterfactuals (it is left out of every figure), or null. */
  problem: v.nullable(v.string()),
});
export type RelianceClip = v.InferOutput<typeof RelianceClipSchema>;

/** Counts of one run's verdicts. */
export const VerdictCountsSchema = v.object({
  'audio-decided': v.number(),
  'video-decided': v.number(),
  both: v.number(),
  neither: v.number(),
  undecided: v.number(),
});
export type VerdictCounts = v.InferOutput<typeof VerdictCountsSchema>;

/** One subset's reliance (or "all"). */
export const RelianceSubsetSchema = v.object({
  subset: v.string(),
  clips: v.number(),
  verdictsOff: VerdictCountsSchema,
  verdictsIntervention: VerdictCountsSchema,
  meanAudioSwapDrop: maybe,
  meanFramesSwapDrop: maybe,
  meanSilenceDrop: maybe,
  meanGreyDrop: maybe,
  /** Mean over clips of followsAudio / followsFrames. */
  followsAudio: maybe,
  followsFrames: maybe,
});
export type RelianceSubset = v.InferOutput<typeof RelianceSubsetSchema>;

/** Spearman's ρ of one layer's audio share against the causal audio effect, over clips. */
export const LayerRelianceSchema = v.object({
  layer: v.number(),
  rho: maybe,
  low: maybe,
  high: maybe,
  clips: v.number(),
});
export type LayerReliance = v.InferOutput<typeof LayerRelianceSchema>;

/** One checkpoint's counterfactual benchmark. */
export const RelianceCheckpointSchema = v.object({
  name: v.string(),
  path: v.string(),
  /** The intervention beside off (the checkpoint's defaults). */
  controls: ArControlsSchema,
  /** Every partner used (a clip's own label and itself are skipped per clip). */
  partners: v.array(SwapPartnerSchema),
  subsets: v.array(RelianceSubsetSchema),
  layers: v.array(LayerRelianceSchema),
  /** The layer with the highest ρ, or null when no layer has one. */
  bestLayer: v.nullable(v.number()),
  clips: v.array(RelianceClipSchema),
});
export type RelianceCheckpoint = v.InferOutput<typeof RelianceCheckpointSchema>;

/** `counterfactuals.json` of a run folder. */
export const RelianceSummarySchema = v.object({
  kind: v.literal(RELIANCE_SUMMARY_KIND),
  schemaVersion: v.literal(RELIANCE_SCHEMA_VERSION),
  manifest: v.string(),
  labels: v.array(v.string()),
  rule: VerdictRuleSchema,
  correlation: v.object({
    statistic: v.string(),
    interval: v.string(),
    resamples: v.number(),
    seed: v.number(),
    level: v.number(),
  }),
  checkpoints: v.array(RelianceCheckpointSchema),
});
export type RelianceSummary = v.InferOutput<typeof RelianceSummarySchema>;

/** A reliance file that is not one this version reads. */
export class RelianceSummaryError extends Error {
  override readonly name = 'RelianceSummaryError';
}

/** Parses `counterfactuals.json`; throws RelianceSummaryError naming the path. */
export function readRelianceSummary(value: unknown): RelianceSummary {
  return parseOrThrow(
    RelianceSummarySchema,
    value,
    (issue) => new RelianceSummaryError(`${issuePath(issue, 'summary')}: ${mustBe(issue)}`),
  );
}
