// The Analysis panel's host side: one object per webview (a panel beside the editor or a custom
// editor), answering the webview's protocol messages. Every message is validated with
// `parseWebviewMessage`; re-runs answer only the latest request and cancel the one before.
// New analyses replace the one preview panel (like VS Code's preview editors) unless it is pinned.
import {
  readResultBytes,
  resultFormatOf,
  resultJson,
  resultNpz,
} from '../../../core/results/resultFile';
import { basename, dirname, extname } from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisResult } from '../../../protocol/analysisResult';
import { MAX_RESULT_FILE_BYTES, readAnalysisResult } from '../../../protocol/analysisResultReader';
import { INIT, type ReadyMessage } from '../../../protocol/channel';
import type { TokenRowQuery } from '../../../protocol/rowRequests';
import {
  answerTokenRow,
  holdsTokenRows,
  tokenRowsIndex,
  withoutTokenRows,
} from '../../../shared/panelRows';
import type { ArControls } from '../../../protocol/contract';
import { KNOCKOUT_UNAVAILABLE, type HeadRef, type KnockoutUnder } from '../../../protocol/knockout';
import {
  parseEvaluationSource,
  parsePanelOrigin,
  parseWebviewMessage,
  type AnalysisViewState,
  type EvaluationSource,
  type HostToWebview,
  type KnockoutAvailability,
  type PanelInit,
  type PanelOrigin,
  type PreviewState,
  type WebviewToHost,
} from '../../../protocol/panelMessages';
import { buildHtmlReport } from '../../../core/reports/htmlReport';
import { LatestRun } from '../latestRun';
import { CounterfactualRuns } from './counterfactualRuns';
import { ImbalanceRuns } from './imbalanceRuns';
import {
  exportedBytes,
  PanelBase,
  showRestoreFailure,
  type ChannelSnapshot,
  type PanelHost,
} from '../panelBase';
import type { ClipAnalysisRequest, GivenClipInputs } from '../../extensionEngine';
import { messageOf } from '../../logger';
import { settingsFromControls, workspaceDefaultsOf } from '../../settings';
import { ANALYSIS_BUNDLE, buildWebviewHtml, webviewOptions } from '../webviewHtml';

/** What the token view says of a clip's panel revived after a window reload. */
const ROWS_NOT_REVIVED =
  'The token rows are not kept across a window reload: change a control to re-run, or Analyze the clip again.';

/** The save dialog's choices for a result: the npz (default) or one JSON text. */
const RESULT_FILTERS = { 'MoSEAR result (NPZ)': ['npz'], 'MoSEAR result (JSON)': ['json'] };

/** A panel's state as tests see it. */
export interface PanelSnapshot extends ChannelSnapshot {
  viewType: string;
  title: string;
  origin: PanelOrigin;
  result: AnalysisResult | null;
  /** Preview (new analyses replace it), pinned, or null (a custom editor, or reuse is off). */
  previewState: PreviewState | null;
  fromEvaluation: EvaluationSource | null;
}

function originKey(origin: PanelOrigin): string {
  return JSON.stringify(origin);
}

/** The panel's title: "MoSEAR: <clip or result file>", "(preview)" while new analyses replace it. */
export function panelTitle(
  origin: PanelOrigin,
  result: AnalysisResult | null,
  previewState: PreviewState | null = null,
): string {
  const suffix = previewState === 'preview' ? ' (preview)' : '';
  if (origin.kind === 'clip') return `MoSEAR: ${basename(origin.clipPath)}${suffix}`;
  if (origin.kind === 'saved') return `MoSEAR: ${basename(origin.resultPath)}${suffix}`;
  return `MoSEAR: ${result?.clip.name ?? 'report'}${suffix}`;
}

