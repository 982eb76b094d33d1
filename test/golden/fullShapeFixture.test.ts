// The full-shape contract-1.1 fixture (models/fixtures, CONTRACT.md §8) from the TypeScript side:
// its 11 PyTorch golden cases through onnxruntime-node with inputs rebuilt from the golden file's
// xorshift32 recipe, the run layouts our resolver computes against the reference's, and every
// invariant at 32 × 32: α = 0 is `off` bit for bit, a graph without `head_gate` (all ones baked
// in) is the default run bit for bit, ar_flags = the TypeScript flag rule, the last
// `layer_logits` = `logits`, and AR's mass rule. One session, cases in sequence.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { flagRuleForRun } from '../../src/core/analysis/runAnalysis';
import { compareFlags } from '../../src/core/ar/flagAgreement';
import { resolveRunLayout } from '../../src/core/contract/runLayout';
import {
  closeContractModel,
  openContractModel,
  runContractModel,
  type ContractModel,
  type ContractOutputs,
  type OutputTensor,
} from '../../src/core/inference/contractModel';
import {
  REPO_ROOT,
  caseControls,
  firstBitDifference,
  maxAbsDiff,
  type GoldenControls,
} from '../helpers/golden';
import { graphInputToInitializer } from '../helpers/protoEncode';
import { scratchDir } from '../helpers/tempFiles';

const DIR = join(REPO_ROOT, 'models', 'fixtures');
const MODEL = join(DIR, 'emotion-llama-fullshape.onnx');

interface Expected {
  shape: number[];
  data: number[];
}
interface ExpectedRows {
  shape: number[];
  rows: [number, number][];
  data: number[];
  sum_over_layers_heads: number[];
}
interface FixtureInput {
  generator: { kind: 'xorshift32'; seed: number };
  frames_shape: number[];
  audio_shape: number[];
  transcript: string;
  prompt_ids: number[];
  layout: {
    segments: { name: string; label: string; modality: string; start: number; count: number }[];
    total: number;
    text: Record<string, unknown>[];
  };
}
interface FixtureCase {
  name: string;
  input: string;
  controls: GoldenControls;
  head_gate?: number[][];
  expected: Record<string, Expected | ExpectedRows>;
}
interface FixtureGolden {
  tolerance: number;
  inputs: Record<string, FixtureInput>;
  cases: FixtureCase[];
}

const golden = JSON.parse(
  readFileSync(join(DIR, 'emotion-llama-fullshape.golden.json'), 'utf8'),
) as FixtureGolden;
const TOL = golden.tolerance;
const SCRATCH = scratchDir('fullshape');

/** xorshift32 (shifts 13, 17, 5); each output is the state after the step. */
function xorshift32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** The recipe's tensors: frame values (x >>> 24) / 255, then audio ((x >>> 8) / 2^24 − 0.5) · 0.5. */
function recipeTensors(input: FixtureInput): { frames: Float32Array; audio: Float32Array } {
  const next = xorshift32(input.generator.seed);
  const frames = new Float32Array(input.frames_shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < frames.length; i++) frames[i] = (next() >>> 24) / 255;
  const audio = new Float32Array(input.audio_shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < audio.length; i++) audio[i] = ((next() >>> 8) / 2 ** 24 - 0.5) * 0.5;
  return { frames, audio };
}

function within(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) {
  const { max, at } = maxAbsDiff(actual, expected);
  assert.ok(max <= tol, `${what}[${at}]: ${actual[at]} vs ${expected[at]} (|Δ| ${max} > ${tol})`);
}

function bitIdentical(a: OutputTensor, b: OutputTensor, what: string) {
  const at = firstBitDifference(a.data, b.data);
  assert.equal(at, -1, `${what}[${at}]: ${a.data[at]} vs ${b.data[at]}`);
}

