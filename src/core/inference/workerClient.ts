// The engine's side of one inference worker process: a typed request/response channel with a
// bounded queue, cancellation (kill and replace, or let a nearly finished run end), time limits
// and crash recovery. The worker runs
// one request at a time; the rest wait here, where cancelling them costs nothing. A run whose
// session the process does not hold yet (after a start or restart, or with new settings) opens it
// first as a phase of its own, so the request's time limit never has to cover a session open.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArControls } from '../../protocol/contract';
import type { ExecutionProviderName, ProviderAttempt } from '../../protocol/executionProviders';
import { ContractError } from '../contract/contractError';
import { OnnxModelError } from '../onnx/modelProto';
import { durationText } from '../../shared/durationText';
import { InferenceError } from './inferenceError';
import { dropSpill, unspill } from './spill';
import {
  parseWorkerResponse,
  type RunInputs,
  type SerializedError,
  type SessionReport,
  type SessionSettings,
  type WorkerFault,
  type WorkerRequest,
  type WorkerResponse,
  type WorkerRunOutput,
} from '../../protocol/workerMessages';

/** Something that happened to the worker process (for logs). */
export type WorkerEvent =
  | { kind: 'start'; pid: number }
  | { kind: 'exit'; pid: number; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'output'; pid: number; stream: 'stdout' | 'stderr'; text: string };

/** How a worker is started and bounded. */
export interface InferenceWorkerOptions {
  /** The built worker script (dist/core/inferenceWorker.js); the host says where it is. */
  workerScript: string;
  /** Requests that may wait behind the running one; more are rejected with QUEUE_FULL. Default 8. */
  maxQueued?: number;
  /** Time limit of one request once it runs (waiting and its session's open excluded). Default 120 s. */
  requestTimeoutMs?: number;
  /** Time limit for opening a session (an `open`, or the open a run needs first). Default 120 s. */
  openTimeoutMs?: number;
  /** Time limit for a new process to report ready. Default 30 s. */
  startTimeoutMs?: number;
  /** Extra environment variables for the process. */
  env?: Record<string, string>;
  onEvent?: (event: WorkerEvent) => void;
  /**
   * A superseded run (its signal aborted with SUPERSEDED: a newer slider value wants the worker)
   * is left to finish and its answer dropped, so the next run finds the session warm; it is
   * killed past this limit, or at once when its timed runs say it would end later than that.
   * Default: what this process's start and session open took, at least 1 s. Any other cancel
   * kills the process at once.
   */
  cancelGraceMs?: number;
}

/** The abort reason that marks a request as superseded rather than cancelled (cancelGraceMs). */
export const SUPERSEDED: unique symbol = Symbol('superseded');

/** The answer to a run request. */
export interface RunReply {
  session: SessionReport;
  runs: WorkerRunOutput[];
  /** `session.run` calls the current process has made since it started. */
  sessionRuns: number;
}

