// "MoSEAR: Export Emotion-LLaMA / MoSEAR Checkpoint…" as a user runs it, on a miniature of the
// real files (models/realexport's generator: the real formats and key names, tiny random
// weights): the command runs the shipped exporter as a task, the model it writes validates and
// becomes the checkpoint; a wrong pick is refused with the file named, before anything runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { analyzeThroughCommand, closeAll, mosear, useAsCheckpoint } from './harness';

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

    test('exports the miniature through a task, the model becomes the checkpoint and analyses', async () => {
      const { api, extension } = await mosear();
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

      // Right-click → Analyze with it: the panel's result is the exported model's, laid out by
      // its SentencePiece template (the transcript slot read from a sidecar next to the clip).
      const clip = join(dir, 'talk.mp4');
      copyFileSync(
        join(extension.extensionPath, 'models', 'samples', 'sample-consistent-happy.mp4'),
        clip,
      );
      writeFileSync(join(dir, 'talk.txt'), 'I am so glad you came\n');
      const result = await analyzeThroughCommand(api, vscode.Uri.file(clip));
      assert.equal(result.model.fileName, 'emotion-llama-mini.onnx');
      assert.equal(result.settings.transcriptSource, 'sidecar-txt');
      assert.equal(result.tokens.length, result.layout?.total);
      assert.equal(result.model.metadata.architecture.layers, result.intervention.uapAfter.length);
      await closeAll();
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
