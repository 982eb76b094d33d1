// Evaluation of a real-checkpoint export (models/fixtures/realexport) feeds each manifest row its
// own prompt and features: a row's transcript column reaches the `transcript` slot (N and the
// logits of its record change, and equal what `analyze` gives that transcript), a row's
// `face_features` file reaches the FaceMAE input (recorded with its path), rows without them keep
// the slot's default and zeros, and a missing feature file is that row's error record, naming the
// file, while the other rows are evaluated.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { checkpointSha256, runBenchmark, sha256File } from '../../src/core/evaluation/benchmarkRun';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { runCli } from '../helpers/cliRun';
import { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import { SystemFfmpegDecoder } from '../../src/core/decode/systemFfmpegDecoder';
import { encodeNpy } from '../../src/core/results/npy';
import type { ClipRecord } from '../../src/protocol/runFolder';
import { SAMPLES_DIR, WORKER_SCRIPT, requireEngineFiles } from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { scratchDir } from '../helpers/tempFiles';

const FIXTURE = join(REPO_ROOT, 'models', 'fixtures', 'realexport', 'emotion-llama-mini.onnx');
const SAID = 'Ça va? I am très fâché with you';

/** A copy of the export (graph, external weights, tokenizer) in `folder`; its .onnx path. */
function copyOfExport(folder: string): string {
  mkdirSync(folder);
  for (const suffix of ['.onnx', '.onnx.data', '.tokenizer.model']) {
    const name = `emotion-llama-mini${suffix}`;
    copyFileSync(join(REPO_ROOT, 'models', 'fixtures', 'realexport', name), join(folder, name));
  }
  return join(folder, 'emotion-llama-mini.onnx');
}

/** Fine-tuned weights, re-exported: the .onnx stays byte for byte the same, its .onnx.data not. */
function changeWeights(model: string): void {
  const data = `${model}.data`;
  const bytes = readFileSync(data);
  for (let i = 64; i < bytes.length; i += 4096) bytes[i] = bytes[i]! ^ 0x40;
  writeFileSync(data, bytes);
}

describe('eval of a real-checkpoint export: per-row transcripts and features', () => {
  const dir = scratchDir('realexport-eval');
  let records: ClipRecord[] = [];
  const okAt = (clip: number) => {
    const r = records.find((x) => x.clip === clip);
    assert.ok(r?.ok === true, JSON.stringify(r));
    return r;
  };

  before(async () => {
    requireEngineFiles();
    for (const name of ['plain', 'said', 'face', 'broken']) {
      copyFileSync(join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4'), join(dir, `${name}.mp4`));
    }
    // FaceMAE width of the miniature's feats_llama_proj1 (the graph declares [1, 32])
    const face = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + 1) * 2);
    writeFileSync(join(dir, 'face.npy'), encodeNpy(face, [32]));
    const rows = [
      { path: 'plain.mp4', label: 'sad' },
      { path: 'said.mp4', label: 'sad', transcript: SAID },
      { path: 'face.mp4', label: 'sad', face_features: 'face.npy' },
      { path: 'broken.mp4', label: 'sad', video_features: 'features/missing.npy' },
    ];
    writeFileSync(join(dir, 'manifest.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    const outcome = await runBenchmark({
      manifest: join(dir, 'manifest.jsonl'),
      models: [FIXTURE],
      workerScript: WORKER_SCRIPT,
      decoder: new SystemFfmpegDecoder({}),
    });
    records = outcome.records;
  });

  test("a row's transcript reaches the prompt: its N and logits change, as analyze gives them", async () => {
    const plain = okAt(0);
    const said = okAt(1);
    assert.equal(plain.prompt?.transcriptSource, 'none');
    assert.equal(said.prompt?.transcriptSource, 'manifest');
    assert.ok(said.prompt.tokens > plain.prompt.tokens, `N ${said.prompt.tokens}`);
    assert.notDeepEqual(said.probabilities[0], plain.probabilities[0]);
    assert.deepEqual(plain.featureSources, {
      faceMae: { kind: 'zeros' },
      videoMae: { kind: 'zeros' },
    });
    const engine = new AnalysisEngine({ workerScript: WORKER_SCRIPT });
    try {
      const result = await engine.analyze({
        clipPath: join(dir, 'said.mp4'),
        modelPath: FIXTURE,
        controls: { mode: 0 },
        transcript: { text: SAID, source: 'manifest' },
        thumbnails: false,
      });
      assert.equal(result.layout?.total, said.prompt.tokens);
      assert.equal(result.settings.transcriptSource, 'manifest');
      const want = result.baseline.probabilities;
      said.probabilities[0]!.forEach((p, i) => assert.ok(Math.abs(p - want[i]!) < 1e-5, `p[${i}]`));
    } finally {
      await engine.dispose();
    }
  });

  test("a row's feature file reaches its input and is recorded; a missing one is the row's error", () => {
    const face = okAt(2);
    assert.deepEqual(face.featureSources, {
      faceMae: { kind: 'file', path: join(dir, 'face.npy'), from: 'manifest' },
      videoMae: { kind: 'zeros' },
    });
    assert.equal(face.prompt?.tokens, okAt(0).prompt?.tokens);
    assert.notDeepEqual(face.probabilities[0], okAt(0).probabilities[0]);
    const broken = records.find((r) => r.clip === 3);
    assert.ok(broken !== undefined && !broken.ok);
    assert.equal(broken.checkpoint, 'Emotion-LLaMA miniature (random weights)');
    assert.equal(broken.error.code, 'BAD_SETTINGS');
    assert.match(
      broken.error.message,
      /VideoMAE features ".*features\/missing\.npy": no such file/,
    );
    assert.equal(records.filter((r) => r.ok).length, 3);
  });

  test('analyze: --face-features and a .video.npy sidecar are fed and named; a bad file is refused', async () => {
    copyFileSync(join(dir, 'face.npy'), join(dir, 'plain.video.npy'));
    const out = join(dir, 'plain.json');
    const clip = join(dir, 'plain.mp4');
    const face = join(dir, 'face.npy');
    const run = await runCli([
      'analyze',
      clip,
      '--model',
      FIXTURE,
      '--mode',
      'off',
      '--face-features',
      face,
      '--json',
      out,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /features {2}FaceMAE: .*face\.npy \(cli\); VideoMAE: .*plain\.video\.npy \(sidecar\)/,
    );
    const result = readAnalysisResult(JSON.parse(readFileSync(out, 'utf8')));
    assert.deepEqual(result.settings.featureSources, {
      faceMae: { kind: 'file', path: face, from: 'cli' },
      videoMae: { kind: 'file', path: join(dir, 'plain.video.npy'), from: 'sidecar' },
    });
    const bad = await runCli([
      'analyze',
      clip,
      '--model',
      FIXTURE,
      '--video-features',
      join(dir, 'plain.mp4'),
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /VideoMAE features ".*plain\.mp4": not a \.npy array/);
  });

  test('new weights behind the same graph file are another checkpoint: the run folder refuses them', async () => {
    const model = copyOfExport(join(dir, 'models'));
    const before = await checkpointSha256(model);
    assert.notEqual(before, await sha256File(model), 'the hash covers the external weights');
    writeFileSync(join(dir, 'one.jsonl'), JSON.stringify({ path: 'plain.mp4', label: 'sad' }));
    const run = join(dir, 'weights-run');
    const args = ['eval', join(dir, 'one.jsonl'), '--model', model, '--out', run, '--quiet'];
    const first = await runCli(args);
    assert.equal(first.code, 0, first.stderr);
    const plan = JSON.parse(readFileSync(join(run, 'plan.json'), 'utf8')) as {
      checkpoints: { sha256: string }[];
    };
    assert.equal(plan.checkpoints[0]?.sha256, before);
    changeWeights(model);
    assert.notEqual(await checkpointSha256(model), before);
    const again = await runCli(args);
    assert.equal(again.code, 2, 'the old records are not resumed for the new weights');
    assert.match(again.stderr, /holds a different evaluation/);
  });

  test('an engine holding the export opens it again when its weights file changes', async () => {
    const modelPath = copyOfExport(join(dir, 'models-engine'));
    const engine = new AnalysisEngine({
      workerScript: WORKER_SCRIPT,
      cores: 1,
      toolVersion: 'test',
    });
    try {
      const request = {
        clipPath: join(dir, 'plain.mp4'),
        modelPath,
        controls: { mode: 0 as const },
      };
      const first = await engine.analyze(request);
      changeWeights(modelPath);
      const second = await engine.analyze(request);
      assert.ok(second.timings.sessionOpenMs > 0, 'the session is opened again');
      assert.equal(second.timings.baselineReused, false);
      assert.notDeepEqual(
        Array.from(second.baseline.logits),
        Array.from(first.baseline.logits),
        'the new weights give other logits',
      );
    } finally {
      await engine.dispose();
    }
  });
});
