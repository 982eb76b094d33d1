// Pure derivations from a BenchmarkSummary for the Evaluate panel's tables and charts (no DOM).
import type { SettingRef } from './evaluationModel';
import type {
  BenchmarkSummary,
  CheckpointEvaluation,
  PairedDelta,
  SettingScores,
} from '../../src/protocol/evaluationSummary';

/**
 * A number from the summary as JSON delivered it: NaN (an empty subset) becomes null in
 * JSON, so null and anything non-numeric read as NaN.
 */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : NaN;
}

/** A percentage 0–100 with one decimal, or "–". */
export function pct(value: unknown): string {
  const v = num(value);
  return Number.isFinite(v) ? v.toFixed(1) : '–';
}

/** Every (checkpoint, setting) pair, optionally without `off`. */
export function settingRefs(summary: BenchmarkSummary | null, withOff = true): SettingRef[] {
  return (summary?.checkpoints ?? []).flatMap((c) =>
    c.settings
      .filter((s) => withOff || s.id !== 'off')
      .map((s) => ({ checkpoint: c.name, setting: s.id })),
  );
}

/** The select value of a pair (checkpoint names and setting ids hold no newline). */
export function refKey(ref: SettingRef): string {
  return `${ref.checkpoint}\n${ref.setting}`;
}

/** Pairs as select options ("checkpoint — setting"). */
export function refOptions(refs: readonly SettingRef[]): { value: string; label: string }[] {
  return refs.map((r) => ({ value: refKey(r), label: `${r.checkpoint} — ${r.setting}` }));
}

/** The chosen pair when it still exists, else the first one that does (or the fallback). */
export function resolveRef(
  refs: readonly SettingRef[],
  chosen: SettingRef | null,
  prefer?: (ref: SettingRef) => boolean,
): SettingRef | null {
  const found = refs.find((r) => chosen !== null && refKey(r) === refKey(chosen));
  return found ?? (prefer === undefined ? undefined : refs.find(prefer)) ?? refs[0] ?? null;
}

/** A checkpoint's setting by pair. */
export function settingOf(
  summary: BenchmarkSummary | null,
  ref: SettingRef | null,
): { checkpoint: CheckpointEvaluation; setting: SettingScores } | null {
  const checkpoint = summary?.checkpoints.find((c) => c.name === ref?.checkpoint);
  const setting = checkpoint?.settings.find((s) => s.id === ref?.setting);
  return checkpoint === undefined || setting === undefined ? null : { checkpoint, setting };
}

/** The swept parameter of a checkpoint's sweep settings: tau, alpha, or null without a sweep. */
export function sweptParameter(checkpoint: CheckpointEvaluation): 'tau' | 'alpha' | null {
  const points = checkpoint.settings.filter((s) => s.sweep !== null);
  if (points.some((s) => s.sweep?.tau !== undefined)) return 'tau';
  if (points.some((s) => s.sweep?.alpha !== undefined)) return 'alpha';
  return null;
}

/** One row per sweep point: its values and the accuracy per subset and overall. */
export function sweepRows(
  checkpoint: CheckpointEvaluation,
  subsets: readonly string[],
): Record<string, string | number>[] {
  return checkpoint.settings
    .filter((s) => s.sweep !== null)
    .map((s) => {
      const row: Record<string, string | number> = { checkpoint: checkpoint.name, setting: s.id };
      if (s.sweep?.tau !== undefined) row['tau'] = s.sweep.tau;
      if (s.sweep?.alpha !== undefined) row['alpha'] = s.sweep.alpha;
      for (const subset of subsets) row[subset] = num(s.bySubset[subset]?.accuracy);
      row['overall'] = num(s.overall.accuracy);
      for (const group of [...subsets, 'overall']) {
        const d = deltaOf(s, group);
        row[`${group}:delta`] = num(d?.delta);
        row[`${group}:ciLow`] = num(d?.ciLow);
        row[`${group}:ciHigh`] = num(d?.ciHigh);
      }
      return row;
    });
}

/** A sweep point's axis label: the swept value, or "tau=… alpha=…" on a grid. */
export function sweepLabel(setting: SettingScores): string {
  const { tau, alpha } = setting.sweep ?? {};
  if (tau !== undefined && alpha !== undefined) return `τ ${tau}, α ${alpha}`;
  return String(tau ?? alpha ?? setting.title);
}

/** The confusion matrix as CSV rows (truth label, then one column per predicted label). */
export function confusionRows(
  labels: readonly string[],
  confusion: readonly (readonly number[])[],
): Record<string, string | number>[] {
  return confusion.map((row, t) => {
    const out: Record<string, string | number> = { truth: labels[t] ?? String(t) };
    row.forEach((n, p) => (out[labels[p] ?? String(p)] = n));
    return out;
  });
}

/** A setting's Δ accuracy against `off` for a subset or "overall" (null for off, older summaries). */
export function deltaOf(setting: SettingScores, group: string): PairedDelta | null {
  const versus = setting.versusOff;
  if (versus === undefined || versus === null) return null;
  return (group === 'overall' ? versus.overall : versus.bySubset[group]) ?? null;
}

/** A signed number of points with one decimal ("+1.3", "−0.7"), or "–". */
export function signedPct(value: unknown): string {
  const v = num(value);
  if (!Number.isFinite(v)) return '–';
  return `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(1)}`;
}
