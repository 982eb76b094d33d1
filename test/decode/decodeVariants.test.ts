// The contract 1.1 decode variants (CONTRACT.md §6 step 5) on generated clips: the first frame,
// squash, bicubic, the audio window from the start and a variable audio length; per-frame and
// one-process reads (both decoders), the ffmpeg.wasm decoder and models/mosear/decode.py give the
// same tensors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  silenceSamples,
  type ClipDecodeSpec,
  type DecodedClip,
} from '../../src/core/decode/clipDecoder';
import { SystemFfmpegDecoder } from '../../src/core/decode/systemFfmpegDecoder';
import { WasmFfmpegDecoder } from '../../src/core/decode/wasmFfmpegDecoder';
import {
  CONTAINER_CASES,
  DECODE_SPEC as SPEC,
  SINE_RMS,
  WASM_WORKER,
  levelToIndex,
  makeAnamorphic,
  makeContainerCase,
  makeOddSizes,
  makeShort,
  makeStripes,
  makeToneAtStart,
  makeVideoOnly,
} from '../fixtures/decodeClips';
import { REPO_ROOT } from '../helpers/golden';
import { scratchDir } from '../helpers/tempFiles';

const dir = scratchDir('decode-variants');
const system = new SystemFfmpegDecoder();
const perFrame = new SystemFfmpegDecoder({ frameDecode: 'per-frame' });

const FIRST: ClipDecodeSpec = { ...SPEC, frames: 1, frameTimes: 'first' };
const SQUASH: ClipDecodeSpec = { ...SPEC, resize: 'squash' };
const BICUBIC: ClipDecodeSpec = { ...SPEC, scaleFlags: 'bicubic' };
const FROM_START: ClipDecodeSpec = { ...SPEC, samples: 16000, audioWindow: 'from-start' };
const VARIABLE: ClipDecodeSpec = {
  ...SPEC,
  audioWindow: 'from-start',
  audioLength: 'variable',
  minSamples: 12000,
};
/** Every variant at once, as Emotion-LLaMA's preprocessing wants them. */
const ALL: ClipDecodeSpec = {
  frames: 1,
  height: 32,
  width: 32,
  sampleRateHz: 16000,
  samples: 48000,
  frameTimes: 'first',
  resize: 'squash',
  scaleFlags: 'bicubic',
  audioWindow: 'from-start',
  audioLength: 'variable',
  minSamples: 4000,
};
const VARIANTS: [string, ClipDecodeSpec][] = [
  ['first', FIRST],
  ['squash', SQUASH],
  ['bicubic', BICUBIC],
  ['from-start', FROM_START],
  ['variable', VARIABLE],
  ['all', ALL],
];

/** Mean of channel c of frame f over [y0, y1) × [x0, x1). */
function regionMean(clip: DecodedClip, f: number, c: number, [y0, y1, x0, x1]: number[]): number {
  const { height: h, width: w } = clip.spec;
  let sum = 0;
  for (let y = y0!; y < y1!; y++) {
    for (let x = x0!; x < x1!; x++) sum += clip.frames[((f * 3 + c) * h + y) * w + x]!;
  }
  return sum / ((y1! - y0!) * (x1! - x0!));
}

/** [R, G, B] means of frame 0 over columns [x0, x1), all rows. */
const colour = (clip: DecodedClip, x0: number, x1: number): number[] =>
  [0, 1, 2].map((c) => regionMean(clip, 0, c, [0, clip.spec.height, x0, x1]));

const is = (rgb: number[], want: [number, number, number]): boolean =>
  rgb.every((v, i) => Math.abs(v - want[i]!) < 0.2);

function rms(audio: Float32Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += audio[i]! ** 2;
  return Math.sqrt(sum / (to - from));
}

/** One past the last non-zero sample. */
function audibleLength(audio: Float32Array): number {
  let n = audio.length;
  while (n > 0 && audio[n - 1] === 0) n -= 1;
  return n;
}

const clips = new Map<string, string>();
before(() => {
  clips.set('index', makeContainerCase(dir, CONTAINER_CASES[0]!));
  clips.set('stripes', makeStripes(dir));
  clips.set('tone', makeToneAtStart(dir));
  clips.set('short', makeShort(dir));
  clips.set('odd', makeOddSizes(dir)[0]!);
  clips.set('silent', makeVideoOnly(dir));
});
const clip = (name: string): string => clips.get(name)!;

