// Threshold debugging: per layer the layer statistic against its τ (every layer, short labels),
// the selected head's layer's heads against (1 + margin) × layer mean with that head outlined —
// why each head was or was not flagged, the τ (and margin) at which each would flip, and the
// clip's flags-vs-τ curve. With the mode off (or PAI-style) no
// head is flagged: the view speaks of what AR's rule *would* flag, drawn outlined, not filled.
import type { ChartDataset, ChartOptions } from 'chart.js';
import type { LayerDecision } from '../../src/protocol/analysisResult';
import { RATIO_KIND_NAMES } from '../../src/protocol/contract';
import { canvasPngBase64, ChartCanvas } from '../kit/chartCanvas';
import { el, formatNumber, replaceChildren } from '../kit/domBuilder';
import type { PanelModel } from './panelModel';
import { toCsv } from '../../src/shared/csv';
import { flagsAcrossTau, flipPoints, reasonText, tauRangeOf } from './panelData';
import { checkboxControl, selectControl } from '../kit/formControls';
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

/** How a bar is drawn: filled, or outlined over a faint fill (a hypothetical flag). */
interface BarStyle {
  fill: string;
  edge?: string;
}

/**
 * One bar dataset per category (so each has its own legend entry), each holding only its bars;
 * `grouped: false` keeps every bar centred on its label.
 */