/** The Analysis panel for one origin (a clip + checkpoint, or a saved result). */
export class AnalysisPanel extends PanelBase<WebviewToHost, HostToWebview> {
  /** The webview panel type (also the serializer's). */
  static readonly viewType = 'mosear.analysis';
  private static readonly open = new Map<string, AnalysisPanel>();
  /** The panel new analyses replace (none: the next one opens a new panel). */
  private static preview: AnalysisPanel | undefined;
  /** Only the latest re-run is answered; a new one cancels the one before. */
  private readonly latestRun: LatestRun;
  private readonly counterfactualRuns: CounterfactualRuns;
  private readonly imbalanceRuns: ImbalanceRuns;
  private previewState: PreviewState | null = null;
  /** Whether the clip's checkpoint declares `head_gate` (undefined until read). */
  private headGate: { modelPath: string; has: boolean } | undefined;
  /** The knockout or ranking in flight (one at a time; a new one cancels it). */
  private knockoutRun: AbortController | undefined;
  /** The transcript last typed in the panel: knockouts run on the same prompt as the analysis. */
  private typedTranscript: string | undefined;
  /**
   * What the clip's analysis was given (an evaluation's manifest row: transcript, feature files):
   * re-runs, knockouts and counterfactuals use the same, a typed transcript replacing the row's.
   */
  private given: GivenClipInputs = {};

  /**
   * Shows an analysis: in the panel of this origin when one is open, else in the preview panel
   * (its content replaced, its column kept) unless reuse is off, else in a new panel beside the
   * editor, which becomes the preview panel.
   */
  static createOrShow(
    host: PanelHost,
    origin: PanelOrigin,
    result: AnalysisResult | null,
    fromEvaluation: EvaluationSource | null = null,
    given: GivenClipInputs = {},
  ): AnalysisPanel {
    const existing = AnalysisPanel.open.get(originKey(origin));
    if (existing !== undefined) {
      existing.panel.reveal(undefined, true);
      existing.fromEvaluation = fromEvaluation;
      existing.given = given;
      existing.typedTranscript = undefined;
      if (result !== null) existing.setResult(result);
      else existing.refresh();
      return existing;
    }
    const reuse = host.config.current.panel.reusePreviewPanel;
    const preview = AnalysisPanel.preview;
    if (reuse && preview !== undefined && !preview.isDisposed) {
      preview.replace(origin, result, fromEvaluation);
      preview.given = given;
      preview.panel.reveal(undefined, true);
      return preview;
    }
    const panel = vscode.window.createWebviewPanel(
      AnalysisPanel.viewType,
      panelTitle(origin, result),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      webviewOptions(host.extensionUri),
    );
    const created = new AnalysisPanel(host, panel, origin, result, fromEvaluation);
    created.given = given;
    if (reuse) {
      created.previewState = 'preview';
      created.panel.title = created.title();
      AnalysisPanel.preview = created;
    }
    return created;
  }

  /** Restores a panel after a reload from the webview's saved state, without re-running. */
  static revive(host: PanelHost, panel: vscode.WebviewPanel, state: unknown): void {
    panel.webview.options = webviewOptions(host.extensionUri);
    try {
      const saved = (state ?? {}) as Partial<AnalysisViewState>;
      const origin = parsePanelOrigin(saved.origin);
      const result =
        saved.result === null || saved.result === undefined
          ? null
          : readAnalysisResult(saved.result);
      // A restored panel keeps its clip: it is pinned, never replaced by a new analysis.
      const revived = new AnalysisPanel(
        host,
        panel,
        origin,
        result,
        parseEvaluationSource(saved.fromEvaluation),
      );
      if (host.config.current.panel.reusePreviewPanel) revived.previewState = 'pinned';
      // The webview's state keeps the summaries, not the token rows: a saved file has them.
      if (result !== null && !holdsTokenRows(result)) {
        if (origin.kind === 'saved') void revived.reloadSavedRows(origin.resultPath);
        else revived.rowsUnavailable = ROWS_NOT_REVIVED;
      }
    } catch (error) {
      showRestoreFailure(host, panel, error, 'Analyze the clip again.');
    }
  }

  /** Drives a webview a custom editor owns (the clip editor and the result editor). */
  static attach(
    host: PanelHost,
    panel: vscode.WebviewPanel,
    origin: PanelOrigin,
    result: AnalysisResult | null,
  ): AnalysisPanel {
    panel.webview.options = webviewOptions(host.extensionUri);
    return new AnalysisPanel(host, panel, origin, result);
  }

