// Messages between the engine (src/core/inference/workerClient.ts) and the inference worker
// process (inferenceWorker.ts), sent over Node's IPC channel with `serialization: 'advanced'`, so
// typed arrays travel as binary copies rather than JSON. Both ends parse what they receive: the
// worker answers a malformed request with `failed`; the engine treats a malformed answer as a
// misbehaving worker. Tensors are checked by type and length only, never value by value.
import * as v from 'valibot';
import { ArControlsSchema } from './contract';
import { ExecutionProviderNameSchema, ProviderAttemptSchema } from './executionProviders';
import { float32Array, issueError, parseOrThrow } from './issues';

/** onnxruntime's graph optimisation levels. */
export const GraphOptimizationLevelSchema = v.picklist(['disabled', 'basic', 'extended', 'all']);

/** How the worker's session is opened; a run with different settings reopens it. */
export const SessionSettingsSchema = v.object({
  modelPath: v.string(),
  /** Changes when the file changes (path, size, mtime), so an edited checkpoint is reloaded. */
  modelIdentity: v.string(),
  /** Providers to try, one at a time, in order. */
  providers: v.array(ExecutionProviderNameSchema),
  intraOpNumThreads: v.number(),
  graphOptimizationLevel: GraphOptimizationLevelSchema,
});
export type SessionSettings = v.InferOutput<typeof SessionSettingsSchema>;

/**
 * Clip tensors for a run: `frames` [T·3·H·W], `audio` [S], prompt ids [P], `head_gate`
 * [L·Hh] for a graph that declares it (absent: all ones), and FaceMAE / VideoMAE feature vectors
 * [D] for a graph with those inputs (absent: zeros). Sizes: buildFeeds.
 */
export const RunInputsSchema = v.object({
  frames: float32Array,
  audio: float32Array,
  promptIds: v.array(v.number()),
  headGate: v.exactOptional(float32Array),
  features: v.exactOptional(
    v.object({
      face_mae_features: v.exactOptional(float32Array),
      video_mae_features: v.exactOptional(float32Array),
    }),
  ),
  /** Contract 1.2: `audio_repeat` k for a graph that declares it (absent: 1). */
  audioRepeat: v.exactOptional(v.number()),
});
export type RunInputs = v.InferOutput<typeof RunInputsSchema>;

/**
 * A clip tensor the worker process already holds: the id it was sent with (`holdAs`). The engine
 * sends a re-run's frames and audio once per process, then only their ids (workerClient.ts).
 */
export const HeldTensorSchema = v.object({ held: v.pipe(v.number(), v.safeInteger()) });
export type HeldTensor = v.InferOutput<typeof HeldTensorSchema>;

/** RunInputs as a `run` request carries them: frames and audio given, or held from before. */
const givenOrHeld = v.union(
  [float32Array, HeldTensorSchema],
  'must be a Float32Array or { held: id }',
);
export const WireRunInputsSchema = v.object({
  ...RunInputsSchema.entries,
  frames: givenOrHeld,
  audio: givenOrHeld,
});
export type WireRunInputs = v.InferOutput<typeof WireRunInputsSchema>;

/** Test-only faults (honoured only when the worker runs with MOSEAR_WORKER_TEST_FAULTS=1). */
export const WorkerFaultSchema = v.variant('kind', [
  v.object({ kind: v.literal('exit'), code: v.number() }),
  v.object({ kind: v.literal('sigkill') }),
  /** Blocks the worker's thread like a long native `session.run`. */
  v.object({ kind: v.literal('block'), ms: v.number() }),
  v.object({ kind: v.literal('throw'), message: v.string() }),
]);
export type WorkerFault = v.InferOutput<typeof WorkerFaultSchema>;

/** A request's id, echoed by its answer. */
const id = v.pipe(v.number(), v.safeInteger());

/** Engine → worker. */
export const WorkerRequestSchema = v.variant('type', [
  /** Open (or keep) the session for these settings. */
  v.object({ type: v.literal('open'), id, settings: SessionSettingsSchema }),
  /** Run the session once per controls entry on the same inputs (opening it first if needed). */
  v.object({
    type: v.literal('run'),
    id,
    settings: SessionSettingsSchema,
    inputs: WireRunInputsSchema,
    /** Ids under which the worker keeps the frames and audio sent with this request. */
    holdAs: v.exactOptional(v.object({ frames: v.exactOptional(id), audio: v.exactOptional(id) })),
    controls: v.array(ArControlsSchema),
  }),
  /**
   * Run the session once per controls entry on each input set and answer the logits only (the
   * variants of a counterfactual: one request, none of the attention tensors sent back).
   */
  v.object({
    type: v.literal('runLogits'),
    id,
    settings: SessionSettingsSchema,
    inputSets: v.array(RunInputsSchema),
    controls: v.array(ArControlsSchema),
  }),
  /** Try each provider alone on the model and report which open (for `mosear-lens info`). */
  v.object({
    type: v.literal('probe'),
    id,
    modelPath: v.string(),
    providers: v.array(ExecutionProviderNameSchema),
  }),
  /** Misbehave on purpose (tests of crash recovery and cancellation). */
  v.object({ type: v.literal('fault'), id, fault: WorkerFaultSchema }),
]);
export type WorkerRequest = v.InferOutput<typeof WorkerRequestSchema>;

