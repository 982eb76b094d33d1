// Reads a saved AnalysisResult: accepts the schema version this code writes, rejects other
// versions and foreign or damaged JSON with a message that says what to do. The structure and
// the tensor shapes are `AnalysisResultSchema`'s; errors name the bad field's path.
import {
  ANALYSIS_RESULT_KIND,
  ANALYSIS_SCHEMA_VERSION,
  AnalysisResultSchema,
  type AnalysisResult,
} from './analysisResult';
import { JsonTextError, parseJsonBounded } from './boundedJson';
import { issuePath, mustBe, parseOrThrow } from './issues';

/** The largest result file read (bytes): a real model's result is tens of MB. */
export const MAX_RESULT_FILE_BYTES = 256 * 1024 * 1024;

/** A file that is not an AnalysisResult this version can read; the message says why. */
export class AnalysisResultError extends Error {
  override name = 'AnalysisResultError';
}

/**
 * Parses a JSON value as an AnalysisResult of the current schema and returns it typed.
 * Throws AnalysisResultError: for another schema version (newer: update MoSEAR Lens; older:
 * re-run the analysis), for JSON that is not a result, and for a result with broken structure.
 * `source` (the file) starts every message when given.
 */
export function readAnalysisResult(value: unknown, source?: string): AnalysisResult {
  try {
    return readResultValue(value);
  } catch (error) {
    if (source === undefined || !(error instanceof AnalysisResultError)) throw error;
    throw new AnalysisResultError(`${source}: ${error.message}`);
  }
}

function readResultValue(value: unknown): AnalysisResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AnalysisResultError(
      'Not a MoSEAR Lens result: the file does not hold a JSON object.',
    );
  }
  const root = value as Record<string, unknown>;
  if (root['kind'] !== ANALYSIS_RESULT_KIND) {
    throw new AnalysisResultError(
      `Not a MoSEAR Lens result: it has no "kind": "${ANALYSIS_RESULT_KIND}" field.`,
    );
  }
  const version = root['schemaVersion'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new AnalysisResultError(
      'Not a valid MoSEAR Lens result: schemaVersion must be a positive integer.',
    );
  }
  if (version > ANALYSIS_SCHEMA_VERSION) {
    throw new AnalysisResultError(
      `This result was saved by a newer version of MoSEAR Lens (result schema ${version}; this ` +
        `version reads schema ${ANALYSIS_SCHEMA_VERSION}). Update MoSEAR Lens to open it.`,
    );
  }
  if (version < ANALYSIS_SCHEMA_VERSION) {
    throw new AnalysisResultError(
      `This result was saved by an older version of MoSEAR Lens (result schema ${version}), ` +
        `which this version (schema ${ANALYSIS_SCHEMA_VERSION}) cannot read. Run the analysis again.`,
    );
  }
  return parseOrThrow(
    AnalysisResultSchema,
    value,
    (issue) =>
      new AnalysisResultError(
        `Not a valid MoSEAR Lens result: ${issuePath(issue, 'result')} ${issue.message}.`,
      ),
    mustBe,
  );
}

/**
 * Parses the text of a saved result (see `readAnalysisResult`; a leading BOM is accepted, the
 * nesting depth bounded). `source` (the file) starts every message when given.
 */
export function parseAnalysisResult(text: string, source?: string): AnalysisResult {
  let value: unknown;
  try {
    value = parseJsonBounded(text, { what: 'the file' });
  } catch (error) {
    if (!(error instanceof JsonTextError)) throw error;
    const message = `Not a MoSEAR Lens result: the file is ${error.problem}.`;
    throw new AnalysisResultError(source === undefined ? message : `${source}: ${message}`);
  }
  return readAnalysisResult(value, source);
}
