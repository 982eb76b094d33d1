// The inference worker process with the shipped checkpoint: session reuse, lossless tensor
// transfer, concurrent requests, the queue bound, cancellation and crash recovery (a request that
// makes the worker exit or SIGKILL itself, an external SIGKILL mid-run), time limits, and the
// execution-provider fallback with a provider that fails on machines without a GPU.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { ArControls } from '../../src/protocol/contract';
import {
  closeContractModel,
  openContractModel,
  runContractModel,
} from '../../src/core/inference/contractModel';
import { isInferenceError, type InferenceErrorCode } from '../../src/core/inference/inferenceError';
import {
  InferenceWorker,
  SUPERSEDED,
  type InferenceWorkerOptions,
} from '../../src/core/inference/workerClient';
import { TEST_FAULTS_ENV, type WorkerRunOutput } from '../../src/protocol/workerMessages';
import { SPILL_BYTES_ENV } from '../../src/core/inference/spill';
import { OnnxModelError } from '../../src/core/onnx/modelProto';
import {
  MODEL,
  WORKER_SCRIPT,
  cpuSettings,
  requireEngineFiles,
  sampleInputs,
} from '../helpers/engineFixtures';
import { scratchDir, writeTemp } from '../helpers/tempFiles';

const workers: InferenceWorker[] = [];

