// Modality counterfactuals for real: the shipped mosear-tiny checkpoint on the shipped samples.
// Swapping a clip's audio or frames with its own leaves every probability bit-identical (and the
// verdict "neither"); silence and grey frames change them; automatic partners come from the
// samples' manifest; a partner without audio skips that variant with a message while the others
// run; a partner that does not decode is a named error; a manifest of one label is refused; the
// CLI prints the table and the verdict and writes a result that parses.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readCounterfactualResult } from '../../src/protocol/counterfactualResult';
import { readRelianceSummary } from '../../src/protocol/relianceSummary';
import { DecodeError } from '../../src/core/decode/decodeError';
import { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import { PartnerError } from '../../src/core/engine/counterfactualPartners';
import { makeVideoOnly } from '../fixtures/decodeClips';
import { runCli } from '../helpers/cliRun';
import { MODEL, SAMPLES_DIR, WORKER_SCRIPT, requireEngineFiles } from '../helpers/engineFixtures';
import { scratchDir } from '../helpers/tempFiles';

const happy = join(SAMPLES_DIR, 'sample-consistent-happy.mp4');
const sad = join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4');
const surprise = join(SAMPLES_DIR, 'sample-audio-aligned-surprise.mp4');

describe('modality counterfactuals (mosear-tiny, shipped samples)', () => {
  let engine: AnalysisEngine;
  const dir = scratchDir('counterfactuals');

  before(() => {
    requireEngineFiles();
    engine = new AnalysisEngine({ workerScript: WORKER_SCRIPT, cores: 1, toolVersion: 'test' });
  });
  after(async () => {
    await engine.dispose();
  });

  test('a swap with the clip itself is bit-identical; silence and grey change the answer’s probability', async () => {
    const result = await engine.counterfactuals({
      clipPath: happy,
      modelPath: MODEL,
      controls: { mode: 1, alpha: 0.5 },
      audioFrom: [happy],
      framesFrom: [happy],
    });
    const byKind = new Map(result.variants.map((v) => [v.kind, v]));
    const original = byKind.get('original');
    assert.deepEqual(
      result.variants.map((v) => v.kind),
      ['original', 'audio-silenced', 'audio-swapped', 'frames-grey', 'frames-swapped'],
    );
    for (const kind of ['audio-swapped', 'frames-swapped'] as const) {
      for (const run of ['off', 'intervention'] as const) {
        const o = byKind.get(kind)?.[run];
        assert.deepEqual(o?.probabilities, original?.[run]?.probabilities, `${kind} ${run}`);
        assert.equal(o?.answerLogProbChange, 0);
        assert.equal(o?.moved, false);
      }
    }
    assert.equal(result.verdict.off.verdict, 'neither');
    assert.equal(result.verdict.intervention.verdict, 'neither');
    for (const kind of ['audio-silenced', 'frames-grey'] as const) {
      const o = byKind.get(kind)?.off;
      assert.notDeepEqual(o?.probabilities, original?.off?.probabilities, kind);
      assert.notEqual(o?.answerLogProbChange, 0);
    }
    assert.equal(result.partners[0]?.choice, 'given');
    assert.equal(result.audioShareOff.length, 4);
    // The result is plain data that round-trips through its schema.
    assert.deepEqual(readCounterfactualResult(JSON.parse(JSON.stringify(result))), result);
  });

  test('automatic partners: one clip of each other label from the samples’ manifest', async () => {
    const result = await engine.counterfactuals({ clipPath: happy, modelPath: MODEL });
    assert.deepEqual(
      result.partners.map((p) => [p.path, p.label, p.choice, p.replaces]),
      [
        [sad, 'sad', 'manifest', 'both'],
        [surprise, 'surprise', 'manifest', 'both'],
      ],
    );
    assert.equal(result.variants.filter((v) => v.kind === 'audio-swapped').length, 2);
    assert.equal(result.variants.filter((v) => v.kind === 'frames-swapped').length, 2);
    // The sad sample's frames move the happy clip's answer (a real swap, not a no-op).
    const sadFrames = result.variants.find((v) => v.kind === 'frames-swapped' && v.partner === sad);
    assert.ok((sadFrames?.off?.answerLogProbChange ?? 0) < -Math.LN2);
  });

  test('a partner without audio: that variant says why, the others run', async () => {
    const silent = makeVideoOnly(dir);
    const result = await engine.counterfactuals({
      clipPath: happy,
      modelPath: MODEL,
      audioFrom: [silent],
      framesFrom: [sad],
    });
    const skipped = result.variants.find((v) => v.kind === 'audio-swapped');
    assert.equal(skipped?.off, null);
    assert.match(skipped?.problem ?? '', /has no audio stream: no audio to swap in/);
    assert.ok(result.notes.some((n) => /no audio to swap in/.test(n)));
    assert.ok(result.variants.find((v) => v.kind === 'frames-swapped')?.off !== null);
    assert.equal(result.verdict.off.verdict, 'undecided');
  });

  test('a partner that does not decode is a named error', async () => {
    const bad = join(dir, 'not-a-clip.mp4');
    writeFileSync(bad, 'not a video');
    await assert.rejects(
      engine.counterfactuals({
        clipPath: happy,
        modelPath: MODEL,
        audioFrom: [bad],
        framesFrom: [sad],
      }),
      (e: unknown) => e instanceof DecodeError && /^swap partner not-a-clip\.mp4/.test(e.message),
    );
  });

  test('a manifest of one label gives no automatic partner, and says so', async () => {
    const manifest = join(dir, 'one-label.jsonl');
    writeFileSync(
      manifest,
      [happy, sad].map((p) => JSON.stringify({ path: p, label: 'happy' })).join('\n'),
    );
    await assert.rejects(
      engine.counterfactuals({ clipPath: happy, modelPath: MODEL, manifest }),
      (e: unknown) => e instanceof PartnerError && /one label only \(happy\)/.test(e.message),
    );
  });

  test('the CLI prints the table and the verdict, writes the result, and refuses one label', async () => {
    const out = join(dir, 'cf.json');
    const run = await runCli([
      'counterfactual',
      happy,
      '--model',
      MODEL,
      '--mode',
      'ar',
      '--audio-from',
      surprise,
      '--json',
      out,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /audio from\s+sample-audio-aligned-surprise\.mp4/);
    assert.match(run.stdout, /frames from\s+sample-video-aligned-sad\.mp4 \(sad\)/);
    assert.match(run.stdout, /verdict \(off\): (audio-decided|video-decided|both|neither) —/);
    assert.match(run.stdout, /rule: A swap/);
    const saved = readCounterfactualResult(JSON.parse(readFileSync(out, 'utf8')));
    assert.equal(saved.partners.find((p) => p.replaces === 'audio')?.choice, 'given');
    const refused = await runCli([
      'counterfactual',
      happy,
      '--model',
      MODEL,
      '--manifest',
      join(dir, 'one-label.jsonl'),
    ]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /no automatic swap partner/);
  });

  test('eval --counterfactuals writes the reliance files and prints the tables', async () => {
    const out = join(dir, 'run');
    const run = await runCli([
      'eval',
      SAMPLES_DIR,
      '--model',
      MODEL,
      '--counterfactuals',
      '--out',
      out,
      '--no-cache',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /modality counterfactuals/);
    assert.match(run.stdout, /Spearman ρ/);
    const summary = readRelianceSummary(
      JSON.parse(readFileSync(join(out, 'counterfactuals.json'), 'utf8')),
    );
    const [checkpoint] = summary.checkpoints;
    assert.equal(checkpoint?.clips.length, 3);
    assert.ok(checkpoint?.clips.every((c) => c.problem === null && c.audioSwapDrop !== null));
    assert.deepEqual(
      checkpoint?.subsets.map((x) => x.subset),
      ['consistent', 'video-aligned', 'audio-aligned', 'all'],
    );
    assert.equal(checkpoint?.layers.length, 4);
    const csv = readFileSync(join(out, 'counterfactuals.csv'), 'utf8').split('\n');
    assert.match(csv[0] ?? '', /^checkpoint,path,label,subset,answer_off,verdict_off/);
    assert.equal(csv.filter((l) => l !== '').length, 4);
    assert.match(
      readFileSync(join(out, 'counterfactual-layers.csv'), 'utf8'),
      /^checkpoint,layer,spearman_rho/,
    );
    const refused = await runCli([
      'eval',
      SAMPLES_DIR,
      '--counterfactuals',
      '--shard',
      '1/2',
      '--out',
      join(dir, 'shard'),
    ]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /leave out --shard/);
  });
});
