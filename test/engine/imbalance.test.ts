// The token-imbalance probe (contract 1.2's audio_repeat) through the engine and the CLI on the
// shipped mosear-tiny: k = 1 is the plain analysis bit for bit, k = 2 and 8 give PyTorch's logits
// (models/golden/mosear-tiny.repeat.json, on the Python decode of the same clip: within the
// engine tier's decode tolerance) and a layout of N + k − 1 positions; `imbalance` prints and
// writes the probe, a v1 checkpoint says why it is unavailable, `eval --audio-repeat` writes the
// accuracy per subset and the gap.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as v from 'valibot';
import { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import { imbalanceProbe } from '../../src/core/engine/imbalance';
import {
  IMBALANCE_UNAVAILABLE,
  ImbalanceResultSchema,
  ImbalanceSummarySchema,
} from '../../src/protocol/imbalance';
import { runCli } from '../helpers/cliRun';
import {
  MODEL,
  SAMPLES_DIR,
  V1_MODEL,
  WORKER_SCRIPT,
  requireEngineFiles,
} from '../helpers/engineFixtures';
import { GOLDEN_DIR, loadGolden, maxAbsDiff } from '../helpers/golden';
import { scratchDir } from '../helpers/tempFiles';

const INPUT = 'sample-audio-aligned-surprise';
const clip = join(SAMPLES_DIR, `${INPUT}.mp4`);
/** The engine decodes with ffmpeg, the goldens used the Python decode (analysisEngine.test.ts). */
const DECODE_TOLERANCE = 1e-3;

describe('token-imbalance probe (shipped mosear-tiny)', () => {
  let engine: AnalysisEngine;
  const golden = loadGolden(join(GOLDEN_DIR, 'mosear-tiny.repeat.json'));

  before(() => {
    requireEngineFiles();
    engine = new AnalysisEngine({ workerScript: WORKER_SCRIPT, cores: 1, toolVersion: 'test' });
  });
  after(async () => {
    await engine.dispose();
  });

  test('k = 1 is the analysis; k = 2, 8 match PyTorch with N + k − 1 positions', async () => {
    const plain = await engine.analyze({ clipPath: clip, modelPath: MODEL, thumbnails: false });
    const k1 = await engine.analyze({
      clipPath: clip,
      modelPath: MODEL,
      thumbnails: false,
      audioRepeat: 1,
    });
    assert.deepEqual(k1.baseline.logits, plain.baseline.logits);
    assert.equal(k1.settings.audioRepeat, undefined);
    for (const k of [2, 8]) {
      const r = await engine.analyze({
        clipPath: clip,
        modelPath: MODEL,
        thumbnails: false,
        audioRepeat: k,
        controls: { mode: 0 },
      });
      assert.equal(r.settings.audioRepeat, k);
      assert.equal(r.layout?.total, plain.layout!.total + k - 1);
      const audio = r.layout?.segments.find((s) => s.modality === 'audio');
      assert.equal(audio?.count, k);
      assert.equal(r.tokens.filter((t) => t.modality === 'audio').length, k);
      const expected = golden.cases.find((c) => c.name === `${INPUT}/off/k${k}`);
      assert.ok(expected?.expected.logits, `golden ${INPUT}/off/k${k}`);
      const { max } = maxAbsDiff(
        Float32Array.from(r.baseline.logits),
        expected.expected.logits.data,
      );
      assert.ok(max <= DECODE_TOLERANCE, `k ${k}: |engine − torch| = ${max}`);
    }
    const probe = await imbalanceProbe(engine, {
      clipPath: clip,
      modelPath: MODEL,
      repeats: [8, 2],
    });
    assert.deepEqual(
      probe.points.map((p) => [p.k, p.tokens]),
      [
        [1, 73],
        [2, 74],
        [8, 80],
      ],
    );
    assert.deepEqual(probe.points[0]?.off.probabilities, plain.baseline.probabilities);
    assert.equal(probe.points[0]?.off.answerLogProbChange, 0);
    await assert.rejects(
      engine.analyze({ clipPath: clip, modelPath: V1_MODEL, audioRepeat: 2 }),
      /has no "audio_repeat" input/,
    );
  });

  test('the CLI: imbalance, a v1 checkpoint, eval --audio-repeat', async () => {
    const run = await runCli(['imbalance', clip, '--k', '4,2', '--json', '-']);
    assert.equal(run.code, 0, run.stderr);
    const result = v.parse(ImbalanceResultSchema, JSON.parse(run.stdout));
    assert.deepEqual(
      result.points.map((p) => p.k),
      [1, 2, 4],
    );
    assert.equal(result.points[2]?.off.audioUap.length, 4);
    const text = await runCli(['imbalance', clip, '--k', '2']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /off: k = 1 answers surprise/);
    assert.match(text.stdout, /audio UAP per layer/);
    const v1 = await runCli(['imbalance', clip, '--model', V1_MODEL]);
    assert.notEqual(v1.code, 0);
    assert.ok(v1.stderr.includes(IMBALANCE_UNAVAILABLE), v1.stderr);
    const bad = await runCli(['imbalance', clip, '--k', '0']);
    assert.match(bad.stderr, /--k: "0" is not a whole number ≥ 1/);

    const out = scratchDir('imbalance-eval');
    const evalRun = await runCli([
      'eval',
      join(SAMPLES_DIR, 'manifest.jsonl'),
      '--model',
      MODEL,
      '--audio-repeat',
      '8',
      '--out',
      out,
      '--no-cache',
      '--quiet',
    ]);
    assert.equal(evalRun.code, 0, evalRun.stderr);
    const summary = v.parse(
      ImbalanceSummarySchema,
      JSON.parse(await readFile(join(out, 'imbalance.json'), 'utf8')),
    );
    assert.deepEqual(summary.repeats, [1, 8]);
    const point = summary.checkpoints[0]?.points[1];
    assert.deepEqual(
      point?.subsets.map((s) => [s.subset, s.clips]),
      [
        ['consistent', 1],
        ['audio-aligned', 1],
        ['video-aligned', 1],
      ],
    );
    assert.equal(typeof point?.gap, 'number');
    assert.match(await readFile(join(out, 'imbalance.csv'), 'utf8'), /^checkpoint,k,subset/);
  });
});
