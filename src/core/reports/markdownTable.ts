// Markdown tables with padded columns, so generated files read well as plain text too.

/** Column alignment of a Markdown table. */
export type ColumnAlign = 'left' | 'right';

/** A Markdown table (first row = header), cells padded to each column's width. */
export function markdownTable(
  rows: readonly (readonly string[])[],
  align: ColumnAlign[] = [],
): string {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const cells = rows.map((r) => Array.from({ length: columns }, (_, i) => escape(r[i] ?? '')));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(3, ...cells.map((r) => (r[i] as string).length)),
  );
  const line = (r: string[]) =>
    `| ${r
      .map((cell, i) =>
        align[i] === 'right'
          ? cell.padStart(widths[i] as number)
          : cell.padEnd(widths[i] as number),
      )
      .join(' | ')} |`;
  const rule = `| ${widths
    .map((w, i) => (align[i] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w)))
    .join(' | ')} |`;
  const [header, ...body] = cells;
  return [line(header ?? []), rule, ...body.map(line)].join('\n');
}
