// The panel's state and its transitions: the result drawn, the controls being edited, the UI
// choices, and the runs (requests of the channel's `run` lane: only the latest result is drawn).
import { analysisResultOrNull } from '../../src/protocol/analysisResultReader';
import {
  counterfactualResultOrNull,
  type CounterfactualResult,
} from '../../src/protocol/counterfactualResult';
import { imbalanceResultOrNull, type ImbalanceResult } from '../../src/protocol/imbalance';
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import { defaultControls } from '../../src/shared/controls';
import type { FlagRuleResult } from '../../src/shared/flagRule';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import type { ArControls } from '../../src/protocol/contract';
import type {
  AnalysisViewState,
  ExportFile,
  HostToWebview,
  PanelInit,
  WebviewToHost,
} from '../../src/protocol/panelMessages';
import {
  DEFAULT_RANK_K,
  type HeadRanking,
  type HeadRef,
  type KnockoutResult,
  type KnockoutUnder,
  type RankProgress,
} from '../../src/protocol/knockout';
import type { KnockoutAvailability } from '../../src/protocol/panelMessages';
import type { WebviewHost } from '../kit/hostChannel';
import { errorText, savedNotice } from '../kit/panelPage';
import { fileStem, previewFlags, sameControls, shownFlags, type ShownFlags } from './panelData';
import type { TokenRowQuery, TokenRowsIndex } from '../../src/protocol/rowRequests';
import { holdsTokenRows } from '../../src/shared/panelRows';
import {
  HostRowSource,
  localRowSource,
  type RowLookup,
  type TokenRowSource,
} from './tokenRowSource';

/** What the Analysis panel needs from wherever it runs. */
export type PanelHost = WebviewHost<WebviewToHost, HostToWebview, AnalysisViewState>;

/** UI choices that survive a reload. */
export type ViewChoices = Omit<
  AnalysisViewState,
  'origin' | 'result' | 'rows' | 'controls' | 'counterfactuals' | 'imbalance'
>;

const DEFAULT_CHOICES: ViewChoices = {
  tauForAllLayers: true,
  selectedHead: null,
  uapNormalisation: 'av',
  gridLogScale: false,
  thresholdLogScale: null,
  biasedHeadSort: { key: 'aboveThreshold', descending: true },
  tokenLayer: 0,
  tokenHead: 'mean',
  tokenRun: 'after',
  tokenSharedScale: true,
  gridLayers: null,
  uapSkipFirst: false,
  biasedHeadFilter: { fromLayer: null, toLayer: null, minStatistic: null, flaggedOnly: true },
  labelLensRun: 'with',
};

/** The channel lane of re-runs: a new run supersedes the one before. */
export const RUN_LANE = 'run';

/** The channel lane of knockouts and rankings: a new one supersedes the one before. */
export const KNOCKOUT_LANE = 'knockout';

/** The head knockout section's state (not kept across reloads: its runs are not saved). */
export interface KnockoutState {
  /** Heads chosen for knockout (the inspected head added one at a time). */
  chosen: HeadRef[];
  k: number;
  under: KnockoutUnder;
  /** What the latest knockout request did. */
  result: KnockoutResult | null;
  ranking: HeadRanking | null;
  progress: RankProgress | null;
  running: 'knockout' | 'rank' | null;
  failure: { message: string; cancelled: boolean } | null;
}

/** Where the latest run stands, for the status line. */
export type RunStatus =
  | { kind: 'idle' }
  | { kind: 'pending' }
  | { kind: 'running'; requestId: number }
  | { kind: 'failed'; message: string; cancelled: boolean };

