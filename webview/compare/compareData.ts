// Pure derivations of the Compare panel: where the two subjects' flags differ, the per-token
// attention difference A − B, and linking (one control set for both, the fields that differ).
// No DOM, so they are unit-tested in plain Node.
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { RATIO_KIND_NAMES, type ArControls } from '../../src/protocol/contract';
import { isOn } from '../../src/shared/onOff';
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

/** The shape a subject's controls must have: its checkpoint's layers and heads. */
export interface ControlShape {
  layers: number;
  heads: number;
}

/** The names of the setting fields that differ between two control sets, in a fixed order. */
export function settingDifferences(a: ArControls, b: ArControls): string[] {
  const same = (x: readonly number[], y: readonly number[]): boolean =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  const fields: [string, boolean][] = [
    ['mode', a.mode === b.mode],
    ['ratio kind', a.ratioKind === b.ratioKind],
    ['τ', same(a.tau, b.tau)],
    ['margin', a.headMargin === b.headMargin],
    ['α', a.alpha === b.alpha],
    ['γ', a.paiAlpha === b.paiAlpha],
    ['layers', same(a.layers, b.layers)],
    [
      'head overrides',
      a.headOverride.length === b.headOverride.length &&
        a.headOverride.every((row, l) => same(row, b.headOverride[l] ?? [])),
    ],
  ];
  return fields.filter(([, equal]) => !equal).map(([name]) => name);
}

/** A control set carried over to the partner, and what its checkpoint's shape kept back. */
export interface LinkedControls {
  controls: ArControls;
  /** Fields that could not be copied (the partner keeps its own), e.g. 'τ per layer'. */
  unlinked: string[];
}

/**
 * The full control set `from` as the partner runs it: identical where the shapes allow; with a
 * different number of layers the per-layer fields (τ, layers, overrides) stay the partner's,
 * with a different number of heads the overrides do.
 */
export function linkControls(
  from: ArControls,
  own: ArControls,
  shape: ControlShape,
): LinkedControls {
  const unlinked: string[] = [];
  const sameLayers = from.tau.length === shape.layers && from.layers.length === shape.layers;
  const sameHeads =
    sameLayers &&
    from.headOverride.length === shape.layers &&
    from.headOverride.every((row) => row.length === shape.heads);
  if (!sameLayers) unlinked.push('τ per layer', 'layers');
  if (!sameHeads && from.headOverride.flat().some((v) => v !== 0)) unlinked.push('head overrides');
  return {
    controls: {
      mode: from.mode,
      ratioKind: from.ratioKind,
      tau: sameLayers ? [...from.tau] : [...own.tau],
      headMargin: from.headMargin,
      alpha: from.alpha,
      paiAlpha: from.paiAlpha,
      layers: sameLayers ? [...from.layers] : [...own.layers],
      headOverride: sameHeads
        ? from.headOverride.map((row) => [...row])
        : Array.from({ length: shape.layers }, () => new Array<number>(shape.heads).fill(0)),
    },
    unlinked,
  };
}

const MODE_NAMES = ['off', 'AR', 'PAI-style'] as const;

/** One subject's setting in words: mode, ratio kind, τ, margin, α, γ and the layers acted on. */
export function settingText(c: ArControls): string {
  // Three significant digits (the kit's formatNumber lives with the DOM helpers).
  const n = (x: number): string => String(Number(x.toPrecision(3)));
  const taus = c.tau.every((t) => t === c.tau[0]) ? n(c.tau[0] ?? 0) : c.tau.map(n).join('/');
  const on = c.layers.flatMap((v, l) => (isOn(v) ? [l] : []));
  const forced = c.headOverride.flat().filter((v) => v !== 0).length;
  return [
    `mode ${MODE_NAMES[c.mode]}`,
    `ratio ${RATIO_KIND_NAMES[c.ratioKind]}`,
    `τ ${taus}`,
    `margin ${n(c.headMargin)}`,
    `α ${n(c.alpha)}`,
    `γ ${n(c.paiAlpha)}`,
    `layers ${on.length === 0 ? 'none' : on.join(',')}`,
    ...(forced > 0 ? [`${forced} head override(s)`] : []),
  ].join(' · ');
}
