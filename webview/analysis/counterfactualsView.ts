// The Counterfactuals section: runs the clip's modality counterfactuals in the host's engine
// (Run, Cancel, a partner picked per modality) and shows each variant — original, audio silenced
// or swapped, frames grey or swapped, transcript removed — under off and the intervention: the
// answer, every label's probability as a compact bar, the change of the original answer's
// log-probability; then the verdict per run with its rule. A result whose controls are not those
// of the analysis shown is marked stale. Its messages bypass PanelModel (it owns its run's state);
// the result itself is the model's `counterfactuals`, kept across reloads like the analysis.
import type { ArControls } from '../../src/protocol/contract';
import type {
  CounterfactualResult,
  CounterfactualRun,
  CounterfactualVariant,
  VariantOutcome,
} from '../../src/protocol/counterfactualResult';
import type { HostToWebview } from '../../src/protocol/panelMessages';
import { toCsv } from '../../src/shared/csv';
import { el, formatNumber, formatPercent } from '../kit/domBuilder';
import { button, sectionFrame } from '../kit/sectionFrame';
import type { View } from '../kit/view';
import { sameControls } from './panelData';
import type { PanelModel } from './panelModel';

/** The channel lane of counterfactual runs. */
const LANE = 'counterfactuals';

/** Where the section's run stands. */
type CounterfactualStatus =
  | { kind: 'idle' }
  | { kind: 'running'; requestId: number; startedMs: number }
  | { kind: 'failed'; message: string; cancelled: boolean };

/** The variants that only stand beside the verdict. */
const NOT_DECIDING = new Set(['audio-silenced', 'frames-grey', 'transcript-removed']);

const RUN_TITLES: Record<CounterfactualRun, string> = { off: 'off', intervention: 'intervention' };

/** A variant's name in the table. */
export function variantTitle(result: CounterfactualResult, variant: CounterfactualVariant): string {
  const partner = result.partners.find((p) => p.path === variant.partner);
  const from =
    partner === undefined
      ? ''
      : ` from ${partner.name}${partner.label === null ? '' : ` (${partner.label})`}`;
  switch (variant.kind) {
    case 'original':
      return 'original';
    case 'audio-silenced':
      return 'audio silenced';
    case 'audio-swapped':
      return `audio${from}`;
    case 'frames-grey':
      return 'frames grey';
    case 'frames-swapped':
      return `frames${from}`;
    case 'transcript-removed':
      return 'no transcript';
  }
}

/** The section's rows as flat records (CSV, JSON). */
function rows(result: CounterfactualResult): Record<string, unknown>[] {
  return result.variants.map((variant) => {
    const row: Record<string, unknown> = {
      variant: variantTitle(result, variant),
      decides: !NOT_DECIDING.has(variant.kind) && variant.kind !== 'original',
      problem: variant.problem ?? '',
    };
    for (const run of ['off', 'intervention'] as const) {
      const o = variant[run];
      row[`${run}_answer`] = o?.label ?? '';
      row[`${run}_answer_log_prob_change`] = o?.answerLogProbChange ?? '';
      row[`${run}_moved`] = o?.moved ?? '';
      result.labels.forEach((label, i) => {
        row[`${run}_p_${label}`] = o?.probabilities[i] ?? '';
      });
    }
    return row;
  });
}

