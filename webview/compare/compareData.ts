// Pure derivations of the Compare panel: where the two subjects' flags differ, and the per-token
// attention difference A − B. No DOM, so they are unit-tested in plain Node.
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import type { TokenWeight } from '../analysis/panelData';

/** Per head, whether the two flag grids differ; null when the grids have different shapes. */
export function flagDifferences(a: boolean[][], b: boolean[][]): boolean[][] | null {
  if (a.length !== b.length || a.some((row, l) => row.length !== b[l]?.length)) return null;
  return a.map((row, l) => row.map((flag, h) => flag !== b[l]?.[h]));
}

/** Heads whose flags differ. */
export function countDifferences(differs: boolean[][] | null): number {
  return differs === null ? 0 : differs.flat().filter(Boolean).length;
}

/** One visual token's weight under each subject and their difference. */
export interface TokenDifference {
  index: number;
  a: number;
  b: number;
  /** a − b */
  difference: number;
}

/**
 * The token-by-token difference A − B, or a reason why the two cannot be differenced (the
 * checkpoints lay their tokens out differently).
 */
export function tokenDifferences(
  resultA: AnalysisResult,
  resultB: AnalysisResult,
  weightsA: readonly TokenWeight[],
  weightsB: readonly TokenWeight[],
): TokenDifference[] | string {
  const layoutA = JSON.stringify(resultA.model.metadata.tokenLayout);
  const layoutB = JSON.stringify(resultB.model.metadata.tokenLayout);
  if (layoutA !== layoutB) {
    return 'the two checkpoints lay out their tokens differently, so their attention cannot be subtracted token by token';
  }
  return weightsA.map((w, i) => {
    const b = weightsB[i]?.weight ?? 0;
    return { index: w.index, a: w.weight, b, difference: w.weight - b };
  });
}

/** The largest |difference| over the visual tokens (the diverging scale's end), at least 1e-12. */
export function largestDifference(
  result: AnalysisResult,
  differences: readonly TokenDifference[],
): number {
  const visual = new Set(result.tokens.filter((t) => t.modality === 'visual').map((t) => t.index));
  return Math.max(
    1e-12,
    ...differences.filter((d) => visual.has(d.index)).map((d) => Math.abs(d.difference)),
  );
}
