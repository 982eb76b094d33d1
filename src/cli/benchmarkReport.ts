// The printed summary of a benchmark evaluation (`mosear-lens eval`/`merge`); its CSV tables are
// built by src/core/reports/benchmarkCsv.ts (shared with the Evaluate panel). Names, labels,
// paths and messages come from manifests and models: printed through terminalText.
import { terminalLines, terminalText as safe } from './terminalText';
import { textTable } from './textTable';
import type {
  BenchmarkSummary,
  CheckpointEvaluation,
  PairedDelta,
} from '../protocol/evaluationSummary';
import { mostFlaggedHeads } from '../core/evaluation/headMaps';
import { deltaMethodText, deltaWithIntervalText, pValueText } from '../shared/deltaText';
import type { BenchmarkPlan } from '../protocol/runFolder';
import { noEffectLines, type TitledReasons } from '../shared/noEffect';
import { settingNoEffect } from '../core/evaluation/evaluationSettings';
import { chosenByText, SELECTION_ON_TEST_WARNING, chosenByLine } from '../shared/chosenByText';

/** "warning: <checkpoint>: 22 of 24 settings cannot change the model (α = 0): …" lines. */
function noEffectWarnings(name: string, settings: readonly TitledReasons[]): string[] {
  return noEffectLines(settings).map((line) => `warning: ${safe(name)}: ${safe(line)}`);
}

/** The plan's settings that cannot change the model, one warning line per checkpoint and reason. */
export function planNoEffectWarnings(plan: BenchmarkPlan): string[] {
  return plan.checkpoints.flatMap((c) =>
    noEffectWarnings(
      c.name,
      c.settings.map((s) => ({ title: s.title, reasons: settingNoEffect(s) })),
    ),
  );
}

/**
 * For a plan of `eval --choice`: where its setting was chosen, and a loud warning when the plan's
 * manifest is the one it was chosen on (selection on test). Not a refusal: reading is allowed.
 */
export function planChoiceLines(plan: BenchmarkPlan): string[] {
  return plan.checkpoints.flatMap((c) =>
    c.settings.flatMap((s) => {
      if (s.chosenBy === undefined) return [];
      const same =
        s.chosenBy.manifestSha256 === plan.manifest.sha256 ||
        s.chosenBy.manifest === plan.manifest.path;
      const line = `${safe(c.name)} ${safe(s.title)}: ${safe(chosenByText(s.chosenBy))}`;
      return same
        ? [line, `WARNING: ${SELECTION_ON_TEST_WARNING} (${safe(plan.manifest.path)})`]
        : [line];
    }),
  );
}

const pct = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(1));

/** "+4.4 [1.1, 7.8] p 0.070", with " n.s." when the interval covers 0. */
function deltaCell(d: PairedDelta | undefined): string {
  if (d === undefined) return '–';
  return `${deltaWithIntervalText(d)} p ${pValueText(d.mcnemarP)}${d.coversZero ? ' n.s.' : ''}`;
}

/** Heads named in the summary text per setting (sweep points left out). */
const TOP_HEADS = 5;

/** "most-flagged heads …" then one line per setting that is no sweep point: "AR  L2H1 93% …". */
function mostFlaggedLines(c: CheckpointEvaluation): string[] {
  const rows = (c.heads?.settings ?? []).flatMap((m) => {
    const setting = c.settings.find((s) => s.id === m.setting);
    const all = m.groups['all'];
    if (setting === undefined || setting.sweep !== null || all === undefined) return [];
    const top = mostFlaggedHeads(all, TOP_HEADS)
      .map((h) => `L${h.layer}H${h.head} ${Math.round(h.share * 100)}%`)
      .join('  ');
    return [[setting.title, top === '' ? 'none' : top]];
  });
  if (rows.length === 0) return [];
  return [
    '',
    'most-flagged heads (L layer H head, share of clips):',
    textTable(rows, ['left', 'left']),
  ];
}

/**
 * Per checkpoint: one row per setting with accuracy per subset, overall, F1, gap and flips, then
 * each intervention's Δ accuracy against off with its interval and McNemar p, and the heads each
 * setting (sweep points left out) flagged most often.
 */
export function formatBenchmarkSummary(summary: BenchmarkSummary): string {
  const lines: string[] = [];
  lines.push(`${summary.clips} clips, labels: ${safe(summary.labels.join(', '))}`);
  for (const c of summary.checkpoints) {
    lines.push('', `${safe(c.name)} (${safe(c.fileName)}): ${c.evaluated} clips evaluated`);
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
      ...c.settings.flatMap((s) =>
        s.chosenBy === undefined ? [] : [`${safe(s.title)}: ${safe(chosenByLine(s.chosenBy))}`],
      ),
      ...noEffectWarnings(
        c.name,
        c.settings.map((s) => ({ title: s.title, reasons: s.noEffect ?? [] })),
      ),
    );
    const compared = c.settings.filter((s) => (s.versusOff ?? null) !== null);
    if (compared.length > 0) {
      const deltaHeader = ['Δ vs off', ...summary.subsets, 'all'];
      const deltaRows = compared.map((s) => [
        s.title,
        ...summary.subsets.map((name) => deltaCell(s.versusOff?.bySubset[name])),
        deltaCell(s.versusOff?.overall),
      ]);
      lines.push(
        '',
        textTable(
          [deltaHeader, ...deltaRows],
          ['left', ...deltaHeader.slice(1).map(() => 'right' as const)],
        ),
      );
    }
    lines.push(...mostFlaggedLines(c));
  }
  if (summary.checkpoints.some((c) => c.settings.some((s) => (s.versusOff ?? null) !== null))) {
    lines.push('', deltaMethodText(summary.deltaMethod));
  }
  if (summary.failed.length > 0) {
    lines.push('', `${summary.failed.length} clip(s) could not be evaluated:`);
    for (const f of summary.failed) {
      lines.push(
        `  ${safe(f.path)}${f.checkpoint === null ? '' : ` [${safe(f.checkpoint)}]`}: ` +
          `${safe(f.code)}: ${safe(f.message)}`,
      );
    }
  }
  return terminalLines(`${lines.join('\n')}\n`);
}
