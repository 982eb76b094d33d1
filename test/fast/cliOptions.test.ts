// `mosear-lens analyze` options: parsing, controls from the checkpoint defaults, exit codes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { controlsFromEdits, parseAnalyzeOptions } from '../../src/cli/analyzeOptions';
import { flag, parseCommandLine, repeated, single } from '../../src/cli/commandLine';
import { EXIT, UsageError, exitCodeFor } from '../../src/cli/exitCodes';
import { ContractError } from '../../src/core/contract/contractError';
import { DecodeError } from '../../src/core/decode/decodeError';
import { EngineError } from '../../src/core/engine/engineError';
import { InferenceError } from '../../src/core/inference/inferenceError';
import { OnnxModelError } from '../../src/core/onnx/modelProto';
import { fixtureMetadata } from '../helpers/analysisFixture';

const usage = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof UsageError && pattern.test(e.message));

describe('parseCommandLine', () => {
  const options = {
    tau: { type: 'string' },
    head: { type: 'string', multiple: true },
    quiet: { type: 'boolean' },
  } as const;

  test('values, =values, flags, repeats, positionals and --', () => {
    const p = parseCommandLine(
      ['a.mp4', '--tau', '0.5', '--head=1:2=on', '--head', '0:0=off', '--quiet', '--', '-b.mp4'],
      options,
    );
    assert.deepEqual(p.positionals, ['a.mp4', '-b.mp4']);
    assert.equal(single(p, 'tau'), '0.5');
    assert.deepEqual(repeated(p, 'head'), ['1:2=on', '0:0=off']);
    assert.equal(flag(p, 'quiet'), true);
    assert.equal(flag(parseCommandLine(['--quiet', '--quiet'], options), 'quiet'), true);
    const none = parseCommandLine(['-'], options);
    assert.deepEqual(none.positionals, ['-']);
    assert.deepEqual(repeated(none, 'head'), []);
    assert.equal(single(none, 'tau'), undefined);
    assert.equal(flag(none, 'quiet'), false);
  });

  test('values starting with one dash are values; mistakes are usage errors', () => {
    assert.equal(single(parseCommandLine(['--tau', '-1'], options), 'tau'), '-1');
    assert.equal(single(parseCommandLine(['--tau=-1'], options), 'tau'), '-1');
    assert.deepEqual(repeated(parseCommandLine(['--head', '-x', 'c'], options), 'head'), ['-x']);
    usage(() => parseCommandLine(['--nope'], options), /^unknown option "--nope"$/);
    usage(() => parseCommandLine(['--tau'], options), /^--tau needs a value$/);
    usage(() => parseCommandLine(['--tau', '--quiet'], options), /^--tau needs a value$/);
    usage(() => parseCommandLine(['--tau', '1', '--tau', '2'], options), /^--tau is given more/);
    usage(() => parseCommandLine(['--quiet=yes'], options), /^--quiet takes no value$/);
    usage(
      () => parseCommandLine(['-x.mp4', '--', '-x.mp4'], options),
      /^unknown option "-x.mp4" \(a file name starting with "-" goes after "--"\)$/,
    );
    assert.deepEqual(parseCommandLine(['a', '--', '--tau', '-1'], options).positionals, [
      'a',
      '--tau',
      '-1',
    ]);
  });
});

