// Token rows on demand (src/protocol/rowRequests.ts), the pure half both ends share: a result's
// summaries without its rows and the index of what it holds (what the host posts first), UAP
// without the first position (computed where the rows are), and the answer to one row request,
// bounds-checked against the result's shape (the host's and an HTML report's answer alike).
import type { AnalysisResult, LayerUap } from '../protocol/analysisResult';
import type { ComparisonResult } from '../protocol/comparisonResult';
import type { StoredRows, TokenRowQuery, TokenRowsIndex } from '../protocol/rowRequests';
import { headMeanRow, tokenRow, type TokenRows } from '../protocol/tokenRows';

/** The run of an AnalysisResult a query names. */
function runOf(result: AnalysisResult, run: TokenRowQuery['run']): AnalysisResult['intervention'] {
  return run === 'off' ? result.baseline : result.intervention;
}

/** The token rows block a query's run and stage name (null when not stored). */
export function rowsBlock(
  result: AnalysisResult,
  query: Pick<TokenRowQuery, 'run' | 'stage'>,
): TokenRows | null {
  const run = runOf(result, query.run);
  return query.stage === 'before' ? run.tokenAttentionBefore : run.tokenAttention;
}

/**
 * UAP per layer from a run's token rows [L][Hh][N], heads averaged, optionally without the
 * first key position (the attention sink of LLaMA-family models): with S the kept positions,
 * share(m) = Σₕ Σ_{k∈S, k of modality m} aₕₖ ÷ Σₕ Σ_{k∈S} aₕₖ and visual of A+V =
 * Σ visual ÷ max(Σ visual + Σ audio, 1e-6) (sums as means over heads, as the engine's UAP).
 */
export function uapFromRows(
  rows: TokenRows,
  tokens: AnalysisResult['tokens'],
  skipFirst: boolean,
): LayerUap[] {
  const [L, H, N] = rows.shape;
  return Array.from({ length: L }, (_, layer) => {
    const mass = { visual: 0, audio: 0, text: 0 };
    for (let h = 0; h < H; h++) {
      const row = tokenRow(rows, layer, h);
      for (let k = skipFirst ? 1 : 0; k < N; k++) {
        const m = tokens[k]?.modality;
        if (m !== undefined) mass[m] += (row[k] ?? 0) / H;
      }
    }
    const total = Math.max(mass.visual + mass.audio + mass.text, 1e-12);
    const unimodal = Math.max(mass.visual + mass.audio, 1e-6);
    return {
      visual: mass.visual / total,
      audio: mass.audio / total,
      text: mass.text / total,
      visualOfAV: mass.visual / unimodal,
      audioOfAV: mass.audio / unimodal,
    };
  });
}

/** Which rows a run keeps per stage. */
function storedOf(run: AnalysisResult['intervention']): StoredRows {
  return {
    before: run.tokenAttentionBefore?.heads ?? null,
    after: run.tokenAttention?.heads ?? null,
  };
}

/**
 * What a panel is told of a result's token rows before it asks for any (`unavailable`: why the
 * host has none although the result had them).
 */
export function tokenRowsIndex(result: AnalysisResult, unavailable?: string): TokenRowsIndex {
  const { layers, heads } = result.model.metadata.architecture;
  const before = result.baseline.tokenAttentionBefore;
  const after = result.intervention.tokenAttention;
  return {
    shape: [layers, heads, result.tokens.length],
    stored: { off: storedOf(result.baseline), intervention: storedOf(result.intervention) },
    // The UAP chart's "without position 0" (the whole-row UAP is in the summaries).
    uapSkipFirst:
      before === null || after === null
        ? null
        : {
            without: uapFromRows(before, result.tokens, true),
            with: uapFromRows(after, result.tokens, true),
          },
    ...(unavailable === undefined ? {} : { unavailable }),
  };
}

/** The result's summaries: every token row left out (a copy; the result is not changed). */
export function withoutTokenRows(result: AnalysisResult): AnalysisResult {
  const strip = (run: AnalysisResult['intervention']): AnalysisResult['intervention'] => ({
    ...run,
    tokenAttentionBefore: null,
    tokenAttention: null,
  });
  return { ...result, intervention: strip(result.intervention), baseline: strip(result.baseline) };
}

/** A comparison's summaries: both subjects' results without token rows. */
export function comparisonWithoutTokenRows(comparison: ComparisonResult): ComparisonResult {
  const { a, b } = comparison.subjects;
  return {
    ...comparison,
    subjects: {
      a: { ...a, result: withoutTokenRows(a.result) },
      b: { ...b, result: withoutTokenRows(b.result) },
    },
  };
}

/** Whether a result still holds any token rows (a report's, or a state saved before rows on demand). */
export function holdsTokenRows(result: AnalysisResult): boolean {
  return [result.baseline, result.intervention].some(
    (run) => run.tokenAttentionBefore !== null || run.tokenAttention !== null,
  );
}

/**
 * The answer to one row request: N float32 values (a head's row; the heads' mean for "mean" or
 * for any head where only means were stored), or why there is none (the message names the bound).
 */
export function answerTokenRow(
  result: AnalysisResult | null,
  query: TokenRowQuery,
): { row: Float32Array } | { error: string } {
  if (result === null) return { error: 'there is no result yet' };
  const { layers: L, heads: Hh } = result.model.metadata.architecture;
  if (query.layer >= L) return { error: `layer ${query.layer} is out of range (0–${L - 1})` };
  if (query.head !== 'mean' && query.head >= Hh) {
    return { error: `head ${query.head} is out of range (0–${Hh - 1})` };
  }
  const rows = rowsBlock(result, query);
  if (rows === null) {
    return { error: `the ${query.run} run's ${query.stage} rows were not stored` };
  }
  if (query.head === 'mean' && rows.heads === 'all') {
    return { row: Float32Array.from(headMeanRow(rows, query.layer)) };
  }
  // A copy: the reply owns its buffer (postMessage may transfer or structured-clone it).
  return { row: tokenRow(rows, query.layer, query.head === 'mean' ? 0 : query.head).slice() };
}
