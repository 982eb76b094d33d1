// The pure half of decode spec "mosear-decode-1": times, argument lists and probe parsing. Every
// function mirrors models/mosear/decode.py so both pipelines issue the same ffmpeg commands.
import {
  DECODE_SPEC_NAME,
  type AudioStreamInfo,
  type ClipDecodeSpec,
  type ClipProbe,
  type DecodedClip,
  type VideoStreamInfo,
} from './clipDecoder';
import { DecodeError } from './decodeError';

/** When a seek yields no frame, decode from this long before the end and keep the last frame. */
export const TAIL_RESEEK_SECONDS = 0.5;

/**
 * Formats seconds as Python's `f"{t:.6f}"`: correctly rounded, ties to even. JavaScript's
 * `toFixed(6)` rounds exact ties up instead; a double is an exact tie at 6 decimals only when it
 * is an odd multiple of 1/128 (…0078125), and then its 7-decimal form is exact.
 */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new DecodeError('BAD_SPEC', `cannot seek to ${seconds} s`);
  }
  const scaled = seconds * 128;
  if (Number.isInteger(scaled) && scaled % 2 === 1) {
    const truncated = seconds.toFixed(7).slice(0, -1);
    const lastDigit = Number(truncated.at(-1));
    if (lastDigit % 2 === 0) return truncated;
  }
  return seconds.toFixed(6);
}

/** t_i = (i + ½)·D/T, evaluated in the same order as the Python pipeline. */
export function frameTimesSeconds(durationSeconds: number, frames: number): number[] {
  return Array.from({ length: frames }, (_, i) => ((i + 0.5) * durationSeconds) / frames);
}

/** s0 = max(0, (D − window)/2): the audio window is centred, starting at 0 for short clips. */
export function audioWindowStartSeconds(durationSeconds: number, windowSeconds: number): number {
  return Math.max(0, (durationSeconds - windowSeconds) / 2);
}

/**
 * Square pixels first (a pass-through for square-pixel input), then cover-scale with area
 * averaging and a centred crop to W×H. Contract 1.1: 'squash' scales the stored picture to W×H
 * (no aspect ratio kept, no crop); 'bicubic' replaces every flags=area.
 */
export function videoFilter(
  width: number,
  height: number,
  resize: NonNullable<ClipDecodeSpec['resize']> = 'cover-center-crop',
  scaleFlags: NonNullable<ClipDecodeSpec['scaleFlags']> = 'area',
): string {
  const flags = `flags=${scaleFlags}`;
  if (resize === 'squash') return `scale=${width}:${height}:${flags}`;
  return (
    `scale=iw*sar:ih:${flags},setsar=1,` +
    `scale=${width}:${height}:force_original_aspect_ratio=increase:${flags},crop=${width}:${height}`
  );
}

/** The filter chain a spec asks for. */
export function videoFilterOf(spec: ClipDecodeSpec): string {
  return videoFilter(spec.width, spec.height, spec.resize, spec.scaleFlags);
}

/** Float32 [3, H, W] in [0, 1] from rgb24 HWC bytes, written at `offset` of `out`. */
export function writeChw(
  rgb: Uint8Array,
  out: Float32Array,
  offset: number,
  width: number,
  height: number,
): void {
  const plane = width * height;
  for (let p = 0; p < plane; p++) {
    out[offset + p] = rgb[3 * p]! / 255;
    out[offset + plane + p] = rgb[3 * p + 1]! / 255;
    out[offset + 2 * plane + p] = rgb[3 * p + 2]! / 255;
  }
}

/**
 * The first `samples` float32 LE samples of `pcm`, zero-padded at the end to `samples`; with
 * `minSamples` (a variable length) only what arrived, at most `samples`, padded to `minSamples`.
 */
