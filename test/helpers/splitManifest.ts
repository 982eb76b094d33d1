// A small manifest over the committed CA-MER-synth test split, for the evaluation tests.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './golden';

/** The committed test split (clips and manifest.jsonl). */
export const TEST_SPLIT = join(REPO_ROOT, 'models', 'data', 'ca-mer-synth', 'test');

/**
 * Writes `dir`/manifest.jsonl with `perSubset` clips of each subset, after the first `skip` of
 * each (so two manifests can hold different clips), paths relative to `dir`.
 */
export function writeSplitManifest(dir: string, perSubset: number, skip = 0): string {
  const lines = readFileSync(join(TEST_SPLIT, 'manifest.jsonl'), 'utf8').trim().split('\n');
  const bySubset = new Map<string, string[]>();
  const seenBySubset = new Map<string, number>();
  for (const line of lines) {
    const row = JSON.parse(line) as { subset: string; path: string };
    const seen = (seenBySubset.get(row.subset) ?? 0) + 1;
    seenBySubset.set(row.subset, seen);
    const list = bySubset.get(row.subset) ?? [];
    if (seen > skip && list.length < perSubset) {
      list.push(JSON.stringify({ ...row, path: relative(dir, join(TEST_SPLIT, row.path)) }));
    }
    bySubset.set(row.subset, list);
  }
  const file = join(dir, 'manifest.jsonl');
  writeFileSync(file, [...bySubset.values()].flat().join('\n') + '\n');
  return file;
}
