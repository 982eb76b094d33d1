// "Use as Checkpoint": a contract checkpoint becomes active; anything else is refused clearly.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { mosear, useAsCheckpoint, workspaceFile } from './harness';

/** Registers the checkpoint suite. */
export function registerCheckpointSuite(): void {
  suite('checkpoints', () => {
    const shipped = (extensionPath: string, name: string): vscode.Uri =>
      vscode.Uri.file(join(extensionPath, 'models', 'checkpoints', name));

    test('uses a shipped checkpoint after validating it', async () => {
      const { extension, api } = await mosear();
      const other = shipped(extension.extensionPath, 'emotion-llama-tiny.onnx');
      assert.deepEqual(await useAsCheckpoint(api, other), { ok: true, error: undefined });
      assert.equal(api.activeCheckpoint(), other.fsPath);
    });

    test('uses a valid checkpoint from the workspace', async () => {
      const { extension, api } = await mosear();
      const file = workspaceFile('workspace-model.onnx');
      assert.deepEqual(await useAsCheckpoint(api, file), { ok: true, error: undefined });
      assert.equal(api.activeCheckpoint(), file.fsPath);
      const back = shipped(extension.extensionPath, 'mosear-tiny.onnx');
      assert.equal((await useAsCheckpoint(api, back)).ok, true);
      assert.equal(api.activeCheckpoint(), back.fsPath);
    });

    test('refuses an .onnx file that does not follow the contract', async () => {
      const { api } = await mosear();
      const { ok, error } = await useAsCheckpoint(api, workspaceFile('not-a-model.onnx'));
      assert.equal(ok, false);
      assert.match(error ?? '', /not-a-model\.onnx cannot be used as a checkpoint\. \S/);
      assert.match(api.activeCheckpoint(), /mosear-tiny\.onnx$/);
    });
  });
}
