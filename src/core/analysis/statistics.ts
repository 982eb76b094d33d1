// Uncertainty of a paired accuracy difference (a setting against `off` on the same clips): a
// seeded percentile bootstrap interval that resamples clips with replacement, and an exact
// McNemar test on the discordant pairs. Pure and reproducible: the same answers and seed give the
// same interval on every machine.
import type { DeltaMethod, PairedDelta } from '../../protocol/evaluationSummary';

/** Resamples per interval. */
export const BOOTSTRAP_RESAMPLES = 2000;
/** The seed every interval starts from, so a rerun reproduces it. */
export const BOOTSTRAP_SEED = 20240601;
/** Two-sided coverage of the intervals. */
export const CONFIDENCE_LEVEL = 0.95;

/** The method as summaries record it. */
export const DELTA_METHOD: DeltaMethod = {
  interval: 'paired bootstrap over clips, percentile',
  resamples: BOOTSTRAP_RESAMPLES,
  seed: BOOTSTRAP_SEED,
  level: CONFIDENCE_LEVEL,
  test: 'exact McNemar, two-sided',
};

/** mulberry32: a small 32-bit seeded generator of uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The p-quantile of sorted values, interpolated linearly between order statistics (type 7). */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * p;
  const below = Math.floor(h);
  const low = sorted[below] as number;
  const high = sorted[Math.min(below + 1, sorted.length - 1)] as number;
  return low + (h - below) * (high - low);
}

/** Options of `bootstrapDelta`. */
export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  level?: number;
}

/** The cumulative distribution of Bin(trials, p) at 0..trials (pmf terms built in log space). */
export function binomialCdf(trials: number, p: number): Float64Array {
  const cdf = new Float64Array(trials + 1);
  if (p <= 0 || p >= 1) {
    cdf.fill(p <= 0 ? 1 : 0);
    cdf[trials] = 1;
    return cdf;
  }
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  let logChoose = 0;
  let sum = 0;
  for (let k = 0; k <= trials; k++) {
    sum += Math.exp(logChoose + k * logP + (trials - k) * logQ);
    cdf[k] = sum;
    logChoose += Math.log((trials - k) / (k + 1));
  }
  return cdf;
}

/** The smallest k with cdf[k] > u (the last index when rounding leaves the total below u). */
function inverseCdf(cdf: Float64Array, u: number): number {
  let low = 0;
  let high = cdf.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((cdf[mid] as number) > u) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * Percentile bootstrap interval of the mean of per-clip differences (in points, ×100) for `count`
 * clips of which `better` went wrong→right (+1), `worse` right→wrong (−1) and the rest are 0.
 * Each resample draws `count` clips with replacement. Only how many +1 and −1 clips it draws
 * matters, so those counts are drawn directly from their exact distribution (discordant clips
 * K ~ Bin(count, (b + c)/count), then +1 clips ~ Bin(K, b/(b + c))): the same resamples as
 * drawing clip by clip, in two draws instead of `count`.
 */
export function bootstrapDelta(
  better: number,
  worse: number,
  count: number,
  options: BootstrapOptions = {},
): { low: number; high: number } {
  if (count === 0) return { low: NaN, high: NaN };
  // No discordant clip: every resample's mean is 0.
  if (better + worse === 0) return { low: 0, high: 0 };
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const level = options.level ?? CONFIDENCE_LEVEL;
  const random = mulberry32(options.seed ?? BOOTSTRAP_SEED);
  const discordantCdf = binomialCdf(count, (better + worse) / count);
  const betterShare = better / (better + worse);
  const betterCdfs = new Map<number, Float64Array>();
  const means: number[] = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    const discordant = inverseCdf(discordantCdf, random());
    let betterCdf = betterCdfs.get(discordant);
    if (betterCdf === undefined) {
      betterCdf = binomialCdf(discordant, betterShare);
      betterCdfs.set(discordant, betterCdf);
    }
    const drawnBetter = inverseCdf(betterCdf, random());
    means[r] = (100 * (2 * drawnBetter - discordant)) / count;
  }
  means.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return { low: quantileSorted(means, tail), high: quantileSorted(means, 1 - tail) };
}

/**
 * Two-sided exact McNemar p-value: min(1, 2·P(X ≤ min(b, c))) with X ~ Bin(b + c, ½). Terms are
 * summed in log space relative to the largest, so thousands of discordant pairs do not underflow.
 */
export function mcnemarExactP(b: number, c: number): number {
  const n = b + c;
  const k = Math.min(b, c);
  if (n === 0) return 1;
  // log C(n, j) − n·ln 2 for j = 0..k, built incrementally; the last is the largest (k ≤ n/2).
  const logTerms: number[] = [];
  let logTerm = -n * Math.LN2;
  for (let j = 0; j <= k; j++) {
    logTerms.push(logTerm);
    logTerm += Math.log((n - j) / (j + 1));
  }
  const largest = logTerms[logTerms.length - 1] as number;
  let scaled = 0;
  for (const t of logTerms) scaled += Math.exp(t - largest);
  return Math.min(1, 2 * Math.exp(largest) * scaled);
}

/**
 * Δ accuracy of `after` against `before` on the same clips (those `include` keeps), with its
 * bootstrap interval, whether that covers 0, the discordant counts and McNemar's p.
 */
export function pairedAccuracyDelta(
  labels: ArrayLike<number>,
  before: ArrayLike<number>,
  after: ArrayLike<number>,
  include?: (index: number) => boolean,
  options: BootstrapOptions = {},
): PairedDelta {
  if (before.length !== labels.length || after.length !== labels.length) {
    throw new RangeError(
      `pairedAccuracyDelta: ${labels.length} labels, ${before.length} and ${after.length} answers`,
    );
  }
  let count = 0;
  let better = 0;
  let worse = 0;
  for (let i = 0; i < labels.length; i++) {
    if (include !== undefined && !include(i)) continue;
    count++;
    const wasRight = before[i] === labels[i];
    const isRight = after[i] === labels[i];
    if (!wasRight && isRight) better++;
    else if (wasRight && !isRight) worse++;
  }
  const { low, high } = bootstrapDelta(better, worse, count, options);
  return {
    count,
    delta: count === 0 ? NaN : (100 * (better - worse)) / count,
    ciLow: low,
    ciHigh: high,
    coversZero: !(low > 0 || high < 0),
    wrongToRight: better,
    rightToWrong: worse,
    mcnemarP: mcnemarExactP(better, worse),
  };
}