export function audioWindow(pcm: Uint8Array, samples: number, minSamples?: number): Float32Array {
  const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const available = Math.min(samples, Math.floor(pcm.length / 4));
  const out = new Float32Array(
    minSamples === undefined ? samples : Math.max(minSamples, available),
  );
  for (let i = 0; i < available; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** ffprobe arguments: duration fields as the spec reads them, plus the stream facts we report. */
export function probeArgs(input: string): string[] {
  const entries = [
    'stream=index,codec_type,codec_name,width,height,sample_aspect_ratio,avg_frame_rate,duration,sample_rate,channels',
    'stream_disposition=attached_pic',
    'stream_side_data=rotation',
    'stream_tags=rotate',
    'format=duration,format_name',
  ].join(':');
  return ['-v', 'error', '-show_entries', entries, '-of', 'json', input];
}

/**
 * The input opened at `startSeconds` (an accurate input seek), or at its start without a seek
 * (null), quiet but for errors.
 */
function seekInput(input: string, startSeconds: number | null): string[] {
  const seek = startSeconds === null ? [] : ['-ss', formatSeconds(startSeconds)];
  return ['-v', 'error', '-nostdin', ...seek, '-i', input];
}

/**
 * One frame at t: accurate input seek (the first frame with pts ≥ t), autorotate on; t null:
 * no seek, the first frame (frameTimes 'first'). With `single` false, every frame from t to the
 * end (the tail fallback). `filter` defaults to contract 1's (videoFilter).
 */
export function frameArgs(
  input: string,
  tSeconds: number | null,
  width: number,
  height: number,
  single: boolean,
  filter: string = videoFilter(width, height),
): string[] {
  return [
    ...seekInput(input, tSeconds),
    ...(single ? ['-frames:v', '1'] : []),
    '-vf',
    filter,
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
    '-',
  ];
}

/**
 * Every frame in one ffmpeg process: input i is the clip opened with the accurate seek to
 * `times[i]` (exactly the per-frame command's input), and output i takes one frame of stream
 * `streamIndex` of input i to `outputs[i]`. Each output is what the per-frame command for
 * `times[i]` writes, by construction; only for a clip with one video stream, where the explicit
 * map picks the stream ffmpeg's default selection would.
 */
export function framesOneProcessArgs(
  input: string,
  times: readonly number[],
  streamIndex: number,
  width: number,
  height: number,
  outputs: readonly string[],
  filter: string = videoFilter(width, height),
): string[] {
  if (outputs.length !== times.length) {
    throw new DecodeError('BAD_SPEC', 'one output per frame time is needed');
  }
  const inputs = times.flatMap((t) => ['-ss', formatSeconds(t), '-i', input]);
  const perOutput = outputs.flatMap((out, i) => [
    '-map',
    `${i}:${streamIndex}`,
    '-frames:v',
    '1',
    '-vf',
    filter,
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
    out,
  ]);
  return ['-v', 'error', '-nostdin', ...inputs, ...perOutput];
}

/**
 * The audio window: mono float32 little-endian at the spec's rate, from s0 for the window length;
 * s0 null: from the start without a seek (audioWindow 'from-start'), the window length the cap.
 */
export function audioArgs(
  input: string,
  startSeconds: number | null,
  windowSeconds: number,
  sampleRateHz: number,
): string[] {
  return [
    ...seekInput(input, startSeconds),
    '-t',
    formatSeconds(windowSeconds),
    '-vn',
    '-ac',
    '1',
    '-ar',
    String(sampleRateHz),
    '-f',
    'f32le',
    '-',
  ];
}

/** A positive finite number from an ffprobe field ("N/A", missing and 0 give null), as Python's `_positive`. */
function positive(value: unknown): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const n = typeof value === 'number' ? value : value.trim() === '' ? NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : null;
}

function integerOrNull(value: unknown): number | null {
  const n = positive(value);
  return n !== null && Number.isInteger(n) ? n : null;
}

/** "30000/1001" → 29.97; "0/0" and junk → null. */
function rate(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const [num, den] = value.split('/').map(Number);
  if (num === undefined || den === undefined || !(num > 0) || !(den > 0)) return null;
  return num / den;
}

function normaliseRotation(ccwDegrees: number): VideoStreamInfo['rotationDegrees'] {
  const quarter = (((Math.round(ccwDegrees / 90) % 4) + 4) % 4) as 0 | 1 | 2 | 3;
  return ([0, 90, 180, 270] as const)[quarter];
}

type Json = Record<string, unknown>;
const text = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : 'unknown');
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Counterclockwise display rotation: the display matrix's, else the legacy `rotate` tag (clockwise). */
function rotationOf(stream: Json): number {
  const sideData = Array.isArray(stream.side_data_list) ? stream.side_data_list : [];
  for (const entry of sideData) {
    if (isObject(entry) && typeof entry.rotation === 'number') return entry.rotation;
  }
  const tag = isObject(stream.tags) ? Number(stream.tags.rotate) : NaN;
  return Number.isFinite(tag) ? -tag : 0;
}

/** Sample aspect ratio as a number; unknown and "0:1" count as square. */
function sarValue(sar: string): number {
  const [num, den] = sar.split(':').map(Number);
  return num !== undefined && den !== undefined && num > 0 && den > 0 ? num / den : 1;
}

/**
 * Reads ffprobe's JSON. D = the first video stream's duration when positive, else the
 * container's. Cover-art pictures (attached_pic) are not video. Throws NO_VIDEO / UNREADABLE.
 */
