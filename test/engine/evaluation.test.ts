// `mosear-lens eval` / `merge` end to end on 30 clips of the committed test split: three shards
// merged equal the unsharded run, a run killed midway (SIGKILL, a line cut short) and resumed
// equals an uninterrupted one, a cancelled in-process run resumes, bad manifest entries are
// reported without stopping the run, CSV manifests and folders work, and sweeps add settings.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { before, describe, test } from 'node:test';
import { runCli } from '../helpers/cliRun';
import {
  BASELINE_MODEL,
  CLI_SCRIPT,
  MODEL,
  WORKER_SCRIPT,
  requireEngineFiles,
} from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { TEST_SPLIT, writeSplitManifest } from '../helpers/splitManifest';
import { scratchDir } from '../helpers/tempFiles';
import { makeAudioOnly, makeGarbage, makeTruncated } from '../fixtures/decodeClips';
import { sortRecords } from '../../src/core/evaluation/benchmarkRecords';
import {
  readRunDirectory,
  BenchmarkLanes,
  runBenchmark,
  type RunMemory,
} from '../../src/core/evaluation/benchmarkRun';
import { summarizeBenchmark } from '../../src/core/evaluation/benchmarkSummary';
import { SystemFfmpegDecoder } from '../../src/core/decode/systemFfmpegDecoder';
import { DecodeCache, systemDecoderIdentity } from '../../src/core/evaluation/decodeCache';
import type { BenchmarkSummary } from '../../src/protocol/evaluationSummary';

const SPLIT = TEST_SPLIT;

function summaryOf(dir: string): BenchmarkSummary {
  return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as BenchmarkSummary;
}

/** Records of a run folder as comparable JSON, in (clip, checkpoint) order. */
async function recordsOf(dir: string): Promise<string[]> {
  const { records } = await readRunDirectory(dir);
  return sortRecords(records, ['emotion-llama-tiny', 'mosear-tiny']).map((r) => JSON.stringify(r));
}

/**
 * A decoder with the CLI's decode cache (.tmp/decode-cache, filled by the first eval below): the
 * in-process runs test cancelling and run memory, not decoding (the killed run decodes afresh).
 */
async function cachedDecoder(): Promise<{
  decoder: SystemFfmpegDecoder;
  decodeCache: DecodeCache;
}> {
  const decoder = new SystemFfmpegDecoder({});
  const dir = join(REPO_ROOT, '.tmp', 'decode-cache');
  return { decoder, decodeCache: new DecodeCache(dir, await systemDecoderIdentity(decoder)) };
}

async function evalOk(args: string[]): Promise<void> {
  const run = await runCli(['eval', ...args, '--quiet']);
  assert.equal(run.code, 0, run.stderr);
}

