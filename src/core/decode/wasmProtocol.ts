// The wasm decode worker's messages, as the decoder's code imports them. They are defined (as
// schemas, parsed on receipt by both ends) in src/protocol/decodeWorkerMessages.ts; what is left
// here proves at compile time that the wire types and the decoder's own declarations agree.
import type { InferOutput } from 'valibot';
import type {
  ClipDecodeSpecSchema,
  ClipProbeSchema,
  DecodeErrorCodeSchema,
  WasmCoreFilesSchema,
  WasmWorkerReply,
  WasmWorkerTimingsSchema,
} from '../../protocol/decodeWorkerMessages';
import type { ClipDecodeSpec, ClipProbe, DecodedClip } from './clipDecoder';
import type { DecodeErrorCode } from './decodeError';
import type { WasmCoreFiles } from './wasmCore';
import type { WorkerTimings } from './wasmDecode';

export {
  parseWasmWorkerReply,
  parseWasmWorkerRequest,
  type WasmWorkerReply,
  type WasmWorkerRequest,
} from '../../protocol/decodeWorkerMessages';

/** True when each type is assignable to the other. */
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

type AllTrue<T extends readonly true[]> = T;

/** Fails to compile when a wire schema and the decoder's declaration drift apart. */
export type WireTypesAgree = AllTrue<
  [
    Agree<InferOutput<typeof ClipDecodeSpecSchema>, ClipDecodeSpec>,
    Agree<InferOutput<typeof ClipProbeSchema>, ClipProbe>,
    Agree<InferOutput<typeof DecodeErrorCodeSchema>, DecodeErrorCode>,
    Agree<InferOutput<typeof WasmCoreFilesSchema>, WasmCoreFiles>,
    Agree<InferOutput<typeof WasmWorkerTimingsSchema>, WorkerTimings>,
    Agree<Extract<WasmWorkerReply, { kind: 'decoded' }>['clip'], Omit<DecodedClip, 'timings'>>,
  ]
>;
