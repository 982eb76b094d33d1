// A generated section inside a hand-written file: the text between a BEGIN and an END marker
// line belongs to a generator; everything outside belongs to people. Plus a small line diff for
// saying how a stale section differs.

/** Where a marked section sits in a text. */
export interface MarkedSection {
  /** Everything up to and including the BEGIN marker's line break. */
  before: string;
  /** The generated text between the markers. */
  inner: string;
  /** The END marker line and everything after it. */
  after: string;
}

/** A file whose markers are missing, repeated or out of order. */
export class MarkerError extends Error {
  override readonly name = 'MarkerError';
}

function markerLines(text: string, marker: string): number[] {
  const found: number[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(marker, from);
    if (at < 0) return found;
    const lineStart = text.lastIndexOf('\n', at - 1) + 1;
    const lineEnd = text.indexOf('\n', at);
    const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
    if (line.trim() === marker) found.push(lineStart);
    from = at + marker.length;
  }
}

/**
 * Finds the section between two marker lines (each alone on its line). Returns undefined when
 * neither marker is present; throws MarkerError when only one is, either repeats, or END comes
 * before BEGIN.
 */
export function findMarkedSection(
  text: string,
  begin: string,
  end: string,
): MarkedSection | undefined {
  const starts = markerLines(text, begin);
  const ends = markerLines(text, end);
  if (starts.length === 0 && ends.length === 0) return undefined;
  if (starts.length !== 1 || ends.length !== 1) {
    throw new MarkerError(
      `expected one "${begin}" line and one "${end}" line, found ${starts.length} and ${ends.length}`,
    );
  }
  const beginAt = starts[0] as number;
  const endAt = ends[0] as number;
  if (endAt < beginAt) throw new MarkerError(`"${end}" comes before "${begin}"`);
  // Both markers are alone on their lines and END comes later, so BEGIN's line ends before END.
  const beginLineEnd = text.indexOf('\n', beginAt);
  return {
    before: text.slice(0, beginLineEnd + 1),
    inner: text.slice(beginLineEnd + 1, endAt),
    after: text.slice(endAt),
  };
}

/**
 * The text with the marked section's content replaced by `inner` (which should end with a line
 * break). Without markers, the section is appended at the end, after a blank line.
 */
export function replaceMarkedSection(
  text: string,
  begin: string,
  end: string,
  inner: string,
): string {
  const section = findMarkedSection(text, begin, end);
  if (section === undefined) {
    const head =
      text === '' || text.endsWith('\n\n')
        ? text
        : text.endsWith('\n')
          ? `${text}\n`
          : `${text}\n\n`;
    return `${head}${begin}\n${inner}${end}\n`;
  }
  return section.before + inner + section.after;
}

/** One line of a diff: ' ' kept, '-' only in the old text, '+' only in the new text. */
export interface DiffLine {
  op: ' ' | '-' | '+';
  /** 1-based line number in the old text ('-', ' ') or the new text ('+'). */
  line: number;
  text: string;
}

/**
 * A line diff from `before` to `after` (longest common subsequence). Inputs beyond `maxCells`
 * line pairs fall back to one block from the first to the last differing line.
 */
export function diffLines(before: string, after: string, maxCells = 4_000_000): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  ) {
    suffix++;
  }
  const aMid = a.slice(prefix, a.length - suffix);
  const bMid = b.slice(prefix, b.length - suffix);
  const out: DiffLine[] = a.slice(0, prefix).map((text, i) => ({ op: ' ', line: i + 1, text }));
  if (aMid.length * bMid.length > maxCells) {
    aMid.forEach((text, i) => out.push({ op: '-', line: prefix + i + 1, text }));
    bMid.forEach((text, i) => out.push({ op: '+', line: prefix + i + 1, text }));
  } else {
    // lcs[i][j]: length of the longest common subsequence of aMid[i…] and bMid[j…].
    const lcs = Array.from({ length: aMid.length + 1 }, () =>
      new Array<number>(bMid.length + 1).fill(0),
    );
    for (let i = aMid.length - 1; i >= 0; i--) {
      for (let j = bMid.length - 1; j >= 0; j--) {
        lcs[i]![j] =
          aMid[i] === bMid[j]
            ? lcs[i + 1]![j + 1]! + 1
            : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < aMid.length || j < bMid.length) {
      if (i < aMid.length && j < bMid.length && aMid[i] === bMid[j]) {
        out.push({ op: ' ', line: prefix + i + 1, text: aMid[i] as string });
        i++;
        j++;
      } else if (i < aMid.length && (j === bMid.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
        out.push({ op: '-', line: prefix + i + 1, text: aMid[i] as string });
        i++;
      } else {
        out.push({ op: '+', line: prefix + j + 1, text: bMid[j] as string });
        j++;
      }
    }
  }
  const tail = a.length - suffix;
  a.slice(tail).forEach((text, k) => out.push({ op: ' ', line: tail + k + 1, text }));
  return out;
}

/**
 * A readable summary of how `after` differs from `before`: a count, then the changed lines with
 * `context` kept lines around each change, at most `maxLines` lines, numbered from
 * `lineOffset` + 1 (the line where the texts start in their file). Empty when equal.
 */
export function diffSummary(
  before: string,
  after: string,
  { context = 1, maxLines = 40, lineOffset = 0 } = {},
): string {
  const diff = diffLines(before, after);
  const changed = diff.filter((d) => d.op !== ' ');
  if (changed.length === 0) return '';
  const keep = new Array<boolean>(diff.length).fill(false);
  diff.forEach((d, i) => {
    if (d.op === ' ') return;
    for (let k = Math.max(0, i - context); k <= Math.min(diff.length - 1, i + context); k++) {
      keep[k] = true;
    }
  });
  const removed = changed.filter((d) => d.op === '-').length;
  const added = changed.length - removed;
  const lines = [
    `${removed} line(s) removed, ${added} line(s) added (- committed, + regenerated):`,
  ];
  let shown = 0;
  let gap = false;
  for (let i = 0; i < diff.length; i++) {
    if (!keep[i]) {
      gap = true;
      continue;
    }
    if (shown >= maxLines) {
      lines.push(`  … (${changed.length} changed lines in all)`);
      break;
    }
    if (gap && shown > 0) lines.push('  …');
    gap = false;
    const d = diff[i] as DiffLine;
    lines.push(`${d.op} ${String(d.line + lineOffset).padStart(4)} | ${d.text}`);
    shown++;
  }
  return lines.join('\n');
}
