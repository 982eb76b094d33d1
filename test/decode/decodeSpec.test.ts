// The pure half of decode spec "mosear-decode-1": times, argument lists (checked against the
// lists models/mosear/decode.py builds), probe parsing, PATH lookup and the bounded runner.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HeadSink, LastRecordSink, runBounded } from '../../src/core/decode/boundedProcess';
import {
  clipDecodeSpecFromContract,
  validateClipDecodeSpec,
  type ClipDecodeSpec,
} from '../../src/core/decode/clipDecoder';
import { DecodeError, isDecodeError } from '../../src/core/decode/decodeError';
import { findOnPath, resolveFfmpegExecutables } from '../../src/core/decode/executableLookup';
import {
  audioArgs,
  audioWindowStartSeconds,
  formatSeconds,
  frameArgs,
  frameTimesSeconds,
  parseProbe,
} from '../../src/core/decode/mosearDecode1';

const scratch = mkdtempSync(join(tmpdir(), 'decode-spec-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('decode spec: times', () => {
  test('formatSeconds matches Python f"{t:.6f}", ties to even included', () => {
    // Expected strings printed by CPython for the same doubles.
    const cases: [number, string][] = [
      [0, '0.000000'],
      [0.25, '0.250000'],
      [0.0078125, '0.007812'], // exact tie: Python rounds to even, toFixed would give …813
      [0.0234375, '0.023438'],
      [1.0078125, '1.007812'],
      [1 / 3, '0.333333'],
      [2.5e-7, '0.000000'],
      [5e-7, '0.000000'],
      [1234.5678905, '1234.567890'],
      [1.7570000000000001, '1.757000'],
    ];
    for (const [value, expected] of cases)
      assert.equal(formatSeconds(value), expected, String(value));
    assert.throws(
      () => formatSeconds(-1),
      (e) => isDecodeError(e, 'BAD_SPEC'),
    );
    assert.throws(
      () => formatSeconds(NaN),
      (e) => isDecodeError(e, 'BAD_SPEC'),
    );
  });

  test('frame times are the midpoints (i + ½)·D/T, as Python evaluates them', () => {
    assert.deepEqual(frameTimesSeconds(2, 4), [0.25, 0.75, 1.25, 1.75]);
    // Python: frame_times(2.008) == [0.251, 0.753, 1.255, 1.7570000000000001]
    assert.deepEqual(frameTimesSeconds(2.008, 4), [0.251, 0.753, 1.255, 1.7570000000000001]);
    assert.deepEqual(frameTimesSeconds(10, 1), [5]);
  });

  test('the audio window is centred and starts at 0 for clips shorter than it', () => {
    assert.equal(audioWindowStartSeconds(60, 2), 29);
    assert.equal(audioWindowStartSeconds(7.3, 2), 2.65);
    assert.equal(audioWindowStartSeconds(2, 2), 0);
    assert.equal(audioWindowStartSeconds(0.5, 2), 0);
  });
});

describe('decode spec: ffmpeg argument lists', () => {
  test('frame arguments equal decode.py frame_args (single frame and tail)', () => {
    const filter =
      'scale=iw*sar:ih:flags=area,setsar=1,scale=64:64:force_original_aspect_ratio=increase:flags=area,crop=64:64';
    assert.deepEqual(frameArgs('/clips/a b.mp4', 0.0078125, 64, 64, true), [
      '-v',
      'error',
      '-nostdin',
      '-ss',
      '0.007812',
      '-i',
      '/clips/a b.mp4',
      '-frames:v',
      '1',
      '-vf',
      filter,
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      '-',
    ]);
    assert.deepEqual(frameArgs('/clips/a b.mp4', 1.9, 64, 64, false), [
      '-v',
      'error',
      '-nostdin',
      '-ss',
      '1.900000',
      '-i',
      '/clips/a b.mp4',
      '-vf',
      filter,
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      '-',
    ]);
  });

  test('non-square specs scale to W:H and crop W:H', () => {
    const args = frameArgs('/x.mp4', 1, 48, 32, true);
    assert.equal(
      args[args.indexOf('-vf') + 1],
      'scale=iw*sar:ih:flags=area,setsar=1,scale=48:32:force_original_aspect_ratio=increase:flags=area,crop=48:32',
    );
  });

  test('audio arguments equal decode.py audio_args', () => {
    assert.deepEqual(audioArgs('/clips/a b.mp4', 14, 2, 16000), [
      '-v',
      'error',
      '-nostdin',
      '-ss',
      '14.000000',
      '-i',
      '/clips/a b.mp4',
      '-t',
      '2.000000',
      '-vn',
      '-ac',
      '1',
      '-ar',
      '16000',
      '-f',
      'f32le',
      '-',
    ]);
  });
});