/** A clip tensor sent to the current process, and the id the process keeps it under. */
interface HeldArray {
  data: Float32Array;
  id: number;
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type RequestBody = WithoutId<WorkerRequest>;

interface Pending {
  body: RequestBody;
  what: string;
  resolve: (response: WorkerResponse) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  id?: number;
  timer?: NodeJS.Timeout;
  /** Set while a run waits for the open of its session: what that open took. */
  openMs?: number;
  /** When the request's current phase was sent. */
  sentAt?: number;
  /** Cancelled while running and left to finish: its answer is dropped. */
  abandoned?: boolean;
}

const STDERR_TAIL_CHARS = 4000;

/** A request that runs the session (and so needs it open first). */
function isRun(
  body: RequestBody,
): body is Extract<RequestBody, { type: 'run' } | { type: 'runLogits' }> {
  return body.type === 'run' || body.type === 'runLogits';
}

/** A time limit as text: milliseconds below a second ("300 ms"), else durationText ("2 min 0 s"). */
export function limitText(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : durationText(ms);
}

/** The TIMEOUT message of a request (`what`: "running the model") stopped at its limit. */
export function timeoutMessage(what: string, limitMs: number): string {
  return `The inference worker took longer than ${limitText(limitMs)} while ${what} and was stopped.`;
}

/** What identifies a session: a differing key costs at most an open the worker finds open. */
const sessionKey = (settings: SessionSettings): string => JSON.stringify(settings);

/** Rebuilds an error the worker serialised, as the class the engine's callers branch on. */
function deserialize(error: SerializedError, stderrTail: string): Error {
  switch (error.name) {
    case 'ContractError':
      return new ContractError(error.message);
    case 'OnnxModelError':
      return new OnnxModelError(error.message);
    case 'InferenceError':
      return new InferenceError(error.code ?? 'WORKER_FAILED', error.message, error.attempts ?? []);
    case 'Error':
      return new InferenceError(
        'WORKER_FAILED',
        `The inference worker failed: ${error.message}`,
        [],
        [error.stack ?? '', stderrTail].filter((s) => s !== '').join('\n'),
      );
  }
}

/** Last non-empty lines of the worker's stderr, short enough for a message. */
function tailSummary(stderrTail: string): string {
  const lines = stderrTail
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const text = lines.slice(-3).join(' | ');
  return text === ''
    ? ''
    : ` Its last output: ${text.length > 500 ? `…${text.slice(-500)}` : text}`;
}

/** One long-lived worker process (restarted after a crash or a cancel) and its request queue. */
export class InferenceWorker {
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private readonly queue: Pending[] = [];
  private active: Pending | undefined;
  private nextId = 1;
  private stderrTail = '';
  private disposed = false;
  private readonly maxQueued: number;
  private readonly requestTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly openTimeoutMs: number;
  /** The settings of the session the current process holds, as far as its replies tell. */
  private heldSettings: SessionSettings | undefined;
  /** The frames and audio the current process holds (sent once, then named by id). */
  private sent: { frames?: HeldArray; audio?: HeldArray } = {};
  /** What the current process's start and its session's open took (a restart's cost). */
  private restartMs = 0;
  /** Milliseconds per `session.run` of the current session's last run request. */
  private msPerRun: number | undefined;
  /** Processes started so far (a crash or cancel makes the next request start another). */
  starts = 0;
  /** The onnxruntime-node version the process reported when it started. */
  onnxruntimeVersion: string | undefined;

  constructor(private readonly options: InferenceWorkerOptions) {
    this.maxQueued = Math.max(0, Math.floor(options.maxQueued ?? 8));
    this.requestTimeoutMs = Math.max(1, options.requestTimeoutMs ?? 120_000);
    this.startTimeoutMs = Math.max(1, options.startTimeoutMs ?? 30_000);
    this.openTimeoutMs = Math.max(1, options.openTimeoutMs ?? 120_000);
  }

  /** The current process's id, when one is running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The settings of the session the current process holds, as far as its replies tell. */
  get openSettings(): SessionSettings | undefined {
    return this.heldSettings;
  }

  /** The key of that session (sessionKey), undefined when none is held. */
  private get openSession(): string | undefined {
    return this.heldSettings === undefined ? undefined : sessionKey(this.heldSettings);
  }

  /** Requests waiting behind the running one. */
  get queued(): number {
    return this.queue.length;
  }

  /** Opens (or keeps) the session for these settings. */
  async open(settings: SessionSettings, signal?: AbortSignal): Promise<SessionReport> {
    const response = await this.submit({ type: 'open', settings }, 'opening the model', signal);
    if (response.type !== 'opened') throw this.unexpected(response);
    return response.session;
  }

