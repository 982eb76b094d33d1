// The AR flag rule of CONTRACT.md §4 in TypeScript, for the UI's live preview and for checking
// the graph's `ar_flags`. Pure arithmetic (float64), no Node or DOM: webviews may bundle it.
import type { HeadReason, LayerDecision, LayerRatioStatistics } from '../protocol/analysisResult';
import type { ArControls, RatioKind } from '../protocol/contract';
import { isForcedOff, isOn } from './onOff';

export type { HeadReason, LayerDecision, LayerRatioStatistics };

/** Floor on every statistic's denominator. */
export const STAT_FLOOR = 1e-6;

/** The audio-vs-visual statistic r(A, V) of one ratio kind. */
export function ratioStatistic(
  kind: RatioKind,
  audio: number,
  visual: number,
  audioTokens: number,
  visualTokens: number,
): number {
  switch (kind) {
    case 0:
      return audio / Math.max(visual, STAT_FLOOR);
    case 1:
      return audio / audioTokens / Math.max(visual / visualTokens, STAT_FLOOR);
    case 2:
      return audio / Math.max(audio + visual, STAT_FLOOR);
  }
}

/** The controls the flag rule reads. */
export type FlagControls = Pick<
  ArControls,
  'mode' | 'ratioKind' | 'tau' | 'headMargin' | 'layers' | 'headOverride'
>;

/** What the rule needs: the `modality_mass` tensor [L, Hh, 3] and the token counts. */
export interface FlagRuleInput {
  /** Row-major [L, Hh, 3]: (visual, audio, text) mass per head, before the layer's intervention. */
  modalityMass: ArrayLike<number>;
  layers: number;
  heads: number;
  visualTokens: number;
  audioTokens: number;
  controls: FlagControls;
}

/** The rule's decisions per layer and the `ar_flags` the graph should report for the mode. */
export interface FlagRuleResult {
  layers: LayerDecision[];
  /** Row-major [L, Hh] like `ar_flags`: mode 1 the AR flags, mode 2 enabled layers, mode 0 zeros. */
  arFlags: Float32Array;
}

/** Applies the flag rule of CONTRACT.md §4 to a `modality_mass` tensor. */
export function applyFlagRule(input: FlagRuleInput): FlagRuleResult {
  const { layers: L, heads: Hh, controls: c } = input;
  if (input.modalityMass.length !== L * Hh * 3) {
    throw new RangeError(
      `modalityMass has ${input.modalityMass.length} values, expected ${L * Hh * 3}`,
    );
  }
  const counts = { visualTokens: input.visualTokens, audioTokens: input.audioTokens };
  const decisions: LayerDecision[] = [];
  const arFlags = new Float32Array(L * Hh);
  for (let l = 0; l < L; l++) {
    const { statistic, headStatistics, headMean } = layerRatioStatistics(
      input.modalityMass,
      l,
      Hh,
      c.ratioKind,
      counts,
    );
    const headThreshold = (1 + c.headMargin) * headMean;
    const tau = c.tau[l] as number;
    const enabled = isOn(c.layers[l] as number);
    const triggered = statistic > tau;
    const reasons = headStatistics.map((s, h): HeadReason => {
      const override = c.headOverride[l]?.[h] ?? 0;
      if (!enabled) return 'layer-off';
      if (isOn(override)) return 'forced-on';
      if (isForcedOff(override)) return 'forced-off';
      return triggered && s > headThreshold ? 'automatic' : 'not-selected';
    });
    const flags = reasons.map((r) => r === 'forced-on' || r === 'automatic');
    decisions.push({
      layer: l,
      enabled,
      statistic,
      tau,
      triggered,
      headStatistics,
      headMean,
      headThreshold,
      flags,
      reasons,
    });
    for (let h = 0; h < Hh; h++) {
      const modeFlag = c.mode === 1 ? flags[h] : c.mode === 2 ? enabled : false;
      arFlags[l * Hh + h] = modeFlag ? 1 : 0;
    }
  }
  return { layers: decisions, arFlags };
}

/** Token counts the density statistic divides by. */
export interface TokenCounts {
  visualTokens: number;
  audioTokens: number;
}

/**
 * One layer's statistics of one ratio kind from a row-major [L, Hh, 3] `modality_mass`: the layer
 * statistic over summed masses, each head's statistic and their mean (CONTRACT.md §4).
 */
export function layerRatioStatistics(
  modalityMass: ArrayLike<number>,
  layer: number,
  heads: number,
  kind: RatioKind,
  counts: TokenCounts,
): LayerRatioStatistics {
  const stat = (audio: number, visual: number): number =>
    ratioStatistic(kind, audio, visual, counts.audioTokens, counts.visualTokens);
  const visual: number[] = [];
  const audio: number[] = [];
  for (let h = 0; h < heads; h++) {
    const at = (layer * heads + h) * 3;
    visual.push(modalityMass[at] as number);
    audio.push(modalityMass[at + 1] as number);
  }
  const headStatistics = audio.map((a, h) => stat(a, visual[h] as number));
  return {
    statistic: stat(sum(audio), sum(visual)),
    headStatistics,
    headMean: sum(headStatistics) / heads,
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
