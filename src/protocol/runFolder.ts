// What a benchmark evaluation keeps in its run folder: `plan.json` (manifest, checkpoints,
// settings, shard: everything that decides the numbers) and one JSON line per (clip, checkpoint)
// in `records.jsonl`. Both carry `mosear-lens-eval/1`. Since an error record may be `transient`
// (the worker crashed or timed out, the run was cancelled: retried on resume, never finished);
// a reader of this version also treats such codes of older records as transient, so old run
// folders still read and resume. JSON writes NaN as null: record numbers read null back as NaN.
import * as v from 'valibot';
import { ArControlsSchema } from './contract';
import { FeatureSourcesSchema, LayerUapSchema } from './analysisResult';
import { ChosenBySchema, LayerTokenAttentionSchema, SweepPointSchema } from './evaluationSummary';

/** The schema of plan.json and of every record line. */
export const BENCHMARK_SCHEMA = 'mosear-lens-eval/1';

const count = v.pipe(v.number(), v.safeInteger(), v.minValue(1));

/** Which clips of the manifest a run covers: clip i belongs to shard (i mod count) + 1. */
export const ShardSchema = v.pipe(
  v.object({ index: count, count }),
  v.check((s) => s.index <= s.count, 'the shard index must be at most the shard count'),
);
export type Shard = v.InferOutput<typeof ShardSchema>;

/** One setting of an evaluation; the first of a checkpoint's list is always `off`. */
export const EvaluationSettingSchema = v.object({
  /** Stable id, unique per checkpoint: "off", "ar", "pai", "ar tau=0.35", "ar alpha=0.5" … */
  id: v.string(),
  /** What a table shows. */
  title: v.string(),
  controls: ArControlsSchema,
  /** The swept parameter values, when the setting is a sweep point. */
  sweep: v.nullable(SweepPointSchema),
  /** Where and by which rule it was chosen, when it comes from a choice file (`eval --choice`). */
  chosenBy: v.exactOptional(ChosenBySchema),
});
export type EvaluationSetting = v.InferOutput<typeof EvaluationSettingSchema>;

/** One checkpoint of a plan. */
export const PlannedCheckpointSchema = v.object({
  /** Absolute path when planned. */
  path: v.string(),
  fileName: v.string(),
  /** `mosear.checkpoint.name`: the key of its records. */
  name: v.string(),
  /**
   * sha256 of the checkpoint: its file, then its external data files (checkpointSha256), so a
   * changed checkpoint, weights included, does not resume or merge with old records.
   */
  sha256: v.string(),
  settings: v.array(EvaluationSettingSchema),
});
export type PlannedCheckpoint = v.InferOutput<typeof PlannedCheckpointSchema>;

/** plan.json: everything that decides a run's numbers (timings and machine excluded). */
export const BenchmarkPlanSchema = v.object({
  schema: v.literal(BENCHMARK_SCHEMA),
  manifest: v.object({ path: v.string(), sha256: v.string(), clips: v.number() }),
  labels: v.array(v.string()),
  decodeSpec: v.string(),
  executionProvider: v.string(),
  intraOpThreads: v.number(),
  checkpoints: v.array(PlannedCheckpointSchema),
  shard: ShardSchema,
});
export type BenchmarkPlan = v.InferOutput<typeof BenchmarkPlanSchema>;

/** A record's number: JSON wrote NaN as null, so null reads back as NaN. */
const recordNumber = v.pipe(
  v.nullable(v.number()),
  v.transform((x) => x ?? NaN),
);

/** LayerUapSchema's fields as records hold them (NaN written as null). */
const RecordLayerUapSchema = v.object(
  Object.fromEntries(Object.keys(LayerUapSchema.entries).map((k) => [k, recordNumber])) as {
    [K in keyof typeof LayerUapSchema.entries]: typeof recordNumber;
  },
);

/** LayerTokenAttentionSchema's fields as records hold them (NaN written as null). */
const RecordTokenAttentionSchema = v.object(
  Object.fromEntries(
    Object.keys(LayerTokenAttentionSchema.entries).map((k) => [k, recordNumber]),
  ) as { [K in keyof typeof LayerTokenAttentionSchema.entries]: typeof recordNumber },
);

/** A clip evaluated with one checkpoint in every setting of the plan. */
export const ClipOkRecordSchema = v.object({
  schema: v.literal(BENCHMARK_SCHEMA),
  /** Index of the clip in the manifest (0-based). */
  clip: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  path: v.string(),
  checkpoint: v.string(),
  ok: v.literal(true),
  /** Per setting (plan order): the predicted label index. */
  predictions: v.array(v.number()),
  /** Per setting: softmax probabilities. */
  probabilities: v.array(v.array(recordNumber)),
  /** Per setting: heads with `ar_flags` = 1. */
  flaggedHeads: v.array(v.number()),
  /**
   * Per setting: which heads had `ar_flags` = 1, as a hex bitmask over flat head indices l·Hh + h
   * (character k holds heads 4k…4k+3, value 1 = head 4k): 256 characters at 32 × 32. Absent in
   * records written before it (their clips then count in no head map).
   */
  flagMasks: v.exactOptional(v.array(v.pipe(v.string(), v.regex(/^[0-9a-f]*$/, 'must be hex')))),
  /**
   * The `off` run's head statistic sₕ per head (flat l·Hh + h; the ratio kind of the `off`
   * setting's controls; 4 significant digits): what the flag rule compares with the layer's
   * head threshold. Absent in records written before it.
   */
  headStatistics: v.exactOptional(v.array(recordNumber)),
  /** The clip has no audio stream and the model (audio optional) was fed silence. */
  silenceUsed: v.boolean(),
  /** The `off` run's UAP per layer and per-token attention summary. */
  uap: v.array(RecordLayerUapSchema),
  tokenAttention: v.array(RecordTokenAttentionSchema),
  /**
   * A model with a `transcript` prompt slot (contract 1.1): the row's prompt — where its
   * transcript came from (the manifest's column, or none: the slot's default) and the run's
   * positions N. Absent for the other models and in records written before it.
   */
  prompt: v.exactOptional(
    v.object({
      transcriptSource: v.picklist(['manifest', 'none']),
      tokens: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
    }),
  ),
  /** A model with FaceMAE / VideoMAE inputs (CONTRACT.md §1b): what the row fed each. */
  featureSources: v.exactOptional(FeatureSourcesSchema),
});
export type ClipOkRecord = v.InferOutput<typeof ClipOkRecordSchema>;

/** A clip that could not be evaluated (decode failure, missing file, model error, crash). */
export const ClipErrorRecordSchema = v.object({
  schema: v.literal(BENCHMARK_SCHEMA),
  clip: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  path: v.string(),
  /** The checkpoint that failed, or null when the clip itself could not be read. */
  checkpoint: v.nullable(v.string()),
  ok: v.literal(false),
  error: v.object({ code: v.string(), message: v.string() }),
  /**
   * The failure is not the clip's (a crash, a time-out, a cancel): a re-run retries the clip.
   * Absent in final records and in records written before the flag existed.
   */
  transient: v.exactOptional(v.boolean()),
});
export type ClipErrorRecord = v.InferOutput<typeof ClipErrorRecordSchema>;

/** One line of records.jsonl. */
export const ClipRecordSchema = v.variant('ok', [ClipOkRecordSchema, ClipErrorRecordSchema]);
export type ClipRecord = v.InferOutput<typeof ClipRecordSchema>;
