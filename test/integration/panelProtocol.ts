// The Analysis panel's host side of the protocol, driven with the messages its webview sends:
// re-runs answer only the latest request, controls are validated against the checkpoint, and
// malformed messages are dropped.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ArControls } from '../../src/protocol/contract';
import { CLIP } from './analysis';
import {
  analyzeThroughCommand,
  closeAll,
  mosear,
  readyPanel,
  setSetting,
  waitFor,
  workspaceFile,
} from './harness';

/** Registers the panel protocol suite. */
export function registerPanelProtocolSuite(): void {
  suite('panel protocol', () => {
    let controls: ArControls;
    const clip = (): vscode.Uri => workspaceFile(CLIP);

    suiteSetup(async () => {
      const { api } = await mosear();
      const result = await analyzeThroughCommand(api, clip());
      controls = result.settings.controls;
      await readyPanel(api, clip().fsPath);
    });
    suiteTeardown(closeAll);

    test('answers only the latest run; the earlier one is dropped', async () => {
      const { api } = await mosear();
      const path = clip().fsPath;
      const run = (requestId: number, alpha: number): Promise<void> =>
        api.sendToPanel(path, { type: 'run', requestId, controls: { ...controls, alpha } });
      // Sent together, as a slider moving twice before the first run ends would.
      await Promise.all([run(101, 0.2), run(102, 0.4)]);
      const panel = api
        .panels()
        .find((p) => p.origin.kind === 'clip' && p.origin.clipPath === path);
      assert.ok(panel);
      const about = (id: number): string[] =>
        panel.posted.filter((m) => m.requestId === id).map((m) => m.type);
      assert.deepEqual(about(102), ['runStarted', 'runResult']);
      assert.ok(!about(101).includes('runResult') && !about(101).includes('runFailed'));
      assert.equal(panel.result?.settings.controls.alpha, 0.4);
    });

    test('refuses controls that do not fit the checkpoint', async () => {
      const { api } = await mosear();
      const path = clip().fsPath;
      await api.sendToPanel(path, {
        type: 'run',
        requestId: 103,
        controls: { ...controls, tau: [0.5] },
      });
      const failed = await waitFor('runFailed', () =>
        api
          .panels()
          .flatMap((p) => p.posted)
          .find((m) => m.requestId === 103),
      );
      assert.equal(failed.type, 'runFailed');
      assert.match(String(failed.message), /ar_tau: needs \d+ values/);
    });

    test('answers token row requests from the result it holds; out of range is refused', async () => {
      const { api } = await mosear();
      const path = clip().fsPath;
      const query = { run: 'intervention', stage: 'after', layer: 0, head: 0 };
      const answer = (requestId: number) =>
        waitFor(`the answer to ${requestId}`, () =>
          api
            .panels()
            .flatMap((p) => p.posted)
            .find((m) => m.requestId === requestId),
        );
      await api.sendToPanel(path, { type: 'tokenRow', requestId: 106, query });
      assert.equal((await answer(106)).type, 'tokenRow');
      await api.sendToPanel(path, {
        type: 'tokenRow',
        requestId: 107,
        query: { ...query, layer: 999 },
      });
      const refused = await answer(107);
      assert.equal(refused.type, 'tokenRowFailed');
      assert.match(String(refused.message), /layer 999 is out of range/);
    });

    test('drops malformed messages without answering', async () => {
      const { api } = await mosear();
      const path = clip().fsPath;
      const count = (): number => api.panels().reduce((n, p) => n + p.postedCount, 0);
      const before = count();
      for (const bad of [
        { type: 'run', requestId: -1, controls },
        { type: 'run', requestId: 104, controls: { ...controls, mode: 7 } },
        { type: 'exportFile', requestId: 105, file: { fileName: '../x.png', format: 'png' } },
        { type: 'launchMissiles' },
        {
          type: 'tokenRow',
          requestId: 108,
          query: { run: 'off', stage: 'after', layer: -1, head: 0 },
        },
        'ready',
      ]) {
        await api.sendToPanel(path, bad);
      }
      assert.equal(count(), before);
    });

    test('saves controls as the workspace defaults (mosear.ar.*)', async () => {
      const { api } = await mosear();
      await api.sendToPanel(clip().fsPath, {
        type: 'saveDefaults',
        controls: { ...controls, alpha: 0.35, mode: 2 },
      });
      const section = vscode.workspace.getConfiguration('mosear');
      assert.equal(section.inspect('ar.alpha')?.workspaceValue, 0.35);
      assert.equal(section.inspect('ar.mode')?.workspaceValue, 'pai');
      await waitFor('the settings to refresh', () =>
        api.settings().ar.alpha === 0.35 ? true : undefined,
      );
      for (const key of ['mode', 'ratioKind', 'tau', 'headMargin', 'alpha', 'paiAlpha', 'layers']) {
        await setSetting(`ar.${key}`, undefined);
      }
    });

    test('answers ready with the whole state', async () => {
      const { api } = await mosear();
      const path = clip().fsPath;
      await api.sendToPanel(path, { type: 'ready' });
      const panel = api
        .panels()
        .find((p) => p.origin.kind === 'clip' && p.origin.clipPath === path);
      assert.equal(panel?.posted.at(-1)?.type, 'init');
    });
  });
}
