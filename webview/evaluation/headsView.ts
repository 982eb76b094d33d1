// Heads over the benchmark: a layer × head heat map of how often each head was flagged under a
// setting (share of clips) or of its mean head statistic in the off run, for all clips, a subset,
// or the clips the setting answered right or wrong. A canvas of cells (no text in them), so a
// 32 × 32 model stays readable; hovering a cell names its head and value.
import type { CheckpointHeadMaps, HeadGroupMap } from '../../src/protocol/evaluationSummary';
import { benchmarkCsvTables } from '../../src/shared/benchmarkCsv';
import { canvasPngBase64 } from '../kit/chartCanvas';
import { el, formatNumber, formatPercent, replaceChildren } from '../kit/domBuilder';
import { dynamicSelect } from '../kit/dynamicSelect';
import { sectionFrame } from '../kit/sectionFrame';
import { currentPalette, heatColour, type Palette } from '../kit/theme';
import type { View } from '../kit/view';
import { refKey, resolveRef } from './evaluationData';
import type { EvaluationModel, HeadsMetric, SettingRef } from './evaluationModel';

const GROUP_WORDS: Record<string, string> = {
  all: 'all clips',
  right: 'answered right',
  wrong: 'answered wrong',
};

const METRIC_WORDS: Record<HeadsMetric, string> = {
  share: 'Flag share (clips)',
  statistic: 'Mean head statistic (off run)',
};

/** The (checkpoint, setting) pairs that have a head map. */
export function headMapRefs(model: EvaluationModel): SettingRef[] {
  return (model.summary?.checkpoints ?? []).flatMap((c) =>
    (c.heads?.settings ?? []).map((s) => ({ checkpoint: c.name, setting: s.setting })),
  );
}

/** A head map's values and the range its colours span. */
interface Shown {
  maps: CheckpointHeadMaps;
  group: HeadGroupMap;
  values: number[][];
  lo: number;
  hi: number;
}

/** Cell size in CSS pixels: large for small models, 12 px at 32 heads (never text in a cell). */
function cellSize(heads: number): number {
  return Math.max(10, Math.min(32, Math.floor(420 / Math.max(1, heads))));
}

const MARGIN = 32;

/** Draws the map into `canvas` (device pixels), axis ticks on the edges. */
function drawMap(canvas: HTMLCanvasElement, shown: Shown, p: Palette): void {
  const { layers, heads } = shown.maps;
  const size = cellSize(heads);
  const ratio = window.devicePixelRatio || 1;
  const width = MARGIN + heads * size + 4;
  const height = MARGIN + layers * size + 4;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  if (ctx === null) return;
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, width, height);
  ctx.font = `11px ${p.fontFamily}`;
  ctx.fillStyle = p.foreground;
  ctx.textBaseline = 'middle';
  // Ticks every `step` heads or layers, so 32 labels do not overlap.
  const step = size >= 20 ? 1 : size >= 14 ? 2 : 4;
  ctx.textAlign = 'center';
  for (let h = 0; h < heads; h += step)
    ctx.fillText(`H${h}`, MARGIN + (h + 0.5) * size, MARGIN / 2);
  ctx.textAlign = 'right';
  for (let l = 0; l < layers; l += step)
    ctx.fillText(`L${l}`, MARGIN - 4, MARGIN + (l + 0.5) * size);
  const span = shown.hi - shown.lo;
  const gap = size >= 14 ? 1 : 0.5;
  shown.values.forEach((row, l) =>
    row.forEach((value, h) => {
      ctx.fillStyle = heatColour(p, span > 0 ? (value - shown.lo) / span : value > 0 ? 1 : 0);
      ctx.fillRect(
        MARGIN + h * size + gap,
        MARGIN + l * size + gap,
        size - 2 * gap,
        size - 2 * gap,
      );
    }),
  );
}

