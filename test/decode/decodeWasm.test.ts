// The ffmpeg.wasm decoder against the system-ffmpeg decoder on the clips the decode tests
// generate: the same probe, frame times and tail choices, tensors within a stated tolerance,
// and each result says which backend made it (no silent fallback).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { ClipDecodeSpec, DecodedClip } from '../../src/core/decode/clipDecoder';
import { frameArgs } from '../../src/core/decode/mosearDecode1';
import { SystemFfmpegDecoder } from '../../src/core/decode/systemFfmpegDecoder';
import { WasmFfmpegDecoder } from '../../src/core/decode/wasmFfmpegDecoder';
import {
  CONTAINER_CASES,
  DECODE_SPEC as SPEC,
  WASM_WORKER,
  makeAnamorphic,
  makeContainerCase,
  makeLong,
  makeOddSizes,
  makeOneFrame,
  makeRotated,
  makeShort,
  makeVfr,
  makeVideoOnly,
} from '../fixtures/decodeClips';
import { scratchDir } from '../helpers/tempFiles';

/**
 * Measured with Debian's ffmpeg 5.1.9 (x86 SIMD) against @ffmpeg/core 0.12.10 (ffmpeg 5.1.4, C
 * only): frames are bit-identical whenever swscale scales (the sample clips, the test split);
 * when the picture needs no scaling (these 96×64 clips covering 64×64), swscale's x86 unscaled
 * yuv→rgb path rounds differently and levels differ by 1, at most 2 (the system ffmpeg with
 * `-cpuflags 0` matches wasm exactly). Audio differs by ≤ 2e-7 (SIMD float resampling).
 */
/** In 8-bit levels (the tensors hold level / 255 as float32, so compare rounded levels). */
const FRAME_TOLERANCE_LEVELS = 2;
const AUDIO_TOLERANCE = 1e-6;

const dir = scratchDir('decode-wasm');
const system = new SystemFfmpegDecoder();
const wasm = new WasmFfmpegDecoder({ workerScript: WASM_WORKER });

/** Largest |a − b| and how many elements differ at all. */
function difference(a: Float32Array, b: Float32Array): { max: number; differing: number } {
  assert.equal(a.length, b.length);
  let max = 0;
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > 0) differing += 1;
    max = Math.max(max, d);
  }
  return { max, differing };
}

/** Both backends' decodes of each clip at SPEC, for the tests that look again. */
const decoded = new Map<string, { wasm: DecodedClip; system: DecodedClip }>();

/** Decodes with both backends and checks everything but the timings agree. */
async function compareBackends(
  path: string,
  spec: ClipDecodeSpec = SPEC,
): Promise<{ wasm: DecodedClip; system: DecodedClip; note: string }> {
  const [s, w] = [await system.decode(path, spec), await wasm.decode(path, spec)];
  if (spec === SPEC) decoded.set(path, { wasm: w, system: s });
  assert.equal(s.backend, 'system');
  assert.equal(w.backend, 'wasm');
  assert.equal(w.timings.processes, 1);
  assert.deepEqual(w.source, s.source, 'probe');
  assert.deepEqual(w.frameTimesSeconds, s.frameTimesSeconds, 'frame times');
  assert.deepEqual(w.frameFromTail, s.frameFromTail, 'tail rule');
  assert.equal(w.audioStartSeconds, s.audioStartSeconds, 'audio start');
  assert.deepEqual(w.spec, s.spec);
  assert.equal(w.specName, s.specName);
  const frames = difference(w.frames, s.frames);
  const levels = Math.round(frames.max * 255);
  assert.ok(levels <= FRAME_TOLERANCE_LEVELS, `frames differ by ${levels}/255`);
  assert.equal(w.audio === null, s.audio === null, 'audio presence');
  const audio = w.audio === null ? { max: 0, differing: 0 } : difference(w.audio, s.audio!);
  assert.ok(audio.max <= AUDIO_TOLERANCE, `audio differs by ${audio.max}`);
  const note =
    `frames max ${(frames.max * 255).toFixed(0)}/255 (${frames.differing} of ${w.frames.length} values differ), ` +
    `audio max ${audio.max.toExponential(2)} (${audio.differing} differ); ` +
    `wasm ${w.timings.totalMs.toFixed(0)} ms (start ${w.timings.startMs?.toFixed(0)}), system ${s.timings.totalMs.toFixed(0)} ms`;
  return { wasm: w, system: s, note };
}

