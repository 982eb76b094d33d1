// The Token imbalance section (the paper's Fig. 3c probe; issue 18 item 5; contract 1.2's
// `audio_repeat`): the clip run with its audio token repeated k times for the chosen k, in the
// host's engine (Run, progress per k, Cancel), and per k under off and the intervention: the
// answer, the probability of k = 1's answer and its Δ log p; then the audio UAP per layer against
// k as a chart with the same numbers as a table. A checkpoint without the input shows the reason
// instead of the controls. A probe whose controls are not those of the analysis shown is marked
// stale. Its messages bypass PanelModel (it owns its run's state); the result itself is the
// model's `imbalance`, kept across reloads like the analysis.
import type { ArControls } from '../../src/protocol/contract';
import {
  DEFAULT_AUDIO_REPEATS,
  IMBALANCE_UNAVAILABLE,
  parseAudioRepeats,
  type ImbalanceProgress,
  type ImbalanceResult,
} from '../../src/protocol/imbalance';
import type { HostToWebview } from '../../src/protocol/panelMessages';
import { toCsv } from '../../src/shared/csv';
import { ChartCanvas, shareLineOptions } from '../kit/chartCanvas';
import { LINE_DASHES } from '../kit/chartMarks';
import { el, formatNumber, formatPercent } from '../kit/domBuilder';
import { selectControl } from '../kit/formControls';
import { button, sectionFrame } from '../kit/sectionFrame';
import { currentPalette, withAlpha, type Palette } from '../kit/theme';
import type { View } from '../kit/view';
import { sameControls } from './panelData';
import type { PanelModel } from './panelModel';

/** The channel lane of probes. */
const LANE = 'imbalance';

const RUNS = ['off', 'intervention'] as const;
type ImbalanceRunName = (typeof RUNS)[number];

/** Layers beyond which the chart drops its legend (the table names every layer). */
const LEGEND_LAYERS = 8;

/** Where the section's probe stands. */
type ImbalanceStatus =
  | { kind: 'idle' }
  | { kind: 'running'; requestId: number; progress: ImbalanceProgress | null }
  | { kind: 'failed'; message: string; cancelled: boolean };

const signed = (v: number): string => `${v >= 0 ? '+' : '−'}${formatNumber(Math.abs(v))}`;

/** A number's cell: its text, and the number itself in `data-value` (what the table was drawn from). */
function numberCell(value: number, format: (v: number) => string, column: string): HTMLElement {
  return el(
    'td',
    { class: 'num', 'data-column': column, 'data-value': String(value) },
    format(value),
  );
}

/** The default k text: DEFAULT_AUDIO_REPEATS up to the model's cap. */
export function defaultRepeatsText(repeatMax: number): string {
  return DEFAULT_AUDIO_REPEATS.filter((k) => k <= repeatMax).join(', ');
}

/** The probe as flat records, one per k (CSV). */
function rows(r: ImbalanceResult): Record<string, unknown>[] {
  return r.points.map((p) => {
    const row: Record<string, unknown> = { k: p.k, tokens: p.tokens };
    for (const run of RUNS) {
      const o = p[run];
      const answer = r.answer[run];
      row[`${run}_prediction`] = r.labels[o.prediction] ?? o.prediction;
      row[`${run}_p_k1_answer`] = o.probabilities[answer] ?? '';
      row[`${run}_answer_log_prob_change`] = o.answerLogProbChange;
      o.audioUap.forEach((u, l) => (row[`${run}_audio_uap_L${l}`] = u));
    }
    return row;
  });
}

