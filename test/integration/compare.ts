// "MoSEAR: Compare Checkpoints on Clip" on a shipped clip: both subjects' results come back,
// the Compare panel opens and receives them, and a subject re-runs through the panel protocol.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { CompareSnapshot } from '../../src/extension/panels/compare/comparePanel';
import { readComparisonResult, type ComparisonResult } from '../../src/protocol/comparisonResult';
import { REPORT_DATA_ELEMENT_ID } from '../../src/protocol/panelMessages';
import { CLIP } from './analysis';
import {
  acceptSaveDialog,
  closeAll,
  EXTENSION_ID,
  mosear,
  useSimpleDialogs,
  waitFor,
  workspaceFile,
  type TestApi,
} from './harness';

function shipped(name: string): string {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension);
  return join(extension.extensionPath, 'models', 'checkpoints', `${name}.onnx`);
}

/** The Compare panel of a clip once its webview has loaded and received `init`. */
function readyCompare(api: TestApi, clipPath: string): Promise<CompareSnapshot> {
  return waitFor(`a ready Compare panel for ${clipPath}`, () =>
    api
      .comparePanels()
      .find(
        (p) =>
          p.origin.kind === 'clip' &&
          p.origin.clipPath === clipPath &&
          p.ready &&
          p.posted.some((m) => m.type === 'init'),
      ),
  );
}

async function compare(api: TestApi, choice: unknown): Promise<ComparisonResult> {
  const comparison = await vscode.commands.executeCommand<ComparisonResult | undefined>(
    'mosear.compareCheckpoints',
    workspaceFile(CLIP),
    choice,
  );
  assert.ok(comparison, `no comparison; errors shown: ${api.errorsShown().join(' | ')}`);
  return comparison;
}

/** Registers the compare suite. */
export function registerCompareSuite(): void {
  suite('compare checkpoints on a clip', () => {
    teardown(closeAll);

    test('two shipped checkpoints: both results reach the Compare panel', async () => {
      const { api } = await mosear();
      const models = [shipped('emotion-llama-tiny'), shipped('mosear-tiny')];
      const comparison = await compare(api, { models });
      assert.equal(comparison.comparing, 'checkpoints');
      assert.equal(comparison.timings.clipDecodes <= 1, true, 'the clip is decoded at most once');
      assert.equal(comparison.subjects.a.result.model.fileName, 'emotion-llama-tiny.onnx');
      assert.equal(comparison.subjects.b.result.model.fileName, 'mosear-tiny.onnx');
      const panel = await readyCompare(api, workspaceFile(CLIP).fsPath);
      assert.equal(panel.viewType, 'mosear.compare');
      assert.equal(panel.comparison?.createdAt, comparison.createdAt);
      for (const k of ['a', 'b'] as const) {
        assert.equal(
          panel.comparison?.subjects[k].result.intervention.prediction.label,
          comparison.subjects[k].result.intervention.prediction.label,
        );
      }
    });

    test('one checkpoint under two settings, and a re-run of one subject', async () => {
      const { api } = await mosear();
      const comparison = await compare(api, {
        model: shipped('mosear-tiny'),
        settings: 'off-vs-ar',
      });
      assert.equal(comparison.comparing, 'settings');
      assert.equal(comparison.subjects.a.controls.mode, 0);
      assert.equal(comparison.subjects.b.controls.mode, 1);
      const clipPath = workspaceFile(CLIP).fsPath;
      await readyCompare(api, clipPath);
      const controls = { ...comparison.subjects.b.controls, alpha: 0.5 };
      await api.sendToCompare(clipPath, { type: 'run', subject: 'b', requestId: 7, controls });
      const panel = await waitFor('the re-run of subject b', () =>
        api
          .comparePanels()
          .find((p) => p.posted.some((m) => m.type === 'runResult' && m.subject === 'b')),
      );
      assert.equal(panel.comparison?.subjects.b.controls.alpha, 0.5);
      // An invalid message is dropped (logged), never acted on.
      await api.sendToCompare(clipPath, { type: 'run', subject: 'z', requestId: 8, controls });
      assert.ok(!api.comparePanels().some((p) => p.posted.some((m) => m.requestId === 8)));
    });

    test('saves the comparison and its HTML report next to the clip', async () => {
      const { api } = await mosear();
      await useSimpleDialogs(true);
      try {
        await compare(api, { models: [shipped('emotion-llama-tiny'), shipped('mosear-tiny')] });
        const clipPath = workspaceFile(CLIP).fsPath;
        await readyCompare(api, clipPath);
        const save = (type: 'saveResult' | 'exportReport', requestId: number) =>
          acceptSaveDialog(
            type,
            () => api.sendToCompare(clipPath, { type, requestId }),
            () =>
              api
                .comparePanels()
                .flatMap((p) => p.posted)
                .find((m) => m.requestId === requestId && m.type === 'saved'),
          );
        const json = await save('saveResult', 301);
        assert.equal(json, join(dirname(clipPath), 'sample-consistent-happy.comparison.json'));
        const saved = readComparisonResult(JSON.parse(await readFile(json, 'utf8')));
        assert.equal(saved.subjects.b.result.model.fileName, 'mosear-tiny.onnx');
        const html = await readFile(await save('exportReport', 302), 'utf8');
        assert.match(html, new RegExp(`id="${REPORT_DATA_ELEMENT_ID}"`));
        assert.match(html, /mosear-lens\/comparison/);
        assert.ok(!/<script[^>]+src=/.test(html), 'no external scripts');
      } finally {
        await useSimpleDialogs(undefined);
      }
    });
  });
}