describe('decode spec: probe parsing', () => {
  const probe = (value: unknown): ReturnType<typeof parseProbe> =>
    parseProbe(JSON.stringify(value), '/c/x.mp4', 'x.mp4');
  const video = { index: 0, codec_type: 'video', codec_name: 'h264', width: 160, height: 120 };

  test('D is the video stream duration when positive, else the container duration', () => {
    const a = probe({ streams: [{ ...video, duration: '2.000000' }], format: { duration: '2.1' } });
    assert.equal(a.durationSeconds, 2);
    assert.equal(a.durationSource, 'video-stream');
    const b = probe({ streams: [{ ...video, duration: 'N/A' }], format: { duration: '2.008000' } });
    assert.equal(b.durationSeconds, 2.008);
    assert.equal(b.durationSource, 'format');
    const c = probe({ streams: [{ ...video, duration: '0.000000' }], format: { duration: '3' } });
    assert.equal(c.durationSeconds, 3);
  });

  test('no duration anywhere is UNREADABLE; no video stream is NO_VIDEO naming what is there', () => {
    assert.throws(
      () => probe({ streams: [video], format: {} }),
      (e) => isDecodeError(e, 'UNREADABLE') && e.message.includes('x.mp4'),
    );
    assert.throws(
      () => probe({ streams: [{ index: 0, codec_type: 'audio' }], format: { duration: '1' } }),
      (e) =>
        isDecodeError(e, 'NO_VIDEO') &&
        /no video stream/.test(e.message) &&
        /audio/.test(e.message),
    );
    assert.throws(
      () => probe({}),
      (e) => isDecodeError(e, 'NO_VIDEO'),
    );
    assert.throws(
      () => parseProbe('not json', '/c/x.mp4', 'x.mp4'),
      (e) => isDecodeError(e, 'UNREADABLE'),
    );
  });

  test('cover art (attached_pic) is not a video stream', () => {
    const cover = { ...video, codec_name: 'mjpeg', disposition: { attached_pic: 1 } };
    assert.throws(
      () =>
        probe({ streams: [{ index: 0, codec_type: 'audio' }, cover], format: { duration: '3' } }),
      (e) => isDecodeError(e, 'NO_VIDEO'),
    );
    const both = probe({
      streams: [cover, { ...video, index: 2, codec_name: 'hevc', duration: '4' }],
      format: { duration: '4' },
    });
    assert.equal(both.video.index, 2);
    assert.equal(both.video.codec, 'hevc');
  });

  test('rotation: display matrix (counterclockwise) or the legacy clockwise rotate tag', () => {
    const rotated = (extra: object): number =>
      probe({ streams: [{ ...video, duration: '1', ...extra }], format: {} }).video.rotationDegrees;
    assert.equal(rotated({ side_data_list: [{ rotation: 90 }] }), 90);
    assert.equal(rotated({ side_data_list: [{ rotation: -90 }] }), 270);
    assert.equal(rotated({ side_data_list: [{ rotation: -180 }] }), 180);
    assert.equal(rotated({ tags: { rotate: '90' } }), 270);
    assert.equal(rotated({}), 0);
    const info = probe({
      streams: [{ ...video, duration: '1', side_data_list: [{ rotation: -90 }] }],
      format: {},
    }).video;
    assert.deepEqual([info.displayWidth, info.displayHeight], [120, 160]);
  });

  test('stream facts: sample aspect ratio, frame rate, audio stream', () => {
    const p = probe({
      streams: [
        { ...video, duration: '1', sample_aspect_ratio: '2:1', avg_frame_rate: '30000/1001' },
        { index: 1, codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2 },
      ],
      format: { duration: '1', format_name: 'mov,mp4,m4a,3gp,3g2,mj2' },
    });
    assert.equal(p.video.sampleAspectRatio, '2:1');
    assert.equal(p.video.displayWidth, 320);
    assert.ok(Math.abs((p.video.averageFrameRateHz ?? 0) - 29.97) < 0.01);
    assert.deepEqual(p.audio, { index: 1, codec: 'aac', sampleRateHz: 48000, channels: 2 });
    assert.equal(p.formatName, 'mov,mp4,m4a,3gp,3g2,mj2');
    assert.equal(
      probe({ streams: [{ ...video, duration: '1', sample_aspect_ratio: '0:1' }] }).video
        .sampleAspectRatio,
      '1:1',
    );
  });
});

