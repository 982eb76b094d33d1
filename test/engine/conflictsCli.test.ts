// `mosear-lens conflicts` end to end: builds an audio-truth set from labelled clips, refuses to
// write over it (exit 6) and a one-label source (exit 2) with a message, and the written manifest
// runs through `mosear-lens eval` with its audio-aligned and consistent subsets.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { EXIT } from '../../src/cli/exitCodes';
import type { BenchmarkSummary } from '../../src/protocol/evaluationSummary';
import { makeConflictSource } from '../fixtures/conflictClips';
import { runCli } from '../helpers/cliRun';
import { MODEL, SAMPLES_DIR, requireEngineFiles } from '../helpers/engineFixtures';
import { scratchDir } from '../helpers/tempFiles';

describe('mosear-lens conflicts', () => {
  const dir = scratchDir('conflicts-cli');
  const out = join(dir, 'set');
  let manifest = '';

  before(() => {
    requireEngineFiles();
    manifest = makeConflictSource(dir).manifest;
  });

  test('builds the set, lists what it skipped and refuses to write over it', async () => {
    const args = ['conflicts', manifest, '--truth', 'audio', '--pairs', '1', '--out', out];
    const run = await runCli([...args, '--quiet']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^3 conflict clips \(audio-aligned: the label is the audio's\)/);
    assert.match(run.stdout, /clip .*silent-angry\.mp4: no audio stream/);
    assert.match(run.stdout, /clip .*audio-only\.m4a: no video stream/);
    const again = await runCli(args);
    assert.equal(again.code, EXIT.output);
    assert.match(again.stderr, /exists and is not empty/);
    const overwrite = await runCli([...args, '--overwrite', '--quiet']);
    assert.equal(overwrite.code, 0, overwrite.stderr);
  });

  test('says why a source with one label cannot make a set, and asks for --truth', async () => {
    const one = join(dir, 'one.jsonl');
    writeFileSync(
      one,
      `{"path": ${JSON.stringify(join(SAMPLES_DIR, 'sample-consistent-happy.mp4'))}, "label": "happy"}\n`,
    );
    const run = await runCli(['conflicts', one, '--truth', 'video', '--out', join(dir, 'x')]);
    assert.equal(run.code, EXIT.usage);
    assert.match(run.stderr, /labelled "happy": a conflict pair needs .* two different labels/);
    const noTruth = await runCli(['conflicts', one, '--out', join(dir, 'y')]);
    assert.equal(noTruth.code, EXIT.usage);
    assert.match(noTruth.stderr, /--truth video\|audio/);
  });

  test('the written manifest evaluates', async () => {
    const evalDir = join(dir, 'eval');
    const run = await runCli(['eval', out, '--model', MODEL, '--out', evalDir, '--quiet']);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(
      readFileSync(join(evalDir, 'summary.json'), 'utf8'),
    ) as BenchmarkSummary;
    assert.deepEqual([...summary.subsets].sort(), ['audio-aligned', 'consistent']);
  });
});
