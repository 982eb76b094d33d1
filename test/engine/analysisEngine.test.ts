// The analysis engine on the shipped checkpoint and sample clips: a complete result that reads
// back, the golden decodes reproduced through the engine, "without intervention" from a real
// ar_mode 0 run, re-runs that reuse the decoded clip and the session, missing audio.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import type { ClipDecoder } from '../../src/core/decode/clipDecoder';
import { SystemFfmpegDecoder } from '../../src/core/decode/systemFfmpegDecoder';
import { isDecodeError } from '../../src/core/decode/decodeError';
import { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import { EngineError } from '../../src/core/engine/engineError';
import {
  closeContractModel,
  openContractModel,
  runContractModel,
} from '../../src/core/inference/contractModel';
import { isInferenceError } from '../../src/core/inference/inferenceError';
import { makeVideoOnly } from '../fixtures/decodeClips';
import {
  BASELINE_MODEL,
  MODEL,
  SAMPLES_DIR,
  V1_MODEL,
  WORKER_SCRIPT,
  requireEngineFiles,
  sampleInputs,
} from '../helpers/engineFixtures';
import { setMetadata } from '../helpers/protoEncode';
import { scratchDir, writeTemp } from '../helpers/tempFiles';

/** The system decoder, counting its decodes. */
function countingDecoder(): ClipDecoder & { decodes: number } {
  const inner = new SystemFfmpegDecoder();
  const counter = {
    backend: inner.backend,
    decodes: 0,
    probe: inner.probe.bind(inner),
    decode: (...args: Parameters<ClipDecoder['decode']>) => {
      counter.decodes++;
      return inner.decode(...args);
    },
  };
  return counter;
}

const clip = join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4');

describe('analysis engine', () => {
  const decoder = countingDecoder();
  let engine: AnalysisEngine;

  before(() => {
    requireEngineFiles();
    engine = new AnalysisEngine({
      workerScript: WORKER_SCRIPT,
      decoder,
      cores: 1,
      toolVersion: 'test',
    });
  });
  after(async () => {
    await engine.dispose();
  });

  test('a complete, versioned result that survives JSON and the reader', async () => {
    const result = await engine.analyze({
      clipPath: clip,
      modelPath: MODEL,
      controls: { mode: 1 },
    });
    const read = readAnalysisResult(JSON.parse(jsonWithTokenRows(result)));
    assert.equal(read.clip.name, 'sample-video-aligned-sad.mp4');
    assert.equal(read.clip.hasAudio, true);
    assert.equal(read.clip.silenceUsed, false);
    assert.deepEqual(read.clip.frameTimesSeconds, [0.25, 0.75, 1.25, 1.75]);
    assert.equal(read.model.metadata.checkpoint.name, 'mosear-tiny');
    assert.equal(read.runtime.provider, read.runtime.attempts.at(-1)?.provider);
    assert.equal(read.tool.version, 'test');
    assert.equal(read.intervention.controls.mode, 1);
    assert.equal(read.baseline.controls.mode, 0);
    assert.ok(read.baseline.arFlags.flat().every((f) => f === 0));
    assert.ok(read.flagCheck.agreeBeyondRounding, JSON.stringify(read.flagCheck.mismatches));
    assert.equal(read.timings.sessionRuns, 2);
    assert.equal(read.thumbnails.length, 4);
    assert.equal(read.tokens.length, read.model.metadata.tokenLayout.total);
    const audioToken = read.tokens.find((t) => t.modality === 'audio');
    assert.deepEqual(audioToken && [audioToken.startSeconds, audioToken.endSeconds], [0, 2]);
    assert.equal(read.intervention.moseGate?.length, 4);
  });

  test('a first analyze starts the worker and opens the session while the clip decodes', async () => {
    let started: () => void = () => {};
    const workerStarted = new Promise<void>((resolve) => (started = resolve));
    let startedDuringDecode = false;
    const inner = new SystemFfmpegDecoder();
    // The real decoder, which waits (at most 10 s) for the worker to start before decoding.
    const waiting: ClipDecoder = {
      backend: inner.backend,
      probe: inner.probe.bind(inner),
      decode: async (...args) => {
        startedDuringDecode = await Promise.race([
          workerStarted.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000)),
        ]);
        return inner.decode(...args);
      },
    };
    const own = new AnalysisEngine({
      workerScript: WORKER_SCRIPT,
      decoder: waiting,
      cores: 1,
      onWorkerEvent: (e) => e.kind === 'start' && started(),
    });
    try {
      const result = await own.analyze({ clipPath: clip, modelPath: MODEL, controls: { mode: 1 } });
      assert.equal(startedDuringDecode, true);
      assert.ok(result.timings.sessionOpenMs > 0, 'the open ahead of the run is reported');
      assert.equal(result.timings.sessionRuns, 2);
    } finally {
      await own.dispose();
    }
  });

  test('an open session keeps its threads when another checkpoint joins: no reopen', async () => {
    const own = new AnalysisEngine({ workerScript: WORKER_SCRIPT, cores: 2 });
    try {
      const a = (modelPath: string) =>
        own.analyze({ clipPath: clip, modelPath, controls: { mode: 1, alpha: Math.random() } });
      const first = await a(MODEL);
      assert.equal(first.runtime.intraOpNumThreads, 2);
      // The second checkpoint opens with the share of two workers.
      assert.equal((await a(BASELINE_MODEL)).runtime.intraOpNumThreads, 1);
      const again = await a(MODEL);
      assert.equal(again.runtime.intraOpNumThreads, 2);
      assert.equal(again.timings.sessionOpenMs, 0, 'the first session was not reopened');
    } finally {
      await own.dispose();
    }
  });

  test('the engine feeds the golden decode: thumbnails and outputs match the committed tensors', async () => {
    const result = await engine.analyze({
      clipPath: clip,
      modelPath: MODEL,
      controls: { mode: 0 },
    });
    const committed = await sampleInputs('sample-video-aligned-sad');
    const plane = 64 * 64;
    result.thumbnails.forEach((thumb, f) => {
      const png = Buffer.from(thumb.dataUri.split(',')[1]!, 'base64');
      const idatLength = png.readUInt32BE(33);
      const raw = inflateSync(png.subarray(41, 41 + idatLength));
      let worst = 0;
      for (let p = 0; p < plane; p++) {
        const row = Math.floor(p / 64);
        for (let c = 0; c < 3; c++) {
          const pixel = raw[row * (64 * 3 + 1) + 1 + (p % 64) * 3 + c]!;
          worst = Math.max(
            worst,
            Math.abs(pixel - committed.frames[f * 3 * plane + c * plane + p]! * 255),
          );
        }
      }
      assert.ok(worst <= 1 + 1e-3, `frame ${f}: ${worst} levels from the golden decode`);
    });
    const model = await openContractModel(MODEL, { intraOpNumThreads: 1 });
    try {
      const local = await runContractModel(model, committed, { ...committed.controls, mode: 0 });
      const diff = result.baseline.logits.map((v, i) => Math.abs(v - local.logits.data[i]!));
      assert.ok(Math.max(...diff) < 1e-3, `logits differ by ${Math.max(...diff)}`);
    } finally {
      await closeContractModel(model);
    }
  });

  test('re-running with new settings reuses the decoded clip and the session', async () => {
    const decodesBefore = decoder.decodes;
    const a = await engine.analyze({
      clipPath: clip,
      modelPath: MODEL,
      controls: { mode: 1, alpha: 0.41 },
    });
    const b = await engine.analyze({
      clipPath: clip,
      modelPath: MODEL,
      controls: { mode: 1, alpha: 0.93, tau: [0.1, 0.1, 0.1, 0.1] },
    });
    assert.equal(decoder.decodes, decodesBefore);
    for (const r of [a, b]) {
      assert.equal(r.timings.decodeCached, true);
      assert.equal(r.timings.sessionOpenMs, 0);
    }
    assert.deepEqual(b.settings.controls.tau, [0.1, 0.1, 0.1, 0.1]);
    assert.deepEqual(a.baseline.logits, b.baseline.logits);
  });

  test('a re-run reuses the run without intervention: one session.run, the same result as a fresh engine', async () => {
    const controls = { mode: 1 as const, alpha: 0.77, tau: [0.2, 0.2, 0.2, 0.2] };
    await engine.analyze({ clipPath: clip, modelPath: MODEL, controls: { mode: 1, alpha: 0.3 } });
    const rerun = await engine.analyze({ clipPath: clip, modelPath: MODEL, controls });
    assert.equal(rerun.timings.sessionRuns, 1);
    assert.equal(rerun.timings.baselineReused, true);
    const fresh = new AnalysisEngine({
      workerScript: WORKER_SCRIPT,
      cores: 1,
      toolVersion: 'test',
    });
    try {
      const first = await fresh.analyze({ clipPath: clip, modelPath: MODEL, controls });
      assert.equal(first.timings.sessionRuns, 2);
      assert.equal(first.timings.baselineReused, false);
      assert.deepEqual(rerun.baseline, first.baseline);
      assert.deepEqual(rerun.intervention, first.intervention);
      // Another prompt is another baseline (prompt ids are chosen for a contract-1 model; the
      // shipped contract-1.1 checkpoints take slots, and have none).
      const v1 = { clipPath: clip, modelPath: V1_MODEL, controls };
      await fresh.analyze(v1);
      const prompt = [...first.settings.promptIds].reverse();
      const other = await fresh.analyze({ ...v1, promptIds: prompt });
      assert.equal(other.timings.sessionRuns, 2);
    } finally {
      await fresh.dispose();
    }
  });

  test('α = 0 reproduces the model without intervention bit for bit; mode off runs once', async () => {
    const zero = await engine.analyze({
      clipPath: clip,
      modelPath: MODEL,
      controls: { mode: 1, alpha: 0 },
    });
    assert.deepEqual(zero.intervention.logits, zero.baseline.logits);
    const off = await engine.analyze({ clipPath: clip, modelPath: MODEL, controls: { mode: 0 } });
    assert.equal(off.timings.sessionRuns, 1);
    assert.deepEqual(off.intervention, off.baseline);
    const pai = await engine.analyze({
      clipPath: clip,
      modelPath: MODEL,
      controls: { mode: 2, paiAlpha: 2 },
    });
    assert.notDeepEqual(pai.intervention.logits, pai.baseline.logits);
    assert.ok(pai.flagCheck.agree);
  });

  test('concurrent analyses are all answered', async () => {
    const alphas = [0.11, 0.22, 0.33];
    const results = await Promise.all(
      alphas.map((alpha) =>
        engine.analyze({ clipPath: clip, modelPath: MODEL, controls: { mode: 1, alpha } }),
      ),
    );
    results.forEach((r, i) => assert.equal(r.settings.controls.alpha, alphas[i]));
  });

  test('warm opens the session ahead of the first analysis', async () => {
    const fresh = new AnalysisEngine({ workerScript: WORKER_SCRIPT, cores: 1 });
    try {
      await fresh.warm(MODEL, 'cpu');
      const r = await fresh.analyze({ clipPath: clip, modelPath: MODEL, executionProvider: 'cpu' });
      assert.equal(r.timings.sessionOpenMs, 0);
      assert.deepEqual(
        r.runtime.attempts.map((a) => a.provider),
        ['cpu'],
      );
    } finally {
      await fresh.dispose();
    }
  });

  test('bad settings are refused before the model runs', async () => {
    await assert.rejects(
      engine.analyze({ clipPath: clip, modelPath: MODEL, controls: { alpha: 2 } }),
      (e: unknown) =>
        e instanceof EngineError && e.code === 'BAD_SETTINGS' && /ar_alpha/.test(e.message),
    );
    await assert.rejects(
      engine.analyze({ clipPath: clip, modelPath: MODEL, controls: { tau: [Infinity, 0, 0, 0] } }),
      /must be finite/,
    );
    await assert.rejects(
      engine.analyze({ clipPath: clip, modelPath: join(SAMPLES_DIR, 'nope.onnx') }),
      (e: unknown) => e instanceof EngineError && e.code === 'MODEL_NOT_FOUND',
    );
  });

  test('cancelling an analysis stops it', async () => {
    engine.clearClipCache();
    const controller = new AbortController();
    const running = engine.analyze({ clipPath: clip, modelPath: MODEL }, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(
      running,
      (e: unknown) => isDecodeError(e, 'CANCELLED') || isInferenceError(e, 'CANCELLED'),
    );
    const again = await engine.analyze({ clipPath: clip, modelPath: MODEL });
    assert.equal(again.timings.decodeCached, false);
  });

  describe('a clip without audio', () => {
    const dir = scratchDir('engine-no-audio');
    let silent: string;
    before(() => {
      silent = makeVideoOnly(dir);
    });

    test('is analysed with silence when the metadata says audio is optional, and says so', async () => {
      const result = await engine.analyze({ clipPath: silent, modelPath: MODEL });
      assert.equal(result.clip.hasAudio, false);
      assert.equal(result.clip.silenceUsed, true);
      assert.equal(result.clip.audio, null);
    });

    test('is refused when the model requires audio', async () => {
      const a = (await engine.model(MODEL)).metadata.audio;
      const audio = {
        sample_rate_hz: a.sampleRateHz,
        samples: a.samples,
        window_seconds: a.windowSeconds,
        optional: false,
        tokens: a.tokens,
        // A 1.2 checkpoint's cap of its audio_repeat input stays declared (CONTRACT.md §1c).
        ...(a.repeatMax === undefined ? {} : { repeat_max: a.repeatMax }),
      };
      const strict = writeTemp(
        dir,
        'needs-audio.onnx',
        setMetadata(readFileSync(MODEL), 'mosear.audio', JSON.stringify(audio)),
      );
      await assert.rejects(
        engine.analyze({ clipPath: silent, modelPath: strict }),
        (e: unknown) =>
          e instanceof EngineError &&
          e.code === 'NO_AUDIO' &&
          /has no audio stream/.test(e.message),
      );
    });
  });
});