/** A worker with faults enabled, disposed after the file's tests. */
function startWorker(options: Partial<InferenceWorkerOptions> = {}): InferenceWorker {
  const worker = new InferenceWorker({
    workerScript: WORKER_SCRIPT,
    env: { [TEST_FAULTS_ENV]: '1' },
    ...options,
  });
  workers.push(worker);
  return worker;
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: InferenceErrorCode,
  pattern?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(isInferenceError(e, code), `expected ${code}, got ${String(e)}`);
    if (pattern !== undefined) assert.match(e.message, pattern);
    return true;
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A worker process spoken to over raw IPC, and the next message it sends (polled). */
function rawWorker<M = unknown>(): { child: ReturnType<typeof fork>; next: () => Promise<M> } {
  const child = fork(WORKER_SCRIPT, [], {
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  const messages: unknown[] = [];
  child.on('message', (m) => messages.push(m));
  const next = () =>
    new Promise<M>((resolve) => {
      const take = () =>
        messages.length > 0 ? resolve(messages.shift() as M) : setTimeout(take, 10);
      take();
    });
  return { child, next };
}

async function waitUntilGone(pid: number): Promise<void> {
  for (let i = 0; i < 100 && alive(pid); i++) await delay(20);
  assert.equal(alive(pid), false, `process ${pid} is still running`);
}

describe('inference worker', () => {
  let inputs: Awaited<ReturnType<typeof sampleInputs>>;
  const settings = cpuSettings();
  // Every head of every layer forced on, so α changes the outputs whatever the checkpoint's
  // stored defaults would flag.
  const withAlpha = (alpha: number): ArControls => ({
    ...inputs.controls,
    mode: 1,
    alpha,
    layers: inputs.controls.layers.map(() => 1),
    headOverride: inputs.controls.headOverride.map((row) => row.map(() => 1)),
  });

  before(async () => {
    requireEngineFiles();
    inputs = await sampleInputs();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.dispose()));
  });

  test('runs in the worker exactly as in process; the session is reused', async () => {
    const worker = startWorker();
    const controls = [withAlpha(0.3), { ...inputs.controls, mode: 0 as const }];
    const first = await worker.run(settings, inputs, controls);
    // The same arrays again: the process holds them and the request names them (workerClient.ts).
    const second = await worker.run(settings, inputs, [withAlpha(0.6)]);
    assert.ok(first.session.openMs > 0);
    assert.equal(second.session.openMs, 0);
    assert.equal(first.session.provider, 'cpu');
    assert.equal(first.sessionRuns, 2);
    assert.equal(second.sessionRuns, 3);
    assert.equal(worker.starts, 1);
    assert.match(worker.onnxruntimeVersion ?? '', /^\d+\.\d+/);

    const model = await openContractModel(MODEL, { intraOpNumThreads: 1 });
    try {
      for (const [i, c] of controls.entries()) {
        const local = await runContractModel(model, inputs, c);
        const remote = first.runs[i]!.outputs;
        assert.ok(remote.logits.data instanceof Float32Array);
        assert.deepEqual(remote.logits.dims, [1, 6]);
        for (const name of [
          'logits',
          'modality_mass',
          'ar_flags',
          'token_attention',
          'mose_gate',
        ] as const) {
          assert.deepEqual(remote[name]!.data, local[name]!.data, name);
        }
      }
      const again = await runContractModel(model, inputs, withAlpha(0.6));
      assert.deepEqual(second.runs[0]!.outputs.token_attention.data, again.token_attention.data);
    } finally {
      await closeContractModel(model);
    }
  });

  test('concurrent requests are all answered, each with its own outputs', async () => {
    const worker = startWorker();
    const alphas = [0, 0.25, 0.5, 0.75, 1];
    const replies = await Promise.all(
      alphas.map((a) => worker.run(settings, inputs, [withAlpha(a)])),
    );
    const single = await worker.run(settings, inputs, [withAlpha(0.75)]);
    assert.deepEqual(replies[3]!.runs[0]!.outputs.logits.data, single.runs[0]!.outputs.logits.data);
    assert.notDeepEqual(
      replies[0]!.runs[0]!.outputs.logits.data,
      replies[4]!.runs[0]!.outputs.logits.data,
    );
    assert.equal(worker.starts, 1);
  });

  test('the queue is bounded: beyond the limit a request is rejected at once', async () => {
    const worker = startWorker({ maxQueued: 2 });
    await worker.open(settings);
    const blocking = worker.fault({ kind: 'block', ms: 1500 });
    const queued = [
      worker.run(settings, inputs, [withAlpha(0.1)]),
      worker.run(settings, inputs, [withAlpha(0.2)]),
    ];
    const started = performance.now();
    await rejectsWith(
      worker.run(settings, inputs, [withAlpha(0.3)]),
      'QUEUE_FULL',
      /2 are already waiting/,
    );
    assert.ok(performance.now() - started < 200);
    await blocking;
    await Promise.all(queued);
  });

  test('cancel mid-run kills the worker and replaces it; the next request works', async () => {
    const worker = startWorker();
    await worker.open(settings);
    const pid = worker.pid!;
    const controller = new AbortController();
    const blocked = worker.fault({ kind: 'block', ms: 30_000 }, controller.signal);
    await delay(200);
    const started = performance.now();
    controller.abort();
    await rejectsWith(blocked, 'CANCELLED');
    assert.ok(performance.now() - started < 500);
    await waitUntilGone(pid);
    const reply = await worker.run(settings, inputs, [withAlpha(0.3)]);
    assert.notEqual(worker.pid, pid);
    assert.equal(worker.starts, 2);
    assert.ok(reply.session.openMs > 0);
  });

  test('a superseded run expected to end within the grace is left to finish: same process and session', async () => {
    const worker = startWorker({ cancelGraceMs: 20_000 });
    await worker.run(settings, inputs, [withAlpha(0.3)]); // times a run
    const pid = worker.pid;
    const controller = new AbortController();
    const many = Array.from({ length: 40 }, (_, i) => withAlpha(0.01 * i));
    const cancelled = worker.run(settings, inputs, many, controller.signal);
    await delay(5);
    const started = performance.now();
    controller.abort(SUPERSEDED);
    await rejectsWith(cancelled, 'CANCELLED');
    assert.ok(performance.now() - started < 500, 'the caller is answered at once');
    const next = await worker.run(settings, inputs, [withAlpha(0.6)]);
    assert.equal(worker.pid, pid);
    assert.equal(worker.starts, 1);
    assert.equal(next.session.openMs, 0, 'the session stayed open');
    assert.equal(next.runs.length, 1);
  });

  test('a superseded run expected to take longer than the grace kills the process', async () => {
    const worker = startWorker({ cancelGraceMs: 1 });
    await worker.run(settings, inputs, [withAlpha(0.3)]);
    const controller = new AbortController();
    const many = Array.from({ length: 400 }, (_, i) => withAlpha(0.001 * i));
    const cancelled = worker.run(settings, inputs, many, controller.signal);
    await delay(5);
    controller.abort(SUPERSEDED);
    await rejectsWith(cancelled, 'CANCELLED');
    await worker.run(settings, inputs, [withAlpha(0.6)]);
    assert.equal(worker.starts, 2);
  });

  test('an explicit cancel of a short run still kills the process at once', async () => {
    const worker = startWorker({ cancelGraceMs: 20_000 });
    await worker.run(settings, inputs, [withAlpha(0.3)]);
    const controller = new AbortController();
    const many = Array.from({ length: 40 }, (_, i) => withAlpha(0.01 * i));
    const cancelled = worker.run(settings, inputs, many, controller.signal);
    await delay(5);
    controller.abort();
    await rejectsWith(cancelled, 'CANCELLED');
    await worker.run(settings, inputs, [withAlpha(0.6)]);
    assert.equal(worker.starts, 2);
  });

  test('cancelling a waiting request leaves the running one and the process alone', async () => {
    const worker = startWorker();
    await worker.open(settings);
    const pid = worker.pid;
    const blocking = worker.fault({ kind: 'block', ms: 600 });
    const controller = new AbortController();
    const waiting = worker.run(settings, inputs, [withAlpha(0.3)], controller.signal);
    controller.abort();
    await rejectsWith(waiting, 'CANCELLED');
    await blocking;
    assert.equal(worker.pid, pid);
    assert.equal(worker.starts, 1);
  });

  test('a worker that exits mid-request: the request fails, the queued one runs on a new worker', async () => {
    const worker = startWorker();
    await worker.open(settings);
    const pid = worker.pid;
    const crash = worker.fault({ kind: 'exit', code: 3 });
    const next = worker.run(settings, inputs, [withAlpha(0.3)]);
    await rejectsWith(crash, 'WORKER_CRASHED', /exit code 3/);
    const reply = await next;
    assert.equal(reply.runs.length, 1);
    assert.notEqual(worker.pid, pid);
  });

  test('a worker that SIGKILLs itself mid-request is reported and replaced', async () => {
    const worker = startWorker();
    await worker.open(settings);
    await rejectsWith(worker.fault({ kind: 'sigkill' }), 'WORKER_CRASHED', /signal SIGKILL/);
    await worker.run(settings, inputs, [withAlpha(0.3)]);
    assert.equal(worker.starts, 2);
  });

  test('a worker killed from outside while blocked in a run: no request hangs', async () => {
    const worker = startWorker();
    await worker.open(settings);
    const blocked = worker.fault({ kind: 'block', ms: 30_000 });
    const queued = worker.run(settings, inputs, [withAlpha(0.4)]);
    await delay(200);
    process.kill(worker.pid!, 'SIGKILL');
    await rejectsWith(blocked, 'WORKER_CRASHED');
    assert.equal((await queued).runs.length, 1);
  });

  test('a request past its time limit is stopped with TIMEOUT; the restart reopens apart', async () => {
    // The 300 ms bound the blocked request alone: the new process's start and its session's
    // re-open have limits of their own (30 s, 120 s), so a loaded machine cannot fail the run.
    const worker = startWorker({ requestTimeoutMs: 300 });
    await worker.open(settings);
    await rejectsWith(
      worker.fault({ kind: 'block', ms: 30_000 }),
      'TIMEOUT',
      /longer than 300 ms while a block fault/,
    );
    const reply = await worker.run(settings, inputs, [withAlpha(0.3)]);
    assert.equal(worker.starts, 2);
    assert.ok(reply.session.openMs > 0, 'the re-open is reported with the run');
    assert.equal((await worker.run(settings, inputs, [withAlpha(0.4)])).session.openMs, 0);
  });

  test('opening a session has its own time limit', async () => {
    const worker = startWorker({ openTimeoutMs: 1 });
    await rejectsWith(
      worker.run(settings, inputs, [withAlpha(0.3)]),
      'TIMEOUT',
      /longer than 1 ms while opening the model/,
    );
  });

  test('errors cross the process boundary as their own classes', async () => {
    const worker = startWorker();
    const dir = scratchDir('worker');
    const notOnnx = writeTemp(dir, 'not a model.onnx', new TextEncoder().encode('hello'));
    await assert.rejects(
      worker.open({ ...settings, modelPath: notOnnx, modelIdentity: notOnnx }),
      OnnxModelError,
    );
    await rejectsWith(worker.fault({ kind: 'throw', message: 'boom' }), 'WORKER_FAILED', /boom/);
    const plain = new InferenceWorker({ workerScript: WORKER_SCRIPT });
    workers.push(plain);
    await rejectsWith(
      plain.fault({ kind: 'exit', code: 1 }),
      'WORKER_FAILED',
      /fault requests are disabled/,
    );
  });

  test('a worker script that dies at start-up fails the request, never hangs', async () => {
    const dir = scratchDir('worker-start');
    const script = writeTemp(
      dir,
      'dies.js',
      new TextEncoder().encode('console.error("no luck"); process.exit(7);'),
    );
    const worker = startWorker({ workerScript: script });
    await rejectsWith(
      worker.open(settings),
      'WORKER_CRASHED',
      /exited while starting \(exit code 7\).*no luck/,
    );
    await rejectsWith(worker.open(settings), 'WORKER_CRASHED');
  });

  test('a worker that sends a malformed message is stopped; the error names the field', async () => {
    const dir = scratchDir('worker-malformed');
    const badReady = writeTemp(
      dir,
      'bad-ready.js',
      new TextEncoder().encode(
        "process.send({ type: 'ready', pid: 'one' }); setInterval(() => {}, 1000);",
      ),
    );
    await rejectsWith(
      startWorker({ workerScript: badReady }).open(settings),
      'WORKER_FAILED',
      /malformed message \(pid: expected a number, found "one"\)/,
    );
    // Ready, then an answer whose session report is wrong: the request fails, the process is
    // killed, and the next request starts a new one.
    const badAnswer = writeTemp(
      dir,
      'bad-answer.js',
      new TextEncoder().encode(
        "process.send({ type: 'ready', pid: process.pid, onnxruntimeVersion: 'x' });\n" +
          "process.on('message', (m) => process.send({ type: 'opened', id: m.id, session: { provider: 'gpu' } }));",
      ),
    );
    const worker = startWorker({ workerScript: badAnswer });
    await rejectsWith(worker.open(settings), 'WORKER_FAILED', /session\.provider: expected one of/);
    const firstPid = worker.starts;
    await rejectsWith(worker.open(settings), 'WORKER_FAILED');
    assert.equal(worker.starts, firstPid + 1);
  });

  test('the worker answers a malformed request with failed, naming the field, and keeps serving', async () => {
    const { child, next } = rawWorker();
    try {
      assert.equal(((await next()) as { type: string }).type, 'ready');
      child.send({
        type: 'run',
        id: 7,
        settings,
        inputs: { frames: [0, 1], audio: inputs.audio, promptIds: inputs.promptIds },
        controls: [inputs.controls],
      });
      const failed = (await next()) as { type: string; id: number; error: { message: string } };
      assert.equal(failed.type, 'failed');
      assert.equal(failed.id, 7);
      assert.match(
        failed.error.message,
        /^malformed request: inputs\.frames: must be a Float32Array or { held: id }$/,
      );
      child.send({ type: 'open', id: 8, settings });
      assert.deepEqual(
        (({ type, id }) => ({ type, id }))((await next()) as { type: string; id: number }),
        { type: 'opened', id: 8 },
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('frames and audio sent once are named by id after; an id the worker does not hold is refused', async () => {
    const { child, next } = rawWorker<{
      type: string;
      id: number;
      runs?: WorkerRunOutput[];
      error?: { message: string };
    }>();
    try {
      assert.equal((await next()).type, 'ready');
      const controls = [withAlpha(0.4)];
      const { frames, audio, promptIds } = inputs;
      child.send({ type: 'run', id: 1, settings, inputs: { frames, audio, promptIds }, holdAs: { frames: 11, audio: 12 }, controls }); // prettier-ignore
      const sent = await next();
      assert.equal(sent.type, 'ran');
      child.send({ type: 'run', id: 2, settings, inputs: { frames: { held: 11 }, audio: { held: 12 }, promptIds }, controls }); // prettier-ignore
      const named = await next();
      assert.equal(named.type, 'ran');
      assert.deepEqual(
        named.runs![0]!.outputs.token_attention.data,
        sent.runs![0]!.outputs.token_attention.data,
      );
      assert.deepEqual(named.runs![0]!.outputs.logits.data, sent.runs![0]!.outputs.logits.data);
      child.send({ type: 'run', id: 3, settings, inputs: { frames: { held: 12 }, audio: { held: 12 }, promptIds }, controls }); // prettier-ignore
      const refused = await next();
      assert.equal(refused.type, 'failed');
      assert.match(refused.error!.message, /does not hold the frames \(id 12\)/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('an answer sent through a file (spill) is the in-process run; the file is gone once read', async () => {
    const worker = startWorker({ env: { [TEST_FAULTS_ENV]: '1', [SPILL_BYTES_ENV]: '0' } });
    const controls = [withAlpha(0.35), { ...inputs.controls, mode: 0 as const }];
    const reply = await worker.run(settings, inputs, controls);
    const model = await openContractModel(MODEL, { intraOpNumThreads: 1 });
    try {
      for (const [i, c] of controls.entries()) {
        const local = await runContractModel(model, inputs, c);
        for (const name of [
          'logits',
          'modality_mass',
          'token_attention',
          'token_attention_before',
        ] as const) {
          assert.deepEqual(reply.runs[i]!.outputs[name].data, local[name].data, name);
        }
      }
    } finally {
      await closeContractModel(model);
    }
    // The worker's private temp folder (its TMPDIR) holds no answer file any more.
    const environ = readFileSync(`/proc/${worker.pid}/environ`, 'utf8').split('\0');
    const dir = environ.find((e) => e.startsWith('TMPDIR='))!.slice('TMPDIR='.length);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('ran-')),
      [],
    );
  });

  test("a spill naming a file outside the worker's temp folder is malformed: never read, never removed", async () => {
    const dir = scratchDir('worker-spill');
    const victim = writeTemp(dir, 'ran-1.bin', new Uint8Array(64));
    const badSpill = writeTemp(
      dir,
      'bad-spill.js',
      new TextEncoder().encode(
        "process.send({ type: 'ready', pid: process.pid, onnxruntimeVersion: 'x' });\n" +
          `process.on('message', (m) => process.send({ type: 'ran', id: m.id, spill: { file: ${JSON.stringify(victim)}, tensors: [] } }));`,
      ),
    );
    const worker = startWorker({ workerScript: badSpill });
    await rejectsWith(
      worker.run(settings, inputs, [withAlpha(0.2)]),
      'WORKER_FAILED',
      /spill\.file: .* is not a file of the worker's temp folder/,
    );
    assert.ok(existsSync(victim));
  });

  test('dispose fails waiting and running requests with DISPOSED', async () => {
    const worker = startWorker();
    await worker.open(settings);
    const running = rejectsWith(worker.fault({ kind: 'block', ms: 30_000 }), 'DISPOSED');
    const waiting = rejectsWith(worker.run(settings, inputs, [withAlpha(0.3)]), 'DISPOSED');
    await worker.dispose();
    await running;
    await waiting;
    await rejectsWith(worker.open(settings), 'DISPOSED');
  });

  describe('execution providers', () => {
    test('webgpu then cpu: a failing webgpu is recorded, cpu runs (on a GPU machine webgpu runs)', async () => {
      const worker = startWorker();
      const reply = await worker.run({ ...settings, providers: ['webgpu', 'cpu'] }, inputs, [
        withAlpha(0.3),
      ]);
      const [first] = reply.session.attempts;
      assert.equal(first?.provider, 'webgpu');
      if (first?.ok === true) {
        assert.equal(reply.session.provider, 'webgpu');
      } else {
        assert.equal(reply.session.provider, 'cpu');
        assert.match(first?.reason ?? '', /adapter|webgpu|WebGPU/);
        assert.deepEqual(
          reply.session.attempts.map((a) => [a.provider, a.ok]),
          [
            ['webgpu', false],
            ['cpu', true],
          ],
        );
      }
    });

    test('an explicit provider that does not open is an error naming why', async () => {
      const worker = startWorker();
      await rejectsWith(
        worker.open({ ...settings, providers: ['dml'] }),
        'PROVIDER_UNAVAILABLE',
        /"dml" is not available: dml: dml is only available on Windows/,
      );
      const cuda = worker.open({ ...settings, providers: ['cuda'] });
      await cuda.then(
        (session) => assert.equal(session.provider, 'cuda'), // a machine with the CUDA provider
        (e: unknown) => assert.ok(isInferenceError(e, 'PROVIDER_UNAVAILABLE'), String(e)),
      );
    });

    test('probe tries each provider alone', async () => {
      const worker = startWorker();
      const attempts = await worker.probe(MODEL, ['webgpu', 'cpu']);
      assert.deepEqual(
        attempts.map((a) => a.provider),
        ['webgpu', 'cpu'],
      );
      assert.equal(attempts[1]!.ok, true);
    });
  });
});