  /**
   * Starts the process and opens the session for these settings ahead of a run (while the clip
   * decodes), unless the process holds that session or a request for it is already on its way:
   * then it answers undefined at once. A failed open answers undefined too; the run that follows
   * opens the session itself and reports the error.
   */
  warm(settings: SessionSettings, signal?: AbortSignal): Promise<SessionReport | undefined> {
    const key = sessionKey(settings);
    const coming = [this.active, ...this.queue].some(
      (p) =>
        p !== undefined &&
        p.body.type !== 'probe' &&
        p.body.type !== 'fault' &&
        sessionKey(p.body.settings) === key,
    );
    if (key === this.openSession || coming) return Promise.resolve(undefined);
    return this.open(settings, signal).catch(() => undefined);
  }

  /** Runs the model once per controls entry on the same inputs. */
  async run(
    settings: SessionSettings,
    inputs: RunInputs,
    controls: ArControls[],
    signal?: AbortSignal,
  ): Promise<RunReply> {
    const response = await this.submit(
      { type: 'run', settings, inputs, controls },
      'running the model',
      signal,
    );
    if (response.type !== 'ran') throw this.unexpected(response);
    return { session: response.session, runs: response.runs, sessionRuns: response.sessionRuns };
  }

  /**
   * Runs the model once per controls entry on each input set and answers only the logits:
   * `logits[i][k]` for input set i under controls k.
   */
  async runLogits(
    settings: SessionSettings,
    inputSets: RunInputs[],
    controls: ArControls[],
    signal?: AbortSignal,
  ): Promise<{ session: SessionReport; logits: Float32Array[][] }> {
    const response = await this.submit(
      { type: 'runLogits', settings, inputSets, controls },
      'running the model',
      signal,
    );
    if (response.type !== 'ranLogits') throw this.unexpected(response);
    return { session: response.session, logits: response.logits };
  }

  /** Tries each provider alone on the model. */
  async probe(
    modelPath: string,
    providers: ExecutionProviderName[],
    signal?: AbortSignal,
  ): Promise<ProviderAttempt[]> {
    const response = await this.submit(
      { type: 'probe', modelPath, providers },
      'trying the execution providers',
      signal,
    );
    if (response.type !== 'probed') throw this.unexpected(response);
    return response.attempts;
  }

  /** Makes the worker misbehave (tests; needs MOSEAR_WORKER_TEST_FAULTS=1 in `env`). */
  async fault(fault: WorkerFault, signal?: AbortSignal): Promise<void> {
    await this.submit({ type: 'fault', fault }, `a ${fault.kind} fault`, signal);
  }

  /** Rejects every request with DISPOSED and ends the process. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const error = () => new InferenceError('DISPOSED', 'The inference worker was shut down.');
    for (const pending of this.queue.splice(0)) this.settle(pending, undefined, error());
    if (this.active !== undefined) this.settle(this.active, undefined, error());
    this.active = undefined;
    const child = this.child;
    this.detach();
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }
  }

  private submit(body: RequestBody, what: string, signal?: AbortSignal): Promise<WorkerResponse> {
    if (this.disposed) {
      return Promise.reject(new InferenceError('DISPOSED', 'The inference worker was shut down.'));
    }
    if (signal?.aborted === true) {
      return Promise.reject(new InferenceError('CANCELLED', `Cancelled before ${what}.`));
    }
    if (this.active !== undefined && this.queue.length >= this.maxQueued) {
      return Promise.reject(
        new InferenceError(
          'QUEUE_FULL',
          `Too many requests for this model: ${this.queue.length} are already waiting behind the ` +
            `running one (the limit is ${this.maxQueued}). Wait for them or cancel some.`,
        ),
      );
    }
    return new Promise<WorkerResponse>((resolve, reject) => {
      const pending: Pending = { body, what, resolve, reject, signal, onAbort: () => {} };
      pending.onAbort = () =>
        this.cancel(
          pending,
          'CANCELLED',
          `Cancelled while ${what}.`,
          signal?.reason === SUPERSEDED,
        );
      signal?.addEventListener('abort', pending.onAbort, { once: true });
      this.queue.push(pending);
      this.pump();
    });
  }

  /** Starts the next waiting request when none is running. */
  private pump(): void {
    if (this.active !== undefined || this.disposed) return;
    const pending = this.queue.shift();
    if (pending === undefined) return;
    this.active = pending;
    this.started()
      .then((child) => {
        if (this.active !== pending) return; // cancelled while the process started
        const { body } = pending;
        if (isRun(body) && sessionKey(body.settings) !== this.openSession) {
          this.send(child, pending, { type: 'open', settings: body.settings }, 'opening the model');
        } else this.send(child, pending, body, pending.what);
      })
      .catch((error: unknown) => {
        if (this.active !== pending) return;
        this.active = undefined;
        this.settle(pending, undefined, error);
        this.pump();
      });
  }

