// UAP curves: per layer, the visual / audio / text share of the answer position's attention,
// without (dashed) and with (solid) the intervention on the same axes; A+V-normalised or
// whole-row shares.
import type { ChartDataset } from 'chart.js';
import type { LayerUap } from '../../src/protocol/analysisResult';
import { ChartCanvas, shareLineOptions } from '../kit/chartCanvas';
import { el } from '../kit/domBuilder';
import { selectControl } from '../kit/formControls';
import type { PanelModel } from './panelModel';
import { toCsv } from '../../src/shared/csv';
import { sectionFrame } from '../kit/sectionFrame';
import { currentPalette, type Palette } from '../kit/theme';
import type { View } from '../kit/view';

type Share = 'visual' | 'audio' | 'text' | 'visualOfAV' | 'audioOfAV';

/** The UAP section. */
export function uapChartView(model: PanelModel): View {
  const rows = (): Record<string, unknown>[] => {
    const r = model.result;
    if (r === null) return [];
    return r.baseline.uapBefore.map((_, layer) => {
      const out: Record<string, unknown> = { layer };
      for (const [run, uap] of [
        ['without', r.baseline.uapBefore[layer]],
        ['with', r.intervention.uapAfter[layer]],
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
  frame.body.append(el('div', { class: 'controls-row' }, normalisation.element), chart.element);
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
        dataset(p, `${name} without`, colour, r.baseline.uapBefore, key, true),
        dataset(p, `${name} with`, colour, r.intervention.uapAfter, key, false),
      ]);
      chart.set({
        type: 'line',
        data: { labels: r.baseline.uapBefore.map((_, l) => `layer ${l}`), datasets },
        options: shareLineOptions(whole ? 'share of the row' : 'share of audio + visual'),
      });
    },
  };
}
