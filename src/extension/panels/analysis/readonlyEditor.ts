// The shared shape of MoSEAR's read-only custom editors: the document is just its URI (nothing
// to save or revert), and resolving it hands the editor's webview to an Analysis panel.
import * as vscode from 'vscode';

/** Registers a read-only custom editor whose webview `resolve` fills for a file. */
export function registerReadonlyEditor(
  viewType: string,
  resolve: (uri: vscode.Uri, webviewPanel: vscode.WebviewPanel) => Promise<void>,
): vscode.Disposable {
  const provider: vscode.CustomReadonlyEditorProvider = {
    openCustomDocument: (uri) => ({ uri, dispose: () => undefined }),
    resolveCustomEditor: (document, webviewPanel) => resolve(document.uri, webviewPanel),
  };
  return vscode.window.registerCustomEditorProvider(viewType, provider, {
    supportsMultipleEditorsPerDocument: true,
  });
}
