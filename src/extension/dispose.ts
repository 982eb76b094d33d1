// Deterministic disposal: objects that own listeners and resources register them here and free
// them all at once (vscode-hexeditor's `dispose.ts` shape).
import type * as vscode from 'vscode';

/** Disposes every item, collecting errors so one failure does not leak the rest. */
export function disposeAll(items: Iterable<vscode.Disposable>): void {
  const errors: unknown[] = [];
  for (const item of items) {
    try {
      item.dispose();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, 'several disposables failed');
}

/** A base class owning disposables registered with `_register`. */
export abstract class Disposable implements vscode.Disposable {
  private readonly owned: vscode.Disposable[] = [];
  private disposed = false;

  /** Whether `dispose` has run. */
  protected get isDisposed(): boolean {
    return this.disposed;
  }

  /** Takes ownership of a disposable (disposed at once when this object already is). */
  protected _register<T extends vscode.Disposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.owned.push(item);
    return item;
  }

  /** Frees everything registered, newest first. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeAll(this.owned.splice(0).reverse());
  }
}
