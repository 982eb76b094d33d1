// The real-checkpoint exporter's miniature (models/realexport, models/fixtures/realexport): an
// Emotion-LLaMA-layout model exported from tiny random files with the real formats and key names
// (HF LLaMA safetensors shards, a SentencePiece tokenizer.model, EVA ViT and HuBERT weights,
// peft LoRA checkpoints), weights as ONNX external data. The engine opens it as a contract-1.1
// model; onnxruntime-node reproduces the exporter's own PyTorch outputs (golden JSON, inputs from
// the xorshift32 recipe); the flag rule, α = 0 and layer_logits invariants hold.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
} from '../../src/core/inference/contractModel';
import {
  REPO_ROOT,
  caseControls,
  firstBitDifference,
  maxAbsDiff,
  type GoldenControls,
} from '../helpers/golden';

const DIR = join(REPO_ROOT, 'models', 'fixtures', 'realexport');
const MODEL = join(DIR, 'emotion-llama-mini.onnx');

interface Expected {
  shape: number[];
  data: number[];
}
interface MiniInput {
  generator: { kind: 'xorshift32'; seed: number };
  frames_shape: number[];
  audio_shape: number[];
  prompt_ids: number[];
}
interface MiniCase {
  name: string;
  input: string;
  controls: GoldenControls;
  expected: Record<string, Expected>;
}
interface MiniGolden {
  tolerance: number;
  inputs: Record<string, MiniInput>;
  cases: MiniCase[];
}

const golden = JSON.parse(
  readFileSync(join(DIR, 'emotion-llama-mini.golden.json'), 'utf8'),
) as MiniGolden;

/** xorshift32 (13, 17, 5): frames (x >>> 24) / 255, then audio ((x >>> 8) / 2^24 − 0.5) · 0.5. */
function recipe(input: MiniInput): { frames: Float32Array; audio: Float32Array } {
  let x = input.generator.seed >>> 0;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const frames = new Float32Array(input.frames_shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < frames.length; i++) frames[i] = (next() >>> 24) / 255;
  const audio = new Float32Array(input.audio_shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < audio.length; i++) audio[i] = ((next() >>> 8) / 2 ** 24 - 0.5) * 0.5;
  return { frames, audio };
}

describe('real-checkpoint exporter miniature (contract 1.1, external data)', () => {
  let model: ContractModel;
  const outputs = new Map<string, ContractOutputs>();

  before(async () => {
    model = await openContractModel(MODEL);
  });
  after(async () => closeContractModel(model));

  it('opens as contract 1.1 with the Emotion-LLaMA layout and the exporter extras', () => {
    const meta = model.metadata;
    assert.equal(meta.contract, '1.1');
    assert.deepEqual(meta.labels, [
      'happy',
      'sad',
      'neutral',
      'angry',
      'worried',
      'surprise',
      'fear',
      'contempt',
      'doubt',
    ]);
    assert.deepEqual(
      meta.tokenLayout.segments.map((s) => [s.name, s.modality, s.count]),
      [
        ['prefix', 'text', 8],
        ['eva_patches', 'visual', 256],
        ['face_mae', 'visual', 1],
        ['video_mae', 'visual', 1],
        ['hubert', 'audio', 1],
        ['eva_cls', 'visual', 1],
        ['prompt', 'text', meta.prompt.defaultIds.length - 8],
      ],
    );
    for (const name of ['head_gate']) assert.ok(model.session.inputNames.includes(name));
    for (const name of ['layer_logits', 'label_probability', 'greedy_token'])
      assert.ok(model.session.outputNames.includes(name), name);
    const run = resolveRunLayout(meta, { slots: {} });
    assert.deepEqual(run.promptIds, golden.inputs.a!.prompt_ids);
    // get_context_emb's two BOS tokens: the tokenizer's and the template's literal <s>
    assert.deepEqual(run.promptIds.slice(0, 2), [1, 1]);
  });

  for (const c of golden.cases) {
    it(`${c.name}: within ${golden.tolerance} of the exporter's PyTorch forward`, async () => {
      const input = golden.inputs[c.input]!;
      const controls = caseControls(c.controls);
      const out = await runContractModel(
        model,
        { ...recipe(input), promptIds: input.prompt_ids },
        controls,
      );
      outputs.set(c.name, out);
      for (const name of Object.keys(out) as (keyof ContractOutputs)[]) {
        const want = c.expected[name];
        assert.ok(want, `${name} in the golden`);
        assert.deepEqual(out[name]!.dims, want.shape, `${name} shape`);
        const { max, at } = maxAbsDiff(out[name]!.data, want.data);
        assert.ok(max <= golden.tolerance, `${name}[${at}]: |Δ| ${max}`);
      }
      const { layers: L, heads: Hh } = model.metadata.architecture;
      const rule = flagRuleForRun(model.metadata, out.modality_mass.data, controls);
      assert.ok(compareFlags(out.ar_flags.data, rule, L, Hh).agree, 'ar_flags = the TS rule');
      const C = model.metadata.labels.length;
      const last = out.layer_logits!.data.subarray((L - 1) * C);
      assert.equal(firstBitDifference(last, out.logits.data), -1, 'layer_logits[L − 1] = logits');
    });
  }

  it('α = 0 is bit-identical to off', () => {
    const zero = outputs.get('a/ar-share-alpha0')!;
    const off = outputs.get('a/off')!;
    for (const name of Object.keys(off) as (keyof ContractOutputs)[]) {
      if (name === 'ar_flags') continue;
      assert.equal(firstBitDifference(zero[name]!.data, off[name]!.data), -1, name);
    }
  });
});
