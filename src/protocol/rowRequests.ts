// Token rows on demand: a panel gets its result's summaries first (the result with its token
// rows left out, plus a `TokenRowsIndex` saying which rows exist), and fetches the one row a view
// shows with a `tokenRow` request over the panel channel; the host answers with the row as a
// Float32Array (no JSON numbers), or with `tokenRowFailed` naming what was wrong. An HTML report
// has no host: its embedded result keeps the rows and the webview answers itself
// (webview/analysis/tokenRowSource.ts). The host's bounds check and answer: src/shared/panelRows.ts.
import * as v from 'valibot';
import { LayerUapSchema } from './analysisResult';
import { TokenRowsHeadsSchema } from './tokenRows';
import { float32Array } from './issues';

const index = v.pipe(
  v.number('must be an integer ≥ 0'),
  v.safeInteger('must be an integer ≥ 0'),
  v.minValue(0, 'must be an integer ≥ 0'),
);

/** Which run a row comes from: off (the baseline) or the intervention run. */
export const RowRunSchema = v.picklist(['off', 'intervention'], 'must be "off" or "intervention"');
export type RowRun = v.InferOutput<typeof RowRunSchema>;

/** The attention before the run's intervention (`tokenAttentionBefore`) or after it. */
export const RowStageSchema = v.picklist(['before', 'after'], 'must be "before" or "after"');
export type RowStage = v.InferOutput<typeof RowStageSchema>;

/** One answer row: a run, a stage, a layer and a head (or the heads' mean). */
export const TokenRowQuerySchema = v.object({
  run: RowRunSchema,
  stage: RowStageSchema,
  layer: index,
  head: v.union([index, v.literal('mean')], 'must be an integer ≥ 0 or "mean"'),
});
export type TokenRowQuery = v.InferOutput<typeof TokenRowQuerySchema>;

/** Which rows a run keeps per stage: every head's, the head means, or none (null). */
export const StoredRowsSchema = v.object({
  before: v.nullable(TokenRowsHeadsSchema),
  after: v.nullable(TokenRowsHeadsSchema),
});
export type StoredRows = v.InferOutput<typeof StoredRowsSchema>;

/** What a panel knows of a result's token rows without holding them. */
export const TokenRowsIndexSchema = v.object({
  /** [L, Hh, N] of the result (the bounds of every request). */
  shape: v.tuple([index, index, index]),
  stored: v.object({ off: StoredRowsSchema, intervention: StoredRowsSchema }),
  /**
   * UAP per layer without the first key position, computed from the rows on the host (off before
   * the intervention, the intervention run after it); null when the rows were not stored.
   */
  uapSkipFirst: v.nullable(
    v.object({ without: v.array(LayerUapSchema), with: v.array(LayerUapSchema) }),
  ),
  /** Why the host holds no rows although the result had them (a panel revived after a reload). */
  unavailable: v.exactOptional(v.string()),
});
export type TokenRowsIndex = v.InferOutput<typeof TokenRowsIndexSchema>;

/** The webview asks for one row (the Analysis panel's form; Compare adds its subject). */
export const TokenRowRequestSchema = v.object({
  type: v.literal('tokenRow'),
  requestId: index,
  query: TokenRowQuerySchema,
});

/** The host's answer: the row, N float32 values. */
export const TokenRowReplySchema = v.object({
  type: v.literal('tokenRow'),
  requestId: v.number(),
  row: float32Array,
});

/** The host could not answer a row request (out of range, not stored, no result). */
export const TokenRowFailedSchema = v.object({
  type: v.literal('tokenRowFailed'),
  requestId: v.number(),
  message: v.string(),
});

/** The channel lane of a run and stage's row requests: within it the latest request wins. */
export function rowLane(query: Pick<TokenRowQuery, 'run' | 'stage'>): string {
  return `tokenRow:${query.run}:${query.stage}`;
}
