// What a finished evaluation leaves in its run folder beside plan.json and records.jsonl:
// summary.json, the CSV tables (scores.csv, flips.csv, …) and report.html (the Evaluate panel,
// offline). One writer, so `mosear-lens eval`/`merge` and the Evaluate panel leave the same files.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchmarkSummary } from '../../protocol/evaluationSummary';
import { benchmarkCsvTables } from '../../shared/benchmarkCsv';
import { writeFileAtomic } from '../io/atomicWrite';

/** Writes summary.json, the CSV tables and `reportHtml` as report.html into `dir`. */
export async function writeRunSummary(
  dir: string,
  summary: BenchmarkSummary,
  reportHtml: string,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
  for (const [name, text] of Object.entries(benchmarkCsvTables(summary))) {
    await writeFileAtomic(join(dir, name), text);
  }
  await writeFileAtomic(join(dir, 'report.html'), reportHtml);
}
