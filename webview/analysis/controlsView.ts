// The AR controls: mode, ratio kind, τ (one for all layers or per layer, on the checkpoint's sweep
// scale), head margin, α, PAI gain, per-layer enable. Every edit previews the flags at once with
// the TS rule and re-runs the model debounced; reset to the checkpoint's defaults, save as the
// workspace's defaults.
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import type { ArControls, ArMode, RatioKind, TauRange } from '../../src/protocol/contract';
import { RATIO_KIND_NAMES } from '../../src/protocol/contract';
import { el, formatNumber, replaceChildren } from '../kit/domBuilder';
import {
  checkboxControl,
  selectControl,
  sliderControl,
  type CheckboxControl,
  type SliderControl,
} from '../kit/formControls';
import type { PanelModel } from './panelModel';
import { countFlags, sliderToTau, tauRangeOf, tauToSlider } from './panelData';
import { button } from '../kit/sectionFrame';
import type { View } from '../kit/view';
import { isOn } from '../../src/shared/onOff';
import { noEffectSentence, whyNoEffect } from '../../src/shared/noEffect';

const MODE_OPTIONS = [
  { value: '0', label: 'off (no intervention)' },
  { value: '1', label: 'AR (attention reallocation)' },
  { value: '2', label: 'PAI-style (boost visual everywhere)' },
];
const KIND_OPTIONS = RATIO_KIND_NAMES.map((name, i) => ({
  value: String(i),
  label:
    name === 'raw' ? 'raw A / V' : name === 'density' ? 'density (per token)' : 'share A / (A + V)',
}));

/** τ a ratio kind starts at: the checkpoint's default for its own kind, else mid-sweep. */
function startingTau(result: AnalysisResult, kind: RatioKind): number[] {
  const d = result.model.metadata.arDefaults;
  if (kind === d.ratioKind) return [...d.tau];
  const range = tauRangeOf(result, kind);
  const mid =
    range.scale === 'log' ? Math.sqrt(range.min * range.max) : (range.min + range.max) / 2;
  return d.tau.map(() => mid);
}

function sliderSettings(range: TauRange, tau: number) {
  const lo = tauToSlider(range, range.min);
  const hi = tauToSlider(range, range.max);
  return {
    min: lo,
    max: hi,
    step: (hi - lo) / 400,
    value: tauToSlider(range, tau),
    text: formatNumber(tau, 4),
  };
}

