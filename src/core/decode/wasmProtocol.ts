// Messages between WasmFfmpegDecoder (parent) and its worker process (wasmWorker.ts), sent over
// the fork's IPC channel with 'advanced' serialization, so typed arrays travel as they are.
import type { ClipDecodeSpec, ClipProbe, DecodedClip } from './clipDecoder';
import type { DecodeErrorCode } from './decodeError';
import type { WasmCoreFiles } from './wasmCore';
import type { WorkerTimings } from './wasmDecode';

/** What the worker needs for any job: the clip, the core, the size cap. */
interface WorkerJob {
  /** Absolute path of the clip. */
  path: string;
  core: WasmCoreFiles;
  maxFileBytes: number;
}

/** Parent → worker: exactly one request per process. */
export type WasmWorkerRequest =
  /** Read the duration and streams. */
  | (WorkerJob & { kind: 'probe' })
  /** Decode T frames and the audio window. */
  | (WorkerJob & { kind: 'decode'; spec: ClipDecodeSpec });

/** Worker → parent: exactly one reply, then the worker exits. */
export type WasmWorkerReply =
  /** The probe. */
  | { kind: 'probed'; probe: ClipProbe; timings: WorkerTimings }
  /** The decoded clip without the parent-side timings. */
  | {
      kind: 'decoded';
      clip: Omit<DecodedClip, 'timings'>;
      timings: WorkerTimings;
    }
  /** A DecodeError (or an unexpected error, as UNREADABLE) thrown in the worker. */
  | { kind: 'failed'; code: DecodeErrorCode; message: string; stderrTail?: string };
