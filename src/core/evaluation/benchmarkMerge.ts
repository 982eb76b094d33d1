// `merge`: joins the run directories of the n shards of one evaluation (a Slurm array or a
// Kubernetes indexed job) into one run directory equal to a single-machine run: the same plan
// with shard 1/1 and every record, sorted. Refuses shards of different evaluations, missing or
// repeated shards, and unfinished clips (naming them; a transient failure is unfinished), so a
// merged result is never partial.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite';
import {
  BenchmarkError,
  FinishedClips,
  planKey,
  settleRecords,
  shardClips,
  sortRecords,
  type BenchmarkPlan,
  type ClipRecord,
} from './benchmarkRecords';
import { PLAN_FILE, RECORDS_FILE, readRunDirectory } from './benchmarkRun';

/** Merged shards. */
export interface MergedRun {
  plan: BenchmarkPlan;
  records: ClipRecord[];
}

/** Reads and joins shard directories; throws BenchmarkError on anything inconsistent. */
export async function mergeRunDirectories(dirs: readonly string[]): Promise<MergedRun> {
  if (dirs.length === 0) throw new BenchmarkError('merge needs the shard folders');
  const shards = [];
  for (const dir of dirs) {
    const run = await readRunDirectory(resolve(dir));
    if (run.plan === null) throw new BenchmarkError(`${dir} has no ${PLAN_FILE}: not a run folder`);
    shards.push({ dir, plan: run.plan, records: run.records });
  }
  const first = shards[0] as (typeof shards)[number];
  const key = planKey(first.plan);
  const count = first.plan.shard.count;
  const seen = new Map<number, string>();
  for (const s of shards) {
    if (planKey(s.plan) !== key) {
      throw new BenchmarkError(`${s.dir} is a different evaluation from ${first.dir}`);
    }
    if (s.plan.shard.count !== count) {
      throw new BenchmarkError(
        `${s.dir} is shard ${s.plan.shard.index}/${s.plan.shard.count}, ${first.dir} is one of ${count}`,
      );
    }
    const other = seen.get(s.plan.shard.index);
    if (other !== undefined) {
      throw new BenchmarkError(
        `${s.dir} and ${other} are both shard ${s.plan.shard.index}/${count}`,
      );
    }
    seen.set(s.plan.shard.index, s.dir);
  }
  const missingShards = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missingShards.length > 0) {
    throw new BenchmarkError(
      `shard(s) ${missingShards.map((i) => `${i}/${count}`).join(', ')} missing`,
    );
  }

  const names = first.plan.checkpoints.map((c) => c.name);
  const unfinished: string[] = [];
  const records: ClipRecord[] = [];
  for (const s of shards) {
    const done = new FinishedClips(s.records);
    for (const clip of shardClips(first.plan.manifest.clips, s.plan.shard)) {
      if (!done.clipDone(clip, names)) {
        unfinished.push(`clip ${clip} (shard ${s.plan.shard.index}/${count})`);
      }
    }
    records.push(...s.records);
  }
  if (unfinished.length > 0) {
    const shown = unfinished.slice(0, 10).join(', ');
    throw new BenchmarkError(
      `${unfinished.length} clip(s) are not finished: ${shown}${unfinished.length > 10 ? ', …' : ''}` +
        ' — re-run those shards (they resume) before merging',
    );
  }
  return {
    plan: { ...first.plan, shard: { index: 1, count: 1 } },
    records: sortRecords(settleRecords(records), names),
  };
}

/** Writes a merged run as a run directory (plan.json, records.jsonl). */
export async function writeRunDirectory(dir: string, run: MergedRun): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Records first: a merge stopped before the plan leaves no run there, so it can simply run again.
  await writeFileAtomic(
    join(dir, RECORDS_FILE),
    run.records.map((r) => `${JSON.stringify(r)}\n`).join(''),
  );
  await writeFileAtomic(join(dir, PLAN_FILE), `${JSON.stringify(run.plan, null, 1)}\n`);
}
