// The clips whose answer flips under a setting (each opens its Analysis panel with that
// checkpoint and setting), and the clips that could not be evaluated, with their errors.
import { benchmarkCsvTables } from '../../src/shared/benchmarkCsv';
import { el, replaceChildren } from '../kit/domBuilder';
import { sectionFrame } from '../kit/sectionFrame';
import type { View } from '../kit/view';
import { dynamicSelect } from '../kit/dynamicSelect';
import { refKey, refOptions, resolveRef, settingOf, settingRefs } from './evaluationData';
import type { EvaluationModel, SettingRef } from './evaluationModel';

const KIND_TEXT = {
  'wrong-to-right': 'wrong → right',
  'right-to-wrong': 'right → wrong',
  'wrong-to-wrong': 'wrong → other wrong',
} as const;

/** The flips section. */
export function flipsView(model: EvaluationModel): View {
  let current: SettingRef | null = null;
  const picker = dynamicSelect('Checkpoint and setting', 'eval-flips-pick', (key) => {
    const ref = settingRefs(model.summary, false).find((r) => refKey(r) === key);
    if (ref !== undefined) model.choose('flips', ref);
  });
  const list = el('div', { class: 'table-scroll' });
  const flips = () => settingOf(model.summary, current)?.setting.flips ?? [];
  const frame = sectionFrame(model, 'Answers that flip under the intervention', 'eval-flips', {
    name: 'flips',
    csv: () =>
      model.summary === null ? '' : (benchmarkCsvTables(model.summary)['flips.csv'] ?? ''),
    json: () => ({ ...current, flips: flips() }),
  });
  frame.body.append(el('div', { class: 'controls-row' }, picker.element), list);
  return {
    element: frame.element,
    update() {
      const refs = settingRefs(model.summary, false);
      current = resolveRef(refs, model.choices.flips, (r) => r.setting === 'ar');
      picker.set(refOptions(refs), current === null ? null : refKey(current));
      const labels = model.summary?.labels ?? [];
      const canOpen = model.init?.canOpenClips === true;
      frame.note.textContent = canOpen
        ? 'Against the off run. Click a clip (or press Enter) to open its Analysis panel with this checkpoint and setting.'
        : 'Against the off run.';
      const shown = flips();
      if (shown.length === 0) {
        replaceChildren(
          list,
          el('p', { class: 'empty', 'data-testid': 'eval-flips' }, 'No answer flips.'),
        );
        return;
      }
      const ref = current;
      const rows = shown.map((f) => {
        const row = el(
          'tr',
          { 'data-path': f.path, 'data-clip': f.clip, 'data-kind': f.kind },
          el('td', { class: 'text' }, f.path),
          el('td', { class: 'text' }, f.subset ?? ''),
          el('td', { class: 'text' }, labels[f.label] ?? String(f.label)),
          el(
            'td',
            { class: 'text' },
            `${labels[f.before] ?? f.before} → ${labels[f.after] ?? f.after}`,
          ),
          el('td', { class: 'text' }, KIND_TEXT[f.kind]),
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
      replaceChildren(
        list,
        el(
          'table',
          { class: 'data-table compact clip-list', 'data-testid': 'eval-flips' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ...['clip', 'subset', 'truth', 'off → setting', 'kind'].map((h) =>
                el('th', { scope: 'col', class: 'text' }, h),
              ),
            ),
          ),
          el('tbody', {}, ...rows),
        ),
      );
    },
  };
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
