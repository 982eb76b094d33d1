// The Evaluate panel's host side: one panel per run folder. It runs (or resumes) a benchmark
// evaluation with `runBenchmark` — which only awaits worker and ffmpeg processes, so the host
// thread stays free — under a cancellable progress notification, and streams progress and a
// partial summary to the webview at most four times a second. Every webview message is validated
// with `parseEvaluationMessage`; revival re-reads the run folder and re-summarises, never re-runs.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { INIT, type ReadyMessage } from '../../../protocol/channel';
import {
  parseEvaluationMessage,
  parseEvaluationOrigin,
  type EvaluationInit,
  type EvaluationProgress,
  type EvaluationStatus,
  type EvaluationToHost,
  type EvaluationViewState,
  type HostToEvaluation,
} from '../../../protocol/evaluationMessages';
import {
  planKey,
  FinishedClips,
  shardClips,
  sortRecords,
  type BenchmarkPlan,
  type ClipRecord,
} from '../../../core/evaluation/benchmarkRecords';
import {
  planBenchmark,
  readRunDirectory,
  runBenchmark,
} from '../../../core/evaluation/benchmarkRun';
import { summarizeBenchmark } from '../../../core/evaluation/benchmarkSummary';
import { DecodeCache } from '../../../core/evaluation/decodeCache';
import { writeRunSummary } from '../../../core/evaluation/runSummaryFiles';
import type { SweepRequest } from '../../../core/evaluation/evaluationSettings';
import { readManifest, type ManifestEntry } from '../../../core/evaluation/manifest';
import { manifestFeatures } from '../../../core/engine/featureSource';
import type { GivenClipInputs } from '../../extensionEngine';
import { durationText } from '../../../shared/durationText';
import { buildEvaluationReport } from '../../../core/reports/evaluationReport';
import { AnalysisPanel } from '../analysis/analysisPanel';
import { analyzeWithProgress } from '../analysis/clipAnalysis';
import { evaluationTabTitle, manifestTitle } from './evaluationPlan';
import { messageOf } from '../../logger';
import { exportedBytes, PanelBase, showRestoreFailure } from '../panelBase';
import { EVALUATE_BUNDLE, webviewOptions } from '../webviewHtml';
import type { BenchmarkSummary } from '../../../protocol/evaluationSummary';
import type { SettingChoice } from '../../../protocol/settingChoice';
import type { ChannelSnapshot, PanelHost } from '../panelBase';

/** Fewest milliseconds between two progress posts (≤ 4 updates a second). */
export const PROGRESS_INTERVAL_MS = 250;

/** One evaluation to run: what the command collected. */
export interface EvaluationRequest {
  /** A manifest file or a folder holding one. */
  manifest: string;
  models: string[];
  sweeps: SweepRequest[];
  jobs: number;
  runDir: string;
  /** Where the run folder is and why, as the panel says it. */
  runDirNote: string;
  /** A setting chosen on another evaluation: `off` and it are evaluated (no sweeps). */
  choice?: SettingChoice;
}

/** How a run ended, for the command's caller (tests read it). */
export interface EvaluationOutcome {
  runDir: string;
  status: Exclude<EvaluationStatus, 'running'>;
  summary: BenchmarkSummary | null;
  /** Clips an earlier run had finished. */
  resumed: number;
  error: string | null;
}

/** A panel's state as tests see it. */
export interface EvaluationSnapshot extends ChannelSnapshot {
  runDir: string;
  status: EvaluationStatus;
  progress: EvaluationProgress | null;
  summary: BenchmarkSummary | null;
}

/** What a summary is made from; kept so flips can be opened and partial summaries rebuilt. */
interface RunData {
  plan: BenchmarkPlan;
  entries: ManifestEntry[];
  records: ClipRecord[];
}

function summaryOf(data: RunData): BenchmarkSummary {
  const names = data.plan.checkpoints.map((c) => c.name);
  const records = sortRecords([...data.records], names);
  const clips = shardClips(data.entries.length, data.plan.shard).length;
  return summarizeBenchmark(data.plan, data.entries, records, clips);
}

