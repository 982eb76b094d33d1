// "Open With… → MoSEAR Lens" for videos: a read-only custom editor (priority `option`, so the
// built-in video preview stays the default) that analyses the clip with the active checkpoint
// and shows the Analysis panel's content in the editor.
import type * as vscode from 'vscode';
import { AnalysisPanel } from './analysisPanel';
import { analyzeWithProgress } from './clipAnalysis';
import { registerReadonlyEditor } from './readonlyEditor';
import type { PanelHost } from '../panelBase';

/** The clip analysis custom editor's view type (package.json `customEditors`). */
export const CLIP_EDITOR_VIEW_TYPE = 'mosear.clipAnalysis';

/** Registers the clip analysis custom editor. */
export function registerClipEditor(host: PanelHost): vscode.Disposable {
  return registerReadonlyEditor(CLIP_EDITOR_VIEW_TYPE, async (uri, webviewPanel) => {
    const clipPath = uri.fsPath;
    const modelPath = host.checkpoints.active;
    const origin = { kind: 'clip', clipPath, modelPath } as const;
    // The panel shows its waiting state until the analysis below delivers the result.
    const panel = AnalysisPanel.attach(host, webviewPanel, origin, null);
    const outcome = await analyzeWithProgress(host, clipPath, modelPath);
    if ('result' in outcome) panel.setResult(outcome.result);
    else panel.showFailure(outcome.error);
  });
}
