// The default editor for saved `*.mosear.npz` and `*.mosear.json` results (from the panel or the
// CLI): the Analysis panel, read-only, without the clip or the model. A file that is not a result
// says why.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { MAX_RESULT_FILE_BYTES } from '../../../protocol/analysisResultReader';
import { readResultBytes } from '../../../core/results/resultFile';
import { AnalysisPanel } from './analysisPanel';
import { messageOf } from '../../logger';
import { registerReadonlyEditor } from './readonlyEditor';
import { buildWebviewHtml } from '../webviewHtml';
import type { PanelHost } from '../panelBase';

/** The saved result custom editor's view type (package.json `customEditors`). */
export const RESULT_EDITOR_VIEW_TYPE = 'mosear.result';

/** Registers the saved result custom editor. */
export function registerResultEditor(host: PanelHost): vscode.Disposable {
  return registerReadonlyEditor(RESULT_EDITOR_VIEW_TYPE, async (uri, webviewPanel) => {
    const resultPath = uri.fsPath;
    try {
      // Size first: a huge file gets a clear message instead of a failed string allocation.
      const { size } = await vscode.workspace.fs.stat(uri);
      if (size > MAX_RESULT_FILE_BYTES) {
        throw new Error(
          `it is ${(size / 2 ** 20).toFixed(0)} MiB, above the ${MAX_RESULT_FILE_BYTES / 2 ** 20} MiB a result file may have`,
        );
      }
      const bytes = await vscode.workspace.fs.readFile(uri);
      const result = readResultBytes(bytes, resultPath);
      AnalysisPanel.attach(host, webviewPanel, { kind: 'saved', resultPath }, result);
    } catch (error) {
      const message = `${basename(resultPath)} is not a MoSEAR analysis result: ${messageOf(error)}`;
      host.logger.error(`cannot open ${resultPath}`, error);
      webviewPanel.webview.html = buildWebviewHtml({
        webview: webviewPanel.webview,
        extensionUri: host.extensionUri,
        title: `MoSEAR: ${basename(resultPath)}`,
        error: message,
      });
      host.logger.userError(`MoSEAR: ${message}`);
    }
  });
}