  /** Every open panel, oldest first. */
  static all(): AnalysisPanel[] {
    return [...AnalysisPanel.open.values()];
  }

  private constructor(
    host: PanelHost,
    panel: vscode.WebviewPanel,
    private origin: PanelOrigin,
    private result: AnalysisResult | null,
    private fromEvaluation: EvaluationSource | null = null,
  ) {
    super(host, panel, {
      name: 'Analysis',
      title: panelTitle(origin, result),
      parse: parseWebviewMessage,
    });
    this.latestRun = new LatestRun(host.engine, host.logger, () => this.isDisposed);
    this.counterfactualRuns = new CounterfactualRuns(host.engine, (m) => {
      if (!this.isDisposed) this.post(m);
    });
    this.imbalanceRuns = new ImbalanceRuns(host.engine, (m) => {
      if (!this.isDisposed) this.post(m);
    });
    AnalysisPanel.open.set(originKey(origin), this);
    this.checkHeadGate();
  }

  /** Reads whether the clip's checkpoint has `head_gate`, then sends the panel's state again. */
  private checkHeadGate(): void {
    if (this.origin.kind !== 'clip' || this.runProblem() !== null) return;
    const { modelPath } = this.origin;
    if (this.headGate?.modelPath === modelPath) return;
    this.host.engine.model(modelPath).then(
      (model) => {
        this.headGate = { modelPath, has: model.optional.headGate };
        if (!this.isDisposed) this.refresh();
      },
      (error: unknown) => this.host.logger.error('reading the checkpoint for knockout', error),
    );
  }

  /** Whether the knockout section can run, and why not. */
  private knockoutAvailability(readOnlyReason: string | null): KnockoutAvailability {
    if (readOnlyReason !== null) return { available: false, reason: readOnlyReason };
    const o = this.origin;
    if (o.kind !== 'clip' || this.headGate?.modelPath !== o.modelPath) {
      return { available: false, reason: 'Reading the checkpoint…' };
    }
    return this.headGate.has
      ? { available: true, reason: null }
      : { available: false, reason: KNOCKOUT_UNAVAILABLE };
  }

  /** The panel's state for tests and diagnostics. */
  snapshot(): PanelSnapshot {
    return {
      viewType: this.panel.viewType,
      title: this.panel.title,
      origin: this.origin,
      result: this.result,
      previewState: this.previewState,
      fromEvaluation: this.fromEvaluation,
      ...this.channelSnapshot(),
    };
  }

  /** Whether this panel shows this clip or saved result file. */
  shows(path: string): boolean {
    const o = this.origin;
    return (
      (o.kind === 'clip' && o.clipPath === path) || (o.kind === 'saved' && o.resultPath === path)
    );
  }

  /** Shows a new result (a fresh analysis of the same origin). */
  setResult(result: AnalysisResult): void {
    this.result = result;
    this.rowsUnavailable = undefined;
    this.panel.title = this.title();
    // Before `ready` the webview has not loaded yet: its `ready` will fetch this result.
    this.refresh();
  }

  /** Why this panel holds no token rows for its result (revived from a webview's state). */
  private rowsUnavailable: string | undefined;

  /** Reads a revived saved result's file again for its token rows (the state kept none). */
  private async reloadSavedRows(resultPath: string): Promise<void> {
    try {
      const uri = vscode.Uri.file(resultPath);
      const { size } = await vscode.workspace.fs.stat(uri);
      if (size > MAX_RESULT_FILE_BYTES) throw new Error(`${resultPath} is too large`);
      const result = readResultBytes(await vscode.workspace.fs.readFile(uri), resultPath);
      if (!this.isDisposed) this.setResult(result);
    } catch (error) {
      this.host.logger.warn(
        `the token rows of ${resultPath} were not reloaded: ${messageOf(error)}`,
      );
    }
  }