/** The controls section. */
export function controlsView(model: PanelModel): View {
  const edit = (f: (c: ArControls) => void): void => model.editControls(f);
  const mode = selectControl(
    'Mode',
    MODE_OPTIONS,
    (v) => edit((c) => (c.mode = Number(v) as ArMode)),
    {
      'data-testid': 'mode',
    },
  );
  const kind = selectControl(
    'Ratio statistic',
    KIND_OPTIONS,
    (v) => {
      const r = model.result;
      if (r === null) return;
      const k = Number(v) as RatioKind;
      edit((c) => {
        c.ratioKind = k;
        c.tau = startingTau(r, k);
      });
    },
    { 'data-testid': 'ratio-kind' },
  );
  const tauAll = checkboxControl(
    'One τ for all layers',
    (v) => {
      model.choose('tauForAllLayers', v);
      if (v) edit((c) => (c.tau = c.tau.map(() => c.tau[0] ?? 0)));
    },
    { 'data-testid': 'tau-all' },
  );
  const setAllTau = (tau: number): void => edit((c) => (c.tau = c.tau.map(() => tau)));
  const tau = sliderControl(
    'τ (all layers)',
    (v) => {
      const r = model.result;
      if (r !== null && model.controls !== null) {
        setAllTau(sliderToTau(tauRangeOf(r, model.controls.ratioKind), v));
      }
    },
    setAllTau,
    { 'data-testid': 'tau' },
  );
  /** A slider for one number of the controls; typed values are clamped to `[min, max]`. */
  const numberSlider = (
    label: string,
    testId: string,
    apply: (c: ArControls, v: number) => void,
    bounds: [number, number] = [-Infinity, Infinity],
  ): SliderControl =>
    sliderControl(
      label,
      (v) => edit((c) => apply(c, v)),
      (v) => edit((c) => apply(c, Math.min(bounds[1], Math.max(bounds[0], v)))),
      { 'data-testid': testId },
    );
  const margin = numberSlider('Head margin m', 'margin', (c, v) => (c.headMargin = v));
  const alpha = numberSlider('α (share of audio moved)', 'alpha', (c, v) => (c.alpha = v), [0, 1]);
  const pai = numberSlider('PAI gain γ', 'pai-alpha', (c, v) => (c.paiAlpha = v));
  const perLayer = el('div', { class: 'per-layer' });
  let layerSliders: SliderControl[] = [];
  let layerBoxes: CheckboxControl[] = [];
  let builtLayers = -1;

  const previewCount = el('span', { 'data-testid': 'preview-count' }, '0');
  const flagCount = el('span', { 'data-testid': 'flag-count' }, '0');
  const previewNoun = el('span', {}, ' heads');
  const flagSource = el('span', { class: 'flag-source' });
  const overrides = el('span', { class: 'overrides' });
  const status = el('p', { class: 'status', 'data-testid': 'status', role: 'status' });
  const noEffect = el('p', { class: 'no-effect', 'data-testid': 'no-effect', role: 'note' });
  noEffect.hidden = true;
  const reset = button(
    'Reset to checkpoint defaults',
    () => {
      const d = model.defaultControls();
      if (d !== null) edit((c) => Object.assign(c, d));
    },
    { secondary: true, 'data-testid': 'reset' },
  );
  const saveDefaults = button('Save as workspace defaults', () => model.saveDefaults(), {
    secondary: true,
    'data-testid': 'save-defaults',
  });
  const clearOverrides = button(
    'Clear head overrides',
    () => edit((c) => (c.headOverride = c.headOverride.map((row) => row.map(() => 0)))),
    { secondary: true, 'data-testid': 'clear-overrides' },
  );
  const runNow = button('Re-run now', () => model.runNow(), { 'data-testid': 'run-now' });

  const layerBoxesRow = el('div', { class: 'controls-row layer-boxes' });
  const element = el(
    'section',
    { class: 'card controls', 'aria-labelledby': 'controls-heading', 'data-section': 'controls' },
    el('header', {}, el('h2', { id: 'controls-heading' }, 'AR controls')),
    el('div', { class: 'controls-grid' }, mode.element, kind.element),
    noEffect,
    el('div', { class: 'sliders' }, margin.element, alpha.element, pai.element),
    el(
      'div',
      { class: 'controls-row' },
      el('span', { class: 'field-label' }, 'Act on layers:'),
      layerBoxesRow,
      tauAll.element,
    ),
    el('div', { class: 'sliders' }, tau.element, perLayer),
    el(
      'p',
      { class: 'counts' },
      el('span', { class: 'badge preview-badge' }, 'preview'),
      ' ',
      previewCount,
      previewNoun,
      ' flagged by the TS rule on this result’s masses with these controls (exact for the first layer AR acts on; later layers compound). Shown: ',
      flagCount,
      ' ',
      flagSource,
      overrides,
    ),
    el('div', { class: 'controls-row buttons' }, runNow, reset, saveDefaults, clearOverrides),
    status,
  );

  return {
    element,
    update() {
      const r = model.result;
      const c = model.controls;
      if (r === null || c === null) {
        status.textContent = model.init === null ? 'Connecting…' : 'Waiting for the first result…';
        return;
      }
      const L = r.model.metadata.architecture.layers;
      if (builtLayers !== L) {
        builtLayers = L;
        layerSliders = Array.from({ length: L }, (_, l) =>
          sliderControl(
            `τ layer ${l}`,
            (v) => {
              const cur = model.controls;
              if (cur === null) return;
              const t = sliderToTau(tauRangeOf(r, cur.ratioKind), v);
              edit((x) => (x.tau[l] = t));
            },
            (v) => edit((x) => (x.tau[l] = v)),
            { 'data-testid': 'tau-layer', 'data-layer': l },
          ),
        );
        layerBoxes = Array.from({ length: L }, (_, l) =>
          checkboxControl(`${l}`, (v) => edit((x) => (x.layers[l] = v ? 1 : 0)), {
            'data-testid': 'layer-enabled',
            'data-layer': l,
          }),
        );
        replaceChildren(perLayer, ...layerSliders.map((s) => s.element));
        replaceChildren(layerBoxesRow, ...layerBoxes.map((b) => b.element));
        layerBoxes.forEach((b, l) => b.element.setAttribute('aria-label', `act on layer ${l}`));
      }
      mode.set(String(c.mode));
      kind.set(String(c.ratioKind));
      const range = tauRangeOf(r, c.ratioKind);
      const all = model.choices.tauForAllLayers;
      tauAll.set(all);
      tau.element.hidden = !all;
      tau.input.dataset['scale'] = range.scale;
      tau.input.dataset['tau'] = String(c.tau[0] ?? 0);
      tau.set(sliderSettings(range, c.tau[0] ?? 0));
      layerSliders.forEach((s, l) => {
        const t = c.tau[l] ?? 0;
        s.element.hidden = all;
        s.input.dataset['tau'] = String(t);
        s.set(sliderSettings(range, t));
      });
      layerBoxes.forEach((b, l) => b.set(isOn(c.layers[l] ?? 0)));
      // Down to −1 (a head threshold of 0: every head of a triggered layer with s > 0); a
      // checkpoint default outside the range widens it.
      margin.set({
        min: Math.min(-1, c.headMargin),
        max: Math.max(2, c.headMargin),
        step: 0.01,
        value: c.headMargin,
        text: formatNumber(c.headMargin, 3),
      });
      alpha.set({ min: 0, max: 1, step: 0.01, value: c.alpha, text: formatNumber(c.alpha, 3) });
      pai.set({ min: 0, max: 2, step: 0.01, value: c.paiAlpha, text: formatNumber(c.paiAlpha, 3) });
      alpha.element.classList.toggle('inactive', c.mode !== 1);
      pai.element.classList.toggle('inactive', c.mode !== 2);
      // The run without intervention holds the statistics the first enabled layer's rule sees.
      const reasons = whyNoEffect(c, r.baseline.ratioStatistics);
      noEffect.textContent = noEffectSentence(reasons);
      noEffect.hidden = reasons.length === 0;
      noEffect.dataset['reasons'] = reasons.join('; ');
      const preview = model.previewFlags();
      const shown = model.shown();
      const previewed = preview === null ? 0 : countFlags(preview.arFlags);
      previewCount.textContent = String(previewed);
      previewNoun.textContent = previewed === 1 ? ' head' : ' heads';
      flagCount.textContent = String(shown?.count ?? 0);
      flagSource.textContent = !shown?.preview
        ? '(the run’s real flags).'
        : model.canRun
          ? '(preview until the re-run’s real flags arrive).'
          : '(preview: the model cannot re-run here).';
      const forced = c.headOverride.flat().filter((v) => v !== 0).length;
      overrides.textContent = forced > 0 ? ` ${forced} head override(s) set.` : '';
      const canRun = model.canRun;
      runNow.toggleAttribute('disabled', !canRun);
      runNow.hidden = !model.host.hasHost;
      saveDefaults.toggleAttribute('disabled', !model.host.hasHost);
      status.textContent = statusText(model, canRun);
      status.dataset['kind'] = model.status.kind;
    },
  };
}

function statusText(model: PanelModel, canRun: boolean): string {
  const s = model.status;
  switch (s.kind) {
    case 'pending':
      return 'Preview — re-running the model shortly…';
    case 'running':
      return 'Running the model…';
    case 'failed':
      return s.cancelled ? 'The run was cancelled.' : `The run failed: ${s.message}`;
    case 'idle':
      return (
        model.notice ??
        (canRun
          ? 'Up to date: the views show the model’s run with these controls.'
          : 'Read-only: the flag preview works; runs need the extension with the clip and model.')
      );
  }
}
