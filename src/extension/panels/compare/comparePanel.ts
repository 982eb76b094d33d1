// The Compare panel's host side: one webview panel per clip + pair of checkpoints, answering the
// Compare protocol. Every message is validated with `parseCompareMessage`; each subject's re-runs
// answer only its latest request and cancel the one before (latest run wins, per subject).
import { comparisonJson } from '../../../core/results/resultFile';
import { basename, dirname, extname } from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisResult } from '../../../protocol/analysisResult';
import {
  readComparisonResult,
  type ComparisonResult,
  type SubjectKey,
} from '../../../protocol/comparisonResult';
import {
  parseCompareMessage,
  parseCompareOrigin,
  type CompareInit,
  type CompareOrigin,
  type CompareToHost,
  type CompareViewState,
  type HostToCompare,
} from '../../../protocol/compareMessages';
import { INIT, type ReadyMessage } from '../../../protocol/channel';
import {
  answerTokenRow,
  comparisonWithoutTokenRows,
  tokenRowsIndex,
  withoutTokenRows,
} from '../../../shared/panelRows';
import type { ArControls } from '../../../protocol/contract';
import { buildCompareReport, COMPARE_BUNDLE } from '../../../core/reports/compareReport';
import { LatestRun } from '../latestRun';
import { exportedBytes, PanelBase, showRestoreFailure } from '../panelBase';
import { webviewOptions } from '../webviewHtml';
import type { ChannelSnapshot, PanelHost } from '../panelBase';

/** A Compare panel's state as tests see it. */
export interface CompareSnapshot extends ChannelSnapshot {
  viewType: string;
  title: string;
  origin: CompareOrigin;
  comparison: ComparisonResult | null;
}

const originKey = (origin: CompareOrigin): string => JSON.stringify(origin);

/** The Compare panel for one clip and two checkpoints. */
export class ComparePanel extends PanelBase<CompareToHost, HostToCompare> {
  /** The webview panel type (also the serializer's). */
  static readonly viewType = 'mosear.compare';
  private static readonly open = new Map<string, ComparePanel>();
  /** Each subject's re-runs: only its latest request is answered. */
  private readonly latestRuns: Record<SubjectKey, LatestRun>;

  /** Shows the panel of this origin beside the editor, creating it when none is open. */
  static createOrShow(
    host: PanelHost,
    origin: CompareOrigin,
    comparison: ComparisonResult,
  ): ComparePanel {
    const existing = ComparePanel.open.get(originKey(origin));
    if (existing !== undefined) {
      existing.panel.reveal(undefined, true);
      existing.setComparison(comparison);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      ComparePanel.viewType,
      compareTitle(comparison.clip.name),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      webviewOptions(host.extensionUri),
    );
    return new ComparePanel(host, panel, origin, comparison);
  }

  /** Restores a panel after a reload from the webview's saved state, without re-running. */
  static revive(host: PanelHost, panel: vscode.WebviewPanel, state: unknown): void {
    panel.webview.options = webviewOptions(host.extensionUri);
    try {
      const saved = (state ?? {}) as Partial<CompareViewState>;
      const origin = parseCompareOrigin(saved.origin);
      new ComparePanel(host, panel, origin, readComparisonResult(saved.comparison));
    } catch (error) {
      showRestoreFailure(host, panel, error, 'Compare the clip again.');
    }
  }

  /** Every open Compare panel, oldest first. */
  static all(): ComparePanel[] {
    return [...ComparePanel.open.values()];
  }

  private constructor(
    host: PanelHost,
    panel: vscode.WebviewPanel,
    private readonly origin: CompareOrigin,
    private comparison: ComparisonResult,
  ) {
    super(host, panel, {
      name: 'Compare',
      title: compareTitle(comparison.clip.name),
      bundle: COMPARE_BUNDLE,
      parse: parseCompareMessage,
    });
    const runs = (): LatestRun => new LatestRun(host.engine, host.logger, () => this.isDisposed);
    this.latestRuns = { a: runs(), b: runs() };
    ComparePanel.open.set(originKey(origin), this);
  }

  /** The panel's state for tests and diagnostics. */
  snapshot(): CompareSnapshot {
    return {
      viewType: this.panel.viewType,
      title: this.panel.title,
      origin: this.origin,
      comparison: this.comparison,
      ...this.channelSnapshot(),
    };
  }

  /** Whether this panel compares on this clip. */
  shows(clipPath: string): boolean {
    return this.origin.kind === 'clip' && this.origin.clipPath === clipPath;
  }

  /** Shows a fresh comparison of the same origin. */
  setComparison(comparison: ComparisonResult): void {
    this.comparison = comparison;
    this.refresh();
  }

