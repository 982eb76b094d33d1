// Paths and inputs for the engine tier: the built worker and CLI, the shipped checkpoints and
// sample clips with their committed (Python-decoded) tensors.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ArControls } from '../../src/protocol/contract';
import { defaultControls } from '../../src/shared/controls';
import { parseContractMetadata } from '../../src/core/contract/metadata';
import type { SessionSettings } from '../../src/protocol/workerMessages';
import { readOnnxModelInfo } from '../../src/core/onnx/modelProto';
import { readFloat32File } from '../../src/core/tensors/float32File';
import { CHECKPOINT_DIR, REPO_ROOT, V1_CHECKPOINT_DIR } from './golden';

export const WORKER_SCRIPT = join(REPO_ROOT, 'dist', 'core', 'inferenceWorker.js');
export const CLI_SCRIPT = join(REPO_ROOT, 'dist', 'cli', 'main.js');
export const SAMPLES_DIR = join(REPO_ROOT, 'models', 'samples');
export const MODEL = join(CHECKPOINT_DIR, 'mosear-tiny.onnx');
export const BASELINE_MODEL = join(CHECKPOINT_DIR, 'emotion-llama-tiny.onnx');
/** mosear-tiny as it shipped under contract 1 (no head_gate, no layer_logits). */
export const V1_MODEL = join(V1_CHECKPOINT_DIR, 'mosear-tiny.onnx');
export const SAMPLE_NAMES = [
  'sample-video-aligned-sad',
  'sample-audio-aligned-surprise',
  'sample-consistent-happy',
] as const;

/** Fails with a clear message when the build or the shipped files are missing. */
export function requireEngineFiles(): void {
  for (const file of [WORKER_SCRIPT, CLI_SCRIPT, MODEL, BASELINE_MODEL]) {
    if (!existsSync(file))
      throw new Error(`${file} is missing (run npm run build; checkpoints ship in models/)`);
  }
}

/** A sample's committed tensors and the checkpoint's default controls. */
export async function sampleInputs(
  name: string = SAMPLE_NAMES[0],
  model: string = MODEL,
): Promise<{
  frames: Float32Array;
  audio: Float32Array;
  promptIds: number[];
  controls: ArControls;
}> {
  const meta = parseContractMetadata((await readOnnxModelInfo(model)).metadata);
  const { count: T, height: H, width: W } = meta.frames;
  return {
    frames: await readFloat32File(join(SAMPLES_DIR, `${name}.frames.f32`), T * 3 * H * W),
    audio: await readFloat32File(join(SAMPLES_DIR, `${name}.audio.f32`), meta.audio.samples),
    promptIds: [...meta.prompt.defaultIds],
    controls: defaultControls(meta),
  };
}

/** CPU-only session settings for a model (one thread: the tests share the cores). */
export function cpuSettings(modelPath: string = MODEL): SessionSettings {
  return {
    modelPath,
    modelIdentity: modelPath,
    providers: ['cpu'],
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
}