  /** Keeps this panel's clip: the next analysis opens a new preview panel. */
  pin(): void {
    if (this.previewState !== 'preview') return;
    this.previewState = 'pinned';
    if (AnalysisPanel.preview === this) AnalysisPanel.preview = undefined;
    this.panel.title = this.title();
    this.refresh();
  }

  private title(): string {
    return panelTitle(this.origin, this.result, this.previewState);
  }

  /** The preview panel takes another analysis: its run stops, the webview gets the new state. */
  private replace(
    origin: PanelOrigin,
    result: AnalysisResult | null,
    fromEvaluation: EvaluationSource | null,
  ): void {
    this.latestRun.cancel();
    this.knockoutRun?.abort();
    this.imbalanceRuns.cancel();
    if (AnalysisPanel.open.get(originKey(this.origin)) === this) {
      AnalysisPanel.open.delete(originKey(this.origin));
    }
    this.origin = origin;
    this.result = result;
    this.fromEvaluation = fromEvaluation;
    // Another clip: the transcript typed for the last one is not this one's.
    this.typedTranscript = undefined;
    AnalysisPanel.open.set(originKey(origin), this);
    this.panel.title = this.title();
    this.refresh();
    this.checkHeadGate();
  }

  /** Replaces the panel's content with an error (the first analysis failed). */
  showFailure(message: string): void {
    this.panel.webview.html = buildWebviewHtml({
      webview: this.panel.webview,
      extensionUri: this.host.extensionUri,
      title: this.panel.title,
      error: message,
    });
  }

  override dispose(): void {
    this.latestRun.cancel();
    this.knockoutRun?.abort();
    this.counterfactualRuns.cancel();
    this.imbalanceRuns.cancel();
    if (AnalysisPanel.open.get(originKey(this.origin)) === this) {
      AnalysisPanel.open.delete(originKey(this.origin));
    }
    if (AnalysisPanel.preview === this) AnalysisPanel.preview = undefined;
    super.dispose();
  }

  private runProblem(): string | null {
    if (this.origin.kind === 'saved') {
      return 'A saved result: it shows the analysis as it was saved. Analyze the clip to re-run the model.';
    }
    if (this.origin.kind === 'report') return 'A report: no model is available.';
    return (
      this.host.checkpoints.modelProblem(this.origin.modelPath, this.host.config.current) ?? null
    );
  }

  /** The panel's state; the result's token rows stay here (sent one at a time on request). */
  private init(): PanelInit {
    const readOnlyReason = this.runProblem();
    const settings = this.host.config.current;
    return {
      origin: this.origin,
      result: this.result === null ? null : withoutTokenRows(this.result),
      ...(this.result === null ? {} : { rows: tokenRowsIndex(this.result, this.rowsUnavailable) }),
      canRun: readOnlyReason === null,
      readOnlyReason,
      workspaceDefaults: workspaceDefaultsOf(settings.ar, this.result?.model.metadata ?? null),
      debounceMs: settings.panel.debounceMs,
      fromEvaluation: this.fromEvaluation,
      ...(this.previewState === null ? {} : { previewState: this.previewState }),
      knockout: this.knockoutAvailability(readOnlyReason),
    };
  }

  protected initMessage(): HostToWebview {
    return { type: INIT, init: this.init() };
  }

