// Saved results (schema 2) in their two forms, and the reader of every form:
// - `<clip>.mosear.npz`: a zip (NumPy's .npz) holding `result.json` (the result without its token
//   rows; each rows entry names its member) and one float32 `.npy` member per stored block, e.g.
//   `intervention.token_attention.npy` [L, Hh, N] or, with `--tokens mean`,
//   `intervention.token_attention_mean.npy` [L, N]. `numpy.load` opens it; result.json comes back
//   as bytes (`json.loads(z['result.json'])`).
// - `<clip>.mosear.json`: the same result as one JSON text, token rows as base64 float32.
// The reader takes either, and schema 1 JSON (nested number arrays); every error names the part.
import { unzipSync, zipSync, type Zippable } from 'fflate';
import type { AnalysisResult, RunAnalysis } from '../../protocol/analysisResult';
import {
  AnalysisResultError,
  MAX_RESULT_FILE_BYTES,
  parseAnalysisResult,
  readAnalysisResult,
} from '../../protocol/analysisResultReader';
import { JsonTextError, parseJsonBounded } from '../../protocol/boundedJson';
import type { ComparisonResult } from '../../protocol/comparisonResult';
import { issuesText } from '../../protocol/issues';
import {
  jsonWithTokenRows,
  NpzTokenRowsSchema,
  storedTokenRows,
  type TokenRows,
  type TokenStorage,
} from '../../protocol/tokenRows';
import * as v from 'valibot';
import { decodeNpy, encodeNpy, NpyError } from './npy';

/** The npz member holding the result's summary. */
export const RESULT_JSON_MEMBER = 'result.json';

/** The two file forms of a saved result. */
export type ResultFileFormat = 'npz' | 'json';

/** The form a path asks for: `.npz` → npz, anything else → json. */
export function resultFormatOf(path: string): ResultFileFormat {
  return /\.npz$/i.test(path) ? 'npz' : 'json';
}

const RUN_KEYS = ['intervention', 'baseline'] as const;
const ROW_KEYS = [
  ['tokenAttentionBefore', 'token_attention_before'],
  ['tokenAttention', 'token_attention'],
] as const;

/** The result keeping only the token rows `storage` asks for (every head's, head means, none). */
export function withTokenStorage(result: AnalysisResult, storage: TokenStorage): AnalysisResult {
  if (storage === 'all') return result;
  const run = (r: RunAnalysis): RunAnalysis => ({
    ...r,
    tokenAttentionBefore: storedTokenRows(r.tokenAttentionBefore, storage),
    tokenAttention: storedTokenRows(r.tokenAttention, storage),
  });
  return { ...result, intervention: run(result.intervention), baseline: run(result.baseline) };
}

/** The `.mosear.json` text of a result (token rows as base64 float32). */
export function resultJson(result: AnalysisResult, storage: TokenStorage = 'all'): string {
  return `${jsonWithTokenRows(withTokenStorage(result, storage))}\n`;
}

/** The comparison with both results keeping only the token rows `storage` asks for. */
export function comparisonWithTokenStorage(
  comparison: ComparisonResult,
  storage: TokenStorage,
): ComparisonResult {
  const subject = (s: ComparisonResult['subjects']['a']) => ({
    ...s,
    result: withTokenStorage(s.result, storage),
  });
  const { a, b } = comparison.subjects;
  return { ...comparison, subjects: { a: subject(a), b: subject(b) } };
}

/** The JSON text of a comparison (token rows as base64 float32, as `storage` asks). */
export function comparisonJson(
  comparison: ComparisonResult,
  storage: TokenStorage = 'all',
): string {
  return `${jsonWithTokenRows(comparisonWithTokenStorage(comparison, storage))}\n`;
}

/** The npz member name of a stored block. */
function memberName(runKey: string, base: string, rows: TokenRows): string {
  return `${runKey}.${base}${rows.heads === 'mean' ? '_mean' : ''}.npy`;
}

/** The `.npy` shape of a block: [L, Hh, N], or [L, N] for head means. */
function npyShape(rows: { heads: TokenRows['heads']; shape: readonly number[] }): number[] {
  const [L = 0, H = 0, N = 0] = rows.shape;
  return rows.heads === 'mean' ? [L, N] : [L, H, N];
}

