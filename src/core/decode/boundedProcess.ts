// Child processes with bounds: an argument array (never a shell), stdout into a bounded sink,
// SIGKILL on timeout, overflow or abort, settled only after the process has exited.
import { spawn } from 'node:child_process';

/** Receives a process's stdout; says when it has seen more than it allows. */
export interface OutputSink {
  /** Takes one chunk; returns false when the output went past the sink's bound. */
  write(chunk: Buffer): boolean;
}

/** Keeps stdout up to a byte bound; going past the bound is an overflow. */
export class HeadSink implements OutputSink {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  write(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.maxBytes) return false;
    this.chunks.push(chunk);
    return true;
  }

  /** Everything written so far, in one buffer. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks, Math.min(this.size, this.maxBytes));
  }
}

/**
 * Keeps only the last complete record of a stream of fixed-size records (raw video frames), so
 * decoding a file's tail needs one frame of memory however many frames it has.
 */
export class LastRecordSink implements OutputSink {
  private readonly last: Buffer;
  private readonly pending: Buffer;
  private pendingBytes = 0;
  private records = 0;

  constructor(
    private readonly recordBytes: number,
    private readonly maxRecords: number,
  ) {
    this.last = Buffer.alloc(recordBytes);
    this.pending = Buffer.alloc(recordBytes);
  }

  write(chunk: Buffer): boolean {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.recordBytes - this.pendingBytes, chunk.length - offset);
      chunk.copy(this.pending, this.pendingBytes, offset, offset + take);
      this.pendingBytes += take;
      offset += take;
      if (this.pendingBytes === this.recordBytes) {
        this.pending.copy(this.last);
        this.pendingBytes = 0;
        this.records += 1;
        if (this.records > this.maxRecords) return false;
      }
    }
    return true;
  }

  /** The last complete record, or undefined when none arrived. */
  lastRecord(): Buffer | undefined {
    return this.records > 0 ? Buffer.from(this.last) : undefined;
  }
}

/** One bounded run of an executable. */
export interface BoundedRunOptions {
  executable: string;
  args: readonly string[];
  sink: OutputSink;
  /** Wall-clock bound; the process is killed when it runs longer. */
  timeoutMs: number;
  /** Kills the process when it fires. */
  signal?: AbortSignal | undefined;
  /** How much of stderr's end to keep for messages. */
  stderrTailBytes?: number;
  /** Told the pid once the process has started (for logs and tests). */
  onSpawn?: ((pid: number) => void) | undefined;
}

/** How a bounded run ended. The promise settles only once the process has exited. */
export type BoundedRunResult =
  | { outcome: 'exited'; exitCode: number; stderrTail: string; ms: number }
  | { outcome: 'crashed'; exitSignal: string; stderrTail: string; ms: number }
  | { outcome: 'timeout' | 'overflow' | 'cancelled'; stderrTail: string; ms: number }
  | { outcome: 'spawn-failed'; error: NodeJS.ErrnoException; stderrTail: string; ms: number };

/**
 * Runs an executable with an argument array (never a shell), stdin closed, stdout fed to a sink,
 * stderr's tail kept. Kills it (SIGKILL) on timeout, on sink overflow and on abort. Resolves after
 * the process has exited, so a settled run never leaves a process behind.
 */
export function runBounded(options: BoundedRunOptions): Promise<BoundedRunResult> {
  const started = performance.now();
  const tailBytes = options.stderrTailBytes ?? 8192;
  return new Promise((resolve) => {
    if (options.signal?.aborted === true) {
      resolve({ outcome: 'cancelled', stderrTail: '', ms: 0 });
      return;
    }
    const child = spawn(options.executable, options.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    });
    let stderr = Buffer.alloc(0);
    let stopReason: 'timeout' | 'overflow' | 'cancelled' | undefined;
    let spawnError: NodeJS.ErrnoException | undefined;

    const stop = (reason: 'timeout' | 'overflow' | 'cancelled'): void => {
      if (stopReason !== undefined) return;
      stopReason = reason;
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      child.kill('SIGKILL');
    };
    const onAbort = (): void => stop('cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => stop('timeout'), options.timeoutMs);

    child.once('spawn', () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (!options.sink.write(chunk)) stop('overflow');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > 2 * tailBytes) stderr = stderr.subarray(stderr.length - tailBytes);
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      spawnError ??= error;
    });
    child.once('close', (code, exitSignal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const stderrTail = stderr.subarray(Math.max(0, stderr.length - tailBytes)).toString('utf8');
      const ms = performance.now() - started;
      if (spawnError !== undefined && child.pid === undefined) {
        resolve({ outcome: 'spawn-failed', error: spawnError, stderrTail, ms });
      } else if (stopReason !== undefined) {
        resolve({ outcome: stopReason, stderrTail, ms });
      } else if (code !== null) {
        resolve({ outcome: 'exited', exitCode: code, stderrTail, ms });
      } else {
        resolve({ outcome: 'crashed', exitSignal: exitSignal ?? 'unknown', stderrTail, ms });
      }
    });
  });
}
