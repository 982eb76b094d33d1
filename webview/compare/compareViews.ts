// The Compare panel's own sections: both predictions, both UAP curves on one chart, the head
// grids' differences, and the per-token attention difference A − B on the frames. Everything
// per subject (controls, grids, tokens, gates) is the Analysis panel's views on SubjectModels.
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { SUBJECT_KEYS, type SubjectKey } from '../../src/protocol/comparisonResult';
import { canvasPngBase64, ChartCanvas } from '../kit/chartCanvas';
import { el, formatNumber, formatPercent, replaceChildren } from '../kit/domBuilder';
import { selectControl } from '../kit/formControls';
import { toCsv } from '../../src/shared/csv';
import { tokenWeights } from '../analysis/panelData';
import { sectionFrame } from '../kit/sectionFrame';
import { currentPalette } from '../kit/theme';
import { drawTokenDifference, fillLayerHeadPickers } from '../analysis/tokenAttentionView';
import type { View } from '../kit/view';
import {
  countDifferences,
  flagDifferences,
  largestDifference,
  tokenDifferences,
  type TokenDifference,
} from './compareData';
import type { SubjectModel } from './subjectModel';

/** The two subjects' models and labels, as the compare views read them. */
export interface CompareViewModel {
  models: Record<SubjectKey, SubjectModel>;
  label(key: SubjectKey): string;
}

const NAMES: Record<SubjectKey, string> = { a: 'A', b: 'B' };

/** Both predictions (with the intervention) and every label's probability side by side. */
export function comparePredictionView(cm: CompareViewModel): View {
  const { a } = cm.models;
  const rows = (): Record<string, unknown>[] => {
    const ra = a.result;
    const rb = cm.models.b.result;
    if (ra === null || rb === null) return [];
    return ra.model.metadata.labels.map((label, i) => ({
      label,
      a: ra.intervention.probabilities[i],
      b: rb.intervention.probabilities[rb.model.metadata.labels.indexOf(label)],
    }));
  };
  const chart = new ChartCanvas<'bar'>('Probability of each label, A and B', 220);
  const frame = sectionFrame(a, 'Predictions', 'compare-prediction-section', {
    name: 'compare-prediction',
    png: () => chart.pngBase64(currentPalette()),
    csv: () => toCsv(rows()),
    json: () => rows(),
  });
  const line = (k: SubjectKey): HTMLElement =>
    el('p', { class: 'compare-prediction', 'data-testid': `compare-prediction-${k}` });
  const lines: Record<SubjectKey, HTMLElement> = { a: line('a'), b: line('b') };
  frame.body.append(lines.a, lines.b, chart.element);
  return {
    element: frame.element,
    update(p) {
      const ra = a.result;
      const rb = cm.models.b.result;
      for (const k of SUBJECT_KEYS) {
        const r = cm.models[k].result;
        if (r === null) continue;
        const pred = r.intervention.prediction;
        const base = r.baseline.prediction;
        lines[k].dataset['label'] = pred.label;
        replaceChildren(
          lines[k],
          `${NAMES[k]} · ${cm.label(k)}: `,
          el('strong', {}, pred.label),
          ` ${formatPercent(pred.probability)}`,
          r.settings.controls.mode === 0
            ? ''
            : ` (without intervention: ${base.label} ${formatPercent(base.probability)})`,
        );
      }
      if (ra === null || rb === null) return;
      const data = rows();
      chart.set({
        type: 'bar',
        data: {
          labels: data.map((r) => String(r['label'])),
          datasets: SUBJECT_KEYS.map((k) => ({
            label: `${NAMES[k]}: ${cm.label(k)}`,
            data: data.map((r) => Number(r[k] ?? NaN)),
            backgroundColor: k === 'a' ? p.visual : p.threshold,
          })),
        },
        options: {
          indexAxis: 'y',
          scales: { x: { min: 0, max: 1, ticks: { callback: (v) => formatPercent(Number(v)) } } },
          plugins: { legend: { position: 'bottom' } },
        },
      });
    },
  };
}

/** Both subjects' UAP curves (after the intervention, A+V-normalised) on one chart. */
export function compareUapView(cm: CompareViewModel): View {
  const { a } = cm.models;
  const rows = (): Record<string, unknown>[] => {
    const layers = Math.max(
      ...SUBJECT_KEYS.map((k) => cm.models[k].result?.intervention.uapAfter.length ?? 0),
    );
    return Array.from({ length: layers }, (_, layer) => {
      const row: Record<string, unknown> = { layer };
      for (const k of SUBJECT_KEYS) {
        const u = cm.models[k].result?.intervention.uapAfter[layer];
        row[`${k}_visualOfAV`] = u?.visualOfAV;
        row[`${k}_audioOfAV`] = u?.audioOfAV;
      }
      return row;
    });
  };
  const chart = new ChartCanvas<'line'>(
    'UAP per layer of A (solid) and B (dashed): visual and audio share of A + V',
    260,
    'compare-uap-chart',
  );
  const frame = sectionFrame(a, 'Attention per modality (UAP), A and B', 'compare-uap-section', {
    name: 'compare-uap',
    png: () => chart.pngBase64(currentPalette()),
    csv: () => toCsv(rows()),
    json: () => rows(),
  });
  frame.note.textContent =
    'The answer position’s attention after each subject’s intervention, heads averaged, as shares of audio + visual. Solid: A; dashed: B.';
  frame.body.append(chart.element);
  return {
    element: frame.element,
    update(p) {
      const data = rows();
      if (data.length === 0) return;
      chart.set({
        type: 'line',
        data: {
          labels: data.map((r) => `layer ${String(r['layer'])}`),
          datasets: SUBJECT_KEYS.flatMap((k) =>
            (['visualOfAV', 'audioOfAV'] as const).map((share) => ({
              label: `${NAMES[k]} ${share === 'visualOfAV' ? 'visual' : 'audio'}`,
              data: data.map((r) => Number(r[`${k}_${share}`] ?? NaN)),
              borderColor: share === 'visualOfAV' ? p.visual : p.audio,
              backgroundColor: share === 'visualOfAV' ? p.visual : p.audio,
              borderDash: k === 'a' ? [] : [6, 4],
              borderWidth: p.highContrast ? 3 : 2,
              pointStyle: k === 'a' ? 'circle' : 'rectRot',
              pointRadius: 3,
              tension: 0,
            })),
          ),
        },
        options: {
          scales: {
            y: {
              min: 0,
              max: 1,
              ticks: { callback: (v) => formatPercent(Number(v)) },
            },
          },
          plugins: { legend: { position: 'bottom', labels: { usePointStyle: true } } },
        },
      });
    },
  };
}

