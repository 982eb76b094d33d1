// Plain-text tables for the CLI's summaries: fixed-width columns, left or right aligned. Cells
// often come from files (labels, names), so each is printed through terminalText.
import { terminalText } from './terminalText';

/** Column alignment of a text table. */
export type Align = 'left' | 'right';

/** Lays out rows as fixed-width columns separated by two spaces (first row = header). */
export function textTable(table: string[][], align: Align[] = []): string {
  const rows = table.map((row) => row.map(terminalText));
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => {
          const width = widths[i] ?? 0;
          return align[i] === 'right' ? cell.padStart(width) : cell.padEnd(width);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
