// A contract-1.1 run's token list from its layout (CONTRACT.md §3.3): segment names, grid cells
// as input-frame rectangles, global visual tokens, the audio fed split over its tokens, text
// positions with their kind, slot and written word.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapRunTokens } from '../../src/core/analysis/tokenMap';
import { parseContractMetadata } from '../../src/core/contract/metadata';
import { resolveRunLayout } from '../../src/core/contract/runLayout';
import { toProps, valid11MetadataValues } from '../helpers/contractFixture';

describe('mapRunTokens', () => {
  const meta = parseContractMetadata(toProps(valid11MetadataValues(), '1.1'));
  const run = resolveRunLayout(meta, { slots: { transcript: 'I sing' } });
  const tokens = mapRunTokens(run.layout, {
    frame: meta.frames,
    frameTimesSeconds: [0],
    audioStartSeconds: 0,
    audioWindowSeconds: 2.5,
  });

  it('gives one token per position, in order', () => {
    assert.equal(tokens.length, run.layout.total);
    assert.deepEqual(
      tokens.map((t) => t.index),
      Array.from({ length: run.layout.total }, (_, i) => i),
    );
  });

  it('draws grid cells at their rectangles and names global tokens', () => {
    assert.deepEqual(tokens[10], {
      index: 10,
      modality: 'visual',
      frame: 0,
      row: 1,
      col: 1,
      frameTimeSeconds: 0,
      segment: 'patches',
      cell: { x: 16, y: 16, width: 16, height: 16 },
    });
    assert.deepEqual(tokens[11], {
      index: 11,
      modality: 'visual',
      frame: 0,
      row: 0,
      col: 0,
      frameTimeSeconds: 0,
      segment: 'face',
      global: true,
    });
    assert.deepEqual(tokens[12], {
      index: 12,
      modality: 'audio',
      audioToken: 0,
      startSeconds: 0,
      endSeconds: 2.5,
      segment: 'hubert',
    });
  });

  it('labels text positions: special, template, slot pieces with unk', () => {
    assert.deepEqual(tokens[0], {
      index: 0,
      modality: 'text',
      textToken: 0,
      id: 1,
      text: '<s>',
      segment: 'prefix',
      kind: 'special',
      word: '<s>',
    });
    assert.deepEqual(tokens[16], {
      index: 16,
      modality: 'text',
      textToken: 10,
      id: 0,
      text: '<unk>',
      segment: 'prompt',
      kind: 'slot',
      word: 'sing',
      slot: 'transcript',
    });
  });
});
