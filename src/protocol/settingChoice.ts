// A choice file (`mosear-lens choose`, the Evaluate Benchmark command's "choose, then evaluate"):
// one checkpoint's setting chosen on a finished evaluation by a stated rule, with every candidate
// the rule considered, so that the setting is evaluated once on another manifest and the report
// can say where it was chosen. Scores the JSON cannot hold (NaN) are null.
import * as v from 'valibot';
import { ChosenBySchema } from './evaluationSummary';
import { EvaluationSettingSchema } from './runFolder';

/** The schema of a choice file. */
export const CHOICE_SCHEMA = 'mosear-lens-choice/1';

/** The rules `choose` applies (their words: src/core/evaluation/settingChoice.ts). */
export const CHOICE_RULE_IDS = ['ar-defaults', 'best-mean', 'fixed-heads'] as const;
export type ChoiceRuleId = (typeof CHOICE_RULE_IDS)[number];

const score = v.nullable(v.number());

/** One setting the rule considered, with what it was ranked by. */
export const ChoiceCandidateSchema = v.object({
  id: v.string(),
  title: v.string(),
  /** What the rule maximises (accuracy in %); null when the run has no clips for it. */
  score,
  /** The unweighted mean accuracy of the manifest's subsets (the first tie-break), %. */
  mean: score,
  meanFlaggedHeads: score,
  /** α (AR), γ (PAI-style) or 0 (off): the last tie-break, smaller first. */
  strength: v.number(),
  /** Whether it meets the rule's constraints; `reason` says why not. */
  feasible: v.boolean(),
  reason: v.string(),
  /** 1 for the chosen setting, then the order of the other feasible ones; null when infeasible. */
  rank: v.nullable(v.number()),
});
export type ChoiceCandidate = v.InferOutput<typeof ChoiceCandidateSchema>;

/** A choice file. */
export const SettingChoiceSchema = v.object({
  schema: v.literal(CHOICE_SCHEMA),
  /** The checkpoint the setting belongs to; an evaluation of the choice refuses any other file. */
  checkpoint: v.object({
    name: v.string(),
    fileName: v.string(),
    /** Where it was when chosen (the default checkpoint of `eval --choice`). */
    path: v.string(),
    sha256: v.string(),
  }),
  /** Where it was chosen and by which rule. */
  chosenBy: ChosenBySchema,
  candidates: v.array(ChoiceCandidateSchema),
  /** The chosen setting with its full controls, as that evaluation ran it. */
  chosen: EvaluationSettingSchema,
});
export type SettingChoice = v.InferOutput<typeof SettingChoiceSchema>;