export function parseProbe(json: string, path: string, fileName: string): ClipProbe {
  let root: unknown;
  try {
    root = JSON.parse(json === '' ? '{}' : json);
  } catch {
    throw new DecodeError(
      'UNREADABLE',
      `Cannot read "${fileName}": ffprobe printed no valid JSON.`,
      path,
    );
  }
  const info = isObject(root) ? root : {};
  const streams = (Array.isArray(info.streams) ? info.streams : []).filter(isObject);
  const format = isObject(info.format) ? info.format : {};
  const isCover = (s: Json): boolean =>
    isObject(s.disposition) && Number(s.disposition.attached_pic) === 1;
  const videoStream = streams.find((s) => s.codec_type === 'video' && !isCover(s));
  const audioStream = streams.find((s) => s.codec_type === 'audio');
  if (videoStream === undefined) {
    const kinds = [...new Set(streams.map((s) => text(s.codec_type)))];
    const found =
      kinds.length > 0 ? `it has only ${kinds.join(', ')} stream(s)` : 'it has no streams';
    throw new DecodeError('NO_VIDEO', `"${fileName}" has no video stream (${found}).`, path);
  }
  const streamDuration = positive(videoStream.duration);
  const formatDuration = positive(format.duration);
  const durationSeconds = streamDuration ?? formatDuration;
  if (durationSeconds === null) {
    throw new DecodeError(
      'UNREADABLE',
      `Cannot decode "${fileName}": neither its video stream nor its container states a duration.`,
      path,
    );
  }
  const width = integerOrNull(videoStream.width);
  const height = integerOrNull(videoStream.height);
  if (width === null || height === null) {
    throw new DecodeError(
      'UNREADABLE',
      `Cannot decode "${fileName}": its video stream has no frame size.`,
      path,
    );
  }
  const sampleAspectRatio =
    typeof videoStream.sample_aspect_ratio === 'string' &&
    sarValue(videoStream.sample_aspect_ratio) !== 1
      ? videoStream.sample_aspect_ratio
      : '1:1';
  const rotationDegrees = normaliseRotation(rotationOf(videoStream));
  const squareWidth = Math.round(width * sarValue(sampleAspectRatio));
  const quarterTurn = rotationDegrees === 90 || rotationDegrees === 270;
  const video: VideoStreamInfo = {
    index: Number(videoStream.index),
    codec: text(videoStream.codec_name),
    width,
    height,
    sampleAspectRatio,
    rotationDegrees,
    displayWidth: quarterTurn ? height : squareWidth,
    displayHeight: quarterTurn ? squareWidth : height,
    averageFrameRateHz: rate(videoStream.avg_frame_rate),
  };
  const audio: AudioStreamInfo | null =
    audioStream === undefined
      ? null
      : {
          index: Number(audioStream.index),
          codec: text(audioStream.codec_name),
          sampleRateHz: integerOrNull(audioStream.sample_rate),
          channels: integerOrNull(audioStream.channels),
        };
  return {
    path,
    formatName: text(format.format_name),
    durationSeconds,
    durationSource: streamDuration !== null ? 'video-stream' : 'format',
    video,
    videoStreams: streams.filter((s) => s.codec_type === 'video').length,
    audio,
  };
}

/**
 * The NO_FRAME message both backends give when neither the seek nor the tail yields a frame
 * (`tSeconds` null: the first frame, read without a seek, did not arrive).
 */
export function noFrameMessage(
  name: string,
  tSeconds: number | null,
  durationSeconds: number,
): string {
  if (tSeconds === null) {
    return (
      `No frame of "${name}" could be decoded from its start (stated duration ` +
      `${formatSeconds(durationSeconds)} s): the file may be truncated or damaged.`
    );
  }
  return (
    `No frame of "${name}" could be decoded at ${formatSeconds(tSeconds)} s or in its last ` +
    `${TAIL_RESEEK_SECONDS} s (stated duration ${formatSeconds(durationSeconds)} s): the file ` +
    'may be truncated or damaged.'
  );
}

/**
 * One decode of one probed clip as the spec says: the frame times, the audio window, the
 * commands that read them and the buffers they fill. Both backends run its commands their own way.
 */
export class DecodePlan {
  /** Each frame's time: the seek times, or [0] for the first frame (no seek). */
  readonly frameTimes: number[];
  /** Whether frames are sought (midpoints) or the first frame is read without a seek. */
  readonly seeks: boolean;
  /** The -vf chain of every frame command. */
  readonly filter: string;
  readonly windowSeconds: number;
  readonly audioStartSeconds: number;
  /** Where the tail fallback reads from. */
  readonly tailStartSeconds: number;
  /** Bytes of one rgb24 frame. */
  readonly frameBytes: number;
  private readonly frames: Float32Array;
  private readonly frameFromTail: boolean[];
  private audio: Float32Array | null = null;

