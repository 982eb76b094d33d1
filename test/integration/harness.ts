// Shared by the integration suites: the extension under test, its API, the test workspace.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { MosearLensApi } from '../../src/extension/extension';
import type { PanelSnapshot } from '../../src/extension/panels/analysis/analysisPanel';
import type { PostedMessage } from '../../src/extension/panels/postedLog';
import type { MosearLensTestHooks } from '../../src/extension/testHooks';
import type { AnalysisResult } from '../../src/protocol/analysisResult';

/** The extension's id (publisher.name in package.json). */
export const EXTENSION_ID = 'mosear-lens.mosear-lens';

/** What activate() returns when VS Code runs the extension in test mode. */
export type TestApi = MosearLensApi & MosearLensTestHooks;

/** The extension, activated, and what activate() returned (the test hooks included). */
export async function mosear(): Promise<{
  extension: vscode.Extension<unknown>;
  api: TestApi;
}> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded`);
  const api = (await extension.activate()) as Partial<TestApi> | undefined;
  assert.ok(api, 'activate() returned no API (activation failed: see the MoSEAR Lens log)');
  assert.equal(typeof api.sendToPanel, 'function', 'no test hooks: not in ExtensionMode.Test?');
  return { extension, api: api as TestApi };
}

/** A file of the test workspace (prepared by runTests: a clip, a CLI result, broken files). */
export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the suite needs a workspace folder');
  return vscode.Uri.file(join(folder.uri.fsPath, name));
}

/** Polls until `probe` returns a value, or fails naming what it waited for. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The panel whose webview has loaded and received `init` for this file (clip or saved result). */
export function readyPanel(api: MosearLensApi, path: string): Promise<PanelSnapshot> {
  return waitFor(`a ready Analysis panel for ${path}`, () =>
    api.panels().find((p) => {
      const origin = p.origin;
      const file =
        origin.kind === 'clip' ? origin.clipPath : origin.kind === 'saved' ? origin.resultPath : '';
      return (
        file === path && p.ready && p.posted.some((m) => m.type === 'init') && p.result !== null
      );
    }),
  );
}

/** Sets `mosear.<key>` in the workspace settings (undefined removes it). */
export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace
    .getConfiguration('mosear')
    .update(key, value, vscode.ConfigurationTarget.Workspace);
}

/** Closes every editor and panel between tests. */
export async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** Runs "Analyze Clip" on a clip and returns its result; fails with the errors shown if none. */
export async function analyzeThroughCommand(
  api: MosearLensApi,
  clip: vscode.Uri,
): Promise<AnalysisResult> {
  const result = await vscode.commands.executeCommand<AnalysisResult | undefined>(
    'mosear.analyzeClip',
    clip,
  );
  assert.ok(result, `no result; errors shown: ${api.errorsShown().join(' | ')}`);
  return result;
}

/** Runs "Use as Checkpoint" on a file: whether it was accepted, and the error it showed. */
export async function useAsCheckpoint(
  api: MosearLensApi,
  file: vscode.Uri,
): Promise<{ ok: boolean; error: string | undefined }> {
  const before = api.errorsShown().length;
  const ok = await vscode.commands.executeCommand<boolean>('mosear.useAsCheckpoint', file);
  return { ok, error: api.errorsShown()[before] };
}

/**
 * Sends a save request to a panel and accepts VS Code's simple save dialog (its input holds the
 * default path; the suite enables `files.simpleDialog`) until the panel's `saved` answer appears.
 */
export async function acceptSaveDialog(
  what: string,
  send: () => Promise<void>,
  answer: () => PostedMessage | undefined,
): Promise<string> {
  const handled = send();
  const saved = await waitFor(`the ${what} answer`, () => {
    void vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    return answer();
  });
  await handled;
  assert.equal(saved.error, undefined, String(saved.error));
  assert.ok(typeof saved.path === 'string' && saved.path !== '', 'saved without a path');
  return saved.path;
}

/** Turns VS Code's simple file dialogs on or off (undefined: back to the default). */
export async function useSimpleDialogs(on: boolean | undefined): Promise<void> {
  await vscode.workspace
    .getConfiguration('files')
    .update('simpleDialog.enable', on, vscode.ConfigurationTarget.Workspace);
}
