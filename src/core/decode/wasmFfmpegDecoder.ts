// The ffmpeg.wasm backend's parent side: forks dist/decode/wasmWorker.js for each probe or decode,
// bounds it by size, time and cancellation, and turns its reply into a DecodedClip or DecodeError.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  validateClipDecodeSpec,
  type ClipDecodeSpec,
  type ClipDecoder,
  type ClipProbe,
  type DecodedClip,
} from './clipDecoder';
import { checkClipFile } from './clipFile';
import { DecodeError } from './decodeError';
import type { DecodeProcessEvent, FrameDecode } from './systemFfmpegDecoder';
import type { WasmCoreFiles } from './wasmCore';
import { tooLargeMessage } from './wasmDecode';
import {
  parseWasmWorkerReply,
  type WasmWorkerReply,
  type WasmWorkerRequest,
} from '../../protocol/decodeWorkerMessages';

export type { WasmCoreFiles } from './wasmCore';

/** Default size cap: the worker holds the clip, its decoded frames and the core in memory. */
export const WASM_DEFAULT_MAX_FILE_BYTES = 256 * 2 ** 20;
/** Default wall-clock limit for one probe or decode, startup included. */
export const WASM_DEFAULT_TIMEOUT_MS = 120_000;
/** Where `npm run build` writes the worker, relative to the `dist/` folder. */
export const WASM_WORKER_BUNDLE = 'decode/wasmWorker.js';

/** How the wasm decoder starts and bounds its worker. */
export interface WasmFfmpegDecoderOptions {
  /**
   * The built worker script (`dist/decode/wasmWorker.js`). The host passes it — it knows where its
   * bundle lives; the core never guesses `__dirname`.
   */
  workerScript: string;
  /** The core's files; default: `@ffmpeg/core`'s UMD build, resolved from node_modules. */
  core?: WasmCoreFiles | undefined;
  /** Largest clip accepted, in bytes (default 256 MiB); larger clips need the system decoder. */
  maxFileBytes?: number | undefined;
  /** Wall-clock limit for one probe or decode, process start included (default 120 s). */
  timeoutMs?: number | undefined;
  /** The Node executable to fork with (default: this process's). */
  execPath?: string | undefined;
  /** Told about the worker process's start and end. */
  onProcess?: ((event: DecodeProcessEvent) => void) | undefined;
  /**
   * 'one-process' (default): all frames from one ffmpeg command where the clip has a single video
   * stream, else per frame; 'per-frame': one command per frame. As the system decoder's option.
   */
  frameDecode?: FrameDecode | undefined;
}

/**
 * The UMD flavour of @ffmpeg/core (its `require` export), the only flavour the project loads or
 * packages. Resolved from this bundle's node_modules; DECODER_MISSING when absent.
 */
export function resolveWasmCoreFiles(core?: WasmCoreFiles): WasmCoreFiles {
  let files = core;
  if (files === undefined) {
    try {
      const script = require.resolve('@ffmpeg/core');
      files = { script, wasm: join(dirname(script), 'ffmpeg-core.wasm') };
    } catch {
      throw new DecodeError(
        'DECODER_MISSING',
        'The bundled ffmpeg.wasm core (@ffmpeg/core) is not installed next to MoSEAR Lens; ' +
          'reinstall it, or use the system decoder with ffmpeg installed.',
      );
    }
  }
  for (const file of [files.script, files.wasm]) {
    if (!existsSync(file)) {
      throw new DecodeError(
        'DECODER_MISSING',
        `The bundled ffmpeg.wasm core file "${file}" is missing; reinstall MoSEAR Lens, or use the system decoder with ffmpeg installed.`,
      );
    }
  }
  return files;
}

/** The parent-side outcome of one worker run. */
type WorkerOutcome =
  | { kind: 'reply'; reply: WasmWorkerReply; ms: number }
  | { kind: 'timeout' | 'cancelled'; ms: number }
  | { kind: 'malformed'; reason: string; ms: number }
  | { kind: 'crashed'; detail: string; stderrTail: string; ms: number };

const STDERR_TAIL_BYTES = 4096;