/** The panel's state; views read it and call its methods, `onChange` redraws. */
export class PanelModel {
  init: PanelInit | null = null;
  result: AnalysisResult | null = null;
  controls: ArControls | null = null;
  /** The transcript typed in the header (null: none typed; the host reads the clip's sidecar). */
  transcript: string | null = null;
  choices: ViewChoices;
  status: RunStatus = { kind: 'idle' };
  /** The last export or save outcome, shown in the status line. */
  notice: string | null = null;
  /** The Counterfactuals section's latest result (kept across reloads with the analysis). */
  counterfactuals: CounterfactualResult | null = null;
  /** The Token imbalance section's latest probe (kept across reloads with the analysis). */
  imbalance: ImbalanceResult | null = null;
  knockout: KnockoutState = {
    chosen: [],
    k: DEFAULT_RANK_K,
    under: 'off',
    result: null,
    ranking: null,
    progress: null,
    running: null,
    failure: null,
  };
  /** Where the shown result's token rows come from (the host, or the result itself). */
  rowSource: TokenRowSource | null = null;
  /**
   * Redraws what shows token rows when one arrives from the host (the panel's entry narrows it to
   * the token views; by default everything is redrawn).
   */
  rowsArrived: () => void;
  /**
   * Redraws what an inspected head changes (the panel's entry narrows it to the views that show
   * the selection; by default everything is redrawn).
   */
  selectionChanged: () => void;
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private preview: { controls: ArControls; result: AnalysisResult; flags: FlagRuleResult } | null =
    null;

  constructor(
    readonly host: PanelHost,
    private readonly onChange: () => void,
  ) {
    this.rowsArrived = onChange;
    this.selectionChanged = onChange;
    const saved = host.loadState();
    this.choices = { ...DEFAULT_CHOICES };
    for (const key of Object.keys(DEFAULT_CHOICES) as (keyof ViewChoices)[]) {
      if (saved?.[key] !== undefined) Object.assign(this.choices, { [key]: saved[key] });
    }
    // The state went through JSON (token rows as base64): parsed back, or dropped.
    if (saved?.result) {
      this.result = analysisResultOrNull(saved.result);
      if (this.result !== null) this.rowSource = this.rowSourceFor(this.result, saved.rows ?? null);
    }
    if (saved?.controls) this.controls = saved.controls;
    if (saved?.counterfactuals)
      this.counterfactuals = counterfactualResultOrNull(saved.counterfactuals);
    if (saved?.imbalance) this.imbalance = imbalanceResultOrNull(saved.imbalance);
  }

  /** Whether `run` requests go anywhere. */
  get canRun(): boolean {
    return this.host.hasHost && (this.init?.canRun ?? false);
  }

  /**
   * Why the shown prediction and flags are stale: the controls were edited where the model
   * cannot re-run (a saved result, a report, a model that cannot run here); null when current.
   */
  staleReason(): string | null {
    const r = this.result;
    if (this.canRun || r === null || this.controls === null) return null;
    if (sameControls(this.controls, r.intervention.controls)) return null;
    const kind = this.init?.origin.kind ?? 'report';
    const why =
      kind === 'saved'
        ? 'a saved result cannot re-run — Analyze the clip to re-run'
        : kind === 'report'
          ? 'a report cannot re-run — Analyze the clip in VS Code to re-run'
          : `the model cannot re-run here (${(this.init?.readOnlyReason ?? 'read-only').replace(/\.$/, '')})`;
    return `Controls changed; ${why}. The prediction and the run’s flags shown are those of the controls it was made with.`;
  }

  /** Puts the controls back to those the shown result ran with. */
  resetToResult(): void {
    const r = this.result;
    if (r === null) return;
    this.editControls((c) => Object.assign(c, structuredClone(r.intervention.controls)));
  }

  /** Keeps this preview panel: the host opens later analyses in a new one. */
  pin(): void {
    if (this.host.hasHost) this.host.notify({ type: 'pin' });
  }

  /** The preview of the edited controls on the current result (cached per controls). */
  previewFlags(): FlagRuleResult | null {
    if (this.result === null || this.controls === null) return null;
    const cached = this.preview;
    if (cached?.result === this.result && sameControls(cached.controls, this.controls)) {
      return cached.flags;
    }
    const flags = previewFlags(this.result, this.controls);
    this.preview = { controls: structuredClone(this.controls), result: this.result, flags };
    return flags;
  }

  /** The flags the views draw (preview while the controls differ from the result's). */
  shown(): ShownFlags | null {
    const flags = this.previewFlags();
    if (this.result === null || this.controls === null || flags === null) return null;
    return shownFlags(this.result, this.controls, flags);
  }

  /** The checkpoint's own defaults (`mosear.ar_defaults`, no head overrides). */
  defaultControls(): ArControls | null {
    return this.result === null ? null : defaultControls(this.result.model.metadata);
  }

