// What a benchmark evaluation writes to disk: its plan (`plan.json`: manifest, checkpoints,
// settings, shard) and one JSON line per (clip, checkpoint) in `records.jsonl`, appended as each
// is produced so a cancelled or crashed run keeps its work and a re-run resumes. The shapes are
// src/protocol/runFolder.ts; here they are parsed, and a record list is read as a run's state:
// which clips are finished (a transient failure never is) and which record of a clip counts.
import * as v from 'valibot';
import {
  BENCHMARK_SCHEMA,
  BenchmarkPlanSchema,
  ClipRecordSchema,
  type BenchmarkPlan,
  type ClipRecord,
  type Shard,
} from '../../protocol/runFolder';
import { issuePath, parseOrThrow } from '../../protocol/issues';

export {
  BENCHMARK_SCHEMA,
  type BenchmarkPlan,
  type ClipErrorRecord,
  type ClipOkRecord,
  type ClipRecord,
  type PlannedCheckpoint,
  type Shard,
} from '../../protocol/runFolder';

/**
 * Error codes of failures that are not the clip's: the worker crashed or ran past its time limit,
 * the request was cancelled or shut down, the decoder's process timed out or is missing. Their
 * records are transient: retried by a re-run, never counted as finished. (Records written before
 * the `transient` flag existed are read by these codes.)
 */
export const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'WORKER_CRASHED',
  'TIMEOUT',
  'CANCELLED',
  'DISPOSED',
  'QUEUE_FULL',
  'FFMPEG_NOT_FOUND',
  'DECODER_MISSING',
]);

/** Codes a run retries at once (at most MAX_RETRIES times) before recording them as transient. */
export const RETRIED_ERROR_CODES: ReadonlySet<string> = new Set(['WORKER_CRASHED', 'TIMEOUT']);

/** Retries of a crashed or timed-out clip within one run. */
export const MAX_RETRIES = 2;

/** Whether a record is a transient failure (to retry), as opposed to a result or a final failure. */
export function isTransient(record: ClipRecord): boolean {
  return !record.ok && (record.transient === true || TRANSIENT_ERROR_CODES.has(record.error.code));
}

/** A run directory that does not hold what it should. */
export class BenchmarkError extends Error {
  override readonly name = 'BenchmarkError';
}

/** The clip indices a shard covers, out of `clips`. */
export function shardClips(clips: number, shard: Shard): number[] {
  const out: number[] = [];
  for (let i = shard.index - 1; i < clips; i += shard.count) out.push(i);
  return out;
}

/** Parses `k/n` (1 ≤ k ≤ n). */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count || count > 100_000) {
    throw new BenchmarkError(`--shard must be k/n with 1 ≤ k ≤ n, got "${text}"`);
  }
  return { index, count };
}

/**
 * Reads records.jsonl text. A last line without its newline is a write cut short by a crash or
 * a kill: it is dropped (and `validBytes` says where the intact part ends, so the runner can
 * truncate before appending). Any other unreadable line is an error naming the line and field.
 */
export function parseRecords(
  text: string,
  source = 'records.jsonl',
): { records: ClipRecord[]; validBytes: number } {
  const records: ClipRecord[] = [];
  const end = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, end).split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new BenchmarkError(`${where}: not valid JSON`);
    }
    if ((value as { schema?: unknown } | null)?.schema !== BENCHMARK_SCHEMA) {
      throw new BenchmarkError(`${where}: not a ${BENCHMARK_SCHEMA} record`);
    }
    records.push(
      parseOrThrow(
        ClipRecordSchema,
        value,
        (issue) =>
          new BenchmarkError(
            `${where}: not a ${BENCHMARK_SCHEMA} record (${issuePath(issue, 'record')}: ${issue.message})`,
          ),
      ),
    );
  });
  return { records, validBytes: utf8Length(text.slice(0, end)) };
}

/**
 * Parses plan.json text (`source` names the file). A torn or invalid plan makes the run folder
 * unusable, so the message says what to do.
 */
