// What `eval --counterfactuals` prints: per checkpoint the per-subset verdicts and how often the
// answer follows swapped-in audio or video, and per layer Spearman ρ of the off run's audio share
// against the audio-swap drop with its bootstrap interval (the tables of RESULTS.md's section).
import type { RelianceSummary } from '../protocol/relianceSummary';
import {
  interventionWord,
  relianceLayerRows,
  relianceSubsetRows,
} from '../core/reports/relianceMarkdown';
import { terminalLines } from './terminalText';
import { textTable } from './textTable';

/** The reliance summary as text, ending with a newline. */
export function formatReliance(summary: RelianceSummary): string {
  const lines: string[] = [
    '',
    'modality counterfactuals (verdicts from the swaps; drops in nats, off)',
  ];
  for (const c of summary.checkpoints) {
    const problems = c.clips.filter((x) => x.problem !== null);
    lines.push(
      '',
      `${c.name}: partners ${c.partners.map((p) => `${p.name} (${p.label ?? '?'})`).join(', ')}`,
      textTable(relianceSubsetRows(c, interventionWord(c)), [
        'left',
        ...Array<'right'>(13).fill('right'),
      ]),
      '',
      textTable(relianceLayerRows(c), ['right', 'right', 'right', 'right']),
      c.bestLayer === null
        ? 'no layer has a defined rank correlation'
        : `layer ${c.bestLayer}'s audio share predicts the causal audio effect best`,
      ...problems.slice(0, 5).map((x) => `  ${x.path}: ${x.problem ?? ''}`),
      ...(problems.length > 5
        ? [`  … and ${problems.length - 5} more clips that could not run`]
        : []),
    );
  }
  lines.push('', `rule: ${summary.rule.text}`);
  return terminalLines(lines.join('\n')) + '\n';
}
