// "Use as Checkpoint": a contract checkpoint becomes active; anything else is refused clearly.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { mosear, workspaceFile } from './harness';

/** Registers the checkpoint suite. */
export function registerCheckpointSuite(): void {
  suite('checkpoints', () => {
    test('uses a shipped checkpoint after validating it', async () => {
      const { extension, api } = await mosear();
      const other = join(
        extension.extensionPath,
        'models',
        'checkpoints',
        'emotion-llama-tiny.onnx',
      );
      const ok = await vscode.commands.executeCommand<boolean>(
        'mosear.useAsCheckpoint',
        vscode.Uri.file(other),
      );
      assert.equal(ok, true, api.errorsShown().join(' | '));
      assert.equal(api.activeCheckpoint(), other);
      const back = join(extension.extensionPath, 'models', 'checkpoints', 'mosear-tiny.onnx');
      assert.equal(
        await vscode.commands.executeCommand<boolean>(
          'mosear.useAsCheckpoint',
          vscode.Uri.file(back),
        ),
        true,
      );
      assert.equal(api.activeCheckpoint(), back);
    });

    test('uses a valid checkpoint from the workspace', async () => {
      const { extension, api } = await mosear();
      const file = workspaceFile('workspace-model.onnx');
      const ok = await vscode.commands.executeCommand<boolean>('mosear.useAsCheckpoint', file);
      assert.equal(ok, true, api.errorsShown().join(' | '));
      assert.equal(api.activeCheckpoint(), file.fsPath);
      const back = join(extension.extensionPath, 'models', 'checkpoints', 'mosear-tiny.onnx');
      await vscode.commands.executeCommand<boolean>(
        'mosear.useAsCheckpoint',
        vscode.Uri.file(back),
      );
    });

    test('refuses an .onnx file that does not follow the contract', async () => {
      const { api } = await mosear();
      const before = api.errorsShown().length;
      const ok = await vscode.commands.executeCommand<boolean>(
        'mosear.useAsCheckpoint',
        workspaceFile('not-a-model.onnx'),
      );
      assert.equal(ok, false);
      assert.match(
        api.errorsShown()[before] ?? '',
        /not-a-model\.onnx cannot be used as a checkpoint\. \S/,
      );
      assert.match(api.activeCheckpoint(), /mosear-tiny\.onnx$/);
    });
  });
}