describe('full-shape fixture (contract 1.1, 32 × 32): golden cases and invariants', () => {
  let model: ContractModel;
  const tensors = new Map<string, { frames: Float32Array; audio: Float32Array }>();
  const outputs = new Map<string, ContractOutputs>();

  before(async () => {
    model = await openContractModel(MODEL);
    for (const [id, input] of Object.entries(golden.inputs)) tensors.set(id, recipeTensors(input));
  });
  after(async () => closeContractModel(model));

  const runCase = async (c: FixtureCase): Promise<ContractOutputs> => {
    const input = golden.inputs[c.input]!;
    const gate =
      c.head_gate === undefined ? {} : { headGate: Float32Array.from(c.head_gate.flat()) };
    return runContractModel(
      model,
      { ...tensors.get(c.input)!, promptIds: input.prompt_ids, ...gate },
      caseControls(c.controls),
    );
  };

  it('reproduces the recipe and declares head_gate and layer_logits', () => {
    const next = xorshift32(1);
    assert.deepEqual([next(), next(), next()], [270369, 67634689, 2647435461]);
    assert.equal(model.metadata.contract, '1.1');
    assert.ok(model.session.inputNames.includes('head_gate'));
    assert.ok(model.session.outputNames.includes('layer_logits'));
  });

  for (const [id, input] of Object.entries(golden.inputs)) {
    it(`${id}: the run layout from the transcript is the reference's (N ${input.layout.total})`, () => {
      const run = resolveRunLayout(model.metadata, { slots: { transcript: input.transcript } });
      assert.deepEqual(run.promptIds, input.prompt_ids);
      assert.equal(run.layout.total, input.layout.total);
      assert.deepEqual(
        run.layout.segments.map(({ name, label, modality, start, count }) => ({
          name,
          label,
          modality,
          start,
          count,
        })),
        input.layout.segments.map(({ name, label, modality, start, count }) => ({
          name,
          label,
          modality,
          start,
          count,
        })),
      );
      assert.deepEqual(run.layout.text, input.layout.text);
      assert.deepEqual(run.answerPositions, [input.layout.total - 1]);
    });
  }

  for (const c of golden.cases) {
    it(`${c.name}: outputs within ${TOL} of PyTorch; flags = the TS rule; last layer_logits = logits`, async () => {
      const out = await runCase(c);
      outputs.set(c.name, out);
      const { layers: L, heads: Hh } = model.metadata.architecture;
      const N = golden.inputs[c.input]!.layout.total;
      for (const name of [
        'logits',
        'modality_mass',
        'modality_mass_after',
        'ar_flags',
        'layer_logits',
      ]) {
        const want = c.expected[name] as Expected;
        const got = out[name as keyof ContractOutputs];
        assert.ok(got, `${name} missing`);
        assert.deepEqual(got.dims, want.shape, `${name} shape`);
        within(got.data, want.data, TOL, name);
      }
      for (const name of ['token_attention_before', 'token_attention'] as const) {
        const want = c.expected[name] as ExpectedRows;
        const got = out[name];
        assert.deepEqual(got.dims, [L, Hh, N], `${name} shape`);
        want.rows.forEach(([l, h], r) => {
          const row = got.data.subarray((l * Hh + h) * N, (l * Hh + h + 1) * N);
          within(row, want.data.slice(r * N, (r + 1) * N), TOL, `${name} row ${l}:${h}`);
        });
        const sums = new Float64Array(N);
        for (let i = 0; i < got.data.length; i++) sums[i % N]! += got.data[i]!;
        within(sums, want.sum_over_layers_heads, L * Hh * TOL, `${name} Σ over layers and heads`);
      }
      const controls = caseControls(c.controls);
      const rule = flagRuleForRun(model.metadata, out.modality_mass.data, controls);
      const check = compareFlags(out.ar_flags.data, rule, L, Hh);
      assert.ok(
        check.agree,
        `ar_flags vs the TS rule: ${JSON.stringify(check.mismatches.slice(0, 3))}`,
      );
      const C = model.metadata.labels.length;
      bitIdentical(
        { data: out.layer_logits!.data.subarray((L - 1) * C), dims: [C] },
        out.logits,
        'layer_logits[L − 1] vs logits',
      );
    });
  }

  it('α = 0 is bit-identical to off (ar_flags still report the rule)', () => {
    const zero = outputs.get('short/ar-share-alpha0');
    const off = outputs.get('short/off');
    assert.ok(zero && off, 'both cases ran');
    for (const name of Object.keys(off) as (keyof ContractOutputs)[]) {
      if (name === 'ar_flags') continue;
      bitIdentical(zero[name]!, off[name]!, name);
    }
    assert.ok(
      zero.ar_flags.data.some((f) => f === 1),
      'the rule flags heads at α = 0',
    );
  });

  it('flagged heads move α of their audio mass to visual, text and A + V unchanged', () => {
    const c = golden.cases.find((x) => x.name === 'short/ar-share-alpha0.5')!;
    const out = outputs.get(c.name)!;
    const alpha = c.controls.ar_alpha;
    const { layers: L, heads: Hh } = model.metadata.architecture;
    let flagged = 0;
    for (let i = 0; i < L * Hh; i++) {
      const [v, a, t] = out.modality_mass.data.subarray(i * 3, i * 3 + 3);
      const [v2, a2, t2] = out.modality_mass_after.data.subarray(i * 3, i * 3 + 3);
      if (out.ar_flags.data[i] !== 1) {
        assert.deepEqual([v2, a2, t2], [v, a, t], `unflagged head ${i} unchanged`);
        continue;
      }
      flagged++;
      const eps = 1e-5;
      assert.ok(Math.abs(a2! - (1 - alpha) * a!) <= eps, `head ${i}: A' = (1 − α)·A`);
      assert.ok(Math.abs(v2! - (v! + alpha * a!)) <= eps, `head ${i}: V' = V + α·A`);
      assert.ok(Math.abs(t2! - t!) <= eps, `head ${i}: T unchanged`);
    }
    assert.ok(flagged > 0, 'some head is flagged');
  });

  it('head_gate all ones is bit-identical to a graph without the input', async () => {
    const { layers: L, heads: Hh } = model.metadata.architecture;
    const ones = new Float32Array(L * Hh).fill(1);
    const edited = graphInputToInitializer(readFileSync(MODEL), 'head_gate', [L, Hh], ones);
    const path = join(SCRATCH, 'no-gate.onnx');
    writeFileSync(path, edited);
    const plain = await openContractModel(path);
    try {
      assert.ok(!plain.session.inputNames.includes('head_gate'));
      const c = golden.cases.find((x) => x.name === 'short/ar-share-alpha0.5')!;
      const input = golden.inputs[c.input]!;
      const feeds = { ...tensors.get(c.input)!, promptIds: input.prompt_ids };
      const without = await runContractModel(plain, feeds, caseControls(c.controls));
      const withOnes = await runContractModel(
        model,
        { ...feeds, headGate: ones },
        caseControls(c.controls),
      );
      for (const name of Object.keys(without) as (keyof ContractOutputs)[]) {
        bitIdentical(withOnes[name]!, without[name]!, name);
      }
      // The gated case really differs from the ungated one (the gate reaches the graph).
      const gated = outputs.get('short/off-head-gate');
      const off = outputs.get('short/off');
      assert.ok(gated && off);
      assert.notEqual(firstBitDifference(gated.logits.data, off.logits.data), -1);
    } finally {
      await closeContractModel(plain);
    }
  });
});
