// The system-ffmpeg decoder on clips generated here with ffmpeg: containers and codecs, frame
// times, rotation, odd sizes, VFR, long clips, bad input, awkward names, cancellation.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DecodedClip } from '../../src/core/decode/clipDecoder';
import { isDecodeError, type DecodeErrorCode } from '../../src/core/decode/decodeError';
import {
  SystemFfmpegDecoder,
  type DecodeProcessEvent,
} from '../../src/core/decode/systemFfmpegDecoder';
import {
  AWKWARD_NAMES,
  CONTAINER_CASES,
  DECODE_SPEC as SPEC,
  ffmpegMake,
  SINE_RMS,
  VFR_PTS_MS,
  levelToIndex,
  makeAnamorphic,
  makeAudioOnly,
  makeContainerCase,
  makeGarbage,
  makeLong,
  makeOddSizes,
  makeOneFrame,
  makeRotated,
  makeShort,
  makeTruncated,
  makeVfr,
  makeVideoOnly,
} from '../fixtures/decodeClips';

const dir = mkdtempSync(join(tmpdir(), 'decode-clips-'));
const decoder = new SystemFfmpegDecoder();
after(() => rmSync(dir, { recursive: true, force: true }));

/** Value of channel c at (y, x) of frame f, in [0, 1]. */
function pixel(clip: DecodedClip, f: number, c: number, y: number, x: number): number {
  const { height: h, width: w } = clip.spec;
  return clip.frames[((f * 3 + c) * h + y) * w + x]!;
}

/** Mean of channel c (or all channels) of frame f over a rectangle [y0, y1) × [x0, x1). */
function regionMean(
  clip: DecodedClip,
  f: number,
  c: number | 'all',
  [y0, y1, x0, x1] = [0, clip.spec.height, 0, clip.spec.width],
): number {
  let sum = 0;
  let count = 0;
  for (const ch of c === 'all' ? [0, 1, 2] : [c]) {
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        sum += pixel(clip, f, ch, y, x);
        count += 1;
      }
    }
  }
  return sum / count;
}

/** Source frame indices of the index-coded clips, read back from each frame's grey level. */
const frameIndices = (clip: DecodedClip): number[] =>
  clip.frameTimesSeconds.map((_, f) => levelToIndex(regionMean(clip, f, 'all') * 255));

/** RMS of audio[from, to). */
function rms(audio: Float32Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += audio[i]! ** 2;
  return Math.sqrt(sum / (to - from));
}

/** Frequency estimated from sign changes over audio[from, to). */
function frequencyHz(audio: Float32Array, from: number, to: number, rateHz: number): number {
  let crossings = 0;
  for (let i = from + 1; i < to; i++) if (audio[i - 1]! < 0 !== audio[i]! < 0) crossings += 1;
  return crossings / 2 / ((to - from) / rateHz);
}

/** Checks the common shape and range invariants of a decode. */
function assertWellFormed(clip: DecodedClip, spec = SPEC): void {
  assert.equal(clip.frames.length, spec.frames * 3 * spec.height * spec.width);
  assert.equal(clip.frameTimesSeconds.length, spec.frames);
  assert.equal(clip.frameFromTail.length, spec.frames);
  for (const v of clip.frames) assert.ok(v >= 0 && v <= 1, `frame value ${v} outside [0, 1]`);
  if (clip.audio !== null) {
    assert.equal(clip.audio.length, spec.samples);
    for (const v of clip.audio) assert.ok(Number.isFinite(v) && Math.abs(v) <= 1.5, `sample ${v}`);
  }
  assert.equal(clip.backend, 'system');
  assert.equal(clip.specName, 'mosear-decode-1');
  assert.equal(clip.audio === null, clip.source.audio === null);
}

