// The worker processes' messages are defined once, as schemas, in src/protocol (workerMessages.ts,
// decodeWorkerMessages.ts) and imported from there. This file proves at compile time that those
// wire types and the engine's own declarations agree; nothing imports it.
import type { InferOutput } from 'valibot';
import type {
  ClipDecodeSpecSchema,
  ClipProbeSchema,
  DecodeErrorCodeSchema,
  WasmCoreFilesSchema,
  WasmWorkerReply,
  WasmWorkerTimingsSchema,
} from '../protocol/decodeWorkerMessages';
import type {
  ContractOutputsSchema,
  GraphOptimizationLevelSchema,
  InferenceErrorCodeSchema,
} from '../protocol/workerMessages';
import type { ClipDecodeSpec, ClipProbe, DecodedClip } from './decode/clipDecoder';
import type { DecodeErrorCode } from './decode/decodeError';
import type { WasmCoreFiles } from './decode/wasmCore';
import type { WorkerTimings } from './decode/wasmDecode';
import type { ContractOutputs, GraphOptimizationLevel } from './inference/contractModel';
import type { InferenceErrorCode } from './inference/inferenceError';

/** True when each type is assignable to the other. */
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

type AllTrue<T extends readonly true[]> = T;

/** Fails to compile when a wire schema and the engine's declaration drift apart. */
export type WireTypesAgree = AllTrue<
  [
    Agree<InferOutput<typeof ContractOutputsSchema>, ContractOutputs>,
    Agree<InferOutput<typeof GraphOptimizationLevelSchema>, GraphOptimizationLevel>,
    Agree<InferOutput<typeof InferenceErrorCodeSchema>, InferenceErrorCode>,
    Agree<InferOutput<typeof ClipDecodeSpecSchema>, ClipDecodeSpec>,
    Agree<InferOutput<typeof ClipProbeSchema>, ClipProbe>,
    Agree<InferOutput<typeof DecodeErrorCodeSchema>, DecodeErrorCode>,
    Agree<InferOutput<typeof WasmCoreFilesSchema>, WasmCoreFiles>,
    Agree<InferOutput<typeof WasmWorkerTimingsSchema>, WorkerTimings>,
    Agree<Extract<WasmWorkerReply, { kind: 'decoded' }>['clip'], Omit<DecodedClip, 'timings'>>,
  ]
>;
