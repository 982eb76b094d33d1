// The CSV tables of a benchmark evaluation: what `mosear-lens eval` writes into its run folder and
// what the Evaluate panel exports. Pure text, no I/O, so the CLI, the host and the webview share it.
// scores.csv's delta columns compare each setting with `off` on the same clips (points, paired
// bootstrap interval, exact McNemar p); they are empty on `off`'s rows. `chosen_by` says where a
// setting of `eval --choice` was chosen (and warns when it was chosen on this manifest).
import { chosenByLine } from './chosenByText';
import { csvRows } from './csv';
import type { BenchmarkSummary } from '../protocol/evaluationSummary';

/**
 * The run folder's CSV tables by file name: scores, flips, failed clips, UAP by answer, and heads
 * (per checkpoint, setting and clip group: each head's flag share and mean `off` statistic).
 */
export function benchmarkCsvTables(summary: BenchmarkSummary): Record<string, string> {
  const scores: (string | number | boolean | null)[][] = [
    [
      'checkpoint',
      'setting',
      'tau',
      'alpha',
      'subset',
      'count',
      'accuracy',
      'weighted_f1',
      'gap',
      'mean_flagged_heads',
      'delta',
      'ci_lo',
      'ci_hi',
      'covers_zero',
      'mcnemar_p',
      'chosen_by',
    ],
  ];
  const flips: (string | number | null)[][] = [
    ['checkpoint', 'setting', 'clip', 'path', 'subset', 'label', 'before', 'after', 'kind'],
  ];
  const uap: (string | number | null)[][] = [
    [
      'checkpoint',
      'subset',
      'answer',
      'clips',
      'layer',
      'visual',
      'audio',
      'text',
      'visual_of_av',
      'audio_of_av',
    ],
  ];
  const heads: (string | number | null)[][] = [
    [
      'checkpoint',
      'setting',
      'group',
      'clips',
      'layer',
      'head',
      'flag_share',
      'mean_statistic',
      'statistic',
    ],
  ];
  for (const c of summary.checkpoints) {
    for (const s of c.heads?.settings ?? []) {
      for (const [group, map] of Object.entries(s.groups)) {
        map.flagShare.forEach((row, layer) =>
          row.forEach((share, head) => {
            heads.push([
              c.name,
              s.setting,
              group,
              map.clips,
              layer,
              head,
              share,
              map.meanStatistic?.[layer]?.[head] ?? null,
              c.heads?.statistic ?? null,
            ]);
          }),
        );
      }
    }
    for (const s of c.settings) {
      const groups = [['all', s.overall] as const, ...Object.entries(s.bySubset)];
      for (const [subset, score] of groups) {
        // Δ accuracy against off (points) with its interval and McNemar p; empty for off itself.
        const d = subset === 'all' ? s.versusOff?.overall : s.versusOff?.bySubset[subset];
        scores.push([
          c.name,
          s.id,
          s.sweep?.tau ?? null,
          s.sweep?.alpha ?? null,
          subset,
          score.count,
          score.accuracy,
          score.weightedF1,
          s.gap,
          s.meanFlaggedHeads,
          d?.delta ?? null,
          d?.ciLow ?? null,
          d?.ciHigh ?? null,
          d?.coversZero ?? null,
          d?.mcnemarP ?? null,
          s.chosenBy === undefined ? null : chosenByLine(s.chosenBy),
        ]);
      }
      for (const f of s.flips) {
        flips.push([
          c.name,
          s.id,
          f.clip,
          f.path,
          f.subset,
          summary.labels[f.label] ?? f.label,
          summary.labels[f.before] ?? f.before,
          summary.labels[f.after] ?? f.after,
          f.kind,
        ]);
      }
    }
    for (const [subset, split] of Object.entries(c.byAnswer ?? {})) {
      for (const answer of ['wrong', 'right'] as const) {
        const group = split[answer].uap;
        group.layers.forEach((u, layer) => {
          uap.push([
            c.name,
            subset,
            answer,
            group.count,
            layer,
            u.visual,
            u.audio,
            u.text,
            u.visualOfAV,
            u.audioOfAV,
          ]);
        });
      }
    }
  }
  const failed: (string | number | null)[][] = [['clip', 'path', 'checkpoint', 'code', 'message']];
  for (const f of summary.failed) failed.push([f.clip, f.path, f.checkpoint, f.code, f.message]);
  return {
    'scores.csv': csvRows(scores),
    'flips.csv': csvRows(flips),
    'uap-by-answer.csv': csvRows(uap),
    'failed.csv': csvRows(failed),
    'heads.csv': csvRows(heads),
  };
}
