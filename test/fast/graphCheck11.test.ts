// Contract 1.1's graph rules (CONTRACT.md §1, §1a, §1b, §2, §2a): optional `head_gate`, the
// feature inputs (a fixed D) and `layer_logits` checked exactly when declared, unknown inputs refused and unknown outputs
// ignored, variable S, P and N declared symbolic, fixed dimensions still checked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContractError } from '../../src/core/contract/contractError';
import { graphProblems, readCheckedModelFile } from '../../src/core/contract/graphCheck';
import { parseContractMetadata } from '../../src/core/contract/metadata';
import { signatureProblems } from '../../src/core/contract/signature';
import {
  toProps,
  valid11GraphValues,
  valid11MetadataValues,
  validGraphValues,
  validMetadataValues,
} from '../helpers/contractFixture';
import { graphBytes, onnxModelBytes } from '../helpers/protoEncode';
import { scratchDir, writeTemp } from '../helpers/tempFiles';

const dir = scratchDir('graph-check-11');
type Graph = ReturnType<typeof valid11GraphValues>;

const meta11 = parseContractMetadata(toProps(valid11MetadataValues(), '1.1'));

/** The problems of the 1.1 fixture's graph after `edit`. */
function problems(edit: (graph: Graph) => void = () => {}): string[] {
  const graph = valid11GraphValues();
  edit(graph);
  const signature = {
    inputNames: graph.inputs.map((v) => v.name),
    outputNames: graph.outputs.map((v) => v.name),
    inputMetadata: graph.inputs.map((v) => ({ ...v, isTensor: true })),
    outputMetadata: graph.outputs.map((v) => ({ ...v, isTensor: true })),
  };
  const declared = { inputs: signature.inputMetadata, outputs: signature.outputMetadata };
  return graphProblems(meta11, declared).map((p) => `${p.text} ${p.sections.join(',')}`);
}

function set(list: Graph['inputs'], name: string, change: Partial<Graph['inputs'][number]>) {
  const at = list.findIndex((v) => v.name === name);
  assert.ok(at >= 0, name);
  list[at] = { ...list[at]!, ...change };
}

