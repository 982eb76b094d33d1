// What a benchmark evaluation writes to disk: its plan (`plan.json`: manifest, checkpoints,
// settings, shard) and one JSON line per (clip, checkpoint) in `records.jsonl`, appended as each
// is produced so a cancelled or crashed run keeps its work and a re-run resumes. Pure types and
// parsing; the runner and `merge` do the I/O.
import type { LayerUap } from '../../protocol/analysisResult';
import type { EvaluationSetting } from './evaluationSettings';
import type { LayerTokenAttention } from '../../protocol/evaluationSummary';

/** The schema of plan.json and of every record line. */
export const BENCHMARK_SCHEMA = 'mosear-lens-eval/1';

/** Which clips of the manifest a run covers: clip i belongs to shard (i mod count) + 1. */
export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** One checkpoint of a plan. */
export interface PlannedCheckpoint {
  /** Absolute path when planned. */
  path: string;
  fileName: string;
  /** `mosear.checkpoint.name`: the key of its records. */
  name: string;
  /** sha256 of the file: a changed checkpoint does not resume or merge with old records. */
  sha256: string;
  settings: EvaluationSetting[];
}

/** Everything that decides a run's numbers (timings and machine excluded). */
export interface BenchmarkPlan {
  schema: typeof BENCHMARK_SCHEMA;
  manifest: { path: string; sha256: string; clips: number };
  labels: string[];
  decodeSpec: string;
  executionProvider: string;
  intraOpThreads: number;
  checkpoints: PlannedCheckpoint[];
  shard: Shard;
}

/** A clip evaluated with one checkpoint in every setting of the plan. */
export interface ClipOkRecord {
  schema: typeof BENCHMARK_SCHEMA;
  /** Index of the clip in the manifest (0-based). */
  clip: number;
  path: string;
  checkpoint: string;
  ok: true;
  /** Per setting (plan order): the predicted label index. */
  predictions: number[];
  /** Per setting: softmax probabilities. */
  probabilities: number[][];
  /** Per setting: heads with `ar_flags` = 1. */
  flaggedHeads: number[];
  /** The clip has no audio stream and the model (audio optional) was fed silence. */
  silenceUsed: boolean;
  /** The `off` run's UAP per layer and per-token attention summary. */
  uap: LayerUap[];
  tokenAttention: LayerTokenAttention[];
}

/** A clip that could not be evaluated (decode failure, missing file, model error). */
export interface ClipErrorRecord {
  schema: typeof BENCHMARK_SCHEMA;
  clip: number;
  path: string;
  /** The checkpoint that failed, or null when the clip itself could not be read. */
  checkpoint: string | null;
  ok: false;
  error: { code: string; message: string };
}

/** One line of records.jsonl. */
export type ClipRecord = ClipOkRecord | ClipErrorRecord;

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
 * truncate before appending). Any other unreadable line is an error.
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
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new BenchmarkError(`${source}:${i + 1}: not valid JSON`);
    }
    const r = value as Partial<ClipRecord>;
    if (
      typeof value !== 'object' ||
      value === null ||
      r.schema !== BENCHMARK_SCHEMA ||
      typeof r.clip !== 'number' ||
      typeof r.ok !== 'boolean'
    ) {
      throw new BenchmarkError(`${source}:${i + 1}: not a ${BENCHMARK_SCHEMA} record`);
    }
    records.push(value as ClipRecord);
  });
  return { records, validBytes: utf8Length(text.slice(0, end)) };
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

/** What a record list has finished: (clip, checkpoint) pairs, and clips unreadable as a whole. */
export class FinishedClips {
  private readonly keys = new Set<string>();

  constructor(records: readonly ClipRecord[]) {
    for (const r of records) this.keys.add(`${r.clip}|${r.checkpoint ?? '*'}`);
  }

  /** The clip has a record for this checkpoint. */
  has(clip: number, checkpoint: string): boolean {
    return this.keys.has(`${clip}|${checkpoint}`);
  }

  /** Nothing is left to do for the clip: it failed as a whole, or every checkpoint has a record. */
  clipDone(clip: number, checkpoints: readonly string[]): boolean {
    return this.keys.has(`${clip}|*`) || checkpoints.every((c) => this.has(clip, c));
  }
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
