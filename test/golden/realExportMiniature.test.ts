// The real-checkpoint exporter's miniature (models/realexport, models/fixtures/realexport): an
// Emotion-LLaMA-layout model exported from tiny random files with the real formats and key names
// (HF LLaMA safetensors shards, a SentencePiece tokenizer.model, EVA ViT and HuBERT weights,
// peft LoRA checkpoints), weights as ONNX external data, the transcript a slot of contract 1.1's
// `sentencepiece` tokenizer kind. The engine opens it as a contract-1.1 model; the TypeScript
// tokenizer gives the exporter's Python prompt ids for every golden transcript (non-ASCII
// included); onnxruntime-node reproduces the exporter's own PyTorch outputs (golden JSON, inputs
// from the xorshift32 recipe, two transcripts); the flag rule, α = 0 and layer_logits invariants
// hold; a missing or different tokenizer file is refused. The FaceMAE / VideoMAE feature inputs
// (CONTRACT.md §1b): fed seeded vectors they match the forward with those features, and change
// the logits; their default (zeros) is what the other cases feed. Byte-fallback pieces of a
// non-ASCII transcript are labelled with their decoded character.
import { miniRecipe, type MiniInput as RecipeInput } from '../helpers/realExportInputs';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { flagRuleForRun } from '../../src/core/analysis/runAnalysis';
import { compareFlags } from '../../src/core/ar/flagAgreement';
import { ContractError } from '../../src/core/contract/contractError';
import { resolveRunLayout } from '../../src/core/contract/runLayout';
import {
  BYTE_CONTINUATION,
  type PieceEncoder,
} from '../../src/core/contract/sentencePieceTemplate';
import { loadPromptTokenizer } from '../../src/core/tokenizer/promptTokenizer';
import {
  buildFeeds,
  closeContractModel,
  openContractModel,
  optionalTensorsOf,
  runContractModel,
  type ContractModel,
  type ContractOutputs,
  type ModelInputs,
} from '../../src/core/inference/contractModel';
import type { FeatureInputName } from '../../src/core/contract/names';
import {
  REPO_ROOT,
  caseControls,
  firstBitDifference,
  maxAbsDiff,
  type GoldenControls,
} from '../helpers/golden';
import { scratchDir } from '../helpers/tempFiles';

const DIR = join(REPO_ROOT, 'models', 'fixtures', 'realexport');
const MODEL = join(DIR, 'emotion-llama-mini.onnx');

interface Expected {
  shape: number[];
  data: number[];
}
interface MiniInput extends RecipeInput {
  /** null: the slot's default. */
  transcript: string | null;
  /** FaceMAE / VideoMAE vectors by input name (absent: the default, zeros). */
  features?: Partial<Record<FeatureInputName, number[]>>;
}

/** A golden input's feature vectors as run inputs (none: the graph's default). */
function featuresOf(input: MiniInput): Pick<ModelInputs, 'features'> {
  if (input.features === undefined) return {};
  return {
    features: Object.fromEntries(
      Object.entries(input.features).map(([name, values]) => [name, Float32Array.from(values)]),
    ),
  };
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
  tokenizer_cases: { transcript: string; prompt_ids: number[] }[];
}

const golden = JSON.parse(
  readFileSync(join(DIR, 'emotion-llama-mini.golden.json'), 'utf8'),
) as MiniGolden;

