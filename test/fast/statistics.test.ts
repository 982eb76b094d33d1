// The paired bootstrap interval and the exact McNemar test against independent computations: a
// table worked by hand, exact binomial sums in BigInt, the bootstrap distribution enumerated
// exactly for tiny samples, and the normal approximation for a larger one.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  binomialCdf,
  bootstrapDelta,
  mcnemarExactP,
  mulberry32,
  pairedAccuracyDelta,
  quantileSorted,
} from '../../src/core/analysis/statistics';

/** 2·P(X ≤ min(b, c)) for X ~ Bin(b + c, ½), exactly in BigInt, capped at 1. */
function exactMcNemar(b: number, c: number): number {
  const n = BigInt(b + c);
  const k = BigInt(Math.min(b, c));
  let coefficient = 1n;
  let sum = 0n;
  for (let j = 0n; j <= k; j++) {
    sum += coefficient;
    coefficient = (coefficient * (n - j)) / (j + 1n);
  }
  const scale = 10n ** 60n;
  const p = Number((2n * sum * scale) / 2n ** n) / 1e60;
  return Math.min(1, p);
}

/** The exact bootstrap distribution of the mean (points) by enumerating every resample. */
function exactBootstrapQuantile(d: readonly number[], p: number): number {
  const n = d.length;
  const counts = new Map<number, number>();
  const indices = new Array<number>(n).fill(0);
  for (let total = 0; total < n ** n; total++) {
    const sum = indices.reduce((a, i) => a + (d[i] as number), 0);
    counts.set(sum, (counts.get(sum) ?? 0) + 1);
    for (let pos = 0; pos < n; pos++) {
      indices[pos] = ((indices[pos] as number) + 1) % n;
      if (indices[pos] !== 0) break;
    }
  }
  let cumulative = 0;
  for (const sum of [...counts.keys()].sort((a, b) => a - b)) {
    cumulative += counts.get(sum) as number;
    if (cumulative / n ** n >= p) return (100 * sum) / n;
  }
  throw new Error('unreachable');
}

/** Equal to within rounding (12 significant digits). */
function close(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.abs(expected), `${actual} ≠ ${expected}`);
}

describe('mcnemarExactP', () => {
  test('a table worked by hand', () => {
    // b = 1, c = 7: 2·(C(8,0) + C(8,1)) / 2⁸ = 2·9/256.
    close(mcnemarExactP(1, 7), 0.0703125);
    close(mcnemarExactP(7, 1), 0.0703125);
    // b = 0, c = 5: 2 / 2⁵.
    close(mcnemarExactP(0, 5), 0.0625);
    // b = 2, c = 10: 2·(1 + 12 + 66) / 4096.
    close(mcnemarExactP(2, 10), 158 / 4096);
    close(mcnemarExactP(4, 4), 1);
    close(mcnemarExactP(0, 0), 1);
    close(mcnemarExactP(0, 1), 1);
  });

  test('agrees with exact BigInt binomial sums, also where 2^-n underflows a double', () => {
    for (const [b, c] of [
      [3, 12],
      [30, 55],
      [140, 170],
      [900, 1100],
      [1500, 1600],
    ] as const) {
      const p = mcnemarExactP(b, c);
      const expected = exactMcNemar(b, c);
      assert.ok(Math.abs(p - expected) <= 1e-10 * expected, `b=${b} c=${c}: ${p} vs ${expected}`);
    }
    // 2^-1100 is below the smallest double; the p-value is not.
    assert.ok(mcnemarExactP(500, 600) > 0);
  });
});

