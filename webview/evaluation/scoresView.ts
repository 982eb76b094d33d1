// Scores per checkpoint and setting (accuracy, weighted F1 and Δ accuracy against off with its
// interval overall and per subset, the audio−video gap, mean flagged heads, flips with McNemar's
// p), and the confusion matrix of a chosen pair. The setting column stays put while the table
// scrolls sideways.
import { benchmarkCsvTables } from '../../src/shared/benchmarkCsv';
import {
  deltaMethodText,
  deltaPointsText,
  intervalText,
  pValueText,
} from '../../src/shared/deltaText';
import type { PairedDelta } from '../../src/protocol/evaluationSummary';
import { el, replaceChildren } from '../kit/domBuilder';
import { toCsv } from '../../src/shared/csv';
import { sectionFrame } from '../kit/sectionFrame';
import { heatColour, type Palette } from '../kit/theme';
import type { View } from '../kit/view';
import {
  confusionRows,
  num,
  pct,
  refKey,
  refOptions,
  resolveRef,
  settingOf,
  settingRefs,
} from './evaluationData';
import type { EvaluationModel, SettingRef } from './evaluationModel';
import { dynamicSelect } from '../kit/dynamicSelect';

const NOT_SIGNIFICANT_TITLE =
  'n.s.: the 95 % interval covers 0, so this difference is within what resampling the clips ' +
  'gives by chance (interval per setting, uncorrected for the number of settings).';

/** A Δ cell: "+4.4 [1.1, 7.8]", greyed with "n.s." when the interval covers 0. */
function deltaCell(key: string, d: PairedDelta | undefined): HTMLElement {
  if (d === undefined) return el('td', { 'data-col': key }, '–');
  const td = el(
    'td',
    {
      'data-col': key,
      title:
        `Δ ${deltaPointsText(d)} points against off on ${d.count} clips, 95 % interval ` +
        `${intervalText(d)}; flips w→r ${d.wrongToRight} / r→w ${d.rightToWrong}, McNemar p ` +
        `${pValueText(d.mcnemarP)}` +
        (d.coversZero ? `\n${NOT_SIGNIFICANT_TITLE}` : ''),
    },
    el('span', { class: 'delta' }, deltaPointsText(d)),
    ' ',
    el('span', { class: 'ci' }, intervalText(d)),
  );
  if (d.coversZero) {
    td.classList.add('not-significant');
    td.append(' ', el('span', { class: 'ns' }, 'n.s.'));
  }
  return td;
}

