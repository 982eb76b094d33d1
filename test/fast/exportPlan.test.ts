import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exportChoiceProblems, exporterArgs } from '../../src/core/export/exportPlan';
import { scratchDir } from '../helpers/tempFiles';

/** A folder laid out like the real files (empty stand-ins: only the names are checked). */
function realLayout(): Record<'llama' | 'eva' | 'hubert' | 'checkpoint' | 'out', string> {
  const dir = scratchDir('export-plan');
  const llama = join(dir, 'Llama-2-7b-chat-hf');
  const hubert = join(dir, 'chinese-hubert-large');
  mkdirSync(llama);
  mkdirSync(hubert);
  for (const name of ['config.json', 'tokenizer.model', 'model-00001-of-00002.safetensors']) {
    writeFileSync(join(llama, name), '');
  }
  writeFileSync(join(hubert, 'config.json'), '');
  writeFileSync(join(hubert, 'pytorch_model.bin'), '');
  writeFileSync(join(dir, 'eva_vit_g.pth'), '');
  writeFileSync(join(dir, 'Emoation_LLaMA.pth'), '');
  return {
    llama,
    hubert,
    eva: join(dir, 'eva_vit_g.pth'),
    checkpoint: join(dir, 'Emoation_LLaMA.pth'),
    out: join(dir, 'emotion-llama.onnx'),
  };
}

describe('exporterArgs', () => {
  it('passes every file as its own argument, with the defaults spelled out', () => {
    const files = {
      llama: '/w/llama folder',
      eva: '/w/eva.pth',
      hubert: '/w/hubert',
      checkpoint: '/w/ck; rm -rf ~.pth',
      out: '/w/out/emotion-llama.onnx',
    };
    assert.deepEqual(exporterArgs({ adapter: 'lora', ...files }), [
      '-m', 'realexport', 'export',
      '--llama', '/w/llama folder', '--eva', '/w/eva.pth', '--hubert', '/w/hubert',
      '--checkpoint', '/w/ck; rm -rf ~.pth', '--adapter', 'lora',
      '--assembly', 'context', '--pooling', 'last-mean',
      '--name', 'emotion-llama', '--out', '/w/out/emotion-llama.onnx',
    ]); // prettier-ignore
  });

  it('adds MiniGPT-v2, the MoSE adapter and the training-time options when chosen', () => {
    const args = exporterArgs({
      adapter: 'mose',
      llama: 'l',
      eva: 'e',
      hubert: 'h',
      checkpoint: 'c',
      minigptv2: 'm.pth',
      out: 'o.onnx',
      assembly: 'wrap',
      pooling: 'last4-sum-mean',
      name: 'MoSEAR',
    });
    const option = (name: string) => args[args.indexOf(name) + 1];
    assert.equal(option('--adapter'), 'mose');
    assert.equal(option('--minigptv2'), 'm.pth');
    assert.equal(option('--assembly'), 'wrap');
    assert.equal(option('--pooling'), 'last4-sum-mean');
    assert.equal(option('--name'), 'MoSEAR');
  });
});

describe('exportChoiceProblems', () => {
  it('accepts the real files laid out as downloaded', () => {
    assert.deepEqual(exportChoiceProblems({ adapter: 'lora', ...realLayout() }), []);
  });

  it('names each wrong pick: a file for a folder, a folder without its files, a bad output', () => {
    const files = realLayout();
    const problems = exportChoiceProblems({
      adapter: 'mose',
      llama: files.hubert, // no tokenizer.model there
      eva: files.llama, // a folder, not a file
      hubert: files.eva, // a file, not a folder
      checkpoint: join(files.llama, 'missing.pth'),
      out: join(files.llama, 'nowhere', 'x.onnx'),
    });
    assert.deepEqual(problems, [
      `LLaMA-2 folder: ${files.hubert} has no tokenizer.model`,
      `HuBERT folder: ${files.eva} is not a folder`,
      `EVA-CLIP weights: ${files.llama} is not a file`,
      `MoSEAR checkpoint: ${join(files.llama, 'missing.pth')} is not a file`,
      `output: the folder ${join(files.llama, 'nowhere')} does not exist`,
    ]);
    assert.deepEqual(
      exportChoiceProblems({ adapter: 'lora', ...files, out: join(files.llama, 'x.onnx.txt') }),
      [`output: ${join(files.llama, 'x.onnx.txt')} must end in .onnx`],
    );
  });

  it('says when a model folder holds no weights', () => {
    const files = realLayout();
    const empty = join(files.llama, '..', 'empty-hubert');
    mkdirSync(empty);
    writeFileSync(join(empty, 'config.json'), '');
    assert.deepEqual(exportChoiceProblems({ adapter: 'lora', ...files, hubert: empty }), [
      `HuBERT folder: ${empty} holds no weights (*.safetensors or pytorch_model*.bin)`,
    ]);
  });
});
