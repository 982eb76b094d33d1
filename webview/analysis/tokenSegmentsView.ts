// The parts of the per-token view that only a contract-1.1 result has: the global visual tokens
// as named chips, the audio tokens with the seconds they cover, the prompt grouped by segment with
// template words, slot pieces (the transcript) and special tokens told apart, and the share of
// the answer row on each named segment. Each builder returns fresh elements; the view swaps them in.
import type { AnalysisResult, TokenInfo } from '../../src/protocol/analysisResult';
import type { TextPositionKind } from '../../src/protocol/contract';
import { el, formatNumber, formatPercent } from '../kit/domBuilder';
import { cssOf, type Palette } from '../kit/theme';
import type { TokenWeight } from './panelData';
import { textKindName, type SegmentShare } from './tokenGeometry';

/** How a part shows a token and reports hover and focus on it. */
export interface TokenPartContext {
  weights: readonly TokenWeight[];
  /** The token in words with its weight (what hover shows). */
  describe: (index: number) => string;
  show: (index: number) => void;
  palette: Palette;
  /** Segment name → display label. */
  labels: ReadonlyMap<string, string>;
}

function focusable(element: HTMLElement, index: number, context: TokenPartContext): HTMLElement {
  const show = (): void => context.show(index);
  element.addEventListener('mouseenter', show);
  element.addEventListener('focus', show);
  return element;
}

/**
 * One chip per global visual token (FaceMAE, VideoMAE, EVA CLS …): its segment's label and its
 * weight, shaded on the grid's scale (opacity √(weight ÷ `scale`), capped at full).
 */
export function globalChips(r: AnalysisResult, scale: number, c: TokenPartContext): HTMLElement[] {
  return r.tokens
    .filter(
      (t): t is Extract<TokenInfo, { modality: 'visual' }> =>
        t.modality === 'visual' && t.global === true,
    )
    .map((t) => {
      const w = c.weights[t.index]?.weight ?? 0;
      const label = c.labels.get(t.segment ?? '') ?? t.segment ?? `token ${t.index}`;
      const chip = el(
        'span',
        {
          class: 'token-chip',
          tabindex: 0,
          title: c.describe(t.index),
          'data-index': t.index,
          'data-segment': t.segment,
          'data-weight': w,
        },
        el('span', { class: 'chip-label' }, label),
        ' ',
        el('span', { class: 'chip-value' }, formatNumber(w, 2)),
      );
      const a = 0.85 * Math.sqrt(Math.min(1, w / Math.max(scale, 1e-12)));
      chip.style.background = cssOf({ ...c.palette.heatHigh, a });
      return focusable(chip, t.index, c);
    });
}

/** One line per audio token: its segment, the clip seconds it covers and its weight. */
export function audioLines(r: AnalysisResult, c: TokenPartContext): HTMLElement[] {
  const window = r.clip.audioWindow;
  return r.tokens
    .filter((t): t is Extract<TokenInfo, { modality: 'audio' }> => t.modality === 'audio')
    .map((t) => {
      const label = c.labels.get(t.segment ?? '') ?? t.segment ?? 'audio';
      const w = c.weights[t.index]?.weight ?? 0;
      const line = el(
        'span',
        {
          class: 'token-audio-span',
          tabindex: 0,
          title: c.describe(t.index),
          'data-index': t.index,
          'data-start-seconds': t.startSeconds,
          'data-end-seconds': t.endSeconds,
        },
        `${label}: the clip's ${t.startSeconds.toFixed(2)}–${t.endSeconds.toFixed(2)} s (audio fed: ${window.seconds.toFixed(2)} s from ${window.startSeconds.toFixed(2)} s), weight ${formatNumber(w, 3)}`,
      );
      return focusable(line, t.index, c);
    });
}

/** The legend of the prompt's kinds, each swatch styled as the words it names. */
export function kindLegend(): HTMLElement {
  const kinds: [TextPositionKind, string][] = [
    ['template', 'template word'],
    ['slot', 'transcript (slot)'],
    ['special', 'special token'],
  ];
  return el(
    'p',
    { class: 'token-words token-legend', 'data-testid': 'text-kind-legend' },
    el('span', { class: 'strip-label' }, 'Prompt kinds: '),
    ...kinds.map(([kind, name]) =>
      el('span', { class: `word kind-${kind}`, 'data-kind': kind }, name),
    ),
  );
}

/**
 * The prompt's positions grouped by text segment (in layout order), each word classed by kind
 * (`kind-template`, `kind-slot`, `kind-special`) and shaded relative to the largest word; a
 * visually hidden suffix names a slot piece's or special token's kind for screen readers.
 */
export function textGroups(r: AnalysisResult, c: TokenPartContext): HTMLElement[] {
  const text = r.tokens.filter(
    (t): t is Extract<TokenInfo, { modality: 'text' }> => t.modality === 'text',
  );
  const maxText = Math.max(1e-12, ...text.map((t) => c.weights[t.index]?.weight ?? 0));
  const segments = (r.layout?.segments ?? []).filter((s) => s.modality === 'text');
  return segments.map((s) =>
    el(
      'span',
      { class: 'token-group', 'data-segment': s.name },
      el('span', { class: 'strip-label' }, `${s.label}: `),
      ...text
        .filter((t) => t.segment === s.name)
        .map((t) => {
          const kind = t.kind ?? 'template';
          const w = c.weights[t.index]?.weight ?? 0;
          const span = el(
            'span',
            {
              class: `word kind-${kind}`,
              'data-kind': kind,
              'data-index': t.index,
              title: c.describe(t.index),
              tabindex: 0,
            },
            t.word ?? t.text,
            kind === 'template'
              ? null
              : el('span', { class: 'visually-hidden' }, ` (${textKindName(kind, t.slot)})`),
          );
          span.style.background = cssOf({ ...c.palette.heatHigh, a: 0.1 + 0.8 * (w / maxText) });
          return focusable(span, t.index, c);
        }),
    ),
  );
}

/** The per-segment UAP table: each named segment's share of the row before and after. */
export function segmentShareTable(shares: readonly SegmentShare[], caption: string): HTMLElement {
  const bar = (share: number): HTMLElement => {
    const b = el('span', { class: 'share-bar', 'aria-hidden': 'true' });
    b.style.width = `${Math.max(0, Math.min(1, share)) * 100}%`;
    return b;
  };
  return el(
    'table',
    { class: 'segment-uap', 'data-testid': 'segment-uap' },
    el('caption', {}, caption),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { scope: 'col' }, 'Segment'),
        el('th', { scope: 'col' }, 'Modality'),
        el('th', { scope: 'col' }, 'Positions'),
        el('th', { scope: 'col' }, 'Before'),
        el('th', { scope: 'col' }, 'After'),
      ),
    ),
    el(
      'tbody',
      {},
      ...shares.map((s) =>
        el(
          'tr',
          {
            'data-segment': s.name,
            'data-before': s.before,
            'data-after': s.after,
          },
          el('th', { scope: 'row', title: s.name }, s.label),
          el('td', {}, s.modality),
          el('td', {}, s.count === 1 ? `${s.start}` : `${s.start}–${s.start + s.count - 1}`),
          el('td', { class: 'share' }, formatPercent(s.before), bar(s.before)),
          el('td', { class: 'share' }, formatPercent(s.after), bar(s.after)),
        ),
      ),
    ),
  );
}
