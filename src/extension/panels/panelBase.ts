// The host end of a panel's channel (src/protocol/channel.ts), shared by the Analysis, Compare
// and Evaluate panels and knowing none of them: the page from the one HTML builder, disposal
// together with the webview, every incoming message parsed with the panel's own parser before it
// is acted on (invalid ones are logged and dropped), the `ready` → `init` handshake, the `saved`
// answer every panel gives, and the last posted messages kept (summarised) for tests.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { isReady, type ChannelMessage, type ReadyMessage } from '../../protocol/channel';
import type { ExportFile } from '../../protocol/panelMessages';
import type { Checkpoints } from '../checkpoints';
import type { Config } from '../config';
import type { ExtensionEngine } from '../extensionEngine';
import type { Logger } from '../logger';
import { Disposable } from '../dispose';
import { messageOf } from '../logger';
import { PostedLog, type PostedMessage } from './postedLog';
import { saveWithDialog } from './saveDialog';
import { buildWebviewHtml } from './webviewHtml';

/** What panels need from the extension. */
export interface PanelHost {
  extensionUri: vscode.Uri;
  engine: ExtensionEngine;
  config: Config;
  checkpoints: Checkpoints;
  logger: Logger;
  /** The extension's global storage folder (decode cache, run folders without a workspace). */
  globalStorageDir: string;
}

/** Replaces a panel that could not be revived with an error page saying what to do instead. */
export function showRestoreFailure(
  host: PanelHost,
  panel: vscode.WebviewPanel,
  error: unknown,
  redo: string,
): void {
  host.logger.error(`cannot restore a ${panel.viewType} panel`, error);
  panel.webview.html = buildWebviewHtml({
    webview: panel.webview,
    extensionUri: host.extensionUri,
    title: 'MoSEAR: panel not restored',
    error: `This panel could not be restored: ${messageOf(error)}. ${redo}`,
  });
}

/** The bytes of a file a webview exported (base64 for PNG, text otherwise). */
export function exportedBytes(file: ExportFile): Promise<Buffer> {
  return Promise.resolve(Buffer.from(file.data, file.encoding === 'base64' ? 'base64' : 'utf8'));
}

/** What a panel's channel state looks like to tests. */
export interface ChannelSnapshot {
  /** Whether the webview has sent `ready` (and so received `init`). */
  ready: boolean;
  /** The last messages posted, summarised, oldest first. */
  posted: PostedMessage[];
  /** How many messages were posted in all. */
  postedCount: number;
}

/** What a panel subclass tells its base. */
export interface PanelOptions<In> {
  /** "Analysis", "Compare", "Evaluate": for log lines. */
  name: string;
  title: string;
  /** The webview bundle (the Analysis bundle when left out). */
  bundle?: string;
  /** The panel's parser of webview messages (throws on anything invalid). */
  parse: (raw: unknown) => In;
}

/**
 * A webview panel's host side, generic over the messages it receives (`In`) and posts (`Out`).
 * Subclasses give the `init` message and handle everything after the handshake.
 */
export abstract class PanelBase<
  In extends ChannelMessage,
  Out extends ChannelMessage,
> extends Disposable {
  /** Whether the webview has sent `ready` (and so received `init`). */
  protected ready = false;
  private readonly log = new PostedLog();
  private readonly name: string;
  private readonly parse: (raw: unknown) => In;

  protected constructor(
    protected readonly host: PanelHost,
    protected readonly panel: vscode.WebviewPanel,
    options: PanelOptions<In>,
  ) {
    super();
    const { name, title, bundle } = options;
    this.name = name;
    this.parse = options.parse;
    panel.title = title;
    panel.iconPath = vscode.Uri.joinPath(host.extensionUri, 'media', 'icon.png');
    panel.webview.html = buildWebviewHtml({
      webview: panel.webview,
      extensionUri: host.extensionUri,
      title,
      ...(bundle === undefined ? {} : { bundle }),
    });
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        this.receive(raw).catch((error: unknown) => {
          host.logger.error(`the ${name} panel failed to handle a message`, error);
        });
      }),
    );
  }

  /** The message that carries the panel's whole state (the answer to `ready`). */
  protected abstract initMessage(): Out;

  /** Handles one validated message after the handshake. */
  protected abstract handle(message: Exclude<In, ReadyMessage>): Promise<void>;

  /**
   * Handles one message from the webview (tests hand theirs in here too): parsed first (invalid
   * ones are logged and dropped); `ready` is answered with the whole state.
   */
  async receive(raw: unknown): Promise<void> {
    let message: In;
    try {
      message = this.parse(raw);
    } catch (error) {
      this.host.logger.warn(`ignored an invalid ${this.name} panel message: ${messageOf(error)}`);
      return;
    }
    if (isReady(message)) {
      this.ready = true;
      this.post(this.initMessage());
      return;
    }
    await this.handle(message as Exclude<In, ReadyMessage>);
  }

  /** Posts the whole state again when the webview has it already (before `ready` it asks). */
  protected refresh(): void {
    if (this.ready) this.post(this.initMessage());
  }

  /** Posts to the webview (nothing once the panel is closed) and keeps its summary. */
  protected post(message: Out): void {
    this.send(message);
  }

  /** Logs an error the webview reported (no console in webviews). */
  protected logWebviewError(message: string): void {
    this.host.logger.error(`${this.name} panel: ${message}`);
  }

  /** The channel's state for the panel's snapshot. */
  protected channelSnapshot(): ChannelSnapshot {
    return { ready: this.ready, posted: this.log.entries(), postedCount: this.log.total };
  }

  /**
   * Asks where to save `fileName` (offered in `folder`), writes what `bytes` gives, and answers
   * the webview's `saved` for `requestId`: the path, null when dismissed, or the error.
   */
  protected async saveAndAnswer(
    requestId: number,
    folder: string,
    fileName: string,
    bytes: (path: string) => Promise<Uint8Array>,
    filters?: Record<string, string[]>,
  ): Promise<void> {
    let saved: { path: string | null; error: string | null };
    try {
      const path = await saveWithDialog(folder, fileName, bytes, filters);
      if (path !== null) this.host.logger.info(`saved ${path}`);
      saved = { path, error: null };
    } catch (error) {
      this.host.logger.error(`saving ${fileName} failed`, error);
      saved = { path: null, error: messageOf(error) };
    }
    // Every panel's protocol has this answer; the generic `Out` cannot say so.
    const answer = { type: 'saved', requestId, ...saved };
    this.send(answer);
  }

  private send(message: ChannelMessage): void {
    // A run can outlive a closed panel: there is nothing to post to then.
    if (this.isDisposed) return;
    this.log.add(message);
    this.panel.webview.postMessage(message).then(undefined, (error: unknown) => {
      this.host.logger.error(`posting ${message.type} to the ${this.name} panel failed`, error);
    });
  }

  /** A webview bundle's script and stylesheet from dist/webview/, for a self-contained report. */
  protected async bundleText(name: string): Promise<{ script: string; style: string }> {
    const dir = join(this.host.extensionUri.fsPath, 'dist', 'webview');
    const [script, style] = await Promise.all([
      readFile(join(dir, `${name}.js`), 'utf8'),
      readFile(join(dir, `${name}.css`), 'utf8'),
    ]);
    return { script, style };
  }

  override dispose(): void {
    super.dispose();
    this.panel.dispose();
  }
}
