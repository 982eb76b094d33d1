// `npm run bench`: how fast the engine is on the shipped clips and a generated 10 s clip —
// decode, one inference with and without intervention through the worker, the re-run of a
// decoded clip with new settings, a full analyze, and a cold `mosear-lens analyze` process.
// Every measured run uses settings not seen before, and the worker's `session.run` count is
// reported next to the count the runs should need, so no cache can fake a figure. Not a test.
// Usage: node dist/bench/engine.js [--runs N] [--json FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { ArControls } from '../src/protocol/contract';
import { textTable } from '../src/cli/textTable';
import { defaultControls } from '../src/shared/controls';
import { clipDecodeSpecFromContract } from '../src/core/decode/clipDecoder';
import { SystemFfmpegDecoder } from '../src/core/decode/systemFfmpegDecoder';
import { AnalysisEngine } from '../src/core/engine/analysisEngine';
import { InferenceWorker } from '../src/core/inference/workerClient';
import { intraOpThreadsFor } from '../src/core/inference/workerPool';
import { benchArgs } from './benchArgs';

/** dist/bench/engine.js lives two folders below the repository root. */
const root = resolve(__dirname, '..', '..');
const MODEL = join(root, 'models', 'checkpoints', 'mosear-tiny.onnx');
const WORKER = join(root, 'dist', 'core', 'inferenceWorker.js');
const CLI = join(root, 'dist', 'cli', 'main.js');
const SAMPLES = [
  'sample-video-aligned-sad',
  'sample-audio-aligned-surprise',
  'sample-consistent-happy',
];

/** The q-quantile by linear interpolation between order statistics. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

interface Row {
  measure: string;
  clip: string;
  runs: number;
  medianMs: number;
  p90Ms: number;
  /** session.run calls the worker made during these runs, and how many they need. */
  sessionRuns: number | null;
  expectedSessionRuns: number | null;
  target?: string;
}

/** A 10 s clip (25 fps 320×240 h264 + AAC tone), made once under .tmp/bench/. */
function tenSecondClip(): string {
  const dir = join(root, '.tmp', 'bench');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'ten-seconds.mp4');
  if (!existsSync(out)) {
    execFileSync('ffmpeg', [
      '-v', 'error', '-nostdin', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=10',
      '-f', 'lavfi', '-i', 'sine=f=300:d=10',
      '-c:v', 'libx264', '-c:a', 'aac', '-shortest', out,
    ]); // prettier-ignore
  }
  return out;
}

/** Controls never used before in this process: α and τ move by a tiny step per call. */
let fresh = 0;
function freshControls(base: ArControls, mode: ArControls['mode']): ArControls {
  fresh++;
  return {
    ...base,
    mode,
    alpha: 0.2 + ((fresh * 0.0007) % 0.6),
    tau: base.tau.map((t) => t + fresh * 1e-6),
    paiAlpha: base.paiAlpha + fresh * 1e-4,
  };
}

