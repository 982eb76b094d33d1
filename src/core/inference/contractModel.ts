// Loads a contract model into an onnxruntime-node session (trying execution providers one at a
// time) and runs it. In-process: the engine calls it from the inference worker (inferenceWorker.ts),
// the results tier and the golden tests call it directly.
import * as ort from 'onnxruntime-node';
import type { ArControls, ContractMetadata } from '../../protocol/contract';
import type { ExecutionProviderName, ProviderAttempt } from '../../protocol/executionProviders';
import { ContractError } from '../contract/contractError';
import { validateControls } from '../contract/controls';
import { readCheckedModelFile } from '../contract/graphCheck';
import {
  FEATURE_INPUTS,
  GREEDY_TOKEN_OUTPUT,
  AUDIO_REPEAT_INPUT,
  HEAD_GATE_INPUT,
  LABEL_PROBABILITY_OUTPUT,
  LAYER_LOGITS_OUTPUT,
  MOSE_OUTPUT,
  OUTPUT_NAMES,
  type FeatureInputName,
  type OutputName,
} from '../contract/names';
import { audioSampleRange, checkAudioRepeat } from '../contract/runLayout';
import { featureDimsOf, validateSessionSignature } from '../contract/signature';
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

/** Which of contract 1.1's optional inputs and outputs (§1a, §2a) a graph declares. */
export interface OptionalTensors {
  headGate: boolean;
  /** Contract 1.2's `audio_repeat` (§1c). */
  audioRepeat?: boolean;
  layerLogits: boolean;
  /** `greedy_token` and `label_probability` (§2a; the real-checkpoint exporter's). */
  greedyToken?: boolean;
  labelProbability?: boolean;
  /** The feature inputs the graph declares (§1b), each with its D. */
  featureDims?: Partial<Record<FeatureInputName, number>>;
}

/** The optional tensors a session declares (none for a contract-1 model). */
export function optionalTensorsOf(
  meta: ContractMetadata,
  session: {
    readonly inputNames: readonly string[];
    readonly outputNames: readonly string[];
    readonly inputMetadata?: readonly ort.InferenceSession.ValueMetadata[];
  },
): OptionalTensors {
  const v11 = meta.contract !== '1';
  const inputs = (session.inputMetadata ?? []).map((m) =>
    m.isTensor ? { name: m.name, shape: m.shape } : { name: m.name },
  );
  return {
    featureDims: featureDimsOf(meta, inputs),
    headGate: v11 && session.inputNames.includes(HEAD_GATE_INPUT),
    audioRepeat: meta.contract === '1.2' && session.inputNames.includes(AUDIO_REPEAT_INPUT),
    layerLogits: v11 && session.outputNames.includes(LAYER_LOGITS_OUTPUT),
    greedyToken: v11 && session.outputNames.includes(GREEDY_TOKEN_OUTPUT),
    labelProbability: v11 && session.outputNames.includes(LABEL_PROBABILITY_OUTPUT),
  };
}

/**
 * Clip tensors for one run: `frames` [T·3·H·W], `audio` [S], optional prompt ids [P] (the
 * run's layout's, CONTRACT.md §3.3), optional `head_gate` [L·Hh] (default all ones).
 */
export interface ModelInputs {
  frames: Float32Array;
  audio: Float32Array;
  promptIds?: readonly number[];
  headGate?: Float32Array;
  /** Pre-extracted feature vectors [D] by input name (§1b; absent: zeros where declared). */
  features?: Partial<Record<FeatureInputName, Float32Array>>;
  /** Contract 1.2: `audio_repeat` k (default 1; the prompt ids are the run's as usual). */
  audioRepeat?: number;
}

/** A float32 output with its shape. */
export interface OutputTensor {
  data: Float32Array;
  dims: number[];
}

/**
 * The contract's outputs of one run (`mose_gate` only for MoSE checkpoints, the §2a outputs only
 * for 1.1 graphs that declare them; `greedy_token`'s int64 id as a float32, exact below 2^24).
 */
export type ContractOutputs = Record<(typeof OUTPUT_NAMES)[number], OutputTensor> &
  Partial<
    Record<
      | typeof MOSE_OUTPUT
      | typeof LAYER_LOGITS_OUTPUT
      | typeof GREEDY_TOKEN_OUTPUT
      | typeof LABEL_PROBABILITY_OUTPUT,
      OutputTensor
    >
  >;

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
        // No memory pattern: with it, the worker's peak at 32 × 32 × ~1000 positions was 1.8×
        // higher (875 vs 485 MB above idle), outputs bit-identical either way (perf-log.md).
        enableMemPattern: false,
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

