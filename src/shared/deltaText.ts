// A setting's Δ accuracy against `off` as people read it ("+4.4 [1.1, 7.8]", "p 0.070"): the CLI's
// summary, RESULTS.md's tables and the Evaluate panel print it alike. Pure, so the webview bundles
// it too.
import type { DeltaMethod, PairedDelta } from '../protocol/evaluationSummary';

/** One decimal; a dash for NaN; never "-0.0". */
function points(value: number, signed: boolean): string {
  if (!Number.isFinite(value)) return '–';
  const text = value.toFixed(1);
  if (/^-0\.0$/.test(text) || text === '0.0') return '0.0';
  return signed && value > 0 ? `+${text}` : text;
}

/** Δ in points with a sign, e.g. "+4.4", "-0.7", "0.0". */
export function deltaPointsText(d: PairedDelta): string {
  return points(d.delta, true);
}

/** The interval, e.g. "[1.1, 7.8]". */
export function intervalText(d: PairedDelta): string {
  return `[${points(d.ciLow, false)}, ${points(d.ciHigh, false)}]`;
}

/** Δ with its interval, e.g. "+4.4 [1.1, 7.8]". */
export function deltaWithIntervalText(d: PairedDelta): string {
  return `${deltaPointsText(d)} ${intervalText(d)}`;
}

/** A p-value with three decimals, "<0.001" below that, "1" when it is 1. */
export function pValueText(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p >= 1) return '1';
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

/** What the intervals and tests are, for the note next to them. */
export function deltaMethodText(method: DeltaMethod | undefined): string {
  const level = method === undefined ? '95' : String(Math.round(method.level * 100));
  const how =
    method === undefined
      ? 'paired bootstrap'
      : `${method.interval}, ${method.resamples} resamples, seed ${method.seed}`;
  return (
    `Δ = accuracy minus off's on the same clips (points), with a ${level} % interval (${how}) ` +
    `and an exact McNemar p on the flips; "n.s." marks an interval that covers 0. ` +
    `Intervals are per setting, uncorrected for the number of settings in a sweep.`
  );
}
