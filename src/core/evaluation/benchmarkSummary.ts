// Dataset-level figures of a benchmark run, from its plan, manifest entries and records: per
// checkpoint and setting, accuracy and weighted F1 overall and per subset, the audio−video gap, a
// confusion matrix, the clips whose answer flips against `off`, and (for CA-MER subsets) the
// baseline's UAP and token attention over wrong vs right answers; each setting's Δ accuracy
// against `off` with a seeded bootstrap interval and McNemar's p. Pure: no I/O.
import { confusionMatrix, isCaMerSubset, scoresBySubset } from '../analysis/metrics';
import { DELTA_METHOD, pairedAccuracyDelta } from '../analysis/statistics';
import {
  settleRecords,
  type BenchmarkPlan,
  type ClipOkRecord,
  type ClipRecord,
  type PlannedCheckpoint,
} from './benchmarkRecords';
import { decodeHeadMask, summarizeHeadMaps, type HeadClip } from './headMaps';
import { RATIO_KIND_NAMES } from '../../protocol/contract';
import { settingNoEffect, type EvaluationSetting } from './evaluationSettings';
import { summarizeCheckpoint, type CheckpointRuns } from './splitSummary';
import {
  CA_MER_SUBSETS,
  type BenchmarkSummary,
  type CheckpointEvaluation,
  type CheckpointHeadMaps,
  type FailedClip,
  type FlipClip,
  type SettingScores,
} from '../../protocol/evaluationSummary';

