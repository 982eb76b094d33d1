// Contract 1.2's `audio_repeat` on the shipped checkpoints (CONTRACT.md §1c): with k > 1 every
// output is within 1e-4 of PyTorch's (models/golden/<name>.repeat.json, mosear.repeat_golden),
// N is Nv + k + P, the audio mass is the sum over the k copies, and repeatAudio's layout is the
// graph's; k above the cap, or k ≠ 1 for a model without the input, is refused before the graph.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repeatAudio } from '../../src/core/contract/runLayout';
import {
  closeContractModel,
  openContractModel,
  runContractModel,
  type ContractModel,
} from '../../src/core/inference/contractModel';
import {
  GOLDEN_DIR,
  V1_CHECKPOINT_DIR,
  caseControls,
  loadGolden,
  loadGoldenInputs,
  maxAbsDiff,
  outputEntries,
  requireCheckpoints,
} from '../helpers/golden';

const TOLERANCE = 1e-4;

for (const checkpoint of requireCheckpoints(it)) {
  describe(`audio_repeat: ${checkpoint.name}`, () => {
    const golden = loadGolden(join(GOLDEN_DIR, `${checkpoint.name}.repeat.json`));
    let model: ContractModel;
    let v1: ContractModel;
    before(async () => {
      model = await openContractModel(checkpoint.onnxPath);
      v1 = await openContractModel(join(V1_CHECKPOINT_DIR, `${checkpoint.name}.onnx`));
    });
    after(async () => {
      await closeContractModel(model);
      await closeContractModel(v1);
    });

    it('k > 1: every output within 1e-4 of PyTorch; the layout is repeatAudio(k)', async () => {
      const inputs = await loadGoldenInputs(golden);
      const meta = model.metadata;
      for (const c of golden.cases) {
        const clip = inputs.get(c.input);
        const k = c.audio_repeat;
        assert.ok(clip && k !== undefined && k > 1, `${c.name}: input and k`);
        const out = await runContractModel(
          model,
          { ...clip, promptIds: c.prompt_ids, audioRepeat: k },
          caseControls(c.controls),
        );
        for (const [name, tensor] of outputEntries(out)) {
          const expected = c.expected[name];
          assert.ok(expected, `${c.name}: ${name} expected`);
          assert.deepEqual(tensor.dims, expected.shape, `${c.name}: ${name} shape`);
          const { max, at } = maxAbsDiff(tensor.data, expected.data);
          assert.ok(max <= TOLERANCE, `${c.name}: ${name}[${at}] |onnx − torch| = ${max}`);
        }
        const run = repeatAudio(meta, k);
        const N = out.token_attention.dims[2];
        assert.equal(N, run.tokenLayout.total, `${c.name}: N`);
        assert.equal(N, meta.tokenLayout.total + k - 1);
        const audio = run.tokenLayout.segments.find((s) => s.modality === 'audio');
        assert.ok(audio && audio.count === k);
        // |A| counts every copy: modality_mass's audio mass is the row's sum over them.
        const { layers: L, heads: Hh } = meta.architecture;
        for (let lh = 0; lh < L * Hh; lh++) {
          let sum = 0;
          for (let i = 0; i < k; i++)
            sum += out.token_attention_before.data[lh * N + audio.start + i]!;
          const mass = out.modality_mass.data[lh * 3 + 1]!;
          assert.ok(Math.abs(sum - mass) <= 1e-5, `${c.name}: audio mass ${mass} vs ${sum}`);
        }
        assert.equal(run.answerPositions[0], N - 1, `${c.name}: the answer is the last position`);
      }
    });

    it('a k above the cap, or k ≠ 1 for a model without the input, is refused', async () => {
      const inputs = await loadGoldenInputs(golden);
      const first = golden.cases[0]!;
      const clip = inputs.get(first.input)!;
      const max = model.metadata.audio.repeatMax;
      assert.equal(max, 64);
      const feeds = { ...clip, promptIds: first.prompt_ids };
      await assert.rejects(
        runContractModel(model, { ...feeds, audioRepeat: 65 }, caseControls(first.controls)),
        /above the model's cap \(mosear\.audio\.repeat_max 64\)/,
      );
      await assert.rejects(
        runContractModel(v1, { ...feeds, audioRepeat: 2 }, caseControls(first.controls)),
        /has no "audio_repeat" input/,
      );
      assert.throws(() => repeatAudio(v1.metadata, 0), /an integer ≥ 1/);
    });
  });
}