  /** Sends the active request (or the open its run needs first) under that phase's time limit. */
  private send(child: ChildProcess, pending: Pending, body: RequestBody, what: string): void {
    const limitMs = body.type === 'open' ? this.openTimeoutMs : this.requestTimeoutMs;
    pending.id = this.nextId++;
    pending.sentAt = performance.now();
    clearTimeout(pending.timer);
    pending.timer = setTimeout(
      () => this.cancel(pending, 'TIMEOUT', timeoutMessage(what, limitMs)),
      limitMs,
    );
    child.send({ ...this.holding(body), id: pending.id });
  }

  /**
   * A run's frames and audio go to a process once: the first request sends them with ids to keep
   * them under, and later requests with the same arrays (a re-run of the clip with new settings)
   * send only the ids. The worker answers a request naming an id it does not hold with an error,
   * never with other data. The arrays are the engine's decoded clip, which nothing writes to.
   */
  private holding(body: RequestBody): RequestBody {
    if (body.type !== 'run') return body;
    const inputs = { ...body.inputs };
    const holdAs: { frames?: number; audio?: number } = {};
    for (const name of ['frames', 'audio'] as const) {
      const data = inputs[name];
      if (!(data instanceof Float32Array)) continue;
      const sent = this.sent[name];
      if (sent?.data === data) {
        inputs[name] = { held: sent.id };
      } else {
        const heldId = this.nextId++;
        this.sent[name] = { data, id: heldId };
        holdAs[name] = heldId;
      }
    }
    return { ...body, inputs, ...(Object.keys(holdAs).length === 0 ? {} : { holdAs }) };
  }

  /** The running process, started (and waited for) when there is none. */
  private started(): Promise<ChildProcess> {
    this.ready ??= this.spawn();
    return this.ready;
  }

