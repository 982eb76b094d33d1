// What every panel's entry does alike: the #app root, the theme (VS Code's, or the browser's
// scheme and forced colours in a report), redrawing the views with the palette, and errors sent
// to the host's log — so the Analysis, Compare and Evaluate pages and their reports behave alike.
import { applyChartDefaults } from './chartCanvas';
import { el } from './domBuilder';
import {
  currentPalette,
  followBrowserSchemeWhenUnthemed,
  refreshPalette,
  watchTheme,
} from './theme';
import type { View } from './view';

/** The page's #app element, created when the page has none. */
export function appRoot(): HTMLElement {
  return document.getElementById('app') ?? document.body.appendChild(el('div', { id: 'app' }));
}

/** The page's top row: the header, and the panel's action buttons at its end. */
export function panelTop(header: HTMLElement, ...actions: HTMLElement[]): HTMLElement {
  return el(
    'div',
    { class: 'panel-top' },
    header,
    el('div', { class: 'panel-actions' }, ...actions),
  );
}

/** An error as the host's log shows it: the message and the stack. */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
}

/** The notice for a `saved` answer: where the file went, why it failed (`what` failed), or none. */
export function savedNotice(
  saved: { path: string | null; error: string | null },
  what: 'Save' | 'Export',
): string | null {
  if (saved.error !== null) return `${what} failed: ${saved.error}`;
  return saved.path === null ? null : `Saved ${saved.path}`;
}

/** Redraws every view with the current palette; a view that throws is reported, the rest draw. */
export function drawViews(views: readonly View[], report: (error: unknown) => void): void {
  const palette = refreshPalette();
  applyChartDefaults(palette);
  for (const view of views) {
    try {
      view.update(palette);
    } catch (error) {
      report(error);
    }
  }
}

/**
 * Redraws what a new selection changes: each view's `select`, in order (the theme is unchanged,
 * so the palette is the last full draw's); a view that throws is reported, the rest draw.
 */
export function drawSelection(views: readonly View[], report: (error: unknown) => void): void {
  const palette = currentPalette();
  for (const view of views) {
    try {
      view.select?.(palette);
    } catch (error) {
      report(error);
    }
  }
}

/**
 * Themes the page (a report follows the browser when the page names no theme), redraws on theme
 * changes and reports uncaught errors and rejections. Call before the first draw.
 */
export function startPage(options: {
  hasHost: boolean;
  redraw: () => void;
  report: (error: unknown) => void;
}): void {
  const { hasHost, redraw, report } = options;
  if (!hasHost) followBrowserSchemeWhenUnthemed();
  watchTheme(redraw);
  window.addEventListener('error', (event) => report(event.error ?? event.message));
  window.addEventListener('unhandledrejection', (event) => report(event.reason));
}
