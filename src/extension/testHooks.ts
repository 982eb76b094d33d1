// Hooks that drive the panels as their webviews would, for the integration tests. `activate` adds
// them to the exported API only when VS Code runs the extension in test mode
// (`ExtensionMode.Test`), so no other extension can post into a panel in normal use.
import * as vscode from 'vscode';
import { AnalysisPanel } from './panels/analysis/analysisPanel';
import { ComparePanel } from './panels/compare/comparePanel';
import { EvaluationPanel } from './panels/evaluation/evaluationPanel';
import type { PanelHost } from './panels/panelBase';

/** The test-mode part of the API. */
export interface MosearLensTestHooks {
  /**
   * Hands a message to the panel of a clip or saved result as if its webview had sent it
   * (tests drive the panel protocol with it); resolves when the panel has handled it.
   */
  sendToPanel(path: string, message: unknown): Promise<void>;
  /** Hands a message to the Compare panel of a clip as if its webview had sent it. */
  sendToCompare(clipPath: string, message: unknown): Promise<void>;
  /** Hands a message to the Evaluate panel of a run folder as if its webview had sent it. */
  sendToEvaluation(runDir: string, message: unknown): Promise<void>;
  /** Restores an Evaluate panel from a webview state as a window reload would. */
  restoreEvaluation(state: unknown): Promise<void>;
}

/** The hooks, or nothing outside test mode. */
export function testHooks(
  mode: vscode.ExtensionMode,
  host: PanelHost,
): MosearLensTestHooks | undefined {
  if (mode !== vscode.ExtensionMode.Test) return undefined;
  const deliver = (
    panel: { receive(raw: unknown): Promise<void> } | undefined,
    missing: string,
    message: unknown,
  ): Promise<void> =>
    panel === undefined ? Promise.reject(new Error(missing)) : panel.receive(message);
  return {
    sendToPanel: (path, message) =>
      deliver(
        AnalysisPanel.all().find((p) => p.shows(path)),
        `no panel shows ${path}`,
        message,
      ),
    sendToCompare: (clipPath, message) =>
      deliver(
        ComparePanel.all().find((p) => p.shows(clipPath)),
        `no Compare panel on ${clipPath}`,
        message,
      ),
    sendToEvaluation: (runDir, message) =>
      deliver(
        EvaluationPanel.all().find((p) => p.runDir === runDir),
        `no Evaluate panel for ${runDir}`,
        message,
      ),
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
}
