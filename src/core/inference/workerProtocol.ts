// Messages between the engine (workerClient.ts) and the inference worker process
// (inferenceWorker.ts), sent over Node's IPC channel with `serialization: 'advanced'`, so typed
// arrays travel as binary copies rather than JSON.
import type { ArControls } from '../../protocol/contract';
import type { ExecutionProviderName, ProviderAttempt } from '../../protocol/executionProviders';
import type { ContractOutputs, GraphOptimizationLevel } from './contractModel';
import type { InferenceErrorCode } from './inferenceError';

/** How the worker's session is opened; a run with different settings reopens it. */
export interface SessionSettings {
  modelPath: string;
  /** Changes when the file changes (path, size, mtime), so an edited checkpoint is reloaded. */
  modelIdentity: string;
  /** Providers to try, one at a time, in order. */
  providers: ExecutionProviderName[];
  intraOpNumThreads: number;
  graphOptimizationLevel: GraphOptimizationLevel;
}

/** Clip tensors for a run: `frames` [T·3·H·W], `audio` [S], prompt ids [P]. */
export interface RunInputs {
  frames: Float32Array;
  audio: Float32Array;
  promptIds: number[];
}

/** Test-only faults (honoured only when the worker runs with MOSEAR_WORKER_TEST_FAULTS=1). */
export type WorkerFault =
  | { kind: 'exit'; code: number }
  | { kind: 'sigkill' }
  /** Blocks the worker's thread like a long native `session.run`. */
  | { kind: 'block'; ms: number }
  | { kind: 'throw'; message: string };

/** Engine → worker. */
export type WorkerRequest =
  /** Open (or keep) the session for these settings. */
  | { type: 'open'; id: number; settings: SessionSettings }
  /** Run the session once per controls entry on the same inputs (opening it first if needed). */
  | {
      type: 'run';
      id: number;
      settings: SessionSettings;
      inputs: RunInputs;
      controls: ArControls[];
    }
  /** Try each provider alone on the model and report which open (for `mosear-lens info`). */
  | { type: 'probe'; id: number; modelPath: string; providers: ExecutionProviderName[] }
  /** Misbehave on purpose (tests of crash recovery and cancellation). */
  | { type: 'fault'; id: number; fault: WorkerFault };

/** Where the session runs, as the worker opened it. */
export interface SessionReport {
  provider: ExecutionProviderName;
  attempts: ProviderAttempt[];
  intraOpNumThreads: number;
  graphOptimizationLevel: GraphOptimizationLevel;
  /** Time spent opening the session for this request; 0 when the open session was reused. */
  openMs: number;
}

/** One `session.run`'s outputs and its time inside the worker. */
export interface WorkerRunOutput {
  outputs: ContractOutputs;
  runMs: number;
}

/** An error as it crosses the process boundary; the client rebuilds the class from `name`. */
export interface SerializedError {
  name: 'ContractError' | 'OnnxModelError' | 'InferenceError' | 'Error';
  message: string;
  code?: InferenceErrorCode;
  attempts?: ProviderAttempt[];
  /** Only for unexpected errors (name "Error"). */
  stack?: string;
}

/** Worker → engine. */
export type WorkerResponse =
  /** Sent once at start-up: the worker listens. */
  | { type: 'ready'; pid: number; onnxruntimeVersion: string }
  | { type: 'opened'; id: number; session: SessionReport }
  | {
      type: 'ran';
      id: number;
      session: SessionReport;
      runs: WorkerRunOutput[];
      /** `session.run` calls this worker has made since it started. */
      sessionRuns: number;
    }
  | { type: 'probed'; id: number; attempts: ProviderAttempt[] }
  /** A fault the worker survives (`block`) has ended. */
  | { type: 'faultEnded'; id: number }
  | { type: 'failed'; id: number; error: SerializedError };

/** Environment variable that enables `fault` requests in a worker. */
export const TEST_FAULTS_ENV = 'MOSEAR_WORKER_TEST_FAULTS';
