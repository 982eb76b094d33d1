// The shape every view of the panel has.
import type { Palette } from './theme';

/** A region of the panel: built once, redrawn from the model on every change. */
export interface View {
  readonly element: HTMLElement;
  /** Redraws from the model (called after every state change and on theme changes). */
  update(palette: Palette): void;
}
