// `mosear-lens compare` end to end on a shipped clip with both shipped checkpoints: the JSON holds
// both subjects, each prediction equals a separate `analyze` run's, the clip was decoded once;
// one checkpoint under two settings; the HTML report embeds the comparison; usage errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { EXIT } from '../../src/cli/exitCodes';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { readComparisonResult, SUBJECT_KEYS } from '../../src/protocol/comparisonResult';
import { runCli } from '../helpers/cliRun';
import { BASELINE_MODEL, MODEL, SAMPLES_DIR, requireEngineFiles } from '../helpers/engineFixtures';
import { scratchDir } from '../helpers/tempFiles';

const CLIP = join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4');
const AR = ['--mode', 'ar', '--tau', '0.05', '--layers', 'all'];

describe('mosear-lens compare', () => {
  const dir = scratchDir('compare-cli');
  before(() => requireEngineFiles());

  test('two checkpoints: both subjects, the same predictions as analyze, one decode, an HTML report', async () => {
    const json = join(dir, 'comparison.json');
    const html = join(dir, 'comparison.html');
    const run = await runCli([
      'compare',
      CLIP,
      '--model',
      BASELINE_MODEL,
      '--model',
      MODEL,
      ...AR,
      '--json',
      json,
      '--html',
      html,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /A: emotion-llama-tiny/);
    assert.match(run.stdout, /B: mosear-tiny/);
    assert.match(run.stdout, /the clip was decoded once/);
    const comparison = readComparisonResult(JSON.parse(readFileSync(json, 'utf8')));
    assert.equal(comparison.comparing, 'checkpoints');
    assert.equal(comparison.timings.clipDecodes, 1);
    const cached = SUBJECT_KEYS.map((k) => comparison.subjects[k].result.timings.decodeCached);
    assert.deepEqual(cached.sort(), [false, true], 'one subject decoded, the other reused it');
    // Two workers share the cores: each session opened with ⌊cores ÷ 2⌋ threads (at least 1).
    const threads = Math.max(1, Math.floor(availableParallelism() / 2));
    for (const k of SUBJECT_KEYS) {
      assert.equal(comparison.subjects[k].result.runtime.intraOpNumThreads, threads, k);
    }
    for (const [k, model] of [
      ['a', BASELINE_MODEL],
      ['b', MODEL],
    ] as const) {
      const out = join(dir, `${k}.json`);
      const alone = await runCli([
        'analyze',
        CLIP,
        '--model',
        model,
        ...AR,
        '--json',
        out,
        '--quiet',
      ]);
      assert.equal(alone.code, 0, alone.stderr);
      const single: AnalysisResult = readAnalysisResult(JSON.parse(readFileSync(out, 'utf8')));
      const subject = comparison.subjects[k].result;
      assert.equal(subject.model.path, single.model.path);
      // Labels exactly; probabilities to float32 rounding (the two runs used different thread
      // counts: the compare split the cores between two workers).
      for (const run of ['intervention', 'baseline'] as const) {
        const [p, q] = [subject[run].prediction, single[run].prediction];
        assert.equal(p.label, q.label);
        assert.ok(Math.abs(p.probability - q.probability) < 1e-6, `${k} ${run}`);
      }
      assert.deepEqual(subject.intervention.arFlags, single.intervention.arFlags);
    }
    const page = readFileSync(html, 'utf8');
    assert.match(page, /mosear-lens\/comparison/);
    assert.match(page, /Content-Security-Policy/);
  });

  test('one checkpoint under two settings: --b-mode sets B apart', async () => {
    const run = await runCli([
      'compare',
      CLIP,
      '--model',
      MODEL,
      ...AR,
      '--b-mode',
      'off',
      '--json',
      '-',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const comparison = readComparisonResult(JSON.parse(run.stdout));
    assert.equal(comparison.comparing, 'settings');
    assert.equal(comparison.subjects.a.controls.mode, 1);
    assert.equal(comparison.subjects.b.controls.mode, 0);
    assert.equal(comparison.timings.clipDecodes, 1);
    assert.equal(
      comparison.subjects.b.result.intervention.prediction.label,
      comparison.subjects.a.result.baseline.prediction.label,
      'B without intervention answers like A’s baseline run',
    );
  });

  test('usage errors exit 2 without a stack trace', async () => {
    for (const args of [
      ['compare'],
      ['compare', CLIP, '--model', MODEL],
      ['compare', CLIP, '--b-tau', 'x'],
    ]) {
      const run = await runCli(args);
      assert.equal(run.code, EXIT.usage, `${args.join(' ')}: ${run.stderr}`);
      assert.doesNotMatch(run.stderr, /\n\s+at /);
    }
  });
});
