// The interventions do what CONTRACT.md §5 says, on the committed checkpoints' own outputs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ArControls } from '../../src/protocol/contract';
import { argmax } from '../../src/core/analysis/probabilities';
import {
  closeContractModel,
  openContractModel,
  runContractModel,
  type ContractModel,
  type ContractOutputs,
} from '../../src/core/inference/contractModel';
import {
  caseControls,
  firstBitDifference,
  loadGolden,
  loadGoldenInputs,
  outputEntries,
  requireCheckpoints,
  type GoldenCase,
} from '../helpers/golden';

const EPS = 1e-5;

/** Per-head views of one run's outputs. */
function heads(model: ContractModel, out: ContractOutputs) {
  const { layers: L, heads: Hh } = model.metadata.architecture;
  const N = model.metadata.tokenLayout.total;
  const mass = (t: Float32Array, l: number, h: number) =>
    t.subarray((l * Hh + h) * 3, (l * Hh + h) * 3 + 3);
  const row = (t: Float32Array, l: number, h: number) =>
    t.subarray((l * Hh + h) * N, (l * Hh + h) * N + N);
  const list: {
    l: number;
    h: number;
    flag: number;
    before: Float32Array;
    afterMass: Float32Array;
    rowBefore: Float32Array;
    rowAfter: Float32Array;
  }[] = [];
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < Hh; h++) {
      list.push({
        l,
        h,
        flag: out.ar_flags.data[l * Hh + h] as number,
        before: mass(out.modality_mass.data, l, h),
        afterMass: mass(out.modality_mass_after.data, l, h),
        rowBefore: row(out.token_attention_before.data, l, h),
        rowAfter: row(out.token_attention.data, l, h),
      });
    }
  }
  return list;
}

function near(actual: number, expected: number, what: string, eps = EPS) {
  assert.ok(Math.abs(actual - expected) <= eps, `${what}: ${actual} vs ${expected} (|Δ| > ${eps})`);
}

function sum(values: ArrayLike<number>, indices?: number[]): number {
  let total = 0;
  if (indices) for (const i of indices) total += values[i] as number;
  else for (let i = 0; i < values.length; i++) total += values[i] as number;
  return total;
}

