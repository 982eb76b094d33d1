// Per-token attention of the answer query (`token_attention` [L, Hh, N]) read through the
// metadata's token layout: how much weight the audio token gets next to a typical visual token
// at each layer, averaged over heads — the paper's Fig. 3b per clip.
import type { TokenLayout } from '../../protocol/contract';
import { modalityPositions } from '../../shared/tokenPositions';
import { meanPerLayer } from './layerMeans';
import {
  type LayerTokenAttention,
  LAYER_TOKEN_ATTENTION_KEYS,
} from '../../protocol/evaluationSummary';

function checkSize(tokenAttention: ArrayLike<number>, layers: number, heads: number, n: number) {
  if (tokenAttention.length !== layers * heads * n) {
    throw new RangeError(
      `tokenAttention has ${tokenAttention.length} values, expected ${layers * heads * n} (L·Hh·N)`,
    );
  }
}

/** The head-averaged attention row of each layer: [L] rows of N weights. */
export function headAveragedRows(
  tokenAttention: ArrayLike<number>,
  layers: number,
  heads: number,
  tokens: number,
): Float64Array[] {
  checkSize(tokenAttention, layers, heads, tokens);
  return Array.from({ length: layers }, (_, l) => {
    const row = new Float64Array(tokens);
    for (let h = 0; h < heads; h++) {
      const base = (l * heads + h) * tokens;
      for (let k = 0; k < tokens; k++)
        row[k] = (row[k] as number) + (tokenAttention[base + k] as number);
    }
    for (let k = 0; k < tokens; k++) row[k] = (row[k] as number) / heads;
    return row;
  });
}

function meanAt(row: Float64Array, positions: readonly number[]): number {
  if (positions.length === 0) return NaN;
  return positions.reduce((sum, k) => sum + (row[k] as number), 0) / positions.length;
}

function maxAt(row: Float64Array, positions: readonly number[]): number {
  if (positions.length === 0) return NaN;
  return positions.reduce((best, k) => Math.max(best, row[k] as number), -Infinity);
}

/**
 * Per-layer summary of a `token_attention` (or `token_attention_before`) tensor, row-major
 * [L, Hh, N] with N = `layout.total`: heads are averaged first, then tokens of each modality.
 */
export function tokenAttentionSummary(
  tokenAttention: ArrayLike<number>,
  layout: TokenLayout,
  layers: number,
  heads: number,
): LayerTokenAttention[] {
  const visual = modalityPositions(layout, 'visual');
  const audio = modalityPositions(layout, 'audio');
  const text = modalityPositions(layout, 'text');
  return headAveragedRows(tokenAttention, layers, heads, layout.total).map((row) => ({
    audioToken: meanAt(row, audio),
    visualTokenMean: meanAt(row, visual),
    visualTokenMax: maxAt(row, visual),
    textTokenMean: meanAt(row, text),
  }));
}

/** The mean summary per layer over many clips (each field averaged over clips); `[]` for none. */
export function meanTokenAttention(
  clips: readonly (readonly LayerTokenAttention[])[],
): LayerTokenAttention[] {
  return meanPerLayer(clips, LAYER_TOKEN_ATTENTION_KEYS);
}
