// Labelled clip manifests (JSONL): one JSON object per line with `path` (relative to the
// manifest), `label` (a label name or index) and an optional `subset`. Other keys are ignored.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';

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
  const entries: ManifestEntry[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const fail = (what: string): never => {
      throw new ManifestError(`${source}:${line}: ${what}`);
    };
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      fail(`not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fail('expected a JSON object');
    }
    const record = value as Record<string, unknown>;
    const { path, label, subset } = record;
    if (typeof path !== 'string' || path === '') fail('"path" must be a non-empty string');
    const relativePath = path as string;
    let index: number;
    if (typeof label === 'string') {
      index = labels.indexOf(label);
      if (index < 0)
        fail(`label "${label}" is not one of the model's labels (${labels.join(', ')})`);
    } else if (typeof label === 'number' && Number.isInteger(label)) {
      index = label;
      if (index < 0 || index >= labels.length) {
        fail(`label index ${label} is outside 0…${labels.length - 1}`);
      }
    } else {
      index = fail('"label" must be a label name or an integer index');
    }
    if (subset !== undefined && subset !== null && typeof subset !== 'string') {
      fail('"subset" must be a string when present');
    }
    const absolute = isAbsolute(relativePath) ? relativePath : resolve(baseDir, relativePath);
    const previous = seen.get(absolute);
    if (previous !== undefined)
      fail(`"${relativePath}" is listed again (first on line ${previous})`);
    seen.set(absolute, line);
    entries.push({
      line,
      relativePath,
      path: absolute,
      label: index,
      subset: typeof subset === 'string' ? subset : null,
    });
  });
  return entries;
}

/** Reads and parses a JSONL manifest file; clip paths resolve against its folder. */
export async function readManifest(
  manifestPath: string,
  labels: readonly string[],
): Promise<ManifestEntry[]> {
  const absolute = resolve(manifestPath);
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
  return parseManifest(text, dirname(absolute), labels, manifestPath);
}
