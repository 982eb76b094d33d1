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
import { testHooks, type MosearLensTestHooks } from './testHooks';

/**
 * What `activate` returns (`extension.exports`): read-only views for tests and other tools; in
 * test mode also the hooks that drive panels (`MosearLensTestHooks`).
 */
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
  /** The open Compare panels. */
  comparePanels(): CompareSnapshot[];
  /** The open Evaluate panels. */
  evaluations(): EvaluationSnapshot[];
}

let engine: ExtensionEngine | undefined;

/** Registers everything; returns the API tests read, or undefined when activation failed. */
export function activate(
  context: vscode.ExtensionContext,
): MosearLensApi | (MosearLensApi & MosearLensTestHooks) | undefined {
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
      comparePanels: () => ComparePanel.all().map((p) => p.snapshot()),
      evaluations: () => EvaluationPanel.all().map((p) => p.snapshot()),
      ...testHooks(context.extensionMode, host),
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
