// Sweeps as Δ-accuracy-against-off curves per subset over τ (or α) for one checkpoint, each with
// its 95 % interval as a light band: threshold debugging at dataset level — where does
// video-aligned rise without audio-aligned falling? Dash patterns and point styles tell
// overlapping curves apart; a solid line marks 0 (no change). The table keeps the accuracies.
import type { ChartDataset } from 'chart.js';
import { ChartCanvas } from '../kit/chartCanvas';
import { el, replaceChildren } from '../kit/domBuilder';
import { toCsv } from '../../src/shared/csv';
import { sectionFrame } from '../kit/sectionFrame';
import { LINE_DASHES, POINT_STYLES, zeroLinesPlugin } from '../kit/chartMarks';
import { currentPalette, withAlpha, type Palette } from '../kit/theme';
import type { View } from '../kit/view';
import { dynamicSelect } from '../kit/dynamicSelect';
import {
  deltaOf,
  num,
  pct,
  signedPct,
  sweepLabel,
  sweepRows,
  sweptParameter,
} from './evaluationData';
import type { EvaluationModel } from './evaluationModel';

/** A colour per curve: the CA-MER subsets as the Analysis panel colours modalities. */
function seriesColour(p: Palette, name: string, index: number): string {
  const named: Record<string, string> = {
    'video-aligned': p.visual,
    'audio-aligned': p.audio,
    consistent: p.text,
    overall: p.foreground,
  };
  return named[name] ?? [p.threshold, p.flagged, p.mutedForeground][index % 3] ?? p.foreground;
}

/** The checkpoint picker the sweep charts share, and the chosen checkpoint with its sweep. */
export function sweepCheckpointChooser(model: EvaluationModel, testId: string) {
  const picker = dynamicSelect('Checkpoint', testId, (name) =>
    model.choose('chartCheckpoint', name),
  );
  const checkpoint = () => {
    const all = model.summary?.checkpoints ?? [];
    return all.find((c) => c.name === model.choices.chartCheckpoint) ?? all[0] ?? null;
  };
  /** Hides `section` without a sweep; else refreshes the picker and returns what to draw. */
  const current = (section: HTMLElement) => {
    const summary = model.summary;
    const c = checkpoint();
    const parameter = c === null ? null : sweptParameter(c);
    section.hidden = c === null || parameter === null;
    if (summary === null || c === null || parameter === null) return null;
    picker.set(
      summary.checkpoints.map((x) => ({ value: x.name, label: x.name })),
      c.name,
    );
    return { summary, checkpoint: c, parameter };
  };
  return { picker, checkpoint, current };
}

