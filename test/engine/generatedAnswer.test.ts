// The generated answer (CONTRACT.md §2a, generation): on the committed real-checkpoint miniature
// (random weights, so the text is gibberish) the engine's greedy ids under off and under AR equal
// the exporter's own PyTorch forward run greedily with the same controls at every step
// (models/realexport/answer.py, on the tensors the engine decoded); a checkpoint without
// `greedy_token` refuses generation by name and still analyses; the stop rule ends a branch at
// EOS; `analyze --answer-tokens` prints both answers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { AnalysisEngine, generateAnswer } from '../../src/core/engine/analysisEngine';
import { readCheckedModelFile } from '../../src/core/contract/graphCheck';
import { clipDecodeSpecFromContract } from '../../src/core/decode/clipDecoder';
import { SystemFfmpegDecoder } from '../../src/core/decode/systemFfmpegDecoder';
import type { ArControls } from '../../src/protocol/contract';
import type { WorkerRunOutput } from '../../src/protocol/workerMessages';
import { runCli } from '../helpers/cliRun';
import { MODEL, SAMPLES_DIR, WORKER_SCRIPT, requireEngineFiles } from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { scratchDir } from '../helpers/tempFiles';

const FIXTURE = join(REPO_ROOT, 'models', 'fixtures', 'realexport', 'emotion-llama-mini.onnx');
const CLIP = join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4');
const PYTHON = process.env['MOSEAR_PYTHON'] ?? '/usr/bin/python3';
const TOKENS = 4;
/** AR on every layer, the raw statistic at τ 0 and α 1 (golden.py's `controls` with these). */
const AR: Partial<ArControls> = {
  mode: 1,
  ratioKind: 0,
  tau: [0, 0],
  headMargin: 0,
  alpha: 1,
  paiAlpha: 0,
  layers: [1, 1],
  headOverride: [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ],
};

interface Reference {
  ids: number[];
  stopped_at: 'eos' | 'max-tokens';
}

