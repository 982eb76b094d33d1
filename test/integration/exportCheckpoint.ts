// "MoSEAR: Export Emotion-LLaMA / MoSEAR Checkpoint…" as a user runs it, on a miniature of the
// real files (models/realexport's generator: the real formats and key names, tiny random
// weights): the command runs the shipped exporter as a task, the model it writes validates and
// becomes the checkpoint; a wrong pick is refused with the file named, before anything runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { mosear, useAsCheckpoint } from './harness';

const PYTHON = process.env['MOSEAR_PYTHON'] ?? '/usr/bin/python3';

/** Registers the export suite. */
export function registerExportCheckpointSuite(): void {
  suite('export checkpoint', () => {
    let dir = '';
    suiteSetup(async () => {
      const { extension } = await mosear();
      dir = mkdtempSync(join(tmpdir(), 'mosear-export-'));
      const made = spawnSync(PYTHON, ['-m', 'realexport', 'miniature', join(dir, 'mini')], {
        cwd: join(extension.extensionPath, 'models'),
        encoding: 'utf8',
      });
      assert.equal(made.status, 0, made.stderr);
    });
    suiteTeardown(async () => {
      const { extension, api } = await mosear();
      const shipped = join(extension.extensionPath, 'models', 'checkpoints', 'mosear-tiny.onnx');
      await useAsCheckpoint(api, vscode.Uri.file(shipped));
      rmSync(dir, { recursive: true, force: true });
    });

    const files = () => ({
      llama: join(dir, 'mini', 'llama'),
      eva: join(dir, 'mini', 'eva_vit_g.pth'),
      hubert: join(dir, 'mini', 'hubert'),
      checkpoint: join(dir, 'mini', 'emotion_llama.pth'),
      minigptv2: join(dir, 'mini', 'minigptv2_checkpoint.pth'),
    });

    test('exports the miniature through a task and the model becomes the checkpoint', async () => {
      const { api } = await mosear();
      const out = join(dir, 'emotion-llama-mini.onnx');
      const written = await vscode.commands.executeCommand<string | undefined>(
        'mosear.exportCheckpoint',
        { adapter: 'lora', ...files(), out },
      );
      assert.equal(written, out);
      assert.ok(existsSync(out), 'the .onnx was written');
      assert.ok(existsSync(join(dir, 'emotion-llama-mini.tokenizer.model')), 'tokenizer copied');
      assert.deepEqual(await useAsCheckpoint(api, vscode.Uri.file(out)), {
        ok: true,
        error: undefined,
      });
      assert.equal(api.activeCheckpoint(), out);
    }).timeout(240_000);

    test('refuses a wrong pick before running anything, naming the file', async () => {
      const out = join(dir, 'never.onnx');
      const written = await vscode.commands.executeCommand<string | undefined>(
        'mosear.exportCheckpoint',
        { adapter: 'lora', ...files(), llama: files().hubert, out },
      );
      assert.equal(written, undefined);
      assert.ok(!existsSync(out));
    });
  });
}
