// Contract 1.2's `audio_repeat` (CONTRACT.md §1c) without a session: the metadata's repeat_max
// (1.2 only), the signature rule (input ⇔ repeat_max, absence accepted, N symbolic) and the run's
// layout for k (repeatAudio: |A| = k, later positions and N moved by k − 1).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseContractMetadata, countTokens } from '../../src/core/contract/metadata';
import { readOnnxModelInfo } from '../../src/core/onnx/modelProto';
import { checkAudioRepeat, repeatAudio, resolveRunLayout } from '../../src/core/contract/runLayout';
import { expectedOutputs, signatureProblems } from '../../src/core/contract/signature';
import { applyFlagRule } from '../../src/shared/flagRule';
import { toProps, valid11MetadataValues, validSignature } from '../helpers/contractFixture';
import { REPO_ROOT } from '../helpers/golden';

const SHIPPED = join(REPO_ROOT, 'models', 'checkpoints', 'emotion-llama-tiny.onnx');

function values12(repeatMax: number | undefined): Record<string, unknown> {
  const values = valid11MetadataValues();
  const audio = values['mosear.audio'] as Record<string, unknown>;
  if (repeatMax !== undefined) audio['repeat_max'] = repeatMax;
  return values;
}

describe('audio_repeat: metadata and signature', () => {
  it('1.2 reads repeat_max; 1.1 refuses it; 1.2 without it is read as 1.1', () => {
    const meta = parseContractMetadata(toProps(values12(16), '1.2'));
    assert.equal(meta.contract, '1.2');
    assert.equal(meta.audio.repeatMax, 16);
    assert.throws(
      () => parseContractMetadata(toProps(values12(16), '1.1')),
      /repeat_max: only contract 1\.2 declares it/,
    );
    assert.throws(() => parseContractMetadata(toProps(values12(1), '1.2')), /integer ≥ 2/);
    const plain = parseContractMetadata(toProps(values12(undefined), '1.2'));
    assert.equal(plain.audio.repeatMax, undefined);
  });

  it('the graph declares audio_repeat exactly when the metadata has repeat_max', () => {
    // The contract-1 fixture's signature, read under a 1.2 metadata with the same shapes.
    const v1 = parseContractMetadata(toProps(valid11MetadataValues(), '1.1'));
    const with12 = { ...v1, contract: '1.2' as const, audio: { ...v1.audio, repeatMax: 8 } };
    const without12 = { ...v1, contract: '1.2' as const };
    const sig = validSignature();
    const added = {
      ...sig,
      inputNames: [...sig.inputNames, 'audio_repeat'],
      inputMetadata: [
        ...sig.inputMetadata,
        { name: 'audio_repeat', isTensor: true, type: 'int64', shape: [] },
      ],
    };
    const repeatProblems = (m: typeof v1, s: typeof sig) =>
      signatureProblems(m, s).filter((p) => p.includes('audio_repeat'));
    assert.deepEqual(repeatProblems(without12, sig), []);
    assert.deepEqual(repeatProblems(with12, sig), [
      'mosear.audio.repeat_max is set but the graph has no input "audio_repeat"',
    ]);
    assert.deepEqual(repeatProblems(without12, added), [
      'input "audio_repeat" is present but mosear.audio.repeat_max is not',
    ]);
    assert.deepEqual(repeatProblems(with12, added), []);
    // A 1.1 model has no such input.
    assert.deepEqual(repeatProblems(v1, added), [
      'unexpected input "audio_repeat" (contract v1.1 has no such input)',
    ]);
    const wrong = {
      ...added,
      inputMetadata: added.inputMetadata.map((m) =>
        m.name === 'audio_repeat' ? { ...m, type: 'float32' } : m,
      ),
    };
    assert.deepEqual(repeatProblems(with12, wrong), [
      'input "audio_repeat" has type float32, expected int64',
    ]);
    // N is symbolic with the input.
    const fixed = { ...with12, tokenLayout: { ...with12.tokenLayout } };
    delete fixed.tokenLayout.variableSegment;
    const n = expectedOutputs(fixed).find((o) => o.name === 'token_attention')?.shape[2];
    assert.equal(n, 'N');
  });
});

describe('audio_repeat: the run layout for k', async () => {
  const shipped = parseContractMetadata((await readOnnxModelInfo(SHIPPED)).metadata);

  it('k = 1 is the metadata itself; k = 4 has four audio positions and N + 3', () => {
    assert.equal(repeatAudio(shipped, 1), shipped);
    const run = repeatAudio(shipped, 4);
    const seg = (m: typeof shipped) =>
      m.tokenLayout.segments.map((s) => [s.name, s.modality, s.start, s.count]);
    assert.deepEqual(seg(shipped), [
      ['patches', 'visual', 0, 64],
      ['audio', 'audio', 64, 1],
      ['prompt', 'text', 65, 8],
    ]);
    assert.deepEqual(seg(run), [
      ['patches', 'visual', 0, 64],
      ['audio', 'audio', 64, 4],
      ['prompt', 'text', 68, 8],
    ]);
    assert.equal(run.tokenLayout.total, 76);
    assert.deepEqual(run.answerPositions, [75]);
    assert.equal(countTokens(run.tokenLayout, 'audio'), 4);
    assert.equal(run.audio.tokens, 4);
    // The run's layout: text positions after the copies, the answer at N − 1.
    const resolved = resolveRunLayout(run);
    assert.equal(resolved.layout.total, 76);
    assert.deepEqual(
      resolved.layout.text.map((t) => t.position),
      [68, 69, 70, 71, 72, 73, 74, 75],
    );
    assert.deepEqual(resolved.answerPositions, [75]);
    assert.deepEqual(resolved.promptIds, resolveRunLayout(shipped).promptIds);
  });

  it('|A| = k in the density statistic', () => {
    const mass = new Float32Array(4 * 4 * 3);
    for (let i = 0; i < 16; i++) mass.set([0.5, 0.2, 0.3], i * 3);
    const density = (audioTokens: number) =>
      applyFlagRule({
        modalityMass: mass,
        layers: 4,
        heads: 4,
        visualTokens: 64,
        audioTokens,
        controls: {
          mode: 1,
          ratioKind: 1,
          tau: [0, 0, 0, 0],
          headMargin: 0,
          layers: [1, 1, 1, 1],
          headOverride: Array.from({ length: 4 }, () => [0, 0, 0, 0]),
        },
      }).layers[0]?.statistic;
    const k4 = countTokens(repeatAudio(shipped, 4).tokenLayout, 'audio');
    assert.ok(Math.abs(density(k4)! * 4 - density(1)!) < 1e-9);
  });

  it('refuses k outside 1 … repeat_max, and k ≠ 1 without the input', () => {
    assert.throws(() => checkAudioRepeat(shipped, 0), /an integer ≥ 1, got 0/);
    assert.throws(() => checkAudioRepeat(shipped, 2.5), /an integer ≥ 1/);
    assert.throws(() => checkAudioRepeat(shipped, 65), /above the model's cap/);
    assert.doesNotThrow(() => checkAudioRepeat(shipped, 64));
    const v11 = { ...shipped, contract: '1.1' as const, audio: { ...shipped.audio } };
    delete v11.audio.repeatMax;
    assert.doesNotThrow(() => checkAudioRepeat(v11, 1));
    assert.throws(() => repeatAudio(v11, 2), /has no "audio_repeat" input/);
  });
});