describe('contract 1.1 graph check', () => {
  it('accepts the fixture graph with and without the optional input and output', () => {
    assert.deepEqual(problems(), []);
    assert.deepEqual(
      problems((g) => {
        g.inputs = g.inputs.filter((v) => v.name !== 'head_gate');
        g.outputs = g.outputs.filter((v) => v.name !== 'layer_logits');
      }),
      [],
    );
  });

  it('checks head_gate and layer_logits exactly when declared', () => {
    assert.deepEqual(
      problems((g) => set(g.inputs, 'head_gate', { shape: [2, 3] })),
      ['input "head_gate" has shape [2, 3], expected [2, 2] §1a,§3'],
    );
    assert.deepEqual(
      problems((g) => set(g.inputs, 'head_gate', { type: 'int64' })),
      ['input "head_gate" has type int64, expected float32 §1a'],
    );
    assert.deepEqual(
      problems((g) => set(g.outputs, 'layer_logits', { shape: [2, 'labels'] })),
      ['output "layer_logits" has shape [2, labels], expected [2, 6] §2a,§3'],
    );
  });

  it('accepts greedy_token and label_probability when declared right, names them when not', () => {
    const declare = (g: Graph, greedy: string, probability: (number | string)[]) => {
      g.outputs.push({ name: 'greedy_token', type: greedy, shape: [1] });
      g.outputs.push({ name: 'label_probability', type: 'float32', shape: probability });
    };
    assert.deepEqual(
      problems((g) => declare(g, 'int64', [1])),
      [],
    );
    assert.deepEqual(
      problems((g) => declare(g, 'float32', [1, 1])),
      [
        'output "greedy_token" has type float32, expected int64 §2a',
        'output "label_probability" has shape [1, 1], expected [1] §2a,§3',
      ],
    );
  });

  it('refuses an unknown input and ignores an unknown output', () => {
    assert.deepEqual(
      problems((g) => {
        g.inputs.push({ name: 'speaker_id', type: 'int64', shape: [] });
        g.outputs.push({ name: 'hidden_states', type: 'float32', shape: [2, 5] });
      }),
      ['unexpected input "speaker_id" (contract v1.1 has no such input) §1,§1a,§1b'],
    );
  });

  it('accepts the FaceMAE / VideoMAE feature inputs as [1, D] with a fixed D, names them when not (§1b)', () => {
    const declare = (g: Graph, face: (number | string)[], type = 'float32') => {
      g.inputs.push({ name: 'face_mae_features', type, shape: face });
      g.inputs.push({ name: 'video_mae_features', type: 'float32', shape: [1, 1024] });
    };
    assert.deepEqual(
      problems((g) => declare(g, [1, 32])),
      [],
    );
    assert.deepEqual(
      problems((g) => declare(g, [1, 'D'])),
      ['input "face_mae_features" has shape [1, D], expected [1, D] with a fixed D §1b'],
    );
    assert.deepEqual(
      problems((g) => declare(g, [32], 'int64')),
      [
        'input "face_mae_features" has type int64, expected float32 §1b',
        'input "face_mae_features" has shape [32], expected [1, ?] §1b,§3',
      ],
    );
  });

  it('wants variable S, P and N symbolic, and still checks fixed sizes', () => {
    assert.deepEqual(
      problems((g) => {
        set(g.inputs, 'audio', { shape: [1, 16000] });
        set(g.inputs, 'prompt_ids', { shape: [1, 17] });
        set(g.outputs, 'token_attention', { shape: [2, 2, 23] });
        set(g.inputs, 'frames', { shape: [1, 1, 3, 32, 'width'] });
      }),
      [
        'input "frames" has shape [1, 1, 3, 32, width], expected [1, 1, 3, 32, 32] §1,§3',
        'input "audio" has shape [1, 16000], expected [1, S] §1,§3',
        'input "prompt_ids" has shape [1, 17], expected [1, P] §1,§3',
        'output "token_attention" has shape [2, 2, 23], expected [2, 2, N] §2,§3',
      ],
    );
    // A session names what it cannot infer: the session check lets any size through there.
    const graph = valid11GraphValues();
    set(graph.inputs, 'audio', { shape: [1, 16000] });
    const session = {
      inputNames: graph.inputs.map((v) => v.name),
      outputNames: graph.outputs.map((v) => v.name),
      inputMetadata: graph.inputs.map((v) => ({ ...v, isTensor: true })),
      outputMetadata: graph.outputs.map((v) => ({ ...v, isTensor: true })),
    };
    assert.deepEqual(signatureProblems(meta11, session), []);
  });

  it('reads a 1.1 model file end to end, and keeps refusing head_gate on a v1 model', async () => {
    const file11 = writeTemp(
      dir,
      'v11.onnx',
      onnxModelBytes({
        irVersion: 8,
        graph: graphBytes(valid11GraphValues()),
        opsets: [{ domain: '', version: 17 }],
        metadata: [...toProps(valid11MetadataValues(), '1.1')],
      }),
    );
    const checked = await readCheckedModelFile(file11);
    assert.equal(checked.metadata.contract, '1.1');
    const v1 = validGraphValues();
    v1.inputs.push({ name: 'head_gate', type: 'float32', shape: [4, 4] });
    const file1 = writeTemp(
      dir,
      'v1-gate.onnx',
      onnxModelBytes({
        irVersion: 8,
        graph: graphBytes(v1),
        opsets: [{ domain: '', version: 17 }],
        metadata: [...toProps(validMetadataValues())],
      }),
    );
    await assert.rejects(readCheckedModelFile(file1), (error: unknown) => {
      assert.ok(error instanceof ContractError);
      assert.match(error.message, /contract v1 .*1 problem/);
      assert.match(error.message, /unexpected input "head_gate" \(contract v1 has no such input\)/);
      return true;
    });
  });
});