/** Asserts a promise rejects with a DecodeError of `code` whose message names the file and has no stack. */
async function assertDecodeError(
  promise: Promise<unknown>,
  code: DecodeErrorCode,
  mentions?: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isDecodeError(error), `expected a DecodeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (mentions !== undefined) assert.ok(error.message.includes(mentions), error.message);
    assert.doesNotMatch(error.message, /\n\s+at /, 'message must not carry a stack trace');
    return true;
  });
}

/** First frame index n of a 10 fps clip with pts n/10 ≥ t (t as the 6-decimal seek string says). */
const firstFrameAtOrAfter = (t: number): number => Math.ceil(Math.round(t * 1e6) / 1e5);

describe('containers and codecs', () => {
  const clips = new Map<string, string>();
  before(() => {
    for (const c of CONTAINER_CASES) clips.set(c.name, makeContainerCase(dir, c));
  });

  for (const c of CONTAINER_CASES) {
    test(`${c.name} (${c.videoCodec} + ${c.audioCodec}): frames at the midpoints, the tone in the window`, async () => {
      const clip = await decoder.decode(clips.get(c.name)!, SPEC);
      assertWellFormed(clip);
      assert.equal(clip.source.video.codec, c.videoCodec);
      assert.equal(clip.source.audio?.codec, c.audioCodec);
      assert.ok(
        Math.abs(clip.source.durationSeconds - 2) < 0.05,
        `D = ${clip.source.durationSeconds}`,
      );
      assert.deepEqual(
        clip.frameTimesSeconds,
        [0.5, 1.5, 2.5, 3.5].map((k) => (k * clip.source.durationSeconds) / 4),
      );
      assert.deepEqual(frameIndices(clip), clip.frameTimesSeconds.map(firstFrameAtOrAfter));
      assert.deepEqual(clip.frameFromTail, [false, false, false, false]);
      const audio = clip.audio!;
      const level = rms(audio, 4000, 28000);
      assert.ok(Math.abs(level / SINE_RMS - 1) < 0.1, `RMS ${level} vs ${SINE_RMS}`);
      const hz = frequencyHz(audio, 4000, 28000, SPEC.sampleRateHz);
      assert.ok(Math.abs(hz - 440) < 5, `frequency ${hz} Hz`);
    });
  }

  test('decoding is deterministic: the same file and spec give identical tensors', async () => {
    const path = clips.get('index.mp4')!;
    const [a, b] = [await decoder.decode(path, SPEC), await decoder.decode(path, SPEC)];
    assert.deepEqual(a.frames, b.frames);
    assert.deepEqual(a.audio, b.audio);
  });

  test('other spec sizes: 3 frames of 48×32 and a 1 s window', async () => {
    const spec = { frames: 3, height: 32, width: 48, sampleRateHz: 16000, samples: 16000 };
    const clip = await decoder.decode(clips.get('index.mov')!, spec);
    assertWellFormed(clip, spec);
    assert.deepEqual(frameIndices(clip), clip.frameTimesSeconds.map(firstFrameAtOrAfter));
    assert.equal(clip.audioStartSeconds, 0.5);
  });

  test('processes run at most maxParallelProcesses at a time', async () => {
    for (const limit of [1, 2]) {
      let running = 0;
      let peak = 0;
      const bounded = new SystemFfmpegDecoder({
        maxParallelProcesses: limit,
        onProcess: (e) => {
          running += e.phase === 'start' ? 1 : -1;
          peak = Math.max(peak, running);
        },
      });
      const clip = await bounded.decode(clips.get('index.mp4')!, SPEC);
      assert.equal(peak, limit);
      assert.equal(clip.timings.processes, 3); // ffprobe, all frames, audio
    }
    const perFrame = new SystemFfmpegDecoder({ frameDecode: 'per-frame' });
    const clip = await perFrame.decode(clips.get('index.mp4')!, SPEC);
    assert.equal(clip.timings.processes, 6); // ffprobe, 4 frames, audio
  });
});

describe('frame times and the tail rule', () => {
  test('variable frame rate: each frame is the first with pts ≥ tᵢ', async () => {
    const clip = await decoder.decode(makeVfr(dir), SPEC);
    assertWellFormed(clip);
    assert.equal(clip.audio, null);
    const expected = clip.frameTimesSeconds.map((t) =>
      VFR_PTS_MS.findIndex((ms) => ms * 1000 >= Math.round(t * 1e6)),
    );
    assert.deepEqual(expected, [7, 12, 15, 18]); // D = 1.91 s
    assert.deepEqual(frameIndices(clip), expected);
  });

  test('a seek past the last frame takes the last frame of the final 0.5 s; short audio is zero-padded', async () => {
    const clip = await decoder.decode(makeShort(dir), SPEC);
    assertWellFormed(clip);
    assert.equal(clip.source.durationSeconds, 0.5);
    // t = 0.0625, 0.1875, 0.3125, 0.4375; the last frame is at 0.4 s (index 4).
    assert.deepEqual(frameIndices(clip), [1, 2, 4, 4]);
    assert.deepEqual(clip.frameFromTail, [false, false, false, true]);
    assert.equal(clip.audioStartSeconds, 0);
    const audio = clip.audio!;
    assert.ok(Math.abs(rms(audio, 1000, 7000) / SINE_RMS - 1) < 0.02);
    assert.ok(
      audio.subarray(8000).every((v) => v === 0),
      'window past the audio must be zeros',
    );
  });

  test('one-frame clip: every time falls back to the only frame', async () => {
    const clip = await decoder.decode(makeOneFrame(dir), SPEC);
    assertWellFormed(clip);
    assert.deepEqual(clip.frameFromTail, [true, true, true, true]);
    const size = 3 * 64 * 64;
    for (let f = 1; f < 4; f++) {
      assert.deepEqual(
        clip.frames.subarray(f * size, (f + 1) * size),
        clip.frames.subarray(0, size),
      );
    }
    assert.ok(regionMean(clip, 0, 'all') > 0.1, 'the frame must have content');
  });

  test('60 s clip: seeks land in the right seconds and the audio window is the centred one', async (t) => {
    const path = makeLong(dir);
    const clip = await decoder.decode(path, SPEC);
    assertWellFormed(clip);
    assert.equal(clip.source.durationSeconds, 60);
    assert.deepEqual(clip.frameTimesSeconds, [7.5, 22.5, 37.5, 52.5]);
    // Second k is grey 4k: seconds 7, 22, 37, 52.
    const levels = [0, 1, 2, 3].map((f) => regionMean(clip, f, 'all') * 255);
    for (const [f, second] of [7, 22, 37, 52].entries()) {
      assert.ok(
        Math.abs(levels[f]! - 4 * second) < 3,
        `frame ${f}: level ${levels[f]} ≠ ${4 * second}`,
      );
    }
    // Window 29–31 s: amplitude 0.29 then 0.30.
    assert.equal(clip.audioStartSeconds, 29);
    const audio = clip.audio!;
    assert.ok(Math.abs(rms(audio, 1000, 15000) / (0.29 / Math.SQRT2) - 1) < 0.03);
    assert.ok(Math.abs(rms(audio, 17000, 31000) / (0.3 / Math.SQRT2) - 1) < 0.03);
    t.diagnostic(`60 s clip decoded in ${clip.timings.totalMs.toFixed(0)} ms (informative only)`);
  });
});

describe('geometry', () => {
  /** Mean of R and B over the left/right/top/bottom halves of frame 0. */
  const halves = (
    clip: DecodedClip,
  ): Record<'left' | 'right' | 'top' | 'bottom', [number, number]> => {
    const at = (box: [number, number, number, number]): [number, number] => [
      regionMean(clip, 0, 0, box),
      regionMean(clip, 0, 2, box),
    ];
    return {
      left: at([0, 64, 0, 24]),
      right: at([0, 64, 40, 64]),
      top: at([0, 24, 0, 64]),
      bottom: at([40, 64, 0, 64]),
    };
  };
  const isRed = ([r, b]: [number, number]): boolean => r > 0.8 && b < 0.2;
  const isBlue = ([r, b]: [number, number]): boolean => b > 0.8 && r < 0.2;

  test('upright clip: red on top, blue at the bottom', async () => {
    const clip = await decoder.decode(makeRotated(dir, 0), SPEC);
    const h = halves(clip);
    assert.ok(isRed(h.top) && isBlue(h.bottom), JSON.stringify(h));
    assert.equal(clip.source.video.rotationDegrees, 0);
  });

  test('display-matrix rotation is applied: 90° counterclockwise puts the top on the left', async () => {
    const clip = await decoder.decode(makeRotated(dir, 90), SPEC);
    const h = halves(clip);
    assert.ok(isRed(h.left) && isBlue(h.right), JSON.stringify(h));
    assert.equal(clip.source.video.rotationDegrees, 90);
    assert.deepEqual([clip.source.video.displayWidth, clip.source.video.displayHeight], [64, 96]);
  });

  test('rotation 180 and 270', async () => {
    const upsideDown = halves(await decoder.decode(makeRotated(dir, 180), SPEC));
    assert.ok(isBlue(upsideDown.top) && isRed(upsideDown.bottom), JSON.stringify(upsideDown));
    const clip = await decoder.decode(makeRotated(dir, 270), SPEC);
    const h = halves(clip);
    assert.ok(isBlue(h.left) && isRed(h.right), JSON.stringify(h));
    assert.equal(clip.source.video.rotationDegrees, 270);
  });

  test('odd sizes (97×61) decode to the spec size', async () => {
    for (const path of makeOddSizes(dir)) {
      const clip = await decoder.decode(path, SPEC);
      assertWellFormed(clip);
      assert.deepEqual([clip.source.video.width, clip.source.video.height], [97, 61]);
      let min = 1;
      let max = 0;
      for (const v of clip.frames) [min, max] = [Math.min(min, v), Math.max(max, v)];
      assert.ok(max - min > 0.5, 'testsrc2 frames have contrast');
    }
  });

  test('non-square pixels are made square before the cover crop', async () => {
    const clip = await decoder.decode(makeAnamorphic(dir), SPEC);
    assert.equal(clip.source.video.sampleAspectRatio, '2:1');
    const left = [0, 1, 2].map((c) => regionMean(clip, 0, c, [0, 64, 4, 28]));
    const right = [0, 1, 2].map((c) => regionMean(clip, 0, c, [0, 64, 36, 60]));
    assert.ok(
      left[1]! > 0.8 && left[0]! < 0.2 && left[2]! < 0.2,
      `left ${left.join(',')} should be green`,
    );
    assert.ok(
      right[2]! > 0.8 && right[0]! < 0.2 && right[1]! < 0.2,
      `right ${right.join(',')} should be blue`,
    );
  });
});

describe('streams and bad input', () => {
  test('no audio stream: audio null, frames decoded', async () => {
    const clip = await decoder.decode(makeVideoOnly(dir), SPEC);
    assertWellFormed(clip);
    assert.equal(clip.audio, null);
    assert.equal(clip.source.audio, null);
    assert.equal(clip.timings.audioMs, 0);
    assert.equal(clip.timings.processes, 2); // ffprobe, all frames
  });

  test('audio only: NO_VIDEO', async () => {
    await assertDecodeError(decoder.decode(makeAudioOnly(dir), SPEC), 'NO_VIDEO', 'audio-only.m4a');
    await assertDecodeError(decoder.probe(join(dir, 'audio-only.m4a')), 'NO_VIDEO');
  });

  test('truncated files: header intact → NO_FRAME; index lost → UNREADABLE', async () => {
    const { headerFirst, headerLast } = makeTruncated(dir);
    await assertDecodeError(
      decoder.decode(headerFirst, SPEC),
      'NO_FRAME',
      'truncated-faststart.mp4',
    );
    await assertDecodeError(decoder.decode(headerLast, SPEC), 'UNREADABLE', 'truncated.mp4');
  });

  test('empty file and random bytes named .mp4: UNREADABLE with ffprobe’s reason', async () => {
    const { empty, random } = makeGarbage(dir);
    await assertDecodeError(decoder.decode(empty, SPEC), 'UNREADABLE', 'empty.mp4');
    await assertDecodeError(decoder.decode(random, SPEC), 'UNREADABLE', 'Invalid data');
  });

  test('a missing file is FILE_NOT_FOUND; a directory is UNREADABLE', async () => {
    await assertDecodeError(
      decoder.decode(join(dir, 'nope.mp4'), SPEC),
      'FILE_NOT_FOUND',
      'nope.mp4',
    );
    const folder = join(dir, 'folder.mp4');
    mkdirSync(folder, { recursive: true });
    await assertDecodeError(decoder.decode(folder, SPEC), 'UNREADABLE', 'folder.mp4');
  });

  test('no ffmpeg on PATH: FFMPEG_NOT_FOUND saying how to install it', async () => {
    const bare = new SystemFfmpegDecoder({
      lookup: { searchPath: '', platform: process.platform },
    });
    await assertDecodeError(
      bare.decode(join(dir, 'index.mp4'), SPEC),
      'FFMPEG_NOT_FOUND',
      'apt-get install ffmpeg',
    );
  });

  test('file names with spaces, unicode, shell metacharacters and a leading dash', async () => {
    const work = join(dir, 'awkward');
    mkdirSync(work, { recursive: true });
    const source = makeVideoOnly(dir);
    const reference = await decoder.decode(source, SPEC);
    for (const name of AWKWARD_NAMES) {
      const target = join(work, name);
      copyFileSync(source, target);
      const clip = await decoder.decode(target, SPEC);
      assert.deepEqual(clip.frames, reference.frames, name);
      assert.equal(clip.source.path, target);
    }
    // A relative path works too (resolved against the current directory).
    const clip = await decoder.decode(relative(process.cwd(), join(work, AWKWARD_NAMES[0]!)), SPEC);
    assert.deepEqual(clip.frames, reference.frames);
    assert.ok(!existsSync(join(work, 'pwned')) && !existsSync('pwned') && !existsSync('pwned2'));
    assert.ok(readdirSync(work).every((f) => !f.startsWith('pwned')));
  });

  test('probe reports streams without decoding', async () => {
    const probe = await decoder.probe(join(dir, 'index.mp4'));
    assert.equal(probe.video.codec, 'h264');
    assert.deepEqual([probe.video.width, probe.video.height], [96, 64]);
    assert.equal(probe.video.averageFrameRateHz, 10);
    assert.equal(probe.audio?.codec, 'aac');
    assert.equal(probe.durationSource, 'video-stream');
  });
});

describe('cancellation and limits', () => {
  let long = '';
  before(() => {
    long = join(dir, 'long 60s.mp4');
    if (!existsSync(long)) makeLong(dir);
  });

  /** Decodes with a hook on every process event; returns the events and the outcome. */
  async function tracked(options: {
    abortAtStart?: number;
    processTimeoutMs?: number;
    preAbort?: boolean;
  }): Promise<{
    events: DecodeProcessEvent[];
    error: unknown;
    abortedAt: number;
    settledAt: number;
  }> {
    const controller = new AbortController();
    if (options.preAbort === true) controller.abort();
    const events: DecodeProcessEvent[] = [];
    let starts = 0;
    let abortedAt = 0;
    const d = new SystemFfmpegDecoder({
      processTimeoutMs: options.processTimeoutMs,
      onProcess: (e) => {
        events.push(e);
        if (e.phase === 'start' && ++starts === options.abortAtStart) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    let error: unknown;
    try {
      await d.decode(long, SPEC, controller.signal);
    } catch (e) {
      error = e;
    }
    return { events, error, abortedAt, settledAt: performance.now() };
  }

  const assertAllExited = (events: DecodeProcessEvent[]): void => {
    const pids = events.filter((e) => e.phase === 'start').map((e) => e.pid);
    assert.ok(pids.length > 0);
    for (const pid of pids)
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `process ${pid} still alive`);
    assert.equal(events.filter((e) => e.phase === 'end').length, pids.length);
  };

  for (const at of [1, 2, 3]) {
    test(`abort at process start #${at}: CANCELLED, every process killed, settles quickly`, async () => {
      const run = await tracked({ abortAtStart: at });
      assert.ok(isDecodeError(run.error, 'CANCELLED'), String(run.error));
      assert.match((run.error as Error).message, /cancelled/);
      assertAllExited(run.events);
      assert.ok(
        run.events.filter((e) => e.phase === 'start').length <= at + 1,
        'no new process after the abort',
      );
      assert.ok(
        run.settledAt - run.abortedAt < 2000,
        `settled ${run.settledAt - run.abortedAt} ms after abort`,
      );
    });
  }

  test('an already aborted signal starts no process', async () => {
    const run = await tracked({ preAbort: true });
    assert.ok(isDecodeError(run.error, 'CANCELLED'));
    assert.equal(run.events.length, 0);
  });

  test('a process past the per-process time limit: TIMEOUT, process killed', async () => {
    const run = await tracked({ processTimeoutMs: 1 });
    assert.ok(isDecodeError(run.error, 'TIMEOUT'), String(run.error));
    assert.match((run.error as Error).message, /long 60s\.mp4/);
    assertAllExited(run.events);
  });
});

