// "MoSEAR: Analyze Clip" on a shipped sample clip: the result comes back and reaches the panel.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
      assert.equal(panel.title, `MoSEAR: ${CLIP} (preview)`);
      assert.equal(panel.result?.createdAt, result.createdAt);
    });

    test('each new analysis replaces the one preview panel in its column, unless it is pinned', async () => {
      const { api } = await mosear();
      const clip = workspaceFile(CLIP);
      // The second clip of the evaluation folder (the Evaluate suite opens the first one).
      const manifest = workspaceFile(join('eval-split', 'manifest.jsonl')).fsPath;
      const second = (
        JSON.parse(readFileSync(manifest, 'utf8').split('\n')[1] ?? '{}') as {
          path: string;
        }
      ).path;
      const other = workspaceFile(join('eval-split', second));
      const analysisPanels = () => api.panels().filter((p) => p.viewType === 'mosear.analysis');
      await analyzeThroughCommand(api, clip);
      await readyPanel(api, clip.fsPath);
      const column = vscode.window.tabGroups.activeTabGroup.viewColumn;
      await analyzeThroughCommand(api, other);
      const replaced = await readyPanel(api, other.fsPath);
      assert.equal(analysisPanels().length, 1, 'one preview panel, its content replaced');
      assert.equal(replaced.title, `MoSEAR: ${second} (preview)`);
      assert.equal(replaced.previewState, 'preview');
      assert.equal(vscode.window.tabGroups.activeTabGroup.viewColumn, column, 'the same column');
      const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
      assert.equal(tabs.filter((t) => t.label.startsWith('MoSEAR: ')).length, 1);

      // Pinned, the panel keeps its clip; the next analysis opens a new preview panel.
      await api.sendToPanel(other.fsPath, { type: 'pin' });
      const pinned = analysisPanels().find((p) => p.origin.kind === 'clip');
      assert.equal(pinned?.title, `MoSEAR: ${second}`);
      assert.equal(pinned?.previewState, 'pinned');
      assert.ok(pinned?.posted.at(-1)?.type === 'init', 'the webview hears it is pinned');
      await analyzeThroughCommand(api, clip);
      await readyPanel(api, clip.fsPath);
      const after = analysisPanels().map((p) => [
        p.origin.kind === 'clip' ? p.origin.clipPath : '',
        p.title,
      ]);
      assert.deepEqual(
        after.sort(),
        [
          [clip.fsPath, `MoSEAR: ${CLIP} (preview)`],
          [other.fsPath, `MoSEAR: ${second}`],
        ].sort(),
      );
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
