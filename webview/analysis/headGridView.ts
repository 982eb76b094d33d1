// The layer × head grid of the head statistic (the current ratio kind), colour-scaled (linear or
// log), flagged heads marked. It fits its card at 32 × 32: past 8 heads or layers the cells are
// colour only, and a status line gives the value under the pointer or the keyboard focus. One tab
// stop (roving tabindex): arrows move, Home/End go to a row's ends, PageUp/PageDown to the
// first/last shown layer. Clicking a head (Enter/Space) inspects it — the token view and the
// threshold charts follow — and never changes the model; overriding is explicit: Shift+click or O
// cycles auto → force on → force off, or the buttons set the selected head's override.
import { RATIO_KIND_NAMES } from '../../src/protocol/contract';
import { canvasPngBase64 } from '../kit/chartCanvas';
import { el, formatNumber, replaceChildren } from '../kit/domBuilder';
import { checkboxControl, selectControl } from '../kit/formControls';
import type { PanelModel } from './panelModel';
import { reasonText } from './panelData';
import { toCsv } from '../../src/shared/csv';
import { button, sectionFrame } from '../kit/sectionFrame';
import { currentPalette, heatColour, type Palette } from '../kit/theme';
import type { View } from '../kit/view';

const OVERRIDE_WORDS = { '1': 'force on', '-1': 'force off', '0': 'auto' } as const;

/** Past this many heads or shown layers the cells carry no text (the status line does). */
const TEXT_CELLS_MAX = 8;

