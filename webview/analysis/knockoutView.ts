// Head knockout (issue 18, contract 1.1's `head_gate`): knock out the flagged heads or heads
// chosen one by one from the inspected head (a choice of its own: the AR overrides are not
// touched), see the answer and its probability change under off and under the intervention; rank
// the top K flagged heads by their knockout effect (progress, Cancel), a ranking table and the
// cumulative curve. Disabled, with the reason, where the checkpoint has no head_gate or nothing
// can run (a saved result, a report).
import { ChartCanvas } from '../kit/chartCanvas';
import { el, formatNumber, formatPercent, replaceChildren } from '../kit/domBuilder';
import { selectControl } from '../kit/formControls';
import { button, sectionFrame } from '../kit/sectionFrame';
import { currentPalette } from '../kit/theme';
import type { View } from '../kit/view';
import { toCsv } from '../../src/shared/csv';
import { flaggedHeadsByAudio } from '../../src/shared/flaggedHeads';
import { headName, type KnockoutPair } from '../../src/protocol/knockout';
import type { PanelModel } from './panelModel';

const signed = (v: number): string => `${v >= 0 ? '+' : '−'}${formatNumber(Math.abs(v))}`;

function setDisabled(element: HTMLElement, disabled: boolean): void {
  if (disabled) element.setAttribute('disabled', '');
  else element.removeAttribute('disabled');
}

