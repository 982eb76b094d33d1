// Dataset-level UAP per layer without intervention, split by subset and by whether the answer was
// right or wrong (the paper's Fig. 3a): in wrongly answered conflict clips, do middle layers give
// audio a far higher share than visual?
import type { ChartDataset } from 'chart.js';
import type { LayerUap } from '../../src/protocol/analysisResult';
import { benchmarkCsvTables } from '../../src/shared/benchmarkCsv';
import { ChartCanvas, shareLineOptions } from '../kit/chartCanvas';
import { el } from '../kit/domBuilder';
import { sectionFrame } from '../kit/sectionFrame';
import { currentPalette, type Palette } from '../kit/theme';
import type { View } from '../kit/view';
import { dynamicSelect } from '../kit/dynamicSelect';
import type { EvaluationModel } from './evaluationModel';

const SUBSET_COLOUR: Record<string, (p: Palette) => string> = {
  'video-aligned': (p) => p.visual,
  'audio-aligned': (p) => p.audio,
  consistent: (p) => p.text,
};

/** The UAP-by-answer section (hidden when the manifest lacks the three CA-MER subsets). */
export function uapByAnswerView(model: EvaluationModel): View {
  const chart = new ChartCanvas<'line'>(
    'Audio share of audio + visual attention per layer, by subset and by right or wrong answer',
    280,
    'eval-uap-chart',
  );
  const picker = dynamicSelect('Checkpoint', 'eval-uap-checkpoint', (name) =>
    model.choose('chartCheckpoint', name),
  );
  const checkpoint = () => {
    const all = model.summary?.checkpoints ?? [];
    return all.find((c) => c.name === model.choices.chartCheckpoint) ?? all[0] ?? null;
  };
  const frame = sectionFrame(model, 'Attention by answer (UAP, without intervention)', 'eval-uap', {
    name: 'uap-by-answer',
    png: () => chart.pngBase64(currentPalette()),
    csv: () =>
      model.summary === null ? '' : (benchmarkCsvTables(model.summary)['uap-by-answer.csv'] ?? ''),
    json: () => checkpoint()?.byAnswer ?? null,
  });
  frame.note.textContent =
    'The answer position’s audio share of audio + visual attention per layer in the off run, heads and clips averaged. Solid: clips answered right; dashed: answered wrong.';
  frame.body.append(el('div', { class: 'controls-row' }, picker.element), chart.element);
  return {
    element: frame.element,
    update(p) {
      const summary = model.summary;
      const c = checkpoint();
      frame.element.hidden = c?.byAnswer === null || c === null;
      if (summary === null || c === null || c.byAnswer === null) return;
      picker.set(
        summary.checkpoints.map((x) => ({ value: x.name, label: x.name })),
        c.name,
      );
      const datasets: ChartDataset<'line'>[] = [];
      let layers = 0;
      for (const [subset, split] of Object.entries(c.byAnswer)) {
        const colour = SUBSET_COLOUR[subset]?.(p) ?? p.foreground;
        for (const answer of ['right', 'wrong'] as const) {
          const group = split[answer].uap;
          if (group.count === 0) continue;
          layers = Math.max(layers, group.layers.length);
          datasets.push({
            label: `${subset}, ${answer} (${group.count})`,
            data: group.layers.map((u: LayerUap) => u.audioOfAV),
            borderColor: colour,
            backgroundColor: colour,
            borderDash: answer === 'wrong' ? [6, 4] : [],
            borderWidth: p.highContrast ? 3 : 2,
            pointRadius: 3,
            pointStyle: answer === 'wrong' ? 'rectRot' : 'circle',
            tension: 0,
          });
        }
      }
      chart.element.dataset['series'] = String(datasets.length);
      chart.set({
        type: 'line',
        data: { labels: Array.from({ length: layers }, (_, l) => `layer ${l}`), datasets },
        options: shareLineOptions('audio share of audio + visual'),
      });
    },
  };
}
