// The status bar item: the active checkpoint and the execution provider (the configured choice
// until an analysis reports the provider it really used). Clicking it selects a checkpoint.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { Checkpoints } from './checkpoints';
import type { Config } from './config';
import { Disposable } from './dispose';
import type { ExtensionEngine } from './extensionEngine';

/** Shows "MoSEAR: <checkpoint> · <provider>" on the right of the status bar. */
export class CheckpointStatusBar extends Disposable {
  private readonly item = this._register(
    vscode.window.createStatusBarItem('mosear.checkpoint', vscode.StatusBarAlignment.Right, 100),
  );
  private usedProvider: string | null = null;

  constructor(
    private readonly checkpoints: Checkpoints,
    private readonly config: Config,
    engine: ExtensionEngine,
  ) {
    super();
    this.item.name = 'MoSEAR checkpoint';
    this.item.command = 'mosear.selectCheckpoint';
    this._register(checkpoints.onDidChange(() => this.update()));
    this._register(config.onDidChange(() => this.update()));
    this._register(
      engine.onDidAnalyze((result) => {
        this.usedProvider = result.runtime.provider;
        this.update();
      }),
    );
    this.update();
    this.item.show();
  }

  private update(): void {
    const active = this.checkpoints.active;
    const settings = this.config.current;
    const provider = this.usedProvider ?? settings.runtime.executionProvider;
    this.item.text = `$(pulse) ${basename(active, '.onnx')} · ${provider}`;
    this.item.tooltip = new vscode.MarkdownString(
      `**MoSEAR checkpoint**: \`${active}\`\n\n` +
        `Execution provider: ${provider}` +
        `${this.usedProvider === null ? ' (configured; no analysis yet)' : ' (last analysis)'}` +
        `${settings.trusted ? '' : '\n\nRestricted Mode: shipped checkpoints only'}\n\n` +
        'Click to select another checkpoint.',
    );
  }
}
