// Reliance over a benchmark, the pure part: one clip's counterfactual result as a row of effects,
// the per-subset shares of verdicts and of answers that follow the swapped-in audio or video, and
// per layer Spearman's ρ between the off run's audio attention share and the causal audio effect
// (the answer's log-probability drop when the audio is swapped), with a seeded bootstrap interval.
import type {
  CounterfactualResult,
  VariantKind,
  VerdictName,
} from '../../protocol/counterfactualResult';
import { VERDICTS } from '../../protocol/counterfactualResult';
import type {
  LayerReliance,
  RelianceCheckpoint,
  RelianceClip,
  RelianceSubset,
  RelianceSummary,
  VerdictCounts,
} from '../../protocol/relianceSummary';
import { csvRows } from '../../shared/csv';
import { spearmanWithInterval } from '../analysis/rankCorrelation';
import {
  BOOTSTRAP_RESAMPLES,
  BOOTSTRAP_SEED,
  CONFIDENCE_LEVEL,
  type BootstrapOptions,
} from '../analysis/statistics';

/** How the correlations are computed, as the summary states it. */
export const CORRELATION_METHOD: RelianceSummary['correlation'] = {
  statistic:
    'Spearman ρ (average ranks) over clips between the off run’s audio share of A+V attention ' +
    'at the layer and the drop of the answer’s log-probability when the audio is swapped (mean over partners)',
  interval: 'percentile bootstrap over clips',
  resamples: BOOTSTRAP_RESAMPLES,
  seed: BOOTSTRAP_SEED,
  level: CONFIDENCE_LEVEL,
};

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** A clip's row: its effects under off (drops are −Δ log p of the answer, nats). */
export function relianceClipOf(
  clip: { path: string; label: string; subset: string | null },
  result: CounterfactualResult,
): RelianceClip {
  const partnerLabel = new Map(result.partners.map((p) => [p.path, p.label]));
  const off = (kind: VariantKind) =>
    result.variants.flatMap((x) =>
      x.kind === kind && x.off !== null ? [{ outcome: x.off, partner: x.partner }] : [],
    );
  const drop = (kind: VariantKind): number | null => {
    const m = mean(off(kind).map((o) => o.outcome.answerLogProbChange));
    return m === null ? null : -m;
  };
  const follows = (kind: VariantKind): number | null => {
    const labelled = off(kind).filter(
      (o) => o.partner !== undefined && (partnerLabel.get(o.partner) ?? null) !== null,
    );
    return mean(
      labelled.map((o) => (o.outcome.label === partnerLabel.get(o.partner as string) ? 1 : 0)),
    );
  };
  const original = result.variants.find((x) => x.kind === 'original')?.off;
  return {
    ...clip,
    answerOff: original?.label ?? '',
    verdictOff: result.verdict.off.verdict,
    verdictIntervention: result.verdict.intervention.verdict,
    audioSwapDrop: drop('audio-swapped'),
    framesSwapDrop: drop('frames-swapped'),
    silenceDrop: drop('audio-silenced'),
    greyDrop: drop('frames-grey'),
    followsAudio: follows('audio-swapped'),
    followsFrames: follows('frames-swapped'),
    audioShareOff: [...result.audioShareOff],
    problem: null,
  };
}

/** A clip without counterfactuals (its decode or its partners failed). */
export function problemClip(
  clip: { path: string; label: string; subset: string | null },
  problem: string,
): RelianceClip {
  return {
    ...clip,
    answerOff: '',
    verdictOff: 'undecided',
    verdictIntervention: 'undecided',
    audioSwapDrop: null,
    framesSwapDrop: null,
    silenceDrop: null,
    greyDrop: null,
    followsAudio: null,
    followsFrames: null,
    audioShareOff: [],
    problem,
  };
}

function verdictCounts(verdicts: readonly VerdictName[]): VerdictCounts {
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as VerdictCounts;
  for (const v of verdicts) counts[v] += 1;
  return counts;
}

