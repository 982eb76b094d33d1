import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyFlagRule, layerRatioStatistics } from '../../src/shared/flagRule';
import { defaultControls } from '../../src/shared/controls';
import { noEffectSentence, whyNoEffect, type ClipStatistics } from '../../src/shared/noEffect';
import type { ArControls, RatioKind } from '../../src/protocol/contract';
import { RATIO_KIND_NAMES } from '../../src/protocol/contract';
import { parseContractMetadata } from '../../src/core/contract/metadata';
import { toProps, validMetadataValues } from '../helpers/contractFixture';

// Two layers × three heads, 4 visual tokens and 1 audio token; masses are (visual, audio, text).
const MASS = [
  [0.2, 0.6, 0.2],
  [0.5, 0.3, 0.2],
  [0.7, 0.1, 0.2],
  [0.3, 0.2, 0.5],
  [0.45, 0.05, 0.5],
  [0.45, 0.05, 0.5],
].flat();
const COUNTS = { visualTokens: 4, audioTokens: 1 };

function statistics(): ClipStatistics {
  const perKind = (kind: RatioKind) =>
    [0, 1].map((l) => layerRatioStatistics(MASS, l, 3, kind, COUNTS));
  return { raw: perKind(0), density: perKind(1), share: perKind(2) };
}

function controls(over: Partial<ArControls> = {}): ArControls {
  return {
    mode: 1,
    ratioKind: 2,
    tau: [0.1, 0.1],
    headMargin: 0,
    alpha: 0.3,
    paiAlpha: 0.5,
    layers: [1, 1],
    headOverride: [
      [0, 0, 0],
      [0, 0, 0],
    ],
    ...over,
  };
}

/** Heads the flag rule flags on MASS with these controls (the independent check). */
function flagged(c: ArControls): number {
  const { arFlags } = applyFlagRule({
    modalityMass: MASS,
    layers: 2,
    heads: 3,
    ...COUNTS,
    controls: c,
  });
  return arFlags.filter((v) => v > 0.5).length;
}

describe('whyNoEffect', () => {
  it('finds nothing for a setting that acts', () => {
    assert.deepEqual(whyNoEffect(controls(), statistics()), []);
    assert.deepEqual(whyNoEffect(controls({ mode: 2 })), []);
    assert.ok(flagged(controls()) > 0);
    assert.equal(noEffectSentence([]), '');
  });

  it('names mode off, α = 0 and γ = 0, each only for its own mode', () => {
    assert.deepEqual(whyNoEffect(controls({ mode: 0, alpha: 0 })), ['mode off']);
    assert.deepEqual(whyNoEffect(controls({ alpha: 0 })), ['α = 0']);
    assert.deepEqual(whyNoEffect(controls({ alpha: 0, mode: 2 })), []);
    assert.deepEqual(whyNoEffect(controls({ paiAlpha: 0, mode: 2 })), ['γ = 0']);
    assert.deepEqual(whyNoEffect(controls({ paiAlpha: 0 })), []);
    assert.equal(
      noEffectSentence(whyNoEffect(controls({ alpha: 0 }))),
      'This setting cannot change the model: α = 0.',
    );
  });

  it('finds mosear-style defaults (α 0, γ 0) a no-op in AR and PAI-style', () => {
    const meta = parseContractMetadata(toProps(validMetadataValues()));
    const d = { ...defaultControls(meta), alpha: 0, paiAlpha: 0 };
    assert.deepEqual(whyNoEffect({ ...d, mode: 1 }), ['α = 0']);
    assert.deepEqual(whyNoEffect({ ...d, mode: 2 }), ['γ = 0']);
  });

  it('names no layer enabled, even with a head forced on (overrides act only in enabled layers)', () => {
    const c = controls({
      layers: [0, 0],
      headOverride: [
        [1, 0, 0],
        [0, 0, 0],
      ],
    });
    assert.deepEqual(whyNoEffect(c), ['no layer enabled']);
    assert.equal(flagged(c), 0);
    assert.deepEqual(whyNoEffect({ ...c, mode: 2, paiAlpha: 0 }), ['γ = 0', 'no layer enabled']);
  });

  it('names every enabled head forced off (AR only), ignoring disabled layers', () => {
    const c = controls({
      layers: [1, 0],
      headOverride: [
        [-1, -1, -1],
        [0, 1, 0],
      ],
    });
    assert.deepEqual(whyNoEffect(c), ['every enabled head forced off']);
    assert.equal(flagged(c), 0);
    assert.deepEqual(whyNoEffect({ ...c, mode: 2 }), []);
  });

  it('names τ above every layer statistic only with the clip statistics, as the flag rule finds', () => {
    for (const kind of [0, 1, 2] as RatioKind[]) {
      const stats = statistics()[RATIO_KIND_NAMES[kind]].map((s) => s.statistic);
      const top = Math.max(...stats);
      const above = controls({ ratioKind: kind, tau: [top, top] });
      assert.deepEqual(whyNoEffect(above, statistics()), ['τ above every layer statistic']);
      assert.deepEqual(whyNoEffect(above), [], 'without statistics: only the static reasons');
      assert.equal(flagged(above), 0, `kind ${kind}: nothing flags at τ = max statistic`);
      // Just below the largest statistic one layer triggers: no reason.
      const below = controls({ ratioKind: kind, tau: [top * 0.999, top * 0.999] });
      assert.deepEqual(whyNoEffect(below, statistics()), []);
      // A head forced on in an enabled layer acts whatever τ is.
      const forced = {
        ...above,
        headOverride: [
          [1, 0, 0],
          [0, 0, 0],
        ],
      };
      assert.deepEqual(whyNoEffect(forced, statistics()), []);
      assert.ok(flagged(forced) > 0);
    }
    // A disabled layer's statistic does not count.
    const stats = statistics().share.map((s) => s.statistic);
    const c = controls({ layers: [0, 1], tau: [0, Math.max(...stats)] });
    assert.deepEqual(whyNoEffect(c, statistics()), ['τ above every layer statistic']);
  });
});