for (const checkpoint of requireCheckpoints(it)) {
  describe(`interventions: ${checkpoint.name}`, () => {
    const golden = loadGolden(checkpoint.goldenPath);
    let model: ContractModel;
    let inputs: Awaited<ReturnType<typeof loadGoldenInputs>>;
    const visual: number[] = [];
    const audio: number[] = [];
    const text: number[] = [];

    before(async () => {
      model = await openContractModel(checkpoint.onnxPath);
      inputs = await loadGoldenInputs(golden);
      for (const s of model.metadata.tokenLayout.segments) {
        const target = s.modality === 'visual' ? visual : s.modality === 'audio' ? audio : text;
        for (let i = 0; i < s.count; i++) target.push(s.start + i);
      }
    });
    after(async () => closeContractModel(model));

    const run = (c: GoldenCase, controls: ArControls) => {
      const clip = inputs.get(c.input);
      assert.ok(clip, `unknown input ${c.input}`);
      return runContractModel(model, { ...clip, promptIds: c.prompt_ids }, controls);
    };

    const arCases = golden.cases.filter((c) => c.controls.ar_mode === 1);
    const acting = arCases.filter((c) => c.controls.ar_alpha > 0);
    const paiCases = golden.cases.filter((c) => c.controls.ar_mode === 2);

    it('the golden set has AR cases with α > 0 and a PAI-style case', () => {
      assert.ok(acting.length > 0, 'no AR case with α > 0');
      assert.ok(paiCases.length > 0, 'no PAI-style case');
    });

    for (const c of arCases) {
      it(`${c.name}: α = 0 is bit-identical to ar_mode 0 (ar_flags still report the rule)`, async () => {
        const controls = { ...caseControls(c.controls), alpha: 0 };
        const zero = await run(c, controls);
        const off = await run(c, { ...controls, mode: 0 });
        for (const [name, tensor] of outputEntries(zero)) {
          if (name === 'ar_flags') continue;
          const other = off[name as keyof ContractOutputs];
          assert.ok(other);
          const at = firstBitDifference(tensor.data, other.data);
          assert.equal(
            at,
            -1,
            `${name}[${at}]: ${tensor.data[at]} (α = 0) vs ${other.data[at]} (off)`,
          );
        }
        assert.ok(
          off.ar_flags.data.every((f) => f === 0),
          'mode 0 flags nothing',
        );
      });
    }

    for (const c of acting) {
      it(`${c.name}: flagged heads move α of the audio mass to visual tokens, nothing else`, async () => {
        const alpha = c.controls.ar_alpha;
        const out = await run(c, caseControls(c.controls));
        let flagged = 0;
        for (const x of heads(model, out)) {
          const where = `layer ${x.l} head ${x.h}`;
          near(sum(x.rowBefore), 1, `${where}: row before sums to 1`);
          near(sum(x.rowAfter), 1, `${where}: row after sums to 1`);
          near(x.before[0] as number, sum(x.rowBefore, visual), `${where}: modality_mass visual`);
          near(x.before[1] as number, sum(x.rowBefore, audio), `${where}: modality_mass audio`);
          if (x.flag < 0.5) {
            assert.equal(
              firstBitDifference(x.afterMass, x.before),
              -1,
              `${where}: unflagged mass changed`,
            );
            assert.equal(
              firstBitDifference(x.rowAfter, x.rowBefore),
              -1,
              `${where}: unflagged row changed`,
            );
            continue;
          }
          flagged++;
          const [v, a, t] = x.before as unknown as [number, number, number];
          const [v2, a2, t2] = x.afterMass as unknown as [number, number, number];
          near(a2, (1 - alpha) * a, `${where}: audio_after = (1 − α)·audio_before`);
          near(v2, v + alpha * a, `${where}: visual_after = visual_before + α·audio_before`);
          near(t2, t, `${where}: text mass unchanged`);
          near(a2 + v2, a + v, `${where}: audio + visual unchanged`);
          for (const i of text) {
            near(x.rowAfter[i] as number, x.rowBefore[i] as number, `${where}: text token ${i}`);
          }
          for (const i of visual) {
            const before = (x.rowBefore[i] as number) / v;
            const after = (x.rowAfter[i] as number) / v2;
            near(after, before, `${where}: visual token ${i}'s share of the visual mass`);
          }
        }
        assert.ok(flagged > 0, `${c.name} flags no head, so it checks nothing`);
      });
    }

    it('AR acts in ≥ 2 layers, mixes flagged and unflagged heads in a layer, and changes a prediction', async () => {
      const { layers: L, heads: Hh } = model.metadata.architecture;
      let maxLayers = 0;
      let mixed = 0;
      let changed = 0;
      for (const c of acting) {
        const controls = caseControls(c.controls);
        const out = await run(c, controls);
        const off = await run(c, { ...controls, mode: 0 });
        let layersActing = 0;
        for (let l = 0; l < L; l++) {
          const n = sum(out.ar_flags.data.subarray(l * Hh, l * Hh + Hh));
          if (n > 0) layersActing++;
          if (n > 0 && n < Hh) mixed++;
        }
        maxLayers = Math.max(maxLayers, layersActing);
        if (argmax(out.logits.data) !== argmax(off.logits.data)) changed++;
      }
      assert.ok(maxLayers >= 2, `AR acts in at most ${maxLayers} layer(s) in any case`);
      assert.ok(mixed >= 1, 'no layer has both flagged and unflagged heads');
      assert.ok(changed >= 1, 'no AR case changes the prediction');
    });

    const paiRuns: [string, GoldenCase, (c: GoldenCase) => ArControls][] = [
      ...paiCases.map((c): [string, GoldenCase, (c: GoldenCase) => ArControls] => [
        c.name,
        c,
        (x) => caseControls(x.controls),
      ]),
    ];
    const first = golden.cases[0];
    if (first) {
      paiRuns.push([
        `${first.input}/pai-gain-1-all-layers (extra)`,
        first,
        (x) => ({
          ...caseControls(x.controls),
          mode: 2,
          paiAlpha: 1,
          layers: x.controls.ar_layers.map(() => 1),
        }),
      ]);
    }
    for (const [name, c, controls] of paiRuns) {
      it(`${name}: PAI-style raises the visual share in every enabled head only`, async () => {
        const ctl = controls(c);
        const out = await run(c, ctl);
        for (const x of heads(model, out)) {
          const where = `layer ${x.l} head ${x.h}`;
          const enabled = (ctl.layers[x.l] as number) > 0.5;
          assert.equal(x.flag, enabled ? 1 : 0, `${where}: ar_flags in PAI mode`);
          near(sum(x.rowAfter), 1, `${where}: row after sums to 1`);
          if (enabled) {
            // In exact arithmetic the visual mass rises and the audio + text mass falls. In
            // float32 one side can saturate (visual ≈ 1 or ≈ 1e-8 of the row), so the test
            // requires a measurable move on at least one side and no move the wrong way.
            const visualBefore = x.before[0] as number;
            const visualAfter = x.afterMass[0] as number;
            const otherBefore = (x.before[1] as number) + (x.before[2] as number);
            const otherAfter = (x.afterMass[1] as number) + (x.afterMass[2] as number);
            const moved =
              visualAfter > visualBefore ||
              otherAfter < otherBefore ||
              (otherBefore === 0 && otherAfter === 0);
            assert.ok(
              moved && visualAfter >= visualBefore - 1e-6 && otherAfter <= otherBefore + 1e-6,
              `${where}: visual share did not rise (visual ${visualBefore} → ${visualAfter}, ` +
                `audio + text ${otherBefore} → ${otherAfter})`,
            );
          } else {
            assert.equal(
              firstBitDifference(x.rowAfter, x.rowBefore),
              -1,
              `${where}: disabled layer changed`,
            );
          }
        }
      });
    }
  });
}