describe('mosear-lens eval', () => {
  const dir = scratchDir('eval');
  let manifest = '';
  const whole = join(dir, 'whole');

  before(async () => {
    requireEngineFiles();
    manifest = writeSplitManifest(dir, 10);
    await evalOk([manifest, '--out', whole, '--jobs', '2']);
  });

  test('the unsharded run covers every clip with both checkpoints and the three settings', () => {
    const summary = summaryOf(whole);
    assert.equal(summary.clips, 30);
    assert.deepEqual(summary.subsets, ['consistent', 'audio-aligned', 'video-aligned']);
    assert.deepEqual(
      summary.checkpoints.map((c) => [c.name, c.evaluated, c.settings.map((s) => s.id)]),
      [
        ['emotion-llama-tiny', 30, ['off', 'ar', 'pai']],
        ['mosear-tiny', 30, ['off', 'ar', 'pai']],
      ],
    );
    for (const c of summary.checkpoints) {
      const off = c.settings[0]!;
      assert.equal(off.overall.count, 30);
      assert.equal(
        off.confusion.flat().reduce((a, b) => a + b, 0),
        30,
      );
      assert.ok(c.byAnswer !== null, 'CA-MER subsets give the wrong-vs-right UAP split');
    }
    for (const file of ['scores.csv', 'flips.csv', 'failed.csv', 'uap-by-answer.csv']) {
      assert.ok(existsSync(join(whole, file)), file);
    }
    // The Evaluate panel's offline report, with the summary embedded.
    const report = readFileSync(join(whole, 'report.html'), 'utf8');
    assert.match(report, /Content-Security-Policy/);
    assert.ok(report.includes('"mosear-lens-eval-summary/1"'));
  });

  test('three shards merged equal the unsharded run', async () => {
    const shards = [1, 2, 3].map((k) => join(dir, `shard-${k}`));
    await Promise.all(
      shards.map((out, k) => evalOk([manifest, '--shard', `${k + 1}/3`, '--out', out])),
    );
    for (const [k, out] of shards.entries()) {
      assert.equal(summaryOf(out).checkpoints[0]!.evaluated, 10, `shard ${k + 1}`);
    }
    const merged = join(dir, 'merged');
    const run = await runCli(['merge', ...shards.reverse(), '--out', merged, '--quiet']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(summaryOf(merged), summaryOf(whole));
    assert.deepEqual(await recordsOf(merged), await recordsOf(whole));

    const incomplete = await runCli(['merge', shards[0]!, shards[1]!, '--out', join(dir, 'm2')]);
    assert.equal(incomplete.code, 2);
    assert.match(incomplete.stderr, /shard\(s\) .*missing/);
  });

  test('a run killed midway (SIGKILL) and resumed equals an uninterrupted run', async () => {
    const out = join(dir, 'killed');
    // --no-cache decodes every clip, so the run is slow enough to be killed part way.
    const child = spawn(
      process.execPath,
      [CLI_SCRIPT, 'eval', manifest, '--out', out, '--no-cache', '--quiet'],
      {
        stdio: 'ignore',
      },
    );
    const records = join(out, 'records.jsonl');
    const lines = () =>
      existsSync(records) ? readFileSync(records, 'utf8').split('\n').length - 1 : 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (lines() >= 6) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 20);
      child.once('exit', () => {
        clearInterval(timer);
        reject(new Error('the run finished before it could be killed'));
      });
    });
    await new Promise((r) => child.once('exit', r));
    const kept = lines();
    assert.ok(kept >= 6 && kept < 60, `kept ${kept} records`);
    // A crash can leave a line cut short: the resume drops it.
    appendFileSync(records, '{"schema":"mosear-lens-eval/1","clip":29,"pa');
    await evalOk([manifest, '--out', out]);
    assert.deepEqual(summaryOf(out), summaryOf(whole));
    assert.deepEqual(await recordsOf(out), await recordsOf(whole));
  });

  test('a cancelled in-process run keeps its records and resumes to the same result', async () => {
    const out = join(dir, 'cancelled');
    const controller = new AbortController();
    let seen = 0;
    const options = {
      manifest,
      models: [BASELINE_MODEL, MODEL],
      outDir: out,
      workerScript: WORKER_SCRIPT,
      ...(await cachedDecoder()),
    };
    const first = await runBenchmark({
      ...options,
      signal: controller.signal,
      onRecord: () => {
        if (++seen === 8) controller.abort();
      },
    });
    assert.equal(first.cancelled, true);
    assert.ok(first.progress.done < 30);
    const second = await runBenchmark(options);
    assert.equal(second.cancelled, false);
    assert.ok(second.progress.resumed >= 4, `resumed ${second.progress.resumed}`);
    const summary = summarizeBenchmark(second.plan, second.entries, second.records, 30);
    assert.deepEqual(JSON.parse(JSON.stringify(summary)), summaryOf(whole));
  });

  test('missing, corrupt and non-video entries are reported and never stop the run', async () => {
    const bad = join(dir, 'bad');
    const clips = join(bad, 'clips');
    mkdirSync(clips, { recursive: true });
    const first = readFileSync(join(SPLIT, 'manifest.jsonl'), 'utf8').split('\n')[0]!;
    const goodName = (JSON.parse(first) as { path: string }).path;
    copyFileSync(join(SPLIT, goodName), join(bad, 'good.mp4'));
    const { headerLast } = makeTruncated(clips);
    const { random } = makeGarbage(clips);
    const audioOnly = makeAudioOnly(clips);
    writeFileSync(join(bad, 'notes.mp4'), 'this is not a video\n');
    const rows = [
      ['good.mp4', 'neutral', 'consistent'],
      ['missing.mp4', 'sad', 'video-aligned'],
      [relative(bad, headerLast), 'happy', 'consistent'],
      [relative(bad, random), 'angry', 'audio-aligned'],
      [relative(bad, audioOnly), 'sad', 'audio-aligned'],
      ['notes.mp4', 'worried', 'video-aligned'],
    ];
    // A CSV manifest with a quoted field, found through its folder.
    writeFileSync(
      join(bad, 'manifest.csv'),
      ['path,label,subset', ...rows.map(([p, l, s]) => `"${p}",${l},${s}`)].join('\r\n') + '\r\n',
    );
    const out = join(dir, 'bad-out');
    const run = await runCli(['eval', bad, '--out', out, '--model', MODEL]);
    assert.equal(run.code, 0, run.stderr);
    const summary = summaryOf(out);
    assert.equal(summary.checkpoints[0]!.evaluated, 1);
    assert.deepEqual(
      summary.failed.map((f) => f.path).sort(),
      rows
        .slice(1)
        .map(([p]) => p)
        .sort(),
    );
    const byPath = new Map(summary.failed.map((f) => [f.path, f]));
    assert.equal(byPath.get('missing.mp4')?.code, 'FILE_NOT_FOUND');
    assert.equal(byPath.get(relative(bad, audioOnly))?.code, 'NO_VIDEO');
    assert.match(run.stdout, /5 clip\(s\) could not be evaluated/);
    assert.match(readFileSync(join(out, 'failed.csv'), 'utf8'), /missing\.mp4/);
  });

  test('a run memory and kept lanes: a later sweep step runs only its new point on the same workers, with the records of a fresh run', async () => {
    const runs: RunMemory = new Map();
    let starts = 0;
    const lanes = new BenchmarkLanes({
      workerScript: WORKER_SCRIPT,
      onEvent: (e) => {
        if (e.kind === 'start') starts++;
      },
    });
    const options = {
      manifest,
      models: [BASELINE_MODEL, MODEL],
      workerScript: WORKER_SCRIPT,
      ...(await cachedDecoder()),
      runMemory: runs,
    };
    const standard = await runBenchmark({ ...options, lanes });
    assert.equal(runs.size, 30 * 2 * 3); // clips × checkpoints × (off, AR, PAI-style)
    // Key order aside (a record read back lists its fields in the schema's order).
    assert.deepEqual(
      sortRecords(standard.records, ['emotion-llama-tiny', 'mosear-tiny']).map(
        (r) => JSON.parse(JSON.stringify(r)) as unknown,
      ),
      (await recordsOf(whole)).map((line) => JSON.parse(line) as unknown),
    );
    const sweeps = [{ parameter: 'tau' as const, values: [0.05] }];
    const step = await runBenchmark({ ...options, sweeps, lanes });
    assert.equal(runs.size, 30 * 2 * 4, 'one new session run per clip and checkpoint');
    assert.equal(starts, 2, 'one worker process per checkpoint, kept across the two runs');
    await lanes.dispose();
    const fresh = await runBenchmark({ ...options, sweeps, runMemory: new Map() });
    assert.deepEqual(
      sortRecords(step.records, ['emotion-llama-tiny', 'mosear-tiny']),
      sortRecords(fresh.records, ['emotion-llama-tiny', 'mosear-tiny']),
    );
  });

  test('sweeps add one AR setting per point; τ=∞-like values flag nothing', async () => {
    const out = join(dir, 'sweep');
    await evalOk([
      manifest,
      '--out',
      out,
      '--model',
      MODEL,
      '--sweep',
      'tau=0,1000',
      '--sweep',
      'alpha=0:1:0.5',
    ]);
    const c = summaryOf(out).checkpoints[0]!;
    assert.deepEqual(
      c.settings.map((s) => s.id),
      [
        'off',
        'ar',
        'pai',
        'ar tau=0 alpha=0',
        'ar tau=0 alpha=0.5',
        'ar tau=0 alpha=1',
        'ar tau=1000 alpha=0',
        'ar tau=1000 alpha=0.5',
        'ar tau=1000 alpha=1',
      ],
    );
    const byId = new Map(c.settings.map((s) => [s.id, s]));
    assert.equal(byId.get('ar tau=1000 alpha=1')?.meanFlaggedHeads, 0);
    assert.ok((byId.get('ar tau=0 alpha=1')?.meanFlaggedHeads ?? 0) > 0);
    // α = 0 is bit-identical to off: no answer changes.
    assert.equal(byId.get('ar tau=0 alpha=0')?.flips.length, 0);
  });

  test('settings that cannot change the model are warned of before the run and in its summary', async () => {
    // mosear-tiny's stored defaults hold α 0: its AR and every τ point of a sweep equal off.
    const small = join(dir, 'no-effect');
    mkdirSync(small, { recursive: true });
    const clips = writeSplitManifest(small, 1);
    const out = join(small, 'out');
    const run = await runCli([
      'eval',
      clips,
      '--model',
      MODEL,
      '--sweep',
      'tau=0,0.5',
      '--out',
      out,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const warning =
      'warning: mosear-tiny: 3 of 5 settings cannot change the model (α = 0): AR, AR tau=0, AR tau=0.5';
    const before = run.stderr.indexOf(warning);
    assert.ok(before >= 0, run.stderr);
    assert.ok(
      before < run.stderr.indexOf(' clips'),
      'the warning comes before the first progress line',
    );
    assert.ok(run.stdout.includes(warning), run.stdout);
    const c = summaryOf(out).checkpoints[0]!;
    assert.deepEqual(
      c.settings.map((s) => [s.id, s.noEffect]),
      [
        ['off', []],
        ['ar', ['α = 0']],
        ['pai', []],
        ['ar tau=0', ['α = 0']],
        ['ar tau=0.5', ['α = 0']],
      ],
    );
    for (const s of c.settings) if (s.noEffect?.length) assert.equal(s.flips.length, 0, s.id);
    // emotion-llama-tiny's defaults act (α 0.1): no warning.
    const other = await runCli([
      'eval',
      clips,
      '--model',
      BASELINE_MODEL,
      '--out',
      join(small, 'b'),
    ]);
    assert.equal(other.code, 0, other.stderr);
    assert.doesNotMatch(other.stderr + other.stdout, /cannot change the model/);
  });

  test('a different plan in the same folder is refused; bad options are usage errors', async () => {
    const refused = await runCli(['eval', manifest, '--out', whole, '--model', MODEL]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /holds a different evaluation/);
    const badSweep = await runCli([
      'eval',
      manifest,
      '--sweep',
      'tau=1:0:0.1',
      '--out',
      join(dir, 'x'),
    ]);
    assert.equal(badSweep.code, 2);
    assert.match(badSweep.stderr, /--sweep/);
    const badShard = await runCli(['eval', manifest, '--shard', '4/3', '--out', join(dir, 'y')]);
    assert.equal(badShard.code, 2);
    const kindWithoutTau = await runCli([
      'eval',
      manifest,
      '--ratio-kind',
      'raw',
      '--out',
      join(dir, 'z'),
    ]);
    assert.equal(kindWithoutTau.code, 2);
    assert.match(kindWithoutTau.stderr, /needs a τ sweep/);
  });
});