export function parsePlan(text: string, source: string, dir: string): BenchmarkPlan {
  const damaged = (why: string) =>
    new BenchmarkError(
      `${source} is damaged (${why}): delete the run folder ${dir} or choose another --out ` +
        'folder to start over',
    );
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw damaged(`not valid JSON: ${(error as Error).message}`);
  }
  if ((value as { schema?: unknown } | null)?.schema !== BENCHMARK_SCHEMA) {
    throw new BenchmarkError(
      `${source} is not a ${BENCHMARK_SCHEMA} plan: delete the run folder ${dir} or choose ` +
        'another --out folder',
    );
  }
  return parseOrThrow(BenchmarkPlanSchema, value, (issue) =>
    damaged(`${issuePath(issue, 'plan')}: ${issue.message}`),
  );
}

/** A plan built in memory, normalised as plan.json reads back (so plans compare by planKey). */
export function normalisePlan(plan: BenchmarkPlan): BenchmarkPlan {
  return v.parse(BenchmarkPlanSchema, JSON.parse(JSON.stringify(plan)));
}

/**
 * Bytes of a string in UTF-8 (lone surrogates count as U+FFFD, as TextEncoder writes them). Not
 * TextEncoder: the summary's types reach the protocol and webview configs, which have no such global.
 */
function utf8Length(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** A plan without its shard, as JSON: two shards of one evaluation have equal keys. */
export function planKey(plan: BenchmarkPlan): string {
  return JSON.stringify({ ...plan, shard: null });
}

/**
 * What a record list has finished: (clip, checkpoint) pairs with a result or a final failure,
 * and clips unreadable as a whole. Transient failures finish nothing.
 */
export class FinishedClips {
  private readonly keys = new Set<string>();

  constructor(records: readonly ClipRecord[]) {
    for (const r of records) if (!isTransient(r)) this.keys.add(`${r.clip}|${r.checkpoint ?? '*'}`);
  }

  /** The clip has a finished record for this checkpoint. */
  has(clip: number, checkpoint: string): boolean {
    return this.keys.has(`${clip}|${checkpoint}`);
  }

  /** Nothing is left to do for the clip: it failed as a whole, or every checkpoint has a record. */
  clipDone(clip: number, checkpoints: readonly string[]): boolean {
    return this.keys.has(`${clip}|*`) || checkpoints.every((c) => this.has(clip, c));
  }
}

/**
 * The records that count, in their order: a transient failure is dropped once a later record
 * covers the same clip and checkpoint (or the whole clip), or any final record does. A run that
 * is resumed until no transient record remains thus reads like one that was never interrupted.
 */
export function settleRecords(records: readonly ClipRecord[]): ClipRecord[] {
  const overlaps = (a: ClipRecord, b: ClipRecord) =>
    a.checkpoint === null || b.checkpoint === null || a.checkpoint === b.checkpoint;
  const byClip = new Map<number, { record: ClipRecord; at: number }[]>();
  records.forEach((record, at) => {
    const list = byClip.get(record.clip) ?? [];
    list.push({ record, at });
    byClip.set(record.clip, list);
  });
  return records.filter(
    (r, at) =>
      !isTransient(r) ||
      !(byClip.get(r.clip) ?? []).some(
        (o) => o.at !== at && overlaps(r, o.record) && (o.at > at || !isTransient(o.record)),
      ),
  );
}

/** Record order: by clip, then checkpoint plan order (a clip's own error record first). */
export function sortRecords(
  records: ClipRecord[],
  checkpointNames: readonly string[],
): ClipRecord[] {
  const rank = new Map(checkpointNames.map((n, i) => [n, i]));
  const rankOf = (r: ClipRecord) => (r.checkpoint === null ? -1 : (rank.get(r.checkpoint) ?? 0));
  return records.sort((a, b) => a.clip - b.clip || rankOf(a) - rankOf(b));
}