describe('ffmpeg.wasm vs system ffmpeg', () => {
  const containers = new Map<string, string>();
  before(() => {
    for (const c of CONTAINER_CASES) {
      if (c.name !== 'index.m4v') containers.set(c.name, makeContainerCase(dir, c));
    }
  });

  // index.m4v is index.mp4 under another name: the system tests cover it.
  for (const c of CONTAINER_CASES.filter((k) => k.name !== 'index.m4v')) {
    test(`${c.name} (${c.videoCodec} + ${c.audioCodec})`, async (t) => {
      const { note } = await compareBackends(containers.get(c.name)!);
      t.diagnostic(note);
    });
  }

  const cases: [string, () => string | string[]][] = [
    ['variable frame rate (mkv, no audio)', () => makeVfr(dir)],
    ['0.5 s clip: tail rule and zero-padded audio', () => makeShort(dir)],
    ['one-frame clip: every time from the tail', () => makeOneFrame(dir)],
    ['rotation 90° (display matrix)', () => makeRotated(dir, 90)],
    ['odd sizes 97×61 (h264 4:4:4 mp4, mpeg4 avi)', () => makeOddSizes(dir)],
    ['non-square pixels (SAR 2:1)', () => makeAnamorphic(dir)],
    ['no audio stream', () => makeVideoOnly(dir)],
    ['60 s clip: seeks deep into the file, centred audio window', () => makeLong(dir)],
  ];
  for (const [name, make] of cases) {
    test(name, async (t) => {
      const made = make();
      for (const path of Array.isArray(made) ? made : [made]) {
        const { note } = await compareBackends(path);
        t.diagnostic(`${path.slice(dir.length + 1)}: ${note}`);
      }
    });
  }

  test('another spec size: 3 frames of 48×32, a 1 s window', async (t) => {
    const spec = { frames: 3, height: 32, width: 48, sampleRateHz: 16000, samples: 16000 };
    const { wasm: w, note } = await compareBackends(containers.get('index.mov')!, spec);
    assert.equal(w.frames.length, 3 * 3 * 32 * 48);
    t.diagnostic(note);
  });

  test('the wasm decoder is deterministic and probes like the system one', async () => {
    const path = containers.get('index.mp4')!;
    const [a, b] = [decoded.get(path)!.wasm, await wasm.decode(path, SPEC)];
    assert.deepEqual(a.frames, b.frames);
    assert.deepEqual(a.audio, b.audio);
    assert.deepEqual(await wasm.probe(path), await system.probe(path));
  });

  test('the frame differences are the system ffmpeg’s x86 SIMD: with -cpuflags 0 it gives wasm’s bytes', () => {
    const path = join(dir, 'vfr.mkv');
    const { system: s, wasm: w } = decoded.get(path)!;
    assert.ok(
      difference(w.frames, s.frames).max > 0,
      'this clip is one where SIMD rounds differently',
    );
    const plane = 3 * SPEC.height * SPEC.width;
    for (const [i, t] of w.frameTimesSeconds.entries()) {
      const args = frameArgs(path, t, SPEC.width, SPEC.height, true);
      const rgb = execFileSync('ffmpeg', ['-cpuflags', '0', ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const chw = new Float32Array(plane);
      for (let p = 0; p < SPEC.height * SPEC.width; p++) {
        for (let c = 0; c < 3; c++) chw[c * SPEC.height * SPEC.width + p] = rgb[3 * p + c]! / 255;
      }
      assert.deepEqual(w.frames.subarray(i * plane, (i + 1) * plane), chw, `frame ${i}`);
    }
  });
});
