// Labelled clip manifests: JSONL (one JSON object per line with `path` relative to the manifest,
// `label` a label name or index, an optional `subset`; other keys ignored) or CSV with a header
// row naming the `path`, `label` and optional `subset` columns. A folder stands for the
// `manifest.jsonl` or `manifest.csv` inside it.
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';

/** One labelled clip of a manifest. */
export interface ManifestEntry {
  /** 1-based line number in the manifest. */
  line: number;
  /** The path as the manifest writes it. */
  relativePath: string;
  /** Absolute path of the clip. */
  path: string;
  /** Label index into the model's labels. */
  label: number;
  /** The subset name, or null when the line has none. */
  subset: string | null;
}

/** A manifest that cannot be read or does not fit the labels; the message names the line. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/**
 * Parses JSONL manifest text. `labels` are the model's label names (a label may be given by name
 * or by index); paths resolve against `baseDir`. Blank lines are skipped; duplicates rejected.
 */
export function parseManifest(
  text: string,
  baseDir: string,
  labels: readonly string[],
  source = 'manifest',
): ManifestEntry[] {
  const builder = new EntryBuilder(baseDir, labels, source);
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      builder.fail(line, `not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      builder.fail(line, 'expected a JSON object');
    }
    const { path, label, subset } = value as Record<string, unknown>;
    builder.add(line, path, label, subset);
  });
  return builder.entries;
}

/** Splits CSV text into rows of fields (RFC 4180: quoted fields, doubled quotes, CRLF). */
export function parseCsvRows(text: string): { line: number; fields: string[] }[] {
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endRow = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0]?.trim() === '')) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (quoted) throw new ManifestError(`line ${rowLine}: a quoted field is not closed`);
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

/** Parses CSV manifest text with a header row (`path`, `label`, optional `subset` columns). */
export function parseCsvManifest(
  text: string,
  baseDir: string,
  labels: readonly string[],
  source = 'manifest',
): ManifestEntry[] {
  const rows = parseCsvRows(text.replace(/^\uFEFF/, ''));
  const header = rows.shift();
  if (header === undefined) return [];
  const column = (name: string) => header.fields.findIndex((f) => f.trim().toLowerCase() === name);
  const [pathColumn, labelColumn, subsetColumn] = ['path', 'label', 'subset'].map(column);
  if (pathColumn === undefined || pathColumn < 0 || labelColumn === undefined || labelColumn < 0) {
    throw new ManifestError(
      `${source}:${header.line}: the header row needs "path" and "label" columns`,
    );
  }
  const builder = new EntryBuilder(baseDir, labels, source);
  for (const row of rows) {
    const cell = (c: number | undefined) =>
      c === undefined || c < 0 ? undefined : row.fields[c]?.trim();
    const label = cell(labelColumn);
    // A label column holding an integer is an index, as in JSONL.
    const labelValue = label !== undefined && /^\d+$/.test(label) ? Number(label) : label;
    const subset = cell(subsetColumn);
    builder.add(row.line, cell(pathColumn), labelValue, subset === '' ? undefined : subset);
  }
  return builder.entries;
}

/** Validates manifest records one at a time (shared by the JSONL and CSV readers). */
class EntryBuilder {
  readonly entries: ManifestEntry[] = [];
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly baseDir: string,
    private readonly labels: readonly string[],
    private readonly source: string,
  ) {}

  fail(line: number, what: string): never {
    throw new ManifestError(`${this.source}:${line}: ${what}`);
  }

  add(line: number, path: unknown, label: unknown, subset: unknown): void {
    const labels = this.labels;
    if (typeof path !== 'string' || path === '')
      this.fail(line, '"path" must be a non-empty string');
    let index: number;
    if (typeof label === 'string') {
      index = labels.indexOf(label);
      if (index < 0) {
        this.fail(line, `label "${label}" is not one of the model's labels (${labels.join(', ')})`);
      }
    } else if (typeof label === 'number' && Number.isInteger(label)) {
      index = label;
      if (index < 0 || index >= labels.length) {
        this.fail(line, `label index ${label} is outside 0…${labels.length - 1}`);
      }
    } else {
      index = this.fail(line, '"label" must be a label name or an integer index');
    }
    if (subset !== undefined && subset !== null && typeof subset !== 'string') {
      this.fail(line, '"subset" must be a string when present');
    }
    const absolute = isAbsolute(path) ? path : resolve(this.baseDir, path);
    const previous = this.seen.get(absolute);
    if (previous !== undefined)
      this.fail(line, `"${path}" is listed again (first on line ${previous})`);
    this.seen.set(absolute, line);
    this.entries.push({
      line,
      relativePath: path,
      path: absolute,
      label: index,
      subset: typeof subset === 'string' ? subset : null,
    });
  }
}

/** File names a folder's manifest may have, in the order they are looked for. */
export const MANIFEST_FILE_NAMES = ['manifest.jsonl', 'manifest.csv'] as const;

/**
 * The manifest file a path names: the file itself, or for a folder its `manifest.jsonl` or
 * `manifest.csv`. Throws ManifestError naming what was looked for.
 */
export async function locateManifest(pathOrFolder: string): Promise<string> {
  const absolute = resolve(pathOrFolder);
  let info;
  try {
    info = await stat(absolute);
  } catch {
    throw new ManifestError(`no manifest at ${absolute}`);
  }
  if (!info.isDirectory()) return absolute;
  for (const name of MANIFEST_FILE_NAMES) {
    const candidate = join(absolute, name);
    try {
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  throw new ManifestError(
    `the folder ${absolute} has no ${MANIFEST_FILE_NAMES.join(' or ')} (a labelled clip list)`,
  );
}

/** Reads and parses a manifest (JSONL, or CSV by its `.csv` extension, or a folder holding one); clip paths resolve against its folder. */
export async function readManifest(
  manifestPath: string,
  labels: readonly string[],
): Promise<ManifestEntry[]> {
  const absolute = await locateManifest(manifestPath);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ManifestError(
      code === 'ENOENT'
        ? `no manifest at ${absolute}`
        : `cannot read ${absolute}: ${(error as Error).message}`,
    );
  }
  const parse = extname(absolute).toLowerCase() === '.csv' ? parseCsvManifest : parseManifest;
  return parse(
    text,
    dirname(absolute),
    labels,
    absolute === resolve(manifestPath) ? manifestPath : absolute,
  );
}
