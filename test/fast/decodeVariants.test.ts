// The contract 1.1 decode variants without a process: spec validation, the argument lists
// (pinned, as models/tests/test_decode.py pins decode.py's), the audio window's length, the
// silence for a clip without audio and the decode worker's reply schema.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  silenceSamples,
  silentAudio,
  validateClipDecodeSpec,
  type ClipDecodeSpec,
  type ClipProbe,
} from '../../src/core/decode/clipDecoder';
import { isDecodeError } from '../../src/core/decode/decodeError';
import {
  DecodePlan,
  audioArgs,
  audioWindow,
  frameArgs,
  videoFilter,
} from '../../src/core/decode/mosearDecode1';
import {
  parseWasmWorkerReply,
  parseWasmWorkerRequest,
} from '../../src/protocol/decodeWorkerMessages';

const V1: ClipDecodeSpec = {
  frames: 4,
  height: 64,
  width: 64,
  sampleRateHz: 16000,
  samples: 32000,
};
/** Every variant (the spec models/tests/test_decode.py pins as ALL). */
const ALL: ClipDecodeSpec = {
  frames: 1,
  height: 32,
  width: 48,
  sampleRateHz: 16000,
  samples: 32000,
  frameTimes: 'first',
  resize: 'squash',
  scaleFlags: 'bicubic',
  audioWindow: 'from-start',
  audioLength: 'variable',
  minSamples: 8000,
};
const CLIP = '/clips/a b.mp4';

const probe: ClipProbe = {
  path: CLIP,
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  durationSeconds: 6,
  durationSource: 'video-stream',
  video: {
    index: 0,
    codec: 'h264',
    width: 96,
    height: 64,
    sampleAspectRatio: '1:1',
    rotationDegrees: 0,
    displayWidth: 96,
    displayHeight: 64,
    averageFrameRateHz: 10,
  },
  videoStreams: 1,
  audio: { index: 1, codec: 'aac', sampleRateHz: 48000, channels: 1 },
};

const badSpec = (spec: ClipDecodeSpec, words: RegExp): void =>
  assert.throws(
    () => validateClipDecodeSpec(spec),
    (e) => isDecodeError(e, 'BAD_SPEC') && words.test(e.message),
    JSON.stringify(spec),
  );

describe('decode variants: spec validation', () => {
  test('contract 1 (no variant fields), each variant and all together are valid', () => {
    validateClipDecodeSpec(V1);
    validateClipDecodeSpec(ALL);
    validateClipDecodeSpec({ ...V1, resize: 'squash', scaleFlags: 'bicubic' });
    validateClipDecodeSpec({ ...V1, audioWindow: 'from-start' });
    validateClipDecodeSpec({ ...ALL, minSamples: ALL.samples });
  });

  test('"first" needs one frame; "variable" needs "from-start" and 1 ≤ minSamples ≤ samples', () => {
    badSpec({ ...V1, frameTimes: 'first' }, /frameTimes "first" needs frames 1, got 4/);
    badSpec({ ...ALL, audioWindow: 'centered' }, /needs audioWindow "from-start"/);
    badSpec({ ...ALL, audioWindow: undefined } as unknown as ClipDecodeSpec, /from-start/);
    badSpec({ ...ALL, minSamples: 32001 }, /minSamples.*1\.\.samples \(32000\), got 32001/);
    badSpec({ ...ALL, minSamples: 0 }, /minSamples/);
    badSpec({ ...ALL, minSamples: 1.5 }, /minSamples/);
    const noMin: ClipDecodeSpec = { ...ALL };
    delete noMin.minSamples;
    badSpec(noMin, /needs minSamples/);
    badSpec({ ...V1, minSamples: 100 }, /minSamples is only for audioLength "variable"/);
  });

  test('unknown variant values are refused', () => {
    badSpec({ ...V1, resize: 'stretch' } as unknown as ClipDecodeSpec, /resize must be one of/);
    badSpec({ ...V1, scaleFlags: 'lanczos' } as unknown as ClipDecodeSpec, /scaleFlags/);
    badSpec({ ...V1, frameTimes: 'last' } as unknown as ClipDecodeSpec, /frameTimes/);
  });
});

