import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  headAveragedRows,
  meanTokenAttention,
  tokenAttentionSummary,
} from '../../src/core/analysis/tokenAttention';
import { modalityPositions } from '../../src/shared/tokenPositions';
import { consecutiveLayout, gridLayout } from '../helpers/contractFixture';

function close(actual: number, expected: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: ${actual} ≠ ${expected}`);
}

// Visual tokens 0–3 (1 frame × 2 × 2), the audio token 4, text tokens 5–6.
const LAYOUT = gridLayout({ frames: 1, rows: 2, cols: 2 }, 1, 2);
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
    const layout = consecutiveLayout([
      { modality: 'text', count: 1 },
      { modality: 'audio', count: 2 },
      { modality: 'visual', count: 1 },
      { modality: 'visual', count: 1 },
    ]);
    assert.deepEqual(modalityPositions(layout, 'visual'), [3, 4]);
    const [l] = tokenAttentionSummary([0.2, 0.3, 0.1, 0.15, 0.25], layout, 1, 1);
    close(l!.audioToken, 0.2, 'mean of the two audio tokens');
    close(l!.visualTokenMean, 0.2, 'mean visual');
    close(l!.visualTokenMax, 0.25, 'max visual');
    close(l!.textTokenMean, 0.2, 'text');
  });

  it('gives NaN for a modality the layout lacks', () => {
    const layout = consecutiveLayout([
      { modality: 'visual', count: 2 },
      { modality: 'audio', count: 1 },
    ]);
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
