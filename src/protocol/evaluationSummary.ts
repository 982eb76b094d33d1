// The summary of a benchmark evaluation (`summary.json` in a run folder, the Evaluate panel's data,
// the HTML report's embedded data) and the per-clip attention figures it is built from.
import type { LayerUap } from './analysisResult';

/** The CA-MER subsets, in the order tables list them. */
export const CA_MER_SUBSETS = ['consistent', 'audio-aligned', 'video-aligned'] as const;

/** A CA-MER subset name. */
export type CaMerSubset = (typeof CA_MER_SUBSETS)[number];

/** Accuracy and weighted F1 of one subset. */
export interface SubsetScores {
  /** Number of samples in the subset. */
  count: number;
  /** Percentage 0–100 (NaN when the subset is empty). */
  accuracy: number;
  /** Percentage 0–100 (NaN when the subset is empty). */
  weightedF1: number;
}

/** Head-averaged per-token weights of one layer, summarised by modality. */
export interface LayerTokenAttention {
  /** Mean weight per audio token (the audio token's weight when there is one); NaN without audio. */
  audioToken: number;
  /** Mean weight per visual token; NaN without visual tokens. */
  visualTokenMean: number;
  /** The largest visual token weight; NaN without visual tokens. */
  visualTokenMax: number;
  /** Mean weight per text token; NaN without text tokens. */
  textTokenMean: number;
}

/** The numeric fields of `LayerTokenAttention`, for averaging and tables. */
export const LAYER_TOKEN_ATTENTION_KEYS = [
  'audioToken',
  'visualTokenMean',
  'visualTokenMax',
  'textTokenMean',
] as const;

/** A per-layer average over a group of clips. */
export interface GroupMean<T> {
  count: number;
  /** Empty when count is 0. */
  layers: T[];
}

/** Baseline attention figures of one subset, split by whether the baseline answered right. */
export interface AnswerSplit {
  wrong: { uap: GroupMean<LayerUap>; tokenAttention: GroupMean<LayerTokenAttention> };
  right: { uap: GroupMean<LayerUap>; tokenAttention: GroupMean<LayerTokenAttention> };
}

/** The parameter values of one sweep point (only the swept ones are set). */
export interface SweepPoint {
  tau?: number;
  alpha?: number;
}

/** A clip whose answer differs between `off` and a setting. */
export interface FlipClip {
  clip: number;
  path: string;
  subset: string | null;
  label: number;
  before: number;
  after: number;
  kind: 'wrong-to-right' | 'right-to-wrong' | 'wrong-to-wrong';
}

/** One setting's figures for one checkpoint. */
export interface SettingScores {
  id: string;
  title: string;
  sweep: SweepPoint | null;
  overall: SubsetScores;
  /** Per subset named in the manifest (clips without one are only in `overall`). */
  bySubset: Record<string, SubsetScores>;
  /** Audio-aligned minus video-aligned accuracy (points); null without both subsets. */
  gap: number | null;
  meanFlaggedHeads: number;
  /** Rows = truth, columns = prediction. */
  confusion: number[][];
  /** Against `off`; empty for `off` itself. */
  flips: FlipClip[];
}

/** One checkpoint's figures. */
export interface CheckpointEvaluation {
  name: string;
  fileName: string;
  /** Clips with a result for this checkpoint. */
  evaluated: number;
  settings: SettingScores[];
  /** The `off` run's attention by subset and answer (CA-MER subsets only); null otherwise. */
  byAnswer: Record<CaMerSubset, AnswerSplit> | null;
}

/** A clip (or a clip with one checkpoint) that could not be evaluated. */
export interface FailedClip {
  clip: number;
  path: string;
  checkpoint: string | null;
  code: string;
  message: string;
}

/** Everything an evaluation's tables, charts and reports show. */
export interface BenchmarkSummary {
  schema: 'mosear-lens-eval-summary/1';
  manifest: string;
  labels: string[];
  /** Clips the run covered (its shard, or all of them after a merge). */
  clips: number;
  subsets: string[];
  failed: FailedClip[];
  checkpoints: CheckpointEvaluation[];
}