/** The `.mosear.npz` bytes of a result. */
export function resultNpz(result: AnalysisResult, storage: TokenStorage = 'all'): Uint8Array {
  const kept = withTokenStorage(result, storage);
  const files: Zippable = {};
  const summary: Record<string, unknown> = { ...kept };
  for (const runKey of RUN_KEYS) {
    const run: Record<string, unknown> = { ...kept[runKey] };
    for (const [key, base] of ROW_KEYS) {
      const rows = kept[runKey][key];
      if (rows === null) continue;
      const npy = memberName(runKey, base, rows);
      // Stored, not deflated: float32 noise barely compresses, and numpy reads it as is.
      files[npy] = [encodeNpy(rows.data, npyShape(rows)), { level: 0 }];
      run[key] = { heads: rows.heads, shape: rows.shape, npy };
    }
    summary[runKey] = run;
  }
  files[RESULT_JSON_MEMBER] = [new TextEncoder().encode(JSON.stringify(summary)), { level: 6 }];
  return zipSync(files);
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** Whether the bytes are a zip archive (an npz), by its local file header magic. */
export function isZip(bytes: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => bytes[i] === b);
}

function fail(source: string | undefined, message: string): never {
  throw new AnalysisResultError(source === undefined ? message : `${source}: ${message}`);
}

/** The members of an npz, refusing archives that unpack to more than a result may hold. */
function unpack(bytes: Uint8Array, source: string | undefined): Record<string, Uint8Array> {
  let total = 0;
  try {
    return unzipSync(bytes, {
      filter: (file) => {
        total += file.originalSize;
        if (total > MAX_RESULT_FILE_BYTES) {
          throw new Error(`it unpacks to more than ${MAX_RESULT_FILE_BYTES / 2 ** 20} MiB`);
        }
        return true;
      },
    });
  } catch (error) {
    return fail(
      source,
      `Not a MoSEAR Lens result: the .npz archive cannot be read (${(error as Error).message}).`,
    );
  }
}

/** The result in a `.mosear.npz`'s bytes; errors name the member at fault. */
export function readResultNpz(bytes: Uint8Array, source?: string): AnalysisResult {
  const files = unpack(bytes, source);
  const json = files[RESULT_JSON_MEMBER];
  if (json === undefined) {
    fail(source, `Not a MoSEAR Lens result: the .npz has no ${RESULT_JSON_MEMBER} member.`);
  }
  let value: unknown;
  try {
    value = parseJsonBounded(new TextDecoder().decode(json), { what: RESULT_JSON_MEMBER });
  } catch (error) {
    if (!(error instanceof JsonTextError)) throw error;
    fail(source, `Not a MoSEAR Lens result: ${RESULT_JSON_MEMBER} is ${error.problem}.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return readAnalysisResult(value, source);
  }
  const root: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const runKey of RUN_KEYS) {
    const run = root[runKey];
    if (typeof run !== 'object' || run === null || Array.isArray(run)) continue;
    const copy: Record<string, unknown> = { ...(run as Record<string, unknown>) };
    for (const [key] of ROW_KEYS) {
      const entry = copy[key];
      if (entry === null || entry === undefined) continue;
      const path = `${RESULT_JSON_MEMBER}: result.${runKey}.${key}`;
      const parsed = v.safeParse(NpzTokenRowsSchema, entry);
      if (!parsed.success) {
        fail(
          source,
          `Not a valid MoSEAR Lens result: ${issuesText(parsed.issues.slice(0, 1), path)}.`,
        );
      }
      const ref = parsed.output;
      const member = files[ref.npy];
      if (member === undefined) {
        fail(source, `Not a valid MoSEAR Lens result: the member ${ref.npy} (${path}) is missing.`);
      }
      let array;
      try {
        array = decodeNpy(member, ref.npy);
      } catch (error) {
        if (!(error instanceof NpyError)) throw error;
        return fail(source, `Not a valid MoSEAR Lens result: ${error.message}.`);
      }
      const want = npyShape(ref);
      if (array.shape.length !== want.length || array.shape.some((d, i) => d !== want[i])) {
        fail(
          source,
          `Not a valid MoSEAR Lens result: ${ref.npy} has shape (${array.shape.join(', ')}) where ` +
            `${path} says (${want.join(', ')}).`,
        );
      }
      copy[key] = { heads: ref.heads, shape: ref.shape, data: array.data };
    }
    root[runKey] = copy;
  }
  return readAnalysisResult(root, source);
}

/** A saved result from a file's bytes: an npz, or JSON text (schema 2, or 1). */
export function readResultBytes(bytes: Uint8Array, source?: string): AnalysisResult {
  if (isZip(bytes)) return readResultNpz(bytes, source);
  return parseAnalysisResult(new TextDecoder().decode(bytes), source);
}
