// The sweep's trade-off plot, shown first because it answers the paper's central claim ("no
// trade-off"): for each sweep setting of one checkpoint, Δ video-aligned accuracy against off (x)
// and Δ audio-aligned (y), with Δ consistent as a second series on the same y axis, each point
// with its 95 % intervals on both axes, connected in parameter order. Quadrant lines mark 0.
import type { ChartDataset } from 'chart.js';
import { ChartCanvas } from '../kit/chartCanvas';
import { LINE_DASHES, POINT_STYLES, whiskersPlugin, zeroLinesPlugin } from '../kit/chartMarks';
import type { PointInterval } from '../kit/chartMarks';
import { el } from '../kit/domBuilder';
import { sectionFrame } from '../kit/sectionFrame';
import { currentPalette } from '../kit/theme';
import type { View } from '../kit/view';
import { toCsv } from '../../src/shared/csv';
import type { CheckpointEvaluation, PairedDelta } from '../../src/protocol/evaluationSummary';
import { deltaOf, num, signedPct, sweepLabel } from './evaluationData';
import { sweepCheckpointChooser } from './sweepView';
import type { EvaluationModel } from './evaluationModel';

/** The subset on the x axis and those plotted against it on y, in series order. */
const X_SUBSET = 'video-aligned';
const Y_SUBSETS = ['audio-aligned', 'consistent'] as const;

export const TRADEOFF_CAPTION =
  'Up and right of 0 on both axes = no trade-off; intervals per setting, uncorrected.';

/** One point per sweep setting: its Δs against off per subset (null where missing). */
interface TradeoffPoint {
  setting: string;
  label: string;
  tau?: number;
  alpha?: number;
  x: PairedDelta | null;
  y: Record<(typeof Y_SUBSETS)[number], PairedDelta | null>;
}

function tradeoffPoints(c: CheckpointEvaluation): TradeoffPoint[] {
  return c.settings
    .filter((s) => s.sweep !== null)
    .map((s) => ({
      setting: s.id,
      label: sweepLabel(s),
      ...(s.sweep?.tau === undefined ? {} : { tau: s.sweep.tau }),
      ...(s.sweep?.alpha === undefined ? {} : { alpha: s.sweep.alpha }),
      x: deltaOf(s, X_SUBSET),
      y: { 'audio-aligned': deltaOf(s, 'audio-aligned'), consistent: deltaOf(s, 'consistent') },
    }));
}

/** The CSV/JSON rows: one per sweep setting, Δ and interval per subset. */
function tradeoffRows(c: CheckpointEvaluation): Record<string, string | number>[] {
  return tradeoffPoints(c).map((pt) => {
    const row: Record<string, string | number> = { checkpoint: c.name, setting: pt.setting };
    if (pt.tau !== undefined) row['tau'] = pt.tau;
    if (pt.alpha !== undefined) row['alpha'] = pt.alpha;
    const put = (name: string, d: PairedDelta | null) => {
      row[`${name}:delta`] = num(d?.delta);
      row[`${name}:ciLow`] = num(d?.ciLow);
      row[`${name}:ciHigh`] = num(d?.ciHigh);
    };
    put(X_SUBSET, pt.x);
    for (const name of Y_SUBSETS) put(name, pt.y[name]);
    return row;
  });
}

/** Why the plot cannot be drawn for a checkpoint, or null when it can. */
function missing(subsets: readonly string[], points: readonly TradeoffPoint[]): string | null {
  const lacking = [X_SUBSET, ...Y_SUBSETS].filter((s) => !subsets.includes(s));
  if (lacking.length > 0) {
    return `No trade-off plot: the manifest has no ${lacking.join(', ')} subset (the CA-MER subsets are needed).`;
  }
  if (points.some((pt) => pt.x === null)) {
    return 'No trade-off plot: this summary carries no Δ against off (written by an older version; evaluate again).';
  }
  return null;
}

