// The layer × head grid of the head statistic (the current ratio kind), colour-scaled (linear or
// log), flagged heads marked. Clicking a cell (or Enter/Space on it) selects the head and cycles
// its override auto → force on → force off, which re-runs the model.
import { RATIO_KIND_NAMES } from '../../src/protocol/contract';
import { canvasPngBase64 } from '../kit/chartCanvas';
import { el, formatNumber, replaceChildren } from '../kit/domBuilder';
import { checkboxControl } from '../kit/formControls';
import type { PanelModel } from './panelModel';
import { reasonText } from './panelData';
import { toCsv } from '../../src/shared/csv';
import { sectionFrame } from '../kit/sectionFrame';
import { currentPalette, heatColour, type Palette } from '../kit/theme';
import type { View } from '../kit/view';

const OVERRIDE_WORDS = { '1': 'force on', '-1': 'force off', '0': 'auto' } as const;

/** auto → force on → force off → auto. */
export function nextOverride(value: number): number {
  return value === 0 ? 1 : value === 1 ? -1 : 0;
}

interface Cell {
  layer: number;
  head: number;
  statistic: number;
  threshold: number;
  flagged: boolean;
  reason: string;
  override: number;
}

/** The head-grid section. */
export function headGridView(model: PanelModel): View {
  const cells = (): Cell[] => {
    const shown = model.shown();
    const controls = model.controls;
    if (shown === null || controls === null) return [];
    return shown.decisions.flatMap((d) =>
      d.headStatistics.map((statistic, head) => ({
        layer: d.layer,
        head,
        statistic,
        threshold: d.headThreshold,
        flagged: shown.flags[d.layer]?.[head] ?? false,
        reason: d.reasons[head] ?? '',
        override: controls.headOverride[d.layer]?.[head] ?? 0,
      })),
    );
  };
  const grid = el('div', { class: 'head-grid', 'data-testid': 'head-grid', role: 'group' });
  const legend = el('div', { class: 'legend' });
  const log = checkboxControl('Log colour scale', (v) => model.choose('gridLogScale', v), {
    'data-testid': 'grid-log',
  });
  const frame = sectionFrame(model, 'Heads: layer × head statistic', 'grid-section', {
    name: 'head-grid',
    png: () =>
      canvasPngBase64(
        drawGrid(cells(), currentPalette(), model.choices.gridLogScale),
        currentPalette(),
      ),
    csv: () => toCsv(cells() as unknown as Record<string, unknown>[]),
    json: () => cells(),
  });
  frame.body.append(el('div', { class: 'controls-row' }, log.element), grid, legend);

  const onCell = (layer: number, head: number): void => {
    model.choose('selectedHead', { layer, head });
    model.editControls((c) => {
      const row = c.headOverride[layer];
      if (row !== undefined) row[head] = nextOverride(row[head] ?? 0);
    });
  };

  return {
    element: frame.element,
    update(p) {
      const r = model.result;
      const list = cells();
      const shown = model.shown();
      if (r === null || shown === null || model.controls === null) return;
      log.set(model.choices.gridLogScale);
      const kind = RATIO_KIND_NAMES[model.controls.ratioKind];
      frame.note.textContent = `Head statistic sₕ (${kind}); outlined ⚑ = flagged${shown.preview ? (model.canRun ? ' (preview — re-run pending)' : ' (preview of the edited controls — this panel cannot re-run)') : ''}; ▲ forced on, ▼ forced off. Click a head to cycle its override (auto → on → off).`;
      const scale = colourScale(list, model.choices.gridLogScale);
      const Hh = r.model.metadata.architecture.heads;
      grid.style.gridTemplateColumns = `auto repeat(${Hh}, minmax(3.5em, 1fr))`;
      const focused = document.activeElement;
      const focusKey =
        focused instanceof HTMLElement && grid.contains(focused)
          ? `${focused.dataset['layer']}:${focused.dataset['head']}`
          : null;
      const header = [
        el('span', { class: 'axis' }, ''),
        ...Array.from({ length: Hh }, (_, h) => el('span', { class: 'axis' }, `H${h}`)),
      ];
      const body: HTMLElement[] = [];
      const sel = model.choices.selectedHead;
      let refocus: HTMLElement | null = null;
      for (const cell of list) {
        if (cell.head === 0) body.push(el('span', { class: 'axis' }, `L${cell.layer}`));
        const override = OVERRIDE_WORDS[String(cell.override) as keyof typeof OVERRIDE_WORDS];
        const selected = sel?.layer === cell.layer && sel.head === cell.head;
        const button = el(
          'button',
          {
            type: 'button',
            class: `cell${cell.flagged ? ' flagged' : ''}${selected ? ' selected' : ''}`,
            'data-layer': cell.layer,
            'data-head': cell.head,
            'data-flagged': cell.flagged ? 'true' : 'false',
            'data-override': cell.override,
            'aria-pressed': selected ? 'true' : 'false',
            'aria-label': `Layer ${cell.layer} head ${cell.head}: statistic ${formatNumber(cell.statistic)}, threshold ${formatNumber(cell.threshold)}, ${cell.flagged ? 'flagged' : 'not flagged'} (${reasonText(cell.reason, model.controls?.mode === 1)}), override ${override}. Press to cycle the override.`,
            title: `L${cell.layer} H${cell.head}: sₕ = ${formatNumber(cell.statistic, 4)} vs (1+m)·mean = ${formatNumber(cell.threshold, 4)} — ${reasonText(cell.reason, model.controls?.mode === 1)}, override ${override}`,
          },
          el('span', { class: 'value' }, formatNumber(cell.statistic)),
          el(
            'span',
            { class: 'marks', 'aria-hidden': 'true' },
            `${cell.flagged ? '⚑' : ''}${cell.override > 0 ? '▲' : cell.override < 0 ? '▼' : ''}`,
          ),
        );
        const t = scale(cell.statistic);
        button.style.background = heatColour(p, t);
        button.style.color = t > 0.55 && !p.highContrast ? p.background : p.foreground;
        button.addEventListener('click', () => onCell(cell.layer, cell.head));
        if (focusKey === `${cell.layer}:${cell.head}`) refocus = button;
        body.push(button);
      }
      replaceChildren(grid, ...header, ...body);
      // Redrawing replaces the buttons; keep keyboard focus on the cell the user was on.
      refocus?.focus();
      const values = list.map((c) => c.statistic);
      const lo = Math.min(...values);
      const hi = Math.max(...values);
      const bar = el('span', { class: 'legend-bar', 'aria-hidden': 'true' });
      bar.style.background = `linear-gradient(to right, ${heatColour(p, 0)}, ${heatColour(p, 0.5)}, ${heatColour(p, 1)})`;
      replaceChildren(
        legend,
        el('span', {}, formatNumber(lo)),
        bar,
        el('span', {}, `${formatNumber(hi)}${model.choices.gridLogScale ? ' (log)' : ''}`),
      );
    },
  };
}

