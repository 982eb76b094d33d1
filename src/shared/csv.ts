// The one CSV writer: every CSV the project writes (run folders, panel exports, reports) goes
// through `csvCell`, which quotes per RFC 4180 and neutralises spreadsheet formulas (OWASP's
// CSV-injection guidance: a text cell starting with = + - @ tab or CR gets a leading `'`).
// Pure text: the CLI, the host and the webviews share it.

/** A plain decimal or scientific number: never a formula, so it keeps its sign. */
const NUMBER_LITERAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
/** Characters that make a spreadsheet read a cell as a formula (or DDE) when they lead it. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: numbers as JS prints them, text neutralised and quoted when it needs to be. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  // A finite number as JS prints it; -Infinity is no literal to a spreadsheet: text, neutralised.
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  let text =
    typeof value === 'string'
      ? value
      : typeof value === 'number'
        ? String(value)
        : (JSON.stringify(value) ?? '');
  if (FORMULA_START.test(text) && !NUMBER_LITERAL.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows of cells as CSV text (one line per row, trailing newline). */
export function csvRows(rows: readonly (readonly unknown[])[]): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** Rows of objects as CSV with a header line (columns from the first row's keys). */
export function toCsv(rows: readonly Record<string, unknown>[], columns?: string[]): string {
  const keys = columns ?? Object.keys(rows[0] ?? {});
  return csvRows([keys, ...rows.map((row) => keys.map((k) => row[k]))]);
}
