// The shipped checkpoints re-exported as contract 1.2 with `head_gate`, `audio_repeat` and
// `layer_logits` (models/README.md): every contract-1 output bit-identical to the v1 files they
// replace (models/fixtures/v1/) on every golden case, with no gate, with a gate of all ones and
// with audio_repeat 1, at both optimisation levels; a zeroed gate removes exactly that head's contribution (PyTorch's outputs
// in models/golden/<name>.gate.json, within 1e-4); the last layer_logits row is the logits.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  closeContractModel,
  openContractModel,
  runContractModel,
  type ContractModel,
  optionalTensorsOf,
  type ContractOutputs,
} from '../../src/core/inference/contractModel';
import {
  GOLDEN_DIR,
  V1_CHECKPOINT_DIR,
  caseControls,
  firstBitDifference,
  loadGolden,
  loadGoldenInputs,
  maxAbsDiff,
  outputEntries,
  requireCheckpoints,
} from '../helpers/golden';

const TOLERANCE = 1e-4;
const LEVELS = ['all', 'disabled'] as const;

/** Every output of `v1` is present in `v11` with the same bits. */
function assertBitIdentical(v1: ContractOutputs, v11: ContractOutputs, what: string): void {
  for (const [name, tensor] of outputEntries(v1)) {
    const other = v11[name as keyof ContractOutputs];
    assert.ok(other, `${what}: ${name} missing`);
    assert.deepEqual(other.dims, tensor.dims, `${what}: ${name} shape`);
    const at = firstBitDifference(tensor.data, other.data);
    assert.equal(at, -1, `${what}: ${name}[${at}] ${tensor.data[at]} vs ${other.data[at]}`);
  }
}

for (const checkpoint of requireCheckpoints(it)) {
  describe(`contract 1.1 re-export: ${checkpoint.name}`, () => {
    const golden = loadGolden(checkpoint.goldenPath);
    const gatePath = join(GOLDEN_DIR, `${checkpoint.name}.gate.json`);
    const v1Path = join(V1_CHECKPOINT_DIR, `${checkpoint.name}.onnx`);
    const models = new Map<string, ContractModel>();
    let inputs: Awaited<ReturnType<typeof loadGoldenInputs>>;

    before(async () => {
      for (const level of LEVELS) {
        models.set(
          `v1/${level}`,
          await openContractModel(v1Path, { graphOptimizationLevel: level }),
        );
        models.set(
          `v11/${level}`,
          await openContractModel(checkpoint.onnxPath, { graphOptimizationLevel: level }),
        );
      }
      inputs = await loadGoldenInputs(golden);
    });
    after(async () => {
      for (const model of models.values()) await closeContractModel(model);
    });

    it('declares head_gate, audio_repeat and layer_logits; the v1 fixture declares none', () => {
      const v11 = models.get('v11/all');
      const v1 = models.get('v1/all');
      assert.ok(v11 && v1);
      assert.equal(v11.metadata.contract, '1.2');
      // The shipped miniatures classify over labels: no generation outputs.
      assert.deepEqual(optionalTensorsOf(v11.metadata, v11.session), {
        headGate: true,
        audioRepeat: true,
        layerLogits: true,
        greedyToken: false,
        labelProbability: false,
        featureDims: {},
      });
      assert.equal(v1.metadata.contract, '1');
      assert.deepEqual(optionalTensorsOf(v1.metadata, v1.session), {
        headGate: false,
        audioRepeat: false,
        layerLogits: false,
        greedyToken: false,
        labelProbability: false,
        featureDims: {},
      });
    });

    for (const level of LEVELS) {
      it(`every golden case: the v1 outputs are bit-identical (no gate, gate all ones, audio_repeat 1; '${level}')`, async () => {
        const v1 = models.get(`v1/${level}`);
        const v11 = models.get(`v11/${level}`);
        assert.ok(v1 && v11);
        const L = v1.metadata.architecture.layers;
        const Hh = v1.metadata.architecture.heads;
        const C = v1.metadata.labels.length;
        const ones = new Float32Array(L * Hh).fill(1);
        for (const c of golden.cases) {
          const clip = inputs.get(c.input);
          assert.ok(clip);
          const feeds = { ...clip, promptIds: c.prompt_ids };
          const controls = caseControls(c.controls);
          const old = await runContractModel(v1, feeds, controls);
          const plain = await runContractModel(v11, feeds, controls);
          const gated = await runContractModel(v11, { ...feeds, headGate: ones }, controls);
          const k1 = await runContractModel(v11, { ...feeds, audioRepeat: 1 }, controls);
          assertBitIdentical(old, plain, `${c.name} (no gate)`);
          assertBitIdentical(old, k1, `${c.name} (audio_repeat 1)`);
          assertBitIdentical(old, gated, `${c.name} (gate all ones)`);
          assertBitIdentical(plain, gated, `${c.name} (layer_logits, gate all ones vs none)`);
          assert.ok(plain.layer_logits, `${c.name}: layer_logits`);
          assert.deepEqual(plain.layer_logits.dims, [L, C]);
          const last = plain.layer_logits.data.subarray((L - 1) * C);
          const { max } = maxAbsDiff(last, plain.logits.data);
          assert.ok(max <= 1e-5, `${c.name}: |layer_logits[L − 1] − logits| = ${max}`);
        }
      });
    }

    it('models/golden/<name>.gate.json exists', () => {
      assert.ok(existsSync(gatePath), `${gatePath} is missing (python3 -m mosear.gate_golden)`);
    });

    it('a zeroed gate removes exactly those heads: every output within 1e-4 of PyTorch', async () => {
      const gate = loadGolden(gatePath);
      const gateInputs = await loadGoldenInputs(gate);
      const model = models.get('v11/all');
      assert.ok(model);
      const plain = new Map<string, ContractOutputs>();
      let changed = 0;
      for (const c of gate.cases) {
        const clip = gateInputs.get(c.input);
        assert.ok(clip && c.head_gate, `${c.name}: input and head_gate`);
        const out = await runContractModel(
          model,
          { ...clip, promptIds: c.prompt_ids, headGate: Float32Array.from(c.head_gate.flat()) },
          caseControls(c.controls),
        );
        const produced = outputEntries(out);
        assert.deepEqual(
          produced.map(([n]) => n).sort(),
          Object.keys(c.expected).sort(),
          `${c.name}: the outputs PyTorch computed`,
        );
        for (const [name, tensor] of produced) {
          const expected = c.expected[name];
          assert.ok(expected);
          assert.deepEqual(tensor.dims, expected.shape, `${c.name}: ${name} shape`);
          const { max, at } = maxAbsDiff(tensor.data, expected.data);
          assert.ok(max <= TOLERANCE, `${c.name}: ${name}[${at}] |onnx − torch| = ${max}`);
        }
        // The knockout is visible: a gated case's logits move away from the ungated ones.
        const key = c.name.slice(0, c.name.lastIndexOf('/'));
        if (c.name.endsWith('/gate-ones')) plain.set(key, out);
        else {
          const base = plain.get(key);
          assert.ok(base, `${c.name}: its gate-ones case comes first`);
          if (maxAbsDiff(out.logits.data, base.logits.data).max > 10 * TOLERANCE) changed += 1;
        }
      }
      assert.ok(changed >= 4, `only ${changed} knockout cases changed the logits`);
    });
  });
}
