// Saving from the panel: the result as `<clip>.mosear.npz` and a self-contained HTML report,
// next to the clip by default. The save dialog is VS Code's own (files.simpleDialog) so the
// suite can accept its default path the same way on desktop VS Code and in code-server.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { isZip, readResultBytes } from '../../src/core/results/resultFile';
import { REPORT_DATA_ELEMENT_ID } from '../../src/protocol/panelMessages';
import { CLIP } from './analysis';
import {
  acceptSaveDialog,
  analyzeThroughCommand,
  closeAll,
  mosear,
  readyPanel,
  useSimpleDialogs,
  workspaceFile,
} from './harness';
import type { PostedMessage } from '../../src/extension/panels/postedLog';

/** Registers the panel saves suite. */
export function registerPanelSavesSuite(): void {
  suite('panel saves', () => {
    suiteSetup(async () => {
      await useSimpleDialogs(true);
      const { api } = await mosear();
      await analyzeThroughCommand(api, workspaceFile(CLIP));
      await readyPanel(api, workspaceFile(CLIP).fsPath);
    });
    suiteTeardown(async () => {
      await useSimpleDialogs(undefined);
      await closeAll();
    });

    /** Sends a save request, accepts the dialog's default path, returns the path written. */
    async function save(type: 'saveResult' | 'exportReport', requestId: number): Promise<string> {
      const { api } = await mosear();
      return acceptSaveDialog(
        type,
        () => api.sendToPanel(workspaceFile(CLIP).fsPath, { type, requestId }),
        (): PostedMessage | undefined =>
          api
            .panels()
            .flatMap((p) => p.posted)
            .find((m) => m.requestId === requestId && m.type === 'saved'),
      );
    }

    test('saves the result next to the clip as <clip>.mosear.npz', async () => {
      const path = await save('saveResult', 201);
      assert.equal(
        path,
        join(dirname(workspaceFile(CLIP).fsPath), 'sample-consistent-happy.mosear.npz'),
      );
      const bytes = await readFile(path);
      assert.ok(isZip(bytes), 'an npz (zip) archive');
      const result = readResultBytes(bytes, path);
      assert.equal(result.clip.name, CLIP);
      assert.ok(result.intervention.tokenAttention?.data instanceof Float32Array);
    });

    test('exports a self-contained HTML report with the result embedded', async () => {
      const path = await save('exportReport', 202);
      assert.equal(
        path,
        join(dirname(workspaceFile(CLIP).fsPath), 'sample-consistent-happy.mosear.html'),
      );
      const html = await readFile(path, 'utf8');
      assert.match(html, new RegExp(`id="${REPORT_DATA_ELEMENT_ID}"`));
      assert.match(html, /Content-Security-Policy/);
      assert.ok(!/<script[^>]+src=/.test(html), 'no external scripts');
    });
  });
}