async function main(): Promise<void> {
  const args = benchArgs(
    process.argv.slice(2),
    'engine',
    { name: 'runs', default: 15, min: 3 },
    join(root, '.tmp', 'bench', 'engine.json'),
    console.log,
  );
  const json = args.json;
  const loadAtStart = loadavg()[0]!;
  for (const file of [MODEL, WORKER, CLI]) {
    if (!existsSync(file))
      throw new Error(`${file} is missing (npm run build; the checkpoint ships in models/)`);
  }
  const clips = [
    ...SAMPLES.map((n) => ({
      name: `${n} (2 s)`,
      path: join(root, 'models', 'samples', `${n}.mp4`),
    })),
    { name: 'ten-seconds (10 s)', path: tenSecondClip() },
  ];
  const rows: Row[] = [];
  const N = args.count;
  const engine = new AnalysisEngine({ workerScript: WORKER, toolName: 'mosear-lens-bench' });
  const meta = (await engine.model(MODEL)).metadata;
  const spec = clipDecodeSpecFromContract(meta);
  const base = defaultControls(meta);
  const decoder = new SystemFfmpegDecoder();
  // The same worker settings the engine uses (one worker: all cores).
  const threads = intraOpThreadsFor(availableParallelism(), 1);
  const worker = new InferenceWorker({ workerScript: WORKER });
  const settings = {
    modelPath: MODEL,
    modelIdentity: 'bench',
    providers: ['cpu' as const],
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all' as const,
  };

  try {
    for (const clip of clips) {
      // Decode: a full decode every time (no cache involved).
      const decodeMs: number[] = [];
      let decoded = await decoder.decode(clip.path, spec);
      for (let i = 0; i < N; i++) {
        const started = performance.now();
        decoded = await decoder.decode(clip.path, spec);
        decodeMs.push(performance.now() - started);
      }
      rows.push(row('decode (system ffmpeg)', clip.name, decodeMs, null, null));

      // One inference through the worker, end to end, without and with intervention.
      const inputs = {
        frames: decoded.frames,
        audio: decoded.audio ?? new Float32Array(spec.samples),
        promptIds: [...meta.prompt.defaultIds],
      };
      await worker.run(settings, inputs, [freshControls(base, 0)]); // opens the session
      for (const mode of [0, 1] as const) {
        const endToEnd: number[] = [];
        const inside: number[] = [];
        let calls = 0;
        for (let i = 0; i < N; i++) {
          const started = performance.now();
          const reply = await worker.run(settings, inputs, [freshControls(base, mode)]);
          endToEnd.push(performance.now() - started);
          inside.push(reply.runs[0]!.runMs);
          calls += reply.runs.length;
        }
        const what = mode === 0 ? 'without intervention' : 'with AR';
        rows.push(row(`inference ${what}, worker round trip`, clip.name, endToEnd, calls, N));
        rows.push(row(`  of which session.run`, clip.name, inside, null, null));
      }

      // N analyses with fresh settings; `cached` says whether the clip stays decoded.
      const analyses = async (cached: boolean): Promise<{ ms: number[]; calls: number }> => {
        const ms: number[] = [];
        let calls = 0;
        for (let i = 0; i < N; i++) {
          if (!cached) engine.clearClipCache();
          const started = performance.now();
          const r = await engine.analyze({
            clipPath: clip.path,
            modelPath: MODEL,
            controls: freshControls(base, 1),
          });
          ms.push(performance.now() - started);
          calls += r.timings.sessionRuns;
          if (r.timings.decodeCached !== cached) throw new Error('the clip cache misbehaved');
        }
        return { ms, calls };
      };
      // Re-run of the decoded clip with new settings (the first analyze decodes it).
      await engine.analyze({
        clipPath: clip.path,
        modelPath: MODEL,
        controls: freshControls(base, 1),
      });
      const rerun = await analyses(true);
      const rerunLabel = 're-run with new settings (analyze, clip cached)';
      rows.push({ ...row(rerunLabel, clip.name, rerun.ms, rerun.calls, 2 * N), target: '≤ 50 ms' });
      // Full analyze: decode + both runs + analysis (warm worker, empty clip cache).
      const full = await analyses(false);
      rows.push({
        ...row('full analyze (decode + 2 runs + analysis)', clip.name, full.ms, full.calls, 2 * N),
        ...(clip.name.startsWith('ten') ? { target: '≤ 1 s' } : {}),
      });
    }

    // A cold process: node start, worker start, provider fallback, decode, runs, summary.
    const long = clips[clips.length - 1]!;
    const cold: number[] = [];
    const coldRuns = Math.min(N, 5);
    for (let i = 0; i < coldRuns; i++) {
      const started = performance.now();
      execFileSync(process.execPath, [
        CLI,
        'analyze',
        long.path,
        '--quiet',
        '--alpha',
        String(0.31 + i / 1000),
      ]);
      cold.push(performance.now() - started);
    }
    rows.push(row('cold `mosear-lens analyze` process (ep auto)', long.name, cold, null, null));
  } finally {
    await worker.dispose();
    await engine.dispose();
  }

  const table = textTable(
    [
      ['measure', 'clip', 'runs', 'median', 'p90', 'session.run', 'target'],
      ...rows.map((r) => [
        r.measure,
        r.clip,
        String(r.runs),
        `${r.medianMs.toFixed(1)} ms`,
        `${r.p90Ms.toFixed(1)} ms`,
        r.sessionRuns === null ? '' : `${r.sessionRuns} (needs ${r.expectedSessionRuns})`,
        r.target ?? '',
      ]),
    ],
    ['left', 'left', 'right', 'right', 'right', 'right', 'left'],
  );
  // The load average says whether other work shared the cores (it inflates every figure).
  const load = `${loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end (1 min)`;
  const machine = `${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, ${process.platform}, node ${process.version}, load average ${load}`;
  console.log(`engine benchmark: ${machine}; ${threads} intra-op thread(s), cpu provider\n`);
  console.log(table);
  mkdirSync(resolve(json, '..'), { recursive: true });
  writeFileSync(
    json,
    `${JSON.stringify({ machine, intraOpThreads: threads, runs: N, rows }, null, 2)}\n`,
  );
  console.log(`\nwrote ${json}`);
}

function row(
  measure: string,
  clip: string,
  ms: number[],
  sessionRuns: number | null,
  expected: number | null,
): Row {
  return {
    measure,
    clip,
    runs: ms.length,
    medianMs: quantile(ms, 0.5),
    p90Ms: quantile(ms, 0.9),
    sessionRuns,
    expectedSessionRuns: expected,
  };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
