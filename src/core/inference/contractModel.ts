// Loads a contract model into an onnxruntime-node session (trying execution providers one at a
// time) and runs it. In-process: the engine calls it from the inference worker (inferenceWorker.ts),
// the results tier and the golden tests call it directly.
import * as ort from 'onnxruntime-node';
import type { ArControls, ContractMetadata } from '../../protocol/contract';
import type { ExecutionProviderName, ProviderAttempt } from '../../protocol/executionProviders';
import { ContractError } from '../contract/contractError';
import { validateControls } from '../contract/controls';
import { readCheckedModelFile } from '../contract/graphCheck';
import { MOSE_OUTPUT, OUTPUT_NAMES, type OutputName } from '../contract/names';
import { validateSessionSignature } from '../contract/signature';
import { OnnxModelError, type OnnxModelInfo } from '../onnx/modelProto';
import { openWithFallback } from './executionProviders';

/** onnxruntime's graph optimisation levels. */
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** How to open a model. */
export interface OpenModelOptions {
  graphOptimizationLevel?: GraphOptimizationLevel;
  intraOpNumThreads?: number;
  /** onnxruntime's log level: 0 verbose … 4 fatal (default 3, errors only). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Providers to try, one at a time, in order (default: cpu only). */
  executionProviders?: readonly ExecutionProviderName[];
  /** The platform whose providers exist (default: this process's). */
  platform?: NodeJS.Platform;
}

/** A validated contract model with its open session. */
export interface ContractModel {
  path: string;
  info: OnnxModelInfo;
  metadata: ContractMetadata;
  session: ort.InferenceSession;
  executionProvider: ExecutionProviderName;
  /** Every provider tried, in order; the last one opened the session. */
  providerAttempts: ProviderAttempt[];
}

/** Clip tensors for one run: `frames` [T·3·H·W], `audio` [S], optional prompt ids [P]. */
export interface ModelInputs {
  frames: Float32Array;
  audio: Float32Array;
  promptIds?: readonly number[];
}

/** A float32 output with its shape. */
export interface OutputTensor {
  data: Float32Array;
  dims: number[];
}

/** The contract's outputs of one run (`mose_gate` only for MoSE checkpoints). */
export type ContractOutputs = Record<(typeof OUTPUT_NAMES)[number], OutputTensor> &
  Partial<Record<typeof MOSE_OUTPUT, OutputTensor>>;

/**
 * Reads and validates the metadata and the graph's declared signature, opens a session on the first provider of
 * `options.executionProviders` that works (cpu by default) and checks its inputs and outputs
 * against the contract. Throws OnnxModelError or ContractError naming what is wrong with the
 * model, InferenceError PROVIDER_UNAVAILABLE when no provider opens.
 */
export async function openContractModel(
  path: string,
  options: OpenModelOptions = {},
): Promise<ContractModel> {
  // The metadata and the graph's signature, checked before onnxruntime loads any weights.
  const { info, metadata } = await readCheckedModelFile(path);
  const create = async (provider: ExecutionProviderName): Promise<ort.InferenceSession> => {
    try {
      return await ort.InferenceSession.create(path, {
        executionProviders: [provider],
        graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
        logSeverityLevel: options.logSeverityLevel ?? 3,
        ...(options.intraOpNumThreads === undefined
          ? {}
          : { intraOpNumThreads: options.intraOpNumThreads }),
      });
    } catch (error) {
      // The CPU provider always exists: when it fails, the model is at fault, not the provider.
      if (provider !== 'cpu') throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new OnnxModelError(`onnxruntime could not load the model ${path}: ${message}`);
    }
  };
  const opened = await openWithFallback(options.executionProviders ?? ['cpu'], create, {
    platform: options.platform ?? process.platform,
    isFatal: (error) => error instanceof OnnxModelError,
  });
  const session = opened.value;
  try {
    validateSessionSignature(metadata, session);
  } catch (error) {
    await session.release();
    throw error;
  }
  return {
    path,
    info,
    metadata,
    session,
    executionProvider: opened.provider,
    providerAttempts: opened.attempts,
  };
}

/** Builds the graph's feeds from clip tensors and controls, rejecting wrong sizes. */
export function buildFeeds(
  meta: ContractMetadata,
  inputs: ModelInputs,
  controls: ArControls,
): Record<string, ort.Tensor> {
  validateControls(meta, controls);
  const { layers: L, heads: Hh } = meta.architecture;
  const { height: H, width: W } = meta.frames;
  const frameValues = 3 * H * W;
  const T = inputs.frames.length / frameValues;
  const tOk = meta.frames.dynamicCount ? Number.isInteger(T) && T > 0 : T === meta.frames.count;
  if (!tOk) {
    const expected = meta.frames.dynamicCount
      ? `a multiple of ${frameValues}`
      : `${meta.frames.count * frameValues}`;
    throw new ContractError(`frames: got ${inputs.frames.length} values, expected ${expected}`);
  }
  if (inputs.audio.length !== meta.audio.samples) {
    throw new ContractError(
      `audio: got ${inputs.audio.length} samples, expected ${meta.audio.samples}`,
    );
  }
  const promptIds = inputs.promptIds ?? meta.prompt.defaultIds;
  if (promptIds.length !== meta.prompt.defaultIds.length) {
    throw new ContractError(
      `prompt_ids: got ${promptIds.length} ids, expected ${meta.prompt.defaultIds.length}`,
    );
  }
  const f32 = (values: readonly number[], dims: number[]) =>
    new ort.Tensor('float32', Float32Array.from(values), dims);
  const i64 = (values: readonly number[], dims: number[]) =>
    new ort.Tensor(
      'int64',
      BigInt64Array.from(values, (v) => BigInt(v)),
      dims,
    );
  return {
    frames: new ort.Tensor('float32', inputs.frames, [1, T, 3, H, W]),
    audio: new ort.Tensor('float32', inputs.audio, [1, meta.audio.samples]),
    prompt_ids: i64(promptIds, [1, promptIds.length]),
    ar_mode: i64([controls.mode], []),
    ar_tau: f32(controls.tau, [L]),
    ar_ratio_kind: i64([controls.ratioKind], []),
    ar_head_margin: f32([controls.headMargin], []),
    ar_alpha: f32([controls.alpha], []),
    pai_alpha: f32([controls.paiAlpha], []),
    ar_layers: f32(controls.layers, [L]),
    ar_head_override: f32(controls.headOverride.flat(), [L, Hh]),
  };
}

/** Runs a contract model once and returns its outputs as float32 tensors. */
export async function runContractModel(
  model: ContractModel,
  inputs: ModelInputs,
  controls: ArControls,
): Promise<ContractOutputs> {
  const feeds = buildFeeds(model.metadata, inputs, controls);
  const names: OutputName[] = [...OUTPUT_NAMES];
  if (model.metadata.architecture.mose) names.push(MOSE_OUTPUT);
  const results = await model.session.run(feeds, names);
  const outputs: Partial<Record<OutputName, OutputTensor>> = {};
  for (const name of names) {
    const tensor = results[name];
    if (!tensor || tensor.type !== 'float32') {
      throw new ContractError(`output "${name}" is missing or not float32 after the run`);
    }
    outputs[name] = { data: tensor.data as Float32Array, dims: [...tensor.dims] };
  }
  return outputs as ContractOutputs;
}

/** Releases the model's native session. */
export async function closeContractModel(model: ContractModel): Promise<void> {
  await model.session.release();
}

/** The version of the loaded onnxruntime-node package (e.g. "1.30.0"). */
export function onnxRuntimeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}
