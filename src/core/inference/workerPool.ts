// One long-lived inference worker per checkpoint, sharing the machine's cores: a session opens
// with max(1, ⌊cores ÷ workers⌋) intra-op threads and keeps them while it is open (the engine
// does not reopen it when another worker changes the share: AnalysisEngine.sessionSettings).
// The engine keeps one pool; an evaluation keeps one per lane and fixes its own thread count.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { InferenceWorker, type InferenceWorkerOptions } from './workerClient';

/** How the pool starts its workers. */
export interface WorkerPoolOptions extends InferenceWorkerOptions {
  /** Cores to share (default: os.availableParallelism()). */
  cores?: number;
}

/** Threads per session when `workers` sessions share `cores` cores. */
export function intraOpThreadsFor(cores: number, workers: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

/** The workers of the checkpoints in use, by resolved model path. */
export class WorkerPool {
  private readonly workers = new Map<string, InferenceWorker>();
  private readonly cores: number;

  constructor(private readonly options: WorkerPoolOptions) {
    this.cores = Math.max(1, Math.floor(options.cores ?? availableParallelism()));
  }

  /** The worker of a checkpoint, created on first use (its process starts with its first request). */
  workerFor(modelPath: string): InferenceWorker {
    const key = resolve(modelPath);
    let worker = this.workers.get(key);
    if (worker === undefined) {
      worker = new InferenceWorker(this.options);
      this.workers.set(key, worker);
    }
    return worker;
  }

  /** Intra-op threads each session should use now. */
  intraOpThreads(): number {
    return intraOpThreadsFor(this.cores, this.workers.size);
  }

  /** The onnxruntime-node version a started worker reported (undefined before any started). */
  onnxruntimeVersion(): string | undefined {
    return [...this.workers.values()].find((w) => w.onnxruntimeVersion !== undefined)
      ?.onnxruntimeVersion;
  }

  /** Shuts down and forgets one checkpoint's worker (e.g. when its panel closes). */
  async release(modelPath: string): Promise<void> {
    const key = resolve(modelPath);
    const worker = this.workers.get(key);
    this.workers.delete(key);
    await worker?.dispose();
  }

  /** Shuts down every worker. */
  async dispose(): Promise<void> {
    const all = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(all.map((w) => w.dispose()));
  }
}
