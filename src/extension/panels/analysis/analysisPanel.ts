// The Analysis panel's host side: one object per webview (a panel beside the editor or a custom
// editor), answering the webview's protocol messages. Every message is validated with
// `parseWebviewMessage`; re-runs answer only the latest request and cancel the one before.
import { basename, dirname, extname } from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisResult } from '../../../protocol/analysisResult';
import { readAnalysisResult } from '../../../protocol/analysisResultReader';
import { INIT, type ReadyMessage } from '../../../protocol/channel';
import type { ArControls } from '../../../protocol/contract';
import {
  parsePanelOrigin,
  parseWebviewMessage,
  type AnalysisViewState,
  type HostToWebview,
  type PanelInit,
  type PanelOrigin,
  type WebviewToHost,
} from '../../../protocol/panelMessages';
import { buildHtmlReport } from '../../../core/reports/htmlReport';
import { LatestRun } from '../latestRun';
import {
  exportedBytes,
  PanelBase,
  showRestoreFailure,
  type ChannelSnapshot,
  type PanelHost,
} from '../panelBase';
import { messageOf } from '../../logger';
import { settingsFromControls, workspaceDefaultsOf } from '../../settings';
import { ANALYSIS_BUNDLE, buildWebviewHtml, webviewOptions } from '../webviewHtml';

/** A panel's state as tests see it. */
export interface PanelSnapshot extends ChannelSnapshot {
  viewType: string;
  title: string;
  origin: PanelOrigin;
  result: AnalysisResult | null;
}

function originKey(origin: PanelOrigin): string {
  return JSON.stringify(origin);
}

/** The panel's title: "MoSEAR: <clip or result file>". */
export function panelTitle(origin: PanelOrigin, result: AnalysisResult | null): string {
  if (origin.kind === 'clip') return `MoSEAR: ${basename(origin.clipPath)}`;
  if (origin.kind === 'saved') return `MoSEAR: ${basename(origin.resultPath)}`;
  return `MoSEAR: ${result?.clip.name ?? 'report'}`;
}

/** The Analysis panel for one origin (a clip + checkpoint, or a saved result). */
export class AnalysisPanel extends PanelBase<WebviewToHost, HostToWebview> {
  /** The webview panel type (also the serializer's). */
  static readonly viewType = 'mosear.analysis';
  private static readonly open = new Map<string, AnalysisPanel>();
  /** Only the latest re-run is answered; a new one cancels the one before. */
  private readonly latestRun: LatestRun;

  /** Shows the panel of this origin beside the editor, creating it when none is open. */
  static createOrShow(
    host: PanelHost,
    origin: PanelOrigin,
    result: AnalysisResult | null,
  ): AnalysisPanel {
    const existing = AnalysisPanel.open.get(originKey(origin));
    if (existing !== undefined) {
      existing.panel.reveal(undefined, true);
      if (result !== null) existing.setResult(result);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      AnalysisPanel.viewType,
      panelTitle(origin, result),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      webviewOptions(host.extensionUri),
    );
    return new AnalysisPanel(host, panel, origin, result);
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
      new AnalysisPanel(host, panel, origin, result);
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
    private readonly origin: PanelOrigin,
    private result: AnalysisResult | null,
  ) {
    super(host, panel, {
      name: 'Analysis',
      title: panelTitle(origin, result),
      parse: parseWebviewMessage,
    });
    this.latestRun = new LatestRun(host.engine, host.logger, () => this.isDisposed);
    AnalysisPanel.open.set(originKey(origin), this);
  }

  /** The panel's state for tests and diagnostics. */
  snapshot(): PanelSnapshot {
    return {
      viewType: this.panel.viewType,
      title: this.panel.title,
      origin: this.origin,
      result: this.result,
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
    this.panel.title = panelTitle(this.origin, result);
    // Before `ready` the webview has not loaded yet: its `ready` will fetch this result.
    this.refresh();
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
    if (AnalysisPanel.open.get(originKey(this.origin)) === this) {
      AnalysisPanel.open.delete(originKey(this.origin));
    }
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

  private init(): PanelInit {
    const readOnlyReason = this.runProblem();
    const settings = this.host.config.current;
    return {
      origin: this.origin,
      result: this.result,
      canRun: readOnlyReason === null,
      readOnlyReason,
      workspaceDefaults: workspaceDefaultsOf(settings.ar, this.result?.model.metadata ?? null),
      debounceMs: settings.panel.debounceMs,
    };
  }

  protected initMessage(): HostToWebview {
    return { type: INIT, init: this.init() };
  }

  /** Handles one validated message from the webview. */
  protected async handle(message: Exclude<WebviewToHost, ReadyMessage>): Promise<void> {
    switch (message.type) {
      case 'run':
        return this.run(message.requestId, message.controls);
      case 'saveDefaults':
        return this.saveDefaults(message.controls);
      case 'exportFile':
        return this.save(message.requestId, message.file.fileName, () =>
          exportedBytes(message.file),
        );
      case 'saveResult':
        return this.save(message.requestId, `${this.clipStem()}.mosear.json`, () =>
          Promise.resolve(Buffer.from(`${JSON.stringify(this.result)}\n`)),
        );
      case 'exportReport':
        return this.save(message.requestId, `${this.clipStem()}.mosear.html`, () => this.report());
      case 'webviewError':
        this.logWebviewError(message.message);
        return;
    }
  }

  private async run(requestId: number, controls: ArControls): Promise<void> {
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
      { clipPath, modelPath, controls },
      {
        started: () => this.post({ type: 'runStarted', requestId }),
        result: (result) => {
          this.result = result;
          this.post({ type: 'runResult', requestId, result });
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
  private save(requestId: number, fileName: string, bytes: () => Promise<Buffer>): Promise<void> {
    if (this.result === null) {
      this.post({ type: 'saved', requestId, path: null, error: 'there is no result to save yet' });
      return Promise.resolve();
    }
    return this.saveAndAnswer(requestId, this.folder(), fileName, bytes);
  }

  /** A self-contained HTML report: the panel's own bundle with the result embedded. */
  private async report(): Promise<Buffer> {
    const { script, style } = await this.bundleText(ANALYSIS_BUNDLE);
    const init: PanelInit = {
      ...this.init(),
      origin: { kind: 'report' },
      canRun: false,
      readOnlyReason: 'A self-contained report: no model is available.',
    };
    return Buffer.from(buildHtmlReport({ script, style, init, title: this.panel.title }));
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