/**
 * Decodes clips with ffmpeg compiled to WebAssembly (@ffmpeg/core 0.12, ffmpeg 5.1), needing no
 * ffmpeg on the machine. Each probe or decode runs in its own child process: the file is read
 * into the core's in-memory file system and the spec's commands run there, one fresh core
 * instance per command (all frames in one command unless `frameDecode` is 'per-frame'). Cancel
 * and the timeout kill the process.
 */
export class WasmFfmpegDecoder implements ClipDecoder {
  readonly backend = 'wasm' as const;
  readonly maxFileBytes: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: WasmFfmpegDecoderOptions) {
    this.maxFileBytes = Math.max(
      0,
      Math.floor(options.maxFileBytes ?? WASM_DEFAULT_MAX_FILE_BYTES),
    );
    this.timeoutMs = Math.max(1, options.timeoutMs ?? WASM_DEFAULT_TIMEOUT_MS);
  }

  /** The worker script and core files this decoder would use now (throws DECODER_MISSING). */
  files(): { workerScript: string; core: WasmCoreFiles } {
    if (!existsSync(this.options.workerScript)) {
      throw new DecodeError(
        'DECODER_MISSING',
        `The WebAssembly decoder's worker script "${this.options.workerScript}" is missing (run \`npm run build\`).`,
      );
    }
    return {
      workerScript: this.options.workerScript,
      core: resolveWasmCoreFiles(this.options.core),
    };
  }

  async probe(path: string, signal?: AbortSignal): Promise<ClipProbe> {
    const file = await this.checkFile(path);
    const { reply } = await this.runWorker(file, { kind: 'probe' }, signal);
    if (reply.kind !== 'probed') throw new Error(`unexpected ${reply.kind} reply`);
    return reply.probe;
  }

  async decode(path: string, spec: ClipDecodeSpec, signal?: AbortSignal): Promise<DecodedClip> {
    const started = performance.now();
    validateClipDecodeSpec(spec);
    const file = await this.checkFile(path);
    const job = {
      kind: 'decode' as const,
      spec,
      ...(this.options.frameDecode === undefined ? {} : { frameDecode: this.options.frameDecode }),
    };
    const { reply, ms } = await this.runWorker(file, job, signal);
    if (reply.kind !== 'decoded') throw new Error(`unexpected ${reply.kind} reply`);
    const { probeMs, framesMs, audioMs, commands } = reply.timings;
    const totalMs = performance.now() - started;
    return {
      ...reply.clip,
      timings: {
        probeMs,
        framesMs,
        audioMs,
        totalMs,
        processes: 1,
        startMs: Math.max(0, ms - probeMs - framesMs - audioMs),
        commands,
      },
    };
  }
  /** Resolves and checks the clip, and enforces the in-memory size cap. */
  private async checkFile(path: string): Promise<{ path: string; name: string }> {
    const file = await checkClipFile(path);
    if (file.sizeBytes > this.maxFileBytes) {
      throw new DecodeError(
        'TOO_LARGE',
        tooLargeMessage(file.name, file.sizeBytes, this.maxFileBytes),
        file.path,
      );
    }
    return file;
  }

  /**
   * Forks the worker, sends one request and waits for its reply and its exit. A failed reply,
   * a timeout, a cancel and a crash all become DecodeErrors; the promise settles only after the
   * process has exited.
   */
  private async runWorker(
    file: { path: string; name: string },
    job: { kind: 'probe' } | { kind: 'decode'; spec: ClipDecodeSpec; frameDecode?: FrameDecode },
    signal: AbortSignal | undefined,
  ): Promise<{ reply: Exclude<WasmWorkerReply, { kind: 'failed' }>; ms: number }> {
    if (signal?.aborted === true) {
      throw new DecodeError('CANCELLED', `Decoding "${file.name}" was cancelled.`, file.path);
    }
    const { workerScript, core } = this.files();
    const request: WasmWorkerRequest = {
      ...job,
      path: file.path,
      core,
      maxFileBytes: this.maxFileBytes,
    };
    const outcome = await this.fork(workerScript, request, signal);
    switch (outcome.kind) {
      case 'reply':
        if (outcome.reply.kind === 'failed') {
          throw new DecodeError(
            outcome.reply.code,
            outcome.reply.message,
            file.path,
            outcome.reply.stderrTail,
          );
        }
        return { reply: outcome.reply, ms: outcome.ms };
      case 'malformed':
        throw new DecodeError(
          'UNREADABLE',
          `The WebAssembly decoder sent a malformed reply (${outcome.reason}) while decoding "${file.name}".`,
          file.path,
        );
      case 'cancelled':
        throw new DecodeError('CANCELLED', `Decoding "${file.name}" was cancelled.`, file.path);
      case 'timeout':
        throw new DecodeError(
          'TIMEOUT',
          `The WebAssembly decoder took longer than ${(this.timeoutMs / 1000).toFixed(1)} s on "${file.name}" and was stopped.`,
          file.path,
        );
      case 'crashed':
        throw new DecodeError(
          'UNREADABLE',
          `The WebAssembly decoder process ended without an answer (${outcome.detail}) while decoding "${file.name}".` +
            (outcome.stderrTail.trim() === ''
              ? ''
              : ` It said: ${outcome.stderrTail.trim().split(/\r?\n/).slice(-3).join(' | ')}`),
          file.path,
          outcome.stderrTail,
        );
    }
  }

  private fork(
    workerScript: string,
    request: WasmWorkerRequest,
    signal: AbortSignal | undefined,
  ): Promise<WorkerOutcome> {
    const started = performance.now();
    return new Promise((settle) => {
      const child = fork(workerScript, [], {
        execPath: this.options.execPath ?? process.execPath,
        execArgv: [],
        serialization: 'advanced',
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      const args = [workerScript];
      const executable = this.options.execPath ?? process.execPath;
      let reply: WasmWorkerReply | undefined;
      let malformed: string | undefined;
      let stopReason: 'timeout' | 'cancelled' | undefined;
      let spawnError: Error | undefined;
      let stderr = '';

      const stop = (reason: 'timeout' | 'cancelled'): void => {
        if (stopReason !== undefined || reply !== undefined || malformed !== undefined) return;
        stopReason = reason;
        child.kill('SIGKILL');
      };
      const onAbort = (): void => stop('cancelled');
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => stop('timeout'), this.timeoutMs);

      child.once('spawn', () => {
        if (child.pid !== undefined) {
          this.options.onProcess?.({ phase: 'start', pid: child.pid, executable, args });
        }
        child.send(request);
      });
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-STDERR_TAIL_BYTES);
      });
      child.on('message', (raw: unknown) => {
        if (reply !== undefined || malformed !== undefined || stopReason !== undefined) return;
        try {
          reply = parseWasmWorkerReply(raw, request.kind === 'decode' ? request.spec : undefined);
        } catch (error) {
          // A worker that answers nonsense is broken: its answer is refused and it is stopped.
          malformed = error instanceof Error ? error.message : String(error);
        }
        // The worker exits by itself once the reply is flushed; this only makes it certain.
        child.kill('SIGKILL');
      });
      child.once('error', (error) => {
        spawnError ??= error;
      });
      child.once('close', (code, exitSignal) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const ms = performance.now() - started;
        if (child.pid !== undefined) {
          const outcome =
            reply !== undefined || malformed !== undefined
              ? 'exited'
              : (stopReason ?? (exitSignal !== null ? 'crashed' : 'exited'));
          this.options.onProcess?.({ phase: 'end', pid: child.pid, executable, args, outcome, ms });
        }
        if (reply !== undefined) settle({ kind: 'reply', reply, ms });
        else if (malformed !== undefined) settle({ kind: 'malformed', reason: malformed, ms });
        else if (stopReason !== undefined) settle({ kind: stopReason, ms });
        else {
          const detail =
            spawnError !== undefined
              ? `could not start: ${spawnError.message}`
              : exitSignal !== null
                ? `killed by ${exitSignal}`
                : `exit code ${code}`;
          settle({ kind: 'crashed', detail, stderrTail: stderr, ms });
        }
      });
    });
  }
}