describe('decode variants: argument lists (the same as decode.py)', () => {
  test('filters: squash is one scale, bicubic replaces every flags=area', () => {
    assert.equal(videoFilter(48, 32, 'squash', 'bicubic'), 'scale=48:32:flags=bicubic');
    assert.equal(videoFilter(48, 32, 'squash'), 'scale=48:32:flags=area');
    assert.equal(
      videoFilter(64, 64, 'cover-center-crop', 'bicubic'),
      'scale=iw*sar:ih:flags=bicubic,setsar=1,' +
        'scale=64:64:force_original_aspect_ratio=increase:flags=bicubic,crop=64:64',
    );
    assert.equal(videoFilter(64, 64), videoFilter(64, 64, 'cover-center-crop', 'area'));
  });

  test('every variant: the first frame without a seek, the audio from the start', () => {
    const plan = new DecodePlan(CLIP, probe, ALL);
    assert.deepEqual(plan.frameTimes, [0]);
    assert.equal(plan.audioStartSeconds, 0);
    assert.equal(plan.oneProcessFrames, false);
    assert.deepEqual(plan.frameArgs(0, true), [
      ...['-v', 'error', '-nostdin', '-i', CLIP, '-frames:v', '1'],
      ...['-vf', 'scale=48:32:flags=bicubic', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'],
    ]);
    assert.deepEqual(plan.audioArgs(), [
      ...['-v', 'error', '-nostdin', '-i', CLIP, '-t', '2.000000'],
      ...['-vn', '-ac', '1', '-ar', '16000', '-f', 'f32le', '-'],
    ]);
    assert.throws(
      () => plan.frameArgs(0, false),
      (e) => isDecodeError(e, 'BAD_SPEC'),
    );
    assert.deepEqual(audioArgs(CLIP, null, 2, 16000), plan.audioArgs());
    assert.deepEqual(
      frameArgs(CLIP, null, 48, 32, true, 'scale=48:32:flags=bicubic'),
      plan.frameArgs(0, true),
    );
  });

  test('midpoints with squash and bicubic: sought frames, one process, the centred window', () => {
    const spec: ClipDecodeSpec = { ...V1, frames: 2, resize: 'squash', scaleFlags: 'bicubic' };
    const plan = new DecodePlan(CLIP, probe, spec);
    assert.deepEqual(plan.frameTimes, [1.5, 4.5]);
    assert.equal(plan.audioStartSeconds, 2);
    assert.equal(plan.oneProcessFrames, true);
    const vf = 'scale=64:64:flags=bicubic';
    assert.deepEqual(plan.frameArgs(4.5, true), [
      ...['-v', 'error', '-nostdin', '-ss', '4.500000', '-i', CLIP, '-frames:v', '1'],
      ...['-vf', vf, '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'],
    ]);
    assert.deepEqual(plan.frameArgs(4.5, false).slice(3, 5), ['-ss', '5.500000']);
    assert.deepEqual(plan.framesArgs(['/t/0.rgb', '/t/1.rgb']), [
      ...['-v', 'error', '-nostdin', '-ss', '1.500000', '-i', CLIP, '-ss', '4.500000', '-i', CLIP],
      ...['-map', '0:0', '-frames:v', '1', '-vf', vf, '-pix_fmt', 'rgb24', '-f', 'rawvideo'],
      ...['/t/0.rgb', '-map', '1:0', '-frames:v', '1', '-vf', vf, '-pix_fmt', 'rgb24'],
      ...['-f', 'rawvideo', '/t/1.rgb'],
    ]);
    assert.deepEqual(plan.audioArgs().slice(3, 5), ['-ss', '2.000000']);
  });

  test('"from-start" with a fixed length: no -ss, the window as -t', () => {
    const plan = new DecodePlan(CLIP, probe, { ...V1, samples: 16000, audioWindow: 'from-start' });
    assert.equal(plan.audioStartSeconds, 0);
    assert.deepEqual(plan.audioArgs().slice(0, 7), [
      ...['-v', 'error', '-nostdin', '-i', CLIP, '-t', '1.000000'],
    ]);
  });

  test('contract 1 is unchanged: the v1 lists of decodeSpec.test.ts', () => {
    const plan = new DecodePlan(CLIP, probe, V1);
    assert.deepEqual(plan.frameArgs(0.75, true), frameArgs(CLIP, 0.75, 64, 64, true));
    assert.deepEqual(plan.audioArgs(), audioArgs(CLIP, 2, 2, 16000));
  });
});

/** Float32 little-endian bytes of `values`. */
function pcm(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

describe('decode variants: the audio window', () => {
  test('fixed: S samples, zero-padded; variable: what arrived, capped, padded to minSamples', () => {
    assert.deepEqual(audioWindow(pcm([1, 2, 3]), 5), Float32Array.from([1, 2, 3, 0, 0]));
    assert.deepEqual(audioWindow(pcm([1, 2, 3]), 5, 2), Float32Array.from([1, 2, 3]));
    assert.deepEqual(audioWindow(pcm([1, 2, 3]), 5, 4), Float32Array.from([1, 2, 3, 0]));
    assert.deepEqual(
      audioWindow(pcm([1, 2, 3, 4, 5, 6]), 5, 2),
      Float32Array.from([1, 2, 3, 4, 5]),
    );
    assert.deepEqual(audioWindow(new Uint8Array(6), 5, 2), Float32Array.from([0, 0]));
  });

  test('DecodePlan keeps the variable length', () => {
    const plan = new DecodePlan(CLIP, probe, { ...ALL, samples: 4, minSamples: 2 });
    plan.setAudio(pcm([0.5]));
    assert.deepEqual(plan.clip('system').audio, Float32Array.from([0.5, 0]));
    plan.setAudio(pcm([1, 2, 3, 4, 5]));
    assert.deepEqual(plan.clip('system').audio, Float32Array.from([1, 2, 3, 4]));
  });

  test('silence for a clip without audio: S, or clamp(round(D · rate), minSamples, samples)', () => {
    assert.equal(silenceSamples(V1, 0.1), 32000);
    assert.equal(silenceSamples(ALL, 1.25), 20000);
    assert.equal(silenceSamples(ALL, 0.1), 8000);
    assert.equal(silenceSamples(ALL, 60), 32000);
    // round() ties to even, as Python's: 0.5 s at 9 Hz = 4.5 → 4; 1.5 s at 9 Hz = 13.5 → 14.
    const nine = { ...ALL, sampleRateHz: 9, samples: 100, minSamples: 1 };
    assert.equal(silenceSamples(nine, 0.5), 4);
    assert.equal(silenceSamples(nine, 1.5), 14);
    assert.deepEqual(silentAudio(ALL, 1.25), new Float32Array(20000));
  });
});

describe('decode variants: the decode worker messages', () => {
  const job = { path: CLIP, core: { script: 's', wasm: 'w' }, maxFileBytes: 1 };
  const reply = (spec: ClipDecodeSpec, samples: number) => ({
    kind: 'decoded',
    clip: {
      specName: 'mosear-decode-1',
      spec,
      backend: 'wasm',
      source: probe,
      frames: new Float32Array(spec.frames * 3 * spec.height * spec.width),
      audio: new Float32Array(samples),
      frameTimesSeconds: [0],
      frameFromTail: [false],
      audioStartSeconds: 0,
    },
    timings: { probeMs: 0, framesMs: 0, audioMs: 0, commands: 3 },
  });

  test('a request carries the variant fields; unknown values are refused', () => {
    const request = parseWasmWorkerRequest({ ...job, kind: 'decode', spec: ALL });
    assert.deepEqual(request.kind === 'decode' && request.spec, ALL);
    assert.throws(
      () => parseWasmWorkerRequest({ ...job, kind: 'decode', spec: { ...ALL, resize: 'fit' } }),
      /resize/,
    );
  });

  test('a decode request may say how frames are read (absent: one command); others are refused', () => {
    for (const frameDecode of ['one-process', 'per-frame'] as const) {
      const request = parseWasmWorkerRequest({ ...job, kind: 'decode', spec: V1, frameDecode });
      assert.equal(request.kind === 'decode' && request.frameDecode, frameDecode);
    }
    const plain = parseWasmWorkerRequest({ ...job, kind: 'decode', spec: V1 });
    assert.ok(plain.kind === 'decode' && !('frameDecode' in plain));
    assert.throws(
      () => parseWasmWorkerRequest({ ...job, kind: 'decode', spec: V1, frameDecode: 'select' }),
      /frameDecode/,
    );
  });

  test('a variable-length reply holds minSamples..samples values; a fixed one exactly S', () => {
    const spec = { ...ALL, samples: 100, minSamples: 10 };
    for (const n of [10, 57, 100]) parseWasmWorkerReply(reply(spec, n), spec);
    for (const n of [9, 101]) {
      assert.throws(() => parseWasmWorkerReply(reply(spec, n), spec), /10 to 100 values/);
    }
    const fixed = { ...V1, frames: 1, height: 2, width: 2, samples: 100 };
    parseWasmWorkerReply(reply(fixed, 100), fixed);
    assert.throws(() => parseWasmWorkerReply(reply(fixed, 57), fixed), /100 values/);
  });
});
