// "MoSEAR: Analyze Clip" on a shipped sample clip: the result comes back and reaches the panel.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { analyzeThroughCommand, closeAll, mosear, readyPanel, workspaceFile } from './harness';

/** The sample clip the runner copies into the test workspace. */
export const CLIP = 'sample-consistent-happy.mp4';

/** Registers the analysis suite. */
export function registerAnalysisSuite(): void {
  suite('analyze a clip', () => {
    teardown(closeAll);

    test('analyzes a shipped clip and shows the result in the panel', async () => {
      const { api } = await mosear();
      const clip = workspaceFile(CLIP);
      const result = await analyzeThroughCommand(api, clip);
      assert.equal(result.clip.name, CLIP);
      assert.equal(result.model.fileName, 'mosear-tiny.onnx');
      assert.equal(result.intervention.probabilities.length, result.model.metadata.labels.length);
      assert.ok(api.engineStarted());
      const panel = await readyPanel(api, clip.fsPath);
      assert.equal(panel.viewType, 'mosear.analysis');
      assert.equal(panel.title, `MoSEAR: ${CLIP}`);
      assert.equal(panel.result?.createdAt, result.createdAt);
    });

    test('opens a clip with "Open With… → MoSEAR Lens" (the clip custom editor)', async () => {
      const { api } = await mosear();
      const clip = workspaceFile(CLIP);
      await vscode.commands.executeCommand('vscode.openWith', clip, 'mosear.clipAnalysis');
      const panel = await readyPanel(api, clip.fsPath);
      assert.equal(panel.viewType, 'mosear.clipAnalysis');
      assert.equal(panel.result?.clip.name, CLIP);
    });

    test('refuses a file that is not a video, with a message', async () => {
      const { api } = await mosear();
      const before = api.errorsShown().length;
      const result = await vscode.commands.executeCommand<AnalysisResult | undefined>(
        'mosear.analyzeClip',
        workspaceFile('broken.mosear.json'),
      );
      assert.equal(result, undefined);
      assert.match(api.errorsShown()[before] ?? '', /is not a video/);
    });
  });
}
