// Token layout → per-token positions: frame/row/col of visual tokens, time spans of audio
// tokens, prompt words of text tokens.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mapTokens } from '../../src/core/analysis/tokenMap';
import { gridLayout } from '../helpers/contractFixture';

// Visual tokens 0–11 (2 frames × 2 × 3), audio tokens 12–13, text tokens 14–16.
const layout = gridLayout({ frames: 2, rows: 2, cols: 3 }, 2, 3);

describe('mapTokens', () => {
  const tokens = mapTokens(layout, {
    durationSeconds: 4,
    audioStartSeconds: 1,
    audioWindowSeconds: 2,
    promptIds: [2, 0],
    vocab: ['<bos>', 'hello', 'what'],
  });

  test('one entry per key position, in order', () => {
    assert.equal(tokens.length, 17);
    tokens.forEach((t, i) => assert.equal(t.index, i));
  });

  test('visual token start + (f·rows + r)·cols + c is frame f, row r, column c', () => {
    const t = tokens[1 * 6 + 1 * 3 + 2];
    assert.deepEqual(t, {
      index: 11,
      modality: 'visual',
      frame: 1,
      row: 1,
      col: 2,
      frameTimeSeconds: 3,
    });
    assert.deepEqual(tokens[4], {
      index: 4,
      modality: 'visual',
      frame: 0,
      row: 1,
      col: 1,
      frameTimeSeconds: 1,
    });
  });

  test('audio tokens split the audio window evenly', () => {
    assert.deepEqual(tokens[12], {
      index: 12,
      modality: 'audio',
      audioToken: 0,
      startSeconds: 1,
      endSeconds: 2,
    });
    assert.deepEqual(tokens[13], {
      index: 13,
      modality: 'audio',
      audioToken: 1,
      startSeconds: 2,
      endSeconds: 3,
    });
  });

  test('text tokens take the prompt ids in order; missing ids read "?"', () => {
    assert.deepEqual(tokens.slice(14), [
      { index: 14, modality: 'text', textToken: 0, id: 2, text: 'what' },
      { index: 15, modality: 'text', textToken: 1, id: 0, text: '<bos>' },
      { index: 16, modality: 'text', textToken: 2, id: null, text: '?' },
    ]);
  });
});
