// Decode spec "mosear-decode-1" on the ffmpeg.wasm core, inside the worker process: the same
// ffprobe and ffmpeg argument lists as the system backend (mosearDecode1.ts), with the clip in
// the core's in-memory file system instead of on disk and each output in a file instead of a pipe.
// As there, every frame comes from one command by default (DecodePlan.framesArgs), per frame when
// asked (frameDecode 'per-frame').
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, extname } from 'node:path';
import {
  type ClipDecodeSpec,
  type ClipProbe,
  type DecodedClip,
  type VideoStreamInfo,
} from './clipDecoder';
import { DecodeError } from './decodeError';
import {
  formatRefusedMessage,
  isFormatRefusal,
  refusePlaylist,
  restrictInput,
} from './inputRestriction';
import { DecodePlan, formatSeconds, parseProbe, probeArgs } from './mosearDecode1';
import type { CoreRunResult, WasmFfmpegCore } from './wasmCore';
import type { FrameDecode } from '../../protocol/decodeWorkerMessages';

/** The tool names used in messages, so a reader knows which decoder spoke. */
const FFMPEG = 'ffmpeg.wasm';
const FFPROBE = 'ffprobe (ffmpeg.wasm)';
/** Where the clip and each command's output live in the core's in-memory file system. */
const CLIP_DIR = '/clip';
const OUTPUT = `${CLIP_DIR}/output`;
/** As the system backend: more than this many tail frames is a runaway. */
const TAIL_MAX_FRAMES = 10_000;

/** A clip read into memory, with the names messages use. */
export interface ClipBytes {
  /** Absolute path on disk. */
  path: string;
  /** File name for messages. */
  name: string;
  /** Path inside the core's file system (keeps the extension, which ffmpeg's probing weighs). */
  memoryPath: string;
  bytes: Uint8Array;
}

/** A size for messages: bytes, KiB or MiB with one decimal. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 2 ** 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The message for a clip over the size cap; it names the way past the cap. */
export function tooLargeMessage(name: string, sizeBytes: number, maxFileBytes: number): string {
  return (
    `"${name}" is ${formatSize(sizeBytes)}; the bundled WebAssembly decoder holds the whole clip in ` +
    `memory and accepts at most ${formatSize(maxFileBytes)}. Install ffmpeg and choose the system ` +
    `decoder (--decoder system, or the "mosear.decode.decoder" setting) to analyse larger clips.`
  );
}

/**
 * Reads a clip into memory, refusing files over `maxFileBytes` before reading them (the size is
 * taken from the open file, so a file swapped after the parent's check is still bounded).
 */
export function readClip(path: string, maxFileBytes: number): ClipBytes {
  const name = basename(path);
  const ext = extname(path);
  const memoryPath = `${CLIP_DIR}/input${/^\.[A-Za-z0-9]{1,10}$/.test(ext) ? ext : ''}`;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DecodeError('FILE_NOT_FOUND', `The clip "${path}" does not exist.`, path);
    }
    throw new DecodeError('UNREADABLE', `Cannot open "${path}": ${(error as Error).message}`, path);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new DecodeError('UNREADABLE', `"${name}" is not a file.`, path);
    if (info.size > maxFileBytes) {
      throw new DecodeError('TOO_LARGE', tooLargeMessage(name, info.size, maxFileBytes), path);
    }
    const bytes = new Uint8Array(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const n = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    const clip = { path, name, memoryPath, bytes: bytes.subarray(0, filled) };
    // Checked again here: the file may have changed since the parent's check.
    refusePlaylist(clip.bytes, name, path);
    return clip;
  } finally {
    closeSync(fd);
  }
}

/** Last few stderr lines, the in-memory path shown as the file's name. */
function stderrSummary(lines: readonly string[], clip: ClipBytes): string {
  const text = lines
    .flatMap((l) => l.split(/\r?\n|\r/))
    .map((l) =>
      l
        .replaceAll(clip.memoryPath, clip.name)
        .replace(/ @ 0x[0-9a-f]+\]/g, ']')
        .trim(),
    )
    .filter((l) => l !== '')
    .slice(-4)
    .join(' | ');
  return text.length > 600 ? `…${text.slice(-600)}` : text;
}

function suffix(tool: string, lines: readonly string[], clip: ClipBytes): string {
  const summary = stderrSummary(lines, clip);
  return summary === '' ? '' : ` ${tool} says: ${summary}`;
}

/** How to reach the system decoder, for messages about what only it can read. */
const USE_SYSTEM =
  'The system decoder reads it (install ffmpeg; --decoder system, or the "mosear.decode.decoder" setting).';

/**
 * Known difference 1 (README, "Decoding clips"): the core is built without SIMD, so its frame
 * buffers are only 8-byte aligned and the MPEG-4 Part 2 / H.263 / MPEG-1/2 decoders refuse
 * frames 16 pixels wide or narrower ("Image too small"); the system ffmpeg decodes them.
 */
