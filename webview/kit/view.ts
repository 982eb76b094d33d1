// The shape every view of the panel has.
import type { Palette } from './theme';

/** A region of the panel: built once, redrawn from the model on every change. */
export interface View {
  readonly element: HTMLElement;
  /** Redraws from the model (called after every state change and on theme changes). */
  update(palette: Palette): void;
  /**
   * Redraws only what the inspected head (the selection) changes, after `update` has drawn the
   * rest. A view that shows the selection must have it: a selection redraws no other view.
   */
  select?(palette: Palette): void;
}
