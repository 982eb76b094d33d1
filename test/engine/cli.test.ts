// `mosear-lens` end to end: the shipped checkpoints on the sample clips (summary, JSON that the
// reader accepts, TypeScript flags agreeing with the graph's, options reaching the graph), `info`,
// `show`, and every documented exit code on bad input, never with a stack trace.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { EXIT } from '../../src/cli/exitCodes';
import { readOnnxModelInfo } from '../../src/core/onnx/modelProto';
import {
  AWKWARD_NAMES,
  ffmpegMake,
  makeAudioOnly,
  makeGarbage,
  makeTruncated,
  makeVideoOnly,
} from '../fixtures/decodeClips';
import {
  BASELINE_MODEL,
  MODEL,
  SAMPLES_DIR,
  SAMPLE_NAMES,
  requireEngineFiles,
} from '../helpers/engineFixtures';
import { runCli } from '../helpers/cliRun';
import {
  dropGraphOutput,
  renameGraphOutput,
  setFirstNodeOpType,
  setGraphInputElemType,
  setIrVersion,
  setMetadata,
} from '../helpers/protoEncode';
import { scratchDir, writeTemp } from '../helpers/tempFiles';

const cli = runCli;

/** Asserts an exit code and a message on stderr, and no stack trace. */
async function fails(args: string[], code: number, message: RegExp): Promise<void> {
  const run = await cli(args);
  assert.equal(run.code, code, `exit ${run.code}, stderr: ${run.stderr}`);
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'a user error printed a stack trace');
}

const sample = (name: string) => join(SAMPLES_DIR, `${name}.mp4`);

