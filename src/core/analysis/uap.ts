// UAP (unimodal attention proportion): how the answer query's attention splits between visual,
// audio and text keys at each layer, averaged over heads — the paper's Fig. 3a per clip.
import type { LayerUap } from '../../protocol/analysisResult';
import { MODALITY_AXIS } from '../../protocol/contract';
import { STAT_FLOOR } from '../../shared/flagRule';
import { meanPerLayer } from './layerMeans';

export type { LayerUap };

/** The numeric fields of `LayerUap`, for averaging and tables. */
export const LAYER_UAP_KEYS = ['visual', 'audio', 'text', 'visualOfAV', 'audioOfAV'] as const;

/**
 * UAP per layer from a `modality_mass` (or `modality_mass_after`) tensor, row-major [L, Hh, 3]
 * with (visual, audio, text) on the last axis. The A+V-normalised shares divide by
 * max(visual + audio, 1e-6), the contract's floor, so a row with no unimodal mass gives 0s.
 */
export function uapPerLayer(
  modalityMass: ArrayLike<number>,
  layers: number,
  heads: number,
): LayerUap[] {
  if (modalityMass.length !== layers * heads * 3) {
    throw new RangeError(
      `modalityMass has ${modalityMass.length} values, expected ${layers * heads * 3} (L·Hh·3)`,
    );
  }
  const out: LayerUap[] = [];
  for (let l = 0; l < layers; l++) {
    let visual = 0;
    let audio = 0;
    let text = 0;
    for (let h = 0; h < heads; h++) {
      const base = (l * heads + h) * 3;
      visual += modalityMass[base + MODALITY_AXIS.visual] as number;
      audio += modalityMass[base + MODALITY_AXIS.audio] as number;
      text += modalityMass[base + MODALITY_AXIS.text] as number;
    }
    visual /= heads;
    audio /= heads;
    text /= heads;
    const unimodal = Math.max(visual + audio, STAT_FLOOR);
    out.push({ visual, audio, text, visualOfAV: visual / unimodal, audioOfAV: audio / unimodal });
  }
  return out;
}

/** The mean UAP per layer over many clips (each field averaged over clips); `[]` for none. */
export function meanUap(clips: readonly (readonly LayerUap[])[]): LayerUap[] {
  return meanPerLayer(clips, LAYER_UAP_KEYS);
}