  /** Handles a host message. */
  receive(message: HostToWebview): void {
    switch (message.type) {
      case 'init': {
        // Another analysis in this (preview) panel: edits of the one before are dropped.
        const replaced =
          this.init !== null &&
          JSON.stringify(this.init.origin) !== JSON.stringify(message.init.origin);
        if (replaced) {
          clearTimeout(this.debounce);
          this.debounce = undefined;
          this.controls = null;
          this.transcript = null;
          this.counterfactuals = null;
          this.imbalance = null;
        }
        this.init = message.init;
        if (message.init.result !== null) this.setResult(message.init.result, message.init.rows);
        this.status = { kind: 'idle' };
        break;
      }
      case 'runStarted':
        if (this.host.isLatest(RUN_LANE, message.requestId)) {
          this.status = { kind: 'running', requestId: message.requestId };
        }
        break;
      case 'runResult':
        // Results of superseded requests are dropped: the panel shows the latest settings.
        if (!this.isCurrentRun(message.requestId)) return;
        this.setResult(message.result, message.rows);
        this.status = { kind: 'idle' };
        break;
      case 'runFailed':
        if (!this.isCurrentRun(message.requestId)) return;
        this.status = {
          kind: 'failed',
          message: message.message,
          cancelled: message.cancelled,
        };
        break;
      case 'saved':
        this.notice = savedNotice(message, 'Save');
        break;
      case 'tokenRow':
      case 'tokenRowFailed':
        // The source redraws when the row is one it still wants; nothing else changes.
        if (this.rowSource instanceof HostRowSource) {
          this.rowSource.receive(
            message.requestId,
            message.type === 'tokenRow' ? { row: message.row } : { message: message.message },
          );
        }
        return;
      case 'knockoutResult':
        if (!this.host.isLatest(KNOCKOUT_LANE, message.requestId)) return;
        this.knockout = { ...this.knockout, result: message.result, running: null, failure: null };
        break;
      case 'rankProgress':
        if (!this.host.isLatest(KNOCKOUT_LANE, message.requestId)) return;
        this.knockout = { ...this.knockout, progress: message.progress };
        break;
      case 'rankResult':
        if (!this.host.isLatest(KNOCKOUT_LANE, message.requestId)) return;
        this.knockout = {
          ...this.knockout,
          ranking: message.ranking,
          running: null,
          progress: null,
          failure: null,
        };
        break;
      case 'knockoutFailed':
        if (!this.host.isLatest(KNOCKOUT_LANE, message.requestId)) return;
        this.knockout = {
          ...this.knockout,
          running: null,
          progress: null,
          failure: { message: message.message, cancelled: message.cancelled },
        };
        break;
    }
    this.changed();
  }

  /** Whether knockouts can run here, and why not (a report, a saved result, no head_gate). */
  knockoutAvailability(): KnockoutAvailability {
    if (!this.host.hasHost || this.init === null) {
      return { available: false, reason: 'A report: no model is available.' };
    }
    return (
      this.init.knockout ?? {
        available: false,
        reason: this.init.readOnlyReason ?? 'The model cannot run here.',
      }
    );
  }

  /** Adds a head to the knockout choice (a separate choice from the AR overrides). */
  chooseForKnockout(head: HeadRef): void {
    const { chosen } = this.knockout;
    if (chosen.some((h) => h.layer === head.layer && h.head === head.head)) return;
    this.knockout = { ...this.knockout, chosen: [...chosen, head] };
    this.changed();
  }

  /** Removes a head from the knockout choice (all heads when `head` is null). */
  unchooseForKnockout(head: HeadRef | null): void {
    const chosen =
      head === null
        ? []
        : this.knockout.chosen.filter((h) => h.layer !== head.layer || h.head !== head.head);
    this.knockout = { ...this.knockout, chosen };
    this.changed();
  }

  /** Sets the ranking's K or the controls it measures under. */
  setRankOptions(options: Partial<Pick<KnockoutState, 'k' | 'under'>>): void {
    this.knockout = { ...this.knockout, ...options };
    this.changed();
  }

