import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenLayout } from '../../src/protocol/contract';
import {
  headAveragedRows,
  meanTokenAttention,
  tokenAttentionSummary,
} from '../../src/core/analysis/tokenAttention';
import { modalityPositions } from '../../src/shared/tokenPositions';

function close(actual: number, expected: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: ${actual} ≠ ${expected}`);
}

// 4 visual tokens (1 frame × 2 × 2), 1 audio token, 2 text tokens.
const LAYOUT: TokenLayout = {
  segments: [
    {
      modality: 'visual',
      start: 0,
      count: 4,
      grid: { frames: 1, rows: 2, cols: 2, order: 'frame,row,col' },
    },
    { modality: 'audio', start: 4, count: 1 },
    { modality: 'text', start: 5, count: 2 },
  ],
  total: 7,
};
// One layer, two heads.
const ROWS = [
  [0.1, 0.1, 0.1, 0.1, 0.4, 0.1, 0.1],
  [0.0, 0.2, 0.0, 0.2, 0.2, 0.2, 0.2],
].flat();

describe('token attention', () => {
  it('averages heads per key position', () => {
    const [row] = headAveragedRows(ROWS, 1, 2, 7);
    assert.deepEqual(
      Array.from(row!, (v) => Number(v.toFixed(12))),
      [0.05, 0.15, 0.05, 0.15, 0.3, 0.15, 0.15],
    );
  });

  it('summarises the audio token against the mean and largest visual token', () => {
    const [l] = tokenAttentionSummary(ROWS, LAYOUT, 1, 2);
    close(l!.audioToken, 0.3, 'audio token');
    close(l!.visualTokenMean, 0.1, 'mean visual token');
    close(l!.visualTokenMax, 0.15, 'largest visual token');
    close(l!.textTokenMean, 0.15, 'mean text token');
  });

  it('follows the layout, whatever the segment order and counts', () => {
    // Text first, then two audio tokens, then visual tokens split over two segments.
    const layout: TokenLayout = {
      segments: [
        { modality: 'text', start: 0, count: 1 },
        { modality: 'audio', start: 1, count: 2 },
        { modality: 'visual', start: 3, count: 1 },
        { modality: 'visual', start: 4, count: 1 },
      ],
      total: 5,
    };
    assert.deepEqual(modalityPositions(layout, 'visual'), [3, 4]);
    const [l] = tokenAttentionSummary([0.2, 0.3, 0.1, 0.15, 0.25], layout, 1, 1);
    close(l!.audioToken, 0.2, 'mean of the two audio tokens');
    close(l!.visualTokenMean, 0.2, 'mean visual');
    close(l!.visualTokenMax, 0.25, 'max visual');
    close(l!.textTokenMean, 0.2, 'text');
  });

  it('gives NaN for a modality the layout lacks', () => {
    const layout: TokenLayout = {
      segments: [
        { modality: 'visual', start: 0, count: 2 },
        { modality: 'audio', start: 2, count: 1 },
      ],
      total: 3,
    };
    const [l] = tokenAttentionSummary([0.25, 0.25, 0.5], layout, 1, 1);
    assert.ok(Number.isNaN(l!.textTokenMean));
  });

  it('averages summaries over clips and rejects a tensor of the wrong size', () => {
    const a = tokenAttentionSummary(ROWS, LAYOUT, 1, 2);
    const b = tokenAttentionSummary([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0], LAYOUT, 1, 2);
    const [m] = meanTokenAttention([a, b]);
    close(m!.audioToken, (0.3 + 1) / 2, 'mean audio token');
    assert.throws(() => tokenAttentionSummary(ROWS, LAYOUT, 2, 2), RangeError);
  });
});
