// Saving from the panel: the result as `<clip>.mosear.json` and a self-contained HTML report,
// next to the clip by default. The save dialog is VS Code's own (files.simpleDialog) so the
// suite can accept its default path the same way on desktop VS Code and in code-server.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import * as vscode from 'vscode';
import { parseAnalysisResult } from '../../src/protocol/analysisResultReader';
import { REPORT_DATA_ELEMENT_ID } from '../../src/protocol/panelMessages';
import type { PostedMessage } from '../../src/extension/analysisPanel';
import { CLIP } from './analysis';
import {
  analyzeThroughCommand,
  closeAll,
  mosear,
  readyPanel,
  waitFor,
  workspaceFile,
} from './harness';

/** Registers the panel saves suite. */
export function registerPanelSavesSuite(): void {
  suite('panel saves', () => {
    suiteSetup(async () => {
      await vscode.workspace
        .getConfiguration('files')
        .update('simpleDialog.enable', true, vscode.ConfigurationTarget.Workspace);
      const { api } = await mosear();
      await analyzeThroughCommand(api, workspaceFile(CLIP));
      await readyPanel(api, workspaceFile(CLIP).fsPath);
    });
    suiteTeardown(async () => {
      await vscode.workspace
        .getConfiguration('files')
        .update('simpleDialog.enable', undefined, vscode.ConfigurationTarget.Workspace);
      await closeAll();
    });

    /** Sends a save request, accepts the dialog's default path, returns the path written. */
    async function save(type: 'saveResult' | 'exportReport', requestId: number): Promise<string> {
      const { api } = await mosear();
      const answer = (): PostedMessage | undefined =>
        api
          .panels()
          .flatMap((p) => p.posted)
          .find((m) => m.requestId === requestId && m.type === 'saved');
      const handled = api.sendToPanel(workspaceFile(CLIP).fsPath, { type, requestId });
      // Accept the simple dialog (its input holds the default path) until the panel answers.
      const saved = await waitFor(`the ${type} answer`, () => {
        void vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        return answer();
      });
      await handled;
      assert.equal(saved.error, undefined, saved.error);
      assert.ok(saved.path, 'saved without a path');
      return saved.path;
    }

    test('saves the result next to the clip as <clip>.mosear.json', async () => {
      const path = await save('saveResult', 201);
      assert.equal(
        path,
        join(dirname(workspaceFile(CLIP).fsPath), 'sample-consistent-happy.mosear.json'),
      );
      const result = parseAnalysisResult(await readFile(path, 'utf8'));
      assert.equal(result.clip.name, CLIP);
    });

    test('exports a self-contained HTML report with the result embedded', async () => {
      const path = await save('exportReport', 202);
      assert.equal(
        path,
        join(dirname(workspaceFile(CLIP).fsPath), 'sample-consistent-happy.mosear.html'),
      );
      const html = await readFile(path, 'utf8');
      assert.match(html, new RegExp(`id="${REPORT_DATA_ELEMENT_ID}"`));
      assert.match(html, /Content-Security-Policy/);
      assert.ok(!/<script[^>]+src=/.test(html), 'no external scripts');
    });
  });
}