describe('analyze options', () => {
  const meta = fixtureMetadata();

  test('defaults: auto provider, thumbnails, the checkpoint’s controls', () => {
    const o = parseAnalyzeOptions(['clip.mp4']);
    assert.equal(o.clip, 'clip.mp4');
    assert.equal(o.executionProvider, 'auto');
    assert.equal(o.thumbnails, true);
    const c = controlsFromEdits(meta, o.edits);
    assert.deepEqual(c.tau, [0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual(c.layers, [0, 1, 1, 1]);
  });

  test('every option maps to its contract input', () => {
    const o = parseAnalyzeOptions([
      'clip.mp4',
      '--mode',
      'pai',
      '--ratio-kind',
      'raw',
      '--tau',
      '1,2,3,4',
      '--margin',
      '0.25',
      '--alpha',
      '0.7',
      '--pai-alpha',
      '1.5',
      '--layers',
      '0,2',
      '--head',
      '1:3=on',
      '--head',
      '2:0=off',
      '--ep',
      'cpu',
      '--allow-fallback',
      '--json',
      'out.json',
      '--no-thumbnails',
      '--ffmpeg',
      '/opt/ffmpeg',
    ]);
    assert.equal(o.executionProvider, 'cpu');
    assert.equal(o.allowFallback, true);
    assert.equal(o.json, 'out.json');
    assert.equal(o.ffmpeg, '/opt/ffmpeg');
    assert.equal(o.thumbnails, false);
    const c = controlsFromEdits(meta, o.edits);
    assert.equal(c.mode, 2);
    assert.equal(c.ratioKind, 0);
    assert.deepEqual(c.tau, [1, 2, 3, 4]);
    assert.equal(c.headMargin, 0.25);
    assert.equal(c.alpha, 0.7);
    assert.equal(c.paiAlpha, 1.5);
    assert.deepEqual(c.layers, [1, 0, 1, 0]);
    assert.equal(c.headOverride[1]![3], 1);
    assert.equal(c.headOverride[2]![0], -1);
    assert.equal(c.headOverride[0]![0], 0);
  });

  test('one τ for every layer; "all" and "none" layers', () => {
    const c = controlsFromEdits(
      meta,
      parseAnalyzeOptions(['c', '--tau', '0.3', '--layers', 'all']).edits,
    );
    assert.deepEqual(c.tau, [0.3, 0.3, 0.3, 0.3]);
    assert.deepEqual(c.layers, [1, 1, 1, 1]);
    assert.deepEqual(
      controlsFromEdits(meta, parseAnalyzeOptions(['c', '--layers', 'none']).edits).layers,
      [0, 0, 0, 0],
    );
  });

  test('mistakes name the option', () => {
    usage(() => parseAnalyzeOptions([]), /needs a clip/);
    usage(() => parseAnalyzeOptions(['a', 'b']), /one clip/);
    usage(
      () => parseAnalyzeOptions(['c', '--mode', 'max']),
      /--mode: "max" is not one of off, ar, pai/,
    );
    usage(() => parseAnalyzeOptions(['c', '--alpha', '1.5']), /outside \[0, 1\]/);
    usage(() => parseAnalyzeOptions(['c', '--tau', 'x']), /not a finite number/);
    usage(() => parseAnalyzeOptions(['c', '--head', '1-2=on']), /LAYER:HEAD=on\|off\|auto/);
    usage(() => parseAnalyzeOptions(['c', '--ep', 'tpu']), /--ep/);
    usage(
      () => controlsFromEdits(meta, parseAnalyzeOptions(['c', '--tau', '1,2']).edits),
      /one value or 4/,
    );
    usage(
      () => controlsFromEdits(meta, parseAnalyzeOptions(['c', '--layers', '4']).edits),
      /layer 4 does not exist/,
    );
    usage(
      () => controlsFromEdits(meta, parseAnalyzeOptions(['c', '--head', '0:9=on']).edits),
      /no such head/,
    );
  });
});

describe('exit codes', () => {
  test('each error class maps to its documented code, user errors without a stack', () => {
    const cases: [unknown, number, boolean][] = [
      [new UsageError('x'), EXIT.usage, true],
      [new DecodeError('UNREADABLE', 'x'), EXIT.clip, true],
      [new DecodeError('NO_VIDEO', 'x'), EXIT.clip, true],
      [new DecodeError('FFMPEG_NOT_FOUND', 'x'), EXIT.runtime, true],
      [new DecodeError('CANCELLED', 'x'), EXIT.interrupted, true],
      [new EngineError('NO_AUDIO', 'x'), EXIT.clip, true],
      [new EngineError('MODEL_NOT_FOUND', 'x'), EXIT.model, true],
      [new ContractError('x'), EXIT.model, true],
      [new OnnxModelError('x'), EXIT.model, true],
      [new InferenceError('PROVIDER_UNAVAILABLE', 'x'), EXIT.runtime, true],
      [new InferenceError('WORKER_CRASHED', 'x'), EXIT.runtime, true],
      [new TypeError('bug'), EXIT.internal, false],
    ];
    for (const [error, code, userError] of cases)
      assert.deepEqual(exitCodeFor(error), { code, userError }, String(error));
  });
});
