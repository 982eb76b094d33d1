// Predictions with and without the intervention: every label's probability side by side, the
// predicted label of each run outlined and named above the chart.
import type { Prediction } from '../../src/protocol/analysisResult';
import { ChartCanvas } from '../kit/chartCanvas';
import { el, formatPercent, replaceChildren } from '../kit/domBuilder';
import type { PanelModel } from './panelModel';
import { toCsv } from '../../src/shared/csv';
import { button, sectionFrame } from '../kit/sectionFrame';
import { currentPalette, withAlpha } from '../kit/theme';
import type { View } from '../kit/view';
import { whyNoEffect } from '../../src/shared/noEffect';

function predictionLine(run: string, p: Prediction): HTMLElement {
  return el(
    'span',
    { class: 'prediction', 'data-run': run, 'data-label': p.label },
    `${run}: `,
    el('strong', {}, p.label),
    ` ${formatPercent(p.probability)}`,
  );
}

/** The prediction section. */
export function predictionView(model: PanelModel): View {
  const rows = (): Record<string, unknown>[] => {
    const r = model.result;
    if (r === null) return [];
    return r.model.metadata.labels.map((label, i) => ({
      label,
      without: r.baseline.probabilities[i],
      with: r.intervention.probabilities[i],
    }));
  };
  const chart = new ChartCanvas<'bar'>(
    'Probability of each label without and with the intervention',
    220,
    'prediction-chart',
  );
  const frame = sectionFrame(model, 'Prediction', 'prediction-section', {
    name: 'prediction',
    png: () => chart.pngBase64(currentPalette()),
    csv: () => toCsv(rows()),
    json: () => rows(),
  });
  const summary = el('p', { class: 'prediction-summary', 'data-testid': 'prediction' });
  // Edited controls where nothing can re-run: the result below no longer matches them.
  const staleText = el('span', {});
  const stale = el(
    'div',
    { class: 'banner stale', role: 'status', 'data-testid': 'stale', hidden: true },
    staleText,
    ' ',
    button('Reset controls to this result’s', () => model.resetToResult(), {
      secondary: true,
      'data-testid': 'reset-to-result',
    }),
  );
  frame.body.append(stale, summary, chart.element);
  return {
    element: frame.element,
    update(p) {
      const r = model.result;
      if (r === null) return;
      const staleReason = model.staleReason();
      stale.hidden = staleReason === null;
      staleText.textContent = staleReason ?? '';
      summary.dataset['stale'] = String(staleReason !== null);
      summary.classList.toggle('stale', staleReason !== null);
      const without = r.baseline.prediction;
      const withRun = r.intervention.prediction;
      const changed = without.index !== withRun.index;
      // Mode off runs the model unchanged: "with intervention" would claim one that did not act;
      // any other setting that cannot change the model is not called an intervention either.
      const off = r.intervention.controls.mode === 0;
      const reasons = whyNoEffect(r.intervention.controls, r.baseline.ratioStatistics);
      replaceChildren(
        summary,
        !off && reasons.length > 0 && !changed
          ? el(
              'span',
              { class: 'prediction no-effect-run', 'data-run': 'With intervention' },
              'With intervention: ',
              el(
                'strong',
                { 'data-testid': 'prediction-no-effect' },
                `no effect (${reasons.join('; ')})`,
              ),
            )
          : predictionLine(off ? 'Intervention off' : 'With intervention', withRun),
        el('span', { class: 'sep' }, ' · '),
        predictionLine('Without', without),
        changed ? el('span', { class: 'changed' }, ' — the intervention changed the answer') : null,
      );
      summary.dataset['label'] = withRun.label;
      const labels = r.model.metadata.labels.map((label, i) =>
        i === withRun.index || i === without.index ? `${label} ★` : label,
      );
      const outline = (predicted: number) =>
        labels.map((_, i) => (i === predicted ? p.foreground : 'transparent'));
      chart.set({
        type: 'bar',
        data: {
          labels,
          datasets: [
            {
              label: 'without intervention',
              data: r.baseline.probabilities,
              backgroundColor: withAlpha(p.mutedForeground, 0.55),
              borderColor: outline(without.index),
              borderWidth: 2,
            },
            {
              label: off ? 'intervention off' : 'with intervention',
              data: r.intervention.probabilities,
              backgroundColor: p.visual,
              borderColor: outline(withRun.index),
              borderWidth: 2,
            },
          ],
        },
        options: {
          indexAxis: 'y',
          scales: {
            x: { min: 0, max: 1, ticks: { callback: (v) => formatPercent(Number(v)) } },
          },
          plugins: {
            legend: { position: 'bottom' },
            tooltip: {
              callbacks: {
                label: (item) => `${item.dataset.label ?? ''}: ${formatPercent(Number(item.raw))}`,
              },
            },
          },
        },
      });
    },
  };
}