describe('bootstrapDelta', () => {
  test('same seed, same interval; another seed, another draw', () => {
    const a = bootstrapDelta(12, 5, 150);
    assert.deepEqual(bootstrapDelta(12, 5, 150), a);
    assert.deepEqual(
      bootstrapDelta(12, 5, 150, { seed: 7 }),
      bootstrapDelta(12, 5, 150, { seed: 7 }),
    );
    const b = bootstrapDelta(12, 5, 150, { seed: 7 });
    assert.ok(a.low !== b.low || a.high !== b.high, 'the seed is used');
  });

  test('equals the exactly enumerated bootstrap distribution of tiny samples', () => {
    for (const d of [
      [1, 1, 0, -1],
      [1, 0, 0, -1, 1],
    ]) {
      const better = d.filter((x) => x === 1).length;
      const worse = d.filter((x) => x === -1).length;
      const interval = bootstrapDelta(better, worse, d.length, { resamples: 20000 });
      assert.equal(interval.low, exactBootstrapQuantile(d, 0.025), `low of ${d.join(',')}`);
      assert.equal(interval.high, exactBootstrapQuantile(d, 0.975), `high of ${d.join(',')}`);
    }
  });

  test('is close to the normal approximation for 450 clips', () => {
    const [better, worse, n] = [40, 20, 450];
    const mean = (better - worse) / n;
    const se = Math.sqrt(((better + worse) / n - mean * mean) / n);
    const interval = bootstrapDelta(better, worse, n);
    assert.ok(Math.abs(interval.low - 100 * (mean - 1.959964 * se)) < 0.4, `${interval.low}`);
    assert.ok(Math.abs(interval.high - 100 * (mean + 1.959964 * se)) < 0.4, `${interval.high}`);
  });

  test('no discordant clip gives [0, 0]; no clip gives NaN', () => {
    assert.deepEqual(bootstrapDelta(0, 0, 150), { low: 0, high: 0 });
    assert.ok(Number.isNaN(bootstrapDelta(0, 0, 0).low));
  });
});

describe('pairedAccuracyDelta', () => {
  test('counts discordant pairs of the included clips', () => {
    const labels = [0, 1, 2, 0, 1, 2, 0];
    const before = [0, 0, 2, 1, 1, 0, 0]; // right: 0, 2, 4, 6
    const after = [0, 1, 1, 0, 1, 1, 0]; // right: 0, 1, 3, 4, 6
    const all = pairedAccuracyDelta(labels, before, after);
    assert.equal(all.count, 7);
    assert.equal(all.wrongToRight, 2); // clips 1, 3
    assert.equal(all.rightToWrong, 1); // clip 2; clip 5 goes wrong→other wrong
    assert.equal(all.delta, 100 / 7);
    assert.equal(all.mcnemarP, mcnemarExactP(2, 1));
    assert.ok(all.ciLow <= all.delta && all.delta <= all.ciHigh);
    assert.equal(all.coversZero, all.ciLow <= 0 && all.ciHigh >= 0);
    const firstThree = pairedAccuracyDelta(labels, before, after, (i) => i < 3);
    assert.equal(firstThree.count, 3);
    assert.equal(firstThree.delta, 0);
    assert.throws(() => pairedAccuracyDelta(labels, before, after.slice(1)), RangeError);
  });

  test('a clear improvement does not cover 0', () => {
    const labels = new Array<number>(150).fill(1);
    const before = labels.map((_, i) => (i < 40 ? 0 : 1));
    const after = labels.map(() => 1);
    const d = pairedAccuracyDelta(labels, before, after);
    assert.equal(d.coversZero, false);
    assert.ok(d.ciLow > 0);
  });
});

describe('binomialCdf', () => {
  test('Bin(4, ½) by hand; degenerate shares', () => {
    const cdf = binomialCdf(4, 0.5);
    [1 / 16, 5 / 16, 11 / 16, 15 / 16, 1].forEach((v, k) => close(cdf[k] as number, v));
    assert.deepEqual([...binomialCdf(3, 0)], [1, 1, 1, 1]);
    assert.deepEqual([...binomialCdf(3, 1)], [0, 0, 0, 1]);
  });
});

describe('mulberry32 and quantileSorted', () => {
  test('uniform draws in [0, 1) from a seed; type-7 quantiles', () => {
    const random = mulberry32(1);
    const draws = Array.from({ length: 10000 }, random);
    assert.ok(draws.every((x) => x >= 0 && x < 1));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `${mean}`);
    assert.deepEqual(Array.from({ length: 3 }, mulberry32(1)), draws.slice(0, 3));
    assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantileSorted([1, 2, 3, 4], 0), 1);
    assert.equal(quantileSorted([1, 2, 3, 4], 1), 4);
  });
});
