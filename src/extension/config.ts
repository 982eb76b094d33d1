// Settings for the host: read once into a typed object, refreshed when `mosear.*` changes or the
// workspace becomes trusted. The parsing and Restricted Mode rules live in settings.ts (pure).
import * as vscode from 'vscode';
import { Disposable } from './dispose';
import type { Logger } from './logger';
import { readSettings, SETTINGS_SECTION, type MosearSettings } from './settings';

/** Reads the live `mosear` settings with the current trust state. */
export function readWorkspaceSettings(): { settings: MosearSettings; problems: string[] } {
  const section = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  return readSettings((key) => section.inspect(key), vscode.workspace.isTrusted);
}

/** The current settings, kept up to date; `onDidChange` fires after each refresh. */
export class Config extends Disposable {
  private value: MosearSettings;
  private readonly changed = this._register(new vscode.EventEmitter<MosearSettings>());
  /** Fires with the new settings after a change. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly logger: Logger) {
    super();
    this.value = this.read();
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SETTINGS_SECTION)) this.refresh();
      }),
    );
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()));
  }

  /** The settings as last read. */
  get current(): MosearSettings {
    return this.value;
  }

  /** Writes one `mosear.*` key into the workspace settings (the panel's "save as defaults"). */
  async writeWorkspaceValue(key: string, value: unknown): Promise<void> {
    await vscode.workspace
      .getConfiguration(SETTINGS_SECTION)
      .update(key, value, vscode.ConfigurationTarget.Workspace);
  }

  private refresh(): void {
    this.value = this.read();
    this.changed.fire(this.value);
  }

  private read(): MosearSettings {
    const { settings, problems } = readWorkspaceSettings();
    for (const p of problems) this.logger.warn(p);
    return settings;
  }
}
