import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContractError } from '../../src/core/contract/contractError';
import { parseContractMetadata } from '../../src/core/contract/metadata';
import { INPUT_NAMES, OUTPUT_NAMES } from '../../src/core/contract/names';
import {
  expectedInputs,
  signatureProblems,
  validateSessionSignature,
  type ValueInfo,
} from '../../src/core/contract/signature';
import {
  propsWith,
  toProps,
  validMetadataValues,
  validSignature,
} from '../helpers/contractFixture';

const meta = parseContractMetadata(toProps(validMetadataValues()));

function without(list: string[], name: string): string[] {
  return list.filter((n) => n !== name);
}

/** The valid signature with some inputs' and outputs' type or shape changed, by name. */
function signatureWith(
  inputs: Record<string, Partial<ValueInfo>>,
  outputs: Record<string, Partial<ValueInfo>> = {},
): ReturnType<typeof validSignature> {
  const sig = validSignature();
  sig.inputMetadata = sig.inputMetadata.map((m) => ({ ...m, ...inputs[m.name] }));
  sig.outputMetadata = sig.outputMetadata.map((m) => ({ ...m, ...outputs[m.name] }));
  return sig;
}

describe('validateSessionSignature', () => {
  it('accepts a session that matches the contract', () => {
    assert.deepEqual(signatureProblems(meta, validSignature()), []);
    assert.doesNotThrow(() => validateSessionSignature(meta, validSignature()));
  });

  for (const name of INPUT_NAMES) {
    it(`rejects a model missing input ${name}, naming it`, () => {
      const sig = validSignature();
      sig.inputNames = without(sig.inputNames, name);
      sig.inputMetadata = sig.inputMetadata.filter((m) => m.name !== name);
      assert.throws(
        () => validateSessionSignature(meta, sig),
        (e: unknown) => e instanceof ContractError && e.message.includes(`missing input "${name}"`),
      );
    });
  }

  for (const name of OUTPUT_NAMES) {
    it(`rejects a model missing output ${name}, naming it`, () => {
      const sig = validSignature();
      sig.outputNames = without(sig.outputNames, name);
      assert.throws(
        () => validateSessionSignature(meta, sig),
        (e: unknown) =>
          e instanceof ContractError && e.message.includes(`missing output "${name}"`),
      );
    });
  }

  it('requires mose_gate exactly when the architecture has MoSE', () => {
    const sig = validSignature();
    sig.outputNames = without(sig.outputNames, 'mose_gate');
    assert.deepEqual(signatureProblems(meta, sig), ['missing output "mose_gate"']);
    const plain = parseContractMetadata(
      propsWith('mosear.architecture', (a) => {
        a['adapter'] = 'lora';
        a['mose'] = false;
        a['mose_eps'] = null;
      }),
    );
    assert.deepEqual(signatureProblems(plain, sig), []);
    assert.deepEqual(signatureProblems(plain, validSignature()), [
      'output "mose_gate" is present but mosear.architecture.mose is false',
    ]);
  });

  it('names an input or output whose shape disagrees with the metadata, with both shapes', () => {
    const sig = signatureWith(
      { frames: { shape: [1, 8, 3, 64, 64] } },
      { logits: { shape: [1, 7] } },
    );
    assert.deepEqual(signatureProblems(meta, sig), [
      'input "frames" has shape [1, 8, 3, 64, 64], expected [1, 4, 3, 64, 64]',
      'output "logits" has shape [1, 7], expected [1, 6]',
    ]);
  });

  it('names a wrong element type and a rank mismatch', () => {
    const sig = signatureWith({ ar_mode: { type: 'float32' }, ar_head_override: { shape: [16] } });
    assert.deepEqual(signatureProblems(meta, sig), [
      'input "ar_mode" has type float32, expected int64',
      'input "ar_head_override" has shape [16], expected [4, 4]',
    ]);
  });

  it('accepts symbolic dimensions and undeclared shapes', () => {
    const sig = signatureWith({
      frames: { shape: ['batch', 'T', 3, 64, 64] },
      ar_tau: { shape: [] },
    });
    assert.deepEqual(signatureProblems(meta, sig), []);
  });

  it('takes T as dynamic when the metadata says so', () => {
    const dynamic = parseContractMetadata(
      propsWith('mosear.frames', (f) => (f['dynamic_count'] = true)),
    );
    assert.deepEqual(expectedInputs(dynamic)[0]?.shape, [1, null, 3, 64, 64]);
    const sig = signatureWith({ frames: { shape: [1, 16, 3, 64, 64] } });
    assert.deepEqual(signatureProblems(dynamic, sig), []);
  });

  it('rejects inputs the contract does not have, and non-tensor values', () => {
    const sig = validSignature();
    sig.inputNames = [...sig.inputNames, 'temperature'];
    sig.outputMetadata = sig.outputMetadata.map((m) =>
      m.name === 'ar_flags' ? { name: m.name, isTensor: false } : m,
    );
    assert.deepEqual(signatureProblems(meta, sig), [
      'unexpected input "temperature" (contract v1 has no such input)',
      'output "ar_flags" is not a tensor',
    ]);
  });

  it('lists every problem in one error', () => {
    const sig = validSignature();
    sig.inputNames = without(sig.inputNames, 'ar_alpha');
    sig.outputNames = without(sig.outputNames, 'logits');
    assert.throws(() => validateSessionSignature(meta, sig), {
      message:
        'model does not follow contract v1: missing input "ar_alpha"; missing output "logits"',
    });
  });
});
