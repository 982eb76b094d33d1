// What the Analysis, Compare and Evaluate panel hosts share: the page from the one HTML builder,
// disposal together with the webview, every incoming message validated before it is acted on
// (invalid ones are logged and dropped), and posting with a summary kept for tests.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { HostToCompare } from '../../protocol/compareMessages';
import type { HostToEvaluation } from '../../protocol/evaluationMessages';
import type { HostToWebview } from '../../protocol/panelMessages';
import type { SubjectKey } from '../../protocol/comparisonResult';
import type { Checkpoints } from '../checkpoints';
import type { Config } from '../config';
import type { ExtensionEngine } from '../extensionEngine';
import type { Logger } from '../logger';
import { Disposable } from '../dispose';
import { messageOf } from '../logger';
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

/** A message the host posted to the webview, summarised. */
export interface PostedMessage {
  type: string;
  requestId?: number;
  /** The Compare panel's subject of a run message. */
  subject?: SubjectKey;
  /** runFailed's message or saved's error. */
  error?: string;
  /** saved's path. */
  path?: string;
}

/** A message any panel posts. */
export type HostMessage = HostToWebview | HostToCompare | HostToEvaluation;

/** What tests see of a message a panel posted. */
export function postedSummary(message: HostMessage): PostedMessage {
  const error =
    message.type === 'runFailed'
      ? message.message
      : message.type === 'saved'
        ? message.error
        : null;
  return {
    type: message.type,
    ...('requestId' in message ? { requestId: message.requestId } : {}),
    ...('subject' in message ? { subject: message.subject } : {}),
    ...(error === null ? {} : { error }),
    ...(message.type === 'saved' && message.path !== null ? { path: message.path } : {}),
  };
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

/** A webview panel's host side; subclasses answer `receive`. */
export abstract class PanelBase<Out extends HostMessage> extends Disposable {
  /** Whether the webview has sent `ready` (and so received `init`). */
  protected ready = false;
  /** The messages posted so far, oldest first. */
  protected readonly posted: PostedMessage[] = [];

  protected constructor(
    protected readonly host: PanelHost,
    protected readonly panel: vscode.WebviewPanel,
    /** "Analysis", "Compare", "Evaluate": for log lines. */
    private readonly name: string,
    title: string,
    bundle?: string,
  ) {
    super();
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

  /** Handles one message from the webview (validated first with `validated`). */
  abstract receive(raw: unknown): Promise<void>;

  /** The message `parse` makes of `raw`, or undefined (logged) when it is invalid. */
  protected validated<M>(raw: unknown, parse: (raw: unknown) => M): M | undefined {
    try {
      return parse(raw);
    } catch (error) {
      this.host.logger.warn(`ignored an invalid ${this.name} panel message: ${messageOf(error)}`);
      return undefined;
    }
  }

  /** Posts to the webview and keeps its summary. */
  protected post(message: Out): void {
    this.posted.push(postedSummary(message));
    this.panel.webview.postMessage(message).then(undefined, (error: unknown) => {
      this.host.logger.error(`posting ${message.type} to the ${this.name} panel failed`, error);
    });
  }

  /**
   * Asks where to save `fileName` (offered in `folder`), writes what `bytes` gives, and answers
   * the webview's `saved` for `requestId`: the path, null when dismissed, or the error.
   */
  protected async saveAndAnswer(
    requestId: number,
    folder: string,
    fileName: string,
    bytes: () => Promise<Uint8Array>,
  ): Promise<void> {
    let saved: { path: string | null; error: string | null };
    try {
      const path = await saveWithDialog(folder, fileName, bytes);
      if (path !== null) this.host.logger.info(`saved ${path}`);
      saved = { path, error: null };
    } catch (error) {
      this.host.logger.error(`saving ${fileName} failed`, error);
      saved = { path: null, error: messageOf(error) };
    }
    // Every panel's protocol has this `saved` answer (the generic cannot prove it).
    this.post({ type: 'saved', requestId, ...saved } as Out);
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
