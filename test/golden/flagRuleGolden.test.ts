// The TypeScript flag rule, applied to the graph's modality_mass, reproduces the graph's ar_flags.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyFlagRule } from '../../src/shared/flagRule';
import { countTokens } from '../../src/core/contract/metadata';
import {
  closeContractModel,
  openContractModel,
  runContractModel,
  type ContractModel,
} from '../../src/core/inference/contractModel';
import {
  caseControls,
  loadGolden,
  loadGoldenInputs,
  requireCheckpoints,
  type GoldenCase,
} from '../helpers/golden';

function differences(a: ArrayLike<number>, b: ArrayLike<number>, heads: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i])
      out.push(`layer ${Math.floor(i / heads)} head ${i % heads}: rule ${a[i]}, graph ${b[i]}`);
  }
  return out;
}

for (const checkpoint of requireCheckpoints(it)) {
  describe(`flag rule: ${checkpoint.name}`, () => {
    const golden = loadGolden(checkpoint.goldenPath);
    let model: ContractModel;
    let inputs: Awaited<ReturnType<typeof loadGoldenInputs>>;
    before(async () => {
      model = await openContractModel(checkpoint.onnxPath);
      inputs = await loadGoldenInputs(golden);
    });
    after(async () => closeContractModel(model));

    const rule = (c: GoldenCase, mass: ArrayLike<number>) => {
      const meta = model.metadata;
      return applyFlagRule({
        modalityMass: mass,
        layers: meta.architecture.layers,
        heads: meta.architecture.heads,
        visualTokens: countTokens(meta.tokenLayout, 'visual'),
        audioTokens: countTokens(meta.tokenLayout, 'audio'),
        controls: caseControls(c.controls),
      }).arFlags;
    };

    it('the golden cases cover every ratio kind and every kind of override', () => {
      const ar = golden.cases.filter((c) => c.controls.ar_mode === 1);
      const kinds = new Set(ar.map((c) => c.controls.ar_ratio_kind));
      assert.deepEqual(
        [...kinds].sort(),
        [0, 1, 2],
        'AR cases for the raw, density and share kinds',
      );
      const overrides = ar.flatMap((c) =>
        c.controls.ar_head_override.flatMap((row, l) =>
          row.map((o) => ({ o, enabled: (c.controls.ar_layers[l] ?? 0) > 0.5 })),
        ),
      );
      assert.ok(
        overrides.some((x) => x.o > 0.5 && x.enabled),
        'a forced-on head',
      );
      assert.ok(
        overrides.some((x) => x.o < -0.5 && x.enabled),
        'a forced-off head',
      );
      assert.ok(
        overrides.some((x) => x.o !== 0 && !x.enabled),
        'an override in a disabled layer',
      );
    });

    for (const c of golden.cases) {
      it(`${c.name}: rule(modality_mass) = ar_flags (onnxruntime run and PyTorch golden)`, async () => {
        const { heads } = model.metadata.architecture;
        const clip = inputs.get(c.input);
        assert.ok(clip);
        const out = await runContractModel(
          model,
          { ...clip, promptIds: c.prompt_ids },
          caseControls(c.controls),
        );
        assert.deepEqual(
          differences(rule(c, out.modality_mass.data), out.ar_flags.data, heads),
          [],
        );
        const expectedMass = c.expected['modality_mass'];
        const expectedFlags = c.expected['ar_flags'];
        assert.ok(expectedMass && expectedFlags);
        assert.deepEqual(differences(rule(c, expectedMass.data), expectedFlags.data, heads), []);
      });
    }
  });
}