describe('decode spec: from contract metadata', () => {
  const meta = {
    frames: {
      count: 4,
      height: 64,
      width: 64,
      dynamicCount: false,
      channels: 'rgb' as const,
      range: [0, 1] as [0, 1],
    },
    audio: { sampleRateHz: 16000, samples: 32000, windowSeconds: 2, optional: false, tokens: 1 },
    decode: {
      spec: 'mosear-decode-1' as const,
      frameTimes: 'midpoints' as const,
      resize: 'cover-center-crop' as const,
      scaleFlags: 'area' as const,
      audioWindow: 'centered' as const,
      audioPad: 'zeros-at-end' as const,
    },
  };

  test('T, H, W, rate and S come from the metadata', () => {
    assert.deepEqual(clipDecodeSpecFromContract(meta), {
      frames: 4,
      height: 64,
      width: 64,
      sampleRateHz: 16000,
      samples: 32000,
    });
  });

  test('another decode spec or nonsense sizes are BAD_SPEC', () => {
    const other = {
      ...meta,
      decode: { ...meta.decode, spec: 'mosear-decode-2' },
    } as unknown as typeof meta;
    assert.throws(
      () => clipDecodeSpecFromContract(other),
      (e) => isDecodeError(e, 'BAD_SPEC'),
    );
    const bad: ClipDecodeSpec = {
      frames: 0,
      height: 64,
      width: 64,
      sampleRateHz: 16000,
      samples: 1,
    };
    assert.throws(
      () => validateClipDecodeSpec(bad),
      (e) => isDecodeError(e, 'BAD_SPEC'),
    );
    assert.throws(
      () => validateClipDecodeSpec({ ...bad, frames: 2.5 }),
      (e) => isDecodeError(e, 'BAD_SPEC'),
    );
  });
});

describe('executable lookup', () => {
  const dir = (name: string): string => {
    const d = join(scratch, name);
    mkdirSync(d, { recursive: true });
    return d;
  };

  test('finds an executable file on PATH, in PATH order; skips non-executables and relative entries', () => {
    const plain = dir('plain');
    const exec1 = dir('exec1');
    const exec2 = dir('exec2');
    writeFileSync(join(plain, 'ffmpeg'), '');
    chmodSync(join(plain, 'ffmpeg'), 0o644);
    mkdirSync(join(exec1, 'ffprobe'), { recursive: true }); // a directory, not a file
    for (const d of [exec1, exec2]) {
      writeFileSync(join(d, 'ffmpeg'), '#!/bin/sh\n');
      chmodSync(join(d, 'ffmpeg'), 0o755);
    }
    const env = {
      searchPath: ['relative/bin', plain, exec1, exec2].join(':'),
      platform: 'linux' as const,
    };
    assert.equal(findOnPath('ffmpeg', env), join(exec1, 'ffmpeg'));
    assert.equal(findOnPath('ffprobe', env), undefined);
    assert.equal(findOnPath('ffmpeg', { ...env, searchPath: '' }), undefined);
  });

  test('missing ffmpeg is FFMPEG_NOT_FOUND with install instructions', () => {
    const env = { searchPath: dir('empty'), platform: 'linux' as const };
    assert.throws(
      () => resolveFfmpegExecutables({}, env),
      (e) =>
        isDecodeError(e, 'FFMPEG_NOT_FOUND') &&
        e.message.includes('sudo apt-get install ffmpeg') &&
        e.message.includes('brew install ffmpeg') &&
        e.message.includes('winget install'),
    );
    assert.throws(
      () => resolveFfmpegExecutables({ ffmpegPath: join(scratch, 'nope', 'ffmpeg') }, env),
      (e) =>
        isDecodeError(e, 'FFMPEG_NOT_FOUND') && e.message.includes(join(scratch, 'nope', 'ffmpeg')),
    );
  });

  test('an explicit ffmpeg path finds ffprobe next to it before PATH', () => {
    const bin = dir('bundle');
    for (const name of ['ffmpeg', 'ffprobe']) {
      writeFileSync(join(bin, name), '#!/bin/sh\n');
      chmodSync(join(bin, name), 0o755);
    }
    const found = resolveFfmpegExecutables(
      { ffmpegPath: join(bin, 'ffmpeg') },
      { searchPath: '', platform: 'linux' },
    );
    assert.deepEqual(found, { ffmpeg: join(bin, 'ffmpeg'), ffprobe: join(bin, 'ffprobe') });
  });
});

