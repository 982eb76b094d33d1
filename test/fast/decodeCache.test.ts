import assert from 'node:assert/strict';
import { readdirSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ClipDecodeSpec } from '../../src/core/decode/clipDecoder';
import { DecodeCache } from '../../src/core/evaluation/decodeCache';
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

describe('DecodeCache', () => {
  it('gives back bit-identical tensors, with and without audio', async () => {
    const dir = scratchDir('decode-cache');
    const clip = writeTemp(dir, 'a.mp4', Buffer.from('clip bytes'));
    const silent = writeTemp(dir, 'b.mp4', Buffer.from('other clip'));
    const cache = new DecodeCache(join(dir, 'cache'), { backend: 'test' });
    assert.equal(await cache.get(clip, SPEC), undefined, 'empty cache');
    await cache.put(clip, SPEC, { frames: frames(), audio: AUDIO });
    await cache.put(silent, SPEC, { frames: frames(), audio: null });
    const hit = await cache.get(clip, SPEC);
    assert.deepEqual(hit?.frames, frames());
    assert.deepEqual(hit?.audio, AUDIO);
    assert.equal((await cache.get(silent, SPEC))?.audio, null);
    assert.equal(readdirSync(join(dir, 'cache')).length, 2, 'no partial files left');
  });

  it('misses when the clip, the spec or the decoder changes, or the entry is damaged', async () => {
    const dir = scratchDir('decode-cache');
    const clip = writeTemp(dir, 'a.mp4', Buffer.from('clip bytes'));
    const cache = new DecodeCache(join(dir, 'cache'), { backend: 'test' });
    await cache.put(clip, SPEC, { frames: frames(), audio: AUDIO });
    assert.ok(await cache.get(clip, SPEC));
    assert.equal(await cache.get(clip, { ...SPEC, samples: 6 }), undefined, 'other spec');
    const other = new DecodeCache(join(dir, 'cache'), { backend: 'other' });
    assert.equal(await other.get(clip, SPEC), undefined, 'other decoder');

    utimesSync(clip, new Date(2001, 1, 1), new Date(2001, 1, 1));
    assert.equal(await cache.get(clip, SPEC), undefined, 'new mtime');
    await cache.put(clip, SPEC, { frames: frames(), audio: AUDIO });
    writeFileSync(clip, 'clip bytes, longer');
    utimesSync(clip, new Date(2001, 1, 1), new Date(2001, 1, 1));
    assert.equal(await cache.get(clip, SPEC), undefined, 'new size');

    await cache.put(clip, SPEC, { frames: frames(), audio: AUDIO });
    const [entry] = readdirSync(join(dir, 'cache'))
      .filter((f) => f.endsWith('.bin'))
      .sort();
    for (const f of readdirSync(join(dir, 'cache'))) truncateSync(join(dir, 'cache', f), 100);
    assert.ok(entry);
    assert.equal(await cache.get(clip, SPEC), undefined, 'truncated entry');
    assert.equal(await cache.get(join(dir, 'missing.mp4'), SPEC), undefined, 'missing clip');
  });
});
