// `mosear-lens` against hostile and unlucky input (issue 13, items 4, 5 and 8), end to end:
// result files and model metadata nested 100,000 deep, control characters in every string a
// shared result holds and in a model's metadata, a BOM, SIGTERM and SIGHUP during an
// evaluation, and onnxruntime's temp files kept out of $TMPDIR.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { AnalysisResult, RunAnalysis } from '../../src/protocol/analysisResult';
import { EXIT } from '../../src/cli/exitCodes';
import { CLI_SCRIPT, MODEL, SAMPLES_DIR, requireEngineFiles } from '../helpers/engineFixtures';
import { runCli } from '../helpers/cliRun';
import { TERMINAL_CONTROL, withSuffixOnEveryString } from '../helpers/hostileText';
import { setMetadata } from '../helpers/protoEncode';
import { writeSplitManifest } from '../helpers/splitManifest';
import { scratchDir, writeTemp } from '../helpers/tempFiles';

const DEEP = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
/** An OSC window title, an SGR colour, a C1 CSI, a bidi override and a line break. */
const EVIL = '\u001b]0;owned\u0007\u001b[31m\u009b2J\u202e\nX';
const CLIP = join(SAMPLES_DIR, 'sample-consistent-happy.mp4');

/** Asserts an exit code, a message on stderr, no stack trace and no control character. */
async function fails(args: string[], code: number, message: RegExp): Promise<void> {
  const run = await runCli(args);
  assert.equal(run.code, code, `exit ${run.code}, stderr: ${run.stderr}`);
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'a user error printed a stack trace');
  assert.doesNotMatch(run.stderr, TERMINAL_CONTROL, 'a control character reached stderr');
}

/** Runs the CLI with extra environment variables. */
function runWithEnv(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_SCRIPT, ...args], { env: { ...process.env, ...env } }, (e) =>
      resolve(e === null ? 0 : typeof e.code === 'number' ? e.code : -1),
    );
  });
}

/** A deep copy with EVIL added to every string (object keys left alone). */
const withEvilStrings = <T>(value: T): T => withSuffixOnEveryString(value, EVIL);

