// Per-token attention of the answer position: the sampled frames with the visual tokens' weights
// as a patch heatmap, the audio token's weight over its time span on a strip under them, and the
// prompt's words highlighted by weight. Layer, head (or head average) and before/after pickers;
// before and after share one heatmap scale by default (each on its own would hide a 10⁶× change),
// and "before − after" draws the difference in diverging colours (as Compare draws A − B);
// hovering a token shows its exact weight and rank.
import type { AnalysisResult, TokenInfo } from '../../src/protocol/analysisResult';
import { canvasPngBase64 } from '../kit/chartCanvas';
import { el, formatNumber, replaceChildren } from '../kit/domBuilder';
import { selectControl } from '../kit/formControls';
import type { PanelModel } from './panelModel';
import { toCsv } from '../../src/shared/csv';
import { missingRowsNote, tokenWeights, type TokenWeight } from './panelData';
import { sectionFrame } from '../kit/sectionFrame';
import { cssOf, currentPalette, parseColour, type Palette } from '../kit/theme';
import { checkboxControl } from '../kit/formControls';
import type { View } from '../kit/view';
import {
  cellRect,
  gridFramePlacements,
  inputFrameSize,
  placementTokens,
  segmentShares,
  textKindName,
  type Rect,
} from './tokenGeometry';
import {
  audioLines,
  globalChips,
  kindLegend,
  segmentShareTable,
  textGroups,
} from './tokenSegmentsView';

const THUMB_PX = 150;
const GAP_PX = 10;
const STRIP_PX = 46;
const LABEL_PX = 18;
/** A contract-1.1 frame box's width: a 448 px input frame's 56 × 14 px strips draw 40 × 10. */
const LAYOUT_FRAME_PX = 320;

/** Where each token was drawn, for hover lookups (CSS pixels). */
interface HitBox {
  x: number;
  y: number;
  w: number;
  h: number;
  token: number;
}

/** A token in words; a contract-1.1 token also names its segment (by its label) and geometry. */
export function describeToken(t: TokenInfo, labels?: ReadonlyMap<string, string>): string {
  const segment = t.segment === undefined ? '' : `; ${labels?.get(t.segment) ?? t.segment}`;
  switch (t.modality) {
    case 'visual':
      if (t.global === true) return `visual token ${t.index} (global${segment})`;
      return `visual token ${t.index} (frame ${t.frame} at ${t.frameTimeSeconds.toFixed(2)} s, row ${t.row}, col ${t.col}${
        t.cell === undefined
          ? ''
          : `, ${t.cell.width} × ${t.cell.height} px at x ${t.cell.x}, y ${t.cell.y}`
      }${segment})`;
    case 'audio':
      return `audio token ${t.index} (${t.startSeconds.toFixed(2)}–${t.endSeconds.toFixed(2)} s${segment})`;
    case 'text':
      return `text token ${t.index} ("${t.text}"${
        t.kind === undefined ? '' : `, ${textKindName(t.kind, t.slot)}`
      }${t.word !== undefined && t.word !== t.text ? `, written "${t.word}"` : ''}${segment})`;
  }
}

function maxVisualOf(r: AnalysisResult, weights: readonly TokenWeight[]): number {
  return Math.max(
    0,
    ...r.tokens
      .filter((t) => t.modality === 'visual' && t.global !== true)
      .map((t) => weights[t.index]?.weight ?? 0),
  );
}

