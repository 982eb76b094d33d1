// "Evaluate Benchmark" in a running VS Code: the command on the workspace's small manifest (clips
// copied from the committed test split by runTests) opens the Evaluate panel, whose webview
// receives the summary; a cancelled run keeps its records and running it again resumes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { EvaluationOutcome } from '../../src/extension/panels/evaluation/evaluationPanel';
import { closeAll, mosear, readyPanel, waitFor, workspaceFile } from './harness';

/** The folder runTests fills with clips and a manifest.jsonl. */
export const EVAL_FOLDER = 'eval-split';

function recordLines(runDir: string): number {
  const file = join(runDir, 'records.jsonl');
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;
}

/** Registers the suite (mocha TDD globals must exist). */
export function registerEvaluationSuite(): void {
  suite('Evaluate Benchmark', () => {
    teardown(closeAll);

    test('the command evaluates the folder and the panel receives the summary', async () => {
      const { api } = await mosear();
      const runDir = workspaceFile(join('.mosear', 'eval', 'integration-whole')).fsPath;
      rmSync(runDir, { recursive: true, force: true });
      const outcome = await vscode.commands.executeCommand<EvaluationOutcome | undefined>(
        'mosear.evaluateBenchmark',
        workspaceFile(EVAL_FOLDER),
        { outDir: runDir, jobs: 1 },
      );
      assert.ok(outcome, `no outcome; errors shown: ${api.errorsShown().join(' | ')}`);
      assert.equal(outcome.status, 'finished', outcome.error ?? '');
      const summary = outcome.summary;
      assert.ok(summary);
      assert.equal(summary.clips, 12);
      assert.deepEqual(
        summary.checkpoints.map((c) => c.evaluated),
        [12, 12],
      );
      const panel = await waitFor('an Evaluate panel that received the summary', () =>
        api
          .evaluations()
          .find(
            (p) =>
              p.runDir === runDir &&
              p.ready &&
              p.posted.some((m) => m.type === 'finished') &&
              p.summary,
          ),
      );
      assert.equal(panel.status, 'finished');
      assert.equal(recordLines(runDir), 24);
      // The run ends at N/N, and its folder holds what `mosear-lens eval` leaves.
      assert.deepEqual([panel.progress?.done, panel.progress?.total], [12, 12]);
      for (const file of ['summary.json', 'scores.csv', 'flips.csv', 'report.html']) {
        assert.ok(existsSync(join(runDir, file)), `${file} in the run folder`);
      }
      // Streaming is throttled: at most one progress message per 250 ms (plus the first).
      const progressPosts = panel.posted.filter((m) => m.type === 'progress').length;
      const elapsedMs = panel.progress?.elapsedMs ?? 0;
      assert.ok(progressPosts >= 1, 'progress was streamed');
      assert.ok(
        progressPosts <= Math.ceil(elapsedMs / 250) + 1,
        `${progressPosts} progress messages in ${Math.round(elapsedMs)} ms`,
      );

      // A flipped clip opens its Analysis panel with that checkpoint and setting's controls.
      const manifest = readFileSync(
        workspaceFile(join(EVAL_FOLDER, 'manifest.jsonl')).fsPath,
        'utf8',
      );
      const firstClip = (JSON.parse(manifest.split('\n')[0] ?? '{}') as { path: string }).path;
      const checkpoint = summary.checkpoints[1]?.name ?? '';
      await api.sendToEvaluation(runDir, { type: 'openClip', clip: 0, checkpoint, setting: 'pai' });
      const analysis = await readyPanel(api, workspaceFile(join(EVAL_FOLDER, firstClip)).fsPath);
      assert.equal(analysis.result?.intervention.controls.mode, 2);
      assert.equal(analysis.result?.model.metadata.checkpoint.name, checkpoint);
      // It took the evaluation's decoded tensors (no decode), and says where it came from.
      assert.equal(analysis.result?.timings.decodeCached, true, 'the evaluation decode reused');
      assert.deepEqual(analysis.fromEvaluation, {
        evaluation: EVAL_FOLDER,
        runDir,
        checkpoint,
        settingId: 'pai',
        setting: summary.checkpoints[1]?.settings.find((s) => s.id === 'pai')?.title,
        groundTruth: (JSON.parse(manifest.split('\n')[0] ?? '{}') as { label: string }).label,
      });

      // A reload restores the panel from the run folder: the same summary, nothing re-run.
      await closeAll();
      await api.restoreEvaluation({ origin: { kind: 'run', runDir } });
      const restored = await waitFor('the restored Evaluate panel', () =>
        api.evaluations().find((p) => p.runDir === runDir && p.ready),
      );
      assert.equal(restored.status, 'finished');
      assert.deepEqual(restored.summary, summary);
      assert.equal(recordLines(runDir), 24);
      await api.restoreEvaluation({ origin: { kind: 'run', runDir: `${runDir}-missing` } });
      assert.equal(
        api.evaluations().some((p) => p.runDir === `${runDir}-missing`),
        false,
      );
    });

    test('cancelling keeps the records; the same evaluation again resumes', async () => {
      const { api } = await mosear();
      const runDir = workspaceFile(join('.mosear', 'eval', 'integration-resume')).fsPath;
      rmSync(runDir, { recursive: true, force: true });
      // A sweep makes each clip slow enough to cancel midway.
      const args = { outDir: runDir, jobs: 1, sweeps: ['tau=0.05:0.95:0.05'] };
      const first = vscode.commands.executeCommand<EvaluationOutcome | undefined>(
        'mosear.evaluateBenchmark',
        workspaceFile(EVAL_FOLDER),
        args,
      );
      await waitFor('two clips evaluated', () =>
        api.evaluations().find((p) => p.runDir === runDir && (p.progress?.done ?? 0) >= 2),
      );
      await api.sendToEvaluation(runDir, { type: 'cancel' });
      const cancelled = await first;
      assert.ok(cancelled, `no outcome; errors shown: ${api.errorsShown().join(' | ')}`);
      assert.equal(cancelled.status, 'cancelled');
      const kept = recordLines(runDir);
      assert.ok(kept >= 4 && kept < 24, `${kept} records kept`);

      const second = await vscode.commands.executeCommand<EvaluationOutcome | undefined>(
        'mosear.evaluateBenchmark',
        workspaceFile(EVAL_FOLDER),
        args,
      );
      assert.ok(second);
      assert.equal(second.status, 'finished', second.error ?? '');
      assert.ok(second.resumed >= 2, `resumed ${second.resumed}`);
      assert.equal(second.summary?.clips, 12);
      assert.equal(recordLines(runDir), 24);
    });
  });
}