/** One checkpoint's records (clip order) as the split summary's runs, for the given settings. */
export function checkpointRunsOf(
  ok: readonly ClipOkRecord[],
  settingIds: readonly string[],
): CheckpointRuns {
  return {
    settings: settingIds.map((id, k) => ({
      id,
      predictions: ok.map((r) => r.predictions[k] as number),
      flaggedHeads: ok.map((r) => r.flaggedHeads[k] as number),
    })),
    uap: ok.map((r) => r.uap),
    tokenAttention: ok.map((r) => r.tokenAttention),
  };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Summarises the records of a run (or of merged shards) over `clips` manifest clips; of a clip
 * retried after a transient failure only the record that counts (settleRecords) is used.
 */
export function summarizeBenchmark(
  plan: BenchmarkPlan,
  // Structural (not ManifestEntry) so this pure module pulls no Node code into the webview.
  entries: readonly { label: number; subset: string | null; relativePath: string }[],
  allRecords: readonly ClipRecord[],
  clips: number,
): BenchmarkSummary {
  const records = settleRecords(allRecords);
  const classes = plan.labels.length;
  const subsets = [...new Set(entries.map((e) => e.subset).filter((s) => s !== null))].sort(
    (a, b) => subsetRank(a) - subsetRank(b) || a.localeCompare(b),
  );
  const failed: FailedClip[] = records
    .filter((r) => !r.ok)
    .map((r) => ({
      clip: r.clip,
      path: r.path,
      checkpoint: r.checkpoint,
      code: r.error.code,
      message: r.error.message,
    }));

  const checkpoints = plan.checkpoints.map((c): CheckpointEvaluation => {
    const ok = records
      .filter((r): r is ClipOkRecord => r.ok && r.checkpoint === c.name)
      .sort((a, b) => a.clip - b.clip);
    const truth = ok.map((r) => entries[r.clip]?.label ?? -1);
    const subsetOf = ok.map((r) => entries[r.clip]?.subset ?? '');
    const settings = c.settings.map((s: EvaluationSetting, k): SettingScores => {
      const predictions = ok.map((r) => r.predictions[k] as number);
      const overall = scoresBySubset(
        predictions,
        truth,
        ok.map(() => 'all'),
        ['all'],
        classes,
      ).all;
      const bySubset = scoresBySubset(predictions, truth, subsetOf, subsets, classes);
      const audio = bySubset['audio-aligned'];
      const video = bySubset['video-aligned'];
      const gap =
        audio !== undefined && video !== undefined && audio.count > 0 && video.count > 0
          ? audio.accuracy - video.accuracy
          : null;
      const flips: FlipClip[] = [];
      let versusOff: SettingScores['versusOff'] = null;
      if (k > 0) {
        const baseline = ok.map((r) => r.predictions[0] as number);
        versusOff = {
          overall: pairedAccuracyDelta(truth, baseline, predictions),
          bySubset: Object.fromEntries(
            subsets.map((name) => [
              name,
              pairedAccuracyDelta(truth, baseline, predictions, (i) => subsetOf[i] === name),
            ]),
          ),
        };
        ok.forEach((r, i) => {
          const before = r.predictions[0] as number;
          const after = r.predictions[k] as number;
          if (before === after) return;
          const label = truth[i] as number;
          flips.push({
            clip: r.clip,
            path: r.path,
            subset: entries[r.clip]?.subset ?? null,
            label,
            before,
            after,
            kind:
              before !== label && after === label
                ? 'wrong-to-right'
                : before === label
                  ? 'right-to-wrong'
                  : 'wrong-to-wrong',
          });
        });
      }
      return {
        id: s.id,
        title: s.title,
        sweep: s.sweep,
        noEffect: settingNoEffect(s),
        overall,
        bySubset,
        gap,
        meanFlaggedHeads: mean(ok.map((r) => r.flaggedHeads[k] as number)),
        confusion: confusionMatrix(predictions, truth, classes),
        flips,
        versusOff,
        ...(s.chosenBy === undefined
          ? {}
          : {
              chosenBy: {
                ...s.chosenBy,
                sameManifest:
                  s.chosenBy.manifestSha256 === plan.manifest.sha256 ||
                  s.chosenBy.manifest === plan.manifest.path,
              },
            }),
      };
    });
    let byAnswer: CheckpointEvaluation['byAnswer'] = null;
    const caMer =
      subsetOf.every(isCaMerSubset) && CA_MER_SUBSETS.every((s) => subsetOf.includes(s));
    if (caMer && ok.length > 0) {
      // Only the off run (setting 0) feeds the answer split.
      byAnswer = summarizeCheckpoint(
        { labels: truth, subsets: subsetOf, classes },
        checkpointRunsOf(ok, ['off']),
      ).byAnswer;
    }
    return {
      name: c.name,
      fileName: c.fileName,
      evaluated: ok.length,
      settings,
      byAnswer,
      heads: checkpointHeadMaps(c, ok, truth, subsetOf, subsets),
    };
  });

  return {
    schema: 'mosear-lens-eval-summary/1',
    manifest: plan.manifest.path,
    labels: [...plan.labels],
    clips,
    subsets,
    failed,
    checkpoints,
    deltaMethod: { ...DELTA_METHOD },
  };
}

/**
 * The checkpoint's layer × head maps (settings that can flag heads: not mode off) over the clips
 * whose records hold head data; null when none does (records written before they existed).
 */
function checkpointHeadMaps(
  c: PlannedCheckpoint,
  ok: readonly ClipOkRecord[],
  truth: readonly number[],
  subsetOf: readonly string[],
  subsets: readonly string[],
): CheckpointHeadMaps | null {
  const off = c.settings[0]?.controls;
  if (off === undefined) return null;
  const layers = off.headOverride.length;
  const heads = off.headOverride[0]?.length ?? 0;
  const clips: HeadClip[] = [];
  ok.forEach((r, i) => {
    if (r.flagMasks?.length !== c.settings.length) return;
    const statistics = r.headStatistics?.length === layers * heads ? r.headStatistics : null;
    clips.push({
      subset: subsetOf[i] ?? null,
      label: truth[i] as number,
      predictions: r.predictions,
      flags: r.flagMasks.map((m) => decodeHeadMask(m, layers * heads)),
      statistics,
    });
  });
  return summarizeHeadMaps({
    layers,
    heads,
    statistic: RATIO_KIND_NAMES[off.ratioKind],
    settings: c.settings.flatMap((s, index) =>
      s.controls.mode === 0 ? [] : [{ id: s.id, index }],
    ),
    subsets,
    clips,
  });
}

/** CA-MER subsets first, in their usual order. */
function subsetRank(subset: string): number {
  const i = (CA_MER_SUBSETS as readonly string[]).indexOf(subset);
  return i < 0 ? CA_MER_SUBSETS.length : i;
}
