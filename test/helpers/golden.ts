// Loads the committed checkpoints and their golden cases (models/golden/README.md).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ArControls, ArMode, RatioKind } from '../../src/protocol/contract';
import type { ContractOutputs, OutputTensor } from '../../src/core/inference/contractModel';
import { readFloat32File } from '../../src/core/tensors/float32File';

/** The repository root (the folder holding package.json above the built test). */
export const REPO_ROOT = findRoot(__dirname);
export const CHECKPOINT_DIR = join(REPO_ROOT, 'models', 'checkpoints');
/** Today's checkpoints as they shipped under contract 1 (no head_gate, no layer_logits). */
export const V1_CHECKPOINT_DIR = join(REPO_ROOT, 'models', 'fixtures', 'v1');
export const GOLDEN_DIR = join(REPO_ROOT, 'models', 'golden');

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

/** The control inputs of a golden case, by graph input name. */
export interface GoldenControls {
  ar_mode: number;
  ar_tau: number[];
  ar_ratio_kind: number;
  ar_head_margin: number;
  ar_alpha: number;
  pai_alpha: number;
  ar_layers: number[];
  ar_head_override: number[][];
}

/** One golden case: inputs, controls and the outputs PyTorch computed. */
export interface GoldenCase {
  name: string;
  input: string;
  prompt_ids: number[];
  controls: GoldenControls;
  /** Gate cases (models/golden/<name>.gate.json): the `head_gate` fed, [L][Hh]. */
  head_gate?: number[][];
  /** Repeat cases (models/golden/<name>.repeat.json): the `audio_repeat` k fed. */
  audio_repeat?: number;
  expected: Record<string, { shape: number[]; data: number[] }>;
  checks?: Record<string, unknown>;
}

/** A checkpoint's golden file. */
export interface GoldenFile {
  checkpoint: string;
  model: string;
  tolerance: number;
  inputs: Record<string, { frames: string; audio: string; source?: string }>;
  cases: GoldenCase[];
}

/** A committed checkpoint and where its golden file should be. */
export interface Checkpoint {
  name: string;
  onnxPath: string;
  goldenPath: string;
}

/** Lists models/checkpoints/*.onnx (an empty list when the folder is missing). */
export function listCheckpoints(): Checkpoint[] {
  if (!existsSync(CHECKPOINT_DIR)) return [];
  return readdirSync(CHECKPOINT_DIR)
    .filter((f) => f.endsWith('.onnx'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -'.onnx'.length);
      return {
        name,
        onnxPath: join(CHECKPOINT_DIR, f),
        goldenPath: join(GOLDEN_DIR, `${name}.json`),
      };
    });
}

/** Reads a golden file; its model path is resolved against models/golden/. */
export function loadGolden(path: string): GoldenFile {
  const golden = JSON.parse(readFileSync(path, 'utf8')) as GoldenFile;
  if (!Array.isArray(golden.cases) || golden.cases.length === 0) {
    throw new Error(`${path}: no cases`);
  }
  return { ...golden, model: resolve(GOLDEN_DIR, golden.model) };
}

/** Clip tensors of every input a golden file names. */
export async function loadGoldenInputs(
  golden: GoldenFile,
): Promise<Map<string, { frames: Float32Array; audio: Float32Array }>> {
  const inputs = new Map<string, { frames: Float32Array; audio: Float32Array }>();
  for (const [id, files] of Object.entries(golden.inputs)) {
    inputs.set(id, {
      frames: await readFloat32File(resolve(GOLDEN_DIR, files.frames)),
      audio: await readFloat32File(resolve(GOLDEN_DIR, files.audio)),
    });
  }
  return inputs;
}

/** A golden case's controls as the engine's ArControls. */
export function caseControls(c: GoldenControls): ArControls {
  return {
    mode: c.ar_mode as ArMode,
    ratioKind: c.ar_ratio_kind as RatioKind,
    tau: c.ar_tau,
    headMargin: c.ar_head_margin,
    alpha: c.ar_alpha,
    paiAlpha: c.pai_alpha,
    layers: c.ar_layers,
    headOverride: c.ar_head_override,
  };
}

/** Largest |a − b| and where it is. */
export function maxAbsDiff(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { max: number; at: number } {
  if (a.length !== b.length) return { max: Infinity, at: -1 };
  let max = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (!(d <= max)) {
      max = d;
      at = i;
    }
  }
  return { max, at };
}

/** Index of the first element whose bits differ (NaN-aware), or -1 when identical. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** The output names present in a run, in a fixed order. */
export function outputEntries(outputs: ContractOutputs): [string, OutputTensor][] {
  return Object.entries(outputs).filter((e): e is [string, OutputTensor] => e[1] !== undefined);
}

/** The checkpoint the demo and the README use; the golden tier fails without it. */
export const DEFAULT_CHECKPOINT = 'mosear-tiny';

/**
 * Lists the checkpoints and registers a test that fails when the default one or any golden file
 * is missing, so the golden tier can never pass vacuously.
 */
export function requireCheckpoints(test: (name: string, fn: () => void) => unknown): Checkpoint[] {
  const checkpoints = listCheckpoints();
  test('the committed checkpoints and their golden files are present', () => {
    const names = checkpoints.map((c) => c.name);
    if (!names.includes(DEFAULT_CHECKPOINT)) {
      throw new Error(
        `models/checkpoints/${DEFAULT_CHECKPOINT}.onnx is missing (found: ${names.join(', ') || 'none'}); ` +
          'the golden tier checks the committed checkpoints against models/golden/',
      );
    }
    for (const c of checkpoints) {
      if (!existsSync(c.goldenPath)) {
        throw new Error(`checkpoint ${c.name} has no golden file models/golden/${c.name}.json`);
      }
    }
    const goldenFiles = existsSync(GOLDEN_DIR)
      ? readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.json'))
      : [];
    for (const f of goldenFiles) {
      if (!names.includes(f.replace(/(\.gate|\.repeat)?\.json$/, ''))) {
        throw new Error(`models/golden/${f} has no checkpoint in models/checkpoints/`);
      }
    }
  });
  return checkpoints.filter((c) => existsSync(c.goldenPath));
}
