// A titled panel section with its export buttons (PNG of the chart, CSV and JSON of the data
// behind it), shared by every view of the Analysis and Evaluate panels.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { ExportFile } from '../../src/protocol/panelMessages';
import { el } from './domBuilder';

/** What a section needs from its panel (the Analysis panel's model, the Evaluate panel's). */
export interface SectionOwner {
  exportFile(file: ExportFile): void;
  reportError(error: unknown): void;
  /** The first part of export file names (the clip's or the manifest's stem). */
  exportStem(): string;
}

/** What a section can export; each function runs when its button is pressed. */
export interface SectionExports {
  /** The file-name part after the clip's stem, e.g. "uap" → "clip.uap.png". */
  name: string;
  png?: () => string;
  csv?: () => string;
  json?: () => unknown;
}

/** A section element and the body views fill. */
export interface SectionFrame {
  element: HTMLElement;
  body: HTMLElement;
  /** A line under the title for notes such as "preview". */
  note: HTMLElement;
}

/** A button from @vscode-elements with a click handler (no inline handlers under the CSP). */
export function button(
  label: string,
  onClick: () => void,
  attributes: Record<string, string | boolean | undefined> = {},
): HTMLElement {
  const b = el('vscode-button', attributes, label);
  b.addEventListener('click', onClick);
  return b;
}

/** Builds a section with a heading, a note line and export buttons. */
export function sectionFrame(
  model: SectionOwner,
  title: string,
  testId: string,
  exports?: SectionExports,
): SectionFrame {
  const headingId = `${testId}-heading`;
  const note = el('p', { class: 'note' });
  const body = el('div', { class: 'section-body' });
  const toolbar = el('div', { class: 'toolbar', role: 'toolbar', 'aria-label': `${title} export` });
  if (exports !== undefined) {
    const save = (format: ExportFile['format'], data: () => string): void => {
      try {
        model.exportFile({
          fileName: `${model.exportStem()}.${exports.name}.${format}`,
          format,
          encoding: format === 'png' ? 'base64' : 'utf8',
          data: data(),
        });
      } catch (error) {
        model.reportError(error);
      }
    };
    const { png, csv, json } = exports;
    if (png !== undefined) {
      toolbar.append(
        button('PNG', () => save('png', png), {
          secondary: true,
          'aria-label': `Export ${title} as PNG`,
          'data-export': 'png',
        }),
      );
    }
    if (csv !== undefined) {
      toolbar.append(
        button('CSV', () => save('csv', csv), {
          secondary: true,
          'aria-label': `Export the data of ${title} as CSV`,
          'data-export': 'csv',
        }),
      );
    }
    if (json !== undefined) {
      toolbar.append(
        button('JSON', () => save('json', () => `${JSON.stringify(json(), null, 2)}\n`), {
          secondary: true,
          'aria-label': `Export the data of ${title} as JSON`,
          'data-export': 'json',
        }),
      );
    }
  }
  const element = el(
    'section',
    { class: 'card', 'aria-labelledby': headingId, 'data-section': testId },
    el('header', {}, el('h2', { id: headingId }, title), toolbar),
    note,
    body,
  );
  return { element, body, note };
}
