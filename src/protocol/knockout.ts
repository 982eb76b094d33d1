// Head knockout through contract 1.1's optional `head_gate` input (CONTRACT.md §1a; issue 18):
// the answer and every label's probability with some heads' attention output removed (gate 0),
// under `off` and under the requested intervention, and an effect ranking of the top K flagged
// heads (each knocked out alone, ranked by the change in the answer's log-probability, then the
// cumulative curve as they are removed in that order). Plain data: the engine computes it
// (src/core/engine/knockout.ts), the CLI prints it, the Analysis panel draws it.
import * as v from 'valibot';
import { finiteNumber } from './contract';
import { numberArray } from './issues';

/** Why knockout is unavailable for a checkpoint without the optional input (everywhere). */
export const KNOCKOUT_UNAVAILABLE =
  'knockout unavailable: the checkpoint has no head_gate input (contract 1.1 optional)';

/** Why the label lens is unavailable for a checkpoint without the optional output. */
export const LABEL_LENS_UNAVAILABLE =
  'label lens unavailable: the checkpoint has no layer_logits output (contract 1.1 optional)';

/** The effect rankings' default K. */
export const DEFAULT_RANK_K = 16;

const index = v.pipe(v.number(), v.integer('must be an integer ≥ 0'), v.minValue(0));

/** One attention head: layer l, head h (0-based; printed `L<l>.H<h>`). */
export const HeadRefSchema = v.object({ layer: index, head: index });
export type HeadRef = v.InferOutput<typeof HeadRefSchema>;

/** Which controls a knockout measurement runs under. */
export const KnockoutUnderSchema = v.picklist(['off', 'intervention']);
export type KnockoutUnder = v.InferOutput<typeof KnockoutUnderSchema>;

/** One run's answer-facing outputs. */
export const GatedRunSchema = v.object({
  logits: numberArray(1),
  /** softmax(logits), in label order. */
  probabilities: numberArray(1),
  /** argmax of the logits. */
  prediction: index,
  /** [L][C]: `layer_logits`, when the graph has them. */
  layerLogits: v.exactOptional(numberArray(2)),
});
export type GatedRun = v.InferOutput<typeof GatedRunSchema>;

/** The same controls with every head kept and with the knocked-out heads removed. */
export const KnockoutPairSchema = v.object({
  /** Gate all ones (the analysis' run). */
  before: GatedRunSchema,
  /** The chosen heads' gate 0. */
  after: GatedRunSchema,
  /** The answer: `before`'s prediction. */
  answer: index,
  /** log p(answer) after − before (negative: the heads supported the answer). */
  answerLogProbChange: finiteNumber,
});
export type KnockoutPair = v.InferOutput<typeof KnockoutPairSchema>;

export const KNOCKOUT_RESULT_KIND = 'mosear-lens/knockout';

/** A knockout of a set of heads on one clip. */
export const KnockoutResultSchema = v.object({
  kind: v.literal(KNOCKOUT_RESULT_KIND),
  labels: v.array(v.string()),
  heads: v.array(HeadRefSchema),
  off: KnockoutPairSchema,
  intervention: KnockoutPairSchema,
});
export type KnockoutResult = v.InferOutput<typeof KnockoutResultSchema>;

/** One head of a ranking: knocked out alone. */
export const RankedHeadSchema = v.object({
  layer: index,
  head: index,
  /** log p(answer) with this head removed. */
  logProb: finiteNumber,
  /** logProb − the ungated log p(answer). */
  change: finiteNumber,
  prediction: index,
});
export type RankedHead = v.InferOutput<typeof RankedHeadSchema>;

/** The cumulative curve: the first `removed` heads of the ranking knocked out together. */
export const CumulativePointSchema = v.object({
  removed: index,
  logProb: finiteNumber,
  change: finiteNumber,
  /** p(answer). */
  probability: finiteNumber,
  prediction: index,
});
export type CumulativePoint = v.InferOutput<typeof CumulativePointSchema>;

export const HEAD_RANKING_KIND = 'mosear-lens/head-ranking';

/** An effect ranking of (up to) K candidate heads and its cumulative curve. */
export const HeadRankingSchema = v.object({
  kind: v.literal(HEAD_RANKING_KIND),
  labels: v.array(v.string()),
  under: KnockoutUnderSchema,
  /** The ungated run's prediction under `under`. */
  answer: index,
  baseLogProb: finiteNumber,
  /** Heads the candidates were chosen from (flagged, or given), before the top-K cut. */
  candidates: index,
  k: index,
  /** Sorted by `change`, most negative first (ties: layer, then head). */
  ranked: v.array(RankedHeadSchema),
  /** removed = 0 … ranked.length (point 0 is the ungated run). */
  cumulative: v.array(CumulativePointSchema),
});
export type HeadRanking = v.InferOutput<typeof HeadRankingSchema>;

/** A ranking's progress: `done` of `total` session runs. */
export const RankProgressSchema = v.object({
  done: index,
  total: index,
  phase: v.picklist(['baseline', 'single', 'cumulative']),
});
export type RankProgress = v.InferOutput<typeof RankProgressSchema>;

/** `L3.H7`. */
export function headName(h: HeadRef): string {
  return `L${h.layer}.H${h.head}`;
}
