// The biased heads: first a per-layer summary (how many heads each layer flags, its strongest
// ones), then the heads as a sortable, filterable table (layer range, least statistic, flagged
// only) shown a page of PAGE_SIZE rows at a time, so 32 × 32 heads never render at once. Synced
// with the grid: a row (or a strongest head) inspects its head, and the selected head is marked.
import type { BiasedHeadFilter, BiasedHeadSortKey } from '../../src/protocol/panelMessages';
import { el, formatNumber, formatPercent, replaceChildren } from '../kit/domBuilder';
import { checkboxControl, selectControl } from '../kit/formControls';
import type { PanelModel } from './panelModel';
import { toCsv } from '../../src/shared/csv';
import { biasedHeadRows, layerFlagSummary, type BiasedHeadRow } from './panelData';
import { button, sectionFrame } from '../kit/sectionFrame';
import type { View } from '../kit/view';

/** Rows of the heads table on one page. */
export const PAGE_SIZE = 25;

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

/** A small bar of a layer's flagged share (set through CSSOM: the CSP has no inline styles). */
function countBar(share: number): HTMLElement {
  const bar = el('span', { class: 'count-bar', 'aria-hidden': 'true' });
  bar.style.width = `${Math.round(40 * share)}px`;
  return bar;
}

/** The biased-heads section. */
export function biasedHeadsView(model: PanelModel): View {
  const rows = (): BiasedHeadRow[] => {
    const r = model.result;
    const shown = model.shown();
    return r === null || shown === null
      ? []
      : biasedHeadRows(r, shown, model.choices.biasedHeadSort, model.choices.biasedHeadFilter);
  };
  let page = 0;
  const summaryBody = el('tbody');
  const summary = el(
    'table',
    { class: 'data-table compact', 'data-testid': 'biased-layers' },
    el('caption', { class: 'visually-hidden' }, 'Flagged heads per layer'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { scope: 'col' }, 'Layer'),
        el('th', { scope: 'col' }, 'Flagged'),
        el(
          'th',
          { scope: 'col', title: 'Flagged heads furthest above their threshold' },
          'Strongest',
        ),
      ),
    ),
    summaryBody,
  );
  const thead = el('thead');
  const tbody = el('tbody');
  const empty = el('p', { class: 'empty', hidden: true });
  const table = el(
    'table',
    { class: 'data-table', 'data-testid': 'biased-heads' },
    el('caption', { class: 'visually-hidden' }, 'Heads'),
    thead,
    tbody,
  );
  const filter = (edit: Partial<BiasedHeadFilter>): void => {
    page = 0;
    model.choose('biasedHeadFilter', { ...model.choices.biasedHeadFilter, ...edit });
  };
  const layerValue = (v: string): number | null => (v === 'any' ? null : Number(v));
  const fromPick = selectControl('Layers from', [], (v) => filter({ fromLayer: layerValue(v) }), {
    'data-testid': 'biased-from',
  });
  const toPick = selectControl('to', [], (v) => filter({ toLayer: layerValue(v) }), {
    'data-testid': 'biased-to',
  });
  const minId = 'biased-min-statistic';
  const minStatistic = el('input', {
    id: minId,
    type: 'number',
    step: 'any',
    class: 'slider-number',
    placeholder: 'any',
    'data-testid': 'biased-min',
  });
  minStatistic.addEventListener('change', () => {
    const v = Number(minStatistic.value);
    filter({ minStatistic: minStatistic.value === '' || !Number.isFinite(v) ? null : v });
  });
  const flaggedOnly = checkboxControl('Flagged heads only', (v) => filter({ flaggedOnly: v }), {
    'data-testid': 'biased-flagged-only',
  });
  const pageInfo = el('span', { class: 'page-info', 'data-testid': 'biased-page', role: 'status' });
  const turn = (by: number): void => {
    page += by;
    // The page is this view's own state; an unchanged choice redraws the panel.
    model.choose('biasedHeadSort', { ...model.choices.biasedHeadSort });
  };
  const previous = button('Previous', () => turn(-1), {
    secondary: true,
    'data-testid': 'biased-previous',
  });
  const next = button('Next', () => turn(1), { secondary: true, 'data-testid': 'biased-next' });
  const frame = sectionFrame(model, 'Biased heads flagged', 'biased-section', {
    name: 'biased-heads',
    csv: () => toCsv(rows() as unknown as Record<string, unknown>[]),
    json: () => rows(),
  });
  frame.body.append(
    el('h3', {}, 'Per layer'),
    el('div', { class: 'table-scroll layer-summary' }, summary),
    el('h3', {}, 'Heads'),
    el(
      'div',
      { class: 'controls-row' },
      fromPick.element,
      toPick.element,
      el('div', { class: 'field' }, el('label', { for: minId }, 'sₕ at least'), minStatistic),
      flaggedOnly.element,
    ),
    el('div', { class: 'table-scroll' }, table),
    empty,
    el('div', { class: 'controls-row pager' }, previous, pageInfo, next),
  );

  const sortBy = (key: BiasedHeadSortKey): void => {
    const current = model.choices.biasedHeadSort;
    page = 0;
    model.choose('biasedHeadSort', {
      key,
      descending: current.key === key ? !current.descending : key !== 'layer' && key !== 'head',
    });
  };
  let builtLayers = -1;

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
      const r = model.result;
      const shown = model.shown();
      if (r === null || shown === null) return;
      const L = r.model.metadata.architecture.layers;
      const f = model.choices.biasedHeadFilter;
      if (builtLayers !== L) {
        builtLayers = L;
        const options = [
          el('vscode-option', { value: 'any' }, 'any'),
          ...Array.from({ length: L }, (_, l) => el('vscode-option', { value: l }, `layer ${l}`)),
        ];
        replaceChildren(fromPick.select, ...options);
        replaceChildren(toPick.select, ...options.map((o) => o.cloneNode(true)));
      }
      fromPick.set(f.fromLayer === null ? 'any' : String(f.fromLayer));
      toPick.set(f.toLayer === null ? 'any' : String(f.toLayer));
      flaggedOnly.set(f.flaggedOnly);
      if (document.activeElement !== minStatistic) {
        minStatistic.value = f.minStatistic === null ? '' : String(f.minStatistic);
      }
      const list = rows();
      const pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
      page = Math.min(Math.max(0, page), pages - 1);
      const shownRows = list.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
      const sort = model.choices.biasedHeadSort;
      const sel = model.choices.selectedHead;
      frame.note.textContent = shown.preview
        ? 'Preview: the TS rule on this result’s masses with the edited controls (audio moved appears after the re-run).'
        : `The heads the intervention run flagged: ${shown.count} of ${L * r.model.metadata.architecture.heads}.`;
      replaceChildren(
        summaryBody,
        ...layerFlagSummary(shown).map((s) =>
          el(
            'tr',
            { 'data-layer': s.layer, 'data-flagged': s.flagged },
            el('td', {}, String(s.layer)),
            el('td', {}, countBar(s.flagged / Math.max(1, s.heads)), ` ${s.flagged} of ${s.heads}`),
            el(
              'td',
              {},
              ...s.strongest.map((h) => {
                const b = el(
                  'button',
                  {
                    type: 'button',
                    class: 'link-button',
                    'data-layer': s.layer,
                    'data-head': h.head,
                    title: `Inspect layer ${s.layer} head ${h.head}`,
                  },
                  `H${h.head} (+${formatNumber(h.aboveThreshold, 2)})`,
                );
                b.addEventListener('click', () => model.inspectHead(s.layer, h.head));
                return b;
              }),
              s.strongest.length === 0 ? '—' : '',
            ),
          ),
        ),
      );
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
      replaceChildren(
        tbody,
        ...shownRows.map((row) => {
          const selected = sel?.layer === row.layer && sel.head === row.head;
          const tr = el(
            'tr',
            {
              tabindex: 0,
              class:
                `${selected ? 'selected' : ''}${row.flagged ? '' : ' unflagged'}`.trim() ||
                undefined,
              'aria-selected': selected ? 'true' : 'false',
              'data-layer': row.layer,
              'data-head': row.head,
              'data-flagged': row.flagged ? 'true' : 'false',
              title: `reason: ${row.reason}`,
            },
            el('td', {}, String(row.layer)),
            el('td', {}, `${row.head}${row.flagged ? '' : ' (not flagged)'}`),
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
          const select = (): void => model.inspectHead(row.layer, row.head);
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
      pageInfo.textContent =
        list.length === 0
          ? 'No rows'
          : `Rows ${page * PAGE_SIZE + 1}–${page * PAGE_SIZE + shownRows.length} of ${list.length}`;
      pageInfo.dataset['rows'] = String(list.length);
      previous.toggleAttribute('disabled', page === 0);
      next.toggleAttribute('disabled', page >= pages - 1);
      empty.hidden = list.length > 0;
      const filtered =
        f.fromLayer !== null || f.toLayer !== null || f.minStatistic !== null || !f.flaggedOnly;
      empty.textContent =
        model.controls?.mode === 0
          ? 'No intervention (mode off): no heads are flagged.'
          : filtered
            ? 'No head passes this filter.'
            : 'No head is flagged with these settings — see the threshold view for how far each is from flipping.';
    },
    // A new selection moves the mark between the shown rows; the page and its order stay.
    select() {
      const sel = model.choices.selectedHead;
      for (const tr of tbody.querySelectorAll<HTMLElement>('tr[data-layer]')) {
        const selected =
          sel?.layer === Number(tr.dataset['layer']) && sel.head === Number(tr.dataset['head']);
        tr.classList.toggle('selected', selected);
        tr.setAttribute('aria-selected', selected ? 'true' : 'false');
      }
    },
  };
}
