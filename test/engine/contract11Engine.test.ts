// The engine and the CLI on the full-shape contract-1.1 fixture (models/fixtures): the run's
// layout from the transcript (N per run), stored in the result with the token list built from it
// (segments, strip cells, global visual tokens, labelled text), `layer_logits` read into the
// runs, `head_gate` fed; a contract-1 checkpoint refuses slots and gates. The clip is decoded
// by the system decoder as the metadata's decode spec says.
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { resolveRunLayout } from '../../src/core/contract/runLayout';
import { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import { EngineError } from '../../src/core/engine/engineError';
import { runCli } from '../helpers/cliRun';
import {
  SAMPLES_DIR,
  V1_MODEL,
  WORKER_SCRIPT,
  requireEngineFiles,
} from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { scratchDir } from '../helpers/tempFiles';

const FIXTURE = join(REPO_ROOT, 'models', 'fixtures', 'emotion-llama-fullshape.onnx');
const clip = join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4');
const dir = scratchDir('contract11-engine');
const TRANSCRIPT = 'Oh no, I really did not want this today';

describe('contract 1.1 through the engine and the CLI (full-shape fixture)', () => {
  let engine: AnalysisEngine;

  before(() => {
    requireEngineFiles();
    engine = new AnalysisEngine({ workerScript: WORKER_SCRIPT, cores: 1, toolVersion: 'test' });
  });
  after(async () => {
    await engine.dispose();
  });

  test('a transcript gives the run its layout, N, token list and layer_logits', async () => {
    const result = readAnalysisResult(
      JSON.parse(
        jsonWithTokenRows(
          await engine.analyze({
            clipPath: clip,
            modelPath: FIXTURE,
            controls: { mode: 1, alpha: 0.5 },
            slots: { transcript: TRANSCRIPT },
            thumbnails: false,
          }),
        ),
      ),
    );
    const meta = result.model.metadata;
    const expected = resolveRunLayout(meta, { slots: { transcript: TRANSCRIPT } });
    assert.notEqual(expected.layout.total, meta.tokenLayout.total, 'the transcript moves N');
    assert.deepEqual(result.layout, expected.layout);
    assert.deepEqual(result.settings.promptIds, expected.promptIds);
    assert.deepEqual(result.settings.slots, { transcript: TRANSCRIPT });
    const N = expected.layout.total;
    assert.equal(result.tokens.length, N);
    assert.deepEqual(result.intervention.tokenAttention?.shape, [32, 32, N]);
    // The strip grid: 32 rows × 8 columns of 56 × 14 px cells of the one frame.
    const strip = result.tokens.find((t) => t.index === 7 + 8 * 3 + 2);
    assert.deepEqual(strip, {
      index: 33,
      modality: 'visual',
      frame: 0,
      row: 3,
      col: 2,
      frameTimeSeconds: result.clip.frameTimesSeconds[0],
      segment: 'eva_patches',
      cell: { x: 112, y: 42, width: 56, height: 14 },
    });
    const globals = result.tokens.filter((t) => t.modality === 'visual' && t.global === true);
    assert.deepEqual(
      globals.map((t) => (t.modality === 'visual' ? t.segment : '')),
      ['face_mae', 'video_mae', 'eva_cls'],
    );
    const audio = result.tokens.filter((t) => t.modality === 'audio');
    assert.equal(audio.length, 1);
    assert.equal(audio[0]?.modality === 'audio' && audio[0].segment, 'hubert');
    const slotWords = result.tokens.flatMap((t) =>
      t.modality === 'text' && t.kind === 'slot' ? [t.word] : [],
    );
    assert.deepEqual(slotWords, [
      'Oh',
      'no',
      ',',
      'I',
      'really',
      'did',
      'not',
      'want',
      'this',
      'today',
    ]);
    // layer_logits in both runs; its last layer is the logits.
    for (const run of [result.intervention, result.baseline]) {
      assert.equal(run.layerLogits?.length, 32);
      assert.deepEqual(run.layerLogits?.[31], run.logits);
    }
    assert.equal(result.clip.audioWindow.samples, result.clip.audioWindow.seconds * 16000);
  });

  test('head_gate reaches the graph, is stored, and is refused by a contract-1 checkpoint', async () => {
    const gate = Array.from({ length: 32 }, (_, l) =>
      Array.from({ length: 32 }, (_, h) => (l < 4 && h < 16 ? 0 : 1)),
    );
    const request = {
      clipPath: clip,
      modelPath: FIXTURE,
      controls: { mode: 0 as const },
      thumbnails: false,
    };
    const plain = await engine.analyze(request);
    const gated = await engine.analyze({ ...request, headGate: gate });
    assert.deepEqual(gated.settings.headGate, gate);
    assert.notDeepEqual(gated.intervention.logits, plain.intervention.logits);
    // Layer 0's own attention is unchanged by its gate (CONTRACT.md §1a).
    assert.deepEqual(gated.intervention.modalityMass[0], plain.intervention.modalityMass[0]);
    await assert.rejects(
      engine.analyze({
        clipPath: clip,
        modelPath: V1_MODEL,
        headGate: gate.slice(0, 4).map((r) => r.slice(0, 4)),
      }),
      /head_gate: the model has no "head_gate" input/,
    );
    await assert.rejects(
      engine.analyze({ clipPath: clip, modelPath: V1_MODEL, slots: { transcript: 'hi' } }),
      (error: unknown) =>
        error instanceof EngineError &&
        error.code === 'BAD_SETTINGS' &&
        /no prompt slot "transcript"/.test(error.message),
    );
  });

  test('the CLI: analyze --transcript writes the run layout', async () => {
    const out = join(dir, 'fixture.mosear.json');
    const run = await runCli([
      'analyze',
      clip,
      '--model',
      FIXTURE,
      '--transcript',
      'I am fine',
      '--json',
      out,
      '--quiet',
      '--no-thumbnails',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const result = readAnalysisResult(JSON.parse(readFileSync(out, 'utf8')));
    assert.equal(result.layout?.total, 329 - 9 + 3);
    assert.deepEqual(result.settings.slots, { transcript: 'I am fine' });
  });
});
