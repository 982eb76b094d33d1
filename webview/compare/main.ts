// The Compare panel's webview entry: two SubjectModels (the Analysis panel's model) fed from one
// CompareInit; the Analysis views run per subject in two columns, the compare views read both.
// Linked controls: B takes A's whole control set (each re-running), and an edit to either is
// copied whole to the other; the header states what each side ran and a badge what differs.
import { comparisonResultOrNull } from '../../src/protocol/comparisonResult';
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import '../kit/kit.css';
import './compare.css';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import {
  SUBJECT_KEYS,
  type ComparisonResult,
  type SubjectKey,
} from '../../src/protocol/comparisonResult';
import {
  HostToCompareSchema,
  type CompareInit,
  type CompareViewState,
  type HostToCompare,
} from '../../src/protocol/compareMessages';
import type { AnalysisViewState, PanelInit, PanelOrigin } from '../../src/protocol/panelMessages';
import { noEffectSentence, whyNoEffect } from '../../src/shared/noEffect';
import { controlsView } from '../analysis/controlsView';
import { el } from '../kit/domBuilder';
import { checkboxControl } from '../kit/formControls';
import { headGridView } from '../analysis/headGridView';
import { moseGateView } from '../analysis/moseGateView';
import { fileStem } from '../analysis/panelData';
import { button } from '../kit/sectionFrame';
import { connectWebviewHost } from '../kit/hostChannel';
import { appRoot, drawViews, panelTop, startPage } from '../kit/panelPage';
import { tokenAttentionView } from '../analysis/tokenAttentionView';
import type { View } from '../kit/view';
import {
  comparePredictionView,
  compareUapView,
  gridDifferenceView,
  tokenDifferenceView,
} from './compareViews';
import { settingDifferences, settingText } from './compareData';
import { SubjectModel, subjectHost, type CompareHost } from './subjectModel';

/** How the comparison got the clip (0 decodes: an earlier analysis had it in the cache). */
function decodedText(decodes: number): string {
  if (decodes === 0) return 'the clip came from the decode cache';
  return decodes === 1 ? 'clip decoded once' : `clip decoded ${decodes}×`;
}

/** Ids inside a subject's column get its prefix, so the two columns never share an id. */
function scopeIds(root: HTMLElement, prefix: string): void {
  for (const node of root.querySelectorAll<HTMLElement>('[id]')) node.id = `${prefix}${node.id}`;
  for (const attr of ['aria-labelledby', 'for']) {
    for (const node of root.querySelectorAll<HTMLElement>(`[${attr}]`)) {
      node.setAttribute(attr, `${prefix}${node.getAttribute(attr) ?? ''}`);
    }
  }
}