describe('real-checkpoint exporter miniature (contract 1.1, external data)', () => {
  let model: ContractModel;
  let tokenizer: PieceEncoder;
  const dir = scratchDir('realexport-tokenizer');
  const outputs = new Map<string, ContractOutputs>();

  before(async () => {
    model = await openContractModel(MODEL);
    tokenizer = (await loadPromptTokenizer(MODEL, model.metadata))!;
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
    for (const name of ['head_gate', 'face_mae_features', 'video_mae_features'])
      assert.ok(model.session.inputNames.includes(name), name);
    for (const name of ['layer_logits', 'label_probability', 'greedy_token'])
      assert.ok(model.session.outputNames.includes(name), name);
    assert.equal(meta.prompt.tokenizer?.kind, 'sentencepiece');
    assert.throws(() => resolveRunLayout(meta), /needs its SentencePiece tokenizer/);
    const run = resolveRunLayout(meta, { slots: {}, tokenizer });
    assert.deepEqual(run.promptIds, golden.inputs.a!.prompt_ids);
    assert.deepEqual(run.promptIds, meta.prompt.defaultIds);
    // get_context_emb's two BOS tokens: the tokenizer's and the template's literal <s>
    assert.deepEqual(run.promptIds.slice(0, 2), [1, 1]);
    assert.deepEqual(
      run.layout.segments.map((s) => [s.name, s.start, s.count]),
      meta.tokenLayout.segments.map((s) => [s.name, s.start, s.count]),
    );
  });

  it("the TypeScript tokenizer gives the exporter's prompt ids for every golden transcript", () => {
    const meta = model.metadata;
    const transcripts = [
      ...golden.tokenizer_cases,
      ...Object.values(golden.inputs).filter((i) => i.transcript !== null),
    ];
    assert.ok(
      transcripts.some((t) => [...t.transcript!].some((c) => c.codePointAt(0)! > 0x7f)),
      'non-ASCII covered',
    );
    for (const t of transcripts) {
      const run = resolveRunLayout(meta, { slots: { transcript: t.transcript! }, tokenizer });
      assert.deepEqual(run.promptIds, t.prompt_ids, JSON.stringify(t.transcript));
      assert.equal(
        run.layout.total,
        meta.tokenLayout.total - meta.prompt.defaultIds.length + t.prompt_ids.length,
      );
    }
  });

  it('labels text positions: special (the two BOS), template, and the transcript slot', () => {
    const said = golden.tokenizer_cases[1]!.transcript;
    const run = resolveRunLayout(model.metadata, { slots: { transcript: said }, tokenizer });
    const text = run.layout.text;
    assert.deepEqual(
      text.slice(0, 2).map((t) => [t.position, t.kind, t.token]),
      [
        [0, 'special', '<s>'],
        [1, 'special', '<s>'],
      ],
    );
    const slot = text.filter((t) => t.kind === 'slot');
    assert.ok(slot.every((t) => t.slot === 'transcript'));
    // the slot's positions are contiguous and spell the transcript
    assert.equal(slot.at(-1)!.position - slot[0]!.position, slot.length - 1);
    assert.equal(
      slot
        .map((t) => t.text)
        .join('')
        .trim(),
      said,
    );
    const prompt = run.layout.segments.find((s) => s.name === 'prompt')!;
    assert.equal(prompt.start + prompt.count, run.layout.total);
    assert.ok(text.filter((t) => t.kind === 'template').length > 10);
    // a transcript past max_tokens is cut at a word boundary
    const max = model.metadata.prompt.slots!.transcript!.maxTokens;
    const long = resolveRunLayout(model.metadata, {
      slots: { transcript: 'angry '.repeat(max + 20) },
      tokenizer,
    });
    const kept = long.layout.text.filter((t) => t.kind === 'slot').length;
    assert.ok(kept <= max && kept >= max - 2, `${kept} transcript positions (max ${max})`);
  });

  it('labels byte-fallback positions with their character, the raw piece kept as the token', () => {
    const said = 'Ça va? Je suis très fâché — 我很好!';
    const run = resolveRunLayout(model.metadata, { slots: { transcript: said }, tokenizer });
    const slot = run.layout.text.filter((t) => t.kind === 'slot');
    const bytes = slot.filter((t) => /^<0x[0-9A-F]{2}>$/.test(t.token));
    assert.ok(bytes.length >= 8, `${bytes.length} byte pieces`);
    assert.ok(
      slot.every((t) => !t.text.startsWith('<0x')),
      'no <0xNN> label',
    );
    // â, é, — and 好 are byte pieces here: the character on the first, the mark on the others
    const labelled = slot.map((t) => [t.token, t.text]);
    for (const [first, n, char] of [
      ['<0xC3>', 2, 'â'],
      ['<0xE2>', 3, '—'],
      ['<0xE5>', 3, '好'],
    ] as const) {
      const at = labelled.findIndex(([token, text]) => token === first && text === char);
      assert.ok(at >= 0, char);
      for (let k = 1; k < n; k++) assert.equal(labelled[at + k]![1], BYTE_CONTINUATION, char);
    }
    assert.equal(
      slot
        .map((t) => t.text)
        .filter((t) => t !== BYTE_CONTINUATION)
        .join('')
        .trim(),
      said,
    );
  });

  it('refuses a missing or different tokenizer file, naming it', async () => {
    const onnx = join(dir, 'emotion-llama-mini.onnx');
    copyFileSync(MODEL, onnx);
    await assert.rejects(loadPromptTokenizer(onnx, model.metadata), (e: unknown) => {
      assert.ok(e instanceof ContractError);
      assert.match(e.message, /emotion-llama-mini\.tokenizer\.model .*cannot be read: ENOENT/);
      return true;
    });
    const bytes = readFileSync(join(DIR, 'emotion-llama-mini.tokenizer.model'));
    writeFileSync(
      join(dir, 'emotion-llama-mini.tokenizer.model'),
      Buffer.concat([bytes, Buffer.from([0])]),
    );
    await assert.rejects(loadPromptTokenizer(onnx, model.metadata), /has sha256 .* expects/);
  });

  for (const c of golden.cases) {
    it(`${c.name}: within ${golden.tolerance} of the exporter's PyTorch forward`, async () => {
      const input = golden.inputs[c.input]!;
      const controls = caseControls(c.controls);
      const out = await runContractModel(
        model,
        { ...miniRecipe(input), promptIds: input.prompt_ids, ...featuresOf(input) },
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

  it('FaceMAE / VideoMAE inputs: declared [1, D]; zeros are the default; features move the logits; bad feeds refused', () => {
    const optional = optionalTensorsOf(model.metadata, model.session);
    const dims = optional.featureDims!;
    const f = golden.inputs['f']!;
    assert.deepEqual(dims, {
      face_mae_features: f.features!.face_mae_features!.length,
      video_mae_features: f.features!.video_mae_features!.length,
    });
    // the same clip and prompt as input a, with features: the logits move
    assert.deepEqual(f.prompt_ids, golden.inputs['a']!.prompt_ids);
    const withFeatures = outputs.get('f/off')!.logits.data;
    const zeros = outputs.get('a/off')!.logits.data;
    assert.ok(maxAbsDiff(withFeatures, Array.from(zeros)).max > 1e-4, 'features change logits');
    const controls = caseControls(golden.cases[0]!.controls);
    const clip = { ...miniRecipe(f), promptIds: f.prompt_ids };
    const fed = buildFeeds(model.metadata, clip, controls, optional);
    assert.deepEqual(fed['face_mae_features']!.dims, [1, dims.face_mae_features]);
    assert.ok((fed['video_mae_features']!.data as Float32Array).every((x) => x === 0));
    const short = { face_mae_features: new Float32Array(3) };
    assert.throws(
      () => buildFeeds(model.metadata, { ...clip, features: short }, controls, optional),
      /face_mae_features: got 3 values, expected 32/,
    );
    assert.throws(
      () =>
        buildFeeds(model.metadata, { ...clip, features: short }, controls, {
          ...optional,
          featureDims: {},
        }),
      /the model has no "face_mae_features" input \(CONTRACT\.md §1b\)/,
    );
  });

  it('α = 0 is bit-identical to off', () => {
    const zero = outputs.get('a/ar-share-alpha0')!;
    const off = outputs.get('a/off')!;
    for (const name of Object.keys(off) as (keyof ContractOutputs)[]) {
      if (name === 'ar_flags') continue;
      assert.equal(firstBitDifference(zero[name]!.data, off[name]!.data), -1, name);
    }
  });
});
