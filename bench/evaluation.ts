// `npm run bench` (evaluation part): throughput of `eval` over the committed test split with
// --jobs 1 and 2 (decoding included, then with decoded clips in memory), and one τ sweep step
// over the whole split re-running decoded clips with a τ never used before (target < 10 s).
// Ratios come from runs in this one process. Not a test.
// Usage: node dist/bench/evaluation.js [--clips N] [--json FILE]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { textTable } from '../src/cli/textTable';
import { SystemFfmpegDecoder } from '../src/core/decode/systemFfmpegDecoder';
import { runBenchmark, type RunMemory } from '../src/core/evaluation/benchmarkRun';
import { benchArgs } from './benchArgs';
import {
  DecodeCache,
  systemDecoderIdentity,
  type CachedTensors,
} from '../src/core/evaluation/decodeCache';

/** dist/bench/evaluation.js lives two folders below the repository root. */
const root = resolve(__dirname, '..', '..');
const SPLIT = join(root, 'models', 'data', 'ca-mer-synth', 'test', 'manifest.jsonl');
const WORKER = join(root, 'dist', 'core', 'inferenceWorker.js');
const MODELS = ['emotion-llama-tiny', 'mosear-tiny'].map((n) =>
  join(root, 'models', 'checkpoints', `${n}.onnx`),
);

/** The first `n` clips of the split as a manifest beside the split (paths stay relative). */
function subsetManifest(n: number): string {
  const lines = readFileSync(SPLIT, 'utf8').trim().split('\n');
  // Evenly spaced lines: the split is ordered by subset, so all three subsets are represented.
  const picked = lines.filter((_, i) => i % Math.max(1, Math.floor(lines.length / n)) === 0);
  const file = join(root, '.tmp', 'bench', 'eval-subset.jsonl');
  mkdirSync(dirname(file), { recursive: true });
  const rel = (p: string) => join('..', '..', 'models', 'data', 'ca-mer-synth', 'test', p);
  writeFileSync(
    file,
    picked
      .slice(0, n)
      .map((l) => {
        const row = JSON.parse(l) as { path: string };
        return JSON.stringify({ ...row, path: rel(row.path) });
      })
      .join('\n') + '\n',
  );
  return file;
}

interface Row {
  measure: string;
  jobs: number;
  clips: number;
  seconds: number;
  clipsPerSecond: number;
  sessionRunsPerClip: number;
}

async function main(): Promise<void> {
  const args = benchArgs(
    process.argv.slice(2),
    'evaluation',
    { name: 'clips', default: 60, min: 6 },
    join(root, '.tmp', 'bench', 'evaluation.json'),
    console.log,
  );
  const json = args.json;
  const loadAtStart = loadavg()[0]!;
  const manifest = subsetManifest(args.count);
  const rows: Row[] = [];
  const measure = async (
    name: string,
    jobs: number,
    options: {
      manifest: string;
      models: string[];
      memory?: Map<string, CachedTensors | Error>;
      cache?: DecodeCache;
      runs?: RunMemory;
    },
    sweeps: { parameter: 'tau'; values: number[] }[] = [],
  ) => {
    const started = performance.now();
    const remembered = options.runs?.size ?? 0;
    const outcome = await runBenchmark({
      manifest: options.manifest,
      models: options.models,
      sweeps,
      jobs,
      workerScript: WORKER,
      decoder: new SystemFfmpegDecoder({ maxParallelProcesses: jobs }),
      ...(options.memory === undefined ? {} : { tensorMemory: options.memory }),
      ...(options.cache === undefined ? {} : { decodeCache: options.cache }),
      ...(options.runs === undefined ? {} : { runMemory: options.runs }),
    });
    const seconds = (performance.now() - started) / 1000;
    const failed = outcome.records.filter((r) => !r.ok);
    if (failed.length > 0) throw new Error(`${failed.length} clips failed in "${name}"`);
    const clips = outcome.progress.total;
    const settings = outcome.plan.checkpoints.reduce((n, c) => n + c.settings.length, 0);
    rows.push({
      measure: name,
      jobs,
      clips,
      seconds,
      clipsPerSecond: clips / seconds,
      // With a run memory, only the settings it had not seen ran.
      sessionRunsPerClip:
        options.runs === undefined ? settings : (options.runs.size - remembered) / clips,
    });
    console.error(`  ${name}, jobs ${jobs}: ${seconds.toFixed(1)} s`);
  };

  // Decoding included (no cache): what a first evaluation of a new folder costs.
  for (const jobs of [1, 2]) {
    await measure('eval, decode + 2 checkpoints × 3 settings', jobs, { manifest, models: MODELS });
  }
  // Decoded clips in memory: what re-running settings costs.
  const memory = new Map<string, CachedTensors | Error>();
  // Filled from the decode cache that `npm run results` keeps (decoding what it lacks).
  const cache = new DecodeCache(
    join(root, '.tmp', 'decode-cache'),
    await systemDecoderIdentity(new SystemFfmpegDecoder()),
  );
  await measure('(fill memory from the decode cache)', 2, {
    manifest: SPLIT,
    models: MODELS,
    memory,
    cache,
  });
  for (const jobs of [1, 2]) {
    await measure('eval, decoded, 2 checkpoints × 3 settings', jobs, {
      manifest: SPLIT,
      models: MODELS,
      memory,
    });
  }
  // One sweep step: a τ no run has used, mosear-tiny, over the whole split (off, AR, PAI and
  // the new point: four session runs per clip), then the same with the runs of the evaluation
  // before remembered (the step runs only its new point: one session run per clip).
  const tau = 0.2 + Math.random() * 1e-3;
  await measure(
    `sweep step τ=${tau.toFixed(6)} (target < 10 s)`,
    2,
    { manifest: SPLIT, models: [MODELS[1]!], memory },
    [{ parameter: 'tau', values: [tau] }],
  );
  const runs: RunMemory = new Map();
  await measure('(remember off, AR and PAI-style runs)', 2, {
    manifest: SPLIT,
    models: [MODELS[1]!],
    memory,
    runs,
  });
  const step = tau + 1e-3;
  await measure(
    `sweep step τ=${step.toFixed(6)}, runs remembered`,
    2,
    { manifest: SPLIT, models: [MODELS[1]!], memory, runs },
    [{ parameter: 'tau', values: [step] }],
  );

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\nevaluation benchmark: ${availableParallelism()} cores (${cpu}), load ${loadAtStart.toFixed(2)} at start\n`,
  );
  console.log(
    textTable(
      [
        ['measure', 'jobs', 'clips', 's', 'clips/s', 'runs/clip'],
        ...rows.map((r) => [
          r.measure,
          String(r.jobs),
          String(r.clips),
          r.seconds.toFixed(2),
          r.clipsPerSecond.toFixed(1),
          String(r.sessionRunsPerClip),
        ]),
      ],
      ['left', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  const ratio = (a: string) => {
    const one = rows.find((r) => r.measure === a && r.jobs === 1);
    const two = rows.find((r) => r.measure === a && r.jobs === 2);
    return one && two ? (two.clipsPerSecond / one.clipsPerSecond).toFixed(2) : '–';
  };
  console.log(
    `\n--jobs 2 vs 1 (same run): decoding ${ratio('eval, decode + 2 checkpoints × 3 settings')}×, ` +
      `decoded ${ratio('eval, decoded, 2 checkpoints × 3 settings')}×`,
  );
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(
    json,
    `${JSON.stringify({ rows, loadAtStart, cores: availableParallelism() }, null, 1)}\n`,
  );
  console.log(`wrote ${json}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
