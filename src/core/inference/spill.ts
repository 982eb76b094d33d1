// Large run answers go from the worker to the engine through a file in the worker's private temp
// folder instead of the IPC channel. Node's 'advanced' IPC gathers a message's chunks, joins them
// and copies every typed array out again: at 32 × 32 × ~1000 positions (17 MB of tensors) the
// receiving process rose ~50 MB and its thread was blocked ~65 ms. Here the engine reads each
// tensor straight from the file into its own array, and removes the file (docs/dev/perf-log.md).
import { closeSync, fstatSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as v from 'valibot';
import { issueError, parseOrThrow } from '../../protocol/issues';
import type { WorkerRunOutput } from '../../protocol/workerMessages';

/** The worker's threshold in bytes (tests set 0 to spill every answer); default 1 MiB. */
export const SPILL_BYTES_ENV = 'MOSEAR_WORKER_SPILL_BYTES';

const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

/** Where a spilled answer's tensors are: `length` float32 values at byte `offset` of `file`. */
const SpillSchema = v.object({
  file: v.string(),
  tensors: v.array(v.object({ run: count, name: v.string(), offset: count, length: count })),
});
export type Spill = v.InferOutput<typeof SpillSchema>;

/** The threshold the worker's environment sets. */
export function spillThreshold(env: NodeJS.ProcessEnv): number {
  const n = Number(env[SPILL_BYTES_ENV] ?? Number.NaN);
  return Number.isSafeInteger(n) && n >= 0 ? n : 1 << 20;
}

/**
 * Worker side: when the runs' tensors hold at least `threshold` bytes, writes them to
 * `dir/ran-<id>.bin`, empties them in `runs` and answers where each is. A write that fails leaves
 * `runs` as they were and answers undefined (the answer then goes inline).
 */
export function spillRuns(
  runs: WorkerRunOutput[],
  dir: string,
  id: number,
  threshold: number,
): Spill | undefined {
  const entries = runs.flatMap((run, i) =>
    Object.entries(run.outputs).map(([name, t]) => ({ i, name, t })),
  );
  const bytes = entries.reduce((n, e) => n + e.t.data.byteLength, 0);
  if (bytes === 0 || bytes < threshold) return undefined;
  const file = join(dir, `ran-${id}.bin`);
  const tensors: Spill['tensors'] = [];
  try {
    const fd = openSync(file, 'w');
    try {
      let offset = 0;
      for (const { i, name, t } of entries) {
        const view = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
        for (let done = 0; done < view.length;) done += writeSync(fd, view, done);
        tensors.push({ run: i, name, offset, length: t.data.length });
        offset += view.length;
      }
    } finally {
      closeSync(fd);
    }
  } catch {
    rmSync(file, { force: true });
    return undefined;
  }
  for (const { t } of entries) t.data = new Float32Array(0);
  return { file, tensors };
}

/** The spill a raw answer carries, if any (its file must be one `spillRuns` writes in `dir`). */
function spillOf(raw: unknown, dir: string): Spill | undefined {
  if (typeof raw !== 'object' || raw === null || !('spill' in raw)) return undefined;
  const spill = parseOrThrow(SpillSchema, raw.spill, (issue) => {
    const e = issueError(issue);
    return new Error(`spill${e.message.startsWith('[') ? '' : '.'}${e.message}`);
  });
  if (dirname(spill.file) !== dir || !/^ran-\d+\.bin$/.test(basename(spill.file))) {
    throw new Error(`spill.file: ${spill.file} is not a file of the worker's temp folder`);
  }
  return spill;
}

/**
 * Engine side: reads a spilled answer's tensors back from the file, each into its own buffer, and
 * removes the file; an answer without a spill is returned as it is. Throws, naming what is wrong,
 * for a spill that does not match its file or its answer (the caller treats that as malformed).
 */
export function unspill(raw: unknown, dir: string): unknown {
  const spill = spillOf(raw, dir);
  if (spill === undefined) return raw;
  const runs = (raw as { runs?: unknown }).runs;
  let fd: number | undefined;
  try {
    fd = openSync(spill.file, 'r');
    const size = fstatSync(fd).size;
    for (const t of spill.tensors) {
      const output: unknown = Array.isArray(runs)
        ? (runs[t.run] as { outputs?: Record<string, unknown> } | undefined)?.outputs?.[t.name]
        : undefined;
      if (typeof output !== 'object' || output === null) {
        throw new Error(`spill: the answer has no ${t.name} in run ${t.run}`);
      }
      if (t.offset + t.length * 4 > size) {
        throw new Error(`spill: ${t.name} of run ${t.run} lies outside its ${size}-byte file`);
      }
      // Each tensor owns its buffer, so posting it to a webview sends only its own bytes.
      const data = new Float32Array(t.length);
      const bytes = new Uint8Array(data.buffer);
      for (let done = 0; done < bytes.length;) {
        const n = readSync(fd, bytes, done, bytes.length - done, t.offset + done);
        if (n === 0) throw new Error(`spill: ${spill.file} ended early`);
        done += n;
      }
      (output as { data: unknown }).data = data;
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
    rmSync(spill.file, { force: true });
  }
  delete (raw as { spill?: unknown }).spill;
  return raw;
}

/** Removes the file of a spilled answer nobody waits for any more (its request was dropped). */
export function dropSpill(raw: unknown, dir: string): boolean {
  const spill = spillOf(raw, dir);
  if (spill !== undefined) rmSync(spill.file, { force: true });
  return spill !== undefined;
}