  override dispose(): void {
    for (const run of Object.values(this.latestRuns)) run.cancel();
    if (ComparePanel.open.get(originKey(this.origin)) === this) {
      ComparePanel.open.delete(originKey(this.origin));
    }
    super.dispose();
  }

  private runProblem(): string | null {
    if (this.origin.kind !== 'clip') return 'A report: no model is available.';
    const settings = this.host.config.current;
    for (const path of [this.origin.models.a, this.origin.models.b]) {
      const problem = this.host.checkpoints.modelProblem(path, settings);
      if (problem !== undefined) return problem;
    }
    return null;
  }

  private init(): CompareInit {
    const readOnlyReason = this.runProblem();
    const { a, b } = this.comparison.subjects;
    // The token rows stay here, sent one at a time on request (a report embeds them instead).
    return {
      origin: this.origin,
      comparison: comparisonWithoutTokenRows(this.comparison),
      rows: { a: tokenRowsIndex(a.result), b: tokenRowsIndex(b.result) },
      canRun: readOnlyReason === null,
      readOnlyReason,
      debounceMs: this.host.config.current.panel.debounceMs,
    };
  }

  protected initMessage(): HostToCompare {
    return { type: INIT, init: this.init() };
  }

  /** Handles one validated message from the webview. */
  protected async handle(message: Exclude<CompareToHost, ReadyMessage>): Promise<void> {
    const stem = basename(this.comparison.clip.name, extname(this.comparison.clip.name));
    switch (message.type) {
      case 'run':
        return this.run(message.subject, message.requestId, message.controls);
      case 'exportFile':
        return this.save(message.requestId, message.file.fileName, () =>
          exportedBytes(message.file),
        );
      case 'saveResult':
        return this.save(message.requestId, `${stem}.comparison.json`, () =>
          Promise.resolve(Buffer.from(comparisonJson(this.comparison))),
        );
      case 'exportReport':
        return this.save(message.requestId, `${stem}.comparison.html`, () => this.report());
      case 'webviewError':
        this.logWebviewError(message.message);
        return;
      case 'tokenRow': {
        const { subject, requestId } = message;
        const answer = answerTokenRow(this.comparison.subjects[subject].result, message.query);
        if ('row' in answer) this.post({ type: 'tokenRow', subject, requestId, row: answer.row });
        else {
          this.host.logger.warn(`Compare panel: token row not sent: ${answer.error}`);
          this.post({ type: 'tokenRowFailed', subject, requestId, message: answer.error });
        }
        return;
      }
    }
  }

  private async run(subject: SubjectKey, requestId: number, controls: ArControls): Promise<void> {
    const problem = this.runProblem();
    if (problem !== null || this.origin.kind !== 'clip') {
      this.post({
        type: 'runFailed',
        subject,
        requestId,
        message: problem ?? 'read-only',
        cancelled: false,
      });
      return;
    }
    const { clipPath } = this.origin;
    const modelPath = this.origin.models[subject];
    await this.latestRuns[subject].run(
      requestId,
      { clipPath, modelPath, controls },
      {
        started: () => this.post({ type: 'runStarted', subject, requestId }),
        result: (result) => {
          this.store(subject, result);
          this.post({
            type: 'runResult',
            subject,
            requestId,
            result: withoutTokenRows(result),
            rows: tokenRowsIndex(result),
          });
        },
        failed: (message, cancelled) =>
          this.post({ type: 'runFailed', subject, requestId, message, cancelled }),
      },
    );
  }

  /** Keeps a subject's latest result, so saves and reports show what the panel shows. */
  private store(subject: SubjectKey, result: AnalysisResult): void {
    const subjects = { ...this.comparison.subjects };
    subjects[subject] = { ...subjects[subject], controls: result.settings.controls, result };
    this.comparison = { ...this.comparison, subjects };
  }

  /** Asks where to save (next to the clip by default), writes, and answers `saved`. */
  private save(
    requestId: number,
    fileName: string,
    bytes: () => Promise<Uint8Array>,
  ): Promise<void> {
    return this.saveAndAnswer(requestId, dirname(this.comparison.clip.path), fileName, bytes);
  }

  /** A self-contained HTML report: the panel's own bundle with the comparison embedded. */
  private async report(): Promise<Buffer> {
    const { script, style } = await this.bundleText(COMPARE_BUNDLE);
    return Buffer.from(
      buildCompareReport(
        this.comparison,
        { script, style },
        'A self-contained report: no model is available.',
      ),
    );
  }
}

/** The panel's title. */
export function compareTitle(clipName: string): string {
  return `MoSEAR Compare: ${clipName}`;
}
