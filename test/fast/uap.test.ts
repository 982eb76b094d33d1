import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { meanPerLayer } from '../../src/core/analysis/layerMeans';
import { meanUap, uapPerLayer } from '../../src/core/analysis/uap';

function close(actual: number, expected: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: ${actual} ≠ ${expected}`);
}

// Two layers × two heads, (visual, audio, text) per head.
const MASS = [
  [0.6, 0.2, 0.2],
  [0.2, 0.6, 0.2],
  [0.9, 0.0, 0.1],
  [0.5, 0.1, 0.4],
].flat();

describe('uapPerLayer', () => {
  it('averages heads, then gives whole-row and A+V-normalised shares', () => {
    const [l0, l1] = uapPerLayer(MASS, 2, 2);
    close(l0!.visual, 0.4, 'layer 0 visual');
    close(l0!.audio, 0.4, 'layer 0 audio');
    close(l0!.text, 0.2, 'layer 0 text');
    close(l0!.audioOfAV, 0.5, 'layer 0 audio/(A+V)');
    close(l1!.visual, 0.7, 'layer 1 visual');
    close(l1!.audio, 0.05, 'layer 1 audio');
    close(l1!.text, 0.25, 'layer 1 text');
    close(l1!.audioOfAV, 0.05 / 0.75, 'layer 1 audio/(A+V)');
    close(l1!.visualOfAV, 0.7 / 0.75, 'layer 1 visual/(A+V)');
  });

  it('takes L and Hh from the caller, not from constants', () => {
    const one = uapPerLayer([0.25, 0.25, 0.5], 1, 1);
    assert.equal(one.length, 1);
    close(one[0]!.audioOfAV, 0.5, 'single head');
    const sixHeads = uapPerLayer(new Array<number>(3 * 6 * 3).fill(1 / 3), 3, 6);
    assert.equal(sixHeads.length, 3);
  });

  it('gives 0 A+V shares (not NaN) when a layer has no unimodal mass', () => {
    const [l] = uapPerLayer([0, 0, 1], 1, 1);
    assert.equal(l!.audioOfAV, 0);
    assert.equal(l!.visualOfAV, 0);
  });

  it('rejects a tensor of the wrong size', () => {
    assert.throws(() => uapPerLayer(MASS, 2, 3), RangeError);
  });
});

describe('meanUap and meanPerLayer', () => {
  it('averages each field per layer over clips', () => {
    const a = uapPerLayer(MASS, 2, 2);
    const b = uapPerLayer([0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0], 2, 2);
    const [l0, l1] = meanUap([a, b]);
    close(l0!.audio, (0.4 + 1) / 2, 'layer 0 audio');
    close(l0!.audioOfAV, (0.5 + 1) / 2, 'layer 0 audio/(A+V), mean of per-clip ratios');
    close(l1!.visual, (0.7 + 1) / 2, 'layer 1 visual');
    assert.deepEqual(meanUap([]), []);
  });

  it('rejects clips with different layer counts', () => {
    assert.throws(() => meanPerLayer([[{ x: 1 }], [{ x: 1 }, { x: 2 }]], ['x']), RangeError);
  });
});