  constructor(
    /** The clip as the commands name it. */
    private readonly input: string,
    readonly source: ClipProbe,
    private readonly spec: ClipDecodeSpec,
  ) {
    const duration = source.durationSeconds;
    this.seeks = spec.frameTimes !== 'first';
    this.frameTimes = this.seeks ? frameTimesSeconds(duration, spec.frames) : [0];
    this.filter = videoFilterOf(spec);
    this.windowSeconds = spec.samples / spec.sampleRateHz;
    this.audioStartSeconds =
      spec.audioWindow === 'from-start' ? 0 : audioWindowStartSeconds(duration, this.windowSeconds);
    this.tailStartSeconds = Math.max(0, duration - TAIL_RESEEK_SECONDS);
    this.frameBytes = spec.width * spec.height * 3;
    this.frames = new Float32Array(spec.frames * this.frameBytes);
    this.frameFromTail = new Array<boolean>(spec.frames).fill(false);
  }

  /**
   * Whether all frames may come from one ffmpeg process (framesArgs): only with a single video
   * stream, where mapping it explicitly is what the per-frame command's default selection does,
   * and only for sought frames (the first frame is one command anyway).
   */
  get oneProcessFrames(): boolean {
    return this.seeks && this.source.videoStreams === 1;
  }

  /** Every frame in one process, frame i written to `outputs[i]` (framesOneProcessArgs). */
  framesArgs(outputs: readonly string[]): string[] {
    return framesOneProcessArgs(
      this.input,
      this.frameTimes,
      this.source.video.index,
      this.spec.width,
      this.spec.height,
      outputs,
      this.filter,
    );
  }

  /**
   * The seek to `tSeconds` for one frame, or (`single` false) every frame from the tail start;
   * without seeks, the first frame of the clip.
   */
  frameArgs(tSeconds: number, single: boolean): string[] {
    if (!this.seeks && !single) throw new DecodeError('BAD_SPEC', 'the first frame has no tail');
    const start = !this.seeks ? null : single ? tSeconds : this.tailStartSeconds;
    const { width, height } = this.spec;
    return frameArgs(this.input, start, width, height, single, this.filter);
  }

  audioArgs(): string[] {
    return audioArgs(
      this.input,
      this.spec.audioWindow === 'from-start' ? null : this.audioStartSeconds,
      this.windowSeconds,
      this.spec.sampleRateHz,
    );
  }

  /** What reading the frame at `tSeconds` is called in messages ("read the frame at … s"). */
  frameWhat(tSeconds: number): string {
    return this.seeks ? `read the frame at ${formatSeconds(tSeconds)} s` : 'read the first frame';
  }

  /** What reading every frame in one process is called in messages. */
  framesWhat(): string {
    return `read the frames at ${this.frameTimes.map(formatSeconds).join(', ')} s`;
  }

  /** What reading the audio is called in messages. */
  audioWhat(): string {
    return `read the audio from ${formatSeconds(this.audioStartSeconds)} s`;
  }

  /** Keeps frame `index` (rgb24 bytes) as CHW floats. */
  setFrame(index: number, rgb: Uint8Array, fromTail: boolean): void {
    writeChw(rgb, this.frames, index * this.frameBytes, this.spec.width, this.spec.height);
    this.frameFromTail[index] = fromTail;
  }

  /** Keeps the audio window from the audio command's float32 LE output. */
  setAudio(pcm: Uint8Array): void {
    const { samples, minSamples, audioLength } = this.spec;
    this.audio = audioWindow(pcm, samples, audioLength === 'variable' ? minSamples : undefined);
  }

  /** NO_FRAME's message for the frame at `tSeconds` (or the first frame, without seeks). */
  noFrameMessage(name: string, tSeconds: number): string {
    return noFrameMessage(name, this.seeks ? tSeconds : null, this.source.durationSeconds);
  }

  /** The decoded clip, its timings aside, once every frame (and the audio, if any) is set. */
  clip(backend: DecodedClip['backend']): Omit<DecodedClip, 'timings'> {
    return {
      specName: DECODE_SPEC_NAME,
      spec: { ...this.spec },
      backend,
      source: this.source,
      frames: this.frames,
      audio: this.audio,
      frameTimesSeconds: this.frameTimes,
      frameFromTail: this.frameFromTail,
      audioStartSeconds: this.audioStartSeconds,
    };
  }
}
