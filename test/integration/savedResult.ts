// A result saved by the CLI opens in the Analysis panel (the default editor for *.mosear.json),
// without the clip or the model; a file that is not a result says so.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { closeAll, mosear, readyPanel, waitFor, workspaceFile } from './harness';

/** Registers the saved result suite. */
export function registerSavedResultSuite(): void {
  suite('saved results', () => {
    teardown(closeAll);

    test('a result saved by the CLI opens read-only in the panel', async () => {
      const { api } = await mosear();
      const file = workspaceFile('cli-result.mosear.json');
      await vscode.commands.executeCommand('vscode.openWith', file, 'mosear.result');
      const panel = await readyPanel(api, file.fsPath);
      assert.equal(panel.viewType, 'mosear.result');
      assert.equal(panel.result?.tool.name, 'mosear-lens');
      assert.equal(panel.result?.clip.name, 'sample-consistent-happy.mp4');
    });

    test('a file that is not a result shows a clear error', async () => {
      const { api } = await mosear();
      const before = api.errorsShown().length;
      await vscode.commands.executeCommand(
        'vscode.openWith',
        workspaceFile('broken.mosear.json'),
        'mosear.result',
      );
      const shown = await waitFor('the error message', () => api.errorsShown()[before]);
      assert.match(shown, /broken\.mosear\.json is not a MoSEAR analysis result: \S/);
    });
  });
}
