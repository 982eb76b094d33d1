// `npm run bench`: issue 16's record. In one run, interleaved (project, PyTorch route, floor in
// rotating order within each iteration), medians and p90 of:
//   (a) a re-run with new AR settings (every iteration settings never seen before) on the shipped
//       checkpoint, the 32 × 32 full-shape fixture and a 32 × 32 × ~1000-position variant;
//   (b) a full analyze of a generated 10 s clip, decode cache off, warm and from a cold process;
//   (c) a τ-sweep step over decoded test clips (one run per clip: baselines kept on every side);
//   (d) evaluation with decode over a fixed 60-clip subset, one-process vs per-frame frames;
//   (e) peak resident memory of the CLI and of its worker above an idle node process, at ~1000.
// The PyTorch route is bench/torch_route.py (Debian's python3-torch), the floor a bare in-process
// onnxruntime-node `session.run` of the run needed. Writes bench/results.json and
// bench/RESULTS.md (between markers). Not a test; `--quick` is a smoke (tiny model, few runs).
// Usage: node dist/bench/record.js [--quick] [--full-split] [--parts abcde] [--runs N] [--sizes tiny,fixture,n1000] [--merge] [--out DIR]
// (--parts and --runs make a partial record for experiments, e.g. `--parts a --runs 10`.)
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { ArControls, ContractMetadata } from '../src/protocol/contract';
import { defaultControls } from '../src/shared/controls';
import { clipDecodeSpecFromContract } from '../src/core/decode/clipDecoder';
import { SystemFfmpegDecoder } from '../src/core/decode/systemFfmpegDecoder';
import { AnalysisEngine } from '../src/core/engine/analysisEngine';
import { BenchmarkLanes, runBenchmark, type RunMemory } from '../src/core/evaluation/benchmarkRun';
import type { CachedTensors } from '../src/core/evaluation/decodeCache';
import {
  buildFeeds,
  closeContractModel,
  onnxRuntimeVersion,
  openContractModel,
  optionalTensorsOf,
  type ContractModel,
} from '../src/core/inference/contractModel';
import { intraOpThreadsFor } from '../src/core/inference/workerPool';
import { OUTPUT_NAMES } from '../src/core/contract/names';
import { replaceMarkedSection } from '../src/core/reports/markedSection';
import { figure, markdownTables, ratiosOf, TARGETS, verdict, type Figure } from './recordStats';

/** dist/bench/record.js lives two folders below the repository root. */
const root = resolve(__dirname, '..', '..');
const WORKER = join(root, 'dist', 'core', 'inferenceWorker.js');
const CLI = join(root, 'dist', 'cli', 'main.js');
const PYTHON = '/usr/bin/python3';
const ROUTE = join(root, 'bench', 'torch_route.py');
const TINY = join(root, 'models', 'checkpoints', 'mosear-tiny.onnx');
const FIXTURE = join(root, 'models', 'fixtures', 'emotion-llama-fullshape.onnx');
const CLIP = join(root, 'models', 'samples', 'sample-video-aligned-sad.mp4');
const SPLIT = join(root, 'models', 'data', 'ca-mer-synth', 'test', 'manifest.jsonl');

const log = (line: string) => console.error(line);

interface Options {
  quick: boolean;
  /** Which of (a)–(e) to run. */
  parts: string;
  /** Iterations of (a) instead of 30. */
  runs: number | undefined;
  /** Which sizes (a) measures (default tiny, fixture, n1000). */
  sizes: string;
  /** Keep the figures of the record in --out that this run does not measure. */
  merge: boolean;
  fullSplit: boolean;
  out: string;
  cache: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      'full-split': { type: 'boolean' },
      parts: { type: 'string' },
      runs: { type: 'string' },
      sizes: { type: 'string' },
      merge: { type: 'boolean' },
      out: { type: 'string' },
      cache: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(
      'usage: node dist/bench/record.js [--quick] [--full-split] [--parts abcde] [--runs N] [--sizes tiny,fixture,n1000] [--merge] [--out DIR] [--cache DIR]',
    );
    process.exit(0);
  }
  const quick = values.quick === true;
  return {
    quick,
    fullSplit: values['full-split'] === true,
    parts: values.parts ?? 'abcde',
    runs: values.runs === undefined ? undefined : Math.max(1, Number(values.runs)),
    sizes: values.sizes ?? 'tiny,fixture,n1000',
    merge: values.merge === true,
    // --quick writes under .tmp so a smoke never overwrites the committed record.
    out: resolve(
      values.out ?? (quick ? join(root, '.tmp', 'bench', 'quick') : join(root, 'bench')),
    ),
    cache: resolve(values.cache ?? join(tmpdir(), 'mosear-bench')),
  };
}

