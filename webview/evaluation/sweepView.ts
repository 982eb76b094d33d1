// Sweeps as accuracy-per-subset curves over τ (or α) for one checkpoint: threshold debugging at
// dataset level — where does video-aligned rise without audio-aligned falling? Dashed lines
// mark each subset's accuracy without intervention.
import type { ChartDataset } from 'chart.js';
import { ChartCanvas } from '../kit/chartCanvas';
import { el, replaceChildren } from '../kit/domBuilder';
import { toCsv } from '../../src/shared/csv';
import { sectionFrame } from '../kit/sectionFrame';
import { currentPalette, type Palette } from '../kit/theme';
import type { View } from '../kit/view';
import { dynamicSelect } from '../kit/dynamicSelect';
import { num, pct, sweepLabel, sweepRows, sweptParameter } from './evaluationData';
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

/** The sweep section (hidden when the evaluation has no sweep). */
export function sweepView(model: EvaluationModel): View {
  const chart = new ChartCanvas<'line'>(
    'Accuracy per subset over the swept AR parameter',
    280,
    'eval-sweep-chart',
  );
  const picker = dynamicSelect('Checkpoint', 'eval-sweep-checkpoint', (name) =>
    model.choose('chartCheckpoint', name),
  );
  const table = el('div', { class: 'table-scroll' });
  const checkpoint = () => {
    const all = model.summary?.checkpoints ?? [];
    return all.find((c) => c.name === model.choices.chartCheckpoint) ?? all[0] ?? null;
  };
  const rows = () => {
    const c = checkpoint();
    return c === null ? [] : sweepRows(c, model.summary?.subsets ?? []);
  };
  const frame = sectionFrame(model, 'AR sweep: accuracy per subset', 'eval-sweep', {
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
      const summary = model.summary;
      const c = checkpoint();
      const parameter = c === null ? null : sweptParameter(c);
      frame.element.hidden = c === null || parameter === null;
      if (summary === null || c === null || parameter === null) return;
      picker.set(
        summary.checkpoints.map((x) => ({ value: x.name, label: x.name })),
        c.name,
      );
      const points = c.settings.filter((s) => s.sweep !== null);
      const off = c.settings.find((s) => s.id === 'off');
      const series = [...summary.subsets, 'overall'];
      const accuracy = (s: (typeof points)[number], name: string) =>
        num(name === 'overall' ? s.overall.accuracy : s.bySubset[name]?.accuracy);
      const datasets: ChartDataset<'line'>[] = series.flatMap((name, i) => {
        const colour = seriesColour(p, name, i);
        const curve: ChartDataset<'line'> = {
          label: name,
          data: points.map((s) => accuracy(s, name)),
          borderColor: colour,
          backgroundColor: colour,
          borderWidth: p.highContrast ? 3 : 2,
          pointRadius: 3,
          tension: 0,
        };
        if (off === undefined) return [curve];
        const reference: ChartDataset<'line'> = {
          label: `${name} (off)`,
          data: points.map(() => accuracy(off, name)),
          borderColor: colour,
          backgroundColor: colour,
          borderDash: [4, 4],
          borderWidth: 1,
          pointRadius: 0,
        };
        return [curve, reference];
      });
      chart.element.dataset['points'] = String(points.length);
      chart.element.dataset['parameter'] = parameter;
      chart.set({
        type: 'line',
        data: { labels: points.map(sweepLabel), datasets },
        options: {
          scales: {
            x: { title: { display: true, text: parameter === 'tau' ? 'τ (every layer)' : 'α' } },
            y: { min: 0, max: 100, title: { display: true, text: 'accuracy (%)' } },
          },
          plugins: {
            legend: { position: 'bottom' },
            tooltip: {
              callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${pct(item.raw)}%` },
            },
          },
        },
      });
      frame.note.textContent = `${c.name}: AR with one ${parameter === 'tau' ? 'τ on every layer' : 'α'} per point, other controls at the checkpoint's defaults; dashed lines: without intervention.`;
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
