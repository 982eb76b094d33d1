// Every ratio kind's layer and head statistics from a hand-made modality_mass, and the graph's
// flags against the TypeScript rule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ratioStatisticsByKind } from '../../src/core/analysis/ratioStatistics';
import { compareFlags, nearThreshold } from '../../src/core/ar/flagAgreement';
import { applyFlagRule } from '../../src/shared/flagRule';

// L = 1, Hh = 2: head 0 (V 0.2, A 0.6, T 0.2), head 1 (V 0.6, A 0.2, T 0.2); |V| = 4, |A| = 1.
const mass = [0.2, 0.6, 0.2, 0.6, 0.2, 0.2];
const counts = { visualTokens: 4, audioTokens: 1 };

describe('ratioStatisticsByKind', () => {
  const stats = ratioStatisticsByKind(mass, 1, 2, counts);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);

  test('raw: A / V per head, ΣA / ΣV per layer', () => {
    const [layer] = stats.raw;
    close(layer!.statistic, 0.8 / 0.8);
    close(layer!.headStatistics[0]!, 3);
    close(layer!.headStatistics[1]!, 1 / 3);
    close(layer!.headMean, (3 + 1 / 3) / 2);
  });

  test('density: (A / |A|) / (V / |V|)', () => {
    close(stats.density[0]!.statistic, 0.8 / (0.8 / 4));
    close(stats.density[0]!.headStatistics[0]!, 0.6 / (0.2 / 4));
  });

  test('share: A / (A + V)', () => {
    close(stats.share[0]!.statistic, 0.5);
    close(stats.share[0]!.headStatistics[0]!, 0.75);
    close(stats.share[0]!.headStatistics[1]!, 0.25);
    close(stats.share[0]!.headMean, 0.5);
  });

  test('the floor keeps a head with no visual mass finite', () => {
    const s = ratioStatisticsByKind([0, 1, 0, 0.5, 0.5, 0], 1, 2, counts);
    close(s.raw[0]!.headStatistics[0]!, 1 / 1e-6);
  });

  test('rejects a tensor of the wrong size', () => {
    assert.throws(() => ratioStatisticsByKind([1, 2], 1, 2, counts), RangeError);
  });
});

describe('compareFlags', () => {
  const controls = {
    mode: 1 as const,
    ratioKind: 2 as const,
    tau: [0.4],
    headMargin: 0.2,
    layers: [1],
    headOverride: [[0, 0]],
  };
  const rule = applyFlagRule({ modalityMass: mass, layers: 1, heads: 2, ...counts, controls });

  test('agreement when the graph flags what the rule flags', () => {
    assert.deepEqual([...rule.arFlags], [1, 0]);
    const check = compareFlags([1, 0], rule, 1, 2);
    assert.deepEqual(check, { heads: 2, mismatches: [], agree: true, agreeBeyondRounding: true });
  });

  test('a mismatch far from every threshold is reported as real', () => {
    const check = compareFlags([1, 1], rule, 1, 2);
    assert.equal(check.agree, false);
    assert.equal(check.agreeBeyondRounding, false);
    assert.deepEqual(check.mismatches, [
      { layer: 0, head: 1, graph: 1, rule: 0, nearThreshold: false },
    ]);
  });

  test('a mismatch at a threshold (float32 rounding) is explained', () => {
    // Layer statistic 0.5 exactly at τ = 0.5: float32 in the graph may land on either side.
    const atTau = applyFlagRule({
      modalityMass: mass,
      layers: 1,
      heads: 2,
      ...counts,
      controls: { ...controls, tau: [0.5] },
    });
    const check = compareFlags([1, 0], atTau, 1, 2);
    assert.equal(check.agree, false);
    assert.equal(check.agreeBeyondRounding, true);
    assert.ok(nearThreshold(0.5 + 1e-8, 0.5));
    assert.ok(!nearThreshold(0.51, 0.5));
  });
});