describe('mosear-lens CLI', () => {
  const dir = scratchDir('cli');
  before(() => requireEngineFiles());

  test('analyze: both checkpoints on every sample clip; TS flags agree with the graph', async () => {
    for (const model of [MODEL, BASELINE_MODEL]) {
      for (const name of SAMPLE_NAMES) {
        const out = join(dir, `${name}.json`);
        const run = await cli([
          'analyze',
          sample(name),
          '--model',
          model,
          '--mode',
          'ar',
          '--json',
          out,
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /prediction/);
        assert.match(run.stdout, /UAP per layer/);
        assert.match(run.stdout, /flagged heads: \d+ of 16/);
        const result = readAnalysisResult(JSON.parse(readFileSync(out, 'utf8')));
        assert.ok(
          result.flagCheck.agreeBeyondRounding,
          `${name}: ${JSON.stringify(result.flagCheck)}`,
        );
        assert.equal(result.clip.name, `${name}.mp4`);
        assert.equal(result.intervention.controls.mode, 1);
      }
    }
  });

  test('the intervention options reach the graph', async () => {
    const out = join(dir, 'options.json');
    const run = await cli([
      'analyze',
      sample(SAMPLE_NAMES[0]),
      '--ep',
      'cpu',
      '--mode',
      'ar',
      '--ratio-kind',
      'raw',
      '--tau',
      '0.01,0.02,0.03,0.04',
      '--margin',
      '0.05',
      '--alpha',
      '0.6',
      '--pai-alpha',
      '0.7',
      '--layers',
      '1,3',
      '--head',
      '1:2=on',
      '--head',
      '3:0=off',
      '--json',
      out,
      '--no-thumbnails',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const r = readAnalysisResult(JSON.parse(readFileSync(out, 'utf8')));
    assert.deepEqual(r.settings.controls, {
      mode: 1,
      ratioKind: 0,
      tau: [0.01, 0.02, 0.03, 0.04],
      headMargin: 0.05,
      alpha: 0.6,
      paiAlpha: 0.7,
      layers: [0, 1, 0, 1],
      headOverride: [
        [0, 0, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 0],
        [-1, 0, 0, 0],
      ],
    });
    assert.equal(r.runtime.provider, 'cpu');
    assert.deepEqual(r.thumbnails, []);
    // The graph obeyed: disabled layers unflagged, the forced head flagged, the vetoed one not.
    assert.deepEqual(r.intervention.arFlags[0], [0, 0, 0, 0]);
    assert.equal(r.intervention.arFlags[1]![2], 1);
    assert.equal(r.intervention.arFlags[3]![0], 0);
    assert.ok(r.flagCheck.agreeBeyondRounding);
  });

  test('--json - writes the result to stdout; show prints a saved result without clip or model', async () => {
    const run = await cli(['analyze', sample(SAMPLE_NAMES[1]), '--mode', 'off', '--json', '-']);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as AnalysisResult;
    assert.equal(result.timings.sessionRuns, 1);
    const saved = join(dir, 'saved.json');
    writeFileSync(saved, run.stdout);
    const shown = await cli(['show', saved]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /no intervention/);
    writeFileSync(saved, JSON.stringify({ ...result, schemaVersion: 99 }));
    await fails(['show', saved], EXIT.clip, /saved by a newer version of MoSEAR Lens/);
  });

  test('info: the metadata and which providers work here', async () => {
    const run = await cli(['info', MODEL]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /labels\s+neutral, angry, happy, sad, worried, surprise/);
    assert.match(run.stdout, /cpu\s+works/);
    assert.match(run.stdout, /dml\s+unavailable: dml is only available on Windows/);
    assert.match(run.stdout, /auto tries cuda → webgpu → cpu/);
  });

  test('usage errors exit 2', async () => {
    await fails(['analyze'], EXIT.usage, /needs a clip/);
    await fails(['analyze', 'x.mp4', '--bogus'], EXIT.usage, /unknown option "--bogus"/);
    await fails(['analyze', 'x.mp4', '--alpha', '3'], EXIT.usage, /outside \[0, 1\]/);
    await fails(['analyze', sample(SAMPLE_NAMES[0]), '--tau', '1,2'], EXIT.usage, /one value or 4/);
    await fails(['frobnicate'], EXIT.usage, /unknown command/);
  });

  test('model errors exit 4', async () => {
    const clip = sample(SAMPLE_NAMES[0]);
    await fails(
      ['analyze', clip, '--model', join(dir, 'missing.onnx')],
      EXIT.model,
      /does not exist/,
    );
    const text = writeTemp(dir, 'text.onnx', new TextEncoder().encode('not a model at all'));
    await fails(['analyze', clip, '--model', text], EXIT.model, /not an ONNX model/);
    const broken = writeTemp(
      dir,
      'broken.onnx',
      setMetadata(readFileSync(MODEL), 'mosear.labels', '"oops"'),
    );
    await fails(['analyze', clip, '--model', broken], EXIT.model, /mosear\.labels/);
    await fails(['info', broken], EXIT.model, /mosear\.labels/);
  });

  test('info exits 4 for a checkpoint the engine cannot run, listing every problem', async () => {
    const bytes = new Uint8Array(readFileSync(MODEL));
    const { metadata } = await readOnnxModelInfo(MODEL);
    const json = (key: string) => JSON.parse(metadata.get(key) ?? 'null') as unknown;
    const labels = json('mosear.labels') as string[];
    const arch = (change: Record<string, unknown>) =>
      JSON.stringify({ ...(json('mosear.architecture') as object), ...change });
    const hostile: [string, Uint8Array, RegExp[]][] = [
      [
        'heads',
        setMetadata(bytes, 'mosear.architecture', arch({ heads: 2 })),
        // The shipped checkpoints are contract 1.2: head_gate and layer_logits are checked too.
        [
          /7 problems:/,
          /input "ar_head_override" has shape \[4, 4\], expected \[4, 2\]/,
          /input "head_gate" has shape \[4, 4\], expected \[4, 2\]/,
        ],
      ],
      ['no-gate', dropGraphOutput(bytes, 'mose_gate'), [/missing output "mose_gate"/]],
      ['renamed-logits', renameGraphOutput(bytes, 'logits', 'scores'), [/missing output "logits"/]],
      [
        'labels',
        setMetadata(bytes, 'mosear.labels', JSON.stringify([...labels, 'bored'])),
        [/output "logits" has shape \[1, 6\], expected \[1, 7\]/],
      ],
      [
        'int64-frames',
        setGraphInputElemType(bytes, 'frames', 7),
        [/input "frames" has type int64, expected float32 \(models\/CONTRACT\.md §1\)/],
      ],
      [
        'all-at-once',
        setGraphInputElemType(
          dropGraphOutput(
            setMetadata(bytes, 'mosear.labels', JSON.stringify([...labels, 'bored'])),
            'mose_gate',
          ),
          'frames',
          7,
        ),
        [
          /4 problems:/,
          /type int64/,
          /expected \[1, 7\]/,
          /missing output "mose_gate"/,
          /output "layer_logits" has shape \[4, 6\], expected \[4, 7\]/,
        ],
      ],
      ['ir99', setIrVersion(bytes, 99), [/cannot be used: .*not even on cpu.*IR version/]],
      [
        'unknown-op',
        setFirstNodeOpType(bytes, 'MatMul', 'NoSuchOp'),
        [/cannot be used: .*not even on cpu.*NoSuchOp/],
      ],
    ];
    for (const [name, edited, patterns] of hostile) {
      const path = writeTemp(dir, `hostile-${name}.onnx`, edited);
      const run = await cli(['info', path]);
      assert.equal(run.code, EXIT.model, `${name}: exit ${run.code}, stderr: ${run.stderr}`);
      assert.ok(run.stderr.includes(path), `${name}: the file is named`);
      for (const pattern of patterns) assert.match(run.stderr, pattern, name);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'a user error printed a stack trace');
    }
  });

  test('eval with checkpoints whose label sets differ is a model error (exit 4)', async () => {
    const renamed = writeTemp(
      dir,
      'relabelled.onnx',
      setMetadata(
        setMetadata(
          readFileSync(MODEL),
          'mosear.labels',
          JSON.stringify(['calm', 'angry', 'happy', 'sad', 'worried', 'surprise']),
        ),
        'mosear.checkpoint',
        JSON.stringify({ name: 'relabelled', description: '', training_data: '', version: '1' }),
      ),
    );
    const manifest = join(dir, 'clash.jsonl');
    writeFileSync(manifest, `${JSON.stringify({ path: sample(SAMPLE_NAMES[0]), label: 'sad' })}\n`);
    await fails(
      ['eval', manifest, '--model', MODEL, '--model', renamed, '--out', join(dir, 'clash-out')],
      EXIT.model,
      /relabelled\.onnx has labels \[calm, .*one label set/,
    );
  });

  test('clip errors exit 3: missing, empty, random bytes, truncated, audio only', async () => {
    const { empty, random } = makeGarbage(dir);
    const { headerFirst, headerLast } = makeTruncated(dir);
    await fails(['analyze', join(dir, 'nope.mp4')], EXIT.clip, /does not exist/);
    await fails(['analyze', empty], EXIT.clip, /empty\.mp4/);
    await fails(['analyze', random], EXIT.clip, /random\.mp4/);
    await fails(['analyze', headerFirst], EXIT.clip, /truncated/);
    await fails(['analyze', headerLast], EXIT.clip, /truncated\.mp4/);
    await fails(['analyze', makeAudioOnly(dir)], EXIT.clip, /video/);
  });

  test('no audio: analysed with silence and said so', async () => {
    const out = join(dir, 'silent.json');
    const run = await cli(['analyze', makeVideoOnly(dir), '--json', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /no audio \(analysed with silence\)/);
    assert.equal(readAnalysisResult(JSON.parse(readFileSync(out, 'utf8'))).clip.silenceUsed, true);
  });

  test('names with spaces, unicode and shell metacharacters', async () => {
    for (const name of AWKWARD_NAMES) {
      const clip = join(dir, name);
      copyFileSync(sample(SAMPLE_NAMES[2]), clip);
      const args = name.startsWith('-')
        ? ['analyze', '--quiet', '--', clip]
        : ['analyze', clip, '--quiet'];
      const run = await cli(args, dir);
      assert.equal(run.code, 0, `${name}: ${run.stderr}`);
    }
    const dashed = await cli(['analyze', '-starts-with-dash.mp4'], dir);
    assert.equal(dashed.code, EXIT.usage);
  });

  test('machine errors exit 5: no ffmpeg, a provider that is not here', async () => {
    const clip = sample(SAMPLE_NAMES[0]);
    await fails(
      ['analyze', clip, '--ffmpeg', join(dir, 'no-ffmpeg')],
      EXIT.runtime,
      /ffmpeg was not found.*Install it/,
    );
    await fails(['analyze', clip, '--ep', 'dml'], EXIT.runtime, /"dml" is not available/);
    const fallback = await cli([
      'analyze',
      clip,
      '--ep',
      'dml',
      '--allow-fallback',
      '--quiet',
      '--json',
      join(dir, 'fb.json'),
    ]);
    assert.equal(fallback.code, 0, fallback.stderr);
    const r = readAnalysisResult(JSON.parse(readFileSync(join(dir, 'fb.json'), 'utf8')));
    assert.equal(r.runtime.attempts[0]?.provider, 'dml');
    assert.equal(r.runtime.attempts[0]?.ok, false);
  });

  test('--decoder wasm: the bundled decoder, recorded in the result', async () => {
    const out = join(dir, 'wasm.json');
    const run = await cli([
      'analyze',
      sample(SAMPLE_NAMES[0]),
      '--decoder',
      'wasm',
      '--quiet',
      '--json',
      out,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const r = readAnalysisResult(JSON.parse(readFileSync(out, 'utf8')));
    assert.equal(r.clip.decoder.backend, 'wasm');
    assert.ok(r.flagCheck.agreeBeyondRounding);
  });

  test('an unwritable --json exits 6', async () => {
    await fails(
      [
        'analyze',
        sample(SAMPLE_NAMES[0]),
        '--quiet',
        '--json',
        join(dir, 'no', 'such', 'dir.json'),
      ],
      EXIT.output,
      /cannot write/,
    );
  });

  test('a long clip decodes by seeking (10 s, 25 fps)', async () => {
    const long = ffmpegMake(dir, 'ten seconds.mp4', [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=s=320x240:r=25:d=10',
      '-f',
      'lavfi',
      '-i',
      'sine=f=300:d=10',
      '-c:v',
      'libx264',
      '-c:a',
      'aac',
      '-shortest',
    ]);
    const out = join(dir, 'long.json');
    const run = await cli(['analyze', long, '--quiet', '--json', out]);
    assert.equal(run.code, 0, run.stderr);
    const r = readAnalysisResult(JSON.parse(readFileSync(out, 'utf8')));
    assert.deepEqual(r.clip.frameTimesSeconds, [1.25, 3.75, 6.25, 8.75]);
    assert.equal(r.clip.audioWindow.startSeconds, 4);
  });
});
