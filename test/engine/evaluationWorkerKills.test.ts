// Worker crashes during an evaluation never lose a clip: a seeded schedule SIGKILLs inference
// worker processes (by the pids the runner reports) during a run on 21 clips of the test split;
// crashes are retried within the run, clips that still fail are recorded as transient and
// retried by a resume, and once no transient record remains the summary and scores.csv equal an
// uninterrupted run's. A further test: an atomic write killed midway leaves a whole file.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  BASELINE_MODEL,
  MODEL,
  WORKER_SCRIPT,
  requireEngineFiles,
} from '../helpers/engineFixtures';
import { seeded } from '../helpers/seededRandom';
import { writeSplitManifest } from '../helpers/splitManifest';
import { scratchDir } from '../helpers/tempFiles';
import { isTransient } from '../../src/core/evaluation/benchmarkRecords';
import {
  readRunDirectory,
  runBenchmark,
  type BenchmarkOptions,
} from '../../src/core/evaluation/benchmarkRun';
import { summarizeBenchmark } from '../../src/core/evaluation/benchmarkSummary';
import type { CachedTensors } from '../../src/core/evaluation/decodeCache';
import { SystemFfmpegDecoder } from '../../src/core/decode/systemFfmpegDecoder';
import type { WorkerEvent } from '../../src/core/inference/workerClient';
import { benchmarkCsvTables } from '../../src/shared/benchmarkCsv';

/**
 * Kills a started worker with probability `rate`, 0–40 ms after it reported ready (while it
 * opens its session or runs the clip's request, which then fails as WORKER_CRASHED).
 */
class WorkerKiller {
  kills = 0;
  private readonly alive = new Set<number>();

  constructor(private readonly random: () => number) {}

  onEvent(rate: number): (event: WorkerEvent) => void {
    return (event) => {
      if (event.kind === 'exit') this.alive.delete(event.pid);
      if (event.kind !== 'start') return;
      this.alive.add(event.pid);
      const kill = this.random() < rate;
      const delayMs = Math.floor(this.random() * 40);
      if (!kill) return;
      setTimeout(() => {
        if (!this.alive.has(event.pid)) return;
        process.kill(event.pid, 'SIGKILL');
        this.kills++;
      }, delayMs);
    };
  }
}

describe('worker kills during an evaluation', () => {
  const dir = scratchDir('eval-kills');
  let options: BenchmarkOptions;

  before(() => {
    requireEngineFiles();
    options = {
      manifest: writeSplitManifest(dir, 7),
      models: [BASELINE_MODEL, MODEL],
      jobs: 2,
      workerScript: WORKER_SCRIPT,
      decoder: new SystemFfmpegDecoder({}),
      // Every run decodes each clip once.
      tensorMemory: new Map<string, CachedTensors | Error>(),
    };
  });

  test('a seeded run with random worker kills, resumed until no transient record remains, scores like an uninterrupted run', async () => {
    const whole = await runBenchmark({ ...options, outDir: join(dir, 'whole') });
    const expected = summarizeBenchmark(whole.plan, whole.entries, whole.records, 21);
    assert.equal(expected.failed.length, 0);

    const out = join(dir, 'killed');
    const killer = new WorkerKiller(seeded(13));
    let transientSeen = 0;
    let passes = 0;
    for (; passes < 8; passes++) {
      // A hostile first pass, then gentler resumes (still with kills) so the loop ends.
      const outcome = await runBenchmark({
        ...options,
        outDir: out,
        onWorkerEvent: killer.onEvent(passes === 0 ? 0.7 : 0.3),
      });
      assert.equal(outcome.cancelled, false);
      const left = outcome.records.filter(isTransient);
      transientSeen += left.length;
      for (const r of left) assert.match(r.ok ? 'ok' : r.error.code, /^(WORKER_CRASHED|TIMEOUT)$/);
      if (left.length === 0) break;
    }
    assert.ok(passes < 8, 'transient records remain after 8 passes');
    assert.ok(killer.kills >= 10, `only ${killer.kills} kills landed`);
    assert.ok(transientSeen > 0, 'no clip failed three times: the resume was never exercised');

    // The run folder as a later `eval` or `merge` reads it: every clip finished, scores equal.
    const { plan, records } = await readRunDirectory(out);
    assert.ok(plan !== null);
    const summary = summarizeBenchmark(plan, whole.entries, records, 21);
    assert.deepEqual(JSON.parse(JSON.stringify(summary)), JSON.parse(JSON.stringify(expected)));
    assert.equal(
      benchmarkCsvTables(summary)['scores.csv'],
      benchmarkCsvTables(expected)['scores.csv'],
    );
    const resumed = await runBenchmark({ ...options, outDir: out });
    assert.equal(resumed.progress.resumed, 21, 'a further run finds nothing to do');
  });
});