function subsetOf(name: string, clips: readonly RelianceClip[]): RelianceSubset {
  const values = (pick: (c: RelianceClip) => number | null): number[] =>
    clips.map(pick).filter((x): x is number => x !== null);
  return {
    subset: name,
    clips: clips.length,
    verdictsOff: verdictCounts(clips.map((c) => c.verdictOff)),
    verdictsIntervention: verdictCounts(clips.map((c) => c.verdictIntervention)),
    meanAudioSwapDrop: mean(values((c) => c.audioSwapDrop)),
    meanFramesSwapDrop: mean(values((c) => c.framesSwapDrop)),
    meanSilenceDrop: mean(values((c) => c.silenceDrop)),
    meanGreyDrop: mean(values((c) => c.greyDrop)),
    followsAudio: mean(values((c) => c.followsAudio)),
    followsFrames: mean(values((c) => c.followsFrames)),
  };
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * Per subset (in first-seen order, then "all") and per layer over the clips that ran; the best
 * layer is the one with the highest ρ.
 */
export function summarizeReliance(
  clips: readonly RelianceClip[],
  options: BootstrapOptions = {},
): Pick<RelianceCheckpoint, 'subsets' | 'layers' | 'bestLayer'> {
  const ran = clips.filter((c) => c.problem === null);
  const names = [...new Set(ran.map((c) => c.subset ?? 'none'))];
  const subsets = [
    ...names.map((n) =>
      subsetOf(
        n,
        ran.filter((c) => (c.subset ?? 'none') === n),
      ),
    ),
    subsetOf('all', ran),
  ];
  const paired = ran.filter((c) => c.audioSwapDrop !== null);
  const layerCount = Math.max(0, ...paired.map((c) => c.audioShareOff.length));
  const layers: LayerReliance[] = [];
  for (let l = 0; l < layerCount; l++) {
    const usable = paired.filter((c) => Number.isFinite(c.audioShareOff[l]));
    const r = spearmanWithInterval(
      usable.map((c) => c.audioShareOff[l] as number),
      usable.map((c) => c.audioSwapDrop as number),
      options,
    );
    layers.push({
      layer: l,
      rho: finiteOrNull(r.rho),
      low: finiteOrNull(r.low),
      high: finiteOrNull(r.high),
      clips: usable.length,
    });
  }
  let bestLayer: number | null = null;
  for (const entry of layers) {
    const bestRho = bestLayer === null ? null : (layers[bestLayer]?.rho ?? null);
    if (entry.rho !== null && (bestRho === null || entry.rho > bestRho)) bestLayer = entry.layer;
  }
  return { subsets, layers, bestLayer };
}

/** `counterfactuals.csv`: one row per checkpoint and clip. */
export function relianceClipsCsv(summary: RelianceSummary): string {
  const layers = Math.max(
    0,
    ...summary.checkpoints.flatMap((c) => c.clips.map((x) => x.audioShareOff.length)),
  );
  const header = [
    'checkpoint',
    'path',
    'label',
    'subset',
    'answer_off',
    'verdict_off',
    'verdict_intervention',
    'audio_swap_drop',
    'frames_swap_drop',
    'silence_drop',
    'grey_drop',
    'follows_audio',
    'follows_frames',
    ...Array.from({ length: layers }, (_, l) => `audio_share_off_l${l}`),
    'problem',
  ];
  const rows = summary.checkpoints.flatMap((c) =>
    c.clips.map((x) => [
      c.name,
      x.path,
      x.label,
      x.subset,
      x.answerOff,
      x.verdictOff,
      x.verdictIntervention,
      x.audioSwapDrop,
      x.framesSwapDrop,
      x.silenceDrop,
      x.greyDrop,
      x.followsAudio,
      x.followsFrames,
      ...Array.from({ length: layers }, (_, l) => x.audioShareOff[l]),
      x.problem,
    ]),
  );
  return csvRows([header, ...rows]);
}

/** `counterfactual-layers.csv`: ρ per checkpoint and layer with its interval. */
export function relianceLayersCsv(summary: RelianceSummary): string {
  return csvRows([
    ['checkpoint', 'layer', 'spearman_rho', 'low', 'high', 'clips', 'best'],
    ...summary.checkpoints.flatMap((c) =>
      c.layers.map((l) => [
        c.name,
        l.layer,
        l.rho,
        l.low,
        l.high,
        l.clips,
        l.layer === c.bestLayer,
      ]),
    ),
  ]);
}