function categoryBars<K extends string>(
  values: readonly number[],
  categories: readonly K[],
  styles: Record<K, { label: string; style: BarStyle }>,
): ChartDataset<Mixed>[] {
  return (Object.keys(styles) as K[])
    .filter((k) => categories.includes(k))
    .map((k) => ({
      type: 'bar' as const,
      label: styles[k].label,
      data: values.map((v, i) => (categories[i] === k ? v : null)),
      grouped: false,
      backgroundColor: styles[k].style.fill,
      borderColor: styles[k].style.edge ?? styles[k].style.fill,
      borderWidth: styles[k].style.edge === undefined ? 0 : 2,
    }));
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

/**
 * Rows behind both charts: one per head with its layer's numbers. `flagged` is what the model's
 * mode flags; `wouldFlag` what AR's rule selects with these τ and margin, whatever the mode.
 */
function thresholdRows(
  decisions: readonly LayerDecision[],
  flags: readonly (readonly boolean[])[],
): Record<string, unknown>[] {
  return decisions.flatMap((d) =>
    d.headStatistics.map((s, h) => {
      const flip = flipPoints(d, h);
      return {
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
        flagged: flags[d.layer]?.[h] ?? false,
        wouldFlag: d.flags[h],
        reason: d.reasons[h],
        layerFlipTau: flip.layerTau,
        headFlipTau: flip.headTau,
        headFlipMargin: flip.headMargin,
      };
    }),
  );
}

/** What a flag is called in the view: real under AR, hypothetical otherwise. */
function flagWords(mode: number): { real: boolean; flagged: string; qualifies: string } {
  if (mode === 1) return { real: true, flagged: 'flagged', qualifies: 'qualifies' };
  const why = mode === 0 ? 'mode off' : 'PAI-style: AR’s rule not applied';
  return { real: false, flagged: `would be flagged (${why})`, qualifies: `would qualify (${why})` };
}

/**
 * The bar charts' y scale; a log axis labels the powers of ten only (chart.js would print every
 * minor tick in full).
 */
function yScaleOf(log: boolean) {
  return log
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
}

/** The threshold-debugging section. */
export function thresholdView(model: PanelModel): View {
  const decisions = (): LayerDecision[] => model.shown()?.decisions ?? [];
  const layerChart = new ChartCanvas<Mixed>('Layer statistic against τ per layer', 200);
  const headChart = new ChartCanvas<Mixed>(
    'Head statistic against (1 + margin) × layer mean per head of the selected layer',
    240,
  );
  const curveChart = new ChartCanvas<'line'>(
    'Heads AR’s rule flags on this clip as one τ on every layer varies',
    170,
  );
  layerChart.element.dataset['testid'] = 'threshold-layers';
  headChart.element.dataset['testid'] = 'threshold-heads';
  curveChart.element.dataset['testid'] = 'threshold-tau-curve';
  const logBox = checkboxControl('Log scale', (v) => model.choose('thresholdLogScale', v), {
    'data-testid': 'threshold-log',
  });
  const modeNote = el('p', { class: 'note threshold-mode', 'data-testid': 'threshold-mode' });
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
    csv: () => toCsv(thresholdRows(decisions(), model.shown()?.flags ?? [])),
    json: () => decisions(),
  });
  const table = el('table', { class: 'data-table compact', 'data-testid': 'threshold-table' });
  const headsTitle = el('h3', {});
  // The head chart's layer is the selected head's; picking another layer inspects its head.
  const layerPick = selectControl(
    'Heads of layer',
    [],
    (v) => {
      const sel = model.choices.selectedHead;
      model.inspectHead(Number(v), sel?.head ?? 0);
    },
    { 'data-testid': 'threshold-layer' },
  );
  let builtLayers = -1;
  frame.body.append(
    modeNote,
    el('div', { class: 'controls-row' }, logBox.element, layerPick.element),
    el('h3', {}, 'Layers: statistic vs τ'),
    layerChart.element,
    headsTitle,
    headChart.element,
    el('h3', {}, 'Flagged heads vs τ (this clip)'),
    curveChart.element,
    el('div', { class: 'table-scroll' }, table),
  );

  /** The selected head's layer's heads against their tick, that head outlined. */
  const drawHeads = (p: Palette): void => {
    const r = model.result;
    const shown = model.shown();
    const controls = model.controls;
    if (r === null || shown === null || controls === null) return;
    const ds = shown.decisions;
    const L = ds.length;
    const log =
      model.choices.thresholdLogScale ?? tauRangeOf(r, controls.ratioKind).scale === 'log';
    const yScale = yScaleOf(log);
    const words = flagWords(controls.mode);
    const muted = withAlpha(p.mutedForeground, 0.45);
    const wouldFill = withAlpha(p.flagged, 0.12);
    const sel = model.choices.selectedHead;
    const layer = sel !== null && sel.layer < L ? sel.layer : 0;
    layerPick.set(String(layer));
    headsTitle.textContent = `Heads of layer ${layer}: sₕ vs (1 + margin) × layer mean${sel === null ? '' : ` (head ${sel.head} outlined)`}`;
    headChart.element.dataset['layer'] = String(layer);
    headChart.element.dataset['selectedHead'] = sel === null ? '' : `${sel.layer}:${sel.head}`;
    const heads = ds
      .filter((d) => d.layer === layer)
      .flatMap((d) =>
        d.headStatistics.map((s, h) => ({
          d,
          h,
          s,
          flagged: shown.flags[d.layer]?.[h] ?? false,
        })),
      );
    const selectedIndex = heads.findIndex(({ d, h }) => d.layer === sel?.layer && h === sel.head);
    headChart.set({
      type: 'bar',
      data: {
        labels: heads.map(({ h }) => `H${h}`),
        datasets: [
          ...(selectedIndex < 0
            ? []
            : [
                {
                  type: 'bar' as const,
                  label: 'selected head',
                  data: heads.map(({ s }, i) => (i === selectedIndex ? s : null)),
                  grouped: false,
                  backgroundColor: 'transparent',
                  borderColor: p.foreground,
                  borderWidth: 3,
                  // Drawn last, over the head's own bar.
                  order: -1,
                },
              ]),
          thresholdTicks(
            p,
            '(1 + margin) × mean',
            heads.map(({ d }) => d.headThreshold),
          ),
          ...categoryBars(
            heads.map(({ s }) => s),
            heads.map(({ d, h, flagged }) =>
              flagged && words.real
                ? 'hit'
                : !words.real && d.flags[h]
                  ? 'would'
                  : d.triggered && d.enabled
                    ? 'miss'
                    : 'off',
            ),
            {
              hit: { label: 'head flagged', style: { fill: p.flagged } },
              would: {
                label: `head ${words.flagged}`,
                style: { fill: wouldFill, edge: p.flagged },
              },
              miss: { label: 'head below its tick', style: { fill: p.visual } },
              off: { label: 'layer below τ or not enabled', style: { fill: muted } },
            },
          ),
        ],
      },
      options: barOptions(yScale, (index) => {
        const head = heads[index];
        if (head === undefined) return '';
        const gap = head.s - head.d.headThreshold;
        const flip = flipPoints(head.d, head.h);
        return [
          `sₕ − (1 + m)·mean = ${gap >= 0 ? '+' : ''}${formatNumber(gap, 4)}`,
          `layer ${head.d.triggered ? words.qualifies : 'does not qualify'} (statistic ${formatNumber(head.d.statistic, 4)} vs τ ${formatNumber(head.d.tau, 4)})`,
          flip.headTau === null
            ? `no τ flags it (passes its tick for margins below ${formatNumber(flip.headMargin, 3)})`
            : `${words.real ? 'flagged' : 'would be flagged'} for τ < ${formatNumber(flip.headTau, 4)}`,
          `decision: ${reasonText(head.d.reasons[head.h], words.real)}`,
        ];
      }),
    });
  };

  return {
    element: frame.element,
    update(p) {
      const r = model.result;
      const shown = model.shown();
      const controls = model.controls;
      if (r === null || shown === null || controls === null) return;
      const ds = shown.decisions;
      const L = ds.length;
      if (builtLayers !== L) {
        builtLayers = L;
        replaceChildren(
          layerPick.select,
          ...ds.map((d) => el('vscode-option', { value: d.layer }, `layer ${d.layer}`)),
        );
      }
      layerChart.element.dataset['layers'] = String(L);
      const range = tauRangeOf(r, controls.ratioKind);
      const log = model.choices.thresholdLogScale ?? range.scale === 'log';
      logBox.set(log);
      const kind = RATIO_KIND_NAMES[controls.ratioKind];
      const words = flagWords(controls.mode);
      frame.element.dataset['flags'] = words.real ? 'real' : 'hypothetical';
      modeNote.hidden = words.real;
      modeNote.textContent = words.real
        ? ''
        : controls.mode === 0
          ? 'The mode is off: no head is flagged and the model runs unchanged. The outlined bars and the table show what AR’s rule would flag with these τ and margin.'
          : 'PAI-style boosts every enabled layer’s heads; AR’s rule selects nothing. The outlined bars and the table show what it would flag under AR.';
      frame.note.textContent = `Statistic: ${kind}${shown.preview ? ' — preview of the edited controls on this result’s masses (exact for the first layer acted on; later layers compound)' : ''}. A layer ${words.real ? 'qualifies' : 'would qualify'} when its bar passes τ; inside it, a head ${words.real ? 'is flagged' : 'would be flagged'} when its bar passes its layer’s tick. Each bar’s tooltip and the table give the τ at which it flips.`;
      const muted = withAlpha(p.mutedForeground, 0.45);
      const wouldFill = withAlpha(p.flagged, 0.12);
      const yScale = yScaleOf(log);
      layerChart.set({
        type: 'bar',
        data: {
          // Short labels so 32 layers stay readable; the tooltip's title says more.
          labels: ds.map((d) =>
            L > 8 ? `L${d.layer}` : `layer ${d.layer}${d.enabled ? '' : ' (not enabled)'}`,
          ),
          datasets: [
            thresholdTicks(
              p,
              'τ',
              ds.map((d) => d.tau),
            ),
            ...categoryBars(
              ds.map((d) => d.statistic),
              ds.map((d) => (!d.enabled ? 'off' : d.triggered ? 'hit' : 'miss')),
              {
                hit: {
                  label: `layer ${words.qualifies}`,
                  style: words.real ? { fill: p.flagged } : { fill: wouldFill, edge: p.flagged },
                },
                miss: { label: 'layer below τ', style: { fill: p.visual } },
                off: { label: 'layer not enabled', style: { fill: muted } },
              },
            ),
          ],
        },
        options: barOptions(yScale, (index) => {
          const d = ds[index];
          if (d === undefined) return '';
          const gap = d.statistic - d.tau;
          const when = `τ < ${formatNumber(d.statistic, 4)}`;
          return [
            `statistic − τ = ${gap >= 0 ? '+' : ''}${formatNumber(gap, 4)}: ${d.triggered ? `${words.qualifies} while ${when}` : `would qualify with ${when}`}${d.enabled ? '' : ' (layer not enabled)'}`,
            `flips at τ = ${formatNumber(d.statistic, 4)}`,
          ];
        }),
      });
      drawHeads(p);
      const curve = flagsAcrossTau(r, controls, range);
      curveChart.element.dataset['curve'] = JSON.stringify(curve);
      const current = ds.reduce((n, d) => n + d.flags.filter(Boolean).length, 0);
      curveChart.set({
        type: 'line',
        data: {
          datasets: [
            {
              label: words.real ? 'flagged heads' : 'heads AR would flag',
              data: curve.map((c) => ({ x: c.tau, y: c.flagged })),
              borderColor: p.flagged,
              backgroundColor: p.flagged,
              pointRadius: 2,
              stepped: 'after',
            },
            ...(controls.tau.every((t) => t === controls.tau[0])
              ? [
                  {
                    label: 'current τ',
                    data: [{ x: controls.tau[0] ?? 0, y: current }],
                    borderColor: p.threshold,
                    backgroundColor: p.threshold,
                    pointRadius: 5,
                    showLine: false,
                  },
                ]
              : []),
          ],
        },
        options: {
          scales: {
            x: {
              type: range.scale === 'log' ? 'logarithmic' : 'linear',
              title: { display: true, text: `τ (${kind}, the checkpoint’s sweep range)` },
            },
            y: { type: 'linear', min: 0, title: { display: true, text: 'heads' } },
          },
          plugins: { legend: { position: 'bottom' } },
        },
      });
      replaceChildren(
        table,
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...[
              'Layer',
              'Statistic',
              'τ',
              'Statistic − τ',
              'Flips at τ',
              words.real ? 'Qualifies' : 'Would qualify',
              words.real ? 'Flagged heads' : 'Would flag (heads)',
            ].map((t) => el('th', { scope: 'col' }, t)),
          ),
        ),
        el(
          'tbody',
          {},
          ...ds.map((d) =>
            el(
              'tr',
              {},
              el('td', {}, `${d.layer}${d.enabled ? '' : ' (not enabled)'}`),
              el('td', {}, formatNumber(d.statistic, 4)),
              el('td', {}, formatNumber(d.tau, 4)),
              el(
                'td',
                {},
                `${d.statistic >= d.tau ? '+' : ''}${formatNumber(d.statistic - d.tau, 3)}`,
              ),
              el('td', {}, formatNumber(d.statistic, 4)),
              el('td', {}, d.triggered ? (words.real ? 'yes' : 'would') : 'no'),
              el(
                'td',
                {},
                words.real
                  ? String(d.flags.filter(Boolean).length)
                  : `would flag ${d.flags.filter(Boolean).length}`,
              ),
            ),
          ),
        ),
      );
    },
    // A new selection changes the heads chart only (its layer, and which head is outlined).
    select(p) {
      drawHeads(p);
    },
  };
}