/**
 * Marks the heads whose (shown) flags differ between the two grids: `data-differs="true"` and a
 * class on both cells, and a count in `summary`. Runs after the grids redraw.
 */
export function gridDifferenceView(
  cm: CompareViewModel,
  grids: Record<SubjectKey, HTMLElement>,
): View {
  const summary = el('p', { class: 'note', 'data-testid': 'compare-grid-differences' });
  return {
    element: summary,
    update() {
      const [sa, sb] = SUBJECT_KEYS.map((k) => cm.models[k].shown());
      if (sa === null || sa === undefined || sb === null || sb === undefined) return;
      const differs = flagDifferences(sa.flags, sb.flags);
      for (const k of SUBJECT_KEYS) {
        for (const cell of grids[k].querySelectorAll<HTMLElement>('.cell[data-layer]')) {
          const l = Number(cell.dataset['layer']);
          const h = Number(cell.dataset['head']);
          const d = differs?.[l]?.[h] ?? false;
          cell.dataset['differs'] = d ? 'true' : 'false';
          cell.classList.toggle('differs', d);
        }
      }
      const n = countDifferences(differs);
      summary.textContent =
        differs === null
          ? 'The two checkpoints have different layer × head shapes: flags are not compared head by head.'
          : `${n} head${n === 1 ? '' : 's'} flagged differently (dotted outline)${sa.preview || sb.preview ? ' — preview, re-runs pending' : ''}.`;
    },
  };
}

/** The per-token attention difference A − B over the frames, on a diverging scale. */
export function tokenDifferenceView(cm: CompareViewModel): View {
  const { a, b } = cm.models;
  let layer = 0;
  let head: number | 'mean' = 'mean';
  let run: 'before' | 'after' = 'after';
  let differences: TokenDifference[] = [];
  const images = new Map<string, HTMLImageElement>();
  const canvas = el('canvas', {
    role: 'img',
    'aria-label': 'The difference of the visual tokens’ attention, A minus B, over the frames',
  });
  const legend = el('p', { class: 'note' });
  const redraw = (): void => view.update(currentPalette());
  const layerPick = selectControl('Layer', [], (v) => ((layer = Number(v)), redraw()), {
    'data-testid': 'compare-token-layer',
  });
  const headPick = selectControl(
    'Head',
    [],
    (v) => ((head = v === 'mean' ? 'mean' : Number(v)), redraw()),
    { 'data-testid': 'compare-token-head' },
  );
  const runPick = selectControl(
    'Attention',
    [
      { value: 'after', label: 'after intervention' },
      { value: 'before', label: 'before intervention' },
    ],
    (v) => ((run = v === 'before' ? 'before' : 'after'), redraw()),
  );
  const frame = sectionFrame(a, 'Per-token attention: A − B', 'compare-token-section', {
    name: 'compare-tokens',
    png: () => canvasPngBase64(canvas, currentPalette()),
    csv: () => toCsv(differences as unknown as Record<string, unknown>[]),
    json: () => ({ layer, head, run, tokens: differences }),
  });
  frame.body.append(
    el('div', { class: 'controls-row' }, layerPick.element, headPick.element, runPick.element),
    el('div', { class: 'token-canvas', 'data-testid': 'compare-token-diff' }, canvas),
    legend,
  );
  let built: AnalysisResult | null = null;
  const view: View = {
    element: frame.element,
    update(p) {
      const ra = a.result;
      const rb = b.result;
      if (ra === null || rb === null) return;
      const { layers: L, heads: Hh } = ra.model.metadata.architecture;
      if (built !== ra) {
        built = ra;
        fillLayerHeadPickers(layerPick.select, headPick.select, L, Hh);
        if (layer >= L) layer = 0;
      }
      layerPick.set(String(layer));
      headPick.set(String(head));
      runPick.set(run);
      const diff = tokenDifferences(
        ra,
        rb,
        tokenWeights(a.tokenRow({ run: 'intervention', stage: run, layer, head })),
        tokenWeights(b.tokenRow({ run: 'intervention', stage: run, layer, head })),
      );
      canvas.dataset['comparable'] = typeof diff === 'string' ? 'false' : 'true';
      if (typeof diff === 'string') {
        differences = [];
        legend.textContent = `Not drawn: ${diff}.`;
        canvas.width = 0;
        return;
      }
      differences = diff;
      const max = largestDifference(ra, diff);
      drawTokenDifference(canvas, ra, diff, max, p, images, redraw);
      legend.textContent = `Blue: A attends more than B; orange: B attends more than A; opacity follows √(|A − B| ÷ ${formatNumber(max, 3)}), the largest visual difference. Layer ${layer}, ${head === 'mean' ? 'heads averaged' : `head ${head}`}, ${run} the intervention.`;
    },
  };
  return view;
}