describe('frameTimes "first"', () => {
  test('frame 0 of the index-coded clip, read without a seek, reported at 0 s', async () => {
    for (const name of ['index', 'tone']) {
      const decoded = await system.decode(clip(name), FIRST);
      assert.equal(decoded.frames.length, 3 * 64 * 64);
      assert.deepEqual(decoded.frameTimesSeconds, [0]);
      assert.deepEqual(decoded.frameFromTail, [false]);
      const level = regionMean(decoded, 0, 1, [0, 64, 0, 64]) * 255;
      assert.ok(levelToIndex(level) === 0, `${name}: level ${level}`);
      assert.equal(decoded.timings.processes, 3); // ffprobe, the frame, the audio
    }
    // One midpoint frame of the same 2 s clip is frame 10 (t = 1 s), not frame 0.
    const middle = await system.decode(clip('index'), { ...SPEC, frames: 1 });
    assert.equal(levelToIndex(regionMean(middle, 0, 1, [0, 64, 0, 64]) * 255), 10);
  });
});

describe('resize "squash"', () => {
  test('the whole picture is kept: a cover crop shows only the middle stripe', async () => {
    const cover = await system.decode(clip('stripes'), SPEC);
    const squash = await system.decode(clip('stripes'), SQUASH);
    const green: [number, number, number] = [0, 1, 0];
    assert.ok(is(colour(cover, 2, 18), green) && is(colour(cover, 46, 62), green));
    assert.ok(is(colour(squash, 2, 18), [1, 0, 0]), `left ${colour(squash, 2, 18).join()}`);
    assert.ok(is(colour(squash, 24, 40), green), `middle ${colour(squash, 24, 40).join()}`);
    assert.ok(is(colour(squash, 46, 62), [0, 0, 1]), `right ${colour(squash, 46, 62).join()}`);
  });

  test('squash resizes the stored picture: non-square pixels are not made square', async () => {
    // Stored 64×64 as red, green, blue, white columns of 16 (SAR 2:1): all four stay visible.
    const squash = await system.decode(makeAnamorphic(dir), SQUASH);
    assert.ok(is(colour(squash, 2, 14), [1, 0, 0]), `left ${colour(squash, 2, 14).join()}`);
    assert.ok(is(colour(squash, 50, 62), [1, 1, 1]), `right ${colour(squash, 50, 62).join()}`);
  });
});

describe('scaleFlags "bicubic"', () => {
  test('bicubic differs from area on a scaled picture', async () => {
    for (const [area, bicubic] of [
      [SPEC, BICUBIC],
      [SQUASH, { ...SQUASH, scaleFlags: 'bicubic' } as ClipDecodeSpec],
    ] as const) {
      const a = await system.decode(clip('odd'), area);
      const b = await system.decode(clip('odd'), bicubic);
      let differing = 0;
      for (let i = 0; i < a.frames.length; i++) if (a.frames[i] !== b.frames[i]) differing += 1;
      assert.ok(differing > a.frames.length / 100, `${differing} values differ`);
    }
  });
});

describe('audioWindow "from-start"', () => {
  test('the window starts at 0 s: a tone in the first second is heard, the centred window misses it', async () => {
    const fromStart = await system.decode(clip('tone'), FROM_START);
    assert.equal(fromStart.audioStartSeconds, 0);
    assert.equal(fromStart.audio?.length, 16000);
    const level = rms(fromStart.audio, 1000, 15000);
    assert.ok(Math.abs(level / SINE_RMS - 1) < 0.02, `RMS ${level}`);
    const centred = await system.decode(clip('tone'), { ...FROM_START, audioWindow: 'centered' });
    assert.equal(centred.audioStartSeconds, 1.5);
    assert.ok(rms(centred.audio!, 0, 16000) < 1e-3);
  });
});

describe('audioLength "variable"', () => {
  test('a clip shorter than the cap gives its own samples; fewer than minSamples are padded', async () => {
    // 0.5 s of tone: 8000 samples at 16 kHz.
    const padded = await system.decode(clip('short'), VARIABLE);
    assert.equal(padded.audio?.length, 12000);
    const heard = audibleLength(padded.audio);
    assert.ok(Math.abs(heard - 8000) <= 64, `${heard} samples of tone`);
    const own = await system.decode(clip('short'), { ...VARIABLE, minSamples: 1000 });
    assert.ok(Math.abs(own.audio!.length - 8000) <= 64, `${own.audio!.length} samples`);
    assert.deepEqual(own.audio, padded.audio.subarray(0, own.audio!.length));
    // 4 s of 16 kHz PCM: exactly 64000 samples under a larger cap.
    const whole = await system.decode(clip('tone'), { ...VARIABLE, samples: 80000 });
    assert.equal(whole.audio?.length, 64000);
  });

  test('a clip longer than the cap is cut to the cap', async () => {
    const capped = await system.decode(clip('tone'), VARIABLE);
    assert.equal(capped.audio?.length, 32000);
    const fixed = await system.decode(clip('tone'), { ...FROM_START, samples: 32000 });
    assert.deepEqual(capped.audio, fixed.audio);
  });

  test('no audio stream: no tensor; the silence is clamp(round(D · rate), minSamples, samples)', async () => {
    const decoded = await system.decode(clip('silent'), VARIABLE);
    assert.equal(decoded.audio, null);
    const d = decoded.source.durationSeconds;
    assert.equal(d, 2);
    assert.equal(silenceSamples(VARIABLE, d), 32000);
    assert.equal(silenceSamples({ ...VARIABLE, samples: 48000 }, d), 32000);
    assert.equal(silenceSamples({ ...VARIABLE, samples: 16000, minSamples: 8000 }, d), 16000);
    assert.equal(silenceSamples({ ...VARIABLE, samples: 48000, minSamples: 40000 }, d), 40000);
    assert.equal(silenceSamples(SPEC, d), 32000);
  });
});

