// "MoSEAR: Export Emotion-LLaMA / MoSEAR Checkpoint…" as a user runs it, on a miniature of the
// real files (models/realexport's generator: the real formats and key names, tiny random
// weights): the command runs the shipped exporter as a task, the model it writes validates and
// becomes the checkpoint; a wrong pick is refused with the file named, before anything runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { encodeNpy } from '../../src/core/results/npy';
import type { EvaluationOutcome } from '../../src/extension/panels/evaluation/evaluationPanel';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import {
  analyzeThroughCommand,
  closeAll,
  mosear,
  readyPanel,
  useAsCheckpoint,
  waitFor,
} from './harness';

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

    test("a clip opened from an evaluation keeps its row's transcript and features on re-runs", async () => {
      const { api, extension } = await mosear();
      const model = join(dir, 'emotion-llama-mini.onnx');
      assert.ok(existsSync(model), 'the previous test exported the miniature');
      // A one-row manifest: the row names a transcript and a FaceMAE file (D 32 in the miniature).
      const bench = join(dir, 'bench');
      mkdirSync(bench, { recursive: true });
      const clip = join(bench, 'row.mp4');
      copyFileSync(
        join(extension.extensionPath, 'models', 'samples', 'sample-consistent-happy.mp4'),
        clip,
      );
      const face = join(bench, 'row.face-features.npy');
      writeFileSync(
        face,
        encodeNpy(
          Float32Array.from({ length: 32 }, (_, i) => i / 32),
          [32],
        ),
      );
      const row = {
        path: 'row.mp4',
        label: 'happy',
        transcript: 'we finally won the match',
        face_features: 'row.face-features.npy',
      };
      writeFileSync(join(bench, 'manifest.jsonl'), `${JSON.stringify(row)}\n`);
      const runDir = join(dir, 'bench-run');
      const outcome = await vscode.commands.executeCommand<EvaluationOutcome | undefined>(
        'mosear.evaluateBenchmark',
        vscode.Uri.file(bench),
        { outDir: runDir, jobs: 1, models: [model] },
      );
      assert.ok(outcome, `no outcome; errors shown: ${api.errorsShown().join(' | ')}`);
      assert.equal(outcome.status, 'finished', outcome.error ?? '');
      const checkpoint = outcome.summary?.checkpoints[0]?.name ?? '';
      await api.sendToEvaluation(runDir, { type: 'openClip', clip: 0, checkpoint, setting: 'off' });
      const given = (result: AnalysisResult | null | undefined): unknown => [
        result?.settings.transcriptSource,
        result?.settings.featureSources?.faceMae,
      ];
      const expected = ['manifest', { kind: 'file', path: face, from: 'manifest' }];
      const opened = await readyPanel(api, clip);
      assert.deepEqual(given(opened.result), expected);
      // A re-run from the panel (a slider) feeds the same row inputs, not a sidecar or zeros.
      const controls = opened.result?.settings.controls;
      assert.ok(controls);
      await api.sendToPanel(clip, {
        type: 'run',
        requestId: 301,
        controls: { ...controls, alpha: 0.2 },
      });
      const rerun = await waitFor('the re-run result', () =>
        api
          .panels()
          .find(
            (p) =>
              p.origin.kind === 'clip' &&
              p.origin.clipPath === clip &&
              p.result?.settings.controls.alpha === 0.2,
          ),
      );
      assert.deepEqual(given(rerun.result), expected);
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
