// The ffmpeg.wasm decoder on bad input and under limits: truncated, empty, random and oversized
// files, cancel, timeout, a crashing worker, missing core files — each a clear DecodeError
// within seconds, and no worker process left behind.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { isDecodeError, type DecodeErrorCode } from '../../src/core/decode/decodeError';
import type { DecodeProcessEvent } from '../../src/core/decode/systemFfmpegDecoder';
import { SystemFfmpegDecoder } from '../../src/core/decode/systemFfmpegDecoder';
import {
  WasmFfmpegDecoder,
  resolveWasmCoreFiles,
  type WasmFfmpegDecoderOptions,
} from '../../src/core/decode/wasmFfmpegDecoder';
import {
  AWKWARD_NAMES,
  DECODE_SPEC as SPEC,
  WASM_WORKER,
  makeAudioOnly,
  makeGarbage,
  makeTruncated,
  makeVideoOnly,
} from '../fixtures/decodeClips';
import { scratchDir } from '../helpers/tempFiles';

/** Every decode here must settle well within this, or the test fails as a hang. */
const NO_HANG_MS = 20_000;
const dir = scratchDir('decode-wasm-errors');

/** A wasm decoder that records its worker processes. */
function tracked(options: Partial<WasmFfmpegDecoderOptions> = {}): {
  decoder: WasmFfmpegDecoder;
  events: DecodeProcessEvent[];
} {
  const events: DecodeProcessEvent[] = [];
  const decoder = new WasmFfmpegDecoder({
    workerScript: WASM_WORKER,
    timeoutMs: NO_HANG_MS,
    ...options,
    onProcess: (e) => {
      events.push(e);
      options.onProcess?.(e);
    },
  });
  return { decoder, events };
}

/** Every worker that started has ended and no longer exists. */
function assertNoWorkerLeft(events: DecodeProcessEvent[]): void {
  const pids = events.filter((e) => e.phase === 'start').map((e) => e.pid);
  assert.equal(events.filter((e) => e.phase === 'end').length, pids.length);
  for (const pid of pids) {
    assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} still alive`);
  }
}

/** Rejects with a DecodeError of `code` mentioning `mentions`, without a stack in the message. */
async function assertDecodeError(
  promise: Promise<unknown>,
  code: DecodeErrorCode,
  mentions?: string | RegExp,
): Promise<Error> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    assert.ok(isDecodeError(error), `expected a DecodeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (typeof mentions === 'string') assert.ok(error.message.includes(mentions), error.message);
    else if (mentions !== undefined) assert.match(error.message, mentions);
    assert.doesNotMatch(error.message, /\n\s+at /, 'message must not carry a stack trace');
    return true;
  });
  return caught as Error;
}