/** auto → force on → force off → auto. */
export function nextOverride(value: number): -1 | 0 | 1 {
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

function overrideWord(value: number): string {
  return OVERRIDE_WORDS[String(value) as keyof typeof OVERRIDE_WORDS] ?? 'auto';
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
  const grid = el('div', {
    class: 'head-grid',
    'data-testid': 'head-grid',
    role: 'grid',
    'aria-label': 'Heads: layer × head statistic',
  });
  const status = el('p', { class: 'grid-status', 'data-testid': 'grid-status', role: 'status' });
  const legend = el('div', { class: 'legend' });
  const log = checkboxControl('Log colour scale', (v) => model.choose('gridLogScale', v), {
    'data-testid': 'grid-log',
  });
  const setRange = (from: number, to: number): void => {
    const L = model.result?.model.metadata.architecture.layers ?? 0;
    const lo = Math.max(0, Math.min(from, to));
    const hi = Math.min(L - 1, Math.max(from, to));
    model.choose('gridLayers', lo === 0 && hi === L - 1 ? null : [lo, hi]);
  };
  const fromPick = selectControl('Layers from', [], (v) => setRange(Number(v), shownRange()[1]), {
    'data-testid': 'grid-from',
  });
  const toPick = selectControl('to', [], (v) => setRange(shownRange()[0], Number(v)), {
    'data-testid': 'grid-to',
  });
  const allLayers = button('All layers', () => model.choose('gridLayers', null), {
    secondary: true,
    'data-testid': 'grid-all-layers',
  });
  const selectedText = el('span', { class: 'override-target', 'data-testid': 'override-target' });
  const overrideButton = (value: -1 | 0 | 1, label: string, testId: string): HTMLElement =>
    button(
      label,
      () => {
        const sel = model.choices.selectedHead;
        if (sel !== null) model.setOverride(sel.layer, sel.head, value);
      },
      { secondary: true, 'data-testid': testId },
    );
  const overrideButtons: [HTMLElement, number][] = [
    [overrideButton(0, 'Auto', 'override-auto'), 0],
    [overrideButton(1, 'Force on', 'override-on'), 1],
    [overrideButton(-1, 'Force off', 'override-off'), -1],
  ];
  const overrideCount = el('span', { class: 'override-count', 'data-testid': 'override-count' });
  const clear = button('Clear overrides', () => model.clearOverrides(), {
    secondary: true,
    'data-testid': 'grid-clear-overrides',
  });
  const hint = el(
    'p',
    { class: 'note grid-hint', 'data-testid': 'grid-hint' },
    'Click a head (or Enter) to inspect it: the per-token view and the threshold charts follow; the model does not change. ',
    el('strong', {}, 'Shift+click'),
    ' a head (or press ',
    el('kbd', {}, 'O'),
    ') to cycle its override auto → force on → force off, which re-runs the model.',
  );
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
  frame.body.append(
    el('div', { class: 'controls-row' }, log.element, fromPick.element, toPick.element, allLayers),
    hint,
    grid,
    status,
    el(
      'div',
      { class: 'controls-row override-row', role: 'group', 'aria-label': 'Head override' },
      selectedText,
      ...overrideButtons.map(([b]) => b),
      overrideCount,
      clear,
    ),
    legend,
  );

  /** The shown layers [first, last], within the result's layers. */
  const shownRange = (): [number, number] => {
    const L = model.result?.model.metadata.architecture.layers ?? 1;
    const range = model.choices.gridLayers;
    return range === null ? [0, L - 1] : [Math.max(0, range[0]), Math.min(L - 1, range[1])];
  };

  // The cells, rebuilt only when the shape or the shown layers change (so focus survives redraws).
  let builtKey = '';
  let elements: HTMLElement[][] = [];
  let byKey = new Map<string, Cell>();
  /** The roving tab stop. */
  let active: { layer: number; head: number } | null = null;
  let hovered: { layer: number; head: number } | null = null;
  /** The cell drawn as selected (its element), so a new selection unmarks only that one. */
  let marked: HTMLElement | null = null;

  const cellText = (c: Cell): string => {
    const mode = model.controls?.mode === 1;
    return `L${c.layer} H${c.head}: sₕ = ${formatNumber(c.statistic, 4)} vs (1+m)·mean = ${formatNumber(c.threshold, 4)} — ${reasonText(c.reason, mode)}, override ${overrideWord(c.override)}`;
  };
  const showStatus = (): void => {
    const at = hovered ?? active ?? model.choices.selectedHead;
    const c = at === null ? undefined : byKey.get(`${at.layer}:${at.head}`);
    status.textContent = c === undefined ? 'Hover or focus a head for its value.' : cellText(c);
    status.dataset['layer'] = c === undefined ? '' : String(c.layer);
    status.dataset['head'] = c === undefined ? '' : String(c.head);
  };
  const cellAt = (target: EventTarget | null): { layer: number; head: number } | null => {
    const cell = target instanceof HTMLElement ? target.closest<HTMLElement>('.cell') : null;
    if (cell === null || !grid.contains(cell)) return null;
    return { layer: Number(cell.dataset['layer']), head: Number(cell.dataset['head']) };
  };
  const setActive = (at: { layer: number; head: number }, focus: boolean): void => {
    const [from] = shownRange();
    const previous = active === null ? undefined : elements[active.layer - from]?.[active.head];
    previous?.setAttribute('tabindex', '-1');
    active = at;
    const next = elements[at.layer - from]?.[at.head];
    next?.setAttribute('tabindex', '0');
    if (focus) next?.focus();
    showStatus();
  };
  const cycle = (at: { layer: number; head: number }): void => {
    const current = model.controls?.headOverride[at.layer]?.[at.head] ?? 0;
    model.choose('selectedHead', at);
    model.setOverride(at.layer, at.head, nextOverride(current));
  };

  grid.addEventListener('click', (event) => {
    const at = cellAt(event.target);
    if (at === null) return;
    setActive(at, false);
    if (event.shiftKey) cycle(at);
    else model.inspectHead(at.layer, at.head);
  });
  grid.addEventListener('mouseover', (event) => {
    hovered = cellAt(event.target);
    showStatus();
  });
  grid.addEventListener('mouseleave', () => {
    hovered = null;
    showStatus();
  });
  grid.addEventListener('focusin', (event) => {
    const at = cellAt(event.target);
    if (at !== null && (active?.layer !== at.layer || active.head !== at.head)) {
      setActive(at, false);
    } else showStatus();
  });
  grid.addEventListener('keydown', (event) => {
    const at = cellAt(event.target);
    const Hh = model.result?.model.metadata.architecture.heads ?? 0;
    if (at === null || Hh === 0) return;
    const [from, to] = shownRange();
    let { layer, head } = at;
    switch (event.key) {
      case 'ArrowLeft':
        head = Math.max(0, head - 1);
        break;
      case 'ArrowRight':
        head = Math.min(Hh - 1, head + 1);
        break;
      case 'ArrowUp':
        layer = Math.max(from, layer - 1);
        break;
      case 'ArrowDown':
        layer = Math.min(to, layer + 1);
        break;
      case 'Home':
        head = 0;
        if (event.ctrlKey) layer = from;
        break;
      case 'End':
        head = Hh - 1;
        if (event.ctrlKey) layer = to;
        break;
      case 'PageUp':
        layer = from;
        break;
      case 'PageDown':
        layer = to;
        break;
      case 'Enter':
      case ' ':
        event.preventDefault();
        model.inspectHead(layer, head);
        return;
      case 'o':
      case 'O':
        event.preventDefault();
        cycle(at);
        return;
      default:
        return;
    }
    event.preventDefault();
    hovered = null;
    setActive({ layer, head }, true);
  });

  /** The override row's head: the selected one, with its override pressed. */
  const showOverrideTarget = (): void => {
    const sel = model.choices.selectedHead;
    const selCell = sel === null ? undefined : byKey.get(`${sel.layer}:${sel.head}`);
    selectedText.textContent =
      selCell === undefined
        ? 'Override: select a head first.'
        : `Override of L${selCell.layer} H${selCell.head}:`;
    for (const [b, value] of overrideButtons) {
      b.toggleAttribute('disabled', selCell === undefined);
      b.setAttribute('aria-pressed', selCell?.override === value ? 'true' : 'false');
    }
  };

  const build = (L: number, Hh: number, from: number, to: number, dense: boolean): void => {
    grid.classList.toggle('dense', dense);
    grid.style.gridTemplateColumns = dense
      ? `auto repeat(${Hh}, minmax(0, 1fr))`
      : `auto repeat(${Hh}, minmax(3.5em, 1fr))`;
    const header = el(
      'div',
      { role: 'row', class: 'grid-row' },
      el('span', { class: 'axis', role: 'columnheader', 'aria-label': 'layer' }, ''),
      ...Array.from({ length: Hh }, (_, h) =>
        el(
          'span',
          { class: 'axis', role: 'columnheader', 'aria-label': `head ${h}` },
          // Dense: every fourth head is labelled (the status line names the rest).
          !dense || h % 4 === 0 ? `H${h}` : '',
        ),
      ),
    );
    elements = [];
    marked = null;
    const rows: HTMLElement[] = [];
    for (let l = from; l <= to && l < L; l++) {
      const row: HTMLElement[] = [];
      for (let h = 0; h < Hh; h++) {
        row.push(
          el(
            'div',
            { role: 'gridcell', class: 'cell', tabindex: -1, 'data-layer': l, 'data-head': h },
            el('span', { class: 'value' }),
            el('span', { class: 'marks', 'aria-hidden': 'true' }),
          ),
        );
      }
      elements.push(row);
      rows.push(
        el(
          'div',
          { role: 'row', class: 'grid-row' },
          el('span', { class: 'axis', role: 'rowheader' }, `L${l}`),
          ...row,
        ),
      );
    }
    replaceChildren(grid, header, ...rows);
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
      const { layers: L, heads: Hh } = r.model.metadata.architecture;
      const [from, to] = shownRange();
      const dense = Hh > TEXT_CELLS_MAX || to - from + 1 > TEXT_CELLS_MAX;
      frame.note.textContent = `Head statistic sₕ (${kind}), layers ${from}–${to} of ${L}; ${dense ? 'red edge' : 'outlined ⚑'} = flagged${shown.preview ? (model.canRun ? ' (preview — re-run pending)' : ' (preview of the edited controls — this panel cannot re-run)') : ''}; ▲ forced on, ▼ forced off.`;
      const key = `${L}:${Hh}:${from}:${to}`;
      if (key !== builtKey) {
        builtKey = key;
        const options = Array.from({ length: L }, (_, l) =>
          el('vscode-option', { value: l }, `layer ${l}`),
        );
        replaceChildren(fromPick.select, ...options);
        replaceChildren(toPick.select, ...options.map((o) => o.cloneNode(true)));
        build(L, Hh, from, to, dense);
        if (active !== null && (active.layer < from || active.layer > to || active.head >= Hh)) {
          active = null;
        }
      }
      fromPick.set(String(from));
      toPick.set(String(to));
      allLayers.toggleAttribute('disabled', from === 0 && to === L - 1);
      const sel = model.choices.selectedHead;
      marked = null;
      active ??=
        sel !== null && sel.layer >= from && sel.layer <= to ? sel : { layer: from, head: 0 };
      const scale = colourScale(list, model.choices.gridLogScale);
      byKey = new Map(list.map((c) => [`${c.layer}:${c.head}`, c]));
      const mode = model.controls.mode === 1;
      for (const cell of list) {
        const element = elements[cell.layer - from]?.[cell.head];
        if (element === undefined) continue;
        const override = overrideWord(cell.override);
        const selected = sel?.layer === cell.layer && sel.head === cell.head;
        element.className = `cell${cell.flagged ? ' flagged' : ''}${selected ? ' selected' : ''}`;
        element.dataset['flagged'] = cell.flagged ? 'true' : 'false';
        element.dataset['override'] = String(cell.override);
        element.dataset['statistic'] = String(cell.statistic);
        element.setAttribute('aria-selected', selected ? 'true' : 'false');
        if (selected) marked = element;
        element.setAttribute(
          'tabindex',
          active.layer === cell.layer && active.head === cell.head ? '0' : '-1',
        );
        element.setAttribute(
          'aria-label',
          `Layer ${cell.layer} head ${cell.head}: statistic ${formatNumber(cell.statistic)}, threshold ${formatNumber(cell.threshold)}, ${cell.flagged ? 'flagged' : 'not flagged'} (${reasonText(cell.reason, mode)}), override ${override}. Enter inspects; O cycles the override.`,
        );
        element.title = cellText(cell);
        const [value, marks] = element.children;
        if (value !== undefined) value.textContent = dense ? '' : formatNumber(cell.statistic);
        if (marks !== undefined) {
          marks.textContent = `${cell.flagged && !dense ? '⚑' : ''}${cell.override > 0 ? '▲' : cell.override < 0 ? '▼' : ''}`;
        }
        const t = scale(cell.statistic);
        element.style.background = heatColour(p, t);
        element.style.color = t > 0.55 && !p.highContrast ? p.background : p.foreground;
      }
      showStatus();
      const count = model.overrideCount();
      overrideCount.textContent =
        count === 0 ? 'No override set.' : `${count} override${count === 1 ? '' : 's'} set.`;
      overrideCount.dataset['count'] = String(count);
      clear.toggleAttribute('disabled', count === 0);
      showOverrideTarget();
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
    // A new selection moves the mark from one cell to another; values and colours stay.
    select() {
      const sel = model.choices.selectedHead;
      const [from] = shownRange();
      const next = sel === null ? undefined : elements[sel.layer - from]?.[sel.head];
      if (marked !== null && marked !== next) {
        marked.classList.remove('selected');
        marked.setAttribute('aria-selected', 'false');
      }
      marked = next ?? null;
      marked?.classList.add('selected');
      marked?.setAttribute('aria-selected', 'true');
      showStatus();
      showOverrideTarget();
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

/** The grid drawn on a canvas for the PNG export (values in the cells only when they fit). */
function drawGrid(cells: readonly Cell[], p: Palette, log: boolean): HTMLCanvasElement {
  const scale = colourScale(cells, log);
  const layers = Math.max(0, ...cells.map((c) => c.layer)) + 1;
  const heads = Math.max(0, ...cells.map((c) => c.head)) + 1;
  const dense = heads > TEXT_CELLS_MAX || layers > TEXT_CELLS_MAX;
  const size = dense ? 20 : 72;
  const margin = 40;
  const canvas = document.createElement('canvas');
  canvas.width = margin + heads * size + 8;
  canvas.height = margin + layers * size + 8;
  const ctx = canvas.getContext('2d');
  if (ctx === null) return canvas;
  ctx.fillStyle = p.background;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = `${dense ? 10 : 13}px ${p.fontFamily}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (let h = 0; h < heads; h += dense ? 4 : 1) {
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
    ctx.fillRect(x + 1, y + 1, size - 2, size - 2);
    if (c.flagged) {
      ctx.strokeStyle = p.flagged;
      ctx.lineWidth = dense ? 2 : 3;
      ctx.strokeRect(x + 2, y + 2, size - 4, size - 4);
    }
    if (dense) continue;
    ctx.fillStyle = t > 0.55 ? p.background : p.foreground;
    ctx.fillText(
      `${formatNumber(c.statistic)}${c.flagged ? ' ⚑' : ''}`,
      x + size / 2,
      y + size / 2,
    );
  }
  return canvas;
}
