// Messages between WasmFfmpegDecoder (src/core/decode/wasmFfmpegDecoder.ts, the parent) and its
// worker process (wasmWorker.ts), sent over the fork's IPC channel with 'advanced' serialization,
// so typed arrays travel as they are. One request per process, one reply, then the worker exits.
// Both ends parse what they receive; the decoded tensors are checked by type and by the length
// the request's spec gives (T·3·H·W frame values, S samples, or minSamples..S with a variable
// length), never value by value.
import * as v from 'valibot';
import { float32Array, float32ArrayOf, issueError, numberArray, parseOrThrow } from './issues';

/** The ffmpeg.wasm core's files (`@ffmpeg/core/dist/umd/ffmpeg-core.{js,wasm}`). */
export const WasmCoreFilesSchema = v.object({
  script: v.string(),
  wasm: v.string(),
});

/**
 * The tensor sizes a model wants from a clip: T frames of H×W RGB, S mono samples at a rate, and
 * the contract 1.1 variants (absent: contract 1's value; src/core/decode/clipDecoder.ts).
 */
export const ClipDecodeSpecSchema = v.object({
  frames: v.number(),
  height: v.number(),
  width: v.number(),
  sampleRateHz: v.number(),
  samples: v.number(),
  frameTimes: v.exactOptional(v.picklist(['midpoints', 'first'])),
  resize: v.exactOptional(v.picklist(['cover-center-crop', 'squash'])),
  scaleFlags: v.exactOptional(v.picklist(['area', 'bicubic'])),
  audioWindow: v.exactOptional(v.picklist(['centered', 'from-start'])),
  audioLength: v.exactOptional(v.picklist(['fixed', 'variable'])),
  minSamples: v.exactOptional(v.number()),
});
type ClipDecodeSpec = v.InferOutput<typeof ClipDecodeSpecSchema>;

/**
 * How a clip's frames are read, in either backend; the two give identical tensors.
 * 'one-process': all frames from one ffmpeg command (one sought input and one output per frame)
 * where the clip has a single video stream, else per frame; 'per-frame': one command per frame
 * (the spec's commands).
 */
export const FrameDecodeSchema = v.picklist(['one-process', 'per-frame']);
export type FrameDecode = v.InferOutput<typeof FrameDecodeSchema>;

/** What ffprobe says about a clip's video stream. */
export const VideoStreamInfoSchema = v.object({
  index: v.number(),
  codec: v.string(),
  width: v.number(),
  height: v.number(),
  sampleAspectRatio: v.string(),
  rotationDegrees: v.picklist([0, 90, 180, 270]),
  displayWidth: v.number(),
  displayHeight: v.number(),
  averageFrameRateHz: v.nullable(v.number()),
});

/** What ffprobe says about a clip's first audio stream. */
export const AudioStreamInfoSchema = v.object({
  index: v.number(),
  codec: v.string(),
  sampleRateHz: v.nullable(v.number()),
  channels: v.nullable(v.number()),
});

/** A clip's probe: the duration the spec uses and the streams it decodes. */
export const ClipProbeSchema = v.object({
  path: v.string(),
  formatName: v.string(),
  durationSeconds: v.number(),
  durationSource: v.picklist(['video-stream', 'format']),
  video: VideoStreamInfoSchema,
  /** Video streams in the file, cover pictures included. */
  videoStreams: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  audio: v.nullable(AudioStreamInfoSchema),
});

/** Wall-clock milliseconds the worker spent per stage, and the core commands it ran. */
export const WasmWorkerTimingsSchema = v.object({
  probeMs: v.number(),
  framesMs: v.number(),
  audioMs: v.number(),
  commands: v.number(),
});

/** Why a clip could not be probed or decoded (DecodeError's codes, src/core/decode/decodeError.ts). */
export const DecodeErrorCodeSchema = v.picklist([
  'FFMPEG_NOT_FOUND',
  'FILE_NOT_FOUND',
  'NO_VIDEO',
  'UNREADABLE',
  'NO_FRAME',
  'TIMEOUT',
  'OUTPUT_LIMIT',
  'CANCELLED',
  'BAD_SPEC',
  'TOO_LARGE',
  'DECODER_MISSING',
  'PLAYLIST',
]);