/** Where the session runs, as the worker opened it. */
export const SessionReportSchema = v.object({
  provider: ExecutionProviderNameSchema,
  attempts: v.array(ProviderAttemptSchema),
  intraOpNumThreads: v.number(),
  graphOptimizationLevel: GraphOptimizationLevelSchema,
  /** Time spent opening the session for this request; 0 when the open session was reused. */
  openMs: v.number(),
});
export type SessionReport = v.InferOutput<typeof SessionReportSchema>;

/** A float32 output with its shape: `data` holds exactly the product of `dims` values. */
export const OutputTensorSchema = v.pipe(
  v.object({ data: float32Array, dims: v.array(v.number()) }),
  v.check(
    (t) => t.data.length === t.dims.reduce((n, d) => n * d, 1),
    (issue) => {
      const t = issue.input;
      return `holds ${t.data.length} values, not the ${t.dims.reduce((n, d) => n * d, 1)} of dims [${t.dims.join(', ')}]`;
    },
  ),
);

/**
 * The contract's outputs of one run (CONTRACT.md §2; `mose_gate` only for MoSE checkpoints,
 * `layer_logits`, `greedy_token` and `label_probability` only for a 1.1 graph that declares
 * them, §2a).
 */
export const ContractOutputsSchema = v.object({
  logits: OutputTensorSchema,
  modality_mass: OutputTensorSchema,
  modality_mass_after: OutputTensorSchema,
  ar_flags: OutputTensorSchema,
  token_attention_before: OutputTensorSchema,
  token_attention: OutputTensorSchema,
  mose_gate: v.exactOptional(OutputTensorSchema),
  layer_logits: v.exactOptional(OutputTensorSchema),
  /** The vocabulary's argmax at the answer position (an int64 id sent as a float32, §2a). */
  greedy_token: v.exactOptional(OutputTensorSchema),
  label_probability: v.exactOptional(OutputTensorSchema),
});

/** One `session.run`'s outputs and its time inside the worker. */
export const WorkerRunOutputSchema = v.object({
  outputs: ContractOutputsSchema,
  runMs: v.number(),
});
export type WorkerRunOutput = v.InferOutput<typeof WorkerRunOutputSchema>;

/** Why an inference request failed (InferenceError's codes, src/core/inference/inferenceError.ts). */
export const InferenceErrorCodeSchema = v.picklist([
  'PROVIDER_UNAVAILABLE',
  'WORKER_CRASHED',
  'TIMEOUT',
  'QUEUE_FULL',
  'CANCELLED',
  'DISPOSED',
  'WORKER_FAILED',
]);

/** An error as it crosses the process boundary; the client rebuilds the class from `name`. */
export const SerializedErrorSchema = v.object({
  name: v.picklist(['ContractError', 'OnnxModelError', 'InferenceError', 'Error']),
  message: v.string(),
  code: v.exactOptional(InferenceErrorCodeSchema),
  attempts: v.exactOptional(v.array(ProviderAttemptSchema)),
  /** Only for unexpected errors (name "Error"). */
  stack: v.exactOptional(v.string()),
});
export type SerializedError = v.InferOutput<typeof SerializedErrorSchema>;

/** Worker → engine. */
export const WorkerResponseSchema = v.variant('type', [
  /** Sent once at start-up: the worker listens. */
  v.object({ type: v.literal('ready'), pid: v.number(), onnxruntimeVersion: v.string() }),
  v.object({ type: v.literal('opened'), id, session: SessionReportSchema }),
  v.object({
    type: v.literal('ran'),
    id,
    session: SessionReportSchema,
    runs: v.array(WorkerRunOutputSchema),
    /** `session.run` calls this worker has made since it started. */
    sessionRuns: v.number(),
  }),
  /** `logits[i][k]`: input set i under controls k; `runMs` the mean time of one run. */
  v.object({
    type: v.literal('ranLogits'),
    id,
    session: SessionReportSchema,
    logits: v.array(v.array(float32Array)),
    runMs: v.number(),
    sessionRuns: v.number(),
  }),
  v.object({ type: v.literal('probed'), id, attempts: v.array(ProviderAttemptSchema) }),
  /** A fault the worker survives (`block`) has ended. */
  v.object({ type: v.literal('faultEnded'), id }),
  v.object({ type: v.literal('failed'), id, error: SerializedErrorSchema }),
]);
export type WorkerResponse = v.InferOutput<typeof WorkerResponseSchema>;

/** Environment variable that enables `fault` requests in a worker. */
export const TEST_FAULTS_ENV = 'MOSEAR_WORKER_TEST_FAULTS';

/** Parses a request the worker received; throws an Error naming the bad field. */
export function parseWorkerRequest(raw: unknown): WorkerRequest {
  return parseOrThrow(WorkerRequestSchema, raw, issueError);
}

/** Parses a message the engine received from the worker; throws an Error naming the bad field. */
export function parseWorkerResponse(raw: unknown): WorkerResponse {
  return parseOrThrow(WorkerResponseSchema, raw, issueError);
}