export function tooNarrowMessage(name: string, video: VideoStreamInfo): string {
  return (
    `${FFMPEG} cannot decode "${name}": its ${video.codec} video is ${video.width}×${video.height} ` +
    'pixels, and the bundled decoder cannot decode MPEG-4 Part 2, H.263 or MPEG-1/2 video 16 ' +
    `pixels wide or narrower (ffmpeg: "Image too small"). ${USE_SYSTEM}`
  );
}

/**
 * Known difference 2: FFmpeg 5.1.4 in the core refuses an MP4 with a second 'ftyp' box after
 * its streams (two MP4 files joined byte by byte); later FFmpeg releases (Debian 12's 5.1.x)
 * skip it and read the first file. The offset of that second top-level 'ftyp', or null.
 */
export function secondFtypOffset(bytes: Uint8Array): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (let boxes = 0; offset + 8 <= bytes.length && boxes < 10_000; boxes++) {
    const size32 = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (type === 'ftyp' && offset > 0) return offset;
    const size =
      size32 === 1 && offset + 16 <= bytes.length
        ? Number(view.getBigUint64(offset + 8))
        : size32 === 0
          ? bytes.length - offset
          : size32;
    if (size < 8) return null;
    offset += size;
  }
  return null;
}

function joinedMp4Message(offset: number): string {
  return (
    ` It holds a second MP4 header (an 'ftyp' box at byte ${offset}), as two MP4 files joined ` +
    `byte by byte do; the bundled decoder refuses such files. ${USE_SYSTEM}`
  );
}

/** Wall-clock milliseconds the worker spent per stage. */
export interface WorkerTimings {
  probeMs: number;
  framesMs: number;
  audioMs: number;
  /** Commands run (probe, frame reads, tail re-reads, audio): one core instance each. */
  commands: number;
}

/** Runs decode spec commands on one clip with one compiled core. */
export class WasmClipDecode {
  readonly timings: WorkerTimings = { probeMs: 0, framesMs: 0, audioMs: 0, commands: 0 };
  /** The probe, once made (messages about the video stream use it). */
  private source: ClipProbe | undefined;

  constructor(
    private readonly core: WasmFfmpegCore,
    private readonly clip: ClipBytes,
    /** How the frames are read (the system backend's choice, same default). */
    private readonly frameDecode: FrameDecode = 'one-process',
  ) {}

