// MoSE's gate λ per layer (the visual expert's weight against the non-visual one), with the
// balance band 0.5 ± ε the training regularised it towards; hidden for checkpoints without MoSE.
import { ChartCanvas } from '../kit/chartCanvas';
import { formatNumber } from '../kit/domBuilder';
import type { PanelModel } from './panelModel';
import { toCsv } from '../../src/shared/csv';
import { sectionFrame } from '../kit/sectionFrame';
import { currentPalette } from '../kit/theme';
import type { View } from '../kit/view';

type Mixed = 'bar' | 'line';

/** The MoSE gate section. */
export function moseGateView(model: PanelModel): View {
  const rows = (): Record<string, unknown>[] => {
    const r = model.result;
    if (r === null) return [];
    return r.intervention.moseGate === null
      ? []
      : r.intervention.moseGate.map((with_, layer) => ({
          layer,
          without: r.baseline.moseGate?.[layer],
          with: with_,
        }));
  };
  const chart = new ChartCanvas<Mixed>('MoSE gate λ per layer', 200);
  chart.element.dataset['testid'] = 'mose-chart';
  const frame = sectionFrame(model, 'MoSE gate', 'mose-section', {
    name: 'mose-gate',
    png: () => chart.pngBase64(currentPalette()),
    csv: () => toCsv(rows()),
    json: () => rows(),
  });
  frame.body.append(chart.element);
  return {
    element: frame.element,
    update(p) {
      const r = model.result;
      const gate = r?.intervention.moseGate ?? null;
      frame.element.hidden = r === null || gate === null;
      if (r === null || gate === null) return;
      const eps = r.model.metadata.architecture.moseEps;
      frame.note.textContent = `λ weights the visual expert against the non-visual one per layer${eps === null ? '' : `; training kept it near balance (0.5 ± ${formatNumber(eps)})`}.`;
      const band = (v: number) => gate.map(() => v);
      chart.set({
        type: 'bar',
        data: {
          labels: gate.map((_, l) => `layer ${l}`),
          datasets: [
            ...(eps === null
              ? []
              : [0.5 - eps, 0.5 + eps].map((v, i) => ({
                  type: 'line' as const,
                  label: i === 0 ? `balance band 0.5 ± ${formatNumber(eps)}` : '',
                  data: band(v),
                  borderColor: p.threshold,
                  borderDash: [5, 4],
                  borderWidth: 1.5,
                  pointRadius: 0,
                }))),
            {
              type: 'bar' as const,
              label: 'λ with intervention',
              data: gate,
              backgroundColor: p.visual,
            },
          ],
        },
        options: {
          scales: { y: { min: 0, max: 1 } },
          plugins: {
            legend: {
              position: 'bottom',
              labels: { filter: (item) => item.text !== '' },
            },
          },
        },
      });
    },
  };
}
