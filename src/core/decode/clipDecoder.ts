// The decoder interface both backends implement (ClipDecoder), the decode spec a model asks for,
// the probe and the DecodedClip (the model's `frames` and `audio` inputs, with timings).
import type { AudioSpec, DecodeSpec, FrameSpec } from '../../protocol/contract';
import { DecodeError } from './decodeError';

/** The decode spec this engine implements (CONTRACT.md §6, models/mosear/decode.py). */
export const DECODE_SPEC_NAME = 'mosear-decode-1';

/**
 * The tensor sizes a model wants from a clip: T frames of H×W RGB, S mono samples at a rate,
 * and the contract 1.1 variants (CONTRACT.md §6 step 5); an absent variant is contract 1's value.
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
  /** S: samples in the audio window (window seconds = samples / sampleRateHz); the cap when variable. */
  samples: number;
  /** 'first': T = 1, the clip's first frame, no seek. Default 'midpoints'. */
  frameTimes?: 'midpoints' | 'first';
  /** 'squash': scale to W×H ignoring the aspect ratio, no crop. Default 'cover-center-crop'. */
  resize?: 'cover-center-crop' | 'squash';
  /** swscale's filter for every scale of the chain. Default 'area'. */
  scaleFlags?: 'area' | 'bicubic';
  /** 'from-start': the window starts at 0 s. Default 'centered'. */
  audioWindow?: 'centered' | 'from-start';
  /** 'variable': S = the samples received (at most `samples`), padded to `minSamples`. Default 'fixed'. */
  audioLength?: 'fixed' | 'variable';
  /** With audioLength 'variable' (and only then): the shortest S the model accepts. */
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
  /** wasm only: the ffprobe/ffmpeg commands the worker ran, one core instance each. */
  commands?: number;
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
  /**
   * float32 [S] mono PCM, the window zero-padded at the end (to `samples`; with a variable
   * length S is what arrived, at most `samples`, at least `minSamples`); null when the file has no audio.
   */
  audio: Float32Array | null;
  /** t_i = (i + ½)·D/T, the seek time of each frame; [0] for frameTimes 'first'. */
  frameTimesSeconds: number[];
  /** Per frame: true when the seek yielded no frame and the spec's tail rule supplied it. */
  frameFromTail: boolean[];
  /** s0 = max(0, (D − window)/2), where the audio window starts (0 for 'from-start'). */
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

/** Throws BAD_SPEC unless every size is a positive integer within sane bounds and the variants combine. */
export function validateClipDecodeSpec(spec: ClipDecodeSpec): void {
  const bounds: ['frames' | 'height' | 'width' | 'sampleRateHz' | 'samples', number][] = [
    ['frames', 1024],
    ['height', 8192],
    ['width', 8192],
    ['sampleRateHz', 384_000],
    ['samples', 384_000 * 600],
  ];
  for (const [key, max] of bounds) {
    const value = spec[key];
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw badSpec(`${key} must be an integer in 1..${max}, got ${value}`);
    }
  }
  const variants: [keyof ClipDecodeSpec, readonly string[]][] = [
    ['frameTimes', ['midpoints', 'first']],
    ['resize', ['cover-center-crop', 'squash']],
    ['scaleFlags', ['area', 'bicubic']],
    ['audioWindow', ['centered', 'from-start']],
    ['audioLength', ['fixed', 'variable']],
  ];
  for (const [key, allowed] of variants) {
    const value = spec[key];
    if (value !== undefined && !allowed.includes(value as string)) {
      throw badSpec(`${key} must be one of ${allowed.join(', ')}, got ${String(value)}`);
    }
  }
  if (spec.frameTimes === 'first' && spec.frames !== 1) {
    throw badSpec(`frameTimes "first" needs frames 1, got ${spec.frames}`);
  }
  if (spec.audioLength === 'variable') {
    if (spec.audioWindow !== 'from-start') {
      throw badSpec('audioLength "variable" needs audioWindow "from-start"');
    }
    const min = spec.minSamples;
    if (min === undefined || !Number.isInteger(min) || min < 1 || min > spec.samples) {
      throw badSpec(
        `audioLength "variable" needs minSamples, an integer in 1..samples (${spec.samples}), got ${min}`,
      );
    }
  } else if (spec.minSamples !== undefined) {
    throw badSpec('minSamples is only for audioLength "variable"');
  }
}

function badSpec(message: string): DecodeError {
  return new DecodeError('BAD_SPEC', `decode spec: ${message}`);
}

/** Ties to even, as Python's round() (the spec's round(D · rate)). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * How many samples of silence stand in for a clip without audio (when the model allows it):
 * S, or with a variable length clamp(round(D · rate), minSamples, samples) (CONTRACT.md §6 step 5).
 */
export function silenceSamples(spec: ClipDecodeSpec, durationSeconds: number): number {
  if (spec.audioLength !== 'variable') return spec.samples;
  const wanted = roundHalfEven(durationSeconds * spec.sampleRateHz);
  return Math.min(spec.samples, Math.max(spec.minSamples ?? 1, wanted));
}

/** The silence a clip without audio is analysed with (see silenceSamples). */
export function silentAudio(spec: ClipDecodeSpec, durationSeconds: number): Float32Array {
  return new Float32Array(silenceSamples(spec, durationSeconds));
}
