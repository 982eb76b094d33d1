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

    /** Offers a workspace file as the checkpoint: refused, mosear-tiny stays; the message. */
    const refusal = async (name: string): Promise<string> => {
      const { api } = await mosear();
      const { ok, error } = await useAsCheckpoint(api, workspaceFile(name));
      assert.equal(ok, false);
      assert.match(api.activeCheckpoint(), /mosear-tiny\.onnx$/);
      return error ?? '';
    };

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
      const error = await refusal('not-a-model.onnx');
      assert.match(error, /not-a-model\.onnx cannot be used as a checkpoint\. \S/);
    });

    test('refuses a checkpoint whose graph disagrees with its metadata, listing every problem', async () => {
      const error = await refusal('hostile-model.onnx');
      assert.match(error, /hostile-model\.onnx cannot be used as a checkpoint\. /);
      assert.match(error, /3 problems:/);
      assert.match(
        error,
        /input "frames" has type int64, expected float32 \(models\/CONTRACT\.md §1\)/,
      );
      assert.match(error, /output "logits" has shape \[1, 6\], expected \[1, 7\]/);
      assert.match(error, /output "layer_logits" has shape \[4, 6\], expected \[4, 7\]/);
    });

    test('refuses a checkpoint onnxruntime cannot load (IR 99): never shown as usable', async () => {
      const error = await refusal('unrunnable-model.onnx');
      assert.match(error, /unrunnable-model\.onnx cannot be used as a checkpoint\. /);
      assert.match(error, /not even on cpu.*IR version/);
    });
  });
}
