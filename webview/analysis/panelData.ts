// Pure derivations behind the views: the preview flags, the biased-heads rows, the token ranks,
// CSV text. No DOM, so the logic stays testable and the views stay thin.
import { applyFlagRule, type FlagRuleResult } from '../../src/shared/flagRule';
import { modalityPositions } from '../../src/shared/tokenPositions';
import type { AnalysisResult, LayerDecision } from '../../src/protocol/analysisResult';
import type { TokenRowsHeads } from '../../src/protocol/tokenRows';
import type { ArControls, TauRange } from '../../src/protocol/contract';
import { RATIO_KIND_NAMES } from '../../src/protocol/contract';
import type { BiasedHeadFilter, BiasedHeadSortKey } from '../../src/protocol/panelMessages';
import { isOn } from '../../src/shared/onOff';

/** The TS flag rule on the intervention run's `modalityMass` with (possibly edited) controls. */
export function previewFlags(result: AnalysisResult, controls: ArControls): FlagRuleResult {
  const meta = result.model.metadata;
  return applyFlagRule({
    modalityMass: result.intervention.modalityMass.flat(2),
    layers: meta.architecture.layers,
    heads: meta.architecture.heads,
    visualTokens: modalityPositions(meta.tokenLayout, 'visual').length,
    audioTokens: modalityPositions(meta.tokenLayout, 'audio').length,
    controls,
  });
}

/** Heads set in a row-major [L·Hh] or nested [L][Hh] flag array. */
export function countFlags(flags: ArrayLike<number> | number[][]): number {
  const values = Array.isArray(flags) ? (flags as unknown[]).flat() : Array.from(flags);
  return values.filter((v) => typeof v === 'number' && isOn(v)).length;
}

/** Deep equality of two control sets (the edited controls vs those a result ran with). */
export function sameControls(a: ArControls, b: ArControls): boolean {
  // Field by field, so the key order of a result's JSON never matters.
  const same = (x: readonly number[], y: readonly number[]): boolean =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    a.mode === b.mode &&
    a.ratioKind === b.ratioKind &&
    a.headMargin === b.headMargin &&
    a.alpha === b.alpha &&
    a.paiAlpha === b.paiAlpha &&
    same(a.tau, b.tau) &&
    same(a.layers, b.layers) &&
    a.headOverride.length === b.headOverride.length &&
    a.headOverride.every((row, l) => same(row, b.headOverride[l] ?? []))
  );
}

/** Which heads and decisions the panel shows: the preview while edited, else the run's. */
export interface ShownFlags {
  /** True when the flags come from the preview (edited controls, not yet run). */
  preview: boolean;
  /** [L][Hh] flags as the graph reports them for the mode. */
  flags: boolean[][];
  decisions: LayerDecision[];
  count: number;
}

/** The flags and decisions to draw. */
export function shownFlags(
  result: AnalysisResult,
  controls: ArControls,
  preview: FlagRuleResult,
): ShownFlags {
  const Hh = result.model.metadata.architecture.heads;
  if (!sameControls(controls, result.intervention.controls)) {
    const flags = preview.layers.map((_, l) =>
      Array.from({ length: Hh }, (_, h) => isOn(preview.arFlags[l * Hh + h] ?? 0)),
    );
    return { preview: true, flags, decisions: preview.layers, count: countFlags(preview.arFlags) };
  }
  const flags = result.intervention.arFlags.map((row) => row.map(isOn));
  return {
    preview: false,
    flags,
    decisions: result.intervention.flagDecisions,
    count: countFlags(result.intervention.arFlags),
  };
}

/** One row of the biased-heads table. */
export interface BiasedHeadRow {
  layer: number;
  head: number;
  flagged: boolean;
  reason: string;
  statistic: number;
  layerMean: number;
  /** statistic − (1 + margin) × mean: how far above the head threshold. */
  aboveThreshold: number;
  /** Audio mass before − after the intervention in this head (null when the run did not act). */
  audioMoved: number | null;
  /** Whole-row visual share before and after the intervention. */
  visualBefore: number;
  visualAfter: number | null;
}

/** The default filter: every layer, every statistic, flagged heads only. */
export const FLAGGED_HEADS: BiasedHeadFilter = {
  fromLayer: null,
  toLayer: null,
  minStatistic: null,
  flaggedOnly: true,
};

