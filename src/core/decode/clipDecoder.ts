// The decoder interface both backends implement (ClipDecoder), the decode spec a model asks for,
// the probe and the DecodedClip (the model's `frames` and `audio` inputs, with timings).
import type { AudioSpec, DecodeSpec, FrameSpec } from '../../protocol/contract';
import { DecodeError } from './decodeError';

/** The decode spec this engine implements (CONTRACT.md §6, models/mosear/decode.py). */
export const DECODE_SPEC_NAME = 'mosear-decode-1';

/**
 * The tensor sizes a model wants from a clip: T frames of H×W RGB, S mono samples at a rate.
 * Derived from the model's metadata by the caller (see `clipDecodeSpecFromContract`).
 */
export interface ClipDecodeSpec {
  /** T: frames sampled at the midpoints of T equal slices of the duration. */
  frames: number;
  /** H of each frame, in pixels. */
  height: number;
  /** W of each frame, in pixels. */
  width: number;
  sampleRateHz: number;
  /** S: samples in the audio window (window seconds = samples / sampleRateHz). */
  samples: number;
  // CONTRACT.md §6 step 5 variants (contract 1.1); absent means contract 1's value.
  /** Frame times: `midpoints` of T slices (default), or the clip's `first` frame (T = 1). */
  frameTimes?: 'midpoints' | 'first';
  /** Resize: `cover-center-crop` (default), or `squash` to W × H without a crop. */
  resize?: 'cover-center-crop' | 'squash';
  /** swscale filter of the scale steps: `area` (default) or `bicubic`. */
  scaleFlags?: 'area' | 'bicubic';
  /** Audio window: `centered` on the clip (default), or `from-start`. */
  audioWindow?: 'centered' | 'from-start';
  /** `fixed`: S = samples (default); `variable`: minSamples ≤ S ≤ samples. */
  audioLength?: 'fixed' | 'variable';
  /** The shortest S when `audioLength` is `variable` (shorter audio is zero-padded to it). */
  minSamples?: number;
}

/** What ffprobe says about a clip's video stream. */
export interface VideoStreamInfo {
  /** Stream index in the file. */
  index: number;
  /** ffmpeg's codec name, e.g. "h264", "vp9", "mjpeg". */
  codec: string;
  /** Stored size in pixels (before sample aspect ratio and rotation). */
  width: number;
  height: number;
  /** Sample (pixel) aspect ratio "num:den"; "1:1" for square pixels or when unknown. */
  sampleAspectRatio: string;
  /**
   * Display rotation from the stream's display matrix, in degrees counterclockwise, 0/90/180/270
   * (ffprobe's `rotation`, normalised). Decoding applies it (ffmpeg's autorotate).
   */
  rotationDegrees: 0 | 90 | 180 | 270;
  /** Size as shown: square pixels, rotation applied. */
  displayWidth: number;
  displayHeight: number;
  /** Average frame rate in Hz, when ffprobe knows it. */
  averageFrameRateHz: number | null;
}

/** What ffprobe says about a clip's first audio stream. */
export interface AudioStreamInfo {
  index: number;
  codec: string;
  sampleRateHz: number | null;
  channels: number | null;
}

/** A clip's probe: the duration the spec uses and the streams it decodes. */
export interface ClipProbe {
  /** Absolute path of the clip. */
  path: string;
  /** ffmpeg's container name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm". */
  formatName: string;
  /** D: the video stream's duration when positive, else the container's. */
  durationSeconds: number;
  /** Where D came from. */
  durationSource: 'video-stream' | 'format';
  video: VideoStreamInfo;
  /** Video streams in the file, cover pictures included (one-process decode needs exactly 1). */
  videoStreams: number;
  /** The first audio stream, or null when the file has none. */
  audio: AudioStreamInfo | null;
}

/** Wall-clock milliseconds per stage of one decode. */
export interface DecodeTimings {
  probeMs: number;
  /** From the first frame process's start to the last one's end (frames run in parallel). */
  framesMs: number;
  /** The audio process (0 when there is no audio stream). */
  audioMs: number;
  totalMs: number;
  /** How many processes the decode started, ffprobe included. */
  processes: number;
  /** wasm only: starting the decoder process and compiling the ffmpeg.wasm core. */
  startMs?: number;
}

