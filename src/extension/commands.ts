// The contributed commands (package.json `contributes.commands`), each a thin adapter from a
// menu, the palette or a test to the panel, the checkpoints and the engine.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisResult } from '../protocol/analysisResult';
import { AnalysisPanel } from './panels/analysis/analysisPanel';
import { analyzeWithProgress } from './panels/analysis/clipAnalysis';
import { compareCheckpoints } from './panels/compare/compareCheckpoints';
import { evaluateBenchmark } from './panels/evaluation/evaluateCommand';
import { buildConflictSetCommand } from './conflictSetCommand';
import { RESULT_EDITOR_VIEW_TYPE } from './panels/analysis/resultEditor';
import { exportCheckpoint } from './exportCheckpoint';
import { showRuntimeInfo } from './runtimeInfo';
import { isVideoPath, VIDEO_EXTENSIONS, videoGlob } from './settings';
import type { PanelHost } from './panels/panelBase';

/** Asks for a clip: the workspace's videos, or a file dialog. */
async function pickClip(): Promise<vscode.Uri | undefined> {
  const browse = { label: '$(folder-opened) Browse…', uri: undefined };
  const found = await vscode.workspace.findFiles(videoGlob(), '**/node_modules/**', 500);
  const items = [
    ...found
      .sort((a, b) => a.fsPath.localeCompare(b.fsPath))
      .map((uri) => ({
        label: basename(uri.fsPath),
        description: vscode.workspace.asRelativePath(uri, false),
        uri,
      })),
    browse,
  ];
  const chosen = await vscode.window.showQuickPick<{ label: string; uri: vscode.Uri | undefined }>(
    items,
    {
      title: 'MoSEAR: Analyze Clip',
      placeHolder: 'A video clip to analyze',
      matchOnDescription: true,
    },
  );
  if (chosen === undefined) return undefined;
  if (chosen.uri !== undefined) return chosen.uri;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { Videos: [...VIDEO_EXTENSIONS, ...VIDEO_EXTENSIONS.map((e) => e.toUpperCase())] },
    title: 'MoSEAR: Analyze Clip',
  });
  return picked?.[0];
}

/** Analyzes a clip (the explorer's, the preview's, or one asked for) and opens the panel. */
async function analyzeClip(host: PanelHost, uri: unknown): Promise<AnalysisResult | undefined> {
  const clip = uri instanceof vscode.Uri ? uri : await pickClip();
  if (clip === undefined) return undefined;
  if (!isVideoPath(clip.fsPath)) {
    host.logger.userError(
      `MoSEAR: ${basename(clip.fsPath)} is not a video (${VIDEO_EXTENSIONS.join(', ')}).`,
    );
    return undefined;
  }
  if (clip.scheme !== 'file') {
    host.logger.userError('MoSEAR: only clips on the local file system can be analyzed.');
    return undefined;
  }
  const modelPath = host.checkpoints.active;
  const outcome = await analyzeWithProgress(host, clip.fsPath, modelPath);
  if (!('result' in outcome)) return undefined;
  AnalysisPanel.createOrShow(
    host,
    { kind: 'clip', clipPath: clip.fsPath, modelPath },
    outcome.result,
  );
  return outcome.result;
}

/** The file a menu passed, or one the user picks in an open dialog. */
async function fileArgument(
  uri: unknown,
  title: string,
  filters: Record<string, string[]>,
): Promise<vscode.Uri | undefined> {
  if (uri instanceof vscode.Uri) return uri;
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters, title });
  return picked?.[0];
}

/** Makes an `.onnx` file the active checkpoint (validated first); true when it was accepted. */
async function useAsCheckpoint(host: PanelHost, uri: unknown): Promise<boolean> {
  const file = await fileArgument(uri, 'MoSEAR: Use as Checkpoint', {
    'ONNX checkpoints': ['onnx'],
  });
  return file === undefined ? false : host.checkpoints.use(file.fsPath);
}

/** Opens a saved `*.mosear.npz` or `*.mosear.json` in the Analysis panel (the result editor). */
async function openResult(uri: unknown): Promise<void> {
  const file = await fileArgument(uri, 'MoSEAR: Open Saved Result', {
    'MoSEAR results': ['npz', 'json'],
  });
  if (file !== undefined) {
    await vscode.commands.executeCommand('vscode.openWith', file, RESULT_EDITOR_VIEW_TYPE);
  }
}

/** Registers every command; the ids match package.json's `contributes.commands`. */
export function registerCommands(host: PanelHost, extensionVersion: string): vscode.Disposable[] {
  const commands: Record<string, (...args: unknown[]) => unknown> = {
    'mosear.analyzeClip': (uri) => analyzeClip(host, uri),
    'mosear.compareCheckpoints': (uri, choice) => compareCheckpoints(host, uri, choice, pickClip),
    'mosear.useAsCheckpoint': (uri) => useAsCheckpoint(host, uri),
    'mosear.selectCheckpoint': () => host.checkpoints.pick(),
    'mosear.showRuntimeInfo': () => showRuntimeInfo(host, extensionVersion),
    'mosear.openResult': (uri) => openResult(uri),
    'mosear.showLog': () => host.logger.show(),
    'mosear.evaluateBenchmark': (uri, args) => evaluateBenchmark(host, uri, args),
    'mosear.exportCheckpoint': (choice) => exportCheckpoint(host, choice),
    'mosear.buildConflictSet': (uri, args) => buildConflictSetCommand(host, uri, args),
  };
  return Object.entries(commands).map(([id, run]) => vscode.commands.registerCommand(id, run));
}
