// Decode medians of both backends side by side on the README sample clips, with the shipped
// checkpoint's decode spec: `node dist/bench/decodeBackends.js [--runs N] [--json FILE]`.
// Each run is a full decode as the engine does it (wasm: a fresh worker process each time).
import { writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
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

async function measure(
  decoder: ClipDecoder,
  path: string,
  spec: ClipDecodeSpec,
  runs: number,
): Promise<Medians> {
  await decoder.decode(path, spec); // warm-up: file cache, JIT
  const clips: DecodedClip[] = [];
  for (let i = 0; i < runs; i++) clips.push(await decoder.decode(path, spec));
  const of = (pick: (c: DecodedClip) => number): number => median(clips.map(pick));
  return {
    totalMs: of((c) => c.timings.totalMs),
    startMs: clips[0]!.timings.startMs === undefined ? null : of((c) => c.timings.startMs ?? 0),
    probeMs: of((c) => c.timings.probeMs),
    framesMs: of((c) => c.timings.framesMs),
    audioMs: of((c) => c.timings.audioMs),
  };
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
  const clips = (await readdir(samplesDir)).filter((f) => f.endsWith('.mp4')).sort();
  const backends: { name: 'system' | 'wasm'; decoder: ClipDecoder }[] = [];
  let systemMissing: string | undefined;
  const system = new SystemFfmpegDecoder();
  try {
    system.executables();
    backends.push({ name: 'system', decoder: system });
  } catch (error) {
    if (!isDecodeError(error, 'FFMPEG_NOT_FOUND')) throw error;
    systemMissing = error.message;
  }
  backends.push({
    name: 'wasm',
    decoder: new WasmFfmpegDecoder({ workerScript: join(root, 'dist', WASM_WORKER_BUNDLE) }),
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
      'wasm ms',
      'wasm/system',
      'wasm start',
      'wasm probe',
      'wasm frames',
      'wasm audio',
    ],
  ];
  const report: Record<string, Partial<Record<'system' | 'wasm', Medians>>> = {};
  for (const clip of clips) {
    const path = join(samplesDir, clip);
    const result: Partial<Record<'system' | 'wasm', Medians>> = {};
    for (const backend of backends) {
      result[backend.name] = await measure(backend.decoder, path, spec, args.count);
    }
    report[clip] = result;
    const [s, w] = [result.system, result.wasm];
    rows.push([
      clip,
      s === undefined ? 'n/a' : fmt(s.totalMs),
      fmt(w?.totalMs),
      s === undefined || w === undefined ? '–' : `${(w.totalMs / s.totalMs).toFixed(2)}×`,
      fmt(w?.startMs),
      fmt(w?.probeMs),
      fmt(w?.framesMs),
      fmt(w?.audioMs),
    ]);
  }
  print(textTable(rows, ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']));
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
