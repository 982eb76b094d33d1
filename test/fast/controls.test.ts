import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArControls } from '../../src/protocol/contract';
import { validateControls } from '../../src/core/contract/controls';
import { defaultControls } from '../../src/shared/controls';
import { parseContractMetadata } from '../../src/core/contract/metadata';
import { toProps, validMetadataValues } from '../helpers/contractFixture';

const meta = parseContractMetadata(toProps(validMetadataValues()));

function rejects(edit: (c: ArControls) => void, pattern: RegExp) {
  const controls = defaultControls(meta);
  edit(controls);
  assert.throws(() => validateControls(meta, controls), pattern);
}

describe('controls', () => {
  it('starts from the checkpoint defaults with no overrides', () => {
    const c = defaultControls(meta);
    assert.deepEqual(c, {
      mode: 1,
      ratioKind: 2,
      tau: [0.5, 0.5, 0.5, 0.5],
      headMargin: 0.1,
      alpha: 0.3,
      paiAlpha: 0.5,
      layers: [0, 1, 1, 1],
      headOverride: [
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ],
    });
    c.tau[0] = 9;
    assert.equal(meta.arDefaults.tau[0], 0.5, 'defaults are copied, not shared');
    assert.doesNotThrow(() => validateControls(meta, c));
  });

  it('rejects what the graph must never see, naming the input', () => {
    rejects((c) => (c.mode = 3 as never), /^ContractError: ar_mode: must be 0, 1 or 2, got 3/);
    rejects((c) => (c.ratioKind = -1 as never), /ar_ratio_kind: must be 0, 1 or 2/);
    rejects((c) => (c.alpha = 1.01), /ar_alpha: must be in \[0, 1\], got 1.01/);
    rejects((c) => (c.alpha = Number.NaN), /ar_alpha/);
    rejects((c) => (c.headMargin = Infinity), /ar_head_margin: must be finite/);
    rejects((c) => (c.paiAlpha = Number.NaN), /pai_alpha: must be finite/);
    rejects((c) => (c.tau = [1, 2, 3]), /ar_tau: needs 4 values \(one per layer\), got 3/);
    rejects((c) => (c.layers = [1, 1, 1, 1, 1]), /ar_layers: needs 4 values/);
    rejects((c) => c.headOverride.pop(), /ar_head_override: needs 4 rows/);
    rejects((c) => c.headOverride[2]?.push(0), /ar_head_override: row 2 needs 4 values, got 5/);
    rejects((c) => (c.tau[1] = Number.NaN), /ar_tau: value 1 is NaN/);
  });
});