/** Restricted Mode: only the shipped checkpoints evaluate (with the bundled decoder). */
export function registerRestrictedEvaluationSuite(): void {
  suite('Evaluate Benchmark in Restricted Mode', () => {
    teardown(closeAll);

    test('refuses a workspace checkpoint, however valid', async () => {
      const { api } = await mosear();
      const before = api.errorsShown().length;
      const outcome = await vscode.commands.executeCommand<EvaluationOutcome | undefined>(
        'mosear.evaluateBenchmark',
        workspaceFile(join(EVAL_FOLDER, 'small.jsonl')),
        { models: [workspaceFile('workspace-model.onnx').fsPath] },
      );
      assert.equal(outcome, undefined);
      assert.match(api.errorsShown()[before] ?? '', /Restricted Mode/);
    });

    test('evaluates with the shipped checkpoints and the bundled decoder', async () => {
      const { api } = await mosear();
      const runDir = workspaceFile(join('.mosear', 'eval', 'integration-restricted')).fsPath;
      rmSync(runDir, { recursive: true, force: true });
      const outcome = await vscode.commands.executeCommand<EvaluationOutcome | undefined>(
        'mosear.evaluateBenchmark',
        workspaceFile(join(EVAL_FOLDER, 'small.jsonl')),
        { outDir: runDir },
      );
      assert.ok(outcome, `no outcome; errors shown: ${api.errorsShown().join(' | ')}`);
      assert.equal(outcome.status, 'finished', outcome.error ?? '');
      assert.equal(outcome.summary?.clips, 3);
      assert.deepEqual(outcome.summary?.failed, []);
      assert.equal(recordLines(runDir), 6);
    });
  });
}
