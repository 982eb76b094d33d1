// Which checkpoint analyses run with: the shipped ones under <extension>/models/checkpoints/, the
// configured paths, and the one the user picked for this workspace ("Use as Checkpoint",
// "Select Checkpoint"). Restricted Mode allows only the shipped checkpoints.
import { readdir } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { unrunnableModelError } from '../core/contract/graphCheck';
import type { Config } from './config';
import { Disposable } from './dispose';
import type { ExtensionEngine } from './extensionEngine';
import type { Logger } from './logger';
import { messageOf } from './logger';
import { restrictedModelProblem, type MosearSettings } from './settings';

/** The shipped checkpoint analyses use when nothing else is chosen. */
export const DEFAULT_CHECKPOINT = 'mosear-tiny.onnx';
/** workspaceState key of the checkpoint picked for this workspace. */
const ACTIVE_KEY = 'mosear.activeCheckpoint';

/** The active checkpoint and the list to choose from. */
export class Checkpoints extends Disposable {
  /** The folder of the shipped checkpoints. */
  readonly shippedDir: string;
  private readonly changed = this._register(new vscode.EventEmitter<string>());
  /** Fires with the new active checkpoint path. */
  readonly onDidChange = this.changed.event;

  constructor(
    /** The folder of the shipped checkpoints (`<extension>/models/checkpoints`). */
    shippedDir: string,
    private readonly config: Config,
    private readonly engine: ExtensionEngine,
    private readonly state: vscode.Memento,
    private readonly logger: Logger,
  ) {
    super();
    this.shippedDir = shippedDir;
    this._register(config.onDidChange(() => this.changed.fire(this.active)));
  }

  /** The checkpoint analyses use now (always a shipped one in Restricted Mode). */
  get active(): string {
    const settings = this.config.current;
    const picked = this.state.get<string>(ACTIVE_KEY);
    const configured = settings.checkpoint.path;
    for (const candidate of [picked, configured === null ? undefined : resolvePath(configured)]) {
      if (candidate !== undefined && this.modelProblem(candidate, settings) === undefined) {
        return candidate;
      }
    }
    return join(this.shippedDir, DEFAULT_CHECKPOINT);
  }

  /** Why a checkpoint may not run under these settings (Restricted Mode), or undefined. */
  modelProblem(modelPath: string, settings: MosearSettings): string | undefined {
    return restrictedModelProblem(modelPath, this.shippedDir, settings.trusted);
  }

  /** The shipped checkpoints' paths (empty when the folder is missing). */
  async shipped(): Promise<string[]> {
    try {
      const names = await readdir(this.shippedDir);
      return names.filter((n) => n.endsWith('.onnx')).map((n) => join(this.shippedDir, n));
    } catch (error) {
      this.logger.warn(`no shipped checkpoints in ${this.shippedDir}: ${messageOf(error)}`);
      return [];
    }
  }

  /**
   * Makes a checkpoint active for this workspace after validating it: its metadata and graph
   * signature against the contract (every problem listed), then a cpu session, so a checkpoint
   * onnxruntime cannot load (unknown operator, IR version) is refused too. Shows a clear error
   * and returns false when it cannot be used.
   */
  async use(modelPath: string): Promise<boolean> {
    const problem = this.modelProblem(modelPath, this.config.current);
    if (problem !== undefined) {
      this.logger.userError(problem);
      return false;
    }
    try {
      const model = await this.engine.model(modelPath);
      const { attempts } = await this.engine.probeProviders(model.path, undefined, ['cpu']);
      const unrunnable = unrunnableModelError(model.path, attempts);
      if (unrunnable !== undefined) throw unrunnable;
      await this.state.update(ACTIVE_KEY, model.path);
      this.logger.info(`active checkpoint: ${model.path} (${model.metadata.checkpoint.name})`);
      this.changed.fire(model.path);
      void vscode.window.showInformationMessage(
        `MoSEAR: analyses now use ${model.fileName} (${model.metadata.checkpoint.name}).`,
      );
      return true;
    } catch (error) {
      this.logger.error(`cannot use ${modelPath} as a checkpoint`, error);
      this.logger.userError(
        `MoSEAR: ${basename(modelPath)} cannot be used as a checkpoint. ${messageOf(error)}`,
      );
      return false;
    }
  }

  /** A quick pick of shipped, configured and workspace checkpoints; uses the chosen one. */
  async pick(): Promise<string | undefined> {
    const settings = this.config.current;
    const seen = new Set<string>();
    const items: (vscode.QuickPickItem & { path?: string })[] = [];
    const add = (group: string, paths: string[]): void => {
      const fresh = paths.filter((p) => !seen.has(p));
      if (fresh.length === 0) return;
      items.push({ label: group, kind: vscode.QuickPickItemKind.Separator });
      for (const path of fresh) {
        seen.add(path);
        const active = path === this.active;
        items.push({
          label: `${active ? '$(check) ' : ''}${basename(path)}`,
          description: vscode.workspace.asRelativePath(path),
          path,
        });
      }
    };
    add('shipped with MoSEAR Lens', await this.shipped());
    if (settings.trusted) {
      const configured = [settings.checkpoint.path, ...settings.checkpoint.extraPaths];
      add(
        'from settings',
        configured.flatMap((p) => (p === null ? [] : [resolvePath(p)])),
      );
      const found = await vscode.workspace.findFiles('**/*.onnx', '**/node_modules/**', 200);
      add(
        'in the workspace',
        found.map((u) => u.fsPath),
      );
    }
    const chosen = await vscode.window.showQuickPick(items, {
      title: 'MoSEAR: Select Checkpoint',
      placeHolder: settings.trusted
        ? 'Checkpoint for analyses in this workspace'
        : 'Restricted Mode: only the shipped checkpoints',
      matchOnDescription: true,
    });
    if (chosen?.path === undefined) return undefined;
    return (await this.use(chosen.path)) ? chosen.path : undefined;
  }
}

/** A configured path: absolute as given, relative to the first workspace folder otherwise. */
function resolvePath(path: string): string {
  if (isAbsolute(path)) return path;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return folder === undefined ? resolve(path) : join(folder, path);
}
