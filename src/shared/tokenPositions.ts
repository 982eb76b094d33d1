// Where each modality's tokens sit in the key axis (CONTRACT.md §3's token layout); shared by the
// engine's summaries and the panels' per-token views.
import type { Modality, TokenLayout } from '../protocol/contract';

/** The key positions of one modality, in layout order. */
export function modalityPositions(layout: TokenLayout, modality: Modality): number[] {
  return layout.segments
    .filter((s) => s.modality === modality)
    .flatMap((s) => Array.from({ length: s.count }, (_, i) => s.start + i));
}