  /** Knocks out `heads` with the shown result's controls (off and the intervention). */
  knockOut(heads: HeadRef[]): void {
    const r = this.result;
    if (r === null || !this.knockoutAvailability().available) return;
    this.host.request(
      { type: 'knockout', controls: structuredClone(r.intervention.controls), heads },
      KNOCKOUT_LANE,
    );
    this.knockout = { ...this.knockout, running: 'knockout', failure: null };
    this.changed();
  }

  /** Ranks the top K flagged heads of the shown result's controls. */
  rankHeads(): void {
    const r = this.result;
    if (r === null || !this.knockoutAvailability().available) return;
    this.host.request(
      {
        type: 'rankHeads',
        controls: structuredClone(r.intervention.controls),
        k: this.knockout.k,
        under: this.knockout.under,
      },
      KNOCKOUT_LANE,
    );
    this.knockout = {
      ...this.knockout,
      running: 'rank',
      progress: null,
      failure: null,
    };
    this.changed();
  }

  /** Stops the ranking in flight. */
  cancelRank(): void {
    if (this.host.hasHost) this.host.notify({ type: 'cancelRank' });
  }

  /** An answer of the latest run while no newer one is scheduled (others are dropped). */
  private isCurrentRun(requestId: number): boolean {
    return this.host.isLatest(RUN_LANE, requestId) && this.debounce === undefined;
  }

  /**
   * A token row of the shown result (see tokenRowSource.ts): here, being fetched (undefined: a
   * redraw follows its arrival), or not to be had (null).
   */
  tokenRow(query: TokenRowQuery): RowLookup {
    return this.rowSource === null ? null : this.rowSource.row(query);
  }

  /** The host's rows when it sent an index and holds the rows; the result's own otherwise. */
  private rowSourceFor(result: AnalysisResult, index: TokenRowsIndex | null | undefined) {
    if (index === undefined || index === null || holdsTokenRows(result) || !this.host.hasHost) {
      return localRowSource(result);
    }
    return new HostRowSource(
      index,
      {
        request: (query, lane) => this.host.request({ type: 'tokenRow', query }, lane),
        isLatest: (lane, requestId) => this.host.isLatest(lane, requestId),
      },
      () => this.rowsArrived(),
    );
  }

  private setResult(result: AnalysisResult, rows?: TokenRowsIndex): void {
    const first = this.result === null || this.result.model.path !== result.model.path;
    // Knockouts ran with the result before; a new result leaves them behind.
    if (first || this.result?.createdAt !== result.createdAt) {
      this.knockout = { ...this.knockout, result: null, ranking: null };
      if (first) this.knockout.chosen = [];
    }
    const keepEdits = this.controls !== null && !first && this.debounce !== undefined;
    this.result = result;
    this.rowSource = this.rowSourceFor(result, rows);
    if (!keepEdits) this.controls = structuredClone(result.intervention.controls);
    const L = result.model.metadata.architecture.layers;
    if (this.choices.tokenLayer >= L) this.choices.tokenLayer = 0;
    const sel = this.choices.selectedHead;
    if (sel !== null && sel.layer >= L) this.choices.selectedHead = null;
    const range = this.choices.gridLayers;
    if (range !== null && range[1] >= L) this.choices.gridLayers = null;
  }

  /**
   * Selects a head to inspect: the grid and the biased-heads list mark it, the threshold charts
   * show its layer, and the per-token view switches to it. Never changes the model.
   */
  inspectHead(layer: number, head: number): void {
    this.choices = {
      ...this.choices,
      selectedHead: { layer, head },
      tokenLayer: layer,
      tokenHead: head,
    };
    // Drawn first: the token view's row requests leave before the state is serialised.
    this.selectionChanged();
    this.host.saveState(this.viewState());
  }

  /** Sets one head's override (−1 force off, 0 auto, 1 force on): an edit that re-runs. */
  setOverride(layer: number, head: number, value: -1 | 0 | 1): void {
    this.editControls((c) => {
      const row = c.headOverride[layer];
      if (row !== undefined) row[head] = value;
    });
  }

  /** Heads with an override in the edited controls. */
  overrideCount(): number {
    return this.controls?.headOverride.flat().filter((v) => v !== 0).length ?? 0;
  }

