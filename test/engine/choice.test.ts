// Choose on one split, report on another, end to end with the CLI: `eval` of mosear-tiny on a
// small "validation" manifest of shipped clips, `choose` by the repository's rule, then `eval
// --choice` once on other clips. The chain holds (same checkpoint, controls and provenance; the
// chosen setting scores on the validation clips what it scored when chosen), the choice's
// checkpoint is enforced by sha256, and evaluating on the manifest it was chosen on warns.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { runCli } from '../helpers/cliRun';
import { BASELINE_MODEL, MODEL, requireEngineFiles } from '../helpers/engineFixtures';
import { writeSplitManifest } from '../helpers/splitManifest';
import { scratchDir } from '../helpers/tempFiles';
import { readRunDirectory } from '../../src/core/evaluation/benchmarkRun';
import { fixedHeadSetOf } from '../../src/core/evaluation/headMaps';
import type { BenchmarkSummary } from '../../src/protocol/evaluationSummary';
import type { SettingChoice } from '../../src/protocol/settingChoice';

function summaryOf(dir: string): BenchmarkSummary {
  return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as BenchmarkSummary;
}

describe('mosear-lens choose, then eval --choice', () => {
  const dir = scratchDir('choice');
  const valDir = join(dir, 'val');
  const testDir = join(dir, 'test');
  const valRun = join(dir, 'val-run');
  const choiceFile = join(dir, 'choice.json');
  let valManifest = '';
  let testManifest = '';
  let chooseOut = '';

  before(async () => {
    requireEngineFiles();
    mkdirSync(valDir, { recursive: true });
    mkdirSync(testDir, { recursive: true });
    // Clips 89–92 of each subset: mosear-tiny's PAI-style setting turns one consistent answer
    // right there (the test split's only flip of it, see models/RESULTS.md) and changes no other.
    valManifest = writeSplitManifest(valDir, 4, 88);
    testManifest = writeSplitManifest(testDir, 4);
    const evaluated = await runCli([
      'eval',
      valManifest,
      '--model',
      MODEL,
      '--out',
      valRun,
      '--quiet',
    ]);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const chosen = await runCli(['choose', valRun, '--out', choiceFile]);
    assert.equal(chosen.code, 0, chosen.stderr);
    chooseOut = chosen.stdout;
  });

  test('choose prints the decision table and writes every candidate and the full setting', async () => {
    const choice = JSON.parse(readFileSync(choiceFile, 'utf8')) as SettingChoice;
    const { plan } = await readRunDirectory(valRun);
    assert.ok(plan !== null);
    const planned = plan.checkpoints[0]!;
    assert.equal(choice.schema, 'mosear-lens-choice/1');
    assert.deepEqual(choice.checkpoint, {
      name: planned.name,
      fileName: planned.fileName,
      path: planned.path,
      sha256: planned.sha256,
    });
    assert.equal(choice.chosenBy.manifest, plan.manifest.path);
    assert.equal(choice.chosenBy.manifestSha256, plan.manifest.sha256);
    assert.equal(choice.chosenBy.clips, 12);
    assert.equal(choice.chosenBy.rule, 'ar-defaults');
    assert.deepEqual(
      choice.candidates.map((c) => c.id),
      planned.settings.map((s) => s.id),
    );
    const winner = planned.settings.find((s) => s.id === choice.chosen.id);
    assert.deepEqual(choice.chosen, winner);
    // Video-aligned accuracy ties (nothing changes there); PAI-style has the higher mean.
    assert.equal(choice.chosen.id, 'pai');
    assert.equal(choice.candidates.find((c) => c.id === 'pai')?.rank, 1);
    assert.equal(choice.candidates.find((c) => c.id === 'off')?.rank, 2);
    // The table: the rule in words, a row per candidate, the verdict.
    assert.match(chooseOut, /rule ar-defaults: maximise video-aligned accuracy/);
    for (const s of planned.settings) assert.ok(chooseOut.includes(s.title), s.title);
    assert.ok(chooseOut.includes(`chosen: ${choice.chosen.title}`), chooseOut);
  });

  test('eval --choice on other clips: off and the chosen setting, saying where it was chosen', async () => {
    const choice = JSON.parse(readFileSync(choiceFile, 'utf8')) as SettingChoice;
    const out = join(dir, 'test-run');
    const run = await runCli(['eval', testManifest, '--choice', choiceFile, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /chosen on .*val.*manifest\.jsonl \(12 clips\) by rule ar-defaults/);
    assert.doesNotMatch(run.stderr, /selection on test/);
    const { plan } = await readRunDirectory(out);
    const settings = plan?.checkpoints[0]?.settings ?? [];
    const chosen = settings[1];
    assert.equal(plan?.checkpoints.length, 1);
    assert.deepEqual(
      settings.map((s) => s.id),
      ['off', 'pai'],
    );
    assert.equal(settings[0]?.chosenBy, undefined);
    assert.deepEqual(chosen?.controls, choice.chosen.controls);
    assert.deepEqual(chosen?.chosenBy, choice.chosenBy);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'choice.json'), 'utf8')), choice);
    const summary = summaryOf(out);
    const scored = summary.checkpoints[0]?.settings.find((s) => s.chosenBy !== undefined);
    assert.equal(scored?.chosenBy?.sameManifest, false);
    assert.equal(summary.clips, 12);
    const csv = readFileSync(join(out, 'scores.csv'), 'utf8');
    assert.match(csv, /chosen on [^\n]*\(12 clips\) by rule ar-defaults/);
    assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('"chosenBy"'));
  });

  test('eval --choice on the manifest it was chosen on warns loudly, and scores as chosen', async () => {
    const choice = JSON.parse(readFileSync(choiceFile, 'utf8')) as SettingChoice;
    const out = join(dir, 'val-again');
    const run = await runCli(['eval', valManifest, '--choice', choiceFile, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /WARNING: selection on test: this setting was chosen on this very/);
    const scored = summaryOf(out).checkpoints[0]?.settings.find((s) => s.chosenBy !== undefined);
    assert.equal(scored?.chosenBy?.sameManifest, true);
    assert.match(readFileSync(join(out, 'scores.csv'), 'utf8'), /WARNING, selection on test/);
    // The same clips and setting give the numbers the rule saw.
    const source = summaryOf(valRun).checkpoints[0]?.settings.find(
      (s) => s.id === choice.chosen.id,
    );
    assert.deepEqual(scored?.bySubset, source?.bySubset);
  });

  test('the fixed-heads rule: AR on the heads AR flagged in at least half of the clips, evaluated elsewhere', async () => {
    const fixedFile = join(dir, 'fixed.json');
    const chosen = await runCli(['choose', valRun, '--rule', 'fixed-heads', '--out', fixedFile]);
    assert.equal(chosen.code, 0, chosen.stderr);
    assert.match(chosen.stdout, /no candidates: the rule builds its setting from the run/);
    const choice = JSON.parse(readFileSync(fixedFile, 'utf8')) as SettingChoice;
    const { plan, records } = await readRunDirectory(valRun);
    assert.ok(plan !== null);
    const expected = fixedHeadSetOf(plan, records, choice.checkpoint.name, 0.5);
    assert.equal(choice.chosen.id, 'ar fixed');
    assert.equal(choice.chosen.controls.mode, 1);
    assert.deepEqual(choice.chosen.controls.headOverride, expected.override);
    assert.ok(expected.override.flat().every((o) => o === 1 || o === -1));
    const run = join(dir, 'fixed-run');
    const evaluated = await runCli(['eval', testManifest, '--choice', fixedFile, '--out', run]);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const ids = summaryOf(run).checkpoints[0]!.settings.map((s) => s.id);
    assert.deepEqual(ids, ['off', 'ar fixed']);
  });

  test('refusals: another checkpoint, a sweep with a choice, a folder without a run', async () => {
    const other = await runCli([
      'eval',
      testManifest,
      '--choice',
      choiceFile,
      '--model',
      BASELINE_MODEL,
      '--out',
      join(dir, 'refused'),
    ]);
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /chosen for mosear-tiny .*emotion-llama-tiny/);
    assert.equal(existsSync(join(dir, 'refused', 'plan.json')), false);
    const sweep = await runCli(['eval', testManifest, '--choice', choiceFile, '--sweep', 'tau']);
    assert.equal(sweep.code, 2);
    assert.match(sweep.stderr, /--choice evaluates one chosen setting/);
    const empty = await runCli(['choose', dir]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /holds no evaluation \(no plan\.json\)/);
    const rule = await runCli(['choose', valRun, '--rule', 'best']);
    assert.equal(rule.code, 2);
    assert.match(rule.stderr, /--rule: "best" is not one of ar-defaults, best-mean, fixed-heads/);
  });
});
