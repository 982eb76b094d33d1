// Labelled clip manifests: JSONL (one JSON object per line with `path` relative to the manifest,
// `label` a label name or index, optional `subset`, `transcript`, `face_features` and
// `video_features`; other keys ignored) or CSV with a header row naming the `path`, `label` and
// optional `subset`, `transcript`, `face_features` and `video_features` columns. Paths (clips
// and `.npy` feature files) are relative to the manifest. A folder stands for the
// `manifest.jsonl` or `manifest.csv` inside it. Rows are parsed by the schemas of
// src/protocol/manifestRows.ts; a UTF-8 byte order mark at the start is accepted in both formats.
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import {
  manifestCsvRowSchema,
  manifestRowSchema,
  type ManifestRowSchema,
} from '../../protocol/manifestRows';
import { parseOrThrow } from '../../protocol/issues';

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
  /** What is said in the clip (a contract-1.1 transcript slot), or null when the line has none. */
  transcript: string | null;
  /**
   * Absolute paths of the row's FaceMAE / VideoMAE `.npy` files (CONTRACT.md §1b), when it names
   * them; a model without the inputs ignores them.
   */
  features?: { faceMae?: string; videoMae?: string };
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
  const builder = new EntryBuilder(baseDir, manifestRowSchema(labels), source);
  withoutBom(text)
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = i + 1;
      if (raw.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (error) {
        builder.fail(line, `not valid JSON (${(error as Error).message})`);
      }
      builder.add(line, value);
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

/**
 * Parses CSV manifest text with a header row (`path`, `label`, optional `subset` and
 * `transcript` columns).
 */
export function parseCsvManifest(
  text: string,
  baseDir: string,
  labels: readonly string[],
  source = 'manifest',
): ManifestEntry[] {
  const rows = parseCsvRows(withoutBom(text));
  const header = rows.shift();
  if (header === undefined) return [];
  const column = (name: string) => header.fields.findIndex((f) => f.trim().toLowerCase() === name);
  const [pathColumn, labelColumn, subsetColumn, transcriptColumn, faceColumn, videoColumn] = [
    'path',
    'label',
    'subset',
    'transcript',
    'face_features',
    'video_features',
  ].map(column);
  if (pathColumn === undefined || pathColumn < 0 || labelColumn === undefined || labelColumn < 0) {
    throw new ManifestError(
      `${source}:${header.line}: the header row needs "path" and "label" columns`,
    );
  }
  const builder = new EntryBuilder(baseDir, manifestCsvRowSchema(labels), source);
  for (const row of rows) {
    const cell = (c: number | undefined) => (c === undefined || c < 0 ? undefined : row.fields[c]);
    const cells = {
      path: cell(pathColumn),
      label: cell(labelColumn),
      subset: cell(subsetColumn),
      transcript: cell(transcriptColumn),
      face_features: cell(faceColumn),
      video_features: cell(videoColumn),
    };
    builder.add(
      row.line,
      Object.fromEntries(Object.entries(cells).filter(([, value]) => value !== undefined)),
    );
  }
  return builder.entries;
}

/** Text without a leading UTF-8 byte order mark (as some editors and Excel write it). */
function withoutBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** Parses manifest rows one at a time into entries (shared by the JSONL and CSV readers). */
class EntryBuilder {
  readonly entries: ManifestEntry[] = [];
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly baseDir: string,
    private readonly schema: ManifestRowSchema,
    private readonly source: string,
  ) {}

  fail(line: number, what: string): never {
    throw new ManifestError(`${this.source}:${line}: ${what}`);
  }

  add(line: number, value: unknown): void {
    const row = parseOrThrow(
      this.schema,
      value,
      (issue) => new ManifestError(`${this.source}:${line}: ${issue.message}`),
    );
    const at = (p: string) => (isAbsolute(p) ? p : resolve(this.baseDir, p));
    const absolute = at(row.path);
    const previous = this.seen.get(absolute);
    if (previous !== undefined)
      this.fail(line, `"${row.path}" is listed again (first on line ${previous})`);
    this.seen.set(absolute, line);
    this.entries.push({
      line,
      relativePath: row.path,
      path: absolute,
      label: row.label,
      subset: row.subset,
      transcript: row.transcript,
      ...(row.face_features === null && row.video_features === null
        ? {}
        : {
            features: {
              ...(row.face_features === null ? {} : { faceMae: at(row.face_features) }),
              ...(row.video_features === null ? {} : { videoMae: at(row.video_features) }),
            },
          }),
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