describe('mosear-lens with hostile input', () => {
  const dir = scratchDir('cli-hostile');
  let resultText = '';

  before(async () => {
    requireEngineFiles();
    const out = join(dir, 'good.mosear.json');
    const run = await runCli(['analyze', CLIP, '--mode', 'ar', '--json', out, '--quiet']);
    assert.equal(run.code, 0, run.stderr);
    resultText = readFileSync(out, 'utf8');
  });

  test('show: 100,000 nested arrays are a clear error naming the file (exit 3)', async () => {
    const whole = writeTemp(dir, 'deep.mosear.json', Buffer.from(DEEP));
    await fails(['show', whole], EXIT.clip, /deep\.mosear\.json: .*nested too deeply/);
    const inside = resultText.replace('"createdAt":', `"createdAt":${DEEP},"x":`);
    const path = writeTemp(dir, 'deep-inside.mosear.json', Buffer.from(inside));
    await fails(['show', path, '--html', join(dir, 'x.html')], EXIT.clip, /nested too deeply/);
  });

  test('info and analyze: model metadata nested 100,000 deep is a model error (exit 4)', async () => {
    const model = writeTemp(
      dir,
      'deep.onnx',
      setMetadata(readFileSync(MODEL), 'mosear.token_layout', DEEP),
    );
    await fails(['info', model], EXIT.model, /mosear\.token_layout: nested too deeply/);
    await fails(
      ['analyze', CLIP, '--model', model, '--quiet'],
      EXIT.model,
      /mosear\.token_layout: nested too deeply/,
    );
  });

  test('show: control characters in every string of a shared result are printed escaped', async () => {
    // Every free-text string the result holds (the schema checks the others by value).
    const valid = JSON.parse(resultText) as AnalysisResult;
    const run = (r: RunAnalysis): RunAnalysis => ({
      ...r,
      prediction: withEvilStrings(r.prediction),
    });
    const evil: AnalysisResult = {
      ...valid,
      createdAt: withEvilStrings(valid.createdAt),
      tool: withEvilStrings(valid.tool),
      clip: {
        ...withEvilStrings(valid.clip),
        durationSource: valid.clip.durationSource,
        decoder: valid.clip.decoder,
      },
      model: {
        ...withEvilStrings(valid.model),
        metadata: {
          ...valid.model.metadata,
          labels: withEvilStrings(valid.model.metadata.labels),
          checkpoint: withEvilStrings(valid.model.metadata.checkpoint),
        },
      },
      intervention: run(valid.intervention),
      baseline: run(valid.baseline),
    };
    const path = writeTemp(dir, 'evil.mosear.json', Buffer.from(JSON.stringify(evil)));
    const shown = await runCli(['show', path]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.doesNotMatch(shown.stdout, TERMINAL_CONTROL, 'a control character reached stdout');
    assert.match(shown.stdout, /\\x1b\]0;owned\\x07\\x1b\[31m\\x9b2J\\u202e\\x0aX/);
    const plain = await runCli(['show', join(dir, 'good.mosear.json')]);
    assert.equal(
      shown.stdout.split('\n').length,
      plain.stdout.split('\n').length,
      'lines were added',
    );
  });

  test('error messages from a file are printed escaped', async () => {
    const model = writeTemp(
      dir,
      'evil.onnx',
      setMetadata(readFileSync(MODEL), 'mosear.contract', `1${EVIL}`),
    );
    await fails(['info', model], EXIT.model, /unsupported contract version "1\\x1b\]0;owned/);
  });

  test('show: a result with a UTF-8 BOM reads', async () => {
    const path = writeTemp(dir, 'bom.mosear.json', Buffer.from(`\ufeff${resultText}`));
    const run = await runCli(['show', path]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^clip /);
  });

  test('a worker leaves nothing in $TMPDIR (onnxruntime writes into a private folder)', async () => {
    const tmp = join(dir, 'tmpdir');
    mkdirSync(tmp);
    assert.equal(await runWithEnv(['analyze', CLIP, '--quiet'], { TMPDIR: tmp }), 0);
    assert.equal(await runWithEnv(['info', MODEL], { TMPDIR: tmp }), 0);
    assert.deepEqual(readdirSync(tmp), []);
  });

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    test(`${signal} during an evaluation ends it as interrupted (exit ${code}), records kept`, async () => {
      const runDir = join(dir, `eval-${signal}`);
      mkdirSync(runDir);
      const manifest = writeSplitManifest(runDir, 10);
      const out = join(runDir, 'out');
      // --no-cache decodes every clip, so the run is slow enough to be signalled part way.
      const child = spawn(
        process.execPath,
        [CLI_SCRIPT, 'eval', manifest, '--out', out, '--no-cache'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const records = join(out, 'records.jsonl');
      let sent = false;
      // Signal once two records are written: the run is under way.
      const timer = setInterval(() => {
        if (!sent && existsSync(records) && readFileSync(records, 'utf8').split('\n').length > 2) {
          sent = true;
          child.kill(signal);
        }
      }, 20);
      const [exitCode, exitSignal] = await new Promise<[number | null, string | null]>((resolve) =>
        child.on('exit', (c, s) => resolve([c, s])),
      );
      clearInterval(timer);
      assert.ok(sent, `the run ended before it could be signalled: ${stderr}`);
      assert.equal(exitSignal, null, `killed by ${exitSignal}, not ended cleanly: ${stderr}`);
      assert.equal(exitCode, code, stderr);
      assert.match(stderr, /cancelled: \d+\/\d+ clips kept/);
      assert.match(stderr, /mosear-lens: interrupted/);
      assert.ok(readFileSync(join(out, 'records.jsonl'), 'utf8').length > 0);
    });
  }
});
