// Head knockout through the engine and the CLI on the shipped mosear-tiny (contract 1.1 with
// head_gate and layer_logits): knocking out nothing is the analysis, knocking out a head moves
// the logits where PyTorch says (models/golden/mosear-tiny.gate.json, computed on the Python
// decode of the same clip: within the engine tier's decode tolerance), a ranking reports progress
// and stops when cancelled, the v1 checkpoint says why knockout is unavailable.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import { EngineError } from '../../src/core/engine/engineError';
import { knockoutHeads, rankHeads } from '../../src/core/engine/knockout';
import { InferenceError } from '../../src/core/inference/inferenceError';
import { KNOCKOUT_UNAVAILABLE, type RankProgress } from '../../src/protocol/knockout';
import { runCli } from '../helpers/cliRun';
import {
  MODEL,
  SAMPLES_DIR,
  V1_MODEL,
  WORKER_SCRIPT,
  requireEngineFiles,
} from '../helpers/engineFixtures';
import { GOLDEN_DIR, caseControls, loadGolden, maxAbsDiff } from '../helpers/golden';

const INPUT = 'sample-audio-aligned-surprise';
const clip = join(SAMPLES_DIR, `${INPUT}.mp4`);
/** The engine decodes with ffmpeg, the goldens used the Python decode (analysisEngine.test.ts). */
const DECODE_TOLERANCE = 1e-3;

describe('head knockout through the engine (shipped mosear-tiny)', () => {
  let engine: AnalysisEngine;
  const gate = loadGolden(join(GOLDEN_DIR, 'mosear-tiny.gate.json'));
  const expected = (name: string): number[] => {
    const c = gate.cases.find((x) => x.name === `${INPUT}/${name}`);
    assert.ok(c, `gate golden case ${name}`);
    return c.expected.logits!.data;
  };
  const arCase = gate.cases.find((c) => c.name === `${INPUT}/ar-share-tau0-alpha0.5/gate-ones`);
  assert.ok(arCase);
  const controls = caseControls(arCase.controls);

  before(() => {
    requireEngineFiles();
    engine = new AnalysisEngine({ workerScript: WORKER_SCRIPT, cores: 1, toolVersion: 'test' });
  });
  after(async () => {
    await engine.dispose();
  });

  test('knocking out nothing is the analysis, bit for bit', async () => {
    const analysis = await engine.analyze({
      clipPath: clip,
      modelPath: MODEL,
      controls,
      thumbnails: false,
    });
    const k = await knockoutHeads(engine, {
      clipPath: clip,
      modelPath: MODEL,
      controls,
      heads: [],
    });
    const f32 = (xs: number[]): number[] => xs.map((x) => Math.fround(x));
    assert.deepEqual(k.intervention.before.logits, f32(analysis.intervention.logits));
    assert.deepEqual(k.intervention.after.logits, f32(analysis.intervention.logits));
    assert.deepEqual(k.off.before.logits, f32(analysis.baseline.logits));
    assert.deepEqual(k.off.after.logits, f32(analysis.baseline.logits));
    assert.equal(k.intervention.answerLogProbChange, 0);
    assert.deepEqual(
      k.intervention.before.layerLogits,
      analysis.intervention.layerLogits?.map(f32),
      'layer_logits as the analysis read them',
    );
  });

  test('knocking out L0.H1 moves the logits where PyTorch says, under off and under AR', async () => {
    const k = await knockoutHeads(engine, {
      clipPath: clip,
      modelPath: MODEL,
      controls,
      heads: [{ layer: 0, head: 1 }],
    });
    const pairs = [
      [k.off, 'off'],
      [k.intervention, 'ar-share-tau0-alpha0.5'],
    ] as const;
    for (const [pair, name] of pairs) {
      const before = maxAbsDiff(pair.before.logits, expected(`${name}/gate-ones`)).max;
      const knocked = maxAbsDiff(pair.after.logits, expected(`${name}/knockout-L0.H1`)).max;
      assert.ok(before <= DECODE_TOLERANCE, `${name}: ungated logits off by ${before}`);
      assert.ok(knocked <= DECODE_TOLERANCE, `${name}: knocked-out logits off by ${knocked}`);
      const moved = maxAbsDiff(pair.after.logits, pair.before.logits).max;
      assert.ok(moved > 100 * DECODE_TOLERANCE, `${name}: the knockout moved the logits ${moved}`);
    }
  });

  test('a ranking reports its progress, ranks by the drop and stops when cancelled', async () => {
    const progress: RankProgress[] = [];
    const ranking = await rankHeads(
      engine,
      { clipPath: clip, modelPath: MODEL, controls, k: 4 },
      undefined,
      (p) => progress.push(p),
    );
    assert.equal(ranking.ranked.length, Math.min(4, ranking.candidates));
    assert.equal(ranking.cumulative.length, ranking.ranked.length + 1);
    const total = 1 + 2 * ranking.ranked.length - 1;
    assert.deepEqual(
      progress.map((p) => p.done),
      Array.from({ length: total }, (_, i) => i + 1),
    );
    assert.ok(progress.every((p) => p.total === total));
    const changes = ranking.ranked.map((h) => h.change);
    assert.deepEqual(
      changes,
      [...changes].sort((a, b) => a - b),
    );
    assert.equal(ranking.cumulative[1]!.change, ranking.ranked[0]!.change);

    const controller = new AbortController();
    await assert.rejects(
      rankHeads(
        engine,
        { clipPath: clip, modelPath: MODEL, controls, k: 4 },
        controller.signal,
        (p) => {
          if (p.done === 2) controller.abort();
        },
      ),
      (error: unknown) => error instanceof InferenceError && error.code === 'CANCELLED',
    );
  });

  test('a checkpoint without head_gate: knockout unavailable, with the reason', async () => {
    await assert.rejects(
      knockoutHeads(engine, { clipPath: clip, modelPath: V1_MODEL, heads: [] }),
      (error: unknown) => error instanceof EngineError && error.message === KNOCKOUT_UNAVAILABLE,
    );
    await assert.rejects(
      knockoutHeads(engine, {
        clipPath: clip,
        modelPath: MODEL,
        heads: [{ layer: 4, head: 0 }],
      }),
      /knockout: L4\.H0: no layer 4/,
    );
  });

  test('the CLI: knockout --heads, --rank, and a v1 checkpoint', async () => {
    const run = await runCli([
      'knockout',
      clip,
      '--heads',
      'L0.H1',
      '--rank',
      '3',
      '--mode',
      'ar',
      '--alpha',
      '0.5',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /knocked out 1 head: L0\.H1/);
    assert.match(run.stdout, /Δ log p\(answer\)/);
    assert.match(run.stdout, /effect ranking under off: 1 of 1 candidate heads/);
    assert.match(run.stdout, /cumulative: the first n ranked heads/);
    const v1 = await runCli(['knockout', clip, '--model', V1_MODEL, '--flagged']);
    assert.equal(v1.code, 2);
    assert.match(v1.stderr, /knockout unavailable: the checkpoint has no head_gate input/);
    const analyze = await runCli(['analyze', clip, '--mode', 'ar', '--alpha', '0.8']);
    assert.equal(analyze.code, 0, analyze.stderr);
    assert.match(analyze.stdout, /label lens \(layer_logits/);
    assert.match(analyze.stdout, /the answer leads/);
    const old = await runCli(['analyze', clip, '--model', V1_MODEL]);
    assert.doesNotMatch(old.stdout, /label lens/);
  });
});