/** The Evaluate panel of one run folder. */
export class EvaluationPanel extends PanelBase<EvaluationToHost, HostToEvaluation> {
  /** The webview panel type (also the serializer's). */
  static readonly viewType = 'mosear.evaluation';
  private static readonly open = new Map<string, EvaluationPanel>();
  private status: EvaluationStatus = 'finished';
  private progress: EvaluationProgress | null = null;
  private summary: BenchmarkSummary | null = null;
  private error: string | null = null;
  private data: RunData | null = null;
  private controller: AbortController | null = null;

  /** Shows the panel of this run folder, creating it when none is open. */
  static createOrShow(
    host: PanelHost,
    runDir: string,
    title: string,
    note: string,
    tabTitle = `MoSEAR Eval: ${title}`,
  ): EvaluationPanel {
    const existing = EvaluationPanel.open.get(runDir);
    if (existing !== undefined) {
      existing.panel.reveal(undefined, true);
      existing.note = note;
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      EvaluationPanel.viewType,
      tabTitle,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      webviewOptions(host.extensionUri),
    );
    return new EvaluationPanel(host, panel, runDir, title, note, tabTitle);
  }

  /** Restores a panel after a reload: reads the run folder and summarises it again. */
  static async revive(host: PanelHost, panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    panel.webview.options = webviewOptions(host.extensionUri);
    try {
      const saved = (state ?? {}) as Partial<EvaluationViewState>;
      const origin = parseEvaluationOrigin(saved.origin);
      if (origin.kind !== 'run') throw new Error('a report has no run folder');
      const { plan, records } = await readRunDirectory(origin.runDir);
      if (plan === null) throw new Error(`${origin.runDir} holds no evaluation (no plan.json)`);
      const entries = await readManifest(plan.manifest.path, plan.labels);
      const revived = new EvaluationPanel(
        host,
        panel,
        origin.runDir,
        manifestTitle(plan.manifest.path),
        `Run folder ${origin.runDir} (restored from disk; nothing re-run).`,
        evaluationTabTitle(manifestTitle(plan.manifest.path), plan.checkpoints),
      );
      revived.data = { plan, entries, records };
      revived.summary = summaryOf(revived.data);
      const total = shardClips(entries.length, plan.shard).length;
      // Transient failures (crashes, time-outs) are not done: resuming retries them.
      const finished = new FinishedClips(records);
      const names = plan.checkpoints.map((c) => c.name);
      const done = shardClips(entries.length, plan.shard).filter((clip) =>
        finished.clipDone(clip, names),
      ).length;
      revived.status = done >= total ? 'finished' : 'cancelled';
      if (revived.status === 'cancelled') {
        revived.error = `${done} of ${total} clips evaluated: run the same evaluation to resume.`;
      }
    } catch (error) {
      showRestoreFailure(host, panel, error, 'Evaluate the benchmark again.');
    }
  }

  /** Every open Evaluate panel, oldest first. */
  static all(): EvaluationPanel[] {
    return [...EvaluationPanel.open.values()];
  }

  private constructor(
    host: PanelHost,
    panel: vscode.WebviewPanel,
    readonly runDir: string,
    private readonly title: string,
    private note: string,
    tabTitle: string,
  ) {
    super(host, panel, {
      name: 'Evaluate',
      title: tabTitle,
      bundle: EVALUATE_BUNDLE,
      parse: parseEvaluationMessage,
    });
    EvaluationPanel.open.set(runDir, this);
  }

  /** The panel's state for tests and diagnostics. */
  snapshot(): EvaluationSnapshot {
    return {
      runDir: this.runDir,
      status: this.status,
      progress: this.progress,
      summary: this.summary,
      ...this.channelSnapshot(),
    };
  }

  /** Whether an evaluation is running in this panel. */
  get running(): boolean {
    return this.controller !== null;
  }

  /** Cancels the run (records so far stay in the run folder). */
  cancel(): void {
    this.controller?.abort();
  }

