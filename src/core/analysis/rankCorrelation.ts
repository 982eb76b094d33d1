// Spearman's rank correlation with a seeded percentile bootstrap interval over clips: how well
// a layer's audio attention share orders the clips by their causal audio effect. Pure and
// reproducible (the generator and seed of statistics.ts).
import {
  BOOTSTRAP_RESAMPLES,
  BOOTSTRAP_SEED,
  CONFIDENCE_LEVEL,
  mulberry32,
  quantileSorted,
  type BootstrapOptions,
} from './statistics';

/** Ranks 1..n, tied values sharing the mean of their ranks. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values
    .map((_, i) => i)
    .sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[end] as number] === values[order[start] as number])
      end++;
    const rank = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let k = start; k < end; k++) ranks[order[k] as number] = rank;
    start = end;
  }
  return ranks;
}

/** Pearson's correlation; NaN when either side is constant or fewer than 2 points. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n < 2 || y.length !== n) return NaN;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: Pearson's correlation of the average ranks (NaN when a side is constant). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new RangeError(`spearman: ${x.length} and ${y.length} values`);
  return pearson(averageRanks(x), averageRanks(y));
}

/** ρ with its bootstrap interval and how many resamples had a defined ρ. */
export interface RankCorrelation {
  rho: number;
  low: number;
  high: number;
  /** Resamples whose ρ was defined (a resample of constant values has none). */
  resamplesUsed: number;
}

/**
 * Spearman's ρ of paired values with a percentile bootstrap interval: each resample draws n
 * pairs with replacement (the generator seeded, so a rerun gives the same interval); resamples
 * where ρ is undefined are left out and counted.
 */
export function spearmanWithInterval(
  x: readonly number[],
  y: readonly number[],
  options: BootstrapOptions = {},
): RankCorrelation {
  const rho = spearman(x, y);
  const n = x.length;
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const level = options.level ?? CONFIDENCE_LEVEL;
  const random = mulberry32(options.seed ?? BOOTSTRAP_SEED);
  const rhos: number[] = [];
  const xs = new Array<number>(n);
  const ys = new Array<number>(n);
  for (let r = 0; r < resamples && n >= 2; r++) {
    for (let i = 0; i < n; i++) {
      const k = Math.floor(random() * n);
      xs[i] = x[k] as number;
      ys[i] = y[k] as number;
    }
    const value = spearman(xs, ys);
    if (!Number.isNaN(value)) rhos.push(value);
  }
  rhos.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return {
    rho,
    low: quantileSorted(rhos, tail),
    high: quantileSorted(rhos, 1 - tail),
    resamplesUsed: rhos.length,
  };
}
