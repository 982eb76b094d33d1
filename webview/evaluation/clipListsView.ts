// The clips whose answer flips under a setting (each opens its Analysis panel with that
// checkpoint and setting), and the clips that could not be evaluated, with their errors.
import { benchmarkCsvTables } from '../../src/shared/benchmarkCsv';
import { el, replaceChildren } from '../kit/domBuilder';
import { sectionFrame } from '../kit/sectionFrame';
import type { View } from '../kit/view';
import { dynamicSelect } from '../kit/dynamicSelect';
import {
  FLIP_DIRECTION_TEXT,
  flipOptions,
  refKey,
  resolveRef,
  settingOf,
  settingRefs,
  sortFlips,
  type FlipSort,
  type FlipSortKey,
} from './evaluationData';
import type { EvaluationModel, SettingRef } from './evaluationModel';

const FLIP_COLUMNS: { key: FlipSortKey; label: string; title: string }[] = [
  { key: 'clip', label: 'clip', title: 'The clip’s path in the manifest' },
  { key: 'subset', label: 'subset', title: 'The clip’s subset' },
  { key: 'truth', label: 'truth', title: 'The ground-truth label' },
  { key: 'before', label: 'before (off)', title: 'The answer without the intervention' },
  { key: 'after', label: 'after (setting)', title: 'The answer under the chosen setting' },
  {
    key: 'direction',
    label: 'direction',
    title: 'Wrong → right, right → wrong, or wrong → other wrong',
  },
];

/** The flips section. */
export function flipsView(model: EvaluationModel): View {
  let current: SettingRef | null = null;
  // The list's order: the summary's until a header is clicked (ascending, then descending).
  let sort: FlipSort | null = null;
  const picker = dynamicSelect('Checkpoint and setting', 'eval-flips-pick', (key) => {
    const ref = settingRefs(model.summary, false).find((r) => refKey(r) === key);
    if (ref !== undefined) model.choose('flips', ref);
  });
  // Its labels carry the flip counts: wide enough to read them whole.
  picker.select.classList.add('wide');
  const list = el('div', { class: 'table-scroll' });
  const flips = () => settingOf(model.summary, current)?.setting.flips ?? [];
  const frame = sectionFrame(model, 'Answers that flip under the intervention', 'eval-flips', {
    name: 'flips',
    csv: () =>
      model.summary === null ? '' : (benchmarkCsvTables(model.summary)['flips.csv'] ?? ''),
    json: () => ({ ...current, flips: flips() }),
  });
  frame.body.append(el('div', { class: 'controls-row' }, picker.element), list);
  const draw = (): void => {
    // Redrawing replaces the headers; keep keyboard focus on the sort button pressed.
    const active = document.activeElement;
    const focusedSort =
      active instanceof HTMLElement && list.contains(active) ? active.dataset['sort'] : undefined;
    const refs = settingRefs(model.summary, false);
    current = resolveRef(refs, model.choices.flips, (r) => r.setting === 'ar');
    picker.set(flipOptions(model.summary, refs), current === null ? null : refKey(current));
    const labels = model.summary?.labels ?? [];
    const canOpen = model.init?.canOpenClips === true;
    frame.note.textContent = canOpen
      ? 'Against the off run. Click a clip (or press Enter) to open its Analysis panel with this checkpoint and setting; click a column header to sort.'
      : 'Against the off run. Click a column header to sort.';
    const shown = sortFlips(flips(), labels, sort);
    if (shown.length === 0) {
      replaceChildren(
        list,
        el('p', { class: 'empty', 'data-testid': 'eval-flips' }, 'No answer flips.'),
      );
      return;
    }
    const ref = current;
    const name = (i: number) => labels[i] ?? String(i);
    const rows = shown.map((f) => {
      const row = el(
        'tr',
        { 'data-path': f.path, 'data-clip': f.clip, 'data-kind': f.kind },
        el('td', { class: 'text' }, f.path),
        el('td', { class: 'text' }, f.subset ?? ''),
        el('td', { class: 'text' }, name(f.label)),
        el('td', { class: 'text' }, name(f.before)),
        el('td', { class: 'text' }, name(f.after)),
        el('td', { class: 'text' }, FLIP_DIRECTION_TEXT[f.kind]),
      );
      if (canOpen && ref !== null) {
        row.tabIndex = 0;
        row.classList.add('clickable');
        row.title = `Open ${f.path} in the Analysis panel`;
        const open = () => model.openClip(f.clip, ref);
        row.addEventListener('click', open);
        row.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            open();
          }
        });
      }
      return row;
    });
    const headers = FLIP_COLUMNS.map((c) => {
      const active = sort?.key === c.key;
      const direction = sort?.descending === true ? 'descending' : 'ascending';
      const button = el(
        'button',
        { type: 'button', class: 'sort', title: `${c.title} — sort`, 'data-sort': c.key },
        c.label,
        active ? (direction === 'descending' ? ' ▼' : ' ▲') : '',
      );
      button.addEventListener('click', () => {
        sort = { key: c.key, descending: active && sort?.descending !== true };
        draw();
      });
      return el(
        'th',
        { scope: 'col', class: 'text', 'aria-sort': active ? direction : 'none' },
        button,
      );
    });
    replaceChildren(
      list,
      el(
        'table',
        { class: 'data-table compact clip-list', 'data-testid': 'eval-flips' },
        el('thead', {}, el('tr', {}, ...headers)),
        el('tbody', {}, ...rows),
      ),
    );
    if (focusedSort !== undefined) {
      list.querySelector<HTMLElement>(`button[data-sort="${focusedSort}"]`)?.focus();
    }
  };
  return { element: frame.element, update: draw };
}

/** The failed clips section (hidden when every clip was read). */
export function failedView(model: EvaluationModel): View {
  const frame = sectionFrame(model, 'Clips that could not be evaluated', 'eval-failed', {
    name: 'failed',
    csv: () =>
      model.summary === null ? '' : (benchmarkCsvTables(model.summary)['failed.csv'] ?? ''),
    json: () => model.summary?.failed ?? [],
  });
  frame.element.dataset['testid'] = 'eval-failed';
  frame.note.textContent = 'These clips were skipped; the rest of the run went on.';
  return {
    element: frame.element,
    update() {
      const failed = model.summary?.failed ?? [];
      frame.element.hidden = failed.length === 0;
      const rows = failed.map((f) =>
        el(
          'tr',
          { 'data-path': f.path },
          el('td', { class: 'text' }, f.path),
          el('td', { class: 'text' }, f.checkpoint ?? 'all'),
          el('td', { class: 'text' }, f.code),
          el('td', { class: 'text wrap' }, f.message),
        ),
      );
      replaceChildren(
        frame.body,
        el(
          'div',
          { class: 'table-scroll' },
          el(
            'table',
            { class: 'data-table compact clip-list' },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                ...['clip', 'checkpoint', 'code', 'error'].map((h) =>
                  el('th', { scope: 'col', class: 'text' }, h),
                ),
              ),
            ),
            el('tbody', {}, ...rows),
          ),
        ),
      );
    },
  };
}
