// The in-memory decoded-clip cache: hits for the same file and spec, misses when the file
// changes (size or mtime) or the spec does, least recently used entries evicted.
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { ClipDecodeSpec, ClipDecoder, DecodedClip } from '../../src/core/decode/clipDecoder';
import { ClipCache } from '../../src/core/engine/clipCache';
import { fixtureClip, fixtureMetadata } from '../helpers/analysisFixture';
import { scratchDir, writeTemp } from '../helpers/tempFiles';

/** A decoder that counts its decodes and returns the fixture clip. */
function countingDecoder(): ClipDecoder & { decodes: string[] } {
  const clip = fixtureClip(fixtureMetadata());
  const decodes: string[] = [];
  return {
    backend: 'system',
    decodes,
    probe: () => Promise.resolve(clip.source),
    decode: (path: string, spec: ClipDecodeSpec): Promise<DecodedClip> => {
      decodes.push(path);
      return Promise.resolve({ ...clip, spec: { ...spec } });
    },
  };
}

const spec: ClipDecodeSpec = {
  frames: 4,
  height: 64,
  width: 64,
  sampleRateHz: 16000,
  samples: 32000,
};

describe('ClipCache', () => {
  const dir = scratchDir('clip-cache');

  test('the same file and spec decode once', async () => {
    const decoder = countingDecoder();
    const cache = new ClipCache(decoder, '');
    const path = writeTemp(dir, 'a.mp4', new Uint8Array([1, 2, 3]));
    const first = await cache.get(path, spec);
    const second = await cache.get(path, spec);
    assert.equal(first.cached, false);
    assert.equal(second.cached, true);
    assert.equal(second.clip, first.clip);
    assert.equal(second.sizeBytes, 3);
    assert.equal(decoder.decodes.length, 1);
  });

  test('concurrent requests for the same file and spec share one decode', async () => {
    const decoder = countingDecoder();
    const cache = new ClipCache(decoder, '');
    const path = writeTemp(dir, 'concurrent.mp4', new Uint8Array([1, 2, 3, 4]));
    const [first, second] = await Promise.all([cache.get(path, spec), cache.get(path, spec)]);
    assert.equal(decoder.decodes.length, 1);
    assert.equal(cache.decodes, 1);
    assert.equal(second.clip, first.clip);
    // Either may be the one that decodes (their stat calls finish in any order).
    assert.deepEqual([first.cached, second.cached].sort(), [false, true]);
  });

  test('a shared decode cancelled by its first caller is redone for the second', async () => {
    const clip = fixtureClip(fixtureMetadata());
    let calls = 0;
    const decoder: ClipDecoder = {
      backend: 'system',
      probe: () => Promise.resolve(clip.source),
      decode: (_path, s, signal) => {
        calls += 1;
        return signal?.aborted === true
          ? Promise.reject(new Error('cancelled'))
          : Promise.resolve({ ...clip, spec: { ...s } });
      },
    };
    const cache = new ClipCache(decoder, '');
    const path = writeTemp(dir, 'cancelled.mp4', new Uint8Array([5]));
    const controller = new AbortController();
    controller.abort();
    const [cancelled, other] = await Promise.allSettled([
      cache.get(path, spec, controller.signal),
      cache.get(path, spec),
    ]);
    assert.equal(cancelled.status, 'rejected');
    assert.equal(other.status, 'fulfilled');
    assert.equal(calls, 2);
  });

  test('a changed mtime, size or spec decodes again', async () => {
    const decoder = countingDecoder();
    const cache = new ClipCache(decoder, '');
    const path = writeTemp(dir, 'b.mp4', new Uint8Array([1]));
    await cache.get(path, spec);
    utimesSync(path, new Date(2020, 1, 1), new Date(2020, 1, 1));
    assert.equal((await cache.get(path, spec)).cached, false);
    writeFileSync(path, new Uint8Array([1, 2]));
    utimesSync(path, new Date(2020, 1, 1), new Date(2020, 1, 1));
    assert.equal((await cache.get(path, spec)).cached, false);
    assert.equal((await cache.get(path, { ...spec, frames: 8 })).cached, false);
    assert.equal((await cache.get(path, spec)).cached, true);
    assert.equal(decoder.decodes.length, 4);
  });

  test('least recently used entries are evicted beyond the limit', async () => {
    const decoder = countingDecoder();
    const cache = new ClipCache(decoder, '', 2);
    const [x, y, z] = ['x', 'y', 'z'].map((n) => writeTemp(dir, `${n}.mp4`, new Uint8Array([0])));
    await cache.get(x!, spec);
    await cache.get(y!, spec);
    await cache.get(x!, spec); // x is now the most recent
    await cache.get(z!, spec); // evicts y
    assert.equal(cache.size, 2);
    assert.equal((await cache.get(x!, spec)).cached, true);
    assert.equal((await cache.get(y!, spec)).cached, false);
  });

  test('a missing file is left to the decoder to report', async () => {
    const decoder = countingDecoder();
    decoder.decode = () => Promise.reject(new Error('FILE_NOT_FOUND from the decoder'));
    const cache = new ClipCache(decoder, '');
    await assert.rejects(cache.get(`${dir}/missing.mp4`, spec), /FILE_NOT_FOUND from the decoder/);
  });
});
