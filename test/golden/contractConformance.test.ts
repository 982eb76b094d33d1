// The committed checkpoints follow the contract, and models that break it are rejected by name.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ContractError } from '../../src/core/contract/contractError';
import { parseContractMetadata } from '../../src/core/contract/metadata';
import { INPUT_NAMES, MOSE_OUTPUT, OUTPUT_NAMES } from '../../src/core/contract/names';
import { closeContractModel, openContractModel } from '../../src/core/inference/contractModel';
import { OnnxModelError, readOnnxModelInfo } from '../../src/core/onnx/modelProto';
import { requireCheckpoints } from '../helpers/golden';
import { readCheckedModelFile } from '../../src/core/contract/graphCheck';
import {
  dropGraphOutput,
  renameGraphInput,
  renameGraphOutput,
  setFirstNodeOpType,
  setGraphInputElemType,
  setIrVersion,
  setMetadata,
} from '../helpers/protoEncode';
import { scratchDir, writeTemp } from '../helpers/tempFiles';

const MAX_BYTES = 20 * 1024 * 1024;
const dir = scratchDir('conformance');

async function rejectsWith(
  path: string,
  type: typeof ContractError | typeof OnnxModelError,
  text: string,
) {
  await assert.rejects(openContractModel(path), (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.ok(error.message.includes(text), `"${error.message}" does not mention ${text}`);
    return true;
  });
}

for (const checkpoint of requireCheckpoints(it)) {
  describe(`contract conformance: ${checkpoint.name}`, () => {
    const bytes = new Uint8Array(readFileSync(checkpoint.onnxPath));

    it('is at most 20 MB, opset 17, with valid contract-v1 metadata naming it', async () => {
      assert.ok(statSync(checkpoint.onnxPath).size <= MAX_BYTES, 'checkpoint larger than 20 MB');
      const info = await readOnnxModelInfo(checkpoint.onnxPath);
      const onnxOpset = info.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx');
      assert.equal(onnxOpset?.version, 17, 'default-domain opset');
      assert.ok(info.irVersion >= 7, `ir_version ${info.irVersion}`);
      assert.ok(info.graphBytes > 0.5 * bytes.length, 'the graph holds most of the file');
      const meta = parseContractMetadata(info.metadata);
      assert.equal(meta.checkpoint.name, checkpoint.name);
    });

    it('opens, and its session matches the contract (mose_gate iff MoSE)', async () => {
      const model = await openContractModel(checkpoint.onnxPath);
      try {
        assert.equal(
          model.session.outputNames.includes(MOSE_OUTPUT),
          model.metadata.architecture.mose,
        );
      } finally {
        await closeContractModel(model);
      }
    });

    for (const name of INPUT_NAMES) {
      it(`a copy without input ${name} is rejected, naming it`, async () => {
        const path = writeTemp(
          dir,
          `${checkpoint.name}-no-${name}.onnx`,
          renameGraphInput(bytes, name, `${name}_renamed`),
        );
        await rejectsWith(path, ContractError, `missing input "${name}"`);
      });
    }

    for (const name of OUTPUT_NAMES) {
      it(`a copy without output ${name} is rejected, naming it`, async () => {
        const path = writeTemp(
          dir,
          `${checkpoint.name}-no-${name}.onnx`,
          dropGraphOutput(bytes, name),
        );
        await rejectsWith(path, ContractError, `missing output "${name}"`);
      });
    }

    it('a copy whose metadata disagrees with its shapes is rejected, naming the output', async () => {
      const info = await readOnnxModelInfo(checkpoint.onnxPath);
      const labels = JSON.parse(info.metadata.get('mosear.labels') ?? '[]') as string[];
      const edited = setMetadata(bytes, 'mosear.labels', JSON.stringify([...labels, 'bored']));
      const path = writeTemp(dir, `${checkpoint.name}-labels.onnx`, edited);
      await rejectsWith(
        path,
        ContractError,
        `output "logits" has shape [1, ${labels.length}], expected [1, ${labels.length + 1}]`,
      );
    });

    it('a copy of another contract version or without metadata is rejected', async () => {
      const v2 = writeTemp(
        dir,
        `${checkpoint.name}-v2.onnx`,
        setMetadata(bytes, 'mosear.contract', '2'),
      );
      await rejectsWith(v2, ContractError, 'unsupported contract version "2"');
      const noJson = writeTemp(
        dir,
        `${checkpoint.name}-json.onnx`,
        setMetadata(bytes, 'mosear.audio', '{'),
      );
      await rejectsWith(noJson, ContractError, 'mosear.audio: not valid JSON');
    });

    it('its graph signature agrees with its metadata before any session opens', async () => {
      const checked = await readCheckedModelFile(checkpoint.onnxPath);
      assert.equal(checked.metadata.checkpoint.name, checkpoint.name);
      // The shipped checkpoints are contract 1.2 with the optional head_gate (§1a) and
      // audio_repeat (§1c) inputs; N is symbolic.
      assert.equal(checked.metadata.contract, '1.2');
      assert.equal(checked.metadata.audio.repeatMax, 64);
      assert.deepEqual(
        checked.graph.inputs.map((i) => i.name),
        [...INPUT_NAMES, 'head_gate', 'audio_repeat'],
      );
    });

    it('a copy breaking the contract in several ways is refused at load, listing every way', async () => {
      const info = await readOnnxModelInfo(checkpoint.onnxPath);
      const labels = JSON.parse(info.metadata.get('mosear.labels') ?? '[]') as string[];
      let edited = setMetadata(bytes, 'mosear.labels', JSON.stringify([...labels, 'bored']));
      edited = renameGraphOutput(edited, 'modality_mass', 'mass');
      edited = setGraphInputElemType(edited, 'frames', 7);
      const path = writeTemp(dir, `${checkpoint.name}-several.onnx`, edited);
      await assert.rejects(readCheckedModelFile(path), (error: unknown) => {
        assert.ok(error instanceof ContractError, String(error));
        const lines = error.message.split('\n');
        assert.ok(lines[0]?.startsWith(`${path} does not follow`), lines[0]);
        assert.deepEqual(lines.slice(1), [
          '  - input "frames" has type int64, expected float32 (models/CONTRACT.md §1)',
          `  - output "logits" has shape [1, ${labels.length}], expected [1, ${labels.length + 1}] (models/CONTRACT.md §2, §3)`,
          '  - missing output "modality_mass" (models/CONTRACT.md §2)',
          `  - output "layer_logits" has shape [4, ${labels.length}], expected [4, ${labels.length + 1}] (models/CONTRACT.md §2a, §3)`,
        ]);
        return true;
      });
    });

    it('a copy onnxruntime cannot load (IR 99, an unknown operator) passes the file check and fails at session creation', async () => {
      const copies = {
        ir99: setIrVersion(bytes, 99),
        op: setFirstNodeOpType(bytes, 'MatMul', 'NoSuchOp'),
      };
      for (const [what, edited] of Object.entries(copies)) {
        assert.notDeepEqual(edited, bytes, `${what}: the edit changed nothing`);
        const path = writeTemp(dir, `${checkpoint.name}-${what}.onnx`, edited);
        await readCheckedModelFile(path);
        await rejectsWith(path, OnnxModelError, `onnxruntime could not load the model ${path}`);
      }
    });

    it('a truncated copy is not an ONNX model', async () => {
      const path = writeTemp(
        dir,
        `${checkpoint.name}-cut.onnx`,
        bytes.subarray(0, Math.floor(bytes.length / 2)),
      );
      await rejectsWith(path, OnnxModelError, 'not an ONNX model');
    });
  });
}