  private spawn(): Promise<ChildProcess> {
    return new Promise<ChildProcess>((resolve, reject) => {
      this.stderrTail = '';
      // onnxruntime-node leaves mat-debug-<pid>.log and .ses in the temp folder on every start:
      // each worker gets a private one, removed when it exits.
      const tempDir = mkdtempSync(join(tmpdir(), 'mosear-worker-'));
      const removeTempDir = () => rmSync(tempDir, { recursive: true, force: true });
      let child: ChildProcess;
      try {
        child = fork(this.options.workerScript, [], {
          serialization: 'advanced',
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
          execArgv: [],
          // The private temp folder wins over options.env: large answers come through it (spill.ts).
          env: {
            ...process.env,
            ...this.options.env,
            TMPDIR: tempDir,
            TEMP: tempDir,
            TMP: tempDir,
          },
        });
      } catch (error) {
        removeTempDir();
        throw error;
      }
      child.once('exit', removeTempDir);
      child.once('error', () => {
        if (child.pid === undefined) removeTempDir();
      });
      this.child = child;
      this.sent = {};
      this.starts++;
      this.restartMs = 0;
      this.msPerRun = undefined;
      const spawnedAt = performance.now();
      let isReady = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new InferenceError(
            'WORKER_CRASHED',
            `The inference worker did not start within ${limitText(this.startTimeoutMs)}.${tailSummary(this.stderrTail)}`,
            [],
            this.stderrTail,
          ),
        );
      }, this.startTimeoutMs);
      const output = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS);
        if (child.pid !== undefined)
          this.options.onEvent?.({ kind: 'output', pid: child.pid, stream, text });
      };
      child.stdout?.on('data', output('stdout'));
      child.stderr?.on('data', output('stderr'));
      child.on('message', (raw: unknown) => {
        let message: WorkerResponse;
        try {
          // A large answer's tensors come in a file (spill.ts); one nobody waits for is dropped.
          const id = (raw as { id?: unknown } | null)?.id;
          const wanted = this.child === child && id !== undefined && id === this.active?.id;
          if (!wanted && dropSpill(raw, tempDir)) return;
          message = parseWorkerResponse(unspill(raw, tempDir));
        } catch (error) {
          // A worker that says something malformed is broken: it is stopped like a crashed one.
          const text = `The inference worker sent a malformed message (${(error as Error).message}).`;
          if (!isReady) {
            clearTimeout(timer);
            child.kill('SIGKILL');
            reject(new InferenceError('WORKER_FAILED', text, [], this.stderrTail));
          } else if (this.child === child) this.onMalformed(text);
          return;
        }
        if (message.type === 'ready') {
          isReady = true;
          clearTimeout(timer);
          this.restartMs = performance.now() - spawnedAt;
          this.onnxruntimeVersion = message.onnxruntimeVersion;
          if (child.pid !== undefined) this.options.onEvent?.({ kind: 'start', pid: child.pid });
          resolve(child);
          return;
        }
        if (this.child === child) this.onResponse(message);
      });
      child.on('error', (error) => {
        // A failed spawn (no exit follows) or a failed send (exit follows).
        if (child.pid === undefined) {
          clearTimeout(timer);
          if (this.child === child) this.detach();
          reject(
            new InferenceError(
              'WORKER_CRASHED',
              `Could not start the inference worker (${this.options.workerScript}): ${error.message}`,
            ),
          );
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (child.pid !== undefined)
          this.options.onEvent?.({ kind: 'exit', pid: child.pid, code, signal });
        if (!isReady) {
          reject(
            new InferenceError(
              'WORKER_CRASHED',
              `The inference worker exited while starting (${describeExit(code, signal)}).${tailSummary(this.stderrTail)}`,
              [],
              this.stderrTail,
            ),
          );
        }
        if (this.child === child) this.onExit(code, signal);
      });
    });
  }

  private onResponse(message: WorkerResponse): void {
    const pending = this.active;
    if (pending === undefined || !('id' in message) || message.id !== pending.id) return;
    const { body } = pending;
    if (message.type === 'failed') this.heldSettings = undefined;
    else if (body.type === 'open' || isRun(body)) this.heldSettings = body.settings;
    if (message.type === 'opened' || message.type === 'ran' || message.type === 'ranLogits') {
      if (message.session.openMs > 0) this.restartMs += message.session.openMs;
    }
    if (message.type === 'ran' && message.runs.length > 0) {
      this.msPerRun = message.runs.reduce((sum, r) => sum + r.runMs, 0) / message.runs.length;
    }
    if (message.type === 'ranLogits' && message.logits.length > 0) this.msPerRun = message.runMs;
    if (pending.abandoned === true) {
      // Cancelled while running and left to finish: the process and its session stay.
      clearTimeout(pending.timer);
      this.active = undefined;
      this.pump();
      return;
    }
    if (isRun(body) && message.type === 'opened' && this.child !== undefined) {
      pending.openMs = message.session.openMs; // the run's own phase follows
      this.send(this.child, pending, body, pending.what);
      return;
    }
    this.active = undefined;
    if (message.type === 'failed')
      this.settle(pending, undefined, deserialize(message.error, this.stderrTail));
    else if (
      (message.type === 'ran' || message.type === 'ranLogits') &&
      pending.openMs !== undefined
    ) {
      const openMs = message.session.openMs + pending.openMs;
      this.settle(pending, { ...message, session: { ...message.session, openMs } });
    } else this.settle(pending, message);
    this.pump();
  }

  /** The current process ended on its own: the running request failed; the next one restarts it. */
  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    const tail = this.stderrTail;
    this.detach();
    const pending = this.active;
    this.active = undefined;
    if (pending !== undefined && pending.id !== undefined) {
      this.settle(
        pending,
        undefined,
        new InferenceError(
          'WORKER_CRASHED',
          `The inference worker crashed (${describeExit(code, signal)}) while ${pending.what}; ` +
            `it is restarted for the next request.${tailSummary(tail)}`,
          [],
          tail,
        ),
      );
    } else if (pending !== undefined) {
      this.active = pending; // it was waiting for the process to start: the start's failure settles it
    }
    this.pump();
  }

  /** The current process sent a malformed message: the running request fails, the process is replaced. */
  private onMalformed(text: string): void {
    const tail = this.stderrTail;
    const child = this.child;
    this.detach();
    child?.kill('SIGKILL');
    const pending = this.active;
    this.active = undefined;
    if (pending !== undefined) {
      this.settle(pending, undefined, new InferenceError('WORKER_FAILED', text, [], tail));
    }
    this.pump();
  }

  /**
   * Cancels a request: a waiting one leaves the queue; the running one kills the process, unless
   * it is `superseded` and not expected to run past the grace: then it finishes, unanswered.
   */
  private cancel(
    pending: Pending,
    code: 'CANCELLED' | 'TIMEOUT',
    message: string,
    superseded = false,
  ): void {
    const index = this.queue.indexOf(pending);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.settle(pending, undefined, new InferenceError(code, message));
      return;
    }
    if (this.active !== pending || pending.abandoned === true) return;
    this.settle(pending, undefined, new InferenceError(code, message));
    if (superseded && pending.id !== undefined && pending.sentAt !== undefined) {
      // An open the next request needs anyway runs on under its own limit.
      const opening =
        pending.body.type === 'open' ||
        (isRun(pending.body) && sessionKey(pending.body.settings) !== this.openSession);
      const graceMs = opening
        ? this.openTimeoutMs - (performance.now() - pending.sentAt)
        : (this.options.cancelGraceMs ?? Math.max(1000, this.restartMs));
      const leftMs = opening ? undefined : this.expectedLeftMs(pending);
      if (!(leftMs !== undefined && leftMs > graceMs)) {
        pending.abandoned = true;
        pending.timer = setTimeout(() => this.kill(pending), Math.max(1, graceMs));
        return;
      }
    }
    this.kill(pending);
  }

  /** How much longer the running request should take, when it is a timed kind of run. */
  private expectedLeftMs(pending: Pending): number | undefined {
    const { body, sentAt } = pending;
    if (!isRun(body) || sentAt === undefined || this.msPerRun === undefined) return undefined;
    const runs = body.controls.length * (body.type === 'runLogits' ? body.inputSets.length : 1);
    return Math.max(0, this.msPerRun * runs - (performance.now() - sentAt));
  }

  /** Ends the running request's process; the next request starts a new one. */
  private kill(pending: Pending): void {
    if (this.active !== pending) return;
    this.active = undefined;
    const child = this.child;
    this.detach();
    child?.kill('SIGKILL');
    this.pump();
  }

  /** Forgets the current process (its late messages and exit are ignored). */
  private detach(): void {
    this.child = undefined;
    this.ready = undefined;
    this.heldSettings = undefined;
    this.sent = {};
  }

  private settle(pending: Pending, response: WorkerResponse | undefined, error?: unknown): void {
    clearTimeout(pending.timer);
    pending.signal?.removeEventListener('abort', pending.onAbort);
    if (error !== undefined) pending.reject(error);
    else if (response !== undefined) pending.resolve(response);
  }

  private unexpected(response: WorkerResponse): InferenceError {
    return new InferenceError(
      'WORKER_FAILED',
      `The inference worker answered "${response.type}" unexpectedly.`,
    );
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `signal ${signal}` : `exit code ${code ?? '?'}`;
}
