// "MoSEAR: Show Runtime Info": onnxruntime's version and every provider tried on this machine.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { closeAll, mosear } from './harness';

/** Registers the runtime info suite. */
export function registerRuntimeInfoSuite(): void {
  suite('runtime info', () => {
    teardown(closeAll);

    test('lists the onnxruntime version and the providers with the reasons they failed', async () => {
      const { api } = await mosear();
      await vscode.commands.executeCommand('mosear.showRuntimeInfo');
      const doc = vscode.window.activeTextEditor?.document;
      assert.ok(doc, `no document; errors shown: ${api.errorsShown().join(' | ')}`);
      assert.equal(doc.languageId, 'markdown');
      const text = doc.getText();
      assert.match(text, /^# MoSEAR Lens runtime/);
      assert.match(text, /onnxruntime-node \d+\.\d+\.\d+ \(in a worker process\)/);
      assert.match(text, /^\| cpu \| available \|/m);
      // Providers this platform cannot have are listed with the reason, not left out.
      assert.match(text, /^\| coreml \| not available \| \S/m);
      assert.match(text, /decoder: /);
    });
  });
}
