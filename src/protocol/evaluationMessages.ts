// The Evaluate panel's messages between the extension host and its webview, split by direction.
// Same shape as the Analysis panel's protocol (panelMessages.ts): the webview sends `ready`, the
// host answers `init` with the whole state, and validates every incoming message with
// `parseEvaluationMessage`. The same bundle runs in a self-contained HTML report, where `init`
// comes from the embedded JSON. The summary type is the pure core's (type-only import: no code).
import {
  InvalidMessageError,
  isRecord,
  parseSharedMessage,
  type ExportFile,
} from './panelMessages';
import type { BenchmarkSummary } from './evaluationSummary';

/** How far a benchmark run has got (the core's `BenchmarkProgress`). */
export interface EvaluationProgress {
  /** Clips of this shard finished (resumed ones included). */
  done: number;
  total: number;
  /** Finished by an earlier run of the same evaluation and skipped. */
  resumed: number;
  /** Clips with at least one error record. */
  failed: number;
  elapsedMs: number;
  /** Estimated time left from this run's pace; null before the first clip. */
  etaMs: number | null;
}

/** Where an Evaluate panel's data comes from; kept in the webview's state for revival. */
export type EvaluationOrigin =
  /** A run folder (plan.json + records.jsonl) the host reads and re-summarises. */
  | { kind: 'run'; runDir: string }
  /** A self-contained HTML report (read-only, no host). */
  | { kind: 'report' };

/** Whether the run is going on, and how it ended. */
export type EvaluationStatus = 'running' | 'finished' | 'cancelled' | 'failed';

/** The Evaluate panel's full state, sent in reply to `ready`. */
export interface EvaluationInit {
  origin: EvaluationOrigin;
  /** The manifest's name, for the title and export file names. */
  title: string;
  /** The run folder and why it is there (workspace `.mosear/eval`, global storage, chosen). */
  runDirNote: string;
  status: EvaluationStatus;
  progress: EvaluationProgress | null;
  /** The latest summary (partial while running); null before the first record. */
  summary: BenchmarkSummary | null;
  /** The failure that stopped the run (not a clip's error: those are in the summary). */
  error: string | null;
  /** Whether clicking a flipped clip can open its Analysis panel. */
  canOpenClips: boolean;
}

/** What the Evaluate webview keeps with `setState` (the serializer reads `origin`). */
export interface EvaluationViewState {
  origin: EvaluationOrigin;
  /** The confusion matrix's checkpoint and setting. */
  confusion: { checkpoint: string; setting: string } | null;
  /** The setting whose flips are listed. */
  flips: { checkpoint: string; setting: string } | null;
  /** The checkpoint whose sweep curves and UAP by answer are drawn. */
  chartCheckpoint: string | null;
}

/** Messages the Evaluate webview sends to the host. */
export type EvaluationToHost =
  /** The webview has loaded and wants its state. */
  | { type: 'ready' }
  /** Stop the run (records so far are kept; running the same evaluation again resumes). */
  | { type: 'cancel' }
  /** Open the Analysis panel of manifest clip `clip` with this checkpoint and setting's controls. */
  | { type: 'openClip'; clip: number; checkpoint: string; setting: string }
  /** Save a chart or table the webview produced (the host asks where). */
  | { type: 'exportFile'; requestId: number; file: ExportFile }
  /** Save a self-contained HTML report of the current summary (the host asks where). */
  | { type: 'exportReport'; requestId: number }
  /** Something failed inside the webview; the host logs it. */
  | { type: 'webviewError'; message: string };

/** Messages the host sends to the Evaluate webview. */
export type HostToEvaluation =
  /** The full state (reply to `ready`, and when the host replaces the run). */
  | { type: 'init'; init: EvaluationInit }
  /** Progress of the running evaluation, with a partial summary when records arrived since. */
  | { type: 'progress'; progress: EvaluationProgress; summary: BenchmarkSummary | null }
  /** The run ended: the final summary (null when none could be made) and any failure. */
  | {
      type: 'finished';
      status: Exclude<EvaluationStatus, 'running'>;
      summary: BenchmarkSummary | null;
      error: string | null;
    }
  /** An export finished: the path written, or null when the user cancelled. */
  | { type: 'saved'; requestId: number; path: string | null; error: string | null };

function shortName(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 500) {
    throw new InvalidMessageError(`${what} must be a non-empty string`);
  }
  return v;
}

/** Validates a message from the Evaluate webview; throws InvalidMessageError otherwise. */
export function parseEvaluationMessage(raw: unknown): EvaluationToHost {
  if (!isRecord(raw)) throw new InvalidMessageError('message must be an object');
  const shared = parseSharedMessage(raw);
  if (shared !== undefined) return shared;
  switch (raw['type']) {
    case 'cancel':
      return { type: 'cancel' };
    case 'openClip': {
      const clip = raw['clip'];
      if (typeof clip !== 'number' || !Number.isSafeInteger(clip) || clip < 0) {
        throw new InvalidMessageError('clip must be a non-negative integer');
      }
      return {
        type: 'openClip',
        clip,
        checkpoint: shortName(raw['checkpoint'], 'checkpoint'),
        setting: shortName(raw['setting'], 'setting'),
      };
    }
    default:
      throw new InvalidMessageError(`unknown message type ${JSON.stringify(raw['type'])}`);
  }
}

/** Checks the origin an Evaluate webview saved in its state (untrusted input). */
export function parseEvaluationOrigin(value: unknown): EvaluationOrigin {
  if (isRecord(value) && value['kind'] === 'run' && typeof value['runDir'] === 'string') {
    return { kind: 'run', runDir: value['runDir'] };
  }
  throw new Error('the saved Evaluate panel state names no run folder');
}
