// The header: clip, checkpoint, where the model ran (and why other providers were skipped), the
// decoder, timings, the read-only banner, the evaluation a flipped clip was opened from, and
// whether this is the preview panel new analyses replace (with Pin to keep it); for a model with
// a transcript slot, the transcript fed, where it came from, and a field to type another; the
// generated answer without and with the intervention, when the result has one; for a model with
// FaceMAE / VideoMAE inputs, what each was fed ("zeros (as the public demo)" or the file).
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { FEATURE_LABELS, featureSourceText } from '../../src/shared/featureSourceText';
import { el, formatMs, replaceChildren } from '../kit/domBuilder';
import { button } from '../kit/sectionFrame';
import { audioHeardText } from './panelData';
import type { PanelModel } from './panelModel';
import type { View } from '../kit/view';

function fact(label: string, value: string, title?: string, testId?: string): HTMLElement {
  const dd = el('dd', { title, ...(testId === undefined ? {} : { 'data-testid': testId }) }, value);
  return el('div', { class: 'fact' }, el('dt', {}, label), dd);
}

const TRANSCRIPT_FROM = {
  'sidecar-txt': 'from the .txt next to the clip',
  'sidecar-srt': 'from the .srt next to the clip',
  'sidecar-vtt': 'from the .vtt next to the clip',
  manifest: 'from the manifest',
  typed: 'typed here',
  cli: 'from --transcript',
  none: "none found: the checkpoint's default",
} as const;

/** A model with FaceMAE / VideoMAE inputs: what each was fed (zeros or the file). */
function featureFacts(r: AnalysisResult): HTMLElement[] {
  const sources = r.settings.featureSources;
  if (sources === undefined) return [];
  return FEATURE_LABELS.flatMap(({ key, label }) => {
    const source = sources[key];
    if (source === undefined) return [];
    const text = featureSourceText(source);
    return [fact(label, text, text, `feature-${key}`)];
  });
}

/** The generated answer's facts (off and the intervention), when the result has one. */
function answerFacts(r: AnalysisResult): HTMLElement[] {
  const a = r.generatedAnswer;
  if (a === undefined) return [];
  const c = r.settings.controls;
  const name =
    c.mode === 0 ? 'off' : c.mode === 2 ? `PAI-style γ ${c.paiAlpha}` : `AR α ${c.alpha}`;
  const text = (g: typeof a.off) => `“${g.text}”${g.stoppedAt === 'eos' ? '' : ' …'}`;
  const title = (g: typeof a.off) =>
    `greedy ids ${g.ids.join(' ')}; ${g.stoppedAt === 'eos' ? 'ended at EOS' : `cut at ${a.maxTokens} tokens`}`;
  return [
    fact('Answer (off)', text(a.off), title(a.off), 'answer-off'),
    fact(`Answer (${name})`, text(a.intervention), title(a.intervention), 'answer-intervention'),
  ];
}

/** The transcript field: shown for a model with a transcript slot; Enter or Run re-runs. */
function transcriptField(model: PanelModel) {
  const input = el('input', {
    type: 'text',
    class: 'transcript-input',
    'data-testid': 'transcript-input',
    'aria-label': 'Transcript: what is said in the clip',
    placeholder: 'What is said in the clip',
  });
  const run = (): void => model.setTranscript(input.value);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') run();
  });
  const apply = button('Run', run, {
    secondary: true,
    'data-testid': 'transcript-run',
    title: 'Run the model with this transcript',
  });
  const source = el('span', { class: 'transcript-source', 'data-testid': 'transcript-source' });
  const element = el(
    'div',
    { class: 'transcript', 'data-testid': 'transcript' },
    el('label', {}, 'Transcript '),
    input,
    apply,
    source,
  );
  element.hidden = true;
  return {
    element,
    update(): void {
      const r = model.result;
      const slot = r?.model.metadata.prompt.slots?.['transcript'];
      element.hidden = r === null || slot === undefined;
      if (r === null || slot === undefined) return;
      const fed = r.settings.slots?.['transcript'] ?? slot.default;
      // Keep what the user is typing; show the fed transcript otherwise.
      if (document.activeElement !== input) input.value = model.transcript ?? fed;
      input.disabled = !model.canRun;
      apply.hidden = !model.canRun;
      const from = r.settings.transcriptSource;
      source.textContent = from === undefined ? '' : ` (${TRANSCRIPT_FROM[from]})`;
    },
  };
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
  const transcript = transcriptField(model);
  const element = el(
    'header',
    { class: 'panel-header' },
    title,
    source,
    preview,
    facts,
    transcript.element,
    details,
    banner,
  );
  return {
    element,
    update() {
      const r = model.result;
      const init = model.init;
      transcript.update();
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
        ...featureFacts(r),
        ...answerFacts(r),
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
