// The audio-vs-visual statistics of every ratio kind at once, per layer and head: what the
// threshold view shows for whichever kind the user switches to, without another model run.
import type { LayerRatioStatistics } from '../../protocol/analysisResult';
import { RATIO_KIND_NAMES, type RatioKind, type RatioKindName } from '../../protocol/contract';
import { layerRatioStatistics, type TokenCounts } from '../../shared/flagRule';

/**
 * Layer and head statistics of the raw, density and share kinds from a row-major [L, Hh, 3]
 * `modality_mass` (CONTRACT.md §4; the same arithmetic as the flag rule).
 */
export function ratioStatisticsByKind(
  modalityMass: ArrayLike<number>,
  layers: number,
  heads: number,
  counts: TokenCounts,
): Record<RatioKindName, LayerRatioStatistics[]> {
  if (modalityMass.length !== layers * heads * 3) {
    throw new RangeError(
      `modalityMass has ${modalityMass.length} values, expected ${layers * heads * 3} (L·Hh·3)`,
    );
  }
  const byKind = (kind: RatioKind): LayerRatioStatistics[] =>
    Array.from({ length: layers }, (_, l) =>
      layerRatioStatistics(modalityMass, l, heads, kind, counts),
    );
  const out = {} as Record<RatioKindName, LayerRatioStatistics[]>;
  RATIO_KIND_NAMES.forEach((name, kind) => {
    out[name] = byKind(kind as RatioKind);
  });
  return out;
}
