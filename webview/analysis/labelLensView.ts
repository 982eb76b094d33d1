// The label lens (issue 18, contract 1.1's `layer_logits`): per layer, each label's probability
// in the readout of the answer position, for the run without or with the intervention, the
// answer label highlighted and the other run's answer curve dashed beside it; the note says from
// which layer the answer leads. Hidden behind its reason where the result has no layer_logits.
import type { ChartDataset } from 'chart.js';
import { ChartCanvas, shareLineOptions } from '../kit/chartCanvas';
import { LINE_DASHES } from '../kit/chartMarks';
import { el } from '../kit/domBuilder';
import { selectControl } from '../kit/formControls';
import { sectionFrame } from '../kit/sectionFrame';
import { currentPalette, withAlpha } from '../kit/theme';
import type { View } from '../kit/view';
import { toCsv } from '../../src/shared/csv';
import { labelLens } from '../../src/shared/labelLens';
import { LABEL_LENS_UNAVAILABLE } from '../../src/protocol/knockout';
import type { PanelModel } from './panelModel';

/** The label lens section. */
export function labelLensView(model: PanelModel): View {
  const lenses = () => {
    const r = model.result;
    if (r === null) return null;
    const answer = r.intervention.prediction.index;
    const of = (logits: number[][] | undefined) =>
      logits === undefined ? null : labelLens(logits, answer);
    return {
      answer,
      labels: r.model.metadata.labels,
      without: of(r.baseline.layerLogits),
      with: of(r.intervention.layerLogits),
    };
  };
  const rows = (): Record<string, unknown>[] => {
    const l = lenses();
    if (l === null || l.without === null || l.with === null) return [];
    const { without, with: withRun, labels } = l;
    return without.probabilities.map((_, layer) => {
      const out: Record<string, unknown> = { layer };
      labels.forEach((label, c) => {
        out[`without_${label}`] = without.probabilities[layer]?.[c];
        out[`with_${label}`] = withRun.probabilities[layer]?.[c];
      });
      return out;
    });
  };
  const chart = new ChartCanvas<'line'>(
    'Label lens: each label’s probability in each layer’s readout of the answer position',
    260,
    'label-lens-chart',
  );
  const frame = sectionFrame(model, 'Label lens', 'label-lens-section', {
    name: 'label-lens',
    png: () => chart.pngBase64(currentPalette()),
    csv: () => toCsv(rows()),
    json: () => rows(),
  });
  const reason = el('p', { class: 'note', 'data-testid': 'label-lens-unavailable', hidden: true });
  const choice = selectControl(
    'Run',
    [
      { value: 'with', label: 'with the intervention' },
      { value: 'without', label: 'without (off)' },
    ],
    (value) => model.choose('labelLensRun', value === 'without' ? 'without' : 'with'),
    { 'data-testid': 'label-lens-run' },
  );
  const takes = el('p', { class: 'note', 'data-testid': 'label-lens-takes-over' });
  frame.body.append(reason, choice.element, takes, chart.element);
  return {
    element: frame.element,
    update(palette) {
      const l = lenses();
      frame.element.hidden = l === null;
      if (l === null) return;
      const missing = l.without === null || l.with === null;
      reason.hidden = !missing;
      reason.textContent = LABEL_LENS_UNAVAILABLE;
      choice.element.hidden = missing;
      chart.element.hidden = missing;
      takes.hidden = missing;
      if (l.without === null || l.with === null) return;
      const run = model.choices.labelLensRun ?? 'with';
      const shown = run === 'with' ? l.with : l.without;
      const other = run === 'with' ? l.without : l.with;
      const answerLabel = l.labels[l.answer] ?? String(l.answer);
      const at = (x: number | null): string => (x === null ? 'never' : `from layer ${x}`);
      takes.textContent = `The answer (${answerLabel}, the intervention’s prediction) leads ${at(l.with.takesOver)} with the intervention and ${at(l.without.takesOver)} without. Readout: layer_logits[l] = W_label · norm(x_l) at the answer position.`;
      choice.set(run);
      const datasets: ChartDataset<'line', number[]>[] = l.labels.map((label, c) => {
        const isAnswer = c === l.answer;
        const colour = isAnswer ? palette.audio : withAlpha(palette.mutedForeground, 0.8);
        return {
          label: isAnswer ? `${label} (answer)` : label,
          data: shown.probabilities.map((p) => p[c] ?? 0),
          borderColor: colour,
          backgroundColor: colour,
          borderWidth: isAnswer ? 3 : 1.2,
          borderDash: isAnswer ? [] : (LINE_DASHES[(c % (LINE_DASHES.length - 1)) + 1] ?? []),
          pointRadius: isAnswer ? 3 : 1.5,
        };
      });
      datasets.push({
        label: `${answerLabel}, ${run === 'with' ? 'without' : 'with'} the intervention`,
        data: other.answerProbability,
        borderColor: palette.audio,
        backgroundColor: palette.audio,
        borderWidth: 1.5,
        borderDash: [3, 3],
        pointRadius: 0,
      });
      chart.set({
        type: 'line',
        data: { labels: shown.probabilities.map((_, layer) => `layer ${layer}`), datasets },
        options: shareLineOptions('probability in the layer’s readout'),
      });
    },
  };
}
