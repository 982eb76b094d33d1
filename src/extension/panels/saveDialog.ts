// Saving what a panel produced: a save dialog at a default path, then the write. Shared by the
// Analysis and Evaluate panels (each answers its webview's `saved` from the outcome). A file on
// disk is written atomically (temp file, fsync, rename), so a crash never leaves half a result.
import { extname, join } from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../../core/io/atomicWrite';

/**
 * Asks where to save `fileName` (offered in `folder`), writes the bytes for the chosen path there
 * and returns the path, or null when the user dismissed the dialog. Write errors are thrown.
 * `filters` (name → extensions) default to the file name's own extension.
 */
export async function saveWithDialog(
  folder: string,
  fileName: string,
  bytes: (path: string) => Promise<Uint8Array>,
  filters?: Record<string, string[]>,
): Promise<string | null> {
  const ext = extname(fileName).slice(1);
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(join(folder, fileName)),
    filters: filters ?? (ext === '' ? {} : { [ext.toUpperCase()]: [ext] }),
    title: `Save ${fileName}`,
  });
  if (target === undefined) return null;
  const data = await bytes(target.fsPath);
  if (target.scheme === 'file') await writeFileAtomic(target.fsPath, data);
  else await vscode.workspace.fs.writeFile(target, data);
  return target.fsPath;
}