/** A clip decoded under the spec: the model's `frames` and `audio` inputs and how they were made. */
export interface DecodedClip {
  specName: typeof DECODE_SPEC_NAME;
  spec: ClipDecodeSpec;
  /** Which decoder produced the tensors. */
  backend: 'system' | 'wasm';
  /** The probe the decode used (duration, streams, codecs, rotation). */
  source: ClipProbe;
  /** float32 [T, 3, H, W], RGB in [0, 1]. */
  frames: Float32Array;
  /** float32 [S] mono PCM, the centred window zero-padded at the end; null when the file has no audio. */
  audio: Float32Array | null;
  /** t_i = (i + ½)·D/T, the seek time of each frame. */
  frameTimesSeconds: number[];
  /** Per frame: true when the seek yielded no frame and the spec's tail rule supplied it. */
  frameFromTail: boolean[];
  /** s0 = max(0, (D − window)/2), where the audio window starts. */
  audioStartSeconds: number;
  timings: DecodeTimings;
}

/**
 * Turns clip files into model inputs. Implementations (system ffmpeg, bundled ffmpeg.wasm) must
 * produce the same tensors for the same file and spec; every call is pure in (file, spec).
 */
export interface ClipDecoder {
  readonly backend: DecodedClip['backend'];
  /** Reads the duration and streams; throws DecodeError (NO_VIDEO, UNREADABLE, …). */
  probe(path: string, signal?: AbortSignal): Promise<ClipProbe>;
  /** Decodes T frames and the audio window; throws DecodeError; CANCELLED when `signal` fires. */
  decode(path: string, spec: ClipDecodeSpec, signal?: AbortSignal): Promise<DecodedClip>;
}

/** The decode spec of a model from its parsed contract metadata. */
export function clipDecodeSpecFromContract(meta: {
  frames: FrameSpec;
  audio: AudioSpec;
  decode: DecodeSpec;
}): ClipDecodeSpec {
  const wanted: string = meta.decode.spec;
  if (wanted !== DECODE_SPEC_NAME) {
    throw new DecodeError(
      'BAD_SPEC',
      `the model wants decode spec "${wanted}"; this engine implements "${DECODE_SPEC_NAME}"`,
    );
  }
  const spec: ClipDecodeSpec = {
    frames: meta.frames.count,
    height: meta.frames.height,
    width: meta.frames.width,
    sampleRateHz: meta.audio.sampleRateHz,
    samples: meta.audio.samples,
  };
  // 1.1's variants, set only where they differ from contract 1 (whose specs stay as they were).
  const { frameTimes, resize, scaleFlags, audioWindow } = meta.decode;
  if (frameTimes !== 'midpoints') spec.frameTimes = frameTimes;
  if (resize !== 'cover-center-crop') spec.resize = resize;
  if (scaleFlags !== 'area') spec.scaleFlags = scaleFlags;
  if (audioWindow !== 'centered') spec.audioWindow = audioWindow;
  if (meta.audio.length === 'variable') {
    spec.audioLength = 'variable';
    spec.minSamples = meta.audio.minSamples ?? meta.audio.samples;
  }
  validateClipDecodeSpec(spec);
  return spec;
}

/** The optional keys of an object type. */
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

/** Throws BAD_SPEC unless every size is a positive integer within sane bounds. */
export function validateClipDecodeSpec(spec: ClipDecodeSpec): void {
  const bounds: [Exclude<keyof ClipDecodeSpec, OptionalKeys<ClipDecodeSpec>>, number][] = [
    ['frames', 1024],
    ['height', 8192],
    ['width', 8192],
    ['sampleRateHz', 384_000],
    ['samples', 384_000 * 600],
  ];
  for (const [key, max] of bounds) {
    const value = spec[key];
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new DecodeError(
        'BAD_SPEC',
        `decode spec: ${key} must be an integer in 1..${max}, got ${value}`,
      );
    }
  }
}
