// Threshold debugging: per layer the layer statistic against its τ, per head its statistic
// against (1 + margin) × layer mean — why each head was or was not flagged, and how far each
// value is from flipping.
import type { ChartDataset, ChartOptions } from 'chart.js';
import type { LayerDecision } from '../../src/protocol/analysisResult';
import { RATIO_KIND_NAMES } from '../../src/protocol/contract';
import { canvasPngBase64, ChartCanvas } from '../kit/chartCanvas';
import { el, formatNumber, replaceChildren } from '../kit/domBuilder';
import type { PanelModel } from './panelModel';
import { toCsv } from '../../src/shared/csv';
import { tauRangeOf } from './panelData';
import { sectionFrame } from '../kit/sectionFrame';
import { currentPalette, withAlpha, type Palette } from '../kit/theme';
import type { View } from '../kit/view';

type Mixed = 'bar' | 'line';

/** A threshold drawn as a short horizontal tick over each bar. */
function thresholdTicks(p: Palette, label: string, values: number[]): ChartDataset<Mixed> {
  return {
    type: 'line',
    label,
    data: values,
    showLine: false,
    pointStyle: 'line',
    pointRadius: 18,
    pointHoverRadius: 18,
    pointBorderWidth: 3,
    borderColor: p.threshold,
    backgroundColor: p.threshold,
  };
}

/** Options of both charts: the y scale, a legend, and a tooltip footer per bar. */
function barOptions(
  yScale: NonNullable<ChartOptions<Mixed>['scales']>['y'],
  footer: (index: number) => string | string[],
): ChartOptions<Mixed> {
  return {
    scales: { y: yScale },
    plugins: {
      legend: { position: 'bottom' },
      tooltip: { callbacks: { footer: (items) => footer(items[0]?.dataIndex ?? -1) } },
    },
  };
}

/** Rows behind both charts: one per head with its layer's numbers. */
function thresholdRows(decisions: readonly LayerDecision[]): Record<string, unknown>[] {
  return decisions.flatMap((d) =>
    d.headStatistics.map((s, h) => ({
      layer: d.layer,
      head: h,
      layerEnabled: d.enabled,
      layerStatistic: d.statistic,
      tau: d.tau,
      layerMinusTau: d.statistic - d.tau,
      triggered: d.triggered,
      headStatistic: s,
      headMean: d.headMean,
      headThreshold: d.headThreshold,
      headMinusThreshold: s - d.headThreshold,
      flagged: d.flags[h],
      reason: d.reasons[h],
    })),
  );
}