/** The trade-off section (hidden when the evaluation has no sweep). */
export function tradeoffView(model: EvaluationModel): View {
  const chart = new ChartCanvas<'line'>(
    'Trade-off: Δ audio-aligned and Δ consistent accuracy against Δ video-aligned, one point per sweep setting',
    320,
    'eval-tradeoff-chart',
  );
  const chooser = sweepCheckpointChooser(model, 'eval-tradeoff-checkpoint');
  const { picker, checkpoint } = chooser;
  const absent = el('p', { class: 'note', 'data-testid': 'eval-tradeoff-missing' });
  const caption = el('p', { class: 'caption', 'data-testid': 'eval-tradeoff-caption' });
  caption.textContent = TRADEOFF_CAPTION;
  const rows = () => {
    const c = checkpoint();
    return c === null ? [] : tradeoffRows(c);
  };
  const frame = sectionFrame(model, 'Trade-off across the sweep', 'eval-tradeoff', {
    name: 'tradeoff',
    png: () => chart.pngBase64(currentPalette()),
    csv: () => toCsv(rows()),
    json: () => rows(),
  });
  frame.body.append(
    el('div', { class: 'controls-row' }, picker.element),
    absent,
    chart.element,
    caption,
  );
  let intervals = new Map<number, PointInterval[]>();
  const marks = [
    zeroLinesPlugin<'line'>({ x: true, y: true }, () => currentPalette().foreground),
    whiskersPlugin<'line'>(() => intervals),
  ];
  return {
    element: frame.element,
    update(p) {
      const shown = chooser.current(frame.element);
      if (shown === null) return;
      const { summary, checkpoint: c, parameter } = shown;
      const points = tradeoffPoints(c);
      const why = missing(summary.subsets, points);
      absent.hidden = why === null;
      absent.textContent = why ?? '';
      chart.element.hidden = why !== null;
      caption.hidden = why !== null;
      frame.note.textContent = `${c.name}: one point per ${parameter === 'tau' ? 'τ' : 'α'} of the sweep (hover for its value), joined in ${parameter === 'tau' ? 'τ' : 'α'} order; whiskers: 95 % paired-bootstrap intervals.`;
      chart.element.dataset['points'] = String(why === null ? points.length : 0);
      chart.element.dataset['parameter'] = parameter;
      if (why !== null) return;
      const colours = { 'audio-aligned': p.audio, consistent: p.text };
      const datasets: ChartDataset<'line'>[] = Y_SUBSETS.map((name, i) => ({
        label: `Δ ${name}`,
        data: points.map((pt) => ({ x: num(pt.x?.delta), y: num(pt.y[name]?.delta) })),
        borderColor: colours[name],
        backgroundColor: colours[name],
        borderWidth: p.highContrast ? 3 : 2,
        borderDash: LINE_DASHES[i] ?? [],
        pointStyle: POINT_STYLES[i] ?? 'circle',
        pointRadius: 5,
        tension: 0,
      }));
      intervals = new Map(
        Y_SUBSETS.map((name, i) => [
          i,
          points.map((pt) => ({
            xLow: num(pt.x?.ciLow),
            xHigh: num(pt.x?.ciHigh),
            yLow: num(pt.y[name]?.ciLow),
            yHigh: num(pt.y[name]?.ciHigh),
          })),
        ]),
      );
      chart.element.dataset['series'] = JSON.stringify(
        datasets.map((d) => ({ label: d.label, data: d.data })),
      );
      // Both axes reach past every interval and include 0, so the quadrant lines always show.
      const extent = (values: number[]) => {
        const finite = values.filter(Number.isFinite);
        return { min: Math.min(0, ...finite), max: Math.max(0, ...finite) };
      };
      const xs = extent(points.flatMap((pt) => [num(pt.x?.ciLow), num(pt.x?.ciHigh)]));
      const ys = extent(
        points.flatMap((pt) =>
          Y_SUBSETS.flatMap((n) => [num(pt.y[n]?.ciLow), num(pt.y[n]?.ciHigh)]),
        ),
      );
      const pad = (r: { min: number; max: number }) => {
        const m = Math.max(1, (r.max - r.min) * 0.05);
        return { suggestedMin: r.min - m, suggestedMax: r.max + m };
      };
      const symbol = parameter === 'tau' ? 'τ' : 'α';
      chart.set({
        type: 'line',
        data: { datasets },
        options: {
          scales: {
            x: {
              type: 'linear',
              ...pad(xs),
              title: { display: true, text: 'Δ video-aligned accuracy vs off (points)' },
            },
            y: {
              ...pad(ys),
              title: { display: true, text: 'Δ audio-aligned / Δ consistent (points)' },
            },
          },
          plugins: {
            legend: { position: 'bottom', labels: { usePointStyle: true } },
            tooltip: {
              callbacks: {
                title: (items) => {
                  const pt = points[items[0]?.dataIndex ?? -1];
                  return pt === undefined ? '' : `${symbol} ${pt.label}`;
                },
                label: (item) => {
                  const pt = points[item.dataIndex];
                  const name = Y_SUBSETS[item.datasetIndex] ?? 'audio-aligned';
                  const d = pt?.y[name];
                  const x = pt?.x;
                  return `Δ video-aligned ${signedPct(x?.delta)} [${signedPct(x?.ciLow)}, ${signedPct(x?.ciHigh)}]; Δ ${name} ${signedPct(d?.delta)} [${signedPct(d?.ciLow)}, ${signedPct(d?.ciHigh)}]`;
                },
              },
            },
          },
        },
        plugins: marks,
      });
    },
  };
}
