// The candidates of a head-knockout ranking (issue 18): a run's flagged heads, most
// audio-attending first. Pure: the engine's ranking, the CLI's --flagged and the Analysis
// panel's "knock out flagged heads" use the same order.
import type { HeadRef } from '../protocol/knockout';

/**
 * The flagged heads of a run (`ar_flags` [L][Hh] ≥ 0.5), most audio-attending first: by the
 * answer query's audio mass before the intervention (`modality_mass[l][h][1]`), then layer,
 * then head. The top K of this order are an effect ranking's candidates.
 */
export function flaggedHeadsByAudio(
  arFlags: readonly (readonly number[])[],
  modalityMass: readonly (readonly (readonly number[])[])[],
): HeadRef[] {
  const heads: { ref: HeadRef; audio: number }[] = [];
  arFlags.forEach((row, layer) =>
    row.forEach((flag, head) => {
      if (flag >= 0.5) {
        heads.push({ ref: { layer, head }, audio: modalityMass[layer]?.[head]?.[1] ?? 0 });
      }
    }),
  );
  heads.sort((a, b) => b.audio - a.audio || a.ref.layer - b.ref.layer || a.ref.head - b.ref.head);
  return heads.map((h) => h.ref);
}
