// The graph's `ar_flags` against the TypeScript flag rule re-derived from the same run's
// `modality_mass`: CONTRACT.md §4 says they agree except within float32 rounding of a threshold.
import type { FlagCheck, FlagMismatch } from '../../protocol/analysisResult';
import type { FlagRuleResult } from '../../shared/flagRule';
import { isOn } from '../../shared/onOff';

/** Relative distance under which float32 arithmetic in the graph may land on either side. */
export const ROUNDING_TOLERANCE = 1e-5;

/** True when `value` and `threshold` are within float32 rounding of each other. */
export function nearThreshold(value: number, threshold: number): boolean {
  const scale = Math.max(Math.abs(value), Math.abs(threshold));
  return Math.abs(value - threshold) <= ROUNDING_TOLERANCE * scale + 1e-9;
}

/**
 * Compares the graph's flags (row-major [L, Hh]) with the rule's. A mismatch is `nearThreshold`
 * when the layer statistic is near τ or the head statistic near (1 + margin) × mean.
 */
export function compareFlags(
  graphFlags: ArrayLike<number>,
  rule: FlagRuleResult,
  layers: number,
  heads: number,
): FlagCheck {
  if (graphFlags.length !== layers * heads || rule.arFlags.length !== layers * heads) {
    throw new RangeError(
      `compareFlags: ${graphFlags.length} graph flags and ${rule.arFlags.length} rule flags, expected ${layers * heads}`,
    );
  }
  const mismatches: FlagMismatch[] = [];
  for (let l = 0; l < layers; l++) {
    const decision = rule.layers[l];
    for (let h = 0; h < heads; h++) {
      const graph = isOn(graphFlags[l * heads + h] as number) ? 1 : 0;
      const ruleFlag = isOn(rule.arFlags[l * heads + h] as number) ? 1 : 0;
      if (graph === ruleFlag) continue;
      const near =
        decision !== undefined &&
        (nearThreshold(decision.statistic, decision.tau) ||
          nearThreshold(decision.headStatistics[h] as number, decision.headThreshold));
      mismatches.push({ layer: l, head: h, graph, rule: ruleFlag, nearThreshold: near });
    }
  }
  return {
    heads: layers * heads,
    mismatches,
    agree: mismatches.length === 0,
    agreeBeyondRounding: mismatches.every((m) => m.nearThreshold),
  };
}
