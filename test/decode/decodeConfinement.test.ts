// Both decoders read the clip file and nothing else (issue 13, item 6): an HLS playlist or an
// ffconcat script renamed .mp4 that names another local file is refused as PLAYLIST before any
// process reads it, and every ffmpeg/ffprobe command carries the format and protocol lists, so
// a playlist the sniff missed is still refused by ffmpeg itself. Also the two decoders' known
// differences at the edges (item 9), each a clear error naming the file.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { ClipDecodeSpec, ClipDecoder } from '../../src/core/decode/clipDecoder';
import { isDecodeError, type DecodeErrorCode } from '../../src/core/decode/decodeError';
import { playlistKind, restrictInput } from '../../src/core/decode/inputRestriction';
import { frameArgs, probeArgs } from '../../src/core/decode/mosearDecode1';
import {
  SystemFfmpegDecoder,
  type DecodeProcessEvent,
} from '../../src/core/decode/systemFfmpegDecoder';
import { WasmFfmpegDecoder } from '../../src/core/decode/wasmFfmpegDecoder';
import { WASM_WORKER, ffmpegMake } from '../fixtures/decodeClips';
import { REPO_ROOT } from '../helpers/golden';
import { scratchDir } from '../helpers/tempFiles';

const SPEC: ClipDecodeSpec = {
  frames: 4,
  height: 32,
  width: 32,
  sampleRateHz: 16000,
  samples: 16000,
};
const SAMPLES = join(REPO_ROOT, 'models', 'samples');
const dir = scratchDir('decode-confinement');

const events: DecodeProcessEvent[] = [];
const onProcess = (e: DecodeProcessEvent): void => void events.push(e);
const decoders: ClipDecoder[] = [
  new SystemFfmpegDecoder({ processTimeoutMs: 30_000, onProcess }),
  new WasmFfmpegDecoder({ workerScript: WASM_WORKER, timeoutMs: 60_000, onProcess }),
];

/** Rejects with a DecodeError of `code` whose message names `name` and matches `says`. */
async function assertRefused(
  promise: Promise<unknown>,
  code: DecodeErrorCode,
  name: string,
  says: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isDecodeError(error), `expected a DecodeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.ok(error.message.includes(`"${name}"`), error.message);
    assert.match(error.message, says);
    assert.doesNotMatch(error.message, /\n\s+at /);
    return true;
  });
}

/** The other file a hostile playlist points at: a 2 s clip in its own folder, as MPEG-TS. */
let secret = '';
before(() => {
  secret = ffmpegMake(dir, 'secret.ts', [
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=64x48:r=10:d=2',
    '-c:v',
    'mpeg2video',
    '-f',
    'mpegts',
  ]);
});

const hls = (segment: string): string =>
  `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${segment}\n#EXT-X-ENDLIST\n`;

describe('a clip that is a playlist is refused by both decoders', () => {
  test('the hostile playlist does pull the other file when ffmpeg is not confined', () => {
    // The reproduction: plain ffprobe follows the absolute path and reports the other file's video.
    const clip = join(dir, 'plain.mp4');
    writeFileSync(clip, hls(secret));
    const json = execFileSync('ffprobe', probeArgs(clip), { encoding: 'utf8' });
    assert.match(json, /"format_name": "hls"/);
    assert.match(json, /"codec_name": "mpeg2video"/);
  });

  for (const decoder of decoders) {
    test(`${decoder.backend}: an HLS playlist renamed .mp4 naming a file by absolute path`, async () => {
      const clip = join(dir, `hls-${decoder.backend}.mp4`);
      writeFileSync(clip, hls(secret));
      const name = `hls-${decoder.backend}.mp4`;
      await assertRefused(decoder.decode(clip, SPEC), 'PLAYLIST', name, /HLS \(M3U8\) playlist/);
      await assertRefused(decoder.probe(clip), 'PLAYLIST', name, /not a video clip/);
    });

    test(`${decoder.backend}: an ffconcat script renamed .mp4, a BOM-led playlist, a DASH manifest`, async () => {
      copyFileSync(join(SAMPLES, 'sample-consistent-happy.mp4'), join(dir, 'sibling.mp4'));
      const cases: [string, string, RegExp][] = [
        ['concat.mp4', 'ffconcat version 1.0\nfile sibling.mp4\n', /ffconcat script/],
        ['bom.mkv', `\uFEFF ${hls(secret)}`, /HLS/],
        [
          'manifest.webm',
          '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"></MPD>\n',
          /DASH manifest/,
        ],
      ];
      for (const [name, text, says] of cases) {
        writeFileSync(join(dir, name), text);
        await assertRefused(decoder.decode(join(dir, name), SPEC), 'PLAYLIST', name, says);
      }
    });
  }

  test('a playlist the sniff misses is refused by ffmpeg itself (format and protocol lists)', () => {
    // Past the sniff (as if the file were swapped after it): the confined probe fails.
    const clip = join(dir, 'swapped.mp4');
    writeFileSync(clip, hls(secret));
    const run = spawnSync('ffprobe', restrictInput(probeArgs(clip)), { encoding: 'utf8' });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /Format not on whitelist/);
    assert.doesNotMatch(run.stdout, /mpeg2video/);
    const frame = spawnSync('ffmpeg', restrictInput(frameArgs(clip, 0.5, 32, 32, true)));
    assert.notEqual(frame.status, 0);
    assert.equal(frame.stdout.length, 0);
  });

  test('the sniff knows playlists only: media files and other text are not playlists', () => {
    for (const sample of ['sample-consistent-happy.mp4', 'sample-video-aligned-sad.mp4']) {
      assert.equal(playlistKind(readFileSync(join(SAMPLES, sample))), null);
    }
    assert.equal(playlistKind(new TextEncoder().encode('hello #EXTM3U')), null);
    assert.equal(playlistKind(new Uint8Array(0)), null);
  });
});