/** The heads the filter keeps (the flagged ones by default) as table rows, sorted. */
export function biasedHeadRows(
  result: AnalysisResult,
  shown: ShownFlags,
  sort: { key: BiasedHeadSortKey; descending: boolean },
  filter: BiasedHeadFilter = FLAGGED_HEADS,
): BiasedHeadRow[] {
  const run = result.intervention;
  const rows: BiasedHeadRow[] = [];
  shown.decisions.forEach((d) => {
    if (filter.fromLayer !== null && d.layer < filter.fromLayer) return;
    if (filter.toLayer !== null && d.layer > filter.toLayer) return;
    shown.flags[d.layer]?.forEach((flagged, h) => {
      if (filter.flaggedOnly && !flagged) return;
      if (filter.minStatistic !== null && !((d.headStatistics[h] ?? NaN) >= filter.minStatistic)) {
        return;
      }
      const before = run.modalityMass[d.layer]?.[h] ?? [0, 0, 0];
      const after = run.modalityMassAfter[d.layer]?.[h] ?? before;
      // The run's after-masses belong to the run's flags; a preview-only flag has none yet.
      const acted = isOn(run.arFlags[d.layer]?.[h] ?? 0) && !shown.preview;
      const statistic = d.headStatistics[h] ?? NaN;
      rows.push({
        layer: d.layer,
        head: h,
        flagged,
        reason: d.reasons[h] ?? (run.controls.mode === 2 ? 'pai' : 'automatic'),
        statistic,
        layerMean: d.headMean,
        aboveThreshold: statistic - d.headThreshold,
        audioMoved: acted ? (before[1] ?? 0) - (after[1] ?? 0) : null,
        visualBefore: before[0] ?? 0,
        visualAfter: acted ? (after[0] ?? 0) : null,
      });
    });
  });
  const direction = sort.descending ? -1 : 1;
  const value = (r: BiasedHeadRow): number => r[sort.key] ?? -Infinity;
  return rows.sort(
    (a, b) => direction * (value(a) - value(b)) || a.layer - b.layer || a.head - b.head || 0,
  );
}

/** One layer of the biased-heads summary: how many heads it flags and its strongest ones. */
export interface LayerFlagSummary {
  layer: number;
  flagged: number;
  heads: number;
  /** The flagged heads furthest above their threshold (sₕ − (1 + margin) × mean), largest first. */
  strongest: { head: number; aboveThreshold: number }[];
}

/** Per layer: the flag count and the `top` strongest flagged heads. */
export function layerFlagSummary(shown: ShownFlags, top = 3): LayerFlagSummary[] {
  return shown.decisions.map((d) => {
    const flags = shown.flags[d.layer] ?? [];
    const strongest = flags
      .flatMap((f, head) =>
        f ? [{ head, aboveThreshold: (d.headStatistics[head] ?? NaN) - d.headThreshold }] : [],
      )
      .sort((a, b) => b.aboveThreshold - a.aboveThreshold || a.head - b.head)
      .slice(0, top);
    return {
      layer: d.layer,
      flagged: flags.filter(Boolean).length,
      heads: d.headStatistics.length,
      strongest,
    };
  });
}

/** One token's weight in one attention row, with its rank (1 = largest). */
export interface TokenWeight {
  index: number;
  weight: number;
  rank: number;
}

/** The answer query's attention over the keys (one row as fetched), with ranks; none without a row. */
export function tokenWeights(row: ArrayLike<number> | null | undefined): TokenWeight[] {
  if (row === null || row === undefined) return [];
  const weights = Array.from(row);
  const n = weights.length;
  const order = weights.map((w, k) => ({ w, k })).sort((a, b) => b.w - a.w || a.k - b.k);
  const ranks = new Array<number>(n);
  order.forEach(({ k }, i) => (ranks[k] = i + 1));
  return weights.map((weight, index) => ({ index, weight, rank: ranks[index] ?? n }));
}

/**
 * What the per-token view cannot show of a result saved with fewer token rows (`--tokens none`
 * or `mean`), in words, from which rows the intervention run stored; null when it has every head's.
 */
export function missingRowsNote(
  stored: TokenRowsHeads | null,
  head: number | 'mean',
): string | null {
  if (stored === null) {
    return 'This result was saved without token rows (--tokens none): there is no per-token attention to draw.';
  }
  if (stored === 'mean' && head !== 'mean') {
    return `This result keeps only the heads' mean rows (--tokens mean): head ${head}'s own row was not stored, so the heads' mean is shown.`;
  }
  return null;
}

/** The τ slider's scale for a ratio kind (from `mosear.tau_sweep`). */
export function tauRangeOf(result: AnalysisResult, kind: ArControls['ratioKind']): TauRange {
  return result.model.metadata.tauSweep[RATIO_KIND_NAMES[kind]];
}

