// Decode medians of the decoders side by side on the README sample clips and two generated 10 s
// clips (short and long keyframe interval), with the shipped checkpoint's decode spec:
// `node dist/bench/decodeBackends.js [--runs N] [--json FILE]`. Each run is a full decode as the
// engine does it (wasm: a fresh worker process each time); the decoders take turns run by run.
// "system" reads all frames in one ffmpeg process, "per-frame" runs one process per frame; "wasm"
// reads all frames in one ffmpeg.wasm command, "wasm per-frame" one command per frame.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { textTable } from '../src/cli/textTable';
import { parseContractMetadata } from '../src/core/contract/metadata';
import {
  clipDecodeSpecFromContract,
  type ClipDecodeSpec,
  type ClipDecoder,
  type DecodedClip,
} from '../src/core/decode/clipDecoder';
import { isDecodeError } from '../src/core/decode/decodeError';
import { SystemFfmpegDecoder } from '../src/core/decode/systemFfmpegDecoder';
import { WASM_WORKER_BUNDLE, WasmFfmpegDecoder } from '../src/core/decode/wasmFfmpegDecoder';
import { readOnnxModelInfo } from '../src/core/onnx/modelProto';
import { benchArgs } from './benchArgs';

/** One line to stdout (a report, so not the lint-banned console). */
const print = (line: string): boolean => process.stdout.write(`${line}\n`);

/** dist/bench/decodeBackends.js lives two folders below the repository root. */
const root = resolve(__dirname, '..', '..');
const samplesDir = join(root, 'models', 'samples');
const checkpoint = join(root, 'models', 'checkpoints', 'mosear-tiny.onnx');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Medians of one backend on one clip, in milliseconds. */
interface Medians {
  totalMs: number;
  startMs: number | null;
  probeMs: number;
  framesMs: number;
  audioMs: number;
}

type BackendName = 'system' | 'per-frame' | 'wasm' | 'wasm-per-frame';

/** Medians of each decoder on one clip, the decoders taking turns run by run. */
async function measure(
  backends: { name: BackendName; decoder: ClipDecoder }[],
  path: string,
  spec: ClipDecodeSpec,
  runs: number,
): Promise<Partial<Record<BackendName, Medians>>> {
  for (const b of backends) await b.decoder.decode(path, spec); // warm-up: file cache, JIT
  const clips = new Map<BackendName, DecodedClip[]>(backends.map((b) => [b.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const b of backends) clips.get(b.name)!.push(await b.decoder.decode(path, spec));
  }
  const result: Partial<Record<BackendName, Medians>> = {};
  for (const [name, list] of clips) {
    const of = (pick: (c: DecodedClip) => number): number => median(list.map(pick));
    result[name] = {
      totalMs: of((c) => c.timings.totalMs),
      startMs: list[0]!.timings.startMs === undefined ? null : of((c) => c.timings.startMs ?? 0),
      probeMs: of((c) => c.timings.probeMs),
      framesMs: of((c) => c.timings.framesMs),
      audioMs: of((c) => c.timings.audioMs),
    };
  }
  return result;
}

/** Two 10 s 640×360 h264/aac clips: keyframes every 0.5 s and every 10 s. */
function makeLongClips(dir: string): string[] {
  return [
    ['10s-keyframe-0.5s.mp4', '12'],
    ['10s-keyframe-10s.mp4', '250'],
  ].map(([name, gop]) => {
    const out = join(dir, name!);
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=25:d=10'],
      ...['-f', 'lavfi', '-i', 'sine=f=440:d=10:sample_rate=44100', '-c:v', 'libx264'],
      ...['-g', gop!, '-c:a', 'aac', '-shortest', out],
    ]);
    return out;
  });
}

async function main(): Promise<void> {
  const args = benchArgs(
    process.argv.slice(2),
    'decodeBackends',
    { name: 'runs', default: 5, min: 1 },
    undefined,
    print,
  );
  const spec = clipDecodeSpecFromContract(
    parseContractMetadata((await readOnnxModelInfo(checkpoint)).metadata),
  );
  const clips = (await readdir(samplesDir))
    .filter((f) => f.endsWith('.mp4'))
    .sort()
    .map((f) => join(samplesDir, f));
  const backends: { name: BackendName; decoder: ClipDecoder }[] = [];
  let systemMissing: string | undefined;
  const system = new SystemFfmpegDecoder();
  const scratch = mkdtempSync(join(tmpdir(), 'bench-decode-'));
  try {
    system.executables();
    backends.push({ name: 'system', decoder: system });
    backends.push({
      name: 'per-frame',
      decoder: new SystemFfmpegDecoder({ frameDecode: 'per-frame' }),
    });
    clips.push(...makeLongClips(scratch));
  } catch (error) {
    if (!isDecodeError(error, 'FFMPEG_NOT_FOUND')) throw error;
    systemMissing = error.message;
  }
  const workerScript = join(root, 'dist', WASM_WORKER_BUNDLE);
  backends.push({ name: 'wasm', decoder: new WasmFfmpegDecoder({ workerScript }) });
  backends.push({
    name: 'wasm-per-frame',
    decoder: new WasmFfmpegDecoder({ workerScript, frameDecode: 'per-frame' }),
  });

  print(
    `decode medians over ${args.count} runs (after one warm-up), spec ${spec.frames} frames ` +
      `${spec.width}×${spec.height} + ${spec.samples} samples at ${spec.sampleRateHz} Hz`,
  );
  const fmt = (ms: number | null | undefined): string =>
    ms === null || ms === undefined ? '–' : ms.toFixed(0);
  const rows = [
    [
      'clip',
      'system ms',
      'per-frame ms',
      'system/per-frame',
      'wasm ms',
      'wasm per-frame ms',
      'wasm/per-frame',
      'wasm/system',
      'wasm start',
      'wasm probe',
      'wasm frames',
      'wasm audio',
    ],
  ];
  const report: Record<string, Partial<Record<BackendName, Medians>>> = {};
  for (const path of clips) {
    const clip = basename(path);
    const result = await measure(backends, path, spec, args.count);
    report[clip] = result;
    const [s, p, w, wp] = [
      result.system,
      result['per-frame'],
      result.wasm,
      result['wasm-per-frame'],
    ];
    rows.push([
      clip,
      s === undefined ? 'n/a' : fmt(s.totalMs),
      fmt(p?.totalMs),
      s === undefined || p === undefined ? '–' : `${(s.totalMs / p.totalMs).toFixed(2)}×`,
      fmt(w?.totalMs),
      fmt(wp?.totalMs),
      w === undefined || wp === undefined ? '–' : `${(w.totalMs / wp.totalMs).toFixed(2)}×`,
      s === undefined || w === undefined ? '–' : `${(w.totalMs / s.totalMs).toFixed(2)}×`,
      fmt(w?.startMs),
      fmt(w?.probeMs),
      fmt(w?.framesMs),
      fmt(w?.audioMs),
    ]);
  }
  rmSync(scratch, { recursive: true, force: true });
  print(textTable(rows, ['left', ...rows[0]!.slice(1).map(() => 'right' as const)]));
  if (systemMissing !== undefined) print(`system decoder not measured: ${systemMissing}`);
  if (args.json !== undefined) {
    writeFileSync(args.json, JSON.stringify({ spec, runs: args.count, clips: report }, null, 2));
    print(`wrote ${args.json}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
