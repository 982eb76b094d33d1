// The extension's one log: a LogOutputChannel ("MoSEAR Lens" in the Output view). No `console`.
import * as vscode from 'vscode';

/** Writes to the "MoSEAR Lens" log output channel. */
export class Logger implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('MoSEAR Lens', { log: true });
  private readonly shown: string[] = [];

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  /** Logs a failure with its stack when it has one (the message alone goes to the user). */
  error(message: string, error?: unknown): void {
    if (error instanceof Error) this.channel.error(`${message}: ${error.stack ?? error.message}`);
    else if (error !== undefined) this.channel.error(`${message}: ${JSON.stringify(error)}`);
    else this.channel.error(message);
  }

  /** Tells the user something failed (a notification offering the log) and logs it. */
  userError(message: string): void {
    this.channel.error(message);
    this.shown.push(message);
    if (this.shown.length > 50) this.shown.shift();
    void vscode.window.showErrorMessage(message, 'Show Log').then((choice) => {
      if (choice !== undefined) this.show();
    });
  }

  /** The error messages shown to the user, oldest first (the last 50; tests read them). */
  errorsShown(): readonly string[] {
    return [...this.shown];
  }

  /** Reveals the channel without taking focus. */
  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

/** The message of any thrown value, for notifications. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
