// The default editor for saved `*.mosear.json` results (from the panel or the CLI): the Analysis
// panel, read-only, without the clip or the model. A file that is not a result shows why.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { parseAnalysisResult } from '../protocol/analysisResultReader';
import { AnalysisPanel, type PanelHost } from './analysisPanel';
import { messageOf } from './logger';
import { buildWebviewHtml } from './webviewHtml';

/** The saved result custom editor. */
export class ResultEditorProvider implements vscode.CustomReadonlyEditorProvider {
  /** Its view type (package.json `customEditors`). */
  static readonly viewType = 'mosear.result';

  /** Registers the provider. */
  static register(host: PanelHost): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(
      ResultEditorProvider.viewType,
      new ResultEditorProvider(host),
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
    const resultPath = document.uri.fsPath;
    try {
      const bytes = await vscode.workspace.fs.readFile(document.uri);
      const result = parseAnalysisResult(Buffer.from(bytes).toString('utf8'));
      AnalysisPanel.attach(this.host, webviewPanel, { kind: 'saved', resultPath }, result);
    } catch (error) {
      const message = `${basename(resultPath)} is not a MoSEAR analysis result: ${messageOf(error)}`;
      this.host.logger.error(`cannot open ${resultPath}`, error);
      webviewPanel.webview.html = buildWebviewHtml({
        webview: webviewPanel.webview,
        extensionUri: this.host.extensionUri,
        title: `MoSEAR: ${basename(resultPath)}`,
        error: message,
      });
      this.host.logger.userError(`MoSEAR: ${message}`);
    }
  }
}
