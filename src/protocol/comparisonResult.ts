// The ComparisonResult: one clip analysed by two subjects (two checkpoints, or one checkpoint
// under two settings), each a full AnalysisResult (schema 1 results inside are converted; token
// rows are base64 float32 in the file). JSON like the AnalysisResult and versioned the same way: `readComparisonResult` accepts `COMPARISON_SCHEMA_VERSION` and rejects
// the others with a message.
import * as v from 'valibot';
import { AnalysisResultSchema } from './analysisResult';
import { ArControlsSchema } from './contract';
import { AnalysisResultError, upgradeResultValue } from './analysisResultReader';
import { JsonTextError, parseJsonBounded } from './boundedJson';
import { issuePath, mustBe, parseOrThrow } from './issues';

/** The schema version this code writes and reads. Bump on any incompatible change. */
export const COMPARISON_SCHEMA_VERSION = 1;

/** The `kind` every saved comparison carries. */
export const COMPARISON_RESULT_KIND = 'mosear-lens/comparison';

/** The two sides of a comparison, in display order. */
export const SUBJECT_KEYS = ['a', 'b'] as const;

/** Which side of a comparison. */
export const SubjectKeySchema = v.picklist(SUBJECT_KEYS, 'must be "a" or "b"');
export type SubjectKey = v.InferOutput<typeof SubjectKeySchema>;

/** One side: a checkpoint with its controls, and what it produced on the clip. */
export const ComparisonSubjectSchema = v.object({
  /** A short name for headers and legends ("mosear-tiny", "mosear-tiny · AR"). */
  label: v.string(),
  modelPath: v.string(),
  /** The controls the subject ran with (the same as `result.settings.controls`). */
  controls: ArControlsSchema,
  result: AnalysisResultSchema,
});
export type ComparisonSubject = v.InferOutput<typeof ComparisonSubjectSchema>;

/** What is being compared: two checkpoints, or one checkpoint under two settings. */
export const ComparisonKindSchema = v.picklist(
  ['checkpoints', 'settings'],
  'must be "checkpoints" or "settings"',
);
export type ComparisonKind = v.InferOutput<typeof ComparisonKindSchema>;

/** One clip, two subjects. */
export const ComparisonResultSchema = v.object({
  kind: v.literal(COMPARISON_RESULT_KIND),
  schemaVersion: v.literal(COMPARISON_SCHEMA_VERSION),
  /** ISO 8601. */
  createdAt: v.string(),
  comparing: ComparisonKindSchema,
  clip: v.object({ path: v.string(), name: v.string() }),
  subjects: v.object({ a: ComparisonSubjectSchema, b: ComparisonSubjectSchema }),
  timings: v.object({
    /** Full decodes of the clip this comparison made (1: the second subject reused the first's). */
    clipDecodes: v.number(),
    /** Wall time of the whole comparison (both subjects run concurrently). */
    totalMs: v.number(),
  }),
});
export type ComparisonResult = v.InferOutput<typeof ComparisonResultSchema>;

/** A file that is not a ComparisonResult this version can read; the message says why. */
export class ComparisonResultError extends Error {
  override name = 'ComparisonResultError';
}

/**
 * Parses a JSON value as a ComparisonResult of the current schema (both subjects' results by
 * `AnalysisResultSchema`) and returns it typed; throws ComparisonResultError otherwise.
 * `source` (the file) starts every message when given.
 */
export function readComparisonResult(value: unknown, source?: string): ComparisonResult {
  try {
    return readComparisonValue(value);
  } catch (error) {
    if (source === undefined || !(error instanceof ComparisonResultError)) throw error;
    throw new ComparisonResultError(`${source}: ${error.message}`);
  }
}

/** The value as a ComparisonResult, or null where it is not one (a webview's own saved state). */
export function comparisonResultOrNull(value: unknown): ComparisonResult | null {
  try {
    return readComparisonValue(value);
  } catch {
    return null;
  }
}

function readComparisonValue(value: unknown): ComparisonResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ComparisonResultError(
      'Not a MoSEAR Lens comparison: the file does not hold a JSON object.',
    );
  }
  const root = value as Record<string, unknown>;
  if (root['kind'] !== COMPARISON_RESULT_KIND) {
    throw new ComparisonResultError(
      `Not a MoSEAR Lens comparison: it has no "kind": "${COMPARISON_RESULT_KIND}" field` +
        (root['kind'] === 'mosear-lens/analysis' ? ' (it is a single analysis result).' : '.'),
    );
  }
  const version = root['schemaVersion'];
  if (version !== COMPARISON_SCHEMA_VERSION) {
    throw new ComparisonResultError(
      typeof version === 'number' && version > COMPARISON_SCHEMA_VERSION
        ? `This comparison was saved by a newer version of MoSEAR Lens (schema ${version}; this version reads ${COMPARISON_SCHEMA_VERSION}). Update MoSEAR Lens to open it.`
        : `This comparison has schema ${JSON.stringify(version)}, which this version (schema ${COMPARISON_SCHEMA_VERSION}) cannot read. Run the comparison again.`,
    );
  }
  return parseOrThrow(
    ComparisonResultSchema,
    withCurrentResults(root),
    (issue) =>
      new ComparisonResultError(
        `Not a valid MoSEAR Lens comparison: ${issuePath(issue)} ${issue.message}.`,
      ),
    mustBe,
  );
}

/** The comparison with each subject's schema 1 result converted (token rows as blocks). */
function withCurrentResults(root: Record<string, unknown>): Record<string, unknown> {
  const subjects = root['subjects'];
  if (typeof subjects !== 'object' || subjects === null) return root;
  const out: Record<string, unknown> = { ...(subjects as Record<string, unknown>) };
  for (const key of SUBJECT_KEYS) {
    const subject = out[key];
    if (typeof subject !== 'object' || subject === null) continue;
    const s = subject as Record<string, unknown>;
    try {
      out[key] = { ...s, result: upgradeResultValue(s['result'], `subjects.${key}.result`) };
    } catch (error) {
      if (!(error instanceof AnalysisResultError)) throw error;
      throw new ComparisonResultError(
        error.message.replace('MoSEAR Lens result', 'MoSEAR Lens comparison'),
      );
    }
  }
  return { ...root, subjects: out };
}

/**
 * Parses the text of a saved comparison (see `readComparisonResult`; a leading BOM is accepted,
 * the nesting depth bounded). `source` (the file) starts every message when given.
 */
export function parseComparisonResult(text: string, source?: string): ComparisonResult {
  let value: unknown;
  try {
    value = parseJsonBounded(text, { what: 'the file' });
  } catch (error) {
    if (!(error instanceof JsonTextError)) throw error;
    const message = `Not a MoSEAR Lens comparison: the file is ${error.problem}.`;
    throw new ComparisonResultError(source === undefined ? message : `${source}: ${message}`);
  }
  return readComparisonResult(value, source);
}
