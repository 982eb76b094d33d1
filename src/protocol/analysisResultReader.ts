// Reads a saved AnalysisResult: accepts the schema version this code writes, converts schema 1
// (token rows as nested number arrays) to it, rejects newer versions and foreign or damaged JSON
// with a message that says what to do. The structure and the tensor shapes are
// `AnalysisResultSchema`'s; errors name the bad field's path.
import * as v from 'valibot';
import {
  ANALYSIS_RESULT_KIND,
  ANALYSIS_SCHEMA_VERSION,
  AnalysisResultSchema,
  type AnalysisResult,
} from './analysisResult';
import { JsonTextError, parseJsonBounded } from './boundedJson';
import { issuePath, mustBe, numberArray, parseOrThrow } from './issues';
import type { TokenRows } from './tokenRows';

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

/** The value as an AnalysisResult, or null where it is not one (a webview's own saved state). */
export function analysisResultOrNull(value: unknown): AnalysisResult | null {
  try {
    return readResultValue(value);
  } catch {
    return null;
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
  const current = version === 1 ? fromSchema1(root) : value;
  return parseOrThrow(
    AnalysisResultSchema,
    current,
    (issue) =>
      new AnalysisResultError(
        `Not a valid MoSEAR Lens result: ${issuePath(issue, 'result')} ${issue.message}.`,
      ),
    mustBe,
  );
}

const NESTED_ROWS = numberArray(3);

/** Schema 1's nested [L][Hh][N] token rows as one block; throws with the path where not. */
function rowsFromNested(value: unknown, path: string): TokenRows {
  const parsed = v.safeParse(NESTED_ROWS, value, { abortEarly: true, message: mustBe });
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new AnalysisResultError(
      `Not a valid MoSEAR Lens result: ${issuePath(issue, path)} ${issue.message}.`,
    );
  }
  const rows = parsed.output;
  const L = rows.length;
  const H = rows[0]?.length ?? 0;
  const N = rows[0]?.[0]?.length ?? 0;
  const data = new Float32Array(L * H * N);
  let o = 0;
  for (let l = 0; l < L; l++) {
    const heads = rows[l] as number[][];
    if (heads.length !== H) {
      throw new AnalysisResultError(
        `Not a valid MoSEAR Lens result: ${path}[${l}] must be an array of ${H} (one row per head).`,
      );
    }
    for (let h = 0; h < H; h++) {
      const row = heads[h] as number[];
      if (row.length !== N) {
        throw new AnalysisResultError(
          `Not a valid MoSEAR Lens result: ${path}[${l}][${h}] must be an array of ${N} (one value per position).`,
        );
      }
      data.set(row, o);
      o += N;
    }
  }
  return { heads: 'all', shape: [L, H, N], data };
}

/**
 * A schema 1 result value with its token rows as blocks, as schema 2 holds them (any other value
 * unchanged). Throws AnalysisResultError where its rows are not [L][Hh][N] numbers.
 */
export function upgradeResultValue(value: unknown, path = 'result'): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const root = value as Record<string, unknown>;
  return root['schemaVersion'] === 1 ? fromSchema1(root, path) : value;
}

function fromSchema1(root: Record<string, unknown>, path = 'result'): Record<string, unknown> {
  const out: Record<string, unknown> = { ...root, schemaVersion: ANALYSIS_SCHEMA_VERSION };
  for (const runKey of ['intervention', 'baseline'] as const) {
    const run = root[runKey];
    if (typeof run !== 'object' || run === null || Array.isArray(run)) continue;
    const copy: Record<string, unknown> = { ...(run as Record<string, unknown>) };
    for (const key of ['tokenAttentionBefore', 'tokenAttention']) {
      if (key in copy) copy[key] = rowsFromNested(copy[key], `${path}.${runKey}.${key}`);
    }
    out[runKey] = copy;
  }
  return out;
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
