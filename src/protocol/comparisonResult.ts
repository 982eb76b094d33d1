// The ComparisonResult: one clip analysed by two subjects (two checkpoints, or one checkpoint
// under two settings), each a full AnalysisResult. Plain JSON like the AnalysisResult and
// versioned the same way: `readComparisonResult` accepts `COMPARISON_SCHEMA_VERSION` and rejects
// the others with a message.
import type { AnalysisResult } from './analysisResult';
import { AnalysisResultError, readAnalysisResult } from './analysisResultReader';
import type { ArControls } from './contract';

/** The schema version this code writes and reads. Bump on any incompatible change. */
export const COMPARISON_SCHEMA_VERSION = 1;

/** The `kind` every saved comparison carries. */
export const COMPARISON_RESULT_KIND = 'mosear-lens/comparison';

/** The two sides of a comparison, in display order. */
export const SUBJECT_KEYS = ['a', 'b'] as const;

/** Which side of a comparison. */
export type SubjectKey = (typeof SUBJECT_KEYS)[number];

/** One side: a checkpoint with its controls, and what it produced on the clip. */
export interface ComparisonSubject {
  /** A short name for headers and legends ("mosear-tiny", "mosear-tiny · AR"). */
  label: string;
  modelPath: string;
  /** The controls the subject ran with (the same as `result.settings.controls`). */
  controls: ArControls;
  result: AnalysisResult;
}

/** What is being compared: two checkpoints, or one checkpoint under two settings. */
export type ComparisonKind = 'checkpoints' | 'settings';

/** One clip, two subjects. */
export interface ComparisonResult {
  kind: typeof COMPARISON_RESULT_KIND;
  schemaVersion: typeof COMPARISON_SCHEMA_VERSION;
  /** ISO 8601. */
  createdAt: string;
  comparing: ComparisonKind;
  clip: { path: string; name: string };
  subjects: Record<SubjectKey, ComparisonSubject>;
  timings: {
    /** Full decodes of the clip this comparison made (1: the second subject reused the first's). */
    clipDecodes: number;
    /** Wall time of the whole comparison (both subjects run concurrently). */
    totalMs: number;
  };
}

/** A file that is not a ComparisonResult this version can read; the message says why. */
export class ComparisonResultError extends Error {
  override name = 'ComparisonResultError';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(what: string): never {
  throw new ComparisonResultError(`Not a valid MoSEAR Lens comparison: ${what}.`);
}

function readSubject(value: unknown, key: SubjectKey): ComparisonSubject {
  const at = `subjects.${key}`;
  if (!isRecord(value)) fail(`${at} must be an object`);
  if (typeof value['label'] !== 'string') fail(`${at}.label must be a string`);
  if (typeof value['modelPath'] !== 'string') fail(`${at}.modelPath must be a string`);
  if (!isRecord(value['controls'])) fail(`${at}.controls must be an object`);
  try {
    readAnalysisResult(value['result']);
  } catch (error) {
    // The analysis reader names the field; say which subject it belongs to.
    if (error instanceof AnalysisResultError) fail(`${at}.result: ${error.message}`);
    throw error;
  }
  return value as unknown as ComparisonSubject;
}

/**
 * Checks a parsed JSON value is a ComparisonResult of the current schema (both subjects' results
 * checked by `readAnalysisResult`) and returns it typed; throws ComparisonResultError otherwise.
 */
export function readComparisonResult(value: unknown): ComparisonResult {
  if (!isRecord(value)) {
    throw new ComparisonResultError(
      'Not a MoSEAR Lens comparison: the file does not hold a JSON object.',
    );
  }
  if (value['kind'] !== COMPARISON_RESULT_KIND) {
    throw new ComparisonResultError(
      `Not a MoSEAR Lens comparison: it has no "kind": "${COMPARISON_RESULT_KIND}" field` +
        (value['kind'] === 'mosear-lens/analysis' ? ' (it is a single analysis result).' : '.'),
    );
  }
  const version = value['schemaVersion'];
  if (version !== COMPARISON_SCHEMA_VERSION) {
    throw new ComparisonResultError(
      typeof version === 'number' && version > COMPARISON_SCHEMA_VERSION
        ? `This comparison was saved by a newer version of MoSEAR Lens (schema ${version}; this version reads ${COMPARISON_SCHEMA_VERSION}). Update MoSEAR Lens to open it.`
        : `This comparison has schema ${JSON.stringify(version)}, which this version (schema ${COMPARISON_SCHEMA_VERSION}) cannot read. Run the comparison again.`,
    );
  }
  if (typeof value['createdAt'] !== 'string') fail('createdAt must be a string');
  if (value['comparing'] !== 'checkpoints' && value['comparing'] !== 'settings') {
    fail('comparing must be "checkpoints" or "settings"');
  }
  const clip = value['clip'];
  if (!isRecord(clip) || typeof clip['path'] !== 'string' || typeof clip['name'] !== 'string') {
    fail('clip must have a path and a name');
  }
  const subjects = value['subjects'];
  if (!isRecord(subjects)) fail('subjects must be an object');
  for (const key of SUBJECT_KEYS) readSubject(subjects[key], key);
  const timings = value['timings'];
  if (!isRecord(timings) || typeof timings['clipDecodes'] !== 'number') {
    fail('timings.clipDecodes must be a number');
  }
  return value as unknown as ComparisonResult;
}

/** Parses the text of a saved comparison (see `readComparisonResult`). */
export function parseComparisonResult(text: string): ComparisonResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ComparisonResultError(
      `Not a MoSEAR Lens comparison: the file is not valid JSON (${(error as Error).message}).`,
    );
  }
  return readComparisonResult(value);
}