  /** ffprobe with the spec's arguments, its JSON written to a file and parsed as the system's. */
  async probe(): Promise<ClipProbe> {
    const started = performance.now();
    const { clip } = this;
    const result = await this.run('ffprobe', [...probeArgs(clip.memoryPath), '-o', OUTPUT]);
    this.timings.probeMs += performance.now() - started;
    const output = result.outputs[0];
    const json = output === undefined ? '' : new TextDecoder().decode(output);
    // ffprobe's exit code is not reported: a file it could not open prints no format section.
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || !('format' in parsed)) {
      const stderr = result.stderrLines.join('\n');
      if (isFormatRefusal(stderr)) {
        throw new DecodeError('UNREADABLE', formatRefusedMessage(clip.name), clip.path, stderr);
      }
      const joinedAt = secondFtypOffset(clip.bytes);
      throw new DecodeError(
        'UNREADABLE',
        `${FFPROBE} could not read "${clip.name}".` +
          (joinedAt === null ? '' : joinedMp4Message(joinedAt)) +
          suffix(FFPROBE, result.stderrLines, clip),
        clip.path,
        stderr,
      );
    }
    this.source = parseProbe(json, clip.path, clip.name);
    return this.source;
  }

  /** The whole spec: probe, T frames (with the tail rule), the audio window. */
  async decode(spec: ClipDecodeSpec): Promise<Omit<DecodedClip, 'timings'>> {
    const source = await this.probe();
    const plan = new DecodePlan(this.clip.memoryPath, source, spec);

    const framesStarted = performance.now();
    if (this.frameDecode === 'one-process' && plan.oneProcessFrames) {
      await this.allFrames(plan);
    } else {
      for (const [index, t] of plan.frameTimes.entries()) {
        const single = await this.run('ffmpeg', plan.frameArgs(t, true));
        this.check(single, plan.frameWhat(t));
        await this.keepFrame(
          plan,
          index,
          this.bounded(single, 2 * plan.frameBytes, plan.frameWhat(t)),
        );
      }
    }
    this.timings.framesMs = performance.now() - framesStarted;

    if (source.audio !== null) {
      const audioStarted = performance.now();
      const pcmBytes = 4 * spec.samples;
      const result = await this.run('ffmpeg', plan.audioArgs());
      this.check(result, plan.audioWhat());
      plan.setAudio(this.bounded(result, 2 * pcmBytes + 65536, 'read the audio'));
      this.timings.audioMs = performance.now() - audioStarted;
    }
    return plan.clip('wasm');
  }

  /**
   * Every frame from one command (the system backend's: one sought input and one output file per
   * frame time), then the tail rule for any frame whose seek wrote less than a frame.
   */
  private async allFrames(plan: DecodePlan): Promise<void> {
    const outputs = plan.frameTimes.map((_, i) => `${CLIP_DIR}/frame-${i}.rgb`);
    const result = await this.run('ffmpeg', plan.framesArgs(outputs), outputs);
    this.check(result, plan.framesWhat());
    for (const index of outputs.keys()) {
      const rgb = this.bounded(result, 2 * plan.frameBytes, plan.framesWhat(), index);
      await this.keepFrame(plan, index, rgb);
    }
  }

  /**
   * Keeps frame `index` from `rgb`, what its seek wrote: the first frame with pts ≥ t, else (less
   * than a frame arrived) the last frame of the final 0.5 s.
   */
  private async keepFrame(plan: DecodePlan, index: number, rgb: Uint8Array): Promise<void> {
    const { frameBytes } = plan;
    const { clip } = this;
    const t = plan.frameTimes[index]!;
    if (rgb.length >= frameBytes) {
      plan.setFrame(index, rgb.subarray(0, frameBytes), false);
      return;
    }
    if (!plan.seeks) {
      // The first frame, read without a seek, did not arrive: no tail can help.
      throw new DecodeError('NO_FRAME', plan.noFrameMessage(clip.name, t), clip.path);
    }

    const what = `read the last frames from ${formatSeconds(plan.tailStartSeconds)} s`;
    const tail = await this.run('ffmpeg', plan.frameArgs(t, false));
    this.check(tail, what);
    const bytes = this.bounded(tail, TAIL_MAX_FRAMES * frameBytes, what);
    const records = Math.floor(bytes.length / frameBytes);
    if (records === 0) {
      throw new DecodeError(
        'NO_FRAME',
        plan.noFrameMessage(clip.name, t) + suffix(FFMPEG, tail.stderrLines, clip),
        clip.path,
        tail.stderrLines.join('\n'),
      );
    }
    plan.setFrame(index, bytes.subarray((records - 1) * frameBytes, records * frameBytes), true);
  }

  /**
   * One command on a fresh core instance; the spec's `-` (stdout) becomes the file OUTPUT, else
   * the command names its `outputs` itself.
   */
  private async run(
    tool: 'ffmpeg' | 'ffprobe',
    args: string[],
    outputs: readonly string[] = [OUTPUT],
  ): Promise<CoreRunResult> {
    this.timings.commands += 1;
    const last = args.length - 1;
    const specArgs =
      tool === 'ffmpeg' && args[last] === '-' ? [...args.slice(0, last), OUTPUT] : args;
    // As the system backend: confined to the clip in an allowed format (inputRestriction.ts).
    const fileArgs = restrictInput(specArgs);
    try {
      return await this.core.run(
        tool,
        fileArgs,
        { path: this.clip.memoryPath, bytes: this.clip.bytes },
        outputs,
      );
    } catch (error) {
      // A trap inside the module (out-of-bounds access, unreachable): the system backend's crash.
      throw new DecodeError(
        'UNREADABLE',
        `${tool === 'ffmpeg' ? FFMPEG : FFPROBE} crashed (${(error as Error).message}) while reading "${this.clip.name}".`,
        this.clip.path,
      );
    }
  }

  /** A non-zero exit (or an abort, −1) is UNREADABLE with ffmpeg's own words. */
  private check(result: CoreRunResult, what: string): void {
    if (result.exitCode === 0) return;
    const { clip } = this;
    const stderr = result.stderrLines.join('\n');
    if (isFormatRefusal(stderr)) {
      throw new DecodeError('UNREADABLE', formatRefusedMessage(clip.name), clip.path, stderr);
    }
    const video = this.source?.video;
    if (stderr.includes('Image too small') && video !== undefined) {
      throw new DecodeError('UNREADABLE', tooNarrowMessage(clip.name, video), clip.path, stderr);
    }
    throw new DecodeError(
      'UNREADABLE',
      `${FFMPEG} could not ${what} "${clip.name}" (exit code ${result.exitCode}).${suffix(FFMPEG, result.stderrLines, clip)}`,
      clip.path,
      result.stderrLines.join('\n'),
    );
  }

  /** The command's output file `index`, or OUTPUT_LIMIT when it holds more than `maxBytes`. */
  private bounded(result: CoreRunResult, maxBytes: number, what: string, index = 0): Uint8Array {
    const bytes = result.outputs[index] ?? new Uint8Array(0);
    if (bytes.length > maxBytes) {
      throw new DecodeError(
        'OUTPUT_LIMIT',
        `${FFMPEG} wrote far more data than expected while trying to ${what} "${this.clip.name}".`,
        this.clip.path,
      );
    }
    return bytes;
  }
}
