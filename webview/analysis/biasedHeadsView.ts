// The biased heads the AR pass flagged, as a sortable table synced with the grid: selecting a
// row selects the head in the grid and the other way round.
import type { BiasedHeadSortKey } from '../../src/protocol/panelMessages';
import { el, formatNumber, formatPercent, replaceChildren } from '../kit/domBuilder';
import type { PanelModel } from './panelModel';
import { toCsv } from '../../src/shared/csv';
import { biasedHeadRows, type BiasedHeadRow } from './panelData';
import { sectionFrame } from '../kit/sectionFrame';
import type { View } from '../kit/view';

const COLUMNS: { key: BiasedHeadSortKey; label: string; title: string }[] = [
  { key: 'layer', label: 'Layer', title: 'Layer index (0-based)' },
  { key: 'head', label: 'Head', title: 'Head index (0-based)' },
  { key: 'statistic', label: 'sₕ', title: 'The head statistic sₕ' },
  { key: 'layerMean', label: 'Mean', title: 'Mean of the layer’s head statistics' },
  {
    key: 'aboveThreshold',
    label: 'Over thr.',
    title: 'sₕ − (1 + margin) × mean: how far above the head threshold',
  },
  {
    key: 'audioMoved',
    label: 'Audio Δ',
    title: 'Audio mass moved: before − after the intervention in this head',
  },
  {
    key: 'visualBefore',
    label: 'Visual',
    title: 'The head’s whole-row visual share before → after the intervention',
  },
];

/** The biased-heads section. */
export function biasedHeadsView(model: PanelModel): View {
  const rows = (): BiasedHeadRow[] => {
    const r = model.result;
    const shown = model.shown();
    return r === null || shown === null
      ? []
      : biasedHeadRows(r, shown, model.choices.biasedHeadSort);
  };
  const thead = el('thead');
  const tbody = el('tbody');
  const empty = el('p', { class: 'empty', hidden: true });
  const table = el(
    'table',
    { class: 'data-table', 'data-testid': 'biased-heads' },
    el('caption', { class: 'visually-hidden' }, 'Flagged heads'),
    thead,
    tbody,
  );
  const frame = sectionFrame(model, 'Biased heads flagged', 'biased-section', {
    name: 'biased-heads',
    csv: () => toCsv(rows() as unknown as Record<string, unknown>[]),
    json: () => rows(),
  });
  frame.body.append(el('div', { class: 'table-scroll' }, table), empty);

  const sortBy = (key: BiasedHeadSortKey): void => {
    const current = model.choices.biasedHeadSort;
    model.choose('biasedHeadSort', {
      key,
      descending: current.key === key ? !current.descending : key !== 'layer' && key !== 'head',
    });
  };

  return {
    element: frame.element,
    update() {
      // Redrawing replaces the rows and headers; keep keyboard focus where it was.
      const active = document.activeElement;
      const focusedRow =
        active instanceof HTMLElement && tbody.contains(active)
          ? `${active.dataset['layer']}:${active.dataset['head']}`
          : null;
      const focusedSort =
        active instanceof HTMLElement && thead.contains(active)
          ? active.dataset['sort']
          : undefined;
      const shown = model.shown();
      const list = rows();
      const sort = model.choices.biasedHeadSort;
      frame.note.textContent = shown?.preview
        ? 'Preview: the TS rule on this result’s masses with the edited controls (audio moved appears after the re-run).'
        : 'The heads the intervention run flagged.';
      replaceChildren(
        thead,
        el(
          'tr',
          {},
          ...COLUMNS.map((c) => {
            const active = sort.key === c.key;
            const th = el(
              'th',
              {
                scope: 'col',
                'aria-sort': active ? (sort.descending ? 'descending' : 'ascending') : 'none',
              },
              el(
                'button',
                { type: 'button', class: 'sort', title: `${c.title} — sort`, 'data-sort': c.key },
                c.label,
                active ? (sort.descending ? ' ▼' : ' ▲') : '',
              ),
            );
            th.querySelector('button')?.addEventListener('click', () => sortBy(c.key));
            return th;
          }),
        ),
      );
      const sel = model.choices.selectedHead;
      replaceChildren(
        tbody,
        ...list.map((row) => {
          const selected = sel?.layer === row.layer && sel.head === row.head;
          const tr = el(
            'tr',
            {
              tabindex: 0,
              class: selected ? 'selected' : undefined,
              'aria-selected': selected ? 'true' : 'false',
              'data-layer': row.layer,
              'data-head': row.head,
              title: `reason: ${row.reason}`,
            },
            el('td', {}, String(row.layer)),
            el('td', {}, String(row.head)),
            el('td', {}, formatNumber(row.statistic, 4)),
            el('td', {}, formatNumber(row.layerMean, 4)),
            el(
              'td',
              {},
              `${row.aboveThreshold >= 0 ? '+' : ''}${formatNumber(row.aboveThreshold, 3)}`,
            ),
            el('td', {}, row.audioMoved === null ? '—' : formatNumber(row.audioMoved, 3)),
            el(
              'td',
              {},
              `${formatPercent(row.visualBefore)} → ${row.visualAfter === null ? '—' : formatPercent(row.visualAfter)}`,
            ),
          );
          const select = (): void =>
            model.choose('selectedHead', { layer: row.layer, head: row.head });
          tr.addEventListener('click', select);
          tr.addEventListener('keydown', (event) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              select();
            }
          });
          return tr;
        }),
      );
      const refocus =
        focusedRow !== null
          ? tbody.querySelector<HTMLElement>(
              `tr[data-layer="${focusedRow.split(':')[0]}"][data-head="${focusedRow.split(':')[1]}"]`,
            )
          : focusedSort !== undefined
            ? thead.querySelector<HTMLElement>(`button[data-sort="${focusedSort}"]`)
            : null;
      refocus?.focus();
      empty.hidden = list.length > 0;
      empty.textContent =
        model.controls?.mode === 0
          ? 'No intervention (mode off): no heads are flagged.'
          : 'No head is flagged with these settings — see the threshold view for how far each is from flipping.';
    },
  };
}
