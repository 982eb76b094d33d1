import assert from 'node:assert/strict';
import { readdirSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ClipDecodeSpec } from '../../src/core/decode/clipDecoder';
import { DecodeCache } from '../../src/core/evaluation/decodeCache';
import type { DecodedClipFacts } from '../../src/protocol/decodeCacheEntry';
import { scratchDir, writeTemp } from '../helpers/tempFiles';

const SPEC: ClipDecodeSpec = { frames: 2, height: 2, width: 3, sampleRateHz: 8, samples: 5 };
const FRAME_VALUES = 2 * 3 * 2 * 3;

/** Frames the way the decoder makes them: byte / 255 stored as float32. */
function frames(): Float32Array {
  const out = new Float32Array(FRAME_VALUES);
  for (let i = 0; i < FRAME_VALUES; i++) out[i] = ((i * 37) % 256) / 255;
  return out;
}
const AUDIO = Float32Array.from([0.5, -0.25, 1e-7, -1, 0.333]);
/** What the decode said besides the tensors (a probe, frame times, the audio window). */
const FACTS: DecodedClipFacts = {
  specName: 'mosear-decode-1',
  backend: 'system',
  source: {
    path: '/clips/a.mp4',
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    durationSeconds: 1.5,
    durationSource: 'video-stream',
    video: {
      index: 0,
      codec: 'h264',
      width: 3,
      height: 2,
      sampleAspectRatio: '1:1',
      rotationDegrees: 0,
      displayWidth: 3,
      displayHeight: 2,
      averageFrameRateHz: 25,
    },
    videoStreams: 1,
    audio: { index: 1, codec: 'aac', sampleRateHz: 8, channels: 1 },
  },
  frameTimesSeconds: [0.375, 1.125],
  frameFromTail: [false, true],
  audioStartSeconds: 0.25,
};
const tensors = (audio: Float32Array | null) => ({ frames: frames(), audio, clip: FACTS });

describe('DecodeCache', () => {
  it('gives back bit-identical tensors, with and without audio', async () => {
    const dir = scratchDir('decode-cache');
    const clip = writeTemp(dir, 'a.mp4', Buffer.from('clip bytes'));
    const silent = writeTemp(dir, 'b.mp4', Buffer.from('other clip'));
    const cache = new DecodeCache(join(dir, 'cache'), { backend: 'test' });
    assert.equal(await cache.get(clip, SPEC), undefined, 'empty cache');
    await cache.put(clip, SPEC, tensors(AUDIO));
    await cache.put(silent, SPEC, tensors(null));
    const hit = await cache.get(clip, SPEC);
    assert.deepEqual(hit?.frames, frames());
    assert.deepEqual(hit?.audio, AUDIO);
    assert.equal((await cache.get(silent, SPEC))?.audio, null);
    assert.equal(readdirSync(join(dir, 'cache')).length, 2, 'no partial files left');
  });

  it('stands in for a decode: the decoded clip with its facts, no process started', async () => {
    const dir = scratchDir('decode-cache');
    const clip = writeTemp(dir, 'a.mp4', Buffer.from('clip bytes'));
    const cache = new DecodeCache(join(dir, 'cache'), { backend: 'test' });
    assert.equal(await cache.decoded(clip, SPEC), undefined, 'a miss');
    await cache.put(clip, SPEC, tensors(AUDIO));
    const decoded = await cache.decoded(clip, SPEC);
    assert.ok(decoded);
    assert.deepEqual(decoded.frames, frames());
    assert.deepEqual(decoded.audio, AUDIO);
    assert.deepEqual(decoded.spec, SPEC);
    assert.deepEqual(decoded.source, FACTS.source);
    assert.deepEqual(decoded.frameFromTail, [false, true]);
    assert.equal(decoded.audioStartSeconds, 0.25);
    assert.equal(decoded.timings.processes, 0);
  });

  it('keeps a variable-length audio window as long as the decode gave it', async () => {
    const dir = scratchDir('decode-cache');
    const clip = writeTemp(dir, 'a.mp4', Buffer.from('clip bytes'));
    const cache = new DecodeCache(join(dir, 'cache'), { backend: 'test' });
    const variable: ClipDecodeSpec = {
      ...SPEC,
      samples: 8,
      audioWindow: 'from-start',
      audioLength: 'variable',
      minSamples: 2,
    };
    await cache.put(clip, variable, tensors(AUDIO));
    assert.deepEqual((await cache.get(clip, variable))?.audio, AUDIO);
    assert.equal(await cache.get(clip, SPEC), undefined, 'the variant is part of the key');
  });

  it('misses when the clip, the spec or the decoder changes, or the entry is damaged', async () => {
    const dir = scratchDir('decode-cache');
    const clip = writeTemp(dir, 'a.mp4', Buffer.from('clip bytes'));
    const cache = new DecodeCache(join(dir, 'cache'), { backend: 'test' });
    await cache.put(clip, SPEC, tensors(AUDIO));
    assert.ok(await cache.get(clip, SPEC));
    assert.equal(await cache.get(clip, { ...SPEC, samples: 6 }), undefined, 'other spec');
    const other = new DecodeCache(join(dir, 'cache'), { backend: 'other' });
    assert.equal(await other.get(clip, SPEC), undefined, 'other decoder');

    utimesSync(clip, new Date(2001, 1, 1), new Date(2001, 1, 1));
    assert.equal(await cache.get(clip, SPEC), undefined, 'new mtime');
    await cache.put(clip, SPEC, tensors(AUDIO));
    writeFileSync(clip, 'clip bytes, longer');
    utimesSync(clip, new Date(2001, 1, 1), new Date(2001, 1, 1));
    assert.equal(await cache.get(clip, SPEC), undefined, 'new size');

    await cache.put(clip, SPEC, tensors(AUDIO));
    const [entry] = readdirSync(join(dir, 'cache'))
      .filter((f) => f.endsWith('.bin'))
      .sort();
    for (const f of readdirSync(join(dir, 'cache'))) truncateSync(join(dir, 'cache', f), 100);
    assert.ok(entry);
    assert.equal(await cache.get(clip, SPEC), undefined, 'truncated entry');
    assert.equal(await cache.get(join(dir, 'missing.mp4'), SPEC), undefined, 'missing clip');
  });
});
