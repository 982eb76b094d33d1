// FaceMAE / VideoMAE feature sources (src/core/engine/featureSource.ts, CONTRACT.md §1b): a given
// file first, then a sidecar (extension replaced before appended), else zeros; a file must be a
// float32 .npy of [D] or [1, D] with finite values, and every error names the file; a given file
// for a model without the input is refused, a manifest's is ignored.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  featureSidecarPaths,
  readFeatureFile,
  resolveFeatures,
} from '../../src/core/engine/featureSource';
import { encodeNpy } from '../../src/core/results/npy';
import { featureSourceLines } from '../../src/shared/featureSourceText';
import { scratchDir } from '../helpers/tempFiles';

const dir = scratchDir('feature-source');
const DIMS = { face_mae_features: 4, video_mae_features: 4 };
const vector = (n: number, at = 1) => Float32Array.from({ length: n }, (_, i) => i + at);

describe('feature sources', () => {
  it('sidecar paths: <stem>.face.npy, then <clip>.face.npy', () => {
    assert.deepEqual(featureSidecarPaths('/c/a.mp4', '.face.npy'), [
      '/c/a.face.npy',
      '/c/a.mp4.face.npy',
    ]);
    assert.deepEqual(featureSidecarPaths('/c/noext', '.video.npy'), ['/c/noext.video.npy']);
  });

  it('given, else sidecar, else zeros; the sources say which', async () => {
    const clip = join(dir, 'clip.mp4');
    writeFileSync(join(dir, 'clip.face.npy'), encodeNpy(vector(4), [4]));
    writeFileSync(join(dir, 'clip.mp4.video.npy'), encodeNpy(vector(4, 10), [1, 4]));
    writeFileSync(join(dir, 'given.npy'), encodeNpy(vector(4, 20), [4]));
    const found = await resolveFeatures({
      clipPath: clip,
      dims: DIMS,
      given: undefined,
      sidecar: true,
      modelName: 'm.onnx',
    });
    assert.deepEqual(found?.sources, {
      faceMae: { kind: 'file', path: join(dir, 'clip.face.npy'), from: 'sidecar' },
      videoMae: { kind: 'file', path: join(dir, 'clip.mp4.video.npy'), from: 'sidecar' },
    });
    assert.deepEqual(Array.from(found.vectors.video_mae_features!), [10, 11, 12, 13]);
    const given = await resolveFeatures({
      clipPath: clip,
      dims: DIMS,
      given: { faceMae: { path: join(dir, 'given.npy'), source: 'cli' } },
      sidecar: false,
      modelName: 'm.onnx',
    });
    assert.deepEqual(given?.sources, {
      faceMae: { kind: 'file', path: join(dir, 'given.npy'), from: 'cli' },
      videoMae: { kind: 'zeros' },
    });
    assert.equal(given?.vectors.video_mae_features, undefined, 'zeros: the graph default');
    assert.deepEqual(featureSourceLines(given?.sources), [
      `FaceMAE: ${join(dir, 'given.npy')} (cli)`,
      'VideoMAE: zeros (as the public demo)',
    ]);
  });

  it('a model without the inputs: no sources; a given file is refused, a manifest one ignored', async () => {
    const options = { clipPath: join(dir, 'x.mp4'), dims: {}, sidecar: true, modelName: 'm.onnx' };
    assert.equal(await resolveFeatures({ ...options, given: undefined }), undefined);
    const path = join(dir, 'given.npy');
    assert.equal(
      await resolveFeatures({ ...options, given: { faceMae: { path, source: 'manifest' } } }),
      undefined,
    );
    await assert.rejects(
      resolveFeatures({ ...options, given: { faceMae: { path, source: 'cli' } } }),
      /FaceMAE features ".*given\.npy": m\.onnx has no "face_mae_features" input \(CONTRACT\.md §1b\)/,
    );
  });

  it('checks dtype, shape and values, naming the file', async () => {
    const write = (name: string, bytes: Uint8Array) => {
      writeFileSync(join(dir, name), bytes);
      return join(dir, name);
    };
    const wrongShape = write('shape.npy', encodeNpy(vector(6), [2, 3]));
    await assert.rejects(
      readFeatureFile(wrongShape, 4, 'VideoMAE'),
      /VideoMAE features ".*shape\.npy": shape \[2, 3\], expected \[4\] or \[1, 4\]/,
    );
    const f64 = Buffer.from(encodeNpy(vector(2), [2]));
    f64.write("'<f8'", f64.indexOf("'<f4'"), 'latin1');
    await assert.rejects(
      readFeatureFile(write('f64.npy', f64), 1, 'FaceMAE'),
      /FaceMAE features ".*f64\.npy": dtype <f8 where little-endian float32/,
    );
    const nan = write('nan.npy', encodeNpy(Float32Array.from([1, NaN, 0, 0]), [4]));
    await assert.rejects(readFeatureFile(nan, 4, 'FaceMAE'), /nan\.npy": value 1 is not finite/);
    await assert.rejects(
      readFeatureFile(join(dir, 'none.npy'), 4, 'FaceMAE'),
      /none\.npy": no such file/,
    );
    await assert.rejects(
      readFeatureFile(write('text.npy', Buffer.from('hello')), 4, 'FaceMAE'),
      /text\.npy": not a \.npy array/,
    );
    await assert.rejects(readFeatureFile(dir, 4, 'FaceMAE'), /: not a file/);
    assert.deepEqual(
      Array.from(await readFeatureFile(write('ok.npy', encodeNpy(vector(4), [1, 4])), 4, 'F')),
      [1, 2, 3, 4],
    );
  });
});
