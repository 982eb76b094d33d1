// The inference worker: a child process (forked by workerClient.ts) that owns one onnxruntime
// session for one checkpoint and answers WorkerRequests one at a time. onnxruntime-node's `run`
// blocks the thread it runs on, and a native crash takes its process with it: both stay here.
import { tmpdir } from 'node:os';
import { ContractError } from '../contract/contractError';
import { OnnxModelError } from '../onnx/modelProto';
import {
  closeContractModel,
  onnxRuntimeVersion,
  openContractModel,
  runContractModel,
  type ContractModel,
} from './contractModel';
import { InferenceError } from './inferenceError';
import { spillRuns, spillThreshold, type Spill } from './spill';
import {
  parseWorkerRequest,
  TEST_FAULTS_ENV,
  type SerializedError,
  type SessionReport,
  type SessionSettings,
  type WorkerFault,
  type WorkerRequest,
  type WorkerResponse,
  type RunInputs,
  type WorkerRunOutput,
} from '../../protocol/workerMessages';
import type { ProviderAttempt } from '../../protocol/executionProviders';

/** Answers with at least this many bytes of tensors go through a file (spill.ts). */
const spillBytes = spillThreshold(process.env);

const send = (message: WorkerResponse | (WorkerResponse & { spill: Spill })): void => {
  process.send?.(message);
};

let current: { key: string; model: ContractModel; report: SessionReport } | undefined;
/** The last frames and audio a run request sent, under the ids it named (`holdAs`). */
const held: {
  frames?: { id: number; data: Float32Array };
  audio?: { id: number; data: Float32Array };
} = {};

/** A run's inputs with held tensors resolved; sent ones are kept when the request says so. */
function resolveInputs(request: Extract<WorkerRequest, { type: 'run' }>): RunInputs {
  const tensor = (name: 'frames' | 'audio'): Float32Array => {
    const given = request.inputs[name];
    if (given instanceof Float32Array) {
      const id = request.holdAs?.[name];
      if (id !== undefined) held[name] = { id, data: given };
      return given;
    }
    const kept = held[name];
    if (kept?.id !== given.held) {
      throw new Error(`the worker does not hold the ${name} (id ${given.held}) this run names`);
    }
    return kept.data;
  };
  return { ...request.inputs, frames: tensor('frames'), audio: tensor('audio') };
}
let sessionRuns = 0;

function settingsKey(s: SessionSettings): string {
  return JSON.stringify([
    s.modelPath,
    s.modelIdentity,
    s.providers,
    s.intraOpNumThreads,
    s.graphOptimizationLevel,
  ]);
}

/** The open session for these settings, reopened when they (or the model file) changed. */
async function session(
  settings: SessionSettings,
): Promise<{ model: ContractModel; report: SessionReport }> {
  const key = settingsKey(settings);
  if (current?.key === key)
    return { model: current.model, report: { ...current.report, openMs: 0 } };
  if (current !== undefined) {
    const old = current.model;
    current = undefined;
    await closeContractModel(old);
  }
  const started = performance.now();
  const model = await openContractModel(settings.modelPath, {
    executionProviders: settings.providers,
    intraOpNumThreads: settings.intraOpNumThreads,
    graphOptimizationLevel: settings.graphOptimizationLevel,
  });
  const report: SessionReport = {
    provider: model.executionProvider,
    attempts: model.providerAttempts,
    intraOpNumThreads: settings.intraOpNumThreads,
    graphOptimizationLevel: settings.graphOptimizationLevel,
    openMs: performance.now() - started,
  };
  current = { key, model, report };
  return { model, report };
}

function serialize(error: unknown): SerializedError {
  if (error instanceof InferenceError) {
    return {
      name: 'InferenceError',
      message: error.message,
      code: error.code,
      attempts: error.attempts,
    };
  }
  if (error instanceof ContractError) return { name: 'ContractError', message: error.message };
  if (error instanceof OnnxModelError) return { name: 'OnnxModelError', message: error.message };
  if (error instanceof Error) {
    return {
      name: 'Error',
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
    };
  }
  return { name: 'Error', message: String(error) };
}