/** The heads section. */
export function headsView(model: EvaluationModel): View {
  let current: SettingRef | null = null;
  let shown: Shown | null = null;
  let groupName = 'all';
  let metric: HeadsMetric = 'share';
  const picker = dynamicSelect('Checkpoint and setting', 'eval-heads-pick', (key) => {
    const ref = headMapRefs(model).find((r) => refKey(r) === key);
    if (ref !== undefined) model.choose('heads', ref);
  });
  const groupPicker = dynamicSelect('Clips', 'eval-heads-group', (g) =>
    model.choose('headsGroup', g),
  );
  const metricPicker = dynamicSelect('Show', 'eval-heads-metric', (m) =>
    model.choose('headsMetric', m === 'statistic' ? 'statistic' : 'share'),
  );
  const canvas = el('canvas', {
    class: 'heads-map',
    'data-testid': 'eval-heads-map',
    role: 'img',
  });
  const legend = el('div', { class: 'legend', 'data-testid': 'eval-heads-legend' });
  const readout = el('p', {
    class: 'note',
    'data-testid': 'eval-heads-readout',
    'aria-live': 'polite',
  });
  const cellText = (l: number, h: number): string => {
    if (shown === null) return '';
    const share = shown.group.flagShare[l]?.[h];
    const statistic = shown.group.meanStatistic?.[l]?.[h];
    const parts = [`Layer ${l}, head ${h}`];
    if (share !== undefined) {
      parts.push(
        `flagged in ${formatPercent(share)} of ${shown.group.clips} clips (${Math.round(share * shown.group.clips)})`,
      );
    }
    if (statistic !== undefined) {
      parts.push(`mean ${shown.maps.statistic} statistic ${formatNumber(statistic, 4)}`);
    }
    return parts.join('; ');
  };
  canvas.addEventListener('mousemove', (e) => {
    if (shown === null) return;
    const size = cellSize(shown.maps.heads);
    const rect = canvas.getBoundingClientRect();
    const h = Math.floor((e.clientX - rect.left - MARGIN) / size);
    const l = Math.floor((e.clientY - rect.top - MARGIN) / size);
    const inside = h >= 0 && l >= 0 && h < shown.maps.heads && l < shown.maps.layers;
    const text = inside ? cellText(l, h) : '';
    canvas.title = text;
    readout.textContent = text === '' ? 'Hover a cell for its head and value.' : text;
  });
  const frame = sectionFrame(model, 'Heads over the benchmark', 'eval-heads', {
    name: 'heads',
    png: () => canvasPngBase64(canvas, currentPalette()),
    csv: () =>
      model.summary === null ? '' : (benchmarkCsvTables(model.summary)['heads.csv'] ?? ''),
    json: () => (shown === null ? null : { ...current, group: groupName, ...shown.group }),
  });
  frame.body.append(
    el('div', { class: 'controls-row' }, picker.element, groupPicker.element, metricPicker.element),
    el('div', { class: 'table-scroll' }, canvas),
    legend,
    readout,
  );
  return {
    element: frame.element,
    update(p) {
      const refs = headMapRefs(model);
      current = resolveRef(refs, model.choices.heads, (r) => r.setting === 'ar');
      const checkpoint = model.summary?.checkpoints.find((c) => c.name === current?.checkpoint);
      const maps = checkpoint?.heads ?? null;
      const setting = maps?.settings.find((s) => s.setting === current?.setting);
      frame.element.hidden = current === null || maps === null || setting === undefined;
      if (current === null || maps === null || setting === undefined) {
        shown = null;
        return;
      }
      picker.set(
        refs.map((r) => {
          const title =
            model.summary?.checkpoints
              .find((c) => c.name === r.checkpoint)
              ?.settings.find((s) => s.id === r.setting)?.title ?? r.setting;
          return { value: refKey(r), label: `${r.checkpoint} — ${title}` };
        }),
        refKey(current),
      );
      const groups = Object.keys(setting.groups);
      groupName =
        model.choices.headsGroup !== null && groups.includes(model.choices.headsGroup)
          ? model.choices.headsGroup
          : 'all';
      groupPicker.set(
        groups.map((g) => ({
          value: g,
          label: `${GROUP_WORDS[g] ?? g} (${setting.groups[g]?.clips ?? 0})`,
        })),
        groupName,
      );
      const group = setting.groups[groupName] as HeadGroupMap;
      const metrics: HeadsMetric[] =
        group.meanStatistic === null ? ['share'] : ['share', 'statistic'];
      metric = metrics.includes(model.choices.headsMetric ?? 'share')
        ? (model.choices.headsMetric ?? 'share')
        : 'share';
      metricPicker.set(
        metrics.map((m) => ({ value: m, label: METRIC_WORDS[m] })),
        metric,
      );
      const values = metric === 'statistic' ? (group.meanStatistic ?? []) : group.flagShare;
      const flat = values.flat();
      const lo = metric === 'share' ? 0 : Math.min(...flat);
      const hi = metric === 'share' ? 1 : Math.max(...flat);
      shown = { maps, group, values, lo, hi };
      drawMap(canvas, shown, p);
      canvas.dataset['layers'] = String(maps.layers);
      canvas.dataset['heads'] = String(maps.heads);
      canvas.dataset['metric'] = metric;
      canvas.dataset['group'] = groupName;
      canvas.setAttribute(
        'aria-label',
        `${METRIC_WORDS[metric]} per layer and head, ${maps.layers} × ${maps.heads}, ${GROUP_WORDS[groupName] ?? groupName}`,
      );
      const bar = el('span', { class: 'legend-bar', 'aria-hidden': 'true' });
      bar.style.background = `linear-gradient(to right, ${heatColour(p, 0)}, ${heatColour(p, 0.5)}, ${heatColour(p, 1)})`;
      const end = (v: number) => (metric === 'share' ? formatPercent(v) : formatNumber(v, 3));
      replaceChildren(
        legend,
        el('span', {}, end(lo)),
        bar,
        el('span', {}, end(hi)),
        el(
          'span',
          {},
          metric === 'share' ? 'of clips flagged the head' : `mean ${maps.statistic} statistic`,
        ),
      );
      frame.note.textContent =
        metric === 'share'
          ? `How often the setting flagged each head over ${group.clips} clips (${GROUP_WORDS[groupName] ?? groupName}). Rows are layers, columns heads; hover a cell for its value.`
          : `The off run's head statistic sₕ (${maps.statistic}) averaged over ${group.clips} clips (${GROUP_WORDS[groupName] ?? groupName}): what the flag rule compares with its layer's threshold. Hover a cell for its value.`;
      if (readout.textContent === '') readout.textContent = 'Hover a cell for its head and value.';
    },
  };
}
