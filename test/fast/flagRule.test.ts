import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RatioKind } from '../../src/protocol/contract';
import {
  STAT_FLOOR,
  applyFlagRule,
  ratioStatistic,
  type FlagControls,
} from '../../src/shared/flagRule';

// Two layers × three heads, 4 visual tokens and 1 audio token. Masses are (visual, audio, text).
const MASS = [
  // layer 0: one audio-heavy head, one balanced, one visual-heavy
  [0.2, 0.6, 0.2],
  [0.5, 0.3, 0.2],
  [0.7, 0.1, 0.2],
  // layer 1: a head with no visual mass at all, two visual-leaning heads
  [0.0, 0.5, 0.5],
  [0.45, 0.05, 0.5],
  [0.45, 0.05, 0.5],
].flat();

function controls(over: Partial<FlagControls> = {}): FlagControls {
  return {
    mode: 1,
    ratioKind: 2,
    tau: [0, 0],
    headMargin: 0,
    layers: [1, 1],
    headOverride: [
      [0, 0, 0],
      [0, 0, 0],
    ],
    ...over,
  };
}

function run(over: Partial<FlagControls> = {}, mass: number[] = MASS) {
  return applyFlagRule({
    modalityMass: mass,
    layers: 2,
    heads: 3,
    visualTokens: 4,
    audioTokens: 1,
    controls: controls(over),
  });
}

