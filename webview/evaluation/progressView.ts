// The run's header: manifest, run folder, where an evaluated choice's setting was chosen (with
// the selection-on-test warning), status, a progress bar with the ETA, Cancel, and the failure
// or cancellation message.
import { chosenByText, SELECTION_ON_TEST_WARNING } from '../../src/shared/chosenByText';
import { durationText } from '../../src/shared/durationText';
import { el, replaceChildren } from '../kit/domBuilder';
import { button } from '../kit/sectionFrame';
import type { View } from '../kit/view';
import type { EvaluationModel } from './evaluationModel';

const STATUS_TEXT = {
  running: 'Running',
  finished: 'Finished',
  cancelled: 'Stopped',
  failed: 'Failed',
} as const;

/** The header and progress view. */
export function progressView(model: EvaluationModel): View {
  const title = el('h1', {});
  const note = el('p', { class: 'note', 'data-testid': 'eval-run-dir' });
  const chosen = el('p', { class: 'note', 'data-testid': 'eval-chosen-by' });
  const selection = el('p', {
    class: 'banner',
    role: 'alert',
    'data-kind': 'failed',
    'data-testid': 'eval-selection-on-test',
  });
  const bar = el('progress', { max: 1, value: 0, 'aria-label': 'Clips evaluated' });
  const text = el('span', { class: 'progress-text', 'aria-live': 'polite' });
  const cancel = button('Cancel', () => model.cancel(), {
    secondary: true,
    'data-testid': 'eval-cancel',
  });
  const progress = el(
    'div',
    { class: 'controls-row eval-progress', 'data-testid': 'eval-progress' },
    bar,
    text,
    cancel,
  );
  const banner = el('p', { class: 'banner', role: 'status', 'data-testid': 'eval-status' });
  const saveStatus = el('p', { class: 'note', 'data-testid': 'eval-save-status' });
  const element = el(
    'header',
    { class: 'panel-header eval-header' },
    title,
    note,
    chosen,
    selection,
    progress,
    banner,
    saveStatus,
  );
  return {
    element,
    update() {
      const init = model.init;
      title.textContent = `Evaluation: ${init?.title ?? '…'}`;
      note.textContent = init?.runDirNote ?? '';
      const marked = (model.summary?.checkpoints ?? []).flatMap((c) =>
        c.settings.flatMap((s) => (s.chosenBy === undefined ? [] : [{ c, s, by: s.chosenBy }])),
      );
      chosen.textContent = marked
        .map(({ c, s, by }) => `${c.name}: setting ${s.title} ${chosenByText(by)}: ${by.ruleText}`)
        .join('; ');
      chosen.hidden = marked.length === 0;
      selection.textContent = marked.some((m) => m.by.sameManifest)
        ? `Warning, ${SELECTION_ON_TEST_WARNING}.`
        : '';
      selection.hidden = selection.textContent === '';
      const p = model.progress;
      const running = model.status === 'running';
      progress.dataset['status'] = model.status;
      bar.max = Math.max(1, p?.total ?? 1);
      bar.value = p?.done ?? 0;
      progress.dataset['done'] = String(p?.done ?? 0);
      progress.dataset['total'] = String(p?.total ?? 0);
      const parts: string[] = [];
      if (p !== null) {
        parts.push(`${p.done}/${p.total} clips`);
        if (p.resumed > 0) parts.push(`resumed ${p.resumed} clips from an earlier run`);
        if (p.failed > 0) parts.push(`${p.failed} unreadable`);
        if (running && p.etaMs !== null) parts.push(`about ${durationText(p.etaMs)} left`);
        else parts.push(`${durationText(p.elapsedMs)} elapsed`);
      }
      replaceChildren(
        text,
        `${STATUS_TEXT[model.status]}${parts.length ? ': ' : ''}${parts.join(', ')}`,
      );
      cancel.hidden = !running || !model.host.hasHost;
      banner.textContent = model.error ?? '';
      banner.hidden = model.error === null;
      banner.dataset['kind'] = model.status;
      saveStatus.textContent = model.saveStatus ?? '';
    },
  };
}
