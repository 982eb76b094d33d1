// "Open With… → MoSEAR Lens" for videos: a read-only custom editor (priority `option`, so the
// built-in video preview stays the default) that analyses the clip with the active checkpoint
// and shows the Analysis panel's content in the editor.
import * as vscode from 'vscode';
import { AnalysisPanel, type PanelHost } from './analysisPanel';
import { analyzeWithProgress } from './clipAnalysis';

/** The clip analysis custom editor. */
export class ClipEditorProvider implements vscode.CustomReadonlyEditorProvider {
  /** Its view type (package.json `customEditors`). */
  static readonly viewType = 'mosear.clipAnalysis';

  /** Registers the provider. */
  static register(host: PanelHost): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(
      ClipEditorProvider.viewType,
      new ClipEditorProvider(host),
      { supportsMultipleEditorsPerDocument: true },
    );
  }

  private constructor(private readonly host: PanelHost) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(
    document: vscode.CustomDocument,
    webviewPanel: vscode.WebviewPanel,
  ): Promise<void> {
    const clipPath = document.uri.fsPath;
    const modelPath = this.host.checkpoints.active;
    const panel = AnalysisPanel.attach(
      this.host,
      webviewPanel,
      { kind: 'clip', clipPath, modelPath },
      null,
    );
    const outcome = await analyzeWithProgress(this.host, clipPath, modelPath);
    if ('result' in outcome) panel.setResult(outcome.result);
    else panel.showFailure(outcome.error);
  }
}