/** The per-token attention section. */
export function tokenAttentionView(model: PanelModel): View {
  const images = new Map<string, HTMLImageElement>();
  let hits: HitBox[] = [];
  let weights: TokenWeight[] = [];
  const canvas = el('canvas', {
    role: 'img',
    tabindex: 0,
    'aria-label':
      'Frames with the visual tokens’ attention as a heatmap, and the audio token on a time strip; arrow keys step through the tokens',
  });
  const words = el('p', { class: 'token-words', 'data-testid': 'text-tokens' });
  // Contract-1.1 parts (hidden for a contract-1 result, which renders as it always did).
  const chips = el('p', { class: 'token-chips', 'data-testid': 'token-globals', hidden: true });
  const audioLine = el('p', { class: 'token-audio', 'data-testid': 'token-audio', hidden: true });
  const legend = el('div', { hidden: true });
  const segmentCard = el('div', { class: 'segment-uap-card', hidden: true });
  let labels = new Map<string, string>();
  const hover = el('p', {
    class: 'token-hover',
    'aria-live': 'polite',
    'data-testid': 'token-hover',
  });
  const layerPick = selectControl('Layer', [], (v) => model.choose('tokenLayer', Number(v)), {
    'data-testid': 'token-layer',
  });
  const headPick = selectControl(
    'Head',
    [],
    (v) => model.choose('tokenHead', v === 'mean' ? 'mean' : Number(v)),
    { 'data-testid': 'token-head' },
  );
  const runPick = selectControl(
    'Attention',
    [
      { value: 'before', label: 'before intervention' },
      { value: 'after', label: 'after intervention' },
      { value: 'difference', label: 'before − after (difference)' },
    ],
    (v) => model.choose('tokenRun', v === 'before' || v === 'difference' ? v : 'after'),
    { 'data-testid': 'token-run' },
  );
  const sharedScale = checkboxControl(
    'One scale for before and after',
    (v) => model.choose('tokenSharedScale', v),
    { 'data-testid': 'token-shared-scale' },
  );
  /** Per token: before, after and before − after (the difference view's rows). */
  let differences: { index: number; before: number; after: number; difference: number }[] = [];
  const rows = (): Record<string, unknown>[] => {
    const r = model.result;
    if (r === null) return [];
    if (model.choices.tokenRun === 'difference') {
      return differences.map((d) => {
        const t = r.tokens[d.index];
        return {
          ...d,
          modality: t?.modality,
          description: t === undefined ? '' : describeToken(t, labels),
          ...(t?.segment === undefined ? {} : { segment: t.segment }),
        };
      });
    }
    return weights.map((w) => {
      const t = r.tokens[w.index];
      return {
        index: w.index,
        modality: t?.modality,
        ...(t?.segment === undefined ? {} : { segment: t.segment }),
        description: t === undefined ? '' : describeToken(t, labels),
        weight: w.weight,
        rank: w.rank,
      };
    });
  };
  const frame = sectionFrame(model, 'Per-token attention', 'tokens-section', {
    name: 'tokens',
    png: () => canvasPngBase64(canvas, currentPalette()),
    csv: () => toCsv(rows()),
    json: () => ({
      layer: model.choices.tokenLayer,
      head: model.choices.tokenHead,
      run: model.choices.tokenRun,
      tokens: rows(),
    }),
  });
  frame.body.append(
    el(
      'div',
      { class: 'controls-row' },
      layerPick.element,
      headPick.element,
      runPick.element,
      sharedScale.element,
    ),
    el('div', { class: 'token-canvas', 'data-testid': 'token-canvas' }, canvas),
    chips,
    audioLine,
    legend,
    words,
    hover,
    segmentCard,
  );

  let built: AnalysisResult | null = null;
  const describeAt = (index: number): string => {
    const r = model.result;
    const w = weights[index];
    const t = r?.tokens[index];
    if (r === null || w === undefined || t === undefined) return '';
    const d = differences[index];
    if (model.choices.tokenRun === 'difference' && d !== undefined) {
      return `${describeToken(t, labels)}: before ${formatNumber(d.before, 5)}, after ${formatNumber(d.after, 5)}, before − after ${formatNumber(d.difference, 4)}`;
    }
    return `${describeToken(t, labels)}: weight ${formatNumber(w.weight, 5)}, rank ${w.rank} of ${weights.length}`;
  };
  canvas.addEventListener('mousemove', (event) => {
    const box = canvas.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    const hit = hits.find((b) => x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h);
    hover.textContent = hit === undefined ? '' : describeAt(hit.token);
  });
  canvas.addEventListener('mouseleave', () => (hover.textContent = ''));
  // Keyboard: arrows step through the drawn tokens (frames, then audio) and read each one out.
  let cursor = -1;
  canvas.addEventListener('keydown', (event) => {
    if (hits.length === 0 || (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft')) return;
    event.preventDefault();
    cursor = (cursor + (event.key === 'ArrowRight' ? 1 : hits.length - 1)) % hits.length;
    const hit = hits[cursor];
    if (hit !== undefined) hover.textContent = describeAt(hit.token);
  });

  const view: View = {
    element: frame.element,
    update(p) {
      const r = model.result;
      if (r === null) return;
      const { layers: L, heads: Hh } = r.model.metadata.architecture;
      if (built !== r) {
        // Pickers depend on the checkpoint's shape; rebuild their options once per result.
        built = r;
        labels = new Map((r.layout?.segments ?? []).map((s) => [s.name, s.label]));
        fillLayerHeadPickers(layerPick.select, headPick.select, L, Hh);
      }
      const c = model.choices;
      layerPick.set(String(c.tokenLayer));
      headPick.set(String(c.tokenHead));
      runPick.set(c.tokenRun);
      sharedScale.set(c.tokenSharedScale);
      sharedScale.element.hidden = c.tokenRun === 'difference';
      const query = { run: 'intervention', layer: c.tokenLayer, head: c.tokenHead } as const;
      const beforeRow = model.tokenRow({ ...query, stage: 'before' });
      const afterRow = model.tokenRow({ ...query, stage: 'after' });
      // Rows on their way from the host: the view is drawn again when they arrive.
      const loading = beforeRow === undefined || afterRow === undefined;
      frame.element.dataset['rows'] = loading ? 'loading' : 'ready';
      frame.element.dataset['rowsFor'] = `${c.tokenLayer}:${c.tokenHead}`;
      const before = tokenWeights(beforeRow);
      const after = tokenWeights(afterRow);
      weights = c.tokenRun === 'before' ? before : after;
      differences = before.map((b) => {
        const a = after[b.index]?.weight ?? 0;
        return { index: b.index, before: b.weight, after: a, difference: b.weight - a };
      });
      const redraw = (): void => view.update(currentPalette());
      const ownMax = maxVisualOf(r, weights);
      const sharedMax = Math.max(maxVisualOf(r, before), maxVisualOf(r, after));
      const scale = c.tokenSharedScale ? sharedMax : ownMax;
      let scaleText: string;
      if (c.tokenRun === 'difference') {
        const max = Math.max(
          1e-12,
          ...r.tokens
            .filter((t) => t.modality === 'visual' && t.global !== true)
            .map((t) => Math.abs(differences[t.index]?.difference ?? 0)),
        );
        hits = drawTokenDifference(canvas, r, differences, max, p, images, redraw);
        canvas.dataset['scale'] = String(max);
        scaleText = `Blue: more attention before the intervention; orange: more after; opacity follows √(|before − after| ÷ ${formatNumber(max, 3)}), the largest visual difference.`;
      } else {
        hits = draw(canvas, r, weights, scale, p, images, redraw);
        canvas.dataset['scale'] = String(scale);
        scaleText = c.tokenSharedScale
          ? `The heatmap's opacity follows √(weight ÷ ${formatNumber(sharedMax, 3)}), the largest visual weight before or after, so before and after are comparable (this run's own largest: ${formatNumber(ownMax, 3)}).`
          : `The heatmap's opacity follows √(weight ÷ the largest visual weight of this run alone, ${formatNumber(ownMax, 3)}): before and after are NOT on one scale.`;
      }
      const show = (index: number): void => {
        hover.textContent = describeAt(index);
      };
      if (r.layout === undefined) {
        drawWords(words, r, weights, p, describeAt, show);
      } else {
        const context = { weights, describe: describeAt, show, palette: p, labels };
        replaceChildren(chips, el('span', { class: 'strip-label' }, 'Global visual tokens: '));
        chips.append(...globalChips(r, scale, context));
        replaceChildren(audioLine, ...audioLines(r, context));
        replaceChildren(legend, kindLegend());
        replaceChildren(words, ...textGroups(r, context));
        const l = c.tokenLayer;
        const head = c.tokenHead;
        const row = (run: 'before' | 'after'): number[] =>
          (run === 'before' ? before : after).map((w) => w.weight);
        const shares = segmentShares(r, row('before'), row('after'), model.choices.uapSkipFirst);
        replaceChildren(
          segmentCard,
          segmentShareTable(
            shares,
            `Attention share per named segment, layer ${l}, ${head === 'mean' ? 'heads averaged' : `head ${head}`}: Σ of the row over the segment ÷ Σ over ${model.choices.uapSkipFirst ? 'all positions but the first (as the UAP chart is set)' : 'all positions'}.`,
          ),
        );
      }
      for (const part of [chips, audioLine, legend, segmentCard]) {
        part.hidden = r.layout === undefined;
      }
      const which =
        c.tokenRun === 'difference'
          ? 'before − after the intervention'
          : `${c.tokenRun} the intervention`;
      const stored = model.rowSource?.index.stored.intervention.after ?? null;
      const source = model.rowSource;
      const failure =
        source?.failureOf({ ...query, stage: 'before' }) ??
        source?.failureOf({ ...query, stage: 'after' }) ??
        null;
      const missing =
        [
          source?.index.unavailable ?? missingRowsNote(stored, c.tokenHead),
          failure,
          loading ? 'Fetching the rows…' : null,
        ]
          .filter((text) => text !== null)
          .join(' ') || null;
      frame.note.textContent = `${missing === null ? '' : `${missing} `}Layer ${c.tokenLayer}, ${c.tokenHead === 'mean' ? 'heads averaged' : `head ${c.tokenHead}`}, ${which}. ${scaleText} ${c.tokenRun === 'difference' ? 'Only the visual tokens are differenced; the prompt’s words are shaded by the after run relative to its largest word. Hover a token for both weights.' : 'The audio strip is on an absolute 0–1 scale; words are shaded relative to the largest word. Hover a token for its exact weight and rank.'}${r.layout === undefined ? '' : ` Each grid cell is drawn at its rectangle in the model's ${r.model.metadata.frames.width} × ${r.model.metadata.frames.height} px input frame; global visual tokens are chips on the grid's scale.`}`;
    },
    // The inspected head is the view's layer and head: the whole view follows it.
    select(p) {
      view.update(p);
    },
  };
  return view;
}

/** The prompt's words of a contract-1 result, shaded relative to the largest word. */
function drawWords(
  words: HTMLElement,
  r: AnalysisResult,
  weights: readonly TokenWeight[],
  p: Palette,
  describeAt: (index: number) => string,
  show: (index: number) => void,
): void {
  const text = r.tokens.filter((t) => t.modality === 'text');
  const maxText = Math.max(1e-12, ...text.map((t) => weights[t.index]?.weight ?? 0));
  replaceChildren(
    words,
    el('span', { class: 'strip-label' }, 'Prompt: '),
    ...text.map((t) => {
      const w = weights[t.index]?.weight ?? 0;
      const span = el(
        'span',
        { class: 'word', title: describeAt(t.index), 'data-index': t.index, tabindex: 0 },
        t.modality === 'text' ? t.text : '',
      );
      span.style.background = cssOf({ ...p.heatHigh, a: 0.1 + 0.8 * (w / maxText) });
      span.addEventListener('mouseenter', () => show(t.index));
      span.addEventListener('focus', () => show(t.index));
      return span;
    }),
  );
}

/** The layer picker's options (layer 0…L−1) and the head picker's (the average, head 0…Hh−1). */
export function fillLayerHeadPickers(
  layerSelect: HTMLElement,
  headSelect: HTMLElement,
  L: number,
  Hh: number,
): void {
  replaceChildren(
    layerSelect,
    ...Array.from({ length: L }, (_, l) => el('vscode-option', { value: l }, `layer ${l}`)),
  );
  replaceChildren(
    headSelect,
    el('vscode-option', { value: 'mean' }, 'average of heads'),
    ...Array.from({ length: Hh }, (_, h) => el('vscode-option', { value: h }, `head ${h}`)),
  );
}

/**
 * Sizes a canvas to `width` × `height` CSS pixels at the screen's pixel ratio, clears it to the
 * theme's background and sets the text style; null without a 2D context.
 */
export function frameCanvas(
  canvas: HTMLCanvasElement,
  width: number,
  height: number,
  p: Palette,
): CanvasRenderingContext2D | null {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  if (ctx === null) return null;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = p.background;
  ctx.fillRect(0, 0, width, height);
  ctx.font = `12px ${p.fontFamily}`;
  ctx.textBaseline = 'middle';
  return ctx;
}

/**
 * Draws a frame's thumbnail dimmed to `alpha` (so a heatmap over it stays readable on busy
 * images) into a `size` × (`height` ?? `size`) box, loading each image once and redrawing when it
 * arrives; false when the result has no thumbnail of that frame.
 */
export function drawFrameThumbnail(
  ctx: CanvasRenderingContext2D,
  r: AnalysisResult,
  frame: number,
  box: { x: number; y: number; size: number; height?: number },
  alpha: number,
  images: Map<string, HTMLImageElement>,
  redraw: () => void,
): boolean {
  const thumb = r.thumbnails.find((t) => t.frame === frame);
  if (thumb === undefined) return false;
  let img = images.get(thumb.dataUri);
  if (img === undefined) {
    img = new Image();
    img.addEventListener('load', redraw, { once: true });
    img.src = thumb.dataUri;
    images.set(thumb.dataUri, img);
  }
  if (img.complete && img.naturalWidth > 0) {
    ctx.imageSmoothingEnabled = false;
    ctx.globalAlpha = alpha;
    ctx.drawImage(img, box.x, box.y, box.size, box.height ?? box.size);
    ctx.globalAlpha = 1;
  }
  return true;
}

/**
 * The frame box's size: a contract-1 result's square thumbnail, or a 1.1 result's box at the
 * input frame's aspect, large enough that a 56 × 14 px strip stays visible.
 */
function frameBoxSize(r: AnalysisResult): { width: number; height: number } {
  if (r.layout === undefined) return { width: THUMB_PX, height: THUMB_PX };
  const frame = inputFrameSize(r);
  return { width: LAYOUT_FRAME_PX, height: (LAYOUT_FRAME_PX * frame.height) / frame.width };
}

/** What the canvas says about the grid it drew (read by tests and assistive summaries). */
function markGrid(canvas: HTMLCanvasElement, drawn: Rect[], frameBox: Rect | undefined): void {
  canvas.dataset['gridCells'] = String(drawn.length);
  const first = drawn[0];
  canvas.dataset['cellSize'] = first === undefined ? '' : `${first.width}x${first.height}`;
  canvas.dataset['frameBox'] =
    frameBox === undefined
      ? ''
      : `${frameBox.x},${frameBox.y},${frameBox.width},${frameBox.height}`;
}

/**
 * Frames dimmed, each visual token's patch coloured by the sign (blue +, orange −) and size of a
 * difference (A − B in Compare, before − after here) against `max`; returns the hit boxes.
 */
export function drawTokenDifference(
  canvas: HTMLCanvasElement,
  r: AnalysisResult,
  diff: readonly { difference: number }[],
  max: number,
  p: Palette,
  images: Map<string, HTMLImageElement>,
  redraw: () => void,
): HitBox[] {
  const placements = gridFramePlacements(r);
  const size = frameBoxSize(r);
  const frame = inputFrameSize(r);
  const width = placements.length * size.width + (placements.length - 1) * GAP_PX;
  const height = LABEL_PX + size.height;
  const ctx = frameCanvas(canvas, width, height, p);
  if (ctx === null) return [];
  const positive = parseColour(p.visual);
  const negative = parseColour(p.audio);
  const hits: HitBox[] = [];
  const drawn: Rect[] = [];
  placements.forEach((placement, i) => {
    const x0 = i * (size.width + GAP_PX);
    const box = { x: x0, y: LABEL_PX, ...size };
    ctx.fillStyle = p.foreground;
    ctx.fillText(
      placement.segment === undefined
        ? `frame ${placement.gridFrame}`
        : `${placement.label} · frame ${placement.inputFrame}`,
      x0,
      LABEL_PX / 2,
    );
    drawFrameThumbnail(
      ctx,
      r,
      placement.inputFrame,
      { x: x0, y: LABEL_PX, size: size.width, height: size.height },
      0.45,
      images,
      redraw,
    );
    for (const t of placementTokens(r, placement)) {
      const d = diff[t.index]?.difference ?? 0;
      const colour = d >= 0 ? positive : negative;
      const cell = cellRect(t, box, frame, placement.grid);
      ctx.fillStyle = cssOf({ ...colour, a: 0.9 * Math.sqrt(Math.min(1, Math.abs(d) / max)) });
      ctx.fillRect(cell.x, cell.y, cell.width, cell.height);
      hits.push({ x: cell.x, y: cell.y, w: cell.width, h: cell.height, token: t.index });
      drawn.push(cell);
    }
  });
  markGrid(canvas, drawn, placements.length > 0 ? { x: 0, y: LABEL_PX, ...size } : undefined);
  return hits;
}

/** Draws frames, heatmap (opacity √(weight ÷ `scale`)) and audio strip; returns the hit boxes. */
function draw(
  canvas: HTMLCanvasElement,
  r: AnalysisResult,
  weights: readonly TokenWeight[],
  scale: number,
  p: Palette,
  images: Map<string, HTMLImageElement>,
  redraw: () => void,
): HitBox[] {
  const audio = r.tokens.filter((t) => t.modality === 'audio');
  const placements = gridFramePlacements(r);
  const size = frameBoxSize(r);
  const frame = inputFrameSize(r);
  const width = placements.length * size.width + (placements.length - 1) * GAP_PX;
  const height = LABEL_PX + size.height + GAP_PX + STRIP_PX + LABEL_PX;
  const ctx = frameCanvas(canvas, width, height, p);
  if (ctx === null) return [];
  const hits: HitBox[] = [];
  const drawn: Rect[] = [];
  const maxVisual = Math.max(1e-12, scale);
  placements.forEach((placement, i) => {
    const x0 = i * (size.width + GAP_PX);
    const y0 = LABEL_PX;
    const time = (r.clip.frameTimesSeconds[placement.inputFrame] ?? 0).toFixed(2);
    ctx.fillStyle = p.foreground;
    ctx.fillText(
      placement.segment === undefined
        ? `frame ${placement.gridFrame} · ${time} s`
        : `${placement.label} · frame ${placement.inputFrame} · ${time} s`,
      x0,
      LABEL_PX / 2,
    );
    const thumbBox = { x: x0, y: y0, size: size.width, height: size.height };
    if (!drawFrameThumbnail(ctx, r, placement.inputFrame, thumbBox, 0.55, images, redraw)) {
      ctx.fillStyle = p.gridLines;
      ctx.fillRect(x0, y0, size.width, size.height);
    }
    const box = { x: x0, y: y0, ...size };
    for (const t of placementTokens(r, placement)) {
      const w = (weights[t.index]?.weight ?? 0) / maxVisual;
      const cell = cellRect(t, box, frame, placement.grid);
      ctx.fillStyle = cssOf({ ...p.heatHigh, a: 0.85 * Math.sqrt(w) });
      ctx.fillRect(cell.x, cell.y, cell.width, cell.height);
      ctx.strokeStyle = cssOf({ ...p.heatLow, a: 0.2 });
      ctx.lineWidth = 1;
      ctx.strokeRect(cell.x + 0.5, cell.y + 0.5, cell.width - 1, cell.height - 1);
      hits.push({ x: cell.x, y: cell.y, w: cell.width, h: cell.height, token: t.index });
      drawn.push(cell);
    }
  });
  markGrid(canvas, drawn, placements.length > 0 ? { x: 0, y: LABEL_PX, ...size } : undefined);
  // The audio strip spans the clip's duration under the frames; each audio token's weight is a
  // bar over the time span it covers (the result has no samples, so no waveform is invented).
  const stripY = LABEL_PX + size.height + GAP_PX;
  const duration = Math.max(r.clip.durationSeconds, 1e-6);
  const xOf = (seconds: number): number =>
    (Math.min(Math.max(seconds, 0), duration) / duration) * width;
  ctx.fillStyle = p.gridLines;
  ctx.fillRect(0, stripY, width, STRIP_PX);
  for (const t of audio) {
    if (t.modality !== 'audio') continue;
    const w = weights[t.index]?.weight ?? 0;
    const x = xOf(t.startSeconds);
    const x1 = xOf(t.endSeconds);
    const h = Math.max(1, w * STRIP_PX);
    ctx.fillStyle = p.audio;
    ctx.fillRect(x, stripY + STRIP_PX - h, Math.max(1, x1 - x), h);
    hits.push({ x, y: stripY, w: Math.max(1, x1 - x), h: STRIP_PX, token: t.index });
    ctx.fillStyle = p.foreground;
    ctx.fillText(`audio token ${t.audioToken}: ${formatNumber(w, 4)}`, x + 6, stripY + 12);
  }
  ctx.fillStyle = p.foreground;
  for (const time of r.clip.frameTimesSeconds) {
    const x = xOf(time);
    ctx.fillRect(x - 0.5, stripY + STRIP_PX, 1, 5);
  }
  ctx.fillText('0 s', 0, stripY + STRIP_PX + LABEL_PX / 2 + 2);
  const end = `${duration.toFixed(2)} s`;
  ctx.fillText(end, width - ctx.measureText(end).width, stripY + STRIP_PX + LABEL_PX / 2 + 2);
  return hits;
}