/** The Counterfactuals section and the receiver of its host messages. */
export function counterfactualsView(model: PanelModel): View & {
  /** Takes a host message of this section; false for the panel's others. */
  receive(message: HostToWebview): boolean;
  /** Sets what redraws the panel (its render). */
  onRedraw(fn: () => void): void;
} {
  /** The result whose rows are drawn (the model's, once drawn). */
  let drawn: CounterfactualResult | null = null;
  let status: CounterfactualStatus = { kind: 'idle' };
  let redraw = (): void => undefined;
  const frame = sectionFrame(model, 'Counterfactuals', 'counterfactuals-section', {
    name: 'counterfactuals',
    csv: () => (model.counterfactuals === null ? '' : toCsv(rows(model.counterfactuals))),
    json: () => model.counterfactuals,
  });
  const start = (pick?: 'audio' | 'frames'): void => {
    const controls: ArControls | null =
      model.controls ?? model.result?.intervention.controls ?? null;
    if (controls === null) return;
    const requestId = model.host.request(
      { type: 'runCounterfactuals', controls, ...(pick === undefined ? {} : { pick }) },
      LANE,
    );
    status = { kind: 'running', requestId, startedMs: performance.now() };
    redraw();
  };
  const run = button('Run counterfactuals', () => start(), {
    'data-testid': 'counterfactuals-run',
  });
  const pickAudio = button('Pick audio from…', () => start('audio'), {
    secondary: true,
    'data-testid': 'counterfactuals-pick-audio',
  });
  const pickFrames = button('Pick frames from…', () => start('frames'), {
    secondary: true,
    'data-testid': 'counterfactuals-pick-frames',
  });
  const cancel = button(
    'Cancel',
    () => {
      if (status.kind !== 'running') return;
      model.host.notify({ type: 'cancelCounterfactuals', run: status.requestId });
    },
    { secondary: true, 'data-testid': 'counterfactuals-cancel' },
  );
  const progress = el('span', {
    class: 'note',
    'data-testid': 'counterfactuals-status',
    role: 'status',
  });
  const stale = el('p', { class: 'note stale', 'data-testid': 'counterfactuals-stale' });
  const partners = el('ul', { 'data-testid': 'counterfactuals-partners' });
  const table = el('table', { class: 'data-table', 'data-testid': 'counterfactuals-table' });
  const verdicts = el('div', { 'data-testid': 'counterfactuals-verdict' });
  const notes = el('ul', { 'data-testid': 'counterfactuals-notes' });
  frame.body.append(
    el('div', { class: 'toolbar' }, run, pickAudio, pickFrames, cancel, progress),
    stale,
    partners,
    table,
    verdicts,
    notes,
  );

  const outcomeCells = (r: CounterfactualResult, o: VariantOutcome | null, deciding: boolean) => {
    if (o === null) return [el('td', { colspan: '3' }, '—')];
    const bars = el(
      'div',
      { class: 'cf-bars' },
      ...r.labels.map((label, i) => {
        const p = o.probabilities[i] ?? 0;
        return el(
          'div',
          { class: 'cf-bar', title: `${label}: ${formatPercent(p)}` },
          el('span', { class: 'cf-bar-label' }, label),
          el('progress', {
            max: '1',
            value: String(p),
            'aria-label': `${label} ${formatPercent(p)}`,
          }),
        );
      }),
    );
    return [
      el('td', { 'data-moved': String(deciding && o.moved) }, o.label),
      el('td', {}, bars),
      el('td', { class: 'num' }, formatNumber(o.answerLogProbChange)),
    ];
  };

  const drawResult = (r: CounterfactualResult): void => {
    partners.replaceChildren(
      ...r.partners.map((p) =>
        el(
          'li',
          {},
          `${p.name} replaces ${p.replaces === 'both' ? 'audio and frames' : p.replaces}: ${p.how}`,
        ),
      ),
    );
    table.replaceChildren(
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { rowspan: '2' }, 'variant'),
          ...(['off', 'intervention'] as const).map((run) =>
            el('th', { colspan: '3' }, RUN_TITLES[run]),
          ),
        ),
        el(
          'tr',
          {},
          ...(['off', 'intervention'] as const).flatMap(() => [
            el('th', {}, 'answer'),
            el('th', {}, 'probabilities'),
            el('th', {}, 'Δ log p(original answer)'),
          ]),
        ),
      ),
      el(
        'tbody',
        {},
        ...r.variants.map((variant) => {
          const deciding = !NOT_DECIDING.has(variant.kind) && variant.kind !== 'original';
          const name = el('th', { scope: 'row' }, variantTitle(r, variant));
          if (NOT_DECIDING.has(variant.kind)) {
            name.append(
              el(
                'span',
                { class: 'note', 'data-testid': 'not-deciding' },
                ' (shown, not deciding)',
              ),
            );
          }
          if (variant.problem !== undefined) {
            return el(
              'tr',
              { 'data-kind': variant.kind },
              name,
              el('td', { colspan: '6' }, variant.problem),
            );
          }
          return el(
            'tr',
            { 'data-kind': variant.kind },
            name,
            ...outcomeCells(r, variant.off, deciding),
            ...outcomeCells(r, variant.intervention, deciding),
          );
        }),
      ),
    );
    verdicts.replaceChildren(
      ...(['off', 'intervention'] as const).map((run) => {
        const v = r.verdict[run];
        return el(
          'p',
          { 'data-run': run },
          el('strong', {}, `${RUN_TITLES[run]}: ${v.verdict}`),
          ` — audio swaps moved the answer ${v.audioSwapsMoved} of ${v.audioSwaps}, frames swaps ${v.framesSwapsMoved} of ${v.framesSwaps}.`,
        );
      }),
      el('p', { class: 'note', 'data-testid': 'counterfactuals-rule' }, `Rule: ${r.rule.text}`),
    );
    notes.replaceChildren(...r.notes.map((n) => el('li', {}, n)));
  };

  const view = {
    element: frame.element,
    update() {
      const canRun = model.canRun && model.result !== null;
      const running = status.kind === 'running';
      for (const b of [run, pickAudio, pickFrames])
        b.toggleAttribute('disabled', !canRun || running);
      cancel.hidden = !running;
      progress.textContent =
        status.kind === 'running'
          ? 'Running the variants in the model’s worker…'
          : status.kind === 'failed'
            ? status.message
            : '';
      progress.dataset['state'] =
        status.kind === 'failed' && !status.cancelled ? 'error' : status.kind;
      frame.note.textContent = canRun
        ? 'What the answer depends on: the clip with one modality removed or taken from another clip, under off and the intervention.'
        : 'Counterfactuals need the model: Analyze the clip in VS Code to run them.';
      const result = model.counterfactuals;
      if (result !== null && result !== drawn) drawResult(result);
      drawn = result;
      const current = model.result?.intervention.controls;
      const isStale =
        result !== null && current !== undefined && !sameControls(result.controls, current);
      stale.hidden = !isStale;
      stale.textContent = isStale
        ? 'Stale: these counterfactuals ran with other settings than the analysis shown — run them again.'
        : '';
      frame.element.dataset['stale'] = String(isStale);
      table.hidden = result === null;
      if (result === null) {
        partners.replaceChildren();
        table.replaceChildren();
        verdicts.replaceChildren();
        notes.replaceChildren();
      }
    },
    receive(message: HostToWebview): boolean {
      switch (message.type) {
        case 'counterfactualsStarted':
          return true;
        case 'counterfactualsResult':
          if (!model.host.isLatest(LANE, message.requestId)) return true;
          status = { kind: 'idle' };
          model.setCounterfactuals(message.result);
          return true;
        case 'counterfactualsFailed':
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
  return view;
}