describe('per frame and one process: identical tensors for every variant', () => {
  for (const [name, spec] of VARIANTS) {
    test(name, async () => {
      for (const c of ['index', 'odd', 'short']) {
        const one = await system.decode(clip(c), spec);
        const each = await perFrame.decode(clip(c), spec);
        assert.deepEqual(one.frames, each.frames, c);
        assert.deepEqual(one.audio, each.audio, c);
        assert.deepEqual(one.frameFromTail, each.frameFromTail, c);
        assert.deepEqual(one.frameTimesSeconds, each.frameTimesSeconds, c);
      }
    });
  }
});

describe('ffmpeg.wasm and the system ffmpeg agree bit for bit on every variant', () => {
  const wasm = new WasmFfmpegDecoder({ workerScript: WASM_WORKER });
  const wasmPerFrame = new WasmFfmpegDecoder({
    workerScript: WASM_WORKER,
    frameDecode: 'per-frame',
  });
  // 32×32 from 96×64 and 192×64 clips: swscale scales, where both builds give the same bytes
  // (decodeWasm.test.ts); the tone clip's audio is 16 kHz PCM, so nothing is resampled.
  for (const [name, spec] of VARIANTS) {
    test(name, async () => {
      const small = { ...spec, height: 32, width: 32 };
      for (const c of ['tone', 'stripes']) {
        const [s, w] = [await system.decode(clip(c), small), await wasm.decode(clip(c), small)];
        assert.equal(w.backend, 'wasm');
        assert.deepEqual(w.frames, s.frames, `${c}: frames`);
        assert.deepEqual(w.audio, s.audio, `${c}: audio`);
        assert.deepEqual(w.frameTimesSeconds, s.frameTimesSeconds);
        assert.equal(w.audioStartSeconds, s.audioStartSeconds);
        assert.deepEqual(w.spec, s.spec);
        // wasm all frames in one command (sought frames) against one command per frame
        const each = await wasmPerFrame.decode(clip(c), small);
        assert.deepEqual(each.frames, w.frames, `${c}: frames, wasm per frame`);
        assert.deepEqual(each.audio, w.audio, `${c}: audio, wasm per frame`);
        const oneCommand = spec.frameTimes !== 'first';
        assert.equal(w.timings.commands! < each.timings.commands!, oneCommand, `${c}: commands`);
      }
    });
  }
});

/** /usr/bin/python3 (or MOSEAR_PYTHON) with numpy, as the python tier runs; undefined when absent. */
function python(): string | undefined {
  const exe = process.env.MOSEAR_PYTHON ?? '/usr/bin/python3';
  if (!existsSync(exe)) return undefined;
  try {
    execFileSync(exe, ['-c', 'import numpy'], { stdio: 'ignore' });
    return exe;
  } catch {
    return undefined;
  }
}

/** decode.py's DecodeSpec fields for a ClipDecodeSpec. */
function pythonSpec(spec: ClipDecodeSpec): Record<string, unknown> {
  const names: Record<string, string> = {
    sampleRateHz: 'sample_rate_hz',
    frameTimes: 'frame_times',
    scaleFlags: 'scale_flags',
    audioWindow: 'audio_window',
    audioLength: 'audio_length',
    minSamples: 'min_samples',
  };
  return Object.fromEntries(Object.entries(spec).map(([k, v]) => [names[k] ?? k, v]));
}

/** Little-endian float32 file contents. */
const f32 = (path: string): Float32Array => {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
};

describe('models/mosear/decode.py gives the same tensors', () => {
  const exe = python();
  for (const [name, spec] of VARIANTS) {
    test(name, { skip: exe === undefined && 'python3 with numpy is not installed' }, async () => {
      for (const c of ['index', 'short']) {
        const ts = await system.decode(clip(c), spec);
        const prefix = join(dir, `py-${name}-${c}`);
        execFileSync(
          exe!,
          [
            ...['-m', 'mosear.decode', '--spec', JSON.stringify(pythonSpec(spec))],
            ...['--write', prefix, clip(c)],
          ],
          { cwd: join(REPO_ROOT, 'models'), stdio: ['ignore', 'ignore', 'pipe'] },
        );
        assert.deepEqual(f32(`${prefix}.frames.f32`), ts.frames, `${c}: frames`);
        assert.deepEqual(f32(`${prefix}.audio.f32`), ts.audio, `${c}: audio`);
      }
    });
  }
});
