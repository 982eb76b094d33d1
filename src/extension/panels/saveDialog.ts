// Saving what a panel produced: a save dialog at a default path, then the write. Shared by the
// Analysis and Evaluate panels (each answers its webview's `saved` from the outcome).
import { extname, join } from 'node:path';
import * as vscode from 'vscode';

/**
 * Asks where to save `fileName` (offered in `folder`), writes the bytes there and returns the
 * path, or null when the user dismissed the dialog. Write errors are thrown.
 */
export async function saveWithDialog(
  folder: string,
  fileName: string,
  bytes: () => Promise<Uint8Array>,
): Promise<string | null> {
  const ext = extname(fileName).slice(1);
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(join(folder, fileName)),
    filters: ext === '' ? {} : { [ext.toUpperCase()]: [ext] },
    title: `Save ${fileName}`,
  });
  if (target === undefined) return null;
  await vscode.workspace.fs.writeFile(target, await bytes());
  return target.fsPath;
}
