// Activation: registers commands, custom editors, the panel serializer and the status bar item,
// all in context.subscriptions. Nothing is spawned here: the engine starts on the first analysis.
import * as vscode from 'vscode';
import { AnalysisPanel, type PanelSnapshot } from './panels/analysis/analysisPanel';
import { Checkpoints } from './checkpoints';
import { registerClipEditor } from './panels/analysis/clipEditor';
import { registerCommands } from './commands';
import { ComparePanel, type CompareSnapshot } from './panels/compare/comparePanel';
import { Config } from './config';
import { ExtensionEngine } from './extensionEngine';
import { EvaluationPanel, type EvaluationSnapshot } from './panels/evaluation/evaluationPanel';
import { Logger, messageOf } from './logger';
import { registerResultEditor } from './panels/analysis/resultEditor';
import { restrictedModelProblem, type MosearSettings } from './settings';
import { CheckpointStatusBar } from './statusBar';
import type { PanelHost } from './panels/panelBase';

/** What `activate` returns (`extension.exports`): read-only views for tests and other tools. */
export interface MosearLensApi {
  /** The open Analysis panels and custom editors. */
  panels(): PanelSnapshot[];
  /** The settings as the extension reads them now. */
  settings(): MosearSettings;
  /** The checkpoint analyses use now. */
  activeCheckpoint(): string;
  /** Whether the analysis engine (and so any worker process) has been created. */
  engineStarted(): boolean;
  /** The error messages shown to the user so far (the last 50). */
  errorsShown(): readonly string[];
  /**
   * Hands a message to the panel of a clip or saved result as if its webview had sent it
   * (tests drive the panel protocol with it); resolves when the panel has handled it.
   */
  sendToPanel(path: string, message: unknown): Promise<void>;
  /** The open Compare panels. */
  comparePanels(): CompareSnapshot[];
  /** Hands a message to the Compare panel of a clip as if its webview had sent it. */
  sendToCompare(clipPath: string, message: unknown): Promise<void>;
  /** The open Evaluate panels. */
  evaluations(): EvaluationSnapshot[];
  /** Hands a message to the Evaluate panel of a run folder as if its webview had sent it. */
  sendToEvaluation(runDir: string, message: unknown): Promise<void>;
  /** Restores an Evaluate panel from a webview state as a window reload would (tests). */
  restoreEvaluation(state: unknown): Promise<void>;
}

let engine: ExtensionEngine | undefined;

/** Registers everything; returns the API tests read, or undefined when activation failed. */
export function activate(context: vscode.ExtensionContext): MosearLensApi | undefined {
  const logger = new Logger();
  context.subscriptions.push(logger);
  try {
    const version = String((context.extension.packageJSON as { version?: unknown }).version);
    const config = new Config(logger);
    const shippedCheckpointsDir = vscode.Uri.joinPath(
      context.extensionUri,
      'models',
      'checkpoints',
    ).fsPath;
    engine = new ExtensionEngine(
      {
        distDir: vscode.Uri.joinPath(context.extensionUri, 'dist').fsPath,
        toolVersion: version,
        modelProblem: (modelPath, settings) =>
          restrictedModelProblem(modelPath, shippedCheckpointsDir, settings.trusted),
      },
      config,
      logger,
    );
    const checkpoints = new Checkpoints(
      shippedCheckpointsDir,
      config,
      engine,
      context.workspaceState,
      logger,
    );
    const host: PanelHost = {
      extensionUri: context.extensionUri,
      engine,
      config,
      checkpoints,
      logger,
      globalStorageDir: context.globalStorageUri.fsPath,
    };
    context.subscriptions.push(
      config,
      engine,
      checkpoints,
      new CheckpointStatusBar(checkpoints, config, engine),
      ...registerCommands(host, version),
      registerClipEditor(host),
      registerResultEditor(host),
      vscode.window.registerWebviewPanelSerializer(AnalysisPanel.viewType, {
        deserializeWebviewPanel: (panel, state: unknown) => {
          AnalysisPanel.revive(host, panel, state);
          return Promise.resolve();
        },
      }),
      { dispose: () => AnalysisPanel.all().forEach((p) => p.dispose()) },
      vscode.window.registerWebviewPanelSerializer(ComparePanel.viewType, {
        deserializeWebviewPanel: (panel, state: unknown) => {
          ComparePanel.revive(host, panel, state);
          return Promise.resolve();
        },
      }),
      { dispose: () => ComparePanel.all().forEach((p) => p.dispose()) },
      vscode.window.registerWebviewPanelSerializer(EvaluationPanel.viewType, {
        deserializeWebviewPanel: (panel, state: unknown) =>
          EvaluationPanel.revive(host, panel, state),
      }),
      { dispose: () => EvaluationPanel.all().forEach((p) => p.dispose()) },
    );
    logger.info(
      `MoSEAR Lens ${version} active (${vscode.workspace.isTrusted ? 'trusted workspace' : 'Restricted Mode'})`,
    );
    return {
      panels: () => AnalysisPanel.all().map((p) => p.snapshot()),
      settings: () => config.current,
      activeCheckpoint: () => checkpoints.active,
      engineStarted: () => engine?.started ?? false,
      errorsShown: () => logger.errorsShown(),
      sendToPanel: (path, message) => {
        const panel = AnalysisPanel.all().find((p) => p.shows(path));
        if (panel === undefined) return Promise.reject(new Error(`no panel shows ${path}`));
        return panel.receive(message);
      },
      comparePanels: () => ComparePanel.all().map((p) => p.snapshot()),
      sendToCompare: (clipPath, message) => {
        const panel = ComparePanel.all().find((p) => p.shows(clipPath));
        if (panel === undefined)
          return Promise.reject(new Error(`no Compare panel on ${clipPath}`));
        return panel.receive(message);
      },
      evaluations: () => EvaluationPanel.all().map((p) => p.snapshot()),
      sendToEvaluation: (runDir, message) => {
        const panel = EvaluationPanel.all().find((p) => p.runDir === runDir);
        if (panel === undefined)
          return Promise.reject(new Error(`no Evaluate panel for ${runDir}`));
        return panel.receive(message);
      },
      restoreEvaluation: (state) =>
        EvaluationPanel.revive(
          host,
          vscode.window.createWebviewPanel(
            EvaluationPanel.viewType,
            'MoSEAR Eval',
            vscode.ViewColumn.Active,
          ),
          state,
        ),
    };
  } catch (error) {
    logger.error('activation failed', error);
    logger.userError(`MoSEAR Lens failed to start: ${messageOf(error)}`);
    return undefined;
  }
}

/** Ends the engine's worker processes. */
export function deactivate(): void {
  // context.subscriptions disposes the engine too; this covers hosts that skip that on exit.
  engine?.dispose();
  engine = undefined;
}
