// The system-ffmpeg backend: decode spec "mosear-decode-1" run with the machine's ffmpeg and
// ffprobe, each command a bounded process. By default every frame comes from one ffmpeg process
// (one input per frame time, one output file per frame) run beside the audio command: the same
// tensors as one process per frame (the spec's commands, still selectable) in fewer starts.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadSink, LastRecordSink, runBounded, type BoundedRunResult } from './boundedProcess';
import {
  validateClipDecodeSpec,
  type ClipDecodeSpec,
  type ClipDecoder,
  type ClipProbe,
  type DecodedClip,
} from './clipDecoder';
import { checkClipFile } from './clipFile';
import { DecodeError } from './decodeError';
import {
  processLookupEnvironment,
  resolveFfmpegExecutables,
  type FfmpegExecutables,
  type LookupEnvironment,
} from './executableLookup';
import { formatRefusedMessage, isFormatRefusal, restrictInput } from './inputRestriction';
import { DecodePlan, formatSeconds, parseProbe, probeArgs } from './mosearDecode1';
import type { FrameDecode } from '../../protocol/decodeWorkerMessages';

/** A process the decoder started or saw end (for logs; tests use the pids). */
export interface DecodeProcessEvent {
  phase: 'start' | 'end';
  pid: number;
  executable: string;
  args: readonly string[];
  /** On 'end': how it ended and how long it ran. */
  outcome?: BoundedRunResult['outcome'];
  ms?: number;
}

/** How the system-ffmpeg decoder finds and bounds its processes. */
export interface SystemFfmpegDecoderOptions {
  /** An explicit ffmpeg executable; otherwise PATH is searched. */
  ffmpegPath?: string | undefined;
  /** An explicit ffprobe executable; otherwise next to ffmpegPath, then PATH. */
  ffprobePath?: string | undefined;
  /** PATH/platform to search; defaults to the running process's. */
  lookup?: LookupEnvironment | undefined;
  /** Processes run at once per decode (frames and audio share them). Default 2. */
  maxParallelProcesses?: number | undefined;
  /** Wall-clock limit per process. Default 60 s. */
  processTimeoutMs?: number | undefined;
  /** Told about every process start and end. */
  onProcess?: ((event: DecodeProcessEvent) => void) | undefined;
  /**
   * 'one-process' (default): all frames from one ffmpeg process where the clip has a single
   * video stream, else per frame; 'per-frame': one process per frame (the spec's commands).
   */
  frameDecode?: FrameDecode | undefined;
}

export type { FrameDecode };

const PROBE_MAX_BYTES = 4 * 1024 * 1024;
const TAIL_MAX_FRAMES = 10_000;

/** Last few non-empty stderr lines, short enough for a message. */
function stderrSummary(stderrTail: string): string {
  const lines = stderrTail
    .split(/\r?\n/)
    .map((l) => l.replace(/ @ 0x[0-9a-f]+\]/g, ']').trim())
    .filter((l) => l !== '');
  const text = lines.slice(-4).join(' | ');
  return text.length > 600 ? `…${text.slice(-600)}` : text;
}

/**
 * Runs tasks with at most `limit` at once. On the first failure it aborts `controller` (so the
 * running processes are killed), lets the running tasks settle and rethrows that failure.
 */