describe('the two decoders at the edges (documented in the README and the decoder setting)', () => {
  const [system, wasm] = decoders as [ClipDecoder, ClipDecoder];

  test('a valid 2×2 mpeg4 clip: the system decoder reads it, wasm says why it cannot', async () => {
    const clip = ffmpegMake(dir, 'tiny 2x2.mp4', [
      '-f',
      'lavfi',
      '-i',
      'testsrc=s=2x2:r=10:d=1',
      '-c:v',
      'mpeg4',
    ]);
    const decoded = await system.decode(clip, SPEC);
    assert.equal(decoded.frames.length, SPEC.frames * 3 * SPEC.height * SPEC.width);
    await assertRefused(
      wasm.decode(clip, SPEC),
      'UNREADABLE',
      'tiny 2x2.mp4',
      /mpeg4 video is 2×2 pixels.*16 pixels wide or narrower.*system decoder/,
    );
  });

  test('two MP4 files joined byte by byte: system reads the first, wasm says what the file is', async () => {
    const first = readFileSync(join(SAMPLES, 'sample-consistent-happy.mp4'));
    const second = readFileSync(join(SAMPLES, 'sample-video-aligned-sad.mp4'));
    const joined = join(dir, 'joined.mp4');
    writeFileSync(joined, Buffer.concat([first, second]));
    const alone = await system.decode(join(SAMPLES, 'sample-consistent-happy.mp4'), SPEC);
    const both = await system.decode(joined, SPEC);
    assert.deepEqual(both.frames, alone.frames);
    await assertRefused(
      wasm.decode(joined, SPEC),
      'UNREADABLE',
      'joined.mp4',
      new RegExp(`second MP4 header \\(an 'ftyp' box at byte ${first.length}\\).*system decoder`),
    );
  });

  test('every ffmpeg/ffprobe command the system decoder ran carried the input restriction', () => {
    assert.ok(events.length > 0);
    for (const event of events.filter(
      (e) => e.phase === 'start' && e.executable !== process.execPath,
    )) {
      assert.ok(event.args.includes('-format_whitelist'), event.args.join(' '));
      assert.equal(event.args[event.args.indexOf('-protocol_whitelist') + 1], 'file');
    }
  });

  test('no decoder process is left behind', () => {
    const started = events.filter((e) => e.phase === 'start');
    assert.equal(events.filter((e) => e.phase === 'end').length, started.length);
    for (const { pid } of started) {
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `process ${pid} still alive`);
    }
  });
});