/** Maps a statistic to [0, 1] over the grid's range (log10 when asked and possible). */
function colourScale(cells: readonly Cell[], log: boolean): (v: number) => number {
  const f = (v: number): number => (log ? Math.log10(Math.max(v, 1e-6)) : v);
  const values = cells.map((c) => f(c.statistic));
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return (v) => (hi > lo ? (f(v) - lo) / (hi - lo) : 0.5);
}

/** The grid drawn on a canvas for the PNG export. */
function drawGrid(cells: readonly Cell[], p: Palette, log: boolean): HTMLCanvasElement {
  const scale = colourScale(cells, log);
  const layers = Math.max(0, ...cells.map((c) => c.layer)) + 1;
  const heads = Math.max(0, ...cells.map((c) => c.head)) + 1;
  const size = 72;
  const margin = 40;
  const canvas = document.createElement('canvas');
  canvas.width = margin + heads * size + 8;
  canvas.height = margin + layers * size + 8;
  const ctx = canvas.getContext('2d');
  if (ctx === null) return canvas;
  ctx.fillStyle = p.background;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = `13px ${p.fontFamily}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (let h = 0; h < heads; h++) {
    ctx.fillStyle = p.foreground;
    ctx.fillText(`H${h}`, margin + h * size + size / 2, margin / 2);
  }
  for (const c of cells) {
    const x = margin + c.head * size;
    const y = margin + c.layer * size;
    if (c.head === 0) {
      ctx.fillStyle = p.foreground;
      ctx.fillText(`L${c.layer}`, margin / 2, y + size / 2);
    }
    const t = scale(c.statistic);
    ctx.fillStyle = heatColour(p, t);
    ctx.fillRect(x + 2, y + 2, size - 4, size - 4);
    if (c.flagged) {
      ctx.strokeStyle = p.flagged;
      ctx.lineWidth = 3;
      ctx.strokeRect(x + 3.5, y + 3.5, size - 7, size - 7);
    }
    ctx.fillStyle = t > 0.55 ? p.background : p.foreground;
    ctx.fillText(
      `${formatNumber(c.statistic)}${c.flagged ? ' ⚑' : ''}`,
      x + size / 2,
      y + size / 2,
    );
  }
  return canvas;
}
