// The printed summary and the CSV tables of a benchmark evaluation (`mosear-lens eval`/`merge`).
import type { BenchmarkSummary } from '../core/evaluation/benchmarkSummary';
import { textTable } from './textTable';

const pct = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(1));

/** Per checkpoint: one row per setting with accuracy per subset, overall, F1, gap and flips. */
export function formatBenchmarkSummary(summary: BenchmarkSummary): string {
  const lines: string[] = [];
  lines.push(`${summary.clips} clips, labels: ${summary.labels.join(', ')}`);
  for (const c of summary.checkpoints) {
    lines.push('', `${c.name} (${c.fileName}): ${c.evaluated} clips evaluated`);
    const header = ['setting', ...summary.subsets, 'all', 'wF1', 'gap', 'heads', 'w→r', 'r→w'];
    const rows = c.settings.map((s) => [
      s.title,
      ...summary.subsets.map((name) => pct(s.bySubset[name]?.accuracy ?? NaN)),
      pct(s.overall.accuracy),
      pct(s.overall.weightedF1),
      s.gap === null ? '–' : s.gap.toFixed(1),
      s.meanFlaggedHeads.toFixed(2),
      String(s.flips.filter((f) => f.kind === 'wrong-to-right').length),
      String(s.flips.filter((f) => f.kind === 'right-to-wrong').length),
    ]);
    lines.push(
      textTable([header, ...rows], ['left', ...header.slice(1).map(() => 'right' as const)]),
    );
  }
  if (summary.failed.length > 0) {
    lines.push('', `${summary.failed.length} clip(s) could not be evaluated:`);
    for (const f of summary.failed) {
      lines.push(
        `  ${f.path}${f.checkpoint === null ? '' : ` [${f.checkpoint}]`}: ${f.code}: ${f.message}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A CSV field, quoted when it needs to be (RFC 4180). */
export function csvField(value: string | number | null): string {
  const text = value === null ? '' : typeof value === 'number' ? String(value) : value;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv(rows: (string | number | null)[][]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

/** The run folder's CSV tables by file name: scores, flips, failed clips, UAP by answer. */
export function benchmarkCsvTables(summary: BenchmarkSummary): Record<string, string> {
  const scores: (string | number | null)[][] = [
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
  for (const c of summary.checkpoints) {
    for (const s of c.settings) {
      const groups = [['all', s.overall] as const, ...Object.entries(s.bySubset)];
      for (const [subset, score] of groups) {
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
    'scores.csv': csv(scores),
    'flips.csv': csv(flips),
    'uap-by-answer.csv': csv(uap),
    'failed.csv': csv(failed),
  };
}
