// The CounterfactualResult: one clip run as it is and with one modality removed or taken from
// another clip (audio silenced, audio swapped, frames grey, frames swapped, transcript removed),
// each under `ar_mode` 0 ("off") and under the requested intervention, with a verdict from the
// swaps only (README "Modality counterfactuals"). Plain JSON like the AnalysisResult: written by
// `mosear-lens counterfactual --json`, read back with `readCounterfactualResult`.
import * as v from 'valibot';
import { ArControlsSchema } from './contract';
import { issuePath, mustBe, parseOrThrow } from './issues';

/** The schema version this code writes and reads. Bump on any incompatible change. */
export const COUNTERFACTUAL_SCHEMA_VERSION = 1;

/** The `kind` every saved counterfactual result carries. */
export const COUNTERFACTUAL_RESULT_KIND = 'mosear-lens/counterfactuals';

/** What a variant changes in the clip's inputs. */
export const VARIANT_KINDS = [
  'original',
  'audio-silenced',
  'audio-swapped',
  'frames-grey',
  'frames-swapped',
  'transcript-removed',
] as const;
export const VariantKindSchema = v.picklist(VARIANT_KINDS);
export type VariantKind = v.InferOutput<typeof VariantKindSchema>;

/** The run a variant's numbers come from: `ar_mode` 0, or the requested intervention. */
export const COUNTERFACTUAL_RUNS = ['off', 'intervention'] as const;
export type CounterfactualRun = (typeof COUNTERFACTUAL_RUNS)[number];

/** A clip's verdict (from the swap variants only). */
export const VERDICTS = ['audio-decided', 'video-decided', 'both', 'neither', 'undecided'] as const;
export const VerdictNameSchema = v.picklist(VERDICTS);
export type VerdictName = v.InferOutput<typeof VerdictNameSchema>;

const finite = v.pipe(v.number(), v.finite());

/** One variant under one run. */
export const VariantOutcomeSchema = v.object({
  /** The label the variant's run answers. */
  index: v.pipe(v.number(), v.integer(), v.minValue(0)),
  label: v.string(),
  /** softmax(logits), in label order. */
  probabilities: v.array(finite),
  /** log p_variant(answer) − log p_original(answer), answer = the original's label in this run. */
  answerLogProbChange: finite,
  /** The answer changed, or its log-probability dropped by at least the rule's threshold. */
  moved: v.boolean(),
});
export type VariantOutcome = v.InferOutput<typeof VariantOutcomeSchema>;

/** How a swap partner was found. */
export const PartnerChoiceSchema = v.picklist(['given', 'manifest', 'folder']);
export type PartnerChoice = v.InferOutput<typeof PartnerChoiceSchema>;

/** A clip whose audio or frames replaced the clip's own. */
export const SwapPartnerSchema = v.object({
  path: v.string(),
  name: v.string(),
  /** The partner's label when a manifest gives it, else null. */
  label: v.nullable(v.string()),
  /** Which of the clip's modalities it replaces. */
  replaces: v.picklist(['audio', 'frames', 'both']),
  choice: PartnerChoiceSchema,
  /** In words, e.g. "the first consistent clip labelled sad in manifest.jsonl". */
  how: v.string(),
});
export type SwapPartner = v.InferOutput<typeof SwapPartnerSchema>;

/** One variant of the clip's inputs and what both runs made of it. */
export const CounterfactualVariantSchema = v.object({
  kind: VariantKindSchema,
  /** The swap partner's path (the swapped kinds only). */
  partner: v.exactOptional(v.string()),
  /** Why this variant could not run (e.g. the partner has no audio); then both runs are null. */
  problem: v.exactOptional(v.string()),
  off: v.nullable(VariantOutcomeSchema),
  intervention: v.nullable(VariantOutcomeSchema),
});
export type CounterfactualVariant = v.InferOutput<typeof CounterfactualVariantSchema>;

/** The verdict under one run and the swap counts it came from. */
export const VerdictSchema = v.object({
  verdict: VerdictNameSchema,
  audioSwaps: v.number(),
  audioSwapsMoved: v.number(),
  framesSwaps: v.number(),
  framesSwapsMoved: v.number(),
  /** Mean answerLogProbChange over the audio swaps (null without one). */
  meanAudioSwapChange: v.nullable(finite),
  meanFramesSwapChange: v.nullable(finite),
});
export type Verdict = v.InferOutput<typeof VerdictSchema>;

/** The rule a verdict applies, with its threshold, in words and numbers. */
export const VerdictRuleSchema = v.object({
  /** A swap moves the answer when it changes it or lowers its log-probability by at least this (nats). */
  logProbDropThreshold: finite,
  text: v.string(),
});
export type VerdictRule = v.InferOutput<typeof VerdictRuleSchema>;

/** A clip's modality counterfactuals (`AnalysisEngine.counterfactuals`). */
export const CounterfactualResultSchema = v.object({
  kind: v.literal(COUNTERFACTUAL_RESULT_KIND),
  schemaVersion: v.literal(COUNTERFACTUAL_SCHEMA_VERSION),
  createdAt: v.string(),
  clip: v.object({ path: v.string(), name: v.string(), hasAudio: v.boolean() }),
  model: v.object({ path: v.string(), fileName: v.string(), checkpoint: v.string() }),
  labels: v.array(v.string()),
  /** The intervention's controls (mode 0 when the request asked for "off"). */
  controls: ArControlsSchema,
  /** The grey frame's value in every channel of the `frames` input (RGB in [0, 1]). */
  greyValue: finite,
  greyMeaning: v.string(),
  rule: VerdictRuleSchema,
  partners: v.array(SwapPartnerSchema),
  /** The original first, then silence, the swaps, grey, the transcript. */
  variants: v.array(CounterfactualVariantSchema),
  verdict: v.object({ off: VerdictSchema, intervention: VerdictSchema }),
  /** The original off run's audio share of A+V attention per layer (UAP audioOfAV, before). */
  audioShareOff: v.array(finite),
  /** Messages a reader should see (a variant that could not run, a partner without audio). */
  notes: v.array(v.string()),
});
export type CounterfactualResult = v.InferOutput<typeof CounterfactualResultSchema>;

/** A counterfactual file that is not one this version reads. */
export class CounterfactualResultError extends Error {
  override readonly name = 'CounterfactualResultError';
}

/** A counterfactual result that parses (a webview's kept state), or null. */
export function counterfactualResultOrNull(value: unknown): CounterfactualResult | null {
  const parsed = v.safeParse(CounterfactualResultSchema, value);
  return parsed.success ? parsed.output : null;
}

/** Parses a counterfactual result (a saved `--json`); throws CounterfactualResultError naming the path. */
export function readCounterfactualResult(value: unknown): CounterfactualResult {
  return parseOrThrow(
    CounterfactualResultSchema,
    value,
    (issue) => new CounterfactualResultError(`${issuePath(issue, 'result')}: ${mustBe(issue)}`),
  );
}