  override dispose(): void {
    // Closing the panel stops its run; the records written so far stay for a resume.
    this.controller?.abort();
    if (EvaluationPanel.open.get(this.runDir) === this) EvaluationPanel.open.delete(this.runDir);
    super.dispose();
  }

  /** Runs (or resumes) the evaluation, streaming into the panel; resolves when it ends. */
  async run(request: EvaluationRequest): Promise<EvaluationOutcome> {
    if (this.controller !== null) throw new Error('this evaluation is already running');
    const controller = new AbortController();
    this.controller = controller;
    this.status = 'running';
    this.error = null;
    this.progress = null;
    this.note = request.runDirNote;
    // Before `ready` the webview has not loaded: its `ready` fetches the state.
    this.refresh();
    const log = this.host.logger;
    log.info(
      `evaluate ${request.manifest} with ${request.models.join(', ')} into ${request.runDir}`,
    );
    let resumed = 0;
    try {
      const outcome = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `MoSEAR: evaluating ${this.title}`,
          cancellable: true,
        },
        async (notification, token) => {
          token.onCancellationRequested(() => controller.abort());
          const { plan, entries } = await planBenchmark(request);
          // Records of an earlier run of the same plan seed the partial summaries; the runner
          // itself refuses a folder holding a different evaluation.
          const existing = await readRunDirectory(request.runDir);
          const sameRun = existing.plan !== null && planKey(existing.plan) === planKey(plan);
          const data: RunData = { plan, entries, records: sameRun ? existing.records : [] };
          this.data = data;
          const { decoder, identity } = await this.host.engine.benchmarkDecoder();
          let dirty = true;
          let lastPost = 0;
          let timer: ReturnType<typeof setTimeout> | undefined;
          let lastReported = 0;
          const flush = (): void => {
            timer = undefined;
            lastPost = performance.now();
            const progress = this.progress;
            if (progress === null || this.isDisposed) return;
            const summary = dirty ? summaryOf(data) : null;
            if (summary !== null) this.summary = summary;
            dirty = false;
            this.post({ type: 'progress', progress, summary });
          };
          try {
            return await runBenchmark({
              ...request,
              outDir: request.runDir,
              workerScript: join(
                this.host.extensionUri.fsPath,
                'dist',
                'core',
                'inferenceWorker.js',
              ),
              decoder,
              decodeCache: new DecodeCache(this.decodeCacheDir(), identity),
              signal: controller.signal,
              onRecord: (record) => {
                data.records.push(record);
                dirty = true;
              },
              onProgress: (progress) => {
                this.progress = progress;
                resumed = progress.resumed;
                const eta = progress.etaMs === null ? '' : `, ${durationText(progress.etaMs)} left`;
                const step = progress.total === 0 ? 0 : (100 * progress.done) / progress.total;
                notification.report({
                  message: `${progress.done}/${progress.total} clips${eta}`,
                  increment: step - lastReported,
                });
                lastReported = step;
                if (timer !== undefined) return;
                const wait = Math.max(0, lastPost + PROGRESS_INTERVAL_MS - performance.now());
                timer = setTimeout(flush, wait);
              },
            });
          } finally {
            if (timer !== undefined) clearTimeout(timer);
          }
        },
      );
      this.data = { plan: outcome.plan, entries: outcome.entries, records: outcome.records };
      this.progress = outcome.progress;
      const summary = summaryOf(this.data);
      this.summary = summary;
      this.status = outcome.cancelled ? 'cancelled' : 'finished';
      // The same files as `mosear-lens eval` leaves (README: run folders).
      if (!outcome.cancelled) {
        await writeRunSummary(this.runDir, summary, (await this.report()).toString('utf8'));
      }
      if (outcome.cancelled) {
        this.error = `Cancelled after ${outcome.progress.done} of ${outcome.progress.total} clips; the records are kept: run the same evaluation again to resume.`;
      }
      log.info(`evaluation of ${this.title} ${this.status} (${outcome.progress.done} clips)`);
    } catch (error) {
      this.status = 'failed';
      this.error = messageOf(error);
      log.error(`evaluation of ${this.title} failed`, error);
      log.userError(`MoSEAR: the evaluation of ${this.title} failed. ${this.error}`);
    } finally {
      this.controller = null;
    }
    const status = this.status;
    this.post({
      type: 'finished',
      status,
      progress: this.progress,
      summary: this.summary,
      error: this.error,
    });
    return { runDir: this.runDir, status, summary: this.summary, resumed, error: this.error };
  }

  private init(): EvaluationInit {
    return {
      origin: { kind: 'run', runDir: this.runDir },
      title: this.title,
      runDirNote: this.note,
      status: this.status,
      progress: this.progress,
      summary: this.summary,
      error: this.error,
      canOpenClips: true,
    };
  }

  protected initMessage(): HostToEvaluation {
    return { type: INIT, init: this.init() };
  }

  /** Handles one validated message from the webview. */
  protected async handle(message: Exclude<EvaluationToHost, ReadyMessage>): Promise<void> {
    switch (message.type) {
      case 'cancel':
        this.cancel();
        return;
      case 'openClip':
        return this.openClip(message.clip, message.checkpoint, message.setting);
      case 'exportFile':
        return this.save(message.requestId, message.file.fileName, () =>
          exportedBytes(message.file),
        );
      case 'exportReport':
        return this.save(message.requestId, `${this.title}.evaluation.html`, () => this.report());
      case 'webviewError':
        this.logWebviewError(message.message);
        return;
    }
  }

  /** Where the run's decoded clips are kept (global storage: shared by every evaluation). */
  private decodeCacheDir(): string {
    return join(this.host.globalStorageDir, 'decode-cache');
  }

  /**
   * Opens the Analysis panel of a flipped clip with that checkpoint and setting's controls,
   * taking the clip's tensors from the evaluation's decode cache instead of decoding again, and
   * saying where it came from (the evaluation, the setting, the ground truth).
   */
  private async openClip(clip: number, checkpoint: string, setting: string): Promise<void> {
    const entry = this.data?.entries[clip];
    const planned = this.data?.plan.checkpoints.find((c) => c.name === checkpoint);
    const chosen = planned?.settings.find((s) => s.id === setting);
    if (entry === undefined || planned === undefined || chosen === undefined) {
      this.host.logger.warn(`Evaluate panel: no clip ${clip} / ${checkpoint} / ${setting}`);
      return;
    }
    // The row's transcript and feature files, as the evaluation fed them (benchmarkRun.ts).
    const given: GivenClipInputs = {
      ...(entry.transcript === null
        ? {}
        : { transcript: { text: entry.transcript, source: 'manifest' } }),
      ...(entry.features === undefined ? {} : { features: manifestFeatures(entry.features) }),
    };
    const outcome = await analyzeWithProgress(this.host, entry.path, planned.path, {
      controls: chosen.controls,
      decodeCacheDir: this.decodeCacheDir(),
      ...given,
    });
    if (!('result' in outcome)) return;
    AnalysisPanel.createOrShow(
      this.host,
      { kind: 'clip', clipPath: entry.path, modelPath: planned.path },
      outcome.result,
      {
        evaluation: this.title,
        runDir: this.runDir,
        checkpoint,
        settingId: chosen.id,
        setting: chosen.title,
        groundTruth: this.data?.plan.labels[entry.label] ?? `label ${entry.label}`,
      },
      given,
    );
  }

  /** Asks where to save (the run folder by default), writes, and answers `saved`. */
  private save(requestId: number, fileName: string, bytes: () => Promise<Buffer>): Promise<void> {
    return this.saveAndAnswer(requestId, this.runDir, fileName, bytes);
  }

  /** A self-contained HTML report: the Evaluate bundle with this summary embedded. */
  private async report(): Promise<Buffer> {
    const bundle = await this.bundleText(EVALUATE_BUNDLE);
    return Buffer.from(buildEvaluationReport(this.init(), bundle));
  }
}