describe('bad input through the wasm decoder', () => {
  const system = new SystemFfmpegDecoder();
  let truncated: { headerFirst: string; headerLast: string };
  let garbage: { empty: string; random: string };
  before(() => {
    truncated = makeTruncated(dir);
    garbage = makeGarbage(dir);
  });

  /** The wasm decoder fails with `code`, as the system decoder does on the same file. */
  async function sameFailure(
    path: string,
    code: DecodeErrorCode,
    mentions: string,
    log: (message: string) => void,
  ): Promise<void> {
    const { decoder, events } = tracked();
    const started = performance.now();
    const error = await assertDecodeError(decoder.decode(path, SPEC), code, mentions);
    log(error.message);
    assert.ok(performance.now() - started < NO_HANG_MS);
    assertNoWorkerLeft(events);
    await assertDecodeError(system.decode(path, SPEC), code);
  }

  test('truncated with the index first: NO_FRAME, as the system decoder', async (t) => {
    await sameFailure(truncated.headerFirst, 'NO_FRAME', 'truncated-faststart.mp4', (m) =>
      t.diagnostic(m),
    );
  });

  test('truncated with the index lost: UNREADABLE, as the system decoder', async (t) => {
    await sameFailure(truncated.headerLast, 'UNREADABLE', 'truncated.mp4', (m) => t.diagnostic(m));
  });

  test('empty file: UNREADABLE naming the file, not the in-memory path', async (t) => {
    await sameFailure(garbage.empty, 'UNREADABLE', 'empty.mp4', (m) => t.diagnostic(m));
    const { decoder } = tracked();
    const error = await assertDecodeError(decoder.decode(garbage.empty, SPEC), 'UNREADABLE');
    assert.doesNotMatch(error.message, /\/clip\/input/);
  });

  test('random bytes: UNREADABLE with ffprobe’s reason', async (t) => {
    await sameFailure(garbage.random, 'UNREADABLE', 'Invalid data', (m) => t.diagnostic(m));
  });

  test('audio only: NO_VIDEO (decode and probe)', async (t) => {
    const path = makeAudioOnly(dir);
    await sameFailure(path, 'NO_VIDEO', 'audio-only.m4a', (m) => t.diagnostic(m));
    await assertDecodeError(tracked().decoder.probe(path), 'NO_VIDEO');
  });

  test('over the size cap: TOO_LARGE naming the system decoder, before any process starts', async (t) => {
    const path = makeVideoOnly(dir);
    const { decoder, events } = tracked({ maxFileBytes: 1024 });
    const error = await assertDecodeError(
      decoder.decode(path, SPEC),
      'TOO_LARGE',
      'video-only.mp4',
    );
    t.diagnostic(error.message);
    assert.match(error.message, /is \d+\.\d KiB; .* at most 1\.0 KiB/);
    assert.match(error.message, /system decoder/);
    assert.match(error.message, /--decoder system/);
    await assertDecodeError(decoder.probe(path), 'TOO_LARGE');
    assert.equal(events.length, 0);
    assert.equal(new WasmFfmpegDecoder({ workerScript: WASM_WORKER }).maxFileBytes, 256 * 2 ** 20);
  });

  test('a missing file is FILE_NOT_FOUND; a directory is UNREADABLE', async () => {
    const { decoder, events } = tracked();
    await assertDecodeError(
      decoder.decode(join(dir, 'nope.mp4'), SPEC),
      'FILE_NOT_FOUND',
      'nope.mp4',
    );
    const folder = join(dir, 'folder.mp4');
    mkdirSync(folder, { recursive: true });
    await assertDecodeError(decoder.decode(folder, SPEC), 'UNREADABLE', 'folder.mp4');
    assert.equal(events.length, 0);
  });

  test('an awkward file name decodes, and errors quote the real name', async () => {
    const source = makeVideoOnly(dir);
    const name = AWKWARD_NAMES[2]!;
    const target = join(dir, name);
    copyFileSync(source, target);
    const { decoder } = tracked();
    const clip = await decoder.decode(target, SPEC);
    assert.equal(clip.source.path, target);
    assert.deepEqual(clip.frames, (await system.decode(source, SPEC)).frames);
    const broken = join(dir, `broken ${name}`);
    writeFileSync(broken, Buffer.from('not a video'));
    await assertDecodeError(decoder.decode(broken, SPEC), 'UNREADABLE', `broken ${name}`);
  });
});