/** The PyTorch route: bench/torch_route.py serving one JSON request per line. */
class TorchRoute {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly replies: { ok: (line: string) => void; fail: (e: Error) => void }[] = [];
  private exited: Error | undefined;

  constructor() {
    this.child = spawn(PYTHON, [ROUTE, 'serve'], {
      cwd: root,
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '2' },
    });
    createInterface({ input: this.child.stdout }).on('line', (line) =>
      this.replies.shift()?.ok(line),
    );
    this.child.stderr.on('data', (d: Buffer) => process.stderr.write(`[torch] ${d.toString()}`));
    this.child.on('exit', (code) => {
      this.exited = new Error(`torch_route.py exited (${code})`);
      for (const r of this.replies.splice(0)) r.fail(this.exited);
    });
  }

  async call<T = Record<string, unknown>>(request: Record<string, unknown>): Promise<T> {
    if (this.exited !== undefined) throw this.exited;
    const line = await new Promise<string>((ok, fail) => {
      this.replies.push({ ok, fail });
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
    const reply = JSON.parse(line) as T & { error?: string };
    if (reply.error !== undefined) throw new Error(`torch_route.py: ${reply.error}`);
    return reply;
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** Is Debian's python3-torch there? (The record says so when it is not.) */
function torchAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Controls never used before in this process: α, τ and PAI's α move by a small step a call. */
let fresh = 0;
function freshControls(base: ArControls, mode: ArControls['mode'] = 1): ArControls {
  fresh++;
  return {
    ...base,
    mode,
    alpha: 0.2 + ((fresh * 0.0007) % 0.6),
    tau: base.tau.map((t) => t + fresh * 1e-6),
    paiAlpha: base.paiAlpha + fresh * 1e-4,
  };
}

/** Runs the three routes of one iteration in rotating order (interleaving). */
async function interleaved(
  iteration: number,
  steps: (() => Promise<void> | void)[],
): Promise<void> {
  for (let k = 0; k < steps.length; k++) await steps[(iteration + k) % steps.length]!();
}

/** Writes a tensor as raw little-endian float32 (what the Python side reads). */
function writeF32(path: string, data: Float32Array): string {
  writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return path;
}

/** A bare in-process session: feeds built beforehand, only `session.run` timed. */
async function floorRun(model: ContractModel, inputs: Parameters<typeof buildFeeds>[1], controls: ArControls): Promise<number> {
  const feeds = buildFeeds(model.metadata, inputs, controls, optionalTensorsOf(model.metadata, model.session));
  const started = performance.now();
  await model.session.run(feeds, [...OUTPUT_NAMES]);
  return performance.now() - started;
} // prettier-ignore

/** The ~1000-position variant: the fixture with a transcript cap of 720 words (torch_route.py). */
function n1000Model(cache: string): string {
  const out = join(cache, 'emotion-llama-fullshape-n1000.onnx');
  if (!existsSync(out)) {
    log(`writing the ~1000-position variant to ${out}`);
    execFileSync(PYTHON, [ROUTE, 'variant', out], {
      cwd: root,
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return out;
}

/** A 10 s clip (25 fps 320×240 h264 + AAC tone) from ffmpeg's lavfi sources. */
function tenSecondClip(cache: string): string {
  const out = join(cache, 'ten-seconds.mp4');
  if (!existsSync(out)) {
    execFileSync('ffmpeg', [
      '-v', 'error', '-nostdin', '-y',
      '-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25:d=10',
      '-f', 'lavfi', '-i', 'sine=f=300:d=10',
      '-c:v', 'libx264', '-c:a', 'aac', '-shortest', out,
    ]); // prettier-ignore
  }
  return out;
}

interface Size {
  name: 'tiny' | 'fixture' | 'n1000';
  model: string;
  /** Prompt slots (the ~1000-position variant's long transcript). */
  slots?: Record<string, string>;
}

/** 711 words: with the fixture's 320 other positions, N = 1,031. */
const LONG_TRANSCRIPT = Array.from(
  { length: 79 },
  () => "I can't believe you did this to me again",
).join(' ');

/** (a) Re-run with new AR settings at one size: project, PyTorch route, floor. */
async function rerun(
  size: Size,
  n: number,
  ctx: { engine: AnalysisEngine; torch: TorchRoute | null; threads: number; cache: string },
): Promise<{ figures: Figure[]; notes: Record<string, unknown> }> {
  const { engine, torch } = ctx;
  const meta = (await engine.model(size.model)).metadata;
  const base = defaultControls(meta);
  const spec = clipDecodeSpecFromContract(meta);
  const decoded = await new SystemFfmpegDecoder().decode(CLIP, spec);
  const audio = decoded.audio ?? new Float32Array(spec.minSamples ?? spec.samples);
  // The project: the first analyze decodes and keeps the baseline; each re-run is one run.
  const first = await engine.analyze({
    clipPath: CLIP,
    modelPath: size.model,
    controls: freshControls(base),
    ...(size.slots ? { slots: size.slots } : {}),
  });
  const promptIds = first.settings.promptIds;
  const N = first.layout?.total ?? meta.tokenLayout.total;
  const floor = await openContractModel(size.model, {
    intraOpNumThreads: ctx.threads,
    graphOptimizationLevel: 'all',
  });
  const inputs = { frames: decoded.frames, audio, promptIds };
  await floorRun(floor, inputs, freshControls(base));
  const notes: Record<string, unknown> = {
    positions: N,
    layers: meta.architecture.layers,
    heads: meta.architecture.heads,
  };
  if (torch !== null) {
    await torch.call({ op: 'load', kind: size.name, threads: 1 });
    const frames = writeF32(join(ctx.cache, `${size.name}.frames.f32`), decoded.frames);
    const audioFile = writeF32(join(ctx.cache, `${size.name}.audio.f32`), audio);
    await torch.call({ op: 'inputs', key: 'clip', frames, audio: audioFile, promptIds });
    // The better of 1 and 2 threads, on a few runs each.
    const tries: Record<number, number[]> = { 1: [], 2: [] };
    for (let i = 0; i < (size.name === 'n1000' ? 1 : 3); i++) {
      for (const t of [1, 2]) {
        await torch.call({ op: 'threads', threads: t });
        tries[t]!.push((await torch.call<{ ms: number }>({ op: 'rerun', keys: ['clip'], controls: freshControls(base) })).ms);
      }
    }
    const best = figure('', 'pytorch', '', 'ms', tries[1]!).median <= figure('', 'pytorch', '', 'ms', tries[2]!).median ? 1 : 2;
    await torch.call({ op: 'threads', threads: best });
    notes.torchThreads = best;
    notes.torchThreadTrials = tries;
    // Same weights, same tensors: PyTorch's logits must be the ONNX session's.
    const check = freshControls(base);
    const feeds = buildFeeds(floor.metadata, inputs, check, optionalTensorsOf(floor.metadata, floor.session));
    const ortLogits = (await floor.session.run(feeds, ['logits'])).logits!.data as Float32Array;
    const torchLogits = (await torch.call<{ logits: number[][] }>({ op: 'rerun', keys: ['clip'], controls: check })).logits[0]!;
    const diff = Math.max(...torchLogits.map((x, i) => Math.abs(x - ortLogits[i]!)));
    notes.torchVsOnnxMaxLogitDiff = diff;
    if (!(diff < 1e-3)) throw new Error(`${size.name}: PyTorch's logits differ from the ONNX session's by ${diff}`);
  } // prettier-ignore
  const project: number[] = [];
  const pytorch: number[] = [];
  const bare: number[] = [];
  const roundTrip: number[] = [];
  const engineOwn: number[] = [];
  let sessionRuns = 0;
  for (let i = 0; i < n; i++) {
    await interleaved(i, [
      async () => {
        const started = performance.now();
        const r = await engine.analyze({ clipPath: CLIP, modelPath: size.model, controls: freshControls(base), ...(size.slots ? { slots: size.slots } : {}) });
        const ms = performance.now() - started;
        project.push(ms);
        sessionRuns += r.timings.sessionRuns;
        // Where the project's time goes beyond the worker's session.run (the round trip to the
        // worker, and the engine's own work before and after it).
        const run = r.timings.sessionRunMs.reduce((a, b) => a + b, 0);
        roundTrip.push(r.timings.inferenceMs - run);
        engineOwn.push(ms - r.timings.inferenceMs);
        if (!r.timings.baselineReused) throw new Error('the re-run did not reuse its baseline');
      },
      async () => {
        if (torch === null) return;
        pytorch.push((await torch.call<{ ms: number }>({ op: 'rerun', keys: ['clip'], controls: freshControls(base) })).ms);
      },
      async () => {
        bare.push(await floorRun(floor, inputs, freshControls(base)));
      },
    ]);
  } // prettier-ignore
  await closeContractModel(floor);
  notes.projectSessionRuns = sessionRuns;
  notes.projectWorkerRoundTripMs = figure('', 'project', '', 'ms', roundTrip).median;
  notes.projectEngineOwnMs = figure('', 'project', '', 'ms', engineOwn).median;
  log(
    `  rerun ${size.name} (N ${N}): project ${figure('', 'project', '', 'ms', project).median.toFixed(1)} ms, pytorch ${pytorch.length ? figure('', 'pytorch', '', 'ms', pytorch).median.toFixed(1) : '–'} ms, floor ${figure('', 'floor', '', 'ms', bare).median.toFixed(1)} ms`,
  );
  return {
    figures: [
      figure('rerun', 'project', size.name, 'ms', project),
      ...(torch === null ? [] : [figure('rerun', 'pytorch', size.name, 'ms', pytorch)]),
      figure('rerun', 'floor', size.name, 'ms', bare),
    ],
    notes,
  }; // prettier-ignore
}

/** (b) Full analyze of the 10 s clip, decode cache off: warm in process, and cold processes. */
async function analyze(
  n: number,
  ctx: { engine: AnalysisEngine; torch: TorchRoute | null; threads: number; cache: string },
): Promise<Figure[]> {
  const { engine, torch } = ctx;
  const clip = tenSecondClip(ctx.cache);
  const meta = (await engine.model(TINY)).metadata;
  const base = defaultControls(meta);
  const spec = clipDecodeSpecFromContract(meta);
  const decoder = new SystemFfmpegDecoder();
  const floor = await openContractModel(TINY, { intraOpNumThreads: ctx.threads });
  if (torch !== null) await torch.call({ op: 'load', kind: 'tiny', threads: 1 });
  const warm = { project: [] as number[], pytorch: [] as number[], floor: [] as number[] };
  const cold = { project: [] as number[], pytorch: [] as number[] };
  // One untimed round of each (session open, imports, page cache).
  await engine.analyze({ clipPath: clip, modelPath: TINY, controls: freshControls(base) });
  for (let i = 0; i < n; i++) {
    await interleaved(i, [
      async () => {
        engine.clearClipCache();
        const started = performance.now();
        const r = await engine.analyze({ clipPath: clip, modelPath: TINY, controls: freshControls(base) });
        warm.project.push(performance.now() - started);
        if (r.timings.decodeCached || r.timings.baselineReused) throw new Error('analyze reused a decode');
      },
      async () => {
        if (torch === null) return;
        warm.pytorch.push((await torch.call<{ ms: number }>({ op: 'analyze', clip, controls: freshControls(base) })).ms);
      },
      async () => {
        // The floor: the project's decoder and the two bare runs (AR and the baseline).
        const started = performance.now();
        const d = await decoder.decode(clip, spec);
        const inputs = { frames: d.frames, audio: d.audio ?? new Float32Array(spec.samples) };
        await floorRun(floor, inputs, freshControls(base));
        await floorRun(floor, inputs, { ...freshControls(base), mode: 0 });
        warm.floor.push(performance.now() - started);
      },
    ]);
  } // prettier-ignore
  await closeContractModel(floor);
  for (let i = 0; i < n; i++) {
    await interleaved(i, [
      () => {
        const started = performance.now();
        execFileSync(process.execPath, [CLI, 'analyze', clip, '--quiet', '--alpha', String(0.31 + i / 1000)], { stdio: 'ignore' });
        cold.project.push(performance.now() - started);
      },
      () => {
        if (torch === null) return;
        const started = performance.now();
        execFileSync(PYTHON, [ROUTE, 'analyze', clip], { cwd: root, stdio: 'ignore', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
        cold.pytorch.push(performance.now() - started);
      },
    ]);
  } // prettier-ignore
  log(`  analyze 10 s: warm ${figure('', 'project', '', 'ms', warm.project).median.toFixed(0)} ms vs python ${warm.pytorch.length ? figure('', 'pytorch', '', 'ms', warm.pytorch).median.toFixed(0) : '–'} ms; cold ${figure('', 'project', '', 'ms', cold.project).median.toFixed(0)} vs ${cold.pytorch.length ? figure('', 'pytorch', '', 'ms', cold.pytorch).median.toFixed(0) : '–'} ms`); // prettier-ignore
  const out = [
    figure('analyze_warm', 'project', 'tiny', 'ms', warm.project),
    figure('analyze_warm', 'floor', 'tiny', 'ms', warm.floor),
    figure('analyze_cold', 'project', 'tiny', 'ms', cold.project),
  ];
  if (torch !== null) {
    out.push(figure('analyze_warm', 'pytorch', 'tiny', 'ms', warm.pytorch));
    out.push(figure('analyze_cold', 'pytorch', 'tiny', 'ms', cold.pytorch));
  }
  return out;
}

/** Every `step`-th line of the test split as a manifest beside the split's paths. */
function subsetManifest(cache: string, name: string, step: number, count: number): string {
  const lines = readFileSync(SPLIT, 'utf8').trim().split('\n');
  const picked = lines.filter((_, i) => i % step === 0).slice(0, count);
  const file = join(cache, `${name}.jsonl`);
  const dir = dirname(SPLIT);
  writeFileSync(
    file,
    picked
      .map((l) => {
        const row = JSON.parse(l) as { path: string };
        return JSON.stringify({ ...row, path: resolve(dir, row.path) });
      })
      .join('\n') + '\n',
  );
  return file;
}

/** (c) τ-sweep steps over decoded clips: one run per clip on every side (baselines kept). */
async function sweep(
  steps: number,
  manifest: string,
  ctx: { torch: TorchRoute | null; cache: string; jobs: number },
): Promise<{ figures: Figure[]; clips: number }> {
  const memory = new Map<string, CachedTensors | Error>();
  const runs: RunMemory = new Map();
  // Workers (and their sessions) kept across the steps, as the decoded tensors and the runs are.
  const lanes = new BenchmarkLanes({ workerScript: WORKER });
  const bench = (sweeps: { parameter: 'tau'; values: number[] }[]) =>
    runBenchmark({
      lanes,
      manifest,
      models: [TINY],
      sweeps,
      jobs: ctx.jobs,
      workerScript: WORKER,
      decoder: new SystemFfmpegDecoder({ maxParallelProcesses: ctx.jobs }),
      tensorMemory: memory,
      runMemory: runs,
    });
  // Decode every clip and remember off, AR and PAI (untimed: what an evaluation before did).
  const first = await bench([]);
  const meta = first.metadata[0]!;
  const base = defaultControls(meta);
  const clips = [...memory.entries()].filter(
    (e): e is [string, CachedTensors] => !(e[1] instanceof Error),
  );
  const spec = clipDecodeSpecFromContract(meta);
  const inputsOf = (t: CachedTensors) => ({
    frames: t.frames,
    audio: t.audio ?? new Float32Array(spec.samples),
    promptIds: meta.prompt.defaultIds,
  });
  // The floor: one bare run per clip over `jobs` sessions of one thread (the evaluation's).
  const floors = await Promise.all(
    Array.from({ length: ctx.jobs }, () => openContractModel(TINY, { intraOpNumThreads: 1 })),
  );
  const keys: string[] = [];
  if (ctx.torch !== null) {
    await ctx.torch.call({ op: 'load', kind: 'tiny', threads: 1 });
    for (const [i, [, t]] of clips.entries()) {
      const frames = writeF32(join(ctx.cache, `sweep-${i}.frames.f32`), t.frames);
      const audio = writeF32(join(ctx.cache, `sweep-${i}.audio.f32`), inputsOf(t).audio);
      await ctx.torch.call({ op: 'inputs', key: `c${i}`, frames, audio, promptIds: meta.prompt.defaultIds });
      keys.push(`c${i}`);
    }
    const tries: Record<number, number> = {};
    for (const t of [1, 2]) {
      await ctx.torch.call({ op: 'threads', threads: t });
      tries[t] = (await ctx.torch.call<{ ms: number }>({ op: 'rerun', keys, controls: freshControls(base) })).ms;
    }
    await ctx.torch.call({ op: 'threads', threads: tries[1]! <= tries[2]! ? 1 : 2 });
  } // prettier-ignore
  const project: number[] = [];
  const pytorch: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < steps; i++) {
    const tau = 0.2 + i * 1e-3 + Math.random() * 1e-4;
    const controls = { ...base, mode: 1 as const, tau: base.tau.map(() => tau) };
    await interleaved(i, [
      async () => {
        const seen = runs.size;
        const started = performance.now();
        const out = await bench([{ parameter: 'tau', values: [tau] }]);
        project.push(performance.now() - started);
        if (out.records.some((r) => !r.ok)) throw new Error('a clip failed in the sweep step');
        if (runs.size - seen !== clips.length) throw new Error(`the step ran ${runs.size - seen} runs for ${clips.length} clips`);
      },
      async () => {
        if (ctx.torch === null) return;
        pytorch.push((await ctx.torch.call<{ ms: number }>({ op: 'rerun', keys, controls })).ms);
      },
      async () => {
        const started = performance.now();
        let next = 0;
        await Promise.all(floors.map(async (f) => {
          while (next < clips.length) await floorRun(f, inputsOf(clips[next++]![1]), controls);
        }));
        bare.push(performance.now() - started);
      },
    ]);
  } // prettier-ignore
  await Promise.all(floors.map((f) => closeContractModel(f)));
  await lanes.dispose();
  log(`  sweep step (${clips.length} clips): project ${figure('', 'project', '', 'ms', project).median.toFixed(0)} ms, pytorch ${pytorch.length ? figure('', 'pytorch', '', 'ms', pytorch).median.toFixed(0) : '–'} ms, floor ${figure('', 'floor', '', 'ms', bare).median.toFixed(0)} ms`); // prettier-ignore
  return {
    clips: clips.length,
    figures: [
      figure('sweep_step', 'project', 'tiny', 'ms', project),
      ...(ctx.torch === null ? [] : [figure('sweep_step', 'pytorch', 'tiny', 'ms', pytorch)]),
      figure('sweep_step', 'floor', 'tiny', 'ms', bare),
    ],
  };
}

/** (d) Evaluation with decode (no cache): clips/s, one-process vs per-frame frames. */
async function evaluation(
  passes: number,
  manifest: string,
  ctx: { torch: TorchRoute | null; jobs: number },
): Promise<Figure[]> {
  const clipsPerSecond = {
    'one-process': [] as number[],
    'per-frame': [] as number[],
    python: [] as number[],
  };
  const paths = readFileSync(manifest, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { path: string }).path);
  if (ctx.torch !== null) await ctx.torch.call({ op: 'load', kind: 'tiny', threads: 1 });
  const one = (frameDecode: 'one-process' | 'per-frame') => async () => {
    const started = performance.now();
    const out = await runBenchmark({
      manifest,
      models: [TINY],
      jobs: ctx.jobs,
      workerScript: WORKER,
      decoder: new SystemFfmpegDecoder({ maxParallelProcesses: ctx.jobs, frameDecode }),
    });
    if (out.records.some((r) => !r.ok)) throw new Error('a clip failed in the evaluation');
    clipsPerSecond[frameDecode].push(out.progress.total / ((performance.now() - started) / 1000));
  };
  for (let i = 0; i < passes; i++) {
    await interleaved(i, [
      one('one-process'),
      one('per-frame'),
      async () => {
        if (ctx.torch === null) return;
        // The Python route: its decoder (one process for all frames) and the same three settings.
        const ms = (await ctx.torch.call<{ ms: number }>({ op: 'evaluate', clips: paths })).ms;
        clipsPerSecond.python.push(paths.length / (ms / 1000));
      },
    ]);
  } // prettier-ignore
  log(`  eval with decode (${paths.length} clips): one-process ${figure('', 'project', '', 'clips/s', clipsPerSecond['one-process']).median.toFixed(2)} clips/s, per-frame ${figure('', 'project', '', 'clips/s', clipsPerSecond['per-frame']).median.toFixed(2)} clips/s`); // prettier-ignore
  return [
    figure('eval_with_decode', 'project', 'one-process', 'clips/s', clipsPerSecond['one-process']),
    figure('eval_with_decode', 'project', 'per-frame', 'clips/s', clipsPerSecond['per-frame']),
    ...(ctx.torch === null ? [] : [figure('eval_with_decode', 'pytorch', 'one-process', 'clips/s', clipsPerSecond.python)]),
  ]; // prettier-ignore
}

/** Peak RSS (VmHWM, kB) of a process and its children, polled until it exits. */
async function peakResident(command: string, args: string[]): Promise<{ self: number; children: number }> {
  const child = spawn(command, args, { stdio: 'ignore' });
  const pid = child.pid!;
  const peak = { self: 0, children: 0 };
  const hwm = (p: number) => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  };
  const kids = () =>
    readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(pid);
        } catch {
          return false;
        }
      });
  const poll = setInterval(() => {
    peak.self = Math.max(peak.self, hwm(pid));
    // The worker is node (the inference worker); ffmpeg children are short and small.
    for (const k of kids()) {
      let comm = '';
      try {
        comm = readFileSync(`/proc/${k}/comm`, 'utf8').trim();
      } catch {
        /* gone */
      }
      if (comm.startsWith('node') || comm.startsWith('MainThread')) peak.children = Math.max(peak.children, hwm(k));
    }
  }, 10);
  await new Promise((ok) => child.on('exit', ok));
  clearInterval(poll);
  return peak;
} // prettier-ignore

/** (e) Memory at ~1000 positions: CLI and worker peak RSS above an idle node process. */
async function memory(model: string, meta: ContractMetadata, N: number, threads: number): Promise<Record<string, number>> {
  const idle = await peakResident(process.execPath, ['-e', 'setTimeout(() => {}, 300)']);
  // What a worker holds before any run: onnxruntime loaded and the session open (the worker's
  // session options, contractModel.ts), no run: the part of the worker's peak no graph change removes.
  const ort = join(root, 'node_modules', 'onnxruntime-node');
  const open = `require(${JSON.stringify(ort)}).InferenceSession.create(${JSON.stringify(model)}, { enableMemPattern: false, graphOptimizationLevel: 'all', intraOpNumThreads: ${threads} }).then(() => setTimeout(() => {}, 300))`;
  const opened = await peakResident(process.execPath, ['-e', open]);
  const run = await peakResident(process.execPath, [CLI, 'analyze', CLIP, '--model', model, '--transcript', LONG_TRANSCRIPT, '--quiet', '--alpha', '0.37']);
  const { layers: L, heads: Hh } = meta.architecture;
  // Held by a result: token_attention_before and token_attention [L, Hh, N] of both runs (f32).
  const tensorBytes = 2 * 2 * L * Hh * N * 4;
  const mb = (kb: number) => kb / 1024;
  return {
    idleMB: mb(idle.self),
    cliPeakMB: mb(run.self),
    workerPeakMB: mb(run.children),
    cliAboveIdleMB: mb(run.self - idle.self),
    workerAboveIdleMB: mb(run.children - idle.self),
    workerOpenAboveIdleMB: mb(opened.self - idle.self),
    workerRunAboveOpenMB: mb(run.children - opened.self),
    tensorMB: tensorBytes / 2 ** 20,
  };
} // prettier-ignore

/** The parts of an earlier results.json that --merge keeps (undefined when there is none). */
function previousRecord(file: string):
  | {
      date: string;
      figures: Figure[];
      memory: Record<string, number>;
      notes: Record<string, unknown>;
    }
  | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof previousRecord>;
}

async function main(): Promise<void> {
  const opts = options();
  const cache = opts.cache;
  mkdirSync(cache, { recursive: true });
  mkdirSync(opts.out, { recursive: true });
  for (const file of [TINY, WORKER, CLI]) {
    if (!existsSync(file)) throw new Error(`${file} is missing (npm run build)`);
  }
  const loadAtStart = loadavg()[0]!;
  const started = performance.now();
  const hasTorch = torchAvailable();
  if (!hasTorch)
    log(
      'python3-torch is missing (/usr/bin/python3 cannot import torch): the PyTorch route is left out',
    );
  const torch = hasTorch ? new TorchRoute() : null;
  const threads = intraOpThreadsFor(availableParallelism(), 1);
  const jobs = Math.min(2, availableParallelism());
  // One engine per part and size, as a researcher runs one checkpoint: the engine's pool shares
  // the cores among its live workers (workerPool.ts), so a worker left from an earlier size would
  // halve the threads of the one measured (the floor keeps `threads`).
  const newEngine = () =>
    new AnalysisEngine({ workerScript: WORKER, toolName: 'mosear-lens-bench' });
  const withEngine = async <T>(use: (c: typeof ctx) => Promise<T>): Promise<T> => {
    const own = newEngine();
    try {
      return await use({ ...ctx, engine: own });
    } finally {
      await own.dispose();
    }
  };
  const engine = newEngine();
  const ctx = { engine, torch, threads, cache, jobs };
  const figures: Figure[] = [];
  const ownFigures = figures;
  const notes: Record<string, unknown> = {};
  const counts = opts.quick
    ? { rerun: 5, analyze: 2, steps: 2, passes: 1, sweepClips: 6, evalClips: 6 }
    : {
        rerun: opts.runs ?? 30,
        analyze: 10,
        steps: 10,
        passes: 5,
        sweepClips: opts.fullSplit ? 450 : 90,
        evalClips: 60,
      };
  const splitLines = readFileSync(SPLIT, 'utf8').trim().split('\n').length;
  let memoryFigures: Record<string, number> = {};
  // --merge: the earlier record's figures this run does not measure are kept (and said so).
  const earlier = opts.merge ? previousRecord(join(opts.out, 'results.json')) : undefined;
  const mergedFigures = (): Figure[] => {
    const measured = new Set(figures.map((f) => `${f.measure}/${f.route}/${f.size}`));
    const kept = (earlier?.figures ?? []).filter(
      (f) => !measured.has(`${f.measure}/${f.route}/${f.size}`),
    );
    return [...kept, ...figures];
  };
  const torchVersion = hasTorch
    ? execFileSync(PYTHON, ['-c', 'import torch; print(torch.__version__)']).toString().trim()
    : null;
  // Written after every part, so a run stopped early keeps what it measured.
  const write = (complete: boolean): void => {
    const figures = mergedFigures();
    if (Object.keys(memoryFigures).length === 0 && earlier?.memory !== undefined)
      memoryFigures = earlier.memory;
    const ratios = ratiosOf(figures, {
      ...(memoryFigures.cliAboveIdleMB === undefined
        ? {}
        : { cliMB: memoryFigures.cliAboveIdleMB }),
      ...(memoryFigures.workerAboveIdleMB === undefined
        ? {}
        : { workerMB: memoryFigures.workerAboveIdleMB }),
      ...(memoryFigures.workerOpenAboveIdleMB === undefined
        ? {}
        : { workerOpenMB: memoryFigures.workerOpenAboveIdleMB }),
      ...(memoryFigures.tensorMB === undefined ? {} : { tensorMB: memoryFigures.tensorMB }),
    });
    const machine = {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      memoryGB: Math.round(totalmem() / 2 ** 30),
      platform: process.platform,
      node: process.version,
      onnxruntime: onnxRuntimeVersion(),
      torch: torchVersion,
      loadAverage: { start: loadAtStart, now: loadavg()[0]! },
      projectIntraOpThreads: threads,
      jobs,
    };
    const record = {
      date: new Date().toISOString(),
      complete,
      quick: opts.quick,
      parts: opts.parts,
      seconds: (performance.now() - started) / 1000,
      machine,
      counts,
      ratios,
      targets: TARGETS.map((t) => ({
        ...t,
        measured: ratios[t.ratio] ?? null,
        verdict: verdict(t, ratios),
      })),
      memory: memoryFigures,
      notes: earlier === undefined ? notes : { ...earlier.notes, ...notes },
      ...(earlier === undefined
        ? {}
        : { mergedWith: { date: earlier.date, kept: figures.length - ownFigures.length } }),
      figures,
    };
    const json = join(opts.out, 'results.json');
    writeFileSync(json, `${JSON.stringify(record, null, 1)}\n`);
    const md = join(opts.out, 'RESULTS.md');
    const head =
      `Run ${record.date.slice(0, 16)} UTC${complete ? '' : ' (incomplete: stopped before every part ran)'} on ${machine.cpu} × ${machine.cores}, ` +
      `node ${machine.node}, onnxruntime ${machine.onnxruntime}, torch ${machine.torch ?? 'missing (no PyTorch route)'}; ` +
      `load average ${loadAtStart.toFixed(2)} at start, ${machine.loadAverage.now.toFixed(2)} at the end; ${record.seconds.toFixed(0)} s.\n\n`;
    const mergeNote =
      earlier === undefined
        ? ''
        : `Merged (\`--merge\`): the figures this run did not measure are those of the run of ${earlier.date.slice(0, 16)} UTC.\n\n`;
    const text = existsSync(md) ? readFileSync(md, 'utf8') : '';
    const table = head + mergeNote + markdownTables(figures, ratios);
    writeFileSync(
      md,
      replaceMarkedSection(
        text,
        '<!-- BEGIN bench/record.ts -->',
        '<!-- END bench/record.ts -->',
        table,
      ),
    );
    // In the repository's Markdown style (the format tier checks bench/RESULTS.md).
    try {
      execFileSync(
        process.execPath,
        [join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--write', md, json],
        { stdio: 'ignore' },
      );
    } catch {
      log(`could not run prettier on ${md}`);
    }
    if (complete) {
      console.log(markdownTables(figures, ratios));
      console.log(`wrote ${join(opts.out, 'results.json')} and ${md}`);
    }
  };
  try {
    const sizes: Size[] = [{ name: 'tiny', model: TINY }];
    if (!opts.quick) sizes.push({ name: 'fixture', model: FIXTURE });
    const n1000: Size = {
      name: 'n1000',
      model: n1000Model(cache),
      slots: { transcript: LONG_TRANSCRIPT },
    };
    const rerunAt = async (size: Size) => {
      log(`(a) re-run with new AR settings: ${size.name}`);
      const r = await withEngine((c) => rerun(size, counts.rerun, c));
      figures.push(...r.figures);
      notes[`rerun.${size.name}`] = r.notes;
      write(false);
    };
    // The cheap parts first, the ~1000-position re-runs and the evaluation passes last.
    const wanted = (size: Size) =>
      opts.parts.includes('a') && opts.sizes.split(',').includes(size.name);
    for (const size of sizes) if (wanted(size)) await rerunAt(size);
    if (opts.parts.includes('b')) {
      log('(b) full analyze of a 10 s clip, decode cache off');
      figures.push(...(await withEngine((c) => analyze(counts.analyze, c))));
      write(false);
    }
    if (opts.parts.includes('c')) {
      log('(c) τ-sweep step');
      const sweepManifest = subsetManifest(
        cache,
        'sweep',
        Math.max(1, Math.floor(splitLines / counts.sweepClips)),
        counts.sweepClips,
      );
      const s = await sweep(counts.steps, sweepManifest, ctx);
      figures.push(...s.figures);
      notes.sweepClips = s.clips;
      write(false);
    }
    if (!opts.quick && opts.parts.includes('e')) {
      log('(e) memory at ~1000 positions');
      const meta = (await engine.model(n1000.model)).metadata;
      memoryFigures = await memory(n1000.model, meta, 1031, threads);
      log(`  ${JSON.stringify(memoryFigures)}`);
      write(false);
    }
    if (!opts.quick && wanted(n1000)) await rerunAt(n1000);
    if (opts.parts.includes('d')) {
      log('(d) evaluation with decode');
      const evalManifest = subsetManifest(
        cache,
        'eval',
        Math.max(1, Math.floor(splitLines / counts.evalClips)),
        counts.evalClips,
      );
      figures.push(...(await evaluation(counts.passes, evalManifest, ctx)));
    }
    write(true);
  } finally {
    torch?.close();
    await engine.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