describe('bounded processes', () => {
  const node = process.execPath;

  test('HeadSink keeps output up to its bound and reports overflow', () => {
    const sink = new HeadSink(5);
    assert.equal(sink.write(Buffer.from('abc')), true);
    assert.equal(sink.write(Buffer.from('de')), true);
    assert.equal(sink.bytes().toString(), 'abcde');
    assert.equal(sink.write(Buffer.from('f')), false);
  });

  test('LastRecordSink keeps the last complete record across chunk boundaries', () => {
    const sink = new LastRecordSink(3, 10);
    assert.equal(sink.lastRecord(), undefined);
    sink.write(Buffer.from('ab'));
    sink.write(Buffer.from('cde'));
    sink.write(Buffer.from('fghi'));
    assert.equal(sink.lastRecord()?.toString(), 'ghi');
    const bounded = new LastRecordSink(1, 2);
    assert.equal(bounded.write(Buffer.from('xyz')), false);
  });

  test('a process that writes too much is killed (overflow), and the run settles after it exits', async () => {
    let pid = 0;
    const result = await runBounded({
      executable: node,
      args: ['-e', 'setInterval(() => process.stdout.write(Buffer.alloc(65536)), 1)'],
      sink: new HeadSink(100_000),
      timeoutMs: 20_000,
      onSpawn: (p) => (pid = p),
    });
    assert.equal(result.outcome, 'overflow');
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });

  test('a process past its time limit is killed (timeout)', async () => {
    const result = await runBounded({
      executable: node,
      args: ['-e', 'setTimeout(() => {}, 60000)'],
      sink: new HeadSink(10),
      timeoutMs: 200,
    });
    assert.equal(result.outcome, 'timeout');
    assert.ok(result.ms < 10_000);
  });

  test('abort kills the process; an already aborted signal starts nothing', async () => {
    const controller = new AbortController();
    const running = runBounded({
      executable: node,
      args: ['-e', 'setTimeout(() => {}, 60000)'],
      sink: new HeadSink(10),
      timeoutMs: 60_000,
      signal: controller.signal,
      onSpawn: () => controller.abort(),
    });
    assert.equal((await running).outcome, 'cancelled');
    let spawned = false;
    const again = await runBounded({
      executable: node,
      args: ['-e', ''],
      sink: new HeadSink(10),
      timeoutMs: 1000,
      signal: controller.signal,
      onSpawn: () => (spawned = true),
    });
    assert.equal(again.outcome, 'cancelled');
    assert.equal(spawned, false);
  });

  test('exit code, stderr tail and a missing executable are reported', async () => {
    const failed = await runBounded({
      executable: node,
      args: ['-e', 'process.stderr.write("x".repeat(20000) + "the end"); process.exit(3)'],
      sink: new HeadSink(10),
      timeoutMs: 20_000,
      stderrTailBytes: 100,
    });
    assert.equal(failed.outcome, 'exited');
    assert.equal(failed.outcome === 'exited' && failed.exitCode, 3);
    assert.ok(failed.stderrTail.endsWith('the end') && failed.stderrTail.length <= 100);
    const missing = await runBounded({
      executable: join(scratch, 'no-such-binary'),
      args: [],
      sink: new HeadSink(10),
      timeoutMs: 1000,
    });
    assert.equal(missing.outcome, 'spawn-failed');
  });

  test('DecodeError carries code, path and stderr', () => {
    const error = new DecodeError('UNREADABLE', 'm', '/p', 'tail');
    assert.equal(error.name, 'DecodeError');
    assert.ok(isDecodeError(error, 'UNREADABLE'));
    assert.ok(!isDecodeError(new Error('x')));
    assert.equal(isDecodeError(error, 'NO_VIDEO'), false);
    assert.deepEqual([error.path, error.stderrTail], ['/p', 'tail']);
  });
});