describe('the generated answer (greedy, AR at every generated position)', () => {
  const dir = scratchDir('generated-answer');

  before(() => requireEngineFiles());

  test('equals the exporter PyTorch greedy decoding under off and AR', async () => {
    const decoder = new SystemFfmpegDecoder({});
    const engine = new AnalysisEngine({ workerScript: WORKER_SCRIPT, decoder, cores: 1 });
    try {
      const result = await engine.analyze({
        clipPath: CLIP,
        modelPath: FIXTURE,
        controls: AR,
        executionProvider: 'cpu',
        thumbnails: false,
        answerTokens: TOKENS,
      });
      const answer = result.generatedAnswer;
      assert.ok(answer !== undefined, 'the miniature has greedy_token: an answer is generated');
      assert.equal(answer.maxTokens, TOKENS);
      // The reference runs on exactly the tensors the engine fed.
      const meta = (await readCheckedModelFile(FIXTURE)).metadata;
      const clip = await decoder.decode(CLIP, clipDecodeSpecFromContract(meta));
      assert.ok(clip.audio !== null, 'the sample has audio');
      const { height: H, width: W } = meta.frames;
      writeFileSync(join(dir, 'frames.bin'), clip.frames);
      writeFileSync(join(dir, 'audio.bin'), clip.audio);
      const spec = {
        frames: join(dir, 'frames.bin'),
        frames_shape: [1, clip.frames.length / (3 * H * W), 3, H, W],
        audio: join(dir, 'audio.bin'),
        prompt_ids: result.settings.promptIds,
        tokens: TOKENS,
        cases: [
          { name: 'off', mode: 0, kind: 2, alpha: 0, pai: 0 },
          { name: 'ar', mode: 1, kind: 0, alpha: 1, pai: 0 },
        ],
      };
      writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
      const py = spawnSync(PYTHON, ['-m', 'realexport.answer', join(dir, 'spec.json')], {
        cwd: join(REPO_ROOT, 'models'),
        env: { ...process.env, PYTHONPATH: join(REPO_ROOT, 'models') },
        encoding: 'utf8',
        timeout: 300_000,
      });
      assert.equal(py.status, 0, py.stderr);
      const reference = JSON.parse(py.stdout) as Record<'off' | 'ar', Reference>;
      for (const [key, branch] of [
        ['off', answer.off],
        ['ar', answer.intervention],
      ] as const) {
        assert.deepEqual(branch.ids, reference[key].ids, `${key}: ids`);
        assert.equal(branch.stoppedAt, reference[key].stopped_at.replace('_', '-'), key);
      }
      // The first token is the analysis runs' own greedy_token: the answer continues the prompt.
      assert.ok(answer.off.text.length > 0);
    } finally {
      await engine.dispose();
    }
  });

  test('a checkpoint without greedy_token: generation unavailable by name; analyze still works', async () => {
    const engine = new AnalysisEngine({ workerScript: WORKER_SCRIPT, cores: 1 });
    try {
      const request = { clipPath: CLIP, modelPath: MODEL, executionProvider: 'cpu' as const };
      await assert.rejects(
        engine.analyze({ ...request, answerTokens: 2 }),
        /generation unavailable: the checkpoint mosear-tiny\.onnx has no greedy_token output/,
      );
      const plain = await engine.analyze({ ...request, thumbnails: false });
      assert.equal(plain.generatedAnswer, undefined);
    } finally {
      await engine.dispose();
    }
  });

  test('a branch stops at EOS (not kept in its ids); shared steps run both controls at once', async () => {
    const meta = (await readCheckedModelFile(FIXTURE)).metadata;
    const eos = meta.prompt.vocab.indexOf('</s>');
    assert.equal(eos, 2, "LLaMA's EOS id");
    const out = (id: number) =>
      ({
        outputs: { greedy_token: { data: Float32Array.of(id), dims: [1] } },
      }) as unknown as WorkerRunOutput;
    // off: 300, 301, EOS; AR: 300, then 400, 401 (cut at 3 tokens).
    const script = (ids: number[], mode: number): number => {
      if (mode === 0) return ids.length === 1 ? 301 : eos;
      return ids.length === 1 ? 400 : 401;
    };
    const calls: number[] = [];
    const answer = await generateAnswer({
      model: { metadata: meta } as Parameters<typeof generateAnswer>[0]['model'],
      step: (ids, controls) => {
        calls.push(controls.length);
        return Promise.resolve(controls.map((c) => out(script(ids, c.mode))));
      },
      controls: { ...(AR as ArControls) },
      first: { off: out(300), intervention: out(300) },
      maxTokens: 3,
    });
    assert.deepEqual(answer.off.ids, [300, 301]);
    assert.equal(answer.off.stoppedAt, 'eos');
    assert.deepEqual(answer.intervention.ids, [300, 400, 401]);
    assert.equal(answer.intervention.stoppedAt, 'max-tokens');
    // Step 1: shared prefix [300] → one request with both; step 2: diverged → one each.
    assert.deepEqual(calls, [2, 1, 1]);
    // Mode 0 requested: the two branches are one run per step.
    calls.length = 0;
    const offOnly = await generateAnswer({
      model: { metadata: meta } as Parameters<typeof generateAnswer>[0]['model'],
      step: (ids, controls) => {
        calls.push(controls.length);
        return Promise.resolve(controls.map((c) => out(script(ids, c.mode))));
      },
      controls: { ...(AR as ArControls), mode: 0 },
      first: { off: out(300), intervention: out(300) },
      maxTokens: 3,
    });
    assert.deepEqual(offOnly.intervention, offOnly.off);
    assert.deepEqual(calls, [1, 1]);
  });

  test('analyze --answer-tokens prints the answer under off and under AR', async () => {
    const run = await runCli([
      'analyze',
      CLIP,
      '--model',
      FIXTURE,
      '--mode',
      'ar',
      '--alpha',
      '1',
      '--answer-tokens',
      '2',
      '--no-sidecar',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^answer \(off\): ".*" \((EOS|2 tokens, cut)\) {2}ids [\d ]+$/m);
    assert.match(run.stdout, /^answer \(AR α 1\): ".*" \((EOS|2 tokens, cut)\) {2}ids [\d ]+$/m);
    const bad = await runCli(['analyze', CLIP, '--model', FIXTURE, '--answer-tokens', '33']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--answer-tokens: at most 32, got 33/);
  });
});