/** The threshold-debugging section. */
export function thresholdView(model: PanelModel): View {
  const decisions = (): LayerDecision[] => model.shown()?.decisions ?? [];
  const layerChart = new ChartCanvas<Mixed>('Layer statistic against τ per layer', 200);
  const headChart = new ChartCanvas<Mixed>(
    'Head statistic against (1 + margin) × layer mean per head',
    240,
  );
  layerChart.element.dataset['testid'] = 'threshold-layers';
  headChart.element.dataset['testid'] = 'threshold-heads';
  const frame = sectionFrame(model, 'Threshold debugging', 'threshold-section', {
    name: 'thresholds',
    png: () => {
      // One image with both charts stacked.
      const p = currentPalette();
      const a = layerChart.canvas;
      const b = headChart.canvas;
      const out = document.createElement('canvas');
      out.width = Math.max(a.width, b.width);
      out.height = a.height + b.height;
      const ctx = out.getContext('2d');
      ctx?.drawImage(a, 0, 0);
      ctx?.drawImage(b, 0, a.height);
      return canvasPngBase64(out, p);
    },
    csv: () => toCsv(thresholdRows(decisions())),
    json: () => decisions(),
  });
  const table = el('table', { class: 'data-table compact', 'data-testid': 'threshold-table' });
  frame.body.append(
    el('h3', {}, 'Layers: statistic vs τ'),
    layerChart.element,
    el('h3', {}, 'Heads: sₕ vs (1 + margin) × layer mean'),
    headChart.element,
    el('div', { class: 'table-scroll' }, table),
  );

  return {
    element: frame.element,
    update(p) {
      const r = model.result;
      const shown = model.shown();
      const controls = model.controls;
      if (r === null || shown === null || controls === null) return;
      const ds = shown.decisions;
      const log = tauRangeOf(r, controls.ratioKind).scale === 'log';
      const kind = RATIO_KIND_NAMES[controls.ratioKind];
      frame.note.textContent = `Statistic: ${kind}${shown.preview ? ' — preview of the edited controls on this result’s masses (exact for the first layer acted on; later layers compound)' : ''}. A layer qualifies when its bar passes τ; inside it, a head is flagged when its bar passes its layer’s tick.`;
      const muted = withAlpha(p.mutedForeground, 0.45);
      // Log axes label the powers of ten only (chart.js would print every minor tick in full).
      const yScale = log
        ? {
            type: 'logarithmic' as const,
            ticks: {
              callback: (value: string | number) => {
                const v = Number(value);
                return Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9
                  ? formatNumber(v, 1)
                  : '';
              },
            },
          }
        : { type: 'linear' as const, min: 0 };
      layerChart.set({
        type: 'bar',
        data: {
          labels: ds.map((d) => `layer ${d.layer}${d.enabled ? '' : ' (off)'}`),
          datasets: [
            thresholdTicks(
              p,
              'τ',
              ds.map((d) => d.tau),
            ),
            {
              type: 'bar',
              label: 'layer statistic',
              data: ds.map((d) => d.statistic),
              backgroundColor: ds.map((d) =>
                !d.enabled ? muted : d.triggered ? p.flagged : p.visual,
              ),
            },
          ],
        },
        options: barOptions(yScale, (index) => {
          const d = ds[index];
          if (d === undefined) return '';
          const gap = d.statistic - d.tau;
          const when = `τ < ${formatNumber(d.statistic, 4)}`;
          return `statistic − τ = ${gap >= 0 ? '+' : ''}${formatNumber(gap, 4)}: ${d.triggered ? `qualifies while ${when}` : `would qualify with ${when}`}${d.enabled ? '' : ' (layer off)'}`;
        }),
      });
      const heads = ds.flatMap((d) =>
        d.headStatistics.map((s, h) => ({ d, h, s, flagged: shown.flags[d.layer]?.[h] ?? false })),
      );
      headChart.set({
        type: 'bar',
        data: {
          labels: heads.map(({ d, h }) => `L${d.layer} H${h}`),
          datasets: [
            thresholdTicks(
              p,
              '(1 + margin) × mean',
              heads.map(({ d }) => d.headThreshold),
            ),
            {
              type: 'bar',
              label: 'head statistic (red: flagged)',
              data: heads.map(({ s }) => s),
              backgroundColor: heads.map(({ d, flagged }) =>
                flagged ? p.flagged : d.triggered && d.enabled ? p.visual : muted,
              ),
            },
          ],
        },
        options: barOptions(yScale, (index) => {
          const head = heads[index];
          if (head === undefined) return '';
          const gap = head.s - head.d.headThreshold;
          return [
            `sₕ − (1 + m)·mean = ${gap >= 0 ? '+' : ''}${formatNumber(gap, 4)}`,
            `layer ${head.d.triggered ? 'qualifies' : 'does not qualify'} (statistic ${formatNumber(head.d.statistic, 4)} vs τ ${formatNumber(head.d.tau, 4)})`,
            `decision: ${head.d.reasons[head.h] ?? ''}`,
          ];
        }),
      });
      replaceChildren(
        table,
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...['Layer', 'Statistic', 'τ', 'Statistic − τ', 'Qualifies', 'Flagged heads'].map((t) =>
              el('th', { scope: 'col' }, t),
            ),
          ),
        ),
        el(
          'tbody',
          {},
          ...ds.map((d) =>
            el(
              'tr',
              {},
              el('td', {}, `${d.layer}${d.enabled ? '' : ' (off)'}`),
              el('td', {}, formatNumber(d.statistic, 4)),
              el('td', {}, formatNumber(d.tau, 4)),
              el(
                'td',
                {},
                `${d.statistic >= d.tau ? '+' : ''}${formatNumber(d.statistic - d.tau, 3)}`,
              ),
              el('td', {}, d.triggered ? 'yes' : 'no'),
              el('td', {}, String(d.flags.filter(Boolean).length)),
            ),
          ),
        ),
      );
    },
  };
}