/** The scores section: one table per checkpoint. */
export function scoresView(model: EvaluationModel): View {
  const frame = sectionFrame(model, 'Scores', 'eval-scores', {
    name: 'scores',
    csv: () =>
      model.summary === null ? '' : (benchmarkCsvTables(model.summary)['scores.csv'] ?? ''),
    json: () => model.summary,
  });
  frame.element.dataset['testid'] = 'eval-scores';
  frame.note.textContent =
    'Accuracy and weighted F1 in %; Δ = accuracy − off’s on the same clips (points) with its 95 % interval; gap = audio-aligned − video-aligned accuracy (points); heads = mean flagged heads per clip; w→r / r→w = answers flipped against off, p = their exact McNemar test.';
  return {
    element: frame.element,
    update() {
      const summary = model.summary;
      if (summary === null) {
        replaceChildren(frame.body, el('p', { class: 'empty' }, 'No clip evaluated yet.'));
        return;
      }
      const groups = [...summary.subsets, 'overall'];
      const tables = summary.checkpoints.map((c) => {
        const head = el(
          'tr',
          {},
          el('th', { scope: 'col', class: 'text key' }, 'setting'),
          ...groups.flatMap((g) => [
            el('th', { scope: 'col' }, `${g} acc`),
            el('th', { scope: 'col' }, `${g} Δ vs off`),
            el('th', { scope: 'col' }, `${g} wF1`),
          ]),
          ...['gap', 'heads', 'w→r', 'r→w'].map((h) => el('th', { scope: 'col' }, h)),
          el('th', { scope: 'col', title: 'Exact two-sided McNemar test on w→r vs r→w' }, 'p'),
        );
        const rows = c.settings.map((s) => {
          const score = (g: string) => (g === 'overall' ? s.overall : s.bySubset[g]);
          const versus = s.versusOff ?? null;
          const delta = (g: string) =>
            versus === null ? undefined : g === 'overall' ? versus.overall : versus.bySubset[g];
          const cell = (key: string, text: string) => el('td', { 'data-col': key }, text);
          const noEffect = s.noEffect ?? [];
          const row = el(
            'tr',
            { 'data-setting': s.id },
            el(
              'th',
              { scope: 'row', class: 'text key' },
              s.title,
              noEffect.length === 0
                ? null
                : el(
                    'span',
                    { class: 'no-effect-mark', 'data-testid': 'no-effect-mark' },
                    `no effect: ${noEffect.join('; ')}`,
                  ),
            ),
            ...groups.flatMap((g) => [
              cell(`${g}:accuracy`, pct(score(g)?.accuracy)),
              deltaCell(`${g}:delta`, delta(g)),
              cell(`${g}:weightedF1`, pct(score(g)?.weightedF1)),
            ]),
            cell('gap', s.gap === null ? '–' : num(s.gap).toFixed(1)),
            cell('heads', num(s.meanFlaggedHeads).toFixed(2)),
            cell(
              'wrong-to-right',
              String(s.flips.filter((f) => f.kind === 'wrong-to-right').length),
            ),
            cell(
              'right-to-wrong',
              String(s.flips.filter((f) => f.kind === 'right-to-wrong').length),
            ),
            cell('mcnemar-p', versus === null ? '–' : pValueText(versus.overall.mcnemarP)),
          );
          // A setting that cannot change the model: its row equals off by construction.
          row.classList.toggle('no-effect-row', noEffect.length > 0);
          return row;
        });
        return el(
          'div',
          { class: 'eval-checkpoint' },
          el('h3', {}, `${c.name} (${c.fileName}): ${c.evaluated} clips`),
          el(
            'div',
            { class: 'table-scroll' },
            el(
              'table',
              { class: 'data-table compact', 'data-checkpoint': c.name },
              el('thead', {}, head),
              el('tbody', {}, ...rows),
            ),
          ),
        );
      });
      replaceChildren(
        frame.body,
        el('p', {}, `${summary.clips} clips; labels ${summary.labels.join(', ')}`),
        el(
          'p',
          { class: 'note', 'data-testid': 'eval-delta-note' },
          deltaMethodText(summary.deltaMethod),
        ),
        ...tables,
      );
    },
  };
}

/** The confusion matrix of one checkpoint and setting. */
export function confusionView(model: EvaluationModel): View {
  let current: SettingRef | null = null;
  const picker = dynamicSelect('Checkpoint and setting', 'eval-confusion-pick', (key) => {
    const ref = settingRefs(model.summary).find((r) => refKey(r) === key);
    if (ref !== undefined) model.choose('confusion', ref);
  });
  const table = el('div', { class: 'table-scroll' });
  const rows = () => {
    const found = settingOf(model.summary, current);
    return found === null
      ? []
      : confusionRows(model.summary?.labels ?? [], found.setting.confusion);
  };
  const frame = sectionFrame(model, 'Confusion matrix', 'eval-confusion', {
    name: 'confusion',
    csv: () => toCsv(rows()),
    json: () => ({ ...current, rows: rows() }),
  });
  frame.note.textContent = 'Rows: the true label; columns: the predicted label.';
  frame.body.append(el('div', { class: 'controls-row' }, picker.element), table);
  return {
    element: frame.element,
    update(palette: Palette) {
      const refs = settingRefs(model.summary);
      current = resolveRef(refs, model.choices.confusion);
      picker.set(refOptions(refs), current === null ? null : refKey(current));
      const found = settingOf(model.summary, current);
      const labels = model.summary?.labels ?? [];
      if (found === null) {
        replaceChildren(table, el('p', { class: 'empty' }, 'No results yet.'));
        return;
      }
      const matrix = found.setting.confusion;
      const max = Math.max(1, ...matrix.flat());
      const body = matrix.map((row, t) =>
        el(
          'tr',
          {},
          el('th', { scope: 'row', class: 'text' }, labels[t] ?? String(t)),
          ...row.map((n, p) => {
            const td = el('td', { 'data-truth': t, 'data-predicted': p }, String(n));
            td.style.background = heatColour(palette, n / max);
            if (t === p) td.classList.add('diagonal');
            return td;
          }),
        ),
      );
      replaceChildren(
        table,
        el(
          'table',
          {
            class: 'data-table compact confusion',
            'data-key': current === null ? '' : refKey(current),
          },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', { class: 'text' }, 'truth \\ predicted'),
              ...labels.map((l) => el('th', { scope: 'col' }, l)),
            ),
          ),
          el('tbody', {}, ...body),
        ),
      );
    },
  };
}
