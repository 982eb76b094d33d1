// The Evaluate panel's messages between the extension host and its webview, split by direction.
// Same shape as the Analysis panel's protocol (panelMessages.ts): the webview sends `ready`, the
// host answers `init` with the whole state, and validates every incoming message with
// `parseEvaluationMessage`. The same bundle runs in a self-contained HTML report, where `init`
// comes from the embedded JSON. Every message is a schema; the types are inferred from them.
import * as v from 'valibot';
import { BenchmarkSummarySchema } from './evaluationSummary';
import { parseOrThrow } from './issues';
import {
  SHARED_WEBVIEW_MESSAGES,
  SavedMessageSchema,
  invalidMessage,
  messageSchema,
} from './panelMessages';

/** How far a benchmark run has got (the core's `BenchmarkProgress`). */
export const EvaluationProgressSchema = v.object({
  /** Clips of this shard finished (resumed ones included). */
  done: v.number(),
  total: v.number(),
  /** Finished by an earlier run of the same evaluation and skipped. */
  resumed: v.number(),
  /** Clips with at least one error record. */
  failed: v.number(),
  elapsedMs: v.number(),
  /** Estimated time left from this run's pace; null before the first clip. */
  etaMs: v.nullable(v.number()),
});
export type EvaluationProgress = v.InferOutput<typeof EvaluationProgressSchema>;

/** Where an Evaluate panel's data comes from; kept in the webview's state for revival. */
export const EvaluationOriginSchema = v.variant('kind', [
  /** A run folder (plan.json + records.jsonl) the host reads and re-summarises. */
  v.object({ kind: v.literal('run'), runDir: v.string() }),
  /** A self-contained HTML report (read-only, no host). */
  v.object({ kind: v.literal('report') }),
]);
export type EvaluationOrigin = v.InferOutput<typeof EvaluationOriginSchema>;

/** Whether the run is going on, and how it ended. */
export const EvaluationStatusSchema = v.picklist(['running', 'finished', 'cancelled', 'failed']);
export type EvaluationStatus = v.InferOutput<typeof EvaluationStatusSchema>;

/** The Evaluate panel's full state, sent in reply to `ready`. */
export const EvaluationInitSchema = v.object({
  origin: EvaluationOriginSchema,
  /** The manifest's name, for the title and export file names. */
  title: v.string(),
  /** The run folder and why it is there (workspace `.mosear/eval`, global storage, chosen). */
  runDirNote: v.string(),
  status: EvaluationStatusSchema,
  progress: v.nullable(EvaluationProgressSchema),
  /** The latest summary (partial while running); null before the first record. */
  summary: v.nullable(BenchmarkSummarySchema),
  /** The failure that stopped the run (not a clip's error: those are in the summary). */
  error: v.nullable(v.string()),
  /** Whether clicking a flipped clip can open its Analysis panel. */
  canOpenClips: v.boolean(),
});
export type EvaluationInit = v.InferOutput<typeof EvaluationInitSchema>;

/** What the Evaluate webview keeps with `setState` (the serializer reads `origin`). */
export interface EvaluationViewState {
  origin: EvaluationOrigin;
  /** The confusion matrix's checkpoint and setting. */
  confusion: { checkpoint: string; setting: string } | null;
  /** The setting whose flips are listed. */
  flips: { checkpoint: string; setting: string } | null;
  /** The checkpoint whose sweep curves and UAP by answer are drawn. */
  chartCheckpoint: string | null;
  /** The head map's checkpoint and setting, its clip group and what it shows. */
  heads: { checkpoint: string; setting: string } | null;
  headsGroup: string | null;
  headsMetric: 'share' | 'statistic' | null;
}

/** A checkpoint or setting name from the webview. */
const shortName = v.pipe(
  v.string('must be a non-empty string'),
  v.minLength(1, 'must be a non-empty string'),
  v.maxLength(500, 'must be at most 500 characters'),
);

/** Messages the Evaluate webview sends to the host. */
export const EvaluationToHostSchema = messageSchema([
  ...SHARED_WEBVIEW_MESSAGES,
  /** Stop the run (records so far are kept; running the same evaluation again resumes). */
  v.object({ type: v.literal('cancel') }),
  /** Open the Analysis panel of manifest clip `clip` with this checkpoint and setting's controls. */
  v.object({
    type: v.literal('openClip'),
    clip: v.pipe(
      v.number('must be a non-negative integer'),
      v.safeInteger('must be a non-negative integer'),
      v.minValue(0, 'must be a non-negative integer'),
    ),
    checkpoint: shortName,
    setting: shortName,
  }),
]);
export type EvaluationToHost = v.InferOutput<typeof EvaluationToHostSchema>;

/** Messages the host sends to the Evaluate webview. */
export const HostToEvaluationSchema = v.variant('type', [
  /** The full state (reply to `ready`, and when the host replaces the run). */
  v.object({ type: v.literal('init'), init: EvaluationInitSchema }),
  /** Progress of the running evaluation, with a partial summary when records arrived since. */
  v.object({
    type: v.literal('progress'),
    progress: EvaluationProgressSchema,
    summary: v.nullable(BenchmarkSummarySchema),
  }),
  /** The run ended: the final summary (null when none could be made) and any failure. */
  v.object({
    type: v.literal('finished'),
    status: v.picklist(['finished', 'cancelled', 'failed']),
    /** The run's last progress (a throttled progress post may not have gone out); null: none. */
    progress: v.nullable(EvaluationProgressSchema),
    summary: v.nullable(BenchmarkSummarySchema),
    error: v.nullable(v.string()),
  }),
  /** An export finished: the path written, or null when the user cancelled. */
  SavedMessageSchema,
]);
export type HostToEvaluation = v.InferOutput<typeof HostToEvaluationSchema>;

/** Parses a message from the Evaluate webview; throws InvalidMessageError otherwise. */
export function parseEvaluationMessage(raw: unknown): EvaluationToHost {
  return parseOrThrow(EvaluationToHostSchema, raw, invalidMessage);
}

/** Parses the origin an Evaluate webview saved in its state (untrusted input). */
export function parseEvaluationOrigin(value: unknown): EvaluationOrigin {
  const parsed = v.safeParse(EvaluationOriginSchema, value);
  if (parsed.success && parsed.output.kind === 'run') return parsed.output;
  throw new Error('the saved Evaluate panel state names no run folder');
}