function start(): void {
  const root = appRoot();
  // A report's embedded CompareInit re-runs nothing.
  const channel: CompareHost = connectWebviewHost(HostToCompareSchema, { canRun: false });
  const saved = channel.loadState();
  let init: CompareInit | null = null;
  // The state went through JSON (token rows as base64): parsed back, or dropped.
  let comparison: ComparisonResult | null =
    saved?.comparison === undefined ? null : comparisonResultOrNull(saved.comparison);
  // Unset until the first comparison: two checkpoints that can re-run start linked; two settings
  // of one checkpoint, and a read-only comparison, do not.
  let linked: boolean | null = saved?.linked ?? null;
  // Which token rows the host holds per subject (null: the comparison holds them, as a report's).
  let rows: CompareInit['rows'] | null = saved?.rows ?? null;
  /** Fields the partner's checkpoint could not take from the linked set (its shape differs). */
  let unlinkable: string[] = [];
  const link = (): void => {
    unlinkable = linked === true ? models.a.linkPartner() : [];
  };
  const subjectStates: Partial<Record<SubjectKey, Partial<AnalysisViewState>>> = {
    ...saved?.subjects,
  };
  const persist = (): void => {
    const state: CompareViewState = {
      origin: init?.origin ?? { kind: 'report' },
      comparison,
      rows,
      linked: linked ?? false,
      subjects: subjectStates,
    };
    channel.saveState(state);
  };
  let views: View[] = [];
  let rendering = false;
  const render = (): void => {
    if (rendering) return;
    rendering = true;
    try {
      const busy = SUBJECT_KEYS.some((k) => models[k].busy);
      root.dataset['state'] = busy ? 'running' : 'idle';
      root.dataset['ready'] = SUBJECT_KEYS.every((k) => models[k].result !== null)
        ? 'true'
        : 'false';
      drawViews(views, (error) => models.a.reportError(error));
    } finally {
      rendering = false;
    }
  };
  const makeModel = (key: SubjectKey): SubjectModel =>
    new SubjectModel(
      key,
      subjectHost(channel, key, saved?.subjects?.[key], (state) => {
        // The comparison holds the results; the subject state keeps only the UI choices.
        subjectStates[key] = { ...state, result: null };
        persist();
      }),
      render,
      () => linked === true,
    );
  const models: Record<SubjectKey, SubjectModel> = { a: makeModel('a'), b: makeModel('b') };
  models.a.partner = models.b;
  models.b.partner = models.a;
  const label = (k: SubjectKey): string => comparison?.subjects[k].label ?? k.toUpperCase();
  const cm = { models, label };

  const subjectInit = (k: SubjectKey, i: CompareInit): PanelInit => {
    const origin: PanelOrigin =
      i.origin.kind === 'clip'
        ? { kind: 'clip', clipPath: i.origin.clipPath, modelPath: i.origin.models[k] }
        : { kind: 'report' };
    return {
      origin,
      result: i.comparison?.subjects[k].result ?? null,
      ...(i.rows === undefined ? {} : { rows: i.rows[k] }),
      canRun: i.canRun,
      readOnlyReason: i.readOnlyReason,
      workspaceDefaults: null,
      debounceMs: i.debounceMs,
    };
  };
  const storeResult = (k: SubjectKey, result: AnalysisResult): void => {
    if (comparison === null) return;
    comparison = {
      ...comparison,
      subjects: {
        ...comparison.subjects,
        [k]: { ...comparison.subjects[k], controls: result.settings.controls, result },
      },
    };
  };
  const receive = (message: HostToCompare): void => {
    switch (message.type) {
      case 'init':
        init = message.init;
        comparison = message.init.comparison;
        rows = message.init.rows ?? null;
        for (const k of SUBJECT_KEYS) {
          models[k].receive({ type: 'init', init: subjectInit(k, message.init) });
        }
        // A read-only comparison (a report) keeps showing what each subject ran.
        linked ??=
          comparison === null
            ? null
            : message.init.canRun && comparison.comparing === 'checkpoints';
        link();
        break;
      case 'runResult':
        storeResult(message.subject, message.result);
        if (rows !== null && rows !== undefined && message.rows !== undefined) {
          rows = { a: rows.a, b: rows.b, [message.subject]: message.rows };
        }
        models[message.subject].receive({
          type: 'runResult',
          requestId: message.requestId,
          result: message.result,
          ...(message.rows === undefined ? {} : { rows: message.rows }),
        });
        break;
      case 'tokenRow':
      case 'tokenRowFailed': {
        // A row is the asking subject's alone; it redraws when the row arrives.
        const { subject, ...rest } = message;
        models[subject].receive(rest);
        return;
      }
      case 'runStarted':
        models[message.subject].receive({ type: 'runStarted', requestId: message.requestId });
        break;
      case 'runFailed': {
        const { subject, ...rest } = message;
        models[subject].receive(rest);
        break;
      }
      case 'saved':
        models.a.receive(message);
        break;
    }
    persist();
    render();
  };

  const linkBox = checkboxControl(
    'Link the controls (B runs A’s whole control set; an edit to either applies to both)',
    (v) => {
      linked = v;
      link();
      persist();
      render();
    },
    { 'data-testid': 'link-controls' },
  );
  const save = button(
    'Save comparison (.json)',
    () => {
      if (channel.hasHost) channel.request({ type: 'saveResult' });
      else if (comparison !== null) {
        channel.download({
          fileName: `${fileStem(models.a.result)}.comparison.json`,
          format: 'json',
          encoding: 'utf8',
          data: `${jsonWithTokenRows(comparison)}\n`,
        });
      }
    },
    { secondary: true, 'data-testid': 'save-comparison' },
  );
  const report = button('Export HTML report', () => channel.request({ type: 'exportReport' }), {
    secondary: true,
    'data-testid': 'export-report',
  });
  report.hidden = !channel.hasHost;
  const title = el('h1', {});
  const subtitle = el('p', { class: 'note', 'data-testid': 'compare-subjects' });
  const settingLines: Record<SubjectKey, HTMLElement> = {
    a: el('span', { class: 'subject-setting-line', 'data-subject': 'a' }),
    b: el('span', { class: 'subject-setting-line', 'data-subject': 'b' }),
  };
  const setting = el(
    'p',
    { class: 'subject-setting', 'data-testid': 'subject-setting' },
    settingLines.a,
    settingLines.b,
  );
  const badge = el('span', { class: 'badge settings-badge', 'data-testid': 'settings-badge' });
  const header: View = {
    element: el('header', { class: 'panel-header' }, title, subtitle, setting),
    update() {
      title.textContent = comparison === null ? 'Comparing…' : `Compare: ${comparison.clip.name}`;
      subtitle.textContent =
        comparison === null
          ? (init?.readOnlyReason ?? '')
          : `A: ${label('a')} · B: ${label('b')} (${comparison.comparing === 'checkpoints' ? 'two checkpoints' : 'one checkpoint, two settings'}; ${decodedText(comparison.timings.clipDecodes)})`;
      linkBox.set(linked === true);
      for (const k of SUBJECT_KEYS) {
        const r = models[k].result;
        settingLines[k].textContent =
          r === null ? '' : `${k.toUpperCase()} ran: ${settingText(r.intervention.controls)}`;
      }
      const ra = models.a.result;
      const rb = models.b.result;
      const differ =
        ra === null || rb === null
          ? []
          : settingDifferences(ra.intervention.controls, rb.intervention.controls);
      badge.hidden = differ.length === 0 && unlinkable.length === 0;
      badge.dataset['differ'] = differ.join(',');
      const rerun = linked === true && SUBJECT_KEYS.some((k) => models[k].busy);
      badge.textContent = [
        differ.length > 0 ? `settings differ: ${differ.join(', ')}` : '',
        rerun ? ' (re-running with the linked setting…)' : '',
        unlinkable.length > 0
          ? `${differ.length > 0 ? '; ' : ''}cannot link ${unlinkable.join(', ')}: the checkpoints differ in layers or heads`
          : '',
      ].join('');
    },
  };

  const column = (
    k: SubjectKey,
  ): { element: HTMLElement; views: View[]; grid: HTMLElement; tokens: View } => {
    const m = models[k];
    const controls = controlsView(m);
    const grid = headGridView(m);
    const gridBox = el('div', { 'data-testid': `compare-grid-${k}` }, grid.element);
    const gates = moseGateView(m);
    const tokens = tokenAttentionView(m);
    const heading = el('h2', { class: 'subject-heading', 'data-subject': k });
    // What the subject's shown run did: a setting without effect is no intervention.
    const noEffect = el('p', {
      class: 'no-effect',
      'data-testid': 'subject-no-effect',
      'data-subject': k,
      role: 'note',
    });
    noEffect.hidden = true;
    const element = el(
      'div',
      { class: 'subject-column', 'data-subject': k },
      heading,
      noEffect,
      controls.element,
      gridBox,
      gates.element,
      tokens.element,
    );
    scopeIds(element, `${k}-`);
    const headingView: View = {
      element: heading,
      update: () => {
        heading.textContent = `${k.toUpperCase()}: ${label(k)}`;
        const r = m.result;
        const reasons =
          r === null ? [] : whyNoEffect(r.intervention.controls, r.baseline.ratioStatistics);
        noEffect.hidden = reasons.length === 0;
        noEffect.textContent =
          reasons.length === 0 ? '' : `${k.toUpperCase()}: ${noEffectSentence(reasons)}`;
      },
    };
    return { element, views: [headingView, controls, grid, gates, tokens], grid: gridBox, tokens };
  };
  const columns = { a: column('a'), b: column('b') };
  const shared = [comparePredictionView(cm), compareUapView(cm)];
  const differences = gridDifferenceView(cm, { a: columns.a.grid, b: columns.b.grid });
  const tokenDiff = tokenDifferenceView(cm);
  // A token row from the host changes the subject's token view and the A − B difference only.
  for (const k of SUBJECT_KEYS) {
    models[k].rowsArrived = () =>
      drawViews([columns[k].tokens, tokenDiff], (error) => models.a.reportError(error));
  }
  views = [
    header,
    ...shared,
    ...columns.a.views,
    ...columns.b.views,
    // After both grids have redrawn their cells.
    differences,
    tokenDiff,
  ];
  root.className = 'panel compare';
  root.replaceChildren(
    panelTop(header.element, save, report),
    el('div', { class: 'controls-row link-row' }, linkBox.element, badge),
    el('div', { class: 'cards' }, ...shared.map((v) => v.element)),
    differences.element,
    el('div', { class: 'subject-columns' }, columns.a.element, columns.b.element),
    tokenDiff.element,
  );
  startPage({ hasHost: channel.hasHost, redraw: render, report: (e) => models.a.reportError(e) });
  render();
  channel.start(receive);
}

start();