async function runLimited<T>(
  tasks: (() => Promise<T>)[],
  limit: number,
  controller: AbortController,
): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < tasks.length) {
      const index = next++;
      try {
        results[index] = await tasks[index]!();
      } catch (error) {
        if (failure === undefined) {
          failure = { error };
          controller.abort();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  if (failure !== undefined) throw failure.error;
  return results;
}

/** Decodes clips with the system's ffmpeg/ffprobe, exactly as decode spec "mosear-decode-1" says. */
export class SystemFfmpegDecoder implements ClipDecoder {
  readonly backend = 'system' as const;
  private readonly maxParallel: number;
  private readonly timeoutMs: number;
  private readonly frameDecode: FrameDecode;

  constructor(private readonly options: SystemFfmpegDecoderOptions = {}) {
    this.maxParallel = Math.max(1, Math.floor(options.maxParallelProcesses ?? 2));
    this.timeoutMs = Math.max(1, options.processTimeoutMs ?? 60_000);
    this.frameDecode = options.frameDecode ?? 'one-process';
  }

  /** The executables this decoder would use now (throws FFMPEG_NOT_FOUND). */
  executables(): FfmpegExecutables {
    return resolveFfmpegExecutables(
      this.options,
      this.options.lookup ?? processLookupEnvironment(),
    );
  }

  async probe(path: string, signal?: AbortSignal): Promise<ClipProbe> {
    const file = await checkClipFile(path);
    const { ffprobe } = this.executables();
    return this.runProbe(ffprobe, file, signal, { count: 0 });
  }

  async decode(path: string, spec: ClipDecodeSpec, signal?: AbortSignal): Promise<DecodedClip> {
    const started = performance.now();
    validateClipDecodeSpec(spec);
    const file = await checkClipFile(path);
    const { ffmpeg, ffprobe } = this.executables();
    const processes = { count: 0 };

    const probeStarted = performance.now();
    const source = await this.runProbe(ffprobe, file, signal, processes);
    const probeMs = performance.now() - probeStarted;

    const plan = new DecodePlan(file.path, source, spec);
    const { frameBytes } = plan;
    let framesStart = Infinity;
    let framesEnd = 0;
    let audioMs = 0;

    // One controller for the whole decode: the caller's abort or any failure kills every process.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) controller.abort();
    const runFfmpeg = (args: string[], sink: HeadSink | LastRecordSink) =>
      this.run(ffmpeg, args, sink, controller.signal, processes);

    /** Frame `index` from the tail when its seek wrote less than a frame (`rgb`). */
    const keepFrame = async (index: number, rgb: Uint8Array): Promise<void> => {
      const t = plan.frameTimes[index]!;
      let fromTail = false;
      if (rgb.length < frameBytes && !plan.seeks) {
        // The first frame, read without a seek, did not arrive: no tail can help.
        throw new DecodeError('NO_FRAME', plan.noFrameMessage(file.name, t), file.path);
      }
      if (rgb.length < frameBytes) {
        // The seek landed past the last decodable frame: decode the tail, keep its last frame.
        const tail = new LastRecordSink(frameBytes, TAIL_MAX_FRAMES);
        const result = await runFfmpeg(plan.frameArgs(t, false), tail);
        const what = `read the last frames from ${formatSeconds(plan.tailStartSeconds)} s`;
        this.check(result, file, what, signal);
        const last = tail.lastRecord();
        if (last === undefined) {
          throw new DecodeError(
            'NO_FRAME',
            plan.noFrameMessage(file.name, t) + suffix(result.stderrTail),
            file.path,
            result.stderrTail,
          );
        }
        rgb = last;
        fromTail = true;
      }
      plan.setFrame(index, rgb, fromTail);
    };

    const frameTask = (index: number) => async (): Promise<void> => {
      framesStart = Math.min(framesStart, performance.now());
      const t = plan.frameTimes[index]!;
      const head = new HeadSink(2 * frameBytes);
      const single = await runFfmpeg(plan.frameArgs(t, true), head);
      this.check(single, file, plan.frameWhat(t), signal);
      await keepFrame(index, head.bytes());
      framesEnd = Math.max(framesEnd, performance.now());
    };

    const allFramesTask = async (): Promise<void> => {
      framesStart = Math.min(framesStart, performance.now());
      // A private folder for the frame files (the worker's TMPDIR is private too).
      const dir = await mkdtemp(join(tmpdir(), 'mosear-frames-'));
      try {
        const outputs = plan.frameTimes.map((_, i) => join(dir, `frame-${i}.rgb`));
        const result = await runFfmpeg(plan.framesArgs(outputs), new HeadSink(0));
        this.check(result, file, plan.framesWhat(), signal);
        for (const [index, output] of outputs.entries()) {
          await keepFrame(index, await readFrameFile(output, frameBytes));
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      framesEnd = Math.max(framesEnd, performance.now());
    };

    const audioTask = async (): Promise<void> => {
      const pcmBytes = 4 * spec.samples;
      const head = new HeadSink(2 * pcmBytes + 65536);
      const result = await runFfmpeg(plan.audioArgs(), head);
      this.check(result, file, plan.audioWhat(), signal);
      plan.setAudio(head.bytes());
      audioMs = result.ms;
    };

    const tasks =
      this.frameDecode === 'one-process' && plan.oneProcessFrames
        ? [allFramesTask]
        : plan.frameTimes.map((_, i) => frameTask(i));
    if (source.audio !== null) tasks.push(audioTask);
    try {
      await runLimited(tasks, this.maxParallel, controller);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }

    return {
      ...plan.clip(this.backend),
      timings: {
        probeMs,
        framesMs: Math.max(0, framesEnd - framesStart),
        audioMs,
        totalMs: performance.now() - started,
        processes: processes.count,
      },
    };
  }

  private async runProbe(
    ffprobe: string,
    file: { path: string; name: string },
    signal: AbortSignal | undefined,
    processes: { count: number },
  ): Promise<ClipProbe> {
    const sink = new HeadSink(PROBE_MAX_BYTES);
    const result = await this.run(ffprobe, probeArgs(file.path), sink, signal, processes);
    this.check(result, file, 'read', signal, 'ffprobe');
    return parseProbe(sink.bytes().toString('utf8'), file.path, file.name);
  }

  private async run(
    executable: string,
    args: string[],
    sink: HeadSink | LastRecordSink,
    signal: AbortSignal | undefined,
    processes: { count: number },
  ): Promise<BoundedRunResult> {
    processes.count += 1;
    let pid: number | undefined;
    // Every command is confined to the clip file in an allowed format (inputRestriction.ts).
    const confined = restrictInput(args);
    const result = await runBounded({
      executable,
      args: confined,
      sink,
      timeoutMs: this.timeoutMs,
      signal,
      onSpawn: (p) => {
        pid = p;
        this.options.onProcess?.({ phase: 'start', pid: p, executable, args: confined });
      },
    });
    if (pid === undefined) {
      processes.count -= 1; // never started: aborted before the spawn, or the spawn failed
    } else {
      this.options.onProcess?.({
        phase: 'end',
        pid,
        executable,
        args: confined,
        outcome: result.outcome,
        ms: result.ms,
      });
    }
    return result;
  }

  /** Turns anything but a clean exit into a DecodeError a user can read. */
  private check(
    result: BoundedRunResult,
    file: { path: string; name: string },
    what: string,
    callerSignal: AbortSignal | undefined,
    tool: 'ffmpeg' | 'ffprobe' = 'ffmpeg',
  ): void {
    const tail = result.stderrTail;
    switch (result.outcome) {
      case 'exited':
        if (result.exitCode === 0) return;
        if (isFormatRefusal(tail)) {
          throw new DecodeError('UNREADABLE', formatRefusedMessage(file.name), file.path, tail);
        }
        throw new DecodeError(
          'UNREADABLE',
          `${tool} could not ${what} "${file.name}" (exit code ${result.exitCode}).${suffix(tail, tool)}`,
          file.path,
          tail,
        );
      case 'cancelled':
        // An internal abort after another task failed is not the caller's cancel; that task's error wins.
        throw new DecodeError(
          'CANCELLED',
          callerSignal?.aborted === true
            ? `Decoding "${file.name}" was cancelled.`
            : `Decoding "${file.name}" was stopped because another step failed.`,
          file.path,
        );
      case 'timeout':
        throw new DecodeError(
          'TIMEOUT',
          `${tool} took longer than ${(this.timeoutMs / 1000).toFixed(1)} s to ${what} "${file.name}" and was stopped.${suffix(tail, tool)}`,
          file.path,
          tail,
        );
      case 'overflow':
        throw new DecodeError(
          'OUTPUT_LIMIT',
          `${tool} wrote far more data than expected while trying to ${what} "${file.name}" and was stopped.${suffix(tail, tool)}`,
          file.path,
          tail,
        );
      case 'crashed':
        throw new DecodeError(
          'UNREADABLE',
          `${tool} crashed (${result.exitSignal}) while trying to ${what} "${file.name}".${suffix(tail, tool)}`,
          file.path,
          tail,
        );
      case 'spawn-failed':
        throw new DecodeError(
          result.error.code === 'ENOENT' ? 'FFMPEG_NOT_FOUND' : 'UNREADABLE',
          `Could not start ${tool}: ${result.error.message}.`,
          file.path,
        );
    }
  }
}

/**
 * The frame an output file holds: its first `frameBytes` (less when the seek found no frame;
 * a missing file, which ffmpeg leaves when it wrote nothing, reads as empty).
 */
async function readFrameFile(path: string, frameBytes: number): Promise<Uint8Array> {
  try {
    const bytes = await readFile(path);
    return bytes.subarray(0, Math.min(bytes.length, frameBytes));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Uint8Array(0);
    throw error;
  }
}

/** " ffmpeg says: …" when stderr had anything. */
function suffix(stderrTail: string, tool: 'ffmpeg' | 'ffprobe' = 'ffmpeg'): string {
  const summary = stderrSummary(stderrTail);
  return summary === '' ? '' : ` ${tool} says: ${summary}`;
}
