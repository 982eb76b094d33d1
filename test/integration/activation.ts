// Activation is lazy and complete: every contributed command is registered, nothing spawned.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { testHooks } from '../../src/extension/testHooks';
import type { PanelHost } from '../../src/extension/panels/panelBase';
import { mosear } from './harness';

/** Registers the activation suite. */
export function registerActivationSuite(): void {
  suite('activation', () => {
    test('activates without starting the engine', async () => {
      const { extension, api } = await mosear();
      assert.equal(extension.isActive, true);
      assert.equal(api.engineStarted(), false, 'activation must not spawn workers');
      assert.match(api.activeCheckpoint(), /mosear-tiny\.onnx$/);
      assert.equal(api.settings().trusted, vscode.workspace.isTrusted);
    });

    test('offers the panel test hooks in test mode only', async () => {
      const { api } = await mosear();
      for (const hook of [
        'sendToPanel',
        'sendToCompare',
        'sendToEvaluation',
        'restoreEvaluation',
      ]) {
        assert.equal(typeof (api as unknown as Record<string, unknown>)[hook], 'function', hook);
      }
      // The gate itself: outside test mode there are none (the host is not even read).
      const host = {} as PanelHost;
      assert.equal(testHooks(vscode.ExtensionMode.Production, host), undefined);
      assert.equal(testHooks(vscode.ExtensionMode.Development, host), undefined);
      assert.ok(testHooks(vscode.ExtensionMode.Test, host));
    });

    test('registers every contributed command', async () => {
      const { extension } = await mosear();
      const manifest = JSON.parse(
        await readFile(join(extension.extensionPath, 'package.json'), 'utf8'),
      ) as { contributes: { commands: { command: string }[] } };
      const contributed = manifest.contributes.commands.map((c) => c.command);
      assert.ok(contributed.length >= 5);
      const registered = new Set(await vscode.commands.getCommands(true));
      assert.deepEqual(
        contributed.filter((id) => !registered.has(id)),
        [],
        'contributed but not registered',
      );
    });
  });
}
