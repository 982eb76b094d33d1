// UAP curves: per layer, the visual / audio / text share of the answer position's attention,
// without (dashed) and with (solid) the intervention on the same axes; A+V-normalised or
// whole-row shares; optionally without the first key position (recomputed from the token rows).
import type { ChartDataset } from 'chart.js';
import type { AnalysisResult, LayerUap } from '../../src/protocol/analysisResult';
import type { TokenRowsIndex } from '../../src/protocol/rowRequests';
import { ChartCanvas, shareLineOptions } from '../kit/chartCanvas';
import { el } from '../kit/domBuilder';
import { checkboxControl, selectControl } from '../kit/formControls';
import type { PanelModel } from './panelModel';
import { toCsv } from '../../src/shared/csv';
import { sectionFrame } from '../kit/sectionFrame';
import { currentPalette, type Palette } from '../kit/theme';
import type { View } from '../kit/view';

type Share = 'visual' | 'audio' | 'text' | 'visualOfAV' | 'audioOfAV';

const SKIP_FIRST_FORMULA =
  'Without position 0: share(m) = Σₕ Σ_{k ≥ 1, k ∈ m} aₕₖ ÷ Σₕ Σ_{k ≥ 1} aₕₖ over the answer row aₕ of each head (heads averaged); visual of A+V = V ÷ max(V + A, 1e-6). LLaMA-family models park attention on the first position (an attention sink).';

/**
 * The two runs' UAP as drawn: the result's, or without position 0 as computed from the token rows
 * where they are (the rows' index carries it, so the chart needs no row).
 */
function shownUap(
  r: AnalysisResult,
  skipFirst: boolean,
  skipped: TokenRowsIndex['uapSkipFirst'],
): { without: LayerUap[]; with: LayerUap[] } {
  // A result saved without token rows (--tokens none) keeps only the whole-row UAP.
  if (!skipFirst || skipped === null) {
    return { without: r.baseline.uapBefore, with: r.intervention.uapAfter };
  }
  return skipped;
}

/** UAP without position 0 from the shown result's rows (null: none stored). */
function skippedOf(model: PanelModel): TokenRowsIndex['uapSkipFirst'] {
  return model.rowSource?.index.uapSkipFirst ?? null;
}

/** The UAP section. */
export function uapChartView(model: PanelModel): View {
  const rows = (): Record<string, unknown>[] => {
    const r = model.result;
    if (r === null) return [];
    const shown = shownUap(r, model.choices.uapSkipFirst, skippedOf(model));
    return shown.without.map((_, layer) => {
      const out: Record<string, unknown> = { layer };
      for (const [run, uap] of [
        ['without', shown.without[layer]],
        ['with', shown.with[layer]],
      ] as const) {
        for (const key of ['visual', 'audio', 'text', 'visualOfAV', 'audioOfAV'] as const) {
          out[`${run}_${key}`] = uap?.[key];
        }
      }
      return out;
    });
  };
  const chart = new ChartCanvas<'line'>(
    'UAP: attention share per layer and modality, without and with the intervention',
    260,
  );
  chart.element.dataset['testid'] = 'uap-chart';
  const frame = sectionFrame(model, 'Attention per modality (UAP)', 'uap-section', {
    name: 'uap',
    png: () => chart.pngBase64(currentPalette()),
    csv: () => toCsv(rows()),
    json: () => rows(),
  });
  const normalisation = selectControl(
    'Shares',
    [
      { value: 'av', label: 'A+V-normalised (visual vs audio)' },
      { value: 'row', label: 'Whole row (text included)' },
    ],
    (v) => model.choose('uapNormalisation', v === 'row' ? 'row' : 'av'),
    { 'data-testid': 'uap-normalisation' },
  );
  const skipFirst = checkboxControl(
    'Leave out the first position (attention sink)',
    (v) => model.choose('uapSkipFirst', v),
    { 'data-testid': 'uap-skip-first', title: SKIP_FIRST_FORMULA },
  );
  frame.body.append(
    el('div', { class: 'controls-row' }, normalisation.element, skipFirst.element),
    chart.element,
  );
  frame.note.textContent =
    'The answer position’s attention, heads averaged. Dashed: without intervention; solid: with it (after each layer’s reallocation).';

  const dataset = (
    p: Palette,
    label: string,
    colour: string,
    values: LayerUap[],
    key: Share,
    dashed: boolean,
  ): ChartDataset<'line'> => ({
    label,
    data: values.map((u) => u[key]),
    borderColor: colour,
    backgroundColor: colour,
    borderDash: dashed ? [6, 4] : [],
    borderWidth: p.highContrast ? 3 : 2,
    pointRadius: 3,
    pointStyle: dashed ? 'rectRot' : 'circle',
    tension: 0,
  });

  return {
    element: frame.element,
    update(p) {
      const r = model.result;
      if (r === null) return;
      const whole = model.choices.uapNormalisation === 'row';
      normalisation.set(whole ? 'row' : 'av');
      const skip = model.choices.uapSkipFirst;
      skipFirst.set(skip);
      const uap = shownUap(r, skip, skippedOf(model));
      chart.element.dataset['firstPosition'] = skip ? 'excluded' : 'included';
      const noRows = skippedOf(model) === null;
      frame.note.textContent = `The answer position’s attention, heads averaged. Dashed: without intervention; solid: with it (after each layer’s reallocation).${skip ? (noRows ? ' This result was saved without token rows (--tokens none), so position 0 cannot be left out: the whole row is shown.' : ` ${SKIP_FIRST_FORMULA}`) : ''}`;
      const series: [string, string, Share][] = whole
        ? [
            ['visual', p.visual, 'visual'],
            ['audio', p.audio, 'audio'],
            ['text', p.text, 'text'],
          ]
        : [
            ['visual', p.visual, 'visualOfAV'],
            ['audio', p.audio, 'audioOfAV'],
          ];
      const datasets = series.flatMap(([name, colour, key]) => [
        dataset(p, `${name} without`, colour, uap.without, key, true),
        dataset(p, `${name} with`, colour, uap.with, key, false),
      ]);
      chart.set({
        type: 'line',
        data: { labels: r.baseline.uapBefore.map((_, l) => `layer ${l}`), datasets },
        options: shareLineOptions(whole ? 'share of the row' : 'share of audio + visual'),
      });
    },
  };
}