function close(actual: number, expected: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} ≠ ${expected}`,
  );
}

describe('ratioStatistic', () => {
  it('computes the three kinds with the 1e-6 floor on every denominator', () => {
    close(ratioStatistic(0, 0.6, 0.2, 1, 4), 3, 'raw');
    close(ratioStatistic(1, 0.6, 0.2, 1, 4), 12, 'density = (A/|A|)/(V/|V|)');
    close(ratioStatistic(1, 0.6, 0.2, 2, 4), 6, 'density with two audio tokens');
    close(ratioStatistic(2, 0.6, 0.2, 1, 4), 0.75, 'share');
    assert.equal(ratioStatistic(0, 0.5, 0, 1, 4), 0.5 / STAT_FLOOR);
    assert.equal(ratioStatistic(1, 0.5, 0, 1, 4), 0.5 / STAT_FLOOR);
    assert.equal(ratioStatistic(2, 0, 0, 1, 4), 0, 'share of nothing is 0, not NaN');
    assert.equal(ratioStatistic(1, 1, 2e-6, 1, 4), 1 / STAT_FLOOR, 'floor applies to V/|V|');
  });
});

describe('applyFlagRule', () => {
  it('share: layer statistic from summed masses, head rule against (1 + m)·mean', () => {
    const result = run({ ratioKind: 2, tau: [0.4, 0.41], headMargin: 0 });
    const [l0, l1] = result.layers;
    assert.ok(l0 && l1);
    close(l0.statistic, 1.0 / 2.4, 'layer 0 statistic ΣA/(ΣA+ΣV)');
    close(l0.headStatistics[0] ?? NaN, 0.75, 'head 0');
    close(l0.headStatistics[1] ?? NaN, 0.375, 'head 1');
    close(l0.headStatistics[2] ?? NaN, 0.125, 'head 2');
    close(l0.headMean, 1.25 / 3, 'mean of head statistics');
    assert.deepEqual(l0.flags, [true, false, false]);
    close(l1.statistic, 0.6 / 1.5, 'layer 1 statistic');
    assert.equal(l1.triggered, false, '0.4 is not > τ = 0.41');
    assert.deepEqual(l1.flags, [false, false, false]);
    assert.deepEqual([...result.arFlags], [1, 0, 0, 0, 0, 0]);
  });

  it('raw and density: a zero visual mass hits the floor and flags that head', () => {
    const raw = run({ ratioKind: 0, tau: [0.7, 0.6], headMargin: 0 });
    close(raw.layers[0]?.statistic ?? NaN, 1 / 1.4, 'raw layer 0');
    assert.deepEqual(raw.layers[0]?.flags, [true, false, false]);
    close(raw.layers[1]?.headStatistics[0] ?? NaN, 0.5 / STAT_FLOOR, 'floored head');
    assert.deepEqual(raw.layers[1]?.flags, [true, false, false]);

    const density = run({ ratioKind: 1, tau: [2.8, 2.6], headMargin: 0 });
    close(density.layers[0]?.statistic ?? NaN, 4 / 1.4, 'density layer 0');
    assert.equal(density.layers[0]?.triggered, true, '2.857 > 2.8');
    assert.equal(density.layers[1]?.triggered, true, '2.667 > 2.6');
    assert.deepEqual([...density.arFlags], [1, 0, 0, 1, 0, 0]);
  });

  it('the margin widens or narrows the head rule', () => {
    const wide = run({ ratioKind: 0, tau: [0.7, 1e9], headMargin: -0.6 });
    close(wide.layers[0]?.headThreshold ?? NaN, (0.4 * (3.6 + 1 / 7)) / 3, 'threshold');
    assert.deepEqual(wide.layers[0]?.flags, [true, true, false]);
    const strict = run({ ratioKind: 2, tau: [0.4, 0], headMargin: 1 });
    assert.deepEqual(strict.layers[0]?.flags, [false, false, false], '0.75 < 2·0.4167');
  });

  it('both comparisons are strict', () => {
    // Every head has A = V = 0.25 → share exactly 0.5 = layer statistic = mean.
    const even = Array.from({ length: 6 }, () => [0.25, 0.25, 0.5]).flat();
    const atTau = run({ ratioKind: 2, tau: [0.5, 0.25], headMargin: -0.5 }, even);
    assert.equal(atTau.layers[0]?.triggered, false, 'statistic = τ does not trigger');
    assert.deepEqual(atTau.layers[0]?.flags, [false, false, false]);
    assert.deepEqual(atTau.layers[1]?.flags, [true, true, true], '0.5 > 0.5·0.5');
    const atMean = run({ ratioKind: 2, tau: [0, 0], headMargin: 0 }, even);
    assert.deepEqual(atMean.layers[0]?.flags, [false, false, false], 'sₕ = mean is not above it');
  });

  it('overrides force heads on or off, only in enabled layers', () => {
    const result = run({
      ratioKind: 2,
      tau: [0.4, 1e9], // layer 0 triggers, layer 1 never does
      layers: [1, 1],
      headOverride: [
        [-1, 0, 1],
        [0, 1, 0],
      ],
    });
    assert.deepEqual(result.layers[0]?.reasons, ['forced-off', 'not-selected', 'forced-on']);
    assert.deepEqual(result.layers[1]?.reasons, ['not-selected', 'forced-on', 'not-selected']);
    assert.deepEqual([...result.arFlags], [0, 0, 1, 0, 1, 0]);

    const disabled = run({
      tau: [0.4, 0],
      layers: [0, 1],
      headOverride: [
        [1, 1, 1],
        [0, 0, 0],
      ],
    });
    assert.deepEqual(disabled.layers[0]?.reasons, ['layer-off', 'layer-off', 'layer-off']);
    assert.deepEqual([...disabled.arFlags].slice(0, 3), [0, 0, 0]);
    // Overrides between −0.5 and 0.5 count as automatic, as in the graph.
    const soft = run({
      tau: [0.4, 1e9],
      headOverride: [
        [0.4, -0.4, 0.5],
        [0, 0, 0],
      ],
    });
    assert.deepEqual(soft.layers[0]?.flags, [true, false, false]);
  });

  it('reports ar_flags per mode: 0 none, 2 every head of enabled layers', () => {
    for (const kind of [0, 1, 2] as RatioKind[]) {
      const off = run({ mode: 0, ratioKind: kind, tau: [0, 0] });
      assert.deepEqual([...off.arFlags], [0, 0, 0, 0, 0, 0]);
      assert.deepEqual(off.layers[0]?.flags, [true, false, false], 'decisions are still reported');
    }
    const pai = run({
      mode: 2,
      layers: [0, 1],
      headOverride: [
        [1, 1, 1],
        [-1, -1, -1],
      ],
    });
    assert.deepEqual([...pai.arFlags], [0, 0, 0, 1, 1, 1]);
  });

  it('rejects a mass tensor of the wrong size', () => {
    assert.throws(() => run({}, MASS.slice(1)), /modalityMass has 17 values, expected 18/);
  });
});