describe('wasm decoder limits, cancel and crashes', () => {
  // Startup alone (fork, compile the core) takes longer than these bounds, so a small clip does.
  let clip = '';
  before(() => {
    clip = makeVideoOnly(dir);
  });

  test('cancel while the worker runs: CANCELLED, worker killed, settles at once', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const { decoder, events } = tracked({
      onProcess: (e) => {
        if (e.phase === 'start') {
          setTimeout(() => {
            abortedAt = performance.now();
            controller.abort();
          }, 50);
        }
      },
    });
    const error = await assertDecodeError(
      decoder.decode(clip, SPEC, controller.signal),
      'CANCELLED',
      /cancelled/,
    );
    assert.ok(error);
    assert.ok(performance.now() - abortedAt < 1000, 'settles promptly after the abort');
    assert.equal(events.at(-1)?.outcome, 'cancelled');
    assertNoWorkerLeft(events);
  });

  test('an already aborted signal starts no worker', async () => {
    const controller = new AbortController();
    controller.abort();
    const { decoder, events } = tracked();
    await assertDecodeError(decoder.decode(clip, SPEC, controller.signal), 'CANCELLED');
    assert.equal(events.length, 0);
  });

  test('past the per-decode time limit: TIMEOUT, worker killed', async () => {
    const { decoder, events } = tracked({ timeoutMs: 50 });
    await assertDecodeError(decoder.decode(clip, SPEC), 'TIMEOUT', 'video-only.mp4');
    assert.equal(events.at(-1)?.outcome, 'timeout');
    assertNoWorkerLeft(events);
  });

  test('a worker that dies without answering: UNREADABLE with how it ended and what it said', async () => {
    const throwing = join(dir, 'throwing-worker.js');
    writeFileSync(throwing, "process.stderr.write('wasm core blew up\\n'); process.exit(3);\n");
    const killed = join(dir, 'killed-worker.js');
    writeFileSync(killed, "process.kill(process.pid, 'SIGKILL');\n");
    const first = tracked({ workerScript: throwing });
    await assertDecodeError(
      first.decoder.decode(clip, SPEC),
      'UNREADABLE',
      /exit code 3.*wasm core blew up/,
    );
    assertNoWorkerLeft(first.events);
    const second = tracked({ workerScript: killed });
    await assertDecodeError(second.decoder.decode(clip, SPEC), 'UNREADABLE', /SIGKILL/);
    assertNoWorkerLeft(second.events);
  });

  test('a worker whose reply is malformed: UNREADABLE naming the field, no worker left', async () => {
    const short = join(dir, 'short-frames-worker.js');
    writeFileSync(
      short,
      "process.once('message', (r) => process.send({ kind: 'decoded', timings: { probeMs: 0, " +
        "framesMs: 0, audioMs: 0, commands: 0 }, clip: { specName: 'mosear-decode-1', spec: r.spec, " +
        "backend: 'wasm', source: { path: r.path, formatName: 'mp4', durationSeconds: 1, " +
        "durationSource: 'format', video: { index: 0, codec: 'h264', width: 64, height: 64, " +
        "sampleAspectRatio: '1:1', rotationDegrees: 0, displayWidth: 64, displayHeight: 64, " +
        'averageFrameRateHz: null }, videoStreams: 1, audio: null }, frames: new Float32Array(3), audio: null, ' +
        'frameTimesSeconds: [0], frameFromTail: [false], audioStartSeconds: 0 } }));\n',
    );
    const { decoder, events } = tracked({ workerScript: short });
    await assertDecodeError(
      decoder.decode(clip, SPEC),
      'UNREADABLE',
      /malformed reply \(clip\.frames: must hold 49152 values\)/,
    );
    assertNoWorkerLeft(events);
  });

  test('the worker answers a malformed request with BAD_SPEC naming the field', async () => {
    const child = fork(WASM_WORKER, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    const reply = new Promise<unknown>((resolve) => child.once('message', resolve));
    child.send({ kind: 'decode', path: clip, core: resolveWasmCoreFiles(), maxFileBytes: 1e9 });
    assert.deepEqual(await reply, {
      kind: 'failed',
      code: 'BAD_SPEC',
      message: 'The WebAssembly decoder got a malformed request (spec: missing).',
    });
    await new Promise((resolve) => child.once('exit', resolve));
  });

  test('missing worker script or core files: DECODER_MISSING', async () => {
    const noWorker = tracked({ workerScript: join(dir, 'missing-worker.js') });
    await assertDecodeError(
      noWorker.decoder.decode(clip, SPEC),
      'DECODER_MISSING',
      'npm run build',
    );
    const core = resolveWasmCoreFiles();
    assert.match(core.script, /dist[\\/]umd[\\/]ffmpeg-core\.js$/);
    assert.match(core.wasm, /dist[\\/]umd[\\/]ffmpeg-core\.wasm$/);
    const noCore = tracked({ core: { script: core.script, wasm: join(dir, 'missing.wasm') } });
    await assertDecodeError(noCore.decoder.decode(clip, SPEC), 'DECODER_MISSING', 'missing.wasm');
    assert.equal(noWorker.events.length + noCore.events.length, 0);
  });
});
