// The thumbnail PNG encoder: a valid chunk structure, correct CRCs, and pixels that inflate back.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { crc32, encodePngRgb, pngDataUri } from '../../src/core/images/png';
import { frameThumbnails } from '../../src/core/engine/thumbnails';

/** Splits a PNG into its chunks, checking each CRC. */
function chunks(png: Buffer): { type: string; data: Buffer }[] {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(png.readUInt32BE(at + 8 + length), crc32(png.subarray(at + 4, at + 8 + length)));
    out.push({ type, data });
    at += 12 + length;
  }
  return out;
}

describe('PNG encoder', () => {
  test('crc32 matches the standard check value', () => {
    assert.equal(crc32(Buffer.from('123456789', 'latin1')), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
  });

  test('a 3×2 RGB image: IHDR, IDAT rows with filter 0, IEND', () => {
    const rgb = Uint8Array.from({ length: 18 }, (_, i) => i * 14);
    const png = encodePngRgb(rgb, 3, 2);
    const parts = chunks(png);
    assert.deepEqual(
      parts.map((c) => c.type),
      ['IHDR', 'IDAT', 'IEND'],
    );
    const ihdr = parts[0]!.data;
    assert.equal(ihdr.readUInt32BE(0), 3);
    assert.equal(ihdr.readUInt32BE(4), 2);
    assert.deepEqual([...ihdr.subarray(8)], [8, 2, 0, 0, 0]);
    const raw = inflateSync(parts[1]!.data);
    assert.deepEqual([...raw], [0, ...rgb.subarray(0, 9), 0, ...rgb.subarray(9)]);
    assert.match(pngDataUri(png), /^data:image\/png;base64,iVBORw0KGgo/);
  });

  test('rejects sizes that do not match the bytes', () => {
    assert.throws(() => encodePngRgb(new Uint8Array(5), 1, 2), RangeError);
    assert.throws(() => encodePngRgb(new Uint8Array(0), 0, 0), RangeError);
  });

  test('frame thumbnails: [T, 3, H, W] planes become interleaved RGB bytes', () => {
    // Two 1×2 frames: frame 0 red/green, frame 1 blue/white.
    const frames = Float32Array.from([1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 1].map((v) => v));
    const thumbs = frameThumbnails(frames, 2, 1, [0.5, 1.5]);
    assert.equal(thumbs.length, 2);
    const pixels = (uri: string) => {
      const png = Buffer.from(uri.split(',')[1]!, 'base64');
      return [...inflateSync(chunks(png)[1]!.data).subarray(1)];
    };
    assert.deepEqual(pixels(thumbs[0]!.dataUri), [255, 0, 0, 0, 255, 0]);
    assert.deepEqual(pixels(thumbs[1]!.dataUri), [0, 0, 255, 255, 255, 255]);
    assert.equal(thumbs[1]!.timeSeconds, 1.5);
    assert.throws(() => frameThumbnails(new Float32Array(5), 2, 1, []), RangeError);
  });
});