/** Tries each provider alone and records whether a session opens on it. */
async function probe(
  modelPath: string,
  providers: SessionSettings['providers'],
): Promise<ProviderAttempt[]> {
  const attempts: ProviderAttempt[] = [];
  for (const provider of providers) {
    const started = performance.now();
    try {
      const model = await openContractModel(modelPath, { executionProviders: [provider] });
      await closeContractModel(model);
      attempts.push({ provider, ok: true, ms: performance.now() - started });
    } catch (error) {
      const tried = error instanceof InferenceError ? error.attempts[0] : undefined;
      attempts.push(
        tried ?? {
          provider,
          ok: false,
          reason: error instanceof Error ? error.message : String(error),
          ms: performance.now() - started,
        },
      );
    }
  }
  return attempts;
}

function fault(f: WorkerFault): void {
  switch (f.kind) {
    case 'exit':
      process.exit(f.code);
      break;
    case 'sigkill':
      process.kill(process.pid, 'SIGKILL');
      break;
    case 'block':
      // Holds the thread the way a long native session.run does: no message is read meanwhile.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, f.ms);
      break;
    case 'throw':
      throw new Error(f.message);
  }
}

async function handle(
  request: WorkerRequest,
): Promise<WorkerResponse | (WorkerResponse & { spill: Spill })> {
  switch (request.type) {
    case 'open': {
      const { report } = await session(request.settings);
      return { type: 'opened', id: request.id, session: report };
    }
    case 'run': {
      const inputs = resolveInputs(request);
      const { model, report } = await session(request.settings);
      const runs: WorkerRunOutput[] = [];
      for (const controls of request.controls) {
        const started = performance.now();
        sessionRuns++;
        const outputs = await runContractModel(model, inputs, controls);
        runs.push({ outputs, runMs: performance.now() - started });
      }
      const ran = { type: 'ran' as const, id: request.id, session: report, runs, sessionRuns };
      const spill = spillRuns(runs, tmpdir(), request.id, spillBytes);
      return spill === undefined ? ran : { ...ran, spill };
    }
    case 'runLogits': {
      const { model, report } = await session(request.settings);
      const started = performance.now();
      const logits: Float32Array[][] = [];
      for (const inputs of request.inputSets) {
        const row: Float32Array[] = [];
        for (const controls of request.controls) {
          sessionRuns++;
          row.push((await runContractModel(model, inputs, controls)).logits.data);
        }
        logits.push(row);
      }
      const count = request.inputSets.length * request.controls.length;
      const runMs = count === 0 ? 0 : (performance.now() - started) / count;
      return { type: 'ranLogits', id: request.id, session: report, logits, runMs, sessionRuns };
    }
    case 'probe':
      return {
        type: 'probed',
        id: request.id,
        attempts: await probe(request.modelPath, request.providers),
      };
    case 'fault':
      if (process.env[TEST_FAULTS_ENV] !== '1') {
        throw new Error(`fault requests are disabled (set ${TEST_FAULTS_ENV}=1 to enable them)`);
      }
      fault(request.fault);
      return { type: 'faultEnded', id: request.id };
  }
}

if (process.send === undefined) {
  process.stderr.write('inferenceWorker.js is started by MoSEAR Lens over IPC, not directly.\n');
  process.exit(2);
}

// One request at a time, in arrival order (the engine sends one at a time anyway).
let queue: Promise<void> = Promise.resolve();
process.on('message', (raw: unknown) => {
  queue = queue.then(async () => {
    let request: WorkerRequest;
    try {
      request = parseWorkerRequest(raw);
    } catch (error) {
      // Answered, never thrown: the engine fails that request and the worker keeps serving.
      const id: unknown = (raw as { id?: unknown } | null)?.id;
      send({
        type: 'failed',
        id: typeof id === 'number' && Number.isSafeInteger(id) ? id : -1,
        error: { name: 'Error', message: `malformed request: ${(error as Error).message}` },
      });
      return;
    }
    try {
      send(await handle(request));
    } catch (error) {
      send({ type: 'failed', id: request.id, error: serialize(error) });
    }
  });
});
// The engine went away: nothing can read our answers.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid, onnxruntimeVersion: onnxRuntimeVersion() });
