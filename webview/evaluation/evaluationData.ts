// Pure derivations from a BenchmarkSummary for the Evaluate panel's tables and charts (no DOM).
import type { SettingRef } from './evaluationModel';
import type {
  BenchmarkSummary,
  CheckpointEvaluation,
  FlipClip,
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

/** A setting's flips against off in words: "12 flips (9 wrong→right, 3 right→wrong)". */
export function flipCountText(flips: readonly FlipClip[]): string {
  const count = (kind: FlipClip['kind']) => flips.filter((f) => f.kind === kind).length;
  const parts = [
    `${count('wrong-to-right')} wrong→right`,
    `${count('right-to-wrong')} right→wrong`,
  ];
  const other = count('wrong-to-wrong');
  if (other > 0) parts.push(`${other} wrong→other wrong`);
  return `${flips.length} ${flips.length === 1 ? 'flip' : 'flips'} (${parts.join(', ')})`;
}

/** Pairs as options naming each setting's flips ("checkpoint — setting · 12 flips (…)"). */
export function flipOptions(
  summary: BenchmarkSummary | null,
  refs: readonly SettingRef[],
): { value: string; label: string }[] {
  return refs.map((r) => {
    const found = settingOf(summary, r);
    const title = found?.setting.title ?? r.setting;
    const flips = found === null ? '' : ` · ${flipCountText(found.setting.flips)}`;
    return { value: refKey(r), label: `${r.checkpoint} — ${title}${flips}` };
  });
}

/** The flips list's sortable columns. */
export type FlipSortKey = 'clip' | 'subset' | 'truth' | 'before' | 'after' | 'direction';

/** How the flips list is sorted (null: the summary's order). */
export interface FlipSort {
  key: FlipSortKey;
  descending: boolean;
}

/** The direction words of a flip, as the list shows them. */
export const FLIP_DIRECTION_TEXT: Record<FlipClip['kind'], string> = {
  'wrong-to-right': 'wrong → right',
  'right-to-wrong': 'right → wrong',
  'wrong-to-wrong': 'wrong → other wrong',
};

/**
 * The flips sorted by a column as shown (label names, clip paths in natural order), ties in the
 * summary's order whichever the direction.
 */
export function sortFlips(
  flips: readonly FlipClip[],
  labels: readonly string[],
  sort: FlipSort | null,
): FlipClip[] {
  if (sort === null) return [...flips];
  const label = (i: number) => labels[i] ?? String(i);
  const text: Record<FlipSortKey, (f: FlipClip) => string> = {
    clip: (f) => f.path,
    subset: (f) => f.subset ?? '',
    truth: (f) => label(f.label),
    before: (f) => label(f.before),
    after: (f) => label(f.after),
    direction: (f) => FLIP_DIRECTION_TEXT[f.kind],
  };
  const key = text[sort.key];
  const sign = sort.descending ? -1 : 1;
  return flips
    .map((f, index) => ({ f, index }))
    .sort(
      (a, b) =>
        sign * key(a.f).localeCompare(key(b.f), 'en', { numeric: true }) || a.index - b.index,
    )
    .map((x) => x.f);
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