/**
 * Builds the graph's feeds from clip tensors and controls, rejecting wrong sizes. `head_gate` is
 * fed (all ones unless given) when the graph declares it; a gate that is not all ones is refused
 * for a graph without the input.
 */
export function buildFeeds(
  meta: ContractMetadata,
  inputs: ModelInputs,
  controls: ArControls,
  optional: OptionalTensors = { headGate: false, layerLogits: false },
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
  const S = inputs.audio.length;
  const range = audioSampleRange(meta);
  if (S < range.min || S > range.max) {
    const expected = range.min === range.max ? `${range.max}` : `${range.min} to ${range.max}`;
    throw new ContractError(`audio: got ${S} samples, expected ${expected}`);
  }
  const promptIds = inputs.promptIds ?? meta.prompt.defaultIds;
  // A 1.1 variable layout's P is the run's (CONTRACT.md §3.3); otherwise it is fixed.
  if (
    meta.tokenLayout.variableSegment === undefined &&
    promptIds.length !== meta.prompt.defaultIds.length
  ) {
    throw new ContractError(
      `prompt_ids: got ${promptIds.length} ids, expected ${meta.prompt.defaultIds.length}`,
    );
  }
  if (meta.tokenLayout.variableSegment !== undefined && promptIds.length === 0) {
    throw new ContractError('prompt_ids: got no ids');
  }
  const gate = inputs.headGate;
  if (gate !== undefined && gate.length !== L * Hh) {
    throw new ContractError(`head_gate: got ${gate.length} values, expected ${L * Hh}`);
  }
  if (gate !== undefined && !optional.headGate && gate.some((g) => g !== 1)) {
    throw new ContractError(
      `head_gate: the model has no "${HEAD_GATE_INPUT}" input (CONTRACT.md §1a), so no head can be gated`,
    );
  }
  const k = inputs.audioRepeat ?? 1;
  // A k other than 1 needs the input and a k within its cap (CONTRACT.md §1c).
  if (k !== 1 || optional.audioRepeat === true) checkAudioRepeat(meta, k);
  const f32 = (values: readonly number[], dims: number[]) =>
    new ort.Tensor('float32', Float32Array.from(values), dims);
  const i64 = (values: readonly number[], dims: number[]) =>
    new ort.Tensor(
      'int64',
      BigInt64Array.from(values, (v) => BigInt(v)),
      dims,
    );
  const feeds: Record<string, ort.Tensor> = {
    frames: new ort.Tensor('float32', inputs.frames, [1, T, 3, H, W]),
    audio: new ort.Tensor('float32', inputs.audio, [1, S]),
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
  const dims = optional.featureDims ?? {};
  for (const name of FEATURE_INPUTS) {
    const given = inputs.features?.[name];
    const d = dims[name];
    if (d === undefined) {
      if (given !== undefined) {
        throw new ContractError(
          `${name}: the model has no "${name}" input (CONTRACT.md §1b), so the features cannot be fed`,
        );
      }
      continue;
    }
    if (given !== undefined && given.length !== d) {
      throw new ContractError(`${name}: got ${given.length} values, expected ${d}`);
    }
    feeds[name] = new ort.Tensor('float32', given ?? new Float32Array(d), [1, d]);
  }
  if (optional.headGate) {
    feeds[HEAD_GATE_INPUT] = new ort.Tensor('float32', gate ?? new Float32Array(L * Hh).fill(1), [
      L,
      Hh,
    ]);
  }
  if (optional.audioRepeat === true) feeds[AUDIO_REPEAT_INPUT] = i64([k], []);
  return feeds;
}

/** Runs a contract model once and returns its outputs as float32 tensors. */
export async function runContractModel(
  model: ContractModel,
  inputs: ModelInputs,
  controls: ArControls,
): Promise<ContractOutputs> {
  const optional = optionalTensorsOf(model.metadata, model.session);
  const feeds = buildFeeds(model.metadata, inputs, controls, optional);
  const names: OutputName[] = [...OUTPUT_NAMES];
  if (model.metadata.architecture.mose) names.push(MOSE_OUTPUT);
  if (optional.layerLogits) names.push(LAYER_LOGITS_OUTPUT);
  if (optional.labelProbability === true) names.push(LABEL_PROBABILITY_OUTPUT);
  if (optional.greedyToken === true) names.push(GREEDY_TOKEN_OUTPUT);
  const results = await model.session.run(feeds, names);
  const outputs: Partial<Record<OutputName, OutputTensor>> = {};
  for (const name of names) {
    const tensor = results[name];
    if (name === GREEDY_TOKEN_OUTPUT && tensor?.type === 'int64') {
      const ids = Float32Array.from(tensor.data as BigInt64Array, (id) => Number(id));
      outputs[name] = { data: ids, dims: [...tensor.dims] };
      continue;
    }
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