  /** Handles one validated message from the webview. */
  protected async handle(message: Exclude<WebviewToHost, ReadyMessage>): Promise<void> {
    switch (message.type) {
      case 'run':
        return this.run(message.requestId, message.controls, message.transcript);
      case 'saveDefaults':
        return this.saveDefaults(message.controls);
      case 'pin':
        this.pin();
        return;
      case 'exportFile':
        return this.save(message.requestId, message.file.fileName, () =>
          exportedBytes(message.file),
        );
      case 'saveResult':
        return this.save(
          message.requestId,
          `${this.clipStem()}.mosear.npz`,
          (path) => Promise.resolve(this.resultBytes(path)),
          RESULT_FILTERS,
        );
      case 'exportReport':
        return this.save(message.requestId, `${this.clipStem()}.mosear.html`, () => this.report());
      case 'webviewError':
        this.logWebviewError(message.message);
        return;
      case 'tokenRow':
        this.answerTokenRow(message.requestId, message.query);
        return;
      case 'knockout':
        return this.knockout(message.requestId, message.controls, message.heads);
      case 'rankHeads':
        return this.rank(message.requestId, message.controls, message.k, message.under);
      case 'cancelRank':
        this.knockoutRun?.abort();
        return;
      case 'runCounterfactuals': {
        const problem = this.runProblem();
        if (problem !== null || this.origin.kind !== 'clip') {
          this.post({
            type: 'counterfactualsFailed',
            requestId: message.requestId,
            message: problem ?? 'read-only',
            cancelled: false,
          });
          return;
        }
        const { clipPath, modelPath } = this.origin;
        // The variants feed zero features (counterfactualRun.ts), so only the prompt carries over.
        const { transcript } = this.givenInputs();
        return this.counterfactualRuns.run(
          message.requestId,
          {
            clipPath,
            modelPath,
            controls: message.controls,
            ...(transcript === undefined ? {} : { transcript }),
          },
          message.pick,
        );
      }
      case 'cancelCounterfactuals':
        this.counterfactualRuns.cancel(message.run);
        return;
      case 'runImbalance': {
        const problem = this.runProblem();
        if (problem !== null || this.origin.kind !== 'clip') {
          this.post({
            type: 'imbalanceFailed',
            requestId: message.requestId,
            message: problem ?? 'read-only',
            cancelled: false,
          });
          return;
        }
        const { clipPath, modelPath } = this.origin;
        return this.imbalanceRuns.run(message.requestId, {
          clipPath,
          modelPath,
          controls: message.controls,
          repeats: message.repeats,
          ...this.givenInputs(),
        });
      }
      case 'cancelImbalance':
        this.imbalanceRuns.cancel(message.run);
        return;
    }
  }

