// Restricted Mode (an untrusted folder whose settings name an ffmpeg and a model): analysis with
// the shipped checkpoints and the bundled wasm decoder only; saved results open.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { CLIP } from './analysis';
import {
  analyzeThroughCommand,
  closeAll,
  mosear,
  readyPanel,
  useAsCheckpoint,
  workspaceFile,
} from './harness';

/** Registers the Restricted Mode suite (run in the untrusted pass only). */
export function registerRestrictedModeSuite(): void {
  suite('Restricted Mode', () => {
    suiteSetup(function () {
      // Desktop VS Code under runTests always trusts the folder (--disable-workspace-trust).
      if (vscode.workspace.isTrusted) this.skip();
    });
    teardown(closeAll);

    test('ignores the executable and model paths in the workspace settings', async () => {
      const { api } = await mosear();
      const settings = api.settings();
      assert.equal(settings.trusted, false);
      // runTests.ts wrote .vscode/settings.json with a system decoder, an ffmpeg path and a
      // checkpoint before this pass.
      assert.equal(settings.decode.decoder, 'system');
      assert.equal(settings.decode.ffmpegPath, null);
      assert.equal(settings.checkpoint.path, null);
      assert.match(api.activeCheckpoint(), /mosear-tiny\.onnx$/);
    });

    test('analyzes with the shipped checkpoint and the wasm decoder', async () => {
      const { api } = await mosear();
      const clip = workspaceFile(CLIP);
      const result = await analyzeThroughCommand(api, clip);
      assert.equal(result.clip.decoder.backend, 'wasm');
      assert.equal(result.model.fileName, 'mosear-tiny.onnx');
      await readyPanel(api, clip.fsPath);
    });

    test('refuses a workspace checkpoint, however valid', async () => {
      const { api } = await mosear();
      const { ok, error } = await useAsCheckpoint(api, workspaceFile('workspace-model.onnx'));
      assert.equal(ok, false);
      assert.match(error ?? '', /^Restricted Mode: only the checkpoints shipped/);
      assert.match(api.activeCheckpoint(), /mosear-tiny\.onnx$/);
    });

    test('opens a saved result', async () => {
      const { api } = await mosear();
      const file = workspaceFile('cli-result.mosear.json');
      await vscode.commands.executeCommand('vscode.openWith', file, 'mosear.result');
      const panel = await readyPanel(api, file.fsPath);
      assert.equal(panel.result?.clip.name, CLIP);
    });
  });
}