/** The head knockout section. */
export function knockoutView(model: PanelModel): View {
  const rankingRows = (): Record<string, unknown>[] =>
    model.knockout.ranking?.ranked.map((h, i) => ({
      rank: i + 1,
      head: headName(h),
      layer: h.layer,
      head_index: h.head,
      change_log_p: h.change,
      p_answer: Math.exp(h.logProb),
      prediction: model.knockout.ranking?.labels[h.prediction],
    })) ?? [];
  const chart = new ChartCanvas<'line'>(
    'Cumulative knockout: the answer’s probability as the ranked heads are removed in order',
    200,
    'rank-chart',
  );
  const frame = sectionFrame(model, 'Head knockout', 'knockout-section', {
    name: 'knockout',
    png: () => chart.pngBase64(currentPalette()),
    csv: () => toCsv(rankingRows()),
    json: () => ({ knockout: model.knockout.result, ranking: model.knockout.ranking }),
  });
  const reason = el('p', { class: 'note', 'data-testid': 'knockout-unavailable', hidden: true });
  const flagged = button(
    'Knock out the flagged heads',
    () => {
      const r = model.result;
      if (r === null) return;
      model.knockOut(flaggedHeadsByAudio(r.intervention.arFlags, r.intervention.modalityMass));
    },
    { 'data-testid': 'knockout-flagged' },
  );
  const addSelected = button(
    'Add the inspected head',
    () => {
      const sel = model.choices.selectedHead;
      if (sel !== null) model.chooseForKnockout(sel);
    },
    { secondary: true, 'data-testid': 'knockout-add-selected' },
  );
  const knockChosen = button(
    'Knock out the chosen heads',
    () => {
      model.knockOut(model.knockout.chosen);
    },
    { 'data-testid': 'knockout-chosen' },
  );
  const clearChosen = button('Clear', () => model.unchooseForKnockout(null), {
    secondary: true,
    'data-testid': 'knockout-clear',
  });
  const chosenList = el('span', {
    class: 'knockout-chosen',
    'data-testid': 'knockout-chosen-list',
  });
  const outcome = el('div', { 'data-testid': 'knockout-result', 'aria-live': 'polite' });

  const kField = el('input', {
    type: 'number',
    min: 1,
    max: 4096,
    step: 1,
    value: model.knockout.k,
    'aria-label': 'K: heads to rank',
    'data-testid': 'rank-k',
  });
  kField.addEventListener('change', () => {
    const k = Math.floor(Number(kField.value));
    if (Number.isFinite(k) && k >= 1) model.setRankOptions({ k });
  });
  const under = selectControl(
    'Measure under',
    [
      { value: 'off', label: 'off (the model as it is)' },
      { value: 'intervention', label: 'the intervention' },
    ],
    (value) => model.setRankOptions({ under: value === 'intervention' ? 'intervention' : 'off' }),
    { 'data-testid': 'rank-under' },
  );
  const rank = button('Rank the top K flagged heads', () => model.rankHeads(), {
    'data-testid': 'rank-run',
  });
  const cancel = button('Cancel', () => model.cancelRank(), {
    secondary: true,
    'data-testid': 'rank-cancel',
  });
  const progress = el('progress', {
    max: 1,
    value: 0,
    'data-testid': 'rank-progress',
    hidden: true,
  });
  const status = el('p', { class: 'note', role: 'status', 'data-testid': 'knockout-status' });
  const table = el('div', { 'data-testid': 'rank-table' });

  frame.body.append(
    reason,
    el('div', { class: 'toolbar' }, flagged, addSelected, knockChosen, clearChosen),
    el('p', { class: 'note' }, 'Chosen: ', chosenList),
    outcome,
    el(
      'div',
      { class: 'toolbar' },
      el('label', {}, 'K ', kField),
      under.element,
      rank,
      cancel,
      progress,
    ),
    status,
    table,
    chart.element,
  );

  const pairRow = (name: string, p: KnockoutPair, labels: readonly string[]): HTMLElement => {
    const label = (i: number): string => labels[i] ?? String(i);
    const changed = p.after.prediction !== p.answer;
    return el(
      'tr',
      { 'data-run': name },
      el('th', { scope: 'row' }, name),
      el('td', {}, label(p.answer)),
      el(
        'td',
        {},
        `${formatPercent(p.before.probabilities[p.answer] ?? 0)} → ${formatPercent(p.after.probabilities[p.answer] ?? 0)}`,
      ),
      el('td', {}, signed(p.answerLogProbChange)),
      el(
        'td',
        changed ? { class: 'flagged' } : {},
        `${label(p.after.prediction)}${changed ? ' (changed)' : ''}`,
      ),
    );
  };

  /** The button that adds the inspected head. */
  const showInspected = (off: boolean): void => {
    const sel = model.choices.selectedHead;
    addSelected.textContent =
      sel === null ? 'Add the inspected head (select one in the grid)' : `Add ${headName(sel)}`;
    setDisabled(addSelected, off || sel === null);
  };

  return {
    element: frame.element,
    update(palette) {
      const r = model.result;
      frame.element.hidden = r === null;
      if (r === null) return;
      const state = model.knockout;
      const availability = model.knockoutAvailability();
      reason.hidden = availability.available;
      reason.textContent = availability.reason ?? '';
      const flaggedCount = r.intervention.arFlags.flat().filter((f) => f >= 0.5).length;
      const busy = state.running !== null;
      const off = !availability.available;
      setDisabled(flagged, off || busy || flaggedCount === 0);
      flagged.textContent = `Knock out the flagged heads (${flaggedCount})`;
      showInspected(off);
      setDisabled(knockChosen, off || busy || state.chosen.length === 0);
      knockChosen.textContent = `Knock out the chosen heads (${state.chosen.length})`;
      setDisabled(clearChosen, state.chosen.length === 0);
      replaceChildren(
        chosenList,
        ...(state.chosen.length === 0
          ? ['none']
          : state.chosen.map((h) =>
              button(`${headName(h)} ×`, () => model.unchooseForKnockout(h), {
                secondary: true,
                'aria-label': `Remove ${headName(h)} from the knockout`,
              }),
            )),
      );
      setDisabled(rank, off || busy || flaggedCount === 0);
      rank.textContent = `Rank the top ${state.k} flagged heads`;
      setDisabled(kField, off || busy);
      setDisabled(cancel, state.running !== 'rank');
      under.set(state.under);
      progress.hidden = state.running !== 'rank';
      progress.setAttribute('max', String(state.progress?.total ?? 1));
      progress.setAttribute('value', String(state.progress?.done ?? 0));

      status.textContent =
        state.running === 'knockout'
          ? 'Knocking out…'
          : state.running === 'rank'
            ? `Ranking: ${state.progress?.done ?? 0} of ${state.progress?.total ?? '…'} runs`
            : state.failure !== null
              ? state.failure.cancelled
                ? 'Cancelled.'
                : `Failed: ${state.failure.message}`
              : flaggedCount === 0
                ? 'No head is flagged in this result: choose an intervention (AR) to flag heads, or choose heads from the grid.'
                : '';

      const k = state.result;
      if (k === null) outcome.replaceChildren();
      else {
        const names = k.heads.map(headName);
        outcome.replaceChildren(
          el(
            'p',
            { class: 'note' },
            `Knocked out ${names.length} head${names.length === 1 ? '' : 's'}: ${
              names.length > 16
                ? `${names.slice(0, 16).join(', ')} … (${names.length})`
                : names.join(', ') || 'none'
            }. Gate 0 removes a head’s attention output; its own layer’s attention is unchanged.`,
          ),
          el(
            'table',
            { class: 'data' },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                ...[
                  'run',
                  'answer',
                  'p(answer) all heads → knocked out',
                  'Δ log p',
                  'prediction after',
                ].map((h) => el('th', { scope: 'col' }, h)),
              ),
            ),
            el(
              'tbody',
              {},
              pairRow('off', k.off, k.labels),
              pairRow('intervention', k.intervention, k.labels),
            ),
          ),
        );
      }

      const ranking = state.ranking;
      chart.element.hidden = ranking === null;
      if (ranking === null) {
        table.replaceChildren();
        return;
      }
      const label = (i: number): string => ranking.labels[i] ?? String(i);
      table.replaceChildren(
        el(
          'p',
          { class: 'note' },
          `Under ${ranking.under}: ${ranking.ranked.length} of ${ranking.candidates} flagged heads (most audio-attending first), each knocked out alone, ranked by the change in log p(${label(ranking.answer)}) — p ${formatPercent(Math.exp(ranking.baseLogProb))} with every head.`,
        ),
        el(
          'table',
          { class: 'data' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ...['rank', 'head', 'Δ log p(answer)', 'p(answer)', 'prediction'].map((h) =>
                el('th', { scope: 'col' }, h),
              ),
            ),
          ),
          el(
            'tbody',
            {},
            ...ranking.ranked.map((h, i) =>
              el(
                'tr',
                { 'data-head': headName(h) },
                el('td', {}, String(i + 1)),
                el('td', {}, headName(h)),
                el('td', {}, signed(h.change)),
                el('td', {}, formatPercent(Math.exp(h.logProb))),
                el(
                  'td',
                  h.prediction === ranking.answer ? {} : { class: 'flagged' },
                  label(h.prediction),
                ),
              ),
            ),
          ),
        ),
      );
      chart.set({
        type: 'line',
        data: {
          labels: ranking.cumulative.map((c) => String(c.removed)),
          datasets: [
            {
              label: `p(${label(ranking.answer)}) with the first n ranked heads knocked out`,
              data: ranking.cumulative.map((c) => c.probability),
              borderColor: palette.audio,
              backgroundColor: palette.audio,
              pointRadius: 3,
            },
          ],
        },
        options: {
          scales: {
            x: { title: { display: true, text: 'heads removed (in ranking order)' } },
            y: {
              min: 0,
              max: 1,
              title: { display: true, text: 'p(answer)' },
              ticks: { callback: (v) => formatPercent(Number(v)) },
            },
          },
          plugins: { legend: { position: 'bottom' } },
        },
      });
    },
    // A new selection changes only the button that adds the inspected head.
    select() {
      if (model.result !== null) showInspected(!model.knockoutAvailability().available);
    },
  };
}
