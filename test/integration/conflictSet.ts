// "Build Conflict Set" in a running VS Code: the command on the workspace's small CA-MER folder
// (its four consistent clips, four labels) writes one conflict clip per label and a manifest the
// project's reader takes; in Restricted Mode it refuses, since it runs the system ffmpeg.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ConflictBuildSummary } from '../../src/core/conflicts/conflictBuild';
import { readManifest } from '../../src/core/evaluation/manifest';
import { EVAL_FOLDER } from './evaluation';
import { closeAll, mosear, workspaceFile } from './harness';

const LABELS = ['neutral', 'angry', 'happy', 'sad', 'worried', 'surprise'];

/** Registers the suite (mocha TDD globals must exist). */
export function registerConflictSetSuite(): void {
  suite('Build Conflict Set', () => {
    teardown(closeAll);

    test('writes one audio-truth clip per label and a manifest the evaluation reads', async () => {
      const { api } = await mosear();
      const outDir = workspaceFile(join('.mosear', 'conflicts-integration')).fsPath;
      rmSync(outDir, { recursive: true, force: true });
      const summary = await vscode.commands.executeCommand<ConflictBuildSummary | undefined>(
        'mosear.buildConflictSet',
        workspaceFile(EVAL_FOLDER),
        { truth: 'audio', pairsPerLabel: 1, outDir },
      );
      assert.ok(summary, `no summary; errors shown: ${api.errorsShown().join(' | ')}`);
      assert.equal(summary.clips.length, 4);
      assert.equal(summary.consistent, 4);
      const entries = await readManifest(summary.manifestPath, LABELS);
      assert.deepEqual(
        entries.map((e) => e.subset),
        [
          'audio-aligned',
          'audio-aligned',
          'audio-aligned',
          'audio-aligned',
          ...Array<string>(4).fill('consistent'),
        ],
      );
      for (const e of entries) assert.ok(existsSync(e.path), e.path);
    });
  });
}

/** Registers the Restricted Mode check (the untrusted pass only). */
export function registerRestrictedConflictSetSuite(): void {
  suite('Build Conflict Set in Restricted Mode', () => {
    test('refuses: it runs the system ffmpeg', async () => {
      const { api } = await mosear();
      const before = api.errorsShown().length;
      const summary = await vscode.commands.executeCommand<ConflictBuildSummary | undefined>(
        'mosear.buildConflictSet',
        workspaceFile(EVAL_FOLDER),
        { truth: 'video', pairsPerLabel: 1, outDir: workspaceFile('conflicts-restricted').fsPath },
      );
      assert.equal(summary, undefined);
      assert.match(api.errorsShown()[before] ?? '', /Restricted Mode/);
    });
  });
}
