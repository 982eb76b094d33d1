// The header: clip, checkpoint, where the model ran (and why other providers were skipped), the
// decoder, timings, the read-only banner, the evaluation a flipped clip was opened from, and
// whether this is the preview panel new analyses replace (with Pin to keep it).
import { el, formatMs, replaceChildren } from '../kit/domBuilder';
import { button } from '../kit/sectionFrame';
import { audioHeardText } from './panelData';
import type { PanelModel } from './panelModel';
import type { View } from '../kit/view';

function fact(label: string, value: string, title?: string, testId?: string): HTMLElement {
  const dd = el('dd', { title, ...(testId === undefined ? {} : { 'data-testid': testId }) }, value);
  return el('div', { class: 'fact' }, el('dt', {}, label), dd);
}

/** The clip and model header. */
export function headerView(model: PanelModel): View {
  const title = el('h1', { 'data-testid': 'clip-name' });
  const facts = el('dl', { class: 'facts' });
  const attempts = el('ul', { class: 'attempts' });
  const details = el(
    'details',
    { class: 'runtime-details' },
    el('summary', {}, 'Execution providers tried'),
    attempts,
  );
  const banner = el('div', {
    class: 'banner',
    role: 'note',
    'data-testid': 'read-only',
    hidden: true,
  });
  const source = el('p', { class: 'from-evaluation', 'data-testid': 'from-evaluation' });
  source.hidden = true;
  const previewNote = el('span', { 'data-testid': 'preview-state' });
  const pin = button('Pin', () => model.pin(), {
    secondary: true,
    'data-testid': 'pin',
    title: 'Keep this panel: the next analysis opens a new preview panel',
  });
  const preview = el('div', { class: 'preview-state' }, previewNote, pin);
  preview.hidden = true;
  const element = el(
    'header',
    { class: 'panel-header' },
    title,
    source,
    preview,
    facts,
    details,
    banner,
  );
  return {
    element,
    update() {
      const r = model.result;
      const init = model.init;
      const from = init?.fromEvaluation ?? null;
      source.hidden = from === null;
      source.textContent =
        from === null
          ? ''
          : `From evaluation ${from.evaluation}, setting ${from.setting} (${from.checkpoint}), ground truth ${from.groundTruth}`;
      source.title = from?.runDir ?? '';
      const state = init?.previewState;
      preview.hidden = state === undefined;
      preview.dataset['state'] = state ?? '';
      previewNote.textContent =
        state === 'preview'
          ? 'Preview: the next analysis replaces this panel.'
          : 'Pinned: this panel keeps its clip.';
      pin.hidden = state !== 'preview';
      banner.hidden = init === null || init.canRun;
      banner.textContent =
        init !== null && !init.canRun
          ? `Read-only: ${(init.readOnlyReason ?? 'runs are not available here').replace(/\.$/, '')}.`
          : '';
      if (r === null) {
        title.textContent = init === null ? 'Waiting for the extension…' : 'Analysing…';
        replaceChildren(facts);
        return;
      }
      title.textContent = r.clip.name;
      title.title = r.clip.path;
      const arch = r.model.metadata.architecture;
      const failed = r.runtime.attempts.filter((a) => !a.ok);
      const t = r.timings;
      replaceChildren(
        facts,
        fact('Duration', `${r.clip.durationSeconds.toFixed(2)} s`),
        fact(
          'Audio heard',
          audioHeardText(r.clip),
          'The model hears one window of the audio, centred on the clip (decode spec §6)',
          'audio-heard',
        ),
        fact(
          'Checkpoint',
          `${r.model.metadata.checkpoint.name} (${arch.layers} layers × ${arch.heads} heads${arch.mose ? ', MoSE' : ''})`,
          r.model.path,
          'checkpoint',
        ),
        fact(
          'Provider',
          `${r.runtime.provider}${failed.length > 0 ? ` (skipped: ${failed.map((a) => a.provider).join(', ')})` : ''}`,
        ),
        fact('Decoder', `${r.clip.decoder.backend === 'system' ? 'system ffmpeg' : 'ffmpeg.wasm'}`),
        fact(
          'Timings',
          `decode ${t.decodeCached ? 'cached' : formatMs(t.decodeMs)} · inference ${formatMs(t.inferenceMs)} · total ${formatMs(t.totalMs)}`,
          `session open ${formatMs(t.sessionOpenMs)}, ${t.sessionRuns} session runs (${t.sessionRunMs.map(formatMs).join(', ')}), analysis ${formatMs(t.analysisMs)}`,
        ),
      );
      replaceChildren(
        attempts,
        ...r.runtime.attempts.map((a) =>
          el(
            'li',
            { class: a.ok ? 'ok' : 'failed' },
            el('strong', {}, a.provider),
            a.ok ? ' — used' : ` — skipped: ${a.reason ?? 'failed'}`,
          ),
        ),
      );
    },
  };
}