/** The sweep section (hidden when the evaluation has no sweep). */
export function sweepView(model: EvaluationModel): View {
  const chart = new ChartCanvas<'line'>(
    'Δ accuracy against off per subset over the swept AR parameter, with 95 % intervals',
    280,
    'eval-sweep-chart',
  );
  const chooser = sweepCheckpointChooser(model, 'eval-sweep-checkpoint');
  const { picker, checkpoint } = chooser;
  const table = el('div', { class: 'table-scroll' });
  const rows = () => {
    const c = checkpoint();
    return c === null ? [] : sweepRows(c, model.summary?.subsets ?? []);
  };
  const frame = sectionFrame(model, 'AR sweep: Δ accuracy vs off per subset', 'eval-sweep', {
    name: 'sweep',
    png: () => chart.pngBase64(currentPalette()),
    csv: () => toCsv(rows()),
    json: () => rows(),
  });
  frame.body.append(
    el('div', { class: 'controls-row' }, picker.element),
    chart.element,
    el('details', {}, el('summary', {}, 'Sweep values'), table),
  );
  return {
    element: frame.element,
    update(p) {
      const shown = chooser.current(frame.element);
      if (shown === null) return;
      const { summary, checkpoint: c, parameter } = shown;
      const points = c.settings.filter((s) => s.sweep !== null);
      const series = [...summary.subsets, 'overall'];
      const accuracy = (s: (typeof points)[number], name: string) =>
        num(name === 'overall' ? s.overall.accuracy : s.bySubset[name]?.accuracy);
      const deltas = series.map((name) => points.map((s) => deltaOf(s, name)));
      // The curves first (dataset i = series i), then each one's interval as a light band: a
      // lower edge and an upper edge filled down to it.
      const curves: ChartDataset<'line'>[] = series.map((name, i) => {
        const colour = seriesColour(p, name, i);
        return {
          label: `${name} Δ`,
          data: (deltas[i] ?? []).map((d) => num(d?.delta)),
          borderColor: colour,
          backgroundColor: colour,
          borderWidth: p.highContrast ? 3 : 2,
          borderDash: LINE_DASHES[i % LINE_DASHES.length] ?? [],
          pointStyle: POINT_STYLES[i % POINT_STYLES.length] ?? 'circle',
          pointRadius: 4,
          tension: 0,
        };
      });
      const bands: ChartDataset<'line'>[] = series.flatMap((name, i) => {
        const fill = withAlpha(seriesColour(p, name, i), p.highContrast ? 0.2 : 0.12);
        const edge = (which: 'ciLow' | 'ciHigh'): ChartDataset<'line'> => ({
          label: `${name} 95 % ${which === 'ciLow' ? 'low' : 'high'}`,
          data: (deltas[i] ?? []).map((d) => num(d?.[which])),
          borderWidth: 0,
          borderColor: fill,
          backgroundColor: fill,
          pointRadius: 0,
          pointHitRadius: 0,
          tension: 0,
          fill: which === 'ciLow' ? false : '-1',
        });
        return [edge('ciLow'), edge('ciHigh')];
      });
      const isCurve = (index: number) => index < series.length;
      chart.element.dataset['points'] = String(points.length);
      chart.element.dataset['parameter'] = parameter;
      chart.element.dataset['series'] = JSON.stringify(
        curves.map((d) => ({ label: d.label, data: d.data })),
      );
      chart.set({
        type: 'line',
        data: { labels: points.map(sweepLabel), datasets: [...curves, ...bands] },
        options: {
          scales: {
            x: { title: { display: true, text: parameter === 'tau' ? 'τ (every layer)' : 'α' } },
            y: {
              suggestedMin: -1,
              suggestedMax: 1,
              title: { display: true, text: 'Δ accuracy vs off (points)' },
            },
          },
          plugins: {
            legend: {
              position: 'bottom',
              labels: { usePointStyle: true, filter: (item) => isCurve(item.datasetIndex ?? 0) },
            },
            tooltip: {
              filter: (item) => isCurve(item.datasetIndex),
              callbacks: {
                label: (item) => {
                  const d = deltas[item.datasetIndex]?.[item.dataIndex];
                  const name = series[item.datasetIndex] ?? '';
                  return `${name}: Δ ${signedPct(d?.delta)} [${signedPct(d?.ciLow)}, ${signedPct(d?.ciHigh)}]${d?.coversZero === true ? ' n.s.' : ''}`;
                },
              },
            },
          },
        },
        plugins: [zeroLinesPlugin({ x: false, y: true }, () => currentPalette().foreground)],
      });
      frame.note.textContent = `${c.name}: AR with one ${parameter === 'tau' ? 'τ on every layer' : 'α'} per point, other controls at the checkpoint's defaults. Δ accuracy against off (the solid line at 0); bands: 95 % intervals per setting, uncorrected for the number of settings.`;
      const header = el(
        'tr',
        {},
        el('th', { scope: 'col', class: 'text' }, parameter === 'tau' ? 'τ' : 'α'),
        ...series.map((s) => el('th', { scope: 'col' }, s)),
      );
      const body = points.map((s) =>
        el(
          'tr',
          { 'data-setting': s.id },
          el('th', { scope: 'row', class: 'text' }, sweepLabel(s)),
          ...series.map((name) => el('td', {}, pct(accuracy(s, name)))),
        ),
      );
      replaceChildren(
        table,
        el(
          'table',
          { class: 'data-table compact', 'data-testid': 'eval-sweep-table' },
          el('thead', {}, header),
          el('tbody', {}, ...body),
        ),
      );
    },
  };
}