/** The decoded clip as the worker sends it (the parent adds its timings); tensor lengths free. */
function decodedClipSchema(frames: v.GenericSchema<unknown, Float32Array>, audio: typeof frames) {
  return v.object({
    specName: v.literal('mosear-decode-1'),
    spec: ClipDecodeSpecSchema,
    backend: v.picklist(['system', 'wasm']),
    source: ClipProbeSchema,
    /** float32 [T, 3, H, W], RGB in [0, 1]. */
    frames,
    /** float32 [S] mono PCM; null when the file has no audio. */
    audio: v.nullable(audio),
    frameTimesSeconds: numberArray(1),
    frameFromTail: v.array(v.boolean()),
    audioStartSeconds: v.number(),
  });
}

const job = {
  /** Absolute path of the clip. */
  path: v.string(),
  core: WasmCoreFilesSchema,
  maxFileBytes: v.number(),
};

/** Parent → worker: exactly one request per process. */
export const WasmWorkerRequestSchema = v.variant('kind', [
  /** Read the duration and streams. */
  v.object({ ...job, kind: v.literal('probe') }),
  /** Decode T frames and the audio window (frames in one command unless `frameDecode` says). */
  v.object({
    ...job,
    kind: v.literal('decode'),
    spec: ClipDecodeSpecSchema,
    frameDecode: v.exactOptional(FrameDecodeSchema),
  }),
]);
export type WasmWorkerRequest = v.InferOutput<typeof WasmWorkerRequestSchema>;

/** A Float32Array of `min` to `max` values (a variable-length audio window). */
function float32ArrayBetween(min: number, max: number) {
  return v.pipe(
    float32Array,
    v.check((a) => a.length >= min && a.length <= max, `must hold ${min} to ${max} values`),
  );
}

/** Worker → parent, with the decoded tensors' lengths those of `spec` (when one is known). */
function replySchema(spec: ClipDecodeSpec | undefined) {
  const frames =
    spec === undefined ? float32Array : float32ArrayOf(spec.frames * 3 * spec.height * spec.width);
  const audio =
    spec === undefined
      ? float32Array
      : spec.audioLength === 'variable'
        ? float32ArrayBetween(spec.minSamples ?? 1, spec.samples)
        : float32ArrayOf(spec.samples);
  return v.variant('kind', [
    /** The probe. */
    v.object({
      kind: v.literal('probed'),
      probe: ClipProbeSchema,
      timings: WasmWorkerTimingsSchema,
    }),
    /** The decoded clip without the parent-side timings. */
    v.object({
      kind: v.literal('decoded'),
      clip: decodedClipSchema(frames, audio),
      timings: WasmWorkerTimingsSchema,
    }),
    /** A DecodeError (or an unexpected error, as UNREADABLE) thrown in the worker. */
    v.object({
      kind: v.literal('failed'),
      code: DecodeErrorCodeSchema,
      message: v.string(),
      stderrTail: v.exactOptional(v.string()),
    }),
  ]);
}

/** Worker → parent: exactly one reply, then the worker exits. */
export const WasmWorkerReplySchema = replySchema(undefined);
export type WasmWorkerReply = v.InferOutput<typeof WasmWorkerReplySchema>;

/** Parses the request the worker received; throws an Error naming the bad field. */
export function parseWasmWorkerRequest(raw: unknown): WasmWorkerRequest {
  return parseOrThrow(WasmWorkerRequestSchema, raw, issueError);
}

/**
 * Parses the worker's reply to a request; a decoded clip's tensors must hold the lengths of
 * `spec` (the request's). Throws an Error naming the bad field.
 */
export function parseWasmWorkerReply(raw: unknown, spec?: ClipDecodeSpec): WasmWorkerReply {
  return parseOrThrow(
    spec === undefined ? WasmWorkerReplySchema : replySchema(spec),
    raw,
    issueError,
  );
}