  /** Sets every head back to auto. */
  clearOverrides(): void {
    this.editControls((c) => (c.headOverride = c.headOverride.map((row) => row.map(() => 0))));
  }

  /** Applies an edit to the controls: the preview updates now, a run follows debounced. */
  editControls(edit: (controls: ArControls) => void): void {
    if (this.controls === null) return;
    const next = structuredClone(this.controls);
    edit(next);
    this.controls = next;
    this.scheduleRun();
    this.changed();
  }

  /** Runs the model again with a typed transcript (a model with a transcript slot). */
  setTranscript(text: string): void {
    this.transcript = text;
    this.runNow();
  }

  /** Replaces a UI choice. */
  choose<K extends keyof ViewChoices>(key: K, value: ViewChoices[K]): void {
    this.choices = { ...this.choices, [key]: value };
    this.changed();
  }

  private scheduleRun(): void {
    if (!this.canRun) return;
    clearTimeout(this.debounce);
    this.status = { kind: 'pending' };
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.runNow();
    }, this.init?.debounceMs ?? 250);
  }

  /** Posts a run with the current controls now (a new, larger request id). */
  runNow(): void {
    clearTimeout(this.debounce);
    this.debounce = undefined;
    if (!this.canRun || this.controls === null) {
      // The host withdrew runs (a new init) while one was scheduled: nothing is pending now.
      if (this.status.kind === 'pending') this.status = { kind: 'idle' };
      this.changed();
      return;
    }
    const requestId = this.host.request(
      {
        type: 'run',
        controls: structuredClone(this.controls),
        ...(this.transcript === null ? {} : { transcript: this.transcript }),
      },
      RUN_LANE,
    );
    this.status = { kind: 'running', requestId };
    this.changed();
  }

  /** True while a run is scheduled or in flight. */
  get busy(): boolean {
    return this.status.kind === 'pending' || this.status.kind === 'running';
  }

  /** Export file names start with the clip's stem. */
  exportStem(): string {
    return fileStem(this.result);
  }

  /** Saves a file: the host asks where; a report downloads it. */
  exportFile(file: ExportFile): void {
    if (this.host.hasHost) this.host.request({ type: 'exportFile', file });
    else this.host.download(file);
  }

  /** Asks the host to save the result, or downloads it in a report. */
  saveResult(fileName: string): void {
    if (this.host.hasHost) this.host.request({ type: 'saveResult' });
    else if (this.result !== null) {
      this.host.download({
        fileName,
        format: 'json',
        encoding: 'utf8',
        data: `${jsonWithTokenRows(this.result)}\n`,
      });
    }
  }

  /** Asks the host for an HTML report of the current result. */
  exportReport(): void {
    if (this.host.hasHost) this.host.request({ type: 'exportReport' });
  }

  /** Posts the current controls as workspace defaults. */
  saveDefaults(): void {
    if (this.host.hasHost && this.controls !== null) {
      this.host.notify({ type: 'saveDefaults', controls: structuredClone(this.controls) });
      this.notice = 'Saved these controls as the workspace defaults';
      this.changed();
    }
  }

  /** Shows (and keeps across reloads) the Counterfactuals section's latest result. */
  setCounterfactuals(result: CounterfactualResult | null): void {
    this.counterfactuals = result;
    this.changed();
  }

  /** Shows (and keeps across reloads) the Token imbalance section's latest probe. */
  setImbalance(result: ImbalanceResult | null): void {
    this.imbalance = result;
    this.changed();
  }

  /** Reports an error to the host's log (no console in webviews). */
  reportError(error: unknown): void {
    this.host.notify({ type: 'webviewError', message: errorText(error) });
  }

  /** The state VS Code keeps across reloads. */
  viewState(): AnalysisViewState {
    return {
      origin: this.init?.origin ?? { kind: 'report' },
      result: this.result,
      rows: this.rowSource instanceof HostRowSource ? this.rowSource.index : null,
      fromEvaluation: this.init?.fromEvaluation ?? null,
      controls: this.controls,
      counterfactuals: this.counterfactuals,
      imbalance: this.imbalance,
      ...this.choices,
    };
  }

  private changed(): void {
    this.host.saveState(this.viewState());
    this.onChange();
  }
}
