// The perf log's experiments (docs/dev/perf-log.md): the re-run path's `session.run` under
// different onnxruntime session options, in one process, interleaved, on the full-shape fixture
// (or --model), each run with settings never used before. Not a test.
// Each variant's session open time is printed too, and its outputs are compared bit for bit with
// the engine's. `--only TEXT` keeps the engine and the variants whose name contains TEXT (one
// process per variant gives each its own peak memory: `/usr/bin/time -v`).
// Usage: node dist/bench/sessionOptions.js [--model FILE] [--runs N] [--only TEXT]
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { ArControls } from '../src/protocol/contract';
import { defaultControls } from '../src/shared/controls';
import { clipDecodeSpecFromContract } from '../src/core/decode/clipDecoder';
import { SystemFfmpegDecoder } from '../src/core/decode/systemFfmpegDecoder';
import { readCheckedModelFile } from '../src/core/contract/graphCheck';
import { buildFeeds, optionalTensorsOf } from '../src/core/inference/contractModel';
import { OUTPUT_NAMES } from '../src/core/contract/names';
import { figure } from './recordStats';

const root = resolve(__dirname, '..', '..');

/** One variant: what it changes in the engine's session options. */
interface Variant {
  name: string;
  options: ort.InferenceSession.SessionOptions;
  /** Hand onnxruntime preallocated output tensors (fetches) instead of output names. */
  preallocated?: boolean;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, runs: { type: 'string' }, only: { type: 'string' } },
  });
  const model = resolve(
    values.model ?? join(root, 'models', 'fixtures', 'emotion-llama-fullshape.onnx'),
  );
  const runs = Number(values.runs ?? 10);
  const threads = availableParallelism();
  const engine: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    logSeverityLevel: 3,
    enableMemPattern: false,
  };
  const all: Variant[] = [
    { name: `engine today: all, ${threads} threads, no mem pattern`, options: engine },
    { name: 'intraOpNumThreads 1', options: { ...engine, intraOpNumThreads: 1 } },
    { name: 'graphOptimizationLevel extended', options: { ...engine, graphOptimizationLevel: 'extended' } },
    { name: 'graphOptimizationLevel basic', options: { ...engine, graphOptimizationLevel: 'basic' } },
    { name: 'executionMode parallel', options: { ...engine, executionMode: 'parallel', interOpNumThreads: threads } },
    { name: 'executionMode parallel, 1 inter-op thread', options: { ...engine, executionMode: 'parallel', interOpNumThreads: 1 } },
    { name: 'enableCpuMemArena false', options: { ...engine, enableCpuMemArena: false } },
    { name: 'enableMemPattern true', options: { ...engine, enableMemPattern: true } },
    { name: 'intra_op.allow_spinning 0', options: { ...engine, extra: { session: { intra_op: { allow_spinning: '0' } } } } },
    { name: 'force_spinning_stop 1', options: { ...engine, extra: { session: { force_spinning_stop: '1' } } } },
    { name: 'preallocated outputs', options: engine, preallocated: true },
  ]; // prettier-ignore
  const only = values.only;
  const variants =
    only === undefined ? all : all.filter((v, i) => i === 0 || v.name.includes(only));
  const { metadata: meta } = await readCheckedModelFile(model);
  const sessions: ort.InferenceSession[] = [];
  const openMs: number[] = [];
  for (const v of variants) {
    const started = performance.now();
    sessions.push(await ort.InferenceSession.create(model, v.options));
    openMs.push(performance.now() - started);
  }
  const spec = clipDecodeSpecFromContract(meta);
  const clip = await new SystemFfmpegDecoder().decode(
    join(root, 'models', 'samples', 'sample-video-aligned-sad.mp4'),
    spec,
  );
  const inputs = {
    frames: clip.frames,
    audio: clip.audio ?? new Float32Array(spec.minSamples ?? spec.samples),
  };
  const base = defaultControls(meta);
  let fresh = 0;
  const controls = (): ArControls => ({ ...base, alpha: 0.2 + ++fresh * 1e-4 });
  const names = [...OUTPUT_NAMES];
  // Outputs of the right shapes for `preallocated`, from one run.
  const shapes = await sessions[0]!.run(
    buildFeeds(meta, inputs, controls(), optionalTensorsOf(meta, sessions[0]!)),
    names,
  );
  const fetches = Object.fromEntries(
    names.map((n) => [
      n,
      new ort.Tensor('float32', new Float32Array(shapes[n]!.size), shapes[n]!.dims),
    ]),
  );
  // Every variant's outputs on one set of controls, compared bit for bit with the engine's.
  const same = controls();
  const reference = await sessions[0]!.run(
    buildFeeds(meta, inputs, same, optionalTensorsOf(meta, sessions[0]!)),
    names,
  );
  const identical: boolean[] = [];
  for (const s of sessions) {
    const out = await s.run(buildFeeds(meta, inputs, same, optionalTensorsOf(meta, s)), names);
    identical.push(
      names.every((n) =>
        Buffer.from((out[n]!.data as Float32Array).buffer).equals(
          Buffer.from((reference[n]!.data as Float32Array).buffer),
        ),
      ),
    );
  }
  const times: number[][] = variants.map(() => []);
  for (let i = 0; i < runs + 1; i++) {
    for (let k = 0; k < variants.length; k++) {
      const j = (i + k) % variants.length;
      const s = sessions[j]!;
      const feeds = buildFeeds(meta, inputs, controls(), optionalTensorsOf(meta, s));
      const started = performance.now();
      await s.run(feeds, variants[j]!.preallocated === true ? fetches : names);
      if (i > 0) times[j]!.push(performance.now() - started);
    }
  }
  for (const [j, v] of variants.entries()) {
    const f = figure(v.name, 'floor', '', 'ms', times[j]!);
    console.log(
      `${v.name.padEnd(48)} open ${openMs[j]!.toFixed(0)} ms  median ${f.median.toFixed(1)} ms  p90 ${f.p90.toFixed(1)} ms  outputs ${identical[j] ? 'identical' : 'DIFFER'}`,
    );
  }
  for (const s of sessions) await s.release();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
