// Settings reach the analysis: AR values from the workspace settings, and a configured ffmpeg
// that does not exist fails with a message naming it.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { CLIP } from './analysis';
import {
  analyzeThroughCommand,
  closeAll,
  mosear,
  setSetting,
  waitFor,
  workspaceFile,
} from './harness';

/** Registers the settings suite. */
export function registerSettingsSuite(): void {
  suite('settings', () => {
    teardown(async () => {
      for (const key of ['ar.alpha', 'ar.mode', 'decode.ffmpegPath', 'decode.decoder']) {
        await setSetting(key, undefined);
      }
      await closeAll();
    });

    test('uses mosear.ar.* from the workspace settings', async () => {
      const { api } = await mosear();
      await setSetting('ar.alpha', 0.55);
      await setSetting('ar.mode', 'pai');
      await waitFor('the settings to refresh', () =>
        api.settings().ar.alpha === 0.55 ? true : undefined,
      );
      const result = await analyzeThroughCommand(api, workspaceFile(CLIP));
      assert.equal(result.settings.controls.alpha, 0.55);
      assert.equal(result.settings.controls.mode, 2);
      assert.equal(result.intervention.controls.mode, 2);
    });

    test('a configured ffmpeg that does not exist gives a clear error', async () => {
      const { api } = await mosear();
      await setSetting('decode.decoder', 'system');
      await setSetting('decode.ffmpegPath', '/nonexistent/bin/ffmpeg');
      await waitFor('the settings to refresh', () =>
        api.settings().decode.ffmpegPath === '/nonexistent/bin/ffmpeg' ? true : undefined,
      );
      const before = api.errorsShown().length;
      const result = await vscode.commands.executeCommand<AnalysisResult | undefined>(
        'mosear.analyzeClip',
        workspaceFile(CLIP),
      );
      assert.equal(result, undefined);
      const shown = api.errorsShown()[before] ?? '';
      assert.match(shown, new RegExp(`cannot analyze ${CLIP.replace('.', '\\.')}`));
      assert.match(shown, /\/nonexistent\/bin\/ffmpeg/);
    });
  });
}