/** The Token imbalance section and the receiver of its host messages. */
export function imbalanceView(model: PanelModel): View & {
  /** Takes a host message of this section; false for the panel's others. */
  receive(message: HostToWebview): boolean;
  /** Sets what redraws the panel (its render). */
  onRedraw(fn: () => void): void;
} {
  let status: ImbalanceStatus = { kind: 'idle' };
  let uapRun: ImbalanceRunName = 'off';
  /** The k typed (null: the default for the model shown). */
  let typed: string | null = null;
  let redraw = (): void => undefined;
  /** The result (and UAP run) whose tables are drawn. */
  let drawn: { result: ImbalanceResult; run: ImbalanceRunName } | null = null;
  const chart = new ChartCanvas<'line'>(
    'Token imbalance: the audio UAP of each layer against k, the times the audio token is repeated',
    220,
    'imbalance-chart',
  );
  const frame = sectionFrame(model, 'Token imbalance', 'imbalance-section', {
    name: 'imbalance',
    png: () => chart.pngBase64(currentPalette()),
    csv: () => (model.imbalance === null ? '' : toCsv(rows(model.imbalance))),
    json: () => model.imbalance,
  });
  const repeatMax = (): number | undefined => model.result?.model.metadata.audio.repeatMax;
  const reason = el('p', { class: 'note', 'data-testid': 'imbalance-unavailable', hidden: true });
  const kField = el('input', {
    type: 'text',
    size: 24,
    'aria-label': 'k: how many times to repeat the audio token (comma-separated)',
    'data-testid': 'imbalance-k',
  });
  kField.addEventListener('change', () => {
    typed = kField.value;
  });
  const start = (): void => {
    const max = repeatMax();
    const controls: ArControls | null =
      model.controls ?? model.result?.intervention.controls ?? null;
    if (controls === null || max === undefined) return;
    typed = kField.value;
    const repeats = parseAudioRepeats(kField.value, max);
    if (typeof repeats === 'string') {
      status = { kind: 'failed', message: `k: ${repeats}`, cancelled: false };
      redraw();
      return;
    }
    const requestId = model.host.request(
      { type: 'runImbalance', controls: structuredClone(controls), repeats },
      LANE,
    );
    status = { kind: 'running', requestId, progress: null };
    redraw();
  };
  const run = button('Run the probe', start, { 'data-testid': 'imbalance-run' });
  const cancel = button(
    'Cancel',
    () => {
      if (status.kind === 'running') {
        model.host.notify({ type: 'cancelImbalance', run: status.requestId });
      }
    },
    { secondary: true, 'data-testid': 'imbalance-cancel' },
  );
  const progress = el('progress', {
    max: 1,
    value: 0,
    'data-testid': 'imbalance-progress',
    hidden: true,
  });
  const statusLine = el('span', {
    class: 'note',
    role: 'status',
    'data-testid': 'imbalance-status',
  });
  const controlsRow = el(
    'div',
    { class: 'toolbar' },
    el('label', {}, 'k ', kField),
    run,
    cancel,
    progress,
    statusLine,
  );
  const stale = el('p', { class: 'note stale', 'data-testid': 'imbalance-stale' });
  const table = el('table', { class: 'data-table', 'data-testid': 'imbalance-table' });
  const uapChoice = selectControl(
    'Audio UAP of',
    [
      { value: 'off', label: 'off (the model as it is)' },
      { value: 'intervention', label: 'the intervention' },
    ],
    (value) => {
      uapRun = value === 'intervention' ? 'intervention' : 'off';
      drawn = null;
      redraw();
    },
    { 'data-testid': 'imbalance-uap-run' },
  );
  const uapTable = el('table', {
    class: 'data-table compact',
    'data-testid': 'imbalance-uap-table',
  });
  const uapPart = el(
    'div',
    {},
    uapChoice.element,
    chart.element,
    el('div', { class: 'table-scroll' }, uapTable),
  );
  frame.body.append(
    reason,
    controlsRow,
    stale,
    el('div', { class: 'table-scroll' }, table),
    uapPart,
  );

  const drawTable = (r: ImbalanceResult): void => {
    const label = (i: number): string => r.labels[i] ?? String(i);
    table.replaceChildren(
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { rowspan: '2', scope: 'col' }, 'k'),
          el('th', { rowspan: '2', scope: 'col' }, 'N'),
          ...RUNS.map((run) =>
            el(
              'th',
              { colspan: '3', scope: 'colgroup' },
              `${run} (k = 1: ${label(r.answer[run])})`,
            ),
          ),
        ),
        el(
          'tr',
          {},
          ...RUNS.flatMap((run) => [
            el('th', { scope: 'col' }, 'answer'),
            el('th', { scope: 'col' }, `p(${label(r.answer[run])})`),
            el('th', { scope: 'col' }, 'Δ log p'),
          ]),
        ),
      ),
      el(
        'tbody',
        {},
        ...r.points.map((p) =>
          el(
            'tr',
            { 'data-k': String(p.k) },
            el('th', { scope: 'row' }, String(p.k)),
            el('td', { class: 'num' }, String(p.tokens)),
            ...RUNS.flatMap((run) => {
              const o = p[run];
              const changed = o.prediction !== r.answer[run];
              return [
                el(
                  'td',
                  { 'data-run': run, ...(changed ? { class: 'flagged' } : {}) },
                  `${label(o.prediction)}${changed ? ' (changed)' : ''}`,
                ),
                numberCell(o.probabilities[r.answer[run]] ?? 0, formatPercent, 'p'),
                numberCell(o.answerLogProbChange, signed, 'change'),
              ];
            }),
          ),
        ),
      ),
    );
  };

  const drawUapTable = (r: ImbalanceResult): void => {
    const layers = r.points[0]?.[uapRun].audioUap.length ?? 0;
    uapTable.replaceChildren(
      el(
        'caption',
        {},
        `Audio UAP per layer (${uapRun}): the head-averaged share of the answer row on all k audio copies`,
      ),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { scope: 'col' }, 'k'),
          ...Array.from({ length: layers }, (_, l) => el('th', { scope: 'col' }, `L${l}`)),
        ),
      ),
      el(
        'tbody',
        {},
        ...r.points.map((p) =>
          el(
            'tr',
            { 'data-k': String(p.k) },
            el('th', { scope: 'row' }, String(p.k)),
            ...p[uapRun].audioUap.map((u) => numberCell(u, formatPercent, 'uap')),
          ),
        ),
      ),
    );
  };

  const drawChart = (r: ImbalanceResult, palette: Palette): void => {
    const layers = r.points[0]?.[uapRun].audioUap.length ?? 0;
    const options = shareLineOptions('audio UAP');
    chart.set({
      type: 'line',
      data: {
        labels: r.points.map((p) => `k ${p.k}`),
        datasets: Array.from({ length: layers }, (_, l) => {
          // Later layers darker: the audio colour from faint (layer 0) to full (the last).
          const colour = withAlpha(palette.audio, 0.3 + (0.7 * l) / Math.max(1, layers - 1));
          return {
            label: `layer ${l}`,
            data: r.points.map((p) => p[uapRun].audioUap[l] ?? 0),
            borderColor: colour,
            backgroundColor: colour,
            borderWidth: 1.5,
            // A dash per layer too, so the lines part without colour.
            borderDash: LINE_DASHES[l % LINE_DASHES.length] ?? [],
            pointRadius: 2,
          };
        }),
      },
      options: {
        ...options,
        scales: {
          ...options?.scales,
          x: { title: { display: true, text: 'k (audio token repeated)' } },
        },
        plugins: {
          ...options?.plugins,
          legend: { display: layers <= LEGEND_LAYERS, position: 'bottom' },
        },
      },
    });
  };

  return {
    element: frame.element,
    update(palette) {
      const r = model.result;
      frame.element.hidden = r === null;
      if (r === null) return;
      const max = repeatMax();
      const available = max !== undefined;
      reason.hidden = available;
      reason.textContent = available ? '' : IMBALANCE_UNAVAILABLE;
      controlsRow.hidden = !available;
      const canRun = model.canRun && available;
      const running = status.kind === 'running';
      if (max !== undefined && document.activeElement !== kField) {
        kField.value = typed ?? defaultRepeatsText(max);
      }
      run.toggleAttribute('disabled', !canRun || running);
      kField.toggleAttribute('disabled', !canRun || running);
      cancel.hidden = !running;
      progress.hidden = !running;
      if (status.kind === 'running') {
        progress.setAttribute('max', String(status.progress?.total ?? 1));
        progress.setAttribute('value', String(status.progress?.done ?? 0));
      }
      statusLine.textContent =
        status.kind === 'running'
          ? `Running in the model’s worker: ${status.progress?.done ?? 0} of ${status.progress?.total ?? '…'} k values`
          : status.kind === 'failed'
            ? status.message
            : '';
      statusLine.dataset['state'] =
        status.kind === 'failed' && !status.cancelled ? 'error' : status.kind;
      frame.note.textContent = !available
        ? ''
        : model.canRun
          ? `The paper’s token-imbalance probe: the audio token repeated k times (N grows by k − 1; at most ${max}), under off and the intervention. Does the answer, or the audio’s share of attention, follow the number of audio tokens?`
          : 'The probe needs the model: Analyze the clip in VS Code to run it.';

      const result = available ? model.imbalance : null;
      const isStale = result !== null && !sameControls(result.controls, r.intervention.controls);
      stale.hidden = !isStale;
      stale.textContent = isStale
        ? 'Stale: this probe ran with other settings than the analysis shown — run it again.'
        : '';
      frame.element.dataset['stale'] = String(isStale);
      table.hidden = result === null;
      uapPart.hidden = result === null;
      uapChoice.set(uapRun);
      if (result === null) {
        table.replaceChildren();
        uapTable.replaceChildren();
        drawn = null;
        return;
      }
      if (drawn?.result !== result || drawn.run !== uapRun) {
        drawTable(result);
        drawUapTable(result);
        drawn = { result, run: uapRun };
      }
      drawChart(result, palette);
    },
    receive(message: HostToWebview): boolean {
      switch (message.type) {
        case 'imbalanceProgress':
          if (!model.host.isLatest(LANE, message.requestId) || status.kind !== 'running') {
            return true;
          }
          status = { ...status, progress: message.progress };
          redraw();
          return true;
        case 'imbalanceResult':
          if (!model.host.isLatest(LANE, message.requestId)) return true;
          status = { kind: 'idle' };
          model.setImbalance(message.result);
          return true;
        case 'imbalanceFailed':
          if (!model.host.isLatest(LANE, message.requestId)) return true;
          status = { kind: 'failed', message: message.message, cancelled: message.cancelled };
          redraw();
          return true;
        default:
          return false;
      }
    },
    onRedraw(fn: () => void) {
      redraw = fn;
    },
  };
}