  /** Runs a knockout or a ranking: one at a time, a new one cancels the one before. */
  private async knockoutTask(
    requestId: number,
    task: (request: ClipAnalysisRequest, signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const problem = this.knockoutAvailability(this.runProblem());
    if (!problem.available || this.origin.kind !== 'clip') {
      this.post({
        type: 'knockoutFailed',
        requestId,
        message: problem.reason ?? 'read-only',
        cancelled: false,
      });
      return;
    }
    this.knockoutRun?.abort();
    const controller = new AbortController();
    this.knockoutRun = controller;
    const { clipPath, modelPath } = this.origin;
    try {
      await task({ clipPath, modelPath, ...this.givenInputs() }, controller.signal);
    } catch (error) {
      if (this.isDisposed) return;
      const cancelled = controller.signal.aborted;
      if (!cancelled) this.host.logger.error('knockout failed', error);
      this.post({ type: 'knockoutFailed', requestId, message: messageOf(error), cancelled });
    } finally {
      if (this.knockoutRun === controller) this.knockoutRun = undefined;
    }
  }

  private knockout(requestId: number, controls: ArControls, heads: HeadRef[]): Promise<void> {
    return this.knockoutTask(requestId, async (request, signal) => {
      const result = await this.host.engine.knockout({ ...request, controls, heads }, signal);
      if (!this.isDisposed) this.post({ type: 'knockoutResult', requestId, result });
    });
  }

  private rank(
    requestId: number,
    controls: ArControls,
    k: number,
    under: KnockoutUnder,
  ): Promise<void> {
    return this.knockoutTask(requestId, async (request, signal) => {
      const ranking = await this.host.engine.rankHeads(
        { ...request, controls, k, under },
        signal,
        (progress) => {
          if (!this.isDisposed) this.post({ type: 'rankProgress', requestId, progress });
        },
      );
      if (!this.isDisposed) this.post({ type: 'rankResult', requestId, ranking });
    });
  }

  /** The given inputs of the clip, the transcript typed in the panel replacing the row's. */
  private givenInputs(): GivenClipInputs {
    const typed = this.typedTranscript;
    return {
      ...this.given,
      ...(typed === undefined ? {} : { transcript: { text: typed, source: 'typed' as const } }),
    };
  }

  private async run(requestId: number, controls: ArControls, transcript?: string): Promise<void> {
    if (transcript !== undefined) this.typedTranscript = transcript;
    const problem = this.runProblem();
    if (problem !== null || this.origin.kind !== 'clip') {
      this.post({
        type: 'runFailed',
        requestId,
        message: problem ?? 'read-only',
        cancelled: false,
      });
      return;
    }
    const { clipPath, modelPath } = this.origin;
    await this.latestRun.run(
      requestId,
      { clipPath, modelPath, controls, ...this.givenInputs() },
      {
        started: () => this.post({ type: 'runStarted', requestId }),
        result: (result) => {
          this.result = result;
          this.rowsUnavailable = undefined;
          this.post({
            type: 'runResult',
            requestId,
            result: withoutTokenRows(result),
            rows: tokenRowsIndex(result),
          });
        },
        failed: (message, cancelled) =>
          this.post({ type: 'runFailed', requestId, message, cancelled }),
      },
    );
  }

  private async saveDefaults(controls: ArControls): Promise<void> {
    try {
      for (const [key, value] of settingsFromControls(controls)) {
        await this.host.config.writeWorkspaceValue(key, value);
      }
      void vscode.window.showInformationMessage(
        'MoSEAR: saved these AR settings as the workspace defaults (mosear.ar.*).',
      );
    } catch (error) {
      this.host.logger.error('saving the workspace defaults failed', error);
      this.host.logger.userError(`MoSEAR: cannot save workspace defaults: ${messageOf(error)}`);
    }
  }

  /** Asks where to save (next to the clip by default), writes, and answers `saved`. */
  private save(
    requestId: number,
    fileName: string,
    bytes: (path: string) => Promise<Uint8Array>,
    filters?: Record<string, string[]>,
  ): Promise<void> {
    if (this.result === null) {
      this.post({ type: 'saved', requestId, path: null, error: 'there is no result to save yet' });
      return Promise.resolve();
    }
    return this.saveAndAnswer(requestId, this.folder(), fileName, bytes, filters);
  }

  /** The result file for a chosen path: an npz, or JSON where the name ends in .json. */
  private resultBytes(path: string): Uint8Array {
    if (this.result === null) throw new Error('there is no result to save yet');
    return resultFormatOf(path) === 'npz'
      ? resultNpz(this.result)
      : Buffer.from(resultJson(this.result));
  }

  /**
   * Answers one token row of the current result (bounds checked against its shape): the row as
   * a Float32Array, or `tokenRowFailed` saying why.
   */
  private answerTokenRow(requestId: number, query: TokenRowQuery): void {
    const answer = answerTokenRow(this.result, query);
    if ('row' in answer) this.post({ type: 'tokenRow', requestId, row: answer.row });
    else {
      this.host.logger.warn(`Analysis panel: token row not sent: ${answer.error}`);
      this.post({ type: 'tokenRowFailed', requestId, message: answer.error });
    }
  }

  /** A self-contained HTML report: the panel's own bundle with the result embedded. */
  private async report(): Promise<Buffer> {
    const { script, style } = await this.bundleText(ANALYSIS_BUNDLE);
    const init: PanelInit = {
      ...this.init(),
      // A report has no host to ask: its result keeps every stored row (and no `rows` index).
      result: this.result,
      origin: { kind: 'report' },
      canRun: false,
      readOnlyReason: 'A self-contained report: no model is available.',
      knockout: { available: false, reason: 'A self-contained report: no model is available.' },
    };
    delete init.previewState;
    delete init.rows;
    return Buffer.from(
      buildHtmlReport({ script, style, init, title: panelTitle(this.origin, this.result) }),
    );
  }

  /** Where saves go by default: beside the clip or result file, else the workspace. */
  private folder(): string {
    if (this.origin.kind === 'clip') return dirname(this.origin.clipPath);
    if (this.origin.kind === 'saved') return dirname(this.origin.resultPath);
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  }

  private clipStem(): string {
    const name = this.result?.clip.name ?? 'analysis';
    return basename(name, extname(name));
  }
}