describe('all frames in one process or one process per frame: identical tensors', () => {
  const perFrame = new SystemFfmpegDecoder({ frameDecode: 'per-frame' });
  const makers: [string, () => string][] = [
    ...CONTAINER_CASES.map((c): [string, () => string] => [
      c.name,
      () => makeContainerCase(dir, c),
    ]),
    ['variable frame rate', () => makeVfr(dir)],
    ['long (seeks far apart)', () => makeLong(dir)],
    ['rotated 90°', () => makeRotated(dir, 90)],
    ['anamorphic', () => makeAnamorphic(dir)],
    ['odd sizes', () => makeOddSizes(dir)[0]!],
    ['no audio', () => makeVideoOnly(dir)],
    ['one frame (tail rule)', () => makeOneFrame(dir)],
    ['shorter than the window', () => makeShort(dir)],
    [
      'MPEG-TS whose timestamps start at 3.3 s, B-frames',
      () =>
        ffmpegMake(dir, 'offset.ts', [
          ...['-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=30000/1001:d=3'],
          ...['-c:v', 'mpeg2video', '-bf', '2', '-g', '15', '-output_ts_offset', '3.3'],
        ]),
    ],
  ];
  for (const [name, make] of makers) {
    test(name, async () => {
      const path = make();
      const one = await decoder.decode(path, SPEC);
      const each = await perFrame.decode(path, SPEC);
      assert.deepEqual(one.frames, each.frames);
      assert.deepEqual(one.audio, each.audio);
      assert.deepEqual(one.frameFromTail, each.frameFromTail);
      assert.ok(one.timings.processes < each.timings.processes);
    });
  }

  test('a damaged clip fails alike: the same error code both ways', async () => {
    const { headerFirst, headerLast } = makeTruncated(dir);
    for (const path of [headerFirst, headerLast]) {
      const codes = await Promise.all(
        [decoder, perFrame].map((d) =>
          d.decode(path, SPEC).then(
            () => 'decoded',
            (e: unknown) => (isDecodeError(e) ? e.code : String(e)),
          ),
        ),
      );
      assert.equal(codes[0], codes[1], path);
    }
  });

  test('two video streams: frames are read per frame (ffmpeg picks the stream)', async () => {
    const path = join(dir, 'two-video-streams.mkv');
    const index = makeContainerCase(dir, CONTAINER_CASES[0]!);
    ffmpegMakeTwoStreams(index, path);
    const one = await decoder.decode(path, SPEC);
    const each = await perFrame.decode(path, SPEC);
    assert.equal(one.source.videoStreams, 2);
    assert.equal(one.timings.processes, each.timings.processes);
    assert.deepEqual(one.frames, each.frames);
  });
});

/** `source`'s video stream twice in one Matroska file, no audio. */
function ffmpegMakeTwoStreams(source: string, out: string): void {
  execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-nostdin',
      '-y',
      '-i',
      source,
      '-map',
      '0:v',
      '-map',
      '0:v',
      '-c',
      'copy',
      out,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
