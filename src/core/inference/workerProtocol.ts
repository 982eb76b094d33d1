// The inference worker's messages, as the engine's code imports them. They are defined (as
// schemas, parsed on receipt by both ends) in src/protocol/workerMessages.ts; what is left here
// proves at compile time that the wire types and the engine's own declarations agree.
import type { ContractOutputs, GraphOptimizationLevel } from './contractModel';
import type { InferenceErrorCode } from './inferenceError';
import type {
  ContractOutputsSchema,
  GraphOptimizationLevelSchema,
  InferenceErrorCodeSchema,
} from '../../protocol/workerMessages';
import type { InferOutput } from 'valibot';

export {
  parseWorkerRequest,
  parseWorkerResponse,
  TEST_FAULTS_ENV,
  type RunInputs,
  type SerializedError,
  type SessionReport,
  type SessionSettings,
  type WorkerFault,
  type WorkerRequest,
  type WorkerResponse,
  type WorkerRunOutput,
} from '../../protocol/workerMessages';

/** True when each type is assignable to the other. */
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

type AllTrue<T extends readonly true[]> = T;

/** Fails to compile when a wire schema and the engine's declaration drift apart. */
export type WireTypesAgree = AllTrue<
  [
    Agree<InferOutput<typeof ContractOutputsSchema>, ContractOutputs>,
    Agree<InferOutput<typeof GraphOptimizationLevelSchema>, GraphOptimizationLevel>,
    Agree<InferOutput<typeof InferenceErrorCodeSchema>, InferenceErrorCode>,
  ]
>;