/** Slider position ↔ τ: linear sweeps use τ itself, log sweeps log10 τ. */
export function tauToSlider(range: TauRange, tau: number): number {
  return range.scale === 'log' ? Math.log10(Math.max(tau, range.min)) : tau;
}

/** The τ for a slider position. */
export function sliderToTau(range: TauRange, position: number): number {
  return range.scale === 'log' ? Number((10 ** position).toPrecision(4)) : position;
}

/** A file-name stem from the clip's name (no extension, safe characters only). */
export function fileStem(result: AnalysisResult | null): string {
  const name = result?.clip.name.replace(/\.[^.]+$/, '') ?? 'analysis';
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '');
  return safe === '' ? 'analysis' : safe.slice(0, 120);
}

/** The τ values of a sweep range: `steps` points, evenly spaced on its scale. */
export function tauSweepValues(range: TauRange): number[] {
  const n = Math.max(2, Math.round(range.steps));
  const log = range.scale === 'log' && range.min > 0;
  const lo = log ? Math.log10(range.min) : range.min;
  const hi = log ? Math.log10(range.max) : range.max;
  return Array.from({ length: n }, (_, i) => {
    const x = lo + ((hi - lo) * i) / (n - 1);
    return log ? 10 ** x : x;
  });
}

/** Heads the AR rule flags with one τ on every layer, the other controls kept. */
export interface TauCurvePoint {
  tau: number;
  flagged: number;
}

/**
 * The clip's flags-vs-τ curve: the TS flag rule (AR's decisions, whatever the mode) on the
 * result's before-intervention masses with each τ of the sweep range on every layer.
 */
export function flagsAcrossTau(
  result: AnalysisResult,
  controls: ArControls,
  range: TauRange,
): TauCurvePoint[] {
  return tauSweepValues(range).map((tau) => {
    const rule = previewFlags(result, { ...controls, mode: 1, tau: controls.tau.map(() => tau) });
    return { tau, flagged: rule.layers.reduce((n, d) => n + d.flags.filter(Boolean).length, 0) };
  });
}

/** The τ below which a layer qualifies (its statistic), and a head's flip points. */
export interface FlipPoints {
  /** The layer qualifies for every τ below this. */
  layerTau: number;
  /** The head is flagged for τ below this; null when no τ flags it (margin, override, layer off). */
  headTau: number | null;
  /** The head passes its threshold for margins below this (sₕ ÷ layer mean − 1). */
  headMargin: number;
}

/** Where a head's decision would flip as τ (and the margin) vary. */
export function flipPoints(d: LayerDecision, head: number): FlipPoints {
  const s = d.headStatistics[head] ?? NaN;
  const reason = d.reasons[head];
  const byRule = reason === 'automatic' || reason === 'not-selected';
  return {
    layerTau: d.statistic,
    headTau: byRule && s > d.headThreshold ? d.statistic : null,
    headMargin: d.headMean > 0 ? s / d.headMean - 1 : NaN,
  };
}

/** A head's decision in words (the rule's reason codes are for files, not for people). */
export function reasonText(reason: string | undefined, real: boolean): string {
  switch (reason) {
    case 'layer-off':
      return 'layer not enabled';
    case 'forced-on':
      return real ? 'forced on by a head override' : 'would be forced on by a head override';
    case 'forced-off':
      return 'forced off by a head override';
    case 'automatic':
      return real
        ? 'flagged: its layer passes τ and it passes its tick'
        : 'would be flagged: its layer passes τ and it passes its tick';
    case 'not-selected':
      return 'not flagged: its layer is below τ or it is below its tick';
    default:
      return reason ?? '';
  }
}

/** Which seconds of the clip's audio the model heard (the decode spec centres its window). */
export function audioHeardText(clip: AnalysisResult['clip']): string {
  if (!clip.hasAudio) return clip.silenceUsed ? 'none: silence (no audio stream)' : 'none';
  const w = clip.audioWindow;
  const end = w.startSeconds + w.seconds;
  const heardEnd = Math.min(end, clip.durationSeconds);
  const padded = end > clip.durationSeconds + 1e-6 ? ', zeros after the clip ends' : '';
  return (
    `${w.startSeconds.toFixed(2)}–${heardEnd.toFixed(2)} s of ${clip.durationSeconds.toFixed(2)} s ` +
    `(a ${w.seconds.toFixed(2)} s window centred on the clip${padded})`
  );
}
