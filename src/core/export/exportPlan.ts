// What "MoSEAR: Export Emotion-LLaMA / MoSEAR Checkpoint" runs: the exporter's argument list
// (`python3 -m realexport export …`, models/realexport) from the files a user picked, and the
// quick checks made before a long export starts (each file where it should be; the LLaMA folder
// holds config.json, tokenizer.model and weights). The exporter checks every key itself; these
// checks only catch a wrong pick early, with the file named. Pure but for reading the folders.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/** The files and options of one export, as the user picked them. */
export interface ExportChoice {
  /** lora: Emotion-LLaMA (LoRA on q_proj, v_proj); mose: a MoSEAR checkpoint (MoSE experts). */
  adapter: 'lora' | 'mose';
  /** The Hugging Face Llama-2-7b-chat-hf folder. */
  llama: string;
  /** EVA-CLIP ViT-g weights (eva_vit_g.pth). */
  eva: string;
  /** The chinese-hubert-large folder. */
  hubert: string;
  /** The Emotion-LLaMA .pth, or the MoSEAR checkpoint. */
  checkpoint: string;
  /** MiniGPT-v2's .pth, loaded before the checkpoint (optional). */
  minigptv2?: string;
  /** The output .onnx (weights go to `<out>.data`). */
  out: string;
  /** How the prompt is assembled: context = get_context_emb (evaluation, default); wrap = training. */
  assembly?: 'context' | 'wrap';
  /** Audio pooling: the public demo's (default) or the training features' extractor's. */
  pooling?: 'last-mean' | 'last4-sum-mean';
  /** The checkpoint's name in the metadata (default: the output's file stem). */
  name?: string;
}

/** The interpreter's arguments: the module, its subcommand and every option, one per element. */
export function exporterArgs(choice: ExportChoice): string[] {
  const args = ['-m', 'realexport', 'export'];
  args.push('--llama', choice.llama, '--eva', choice.eva, '--hubert', choice.hubert);
  args.push('--checkpoint', choice.checkpoint, '--adapter', choice.adapter);
  if (choice.minigptv2 !== undefined) args.push('--minigptv2', choice.minigptv2);
  args.push('--assembly', choice.assembly ?? 'context');
  args.push('--pooling', choice.pooling ?? 'last-mean');
  args.push('--name', choice.name ?? basename(choice.out, extname(choice.out)));
  args.push('--out', choice.out);
  return args;
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();
const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();

/** Why a picked file or folder cannot be what it is meant to be, one message each (none: fine). */
export function exportChoiceProblems(choice: ExportChoice): string[] {
  const problems: string[] = [];
  const folder = (path: string, what: string, needs: string[], weights: RegExp) => {
    if (!isDir(path)) {
      problems.push(`${what}: ${path} is not a folder`);
      return;
    }
    for (const name of needs) {
      if (!isFile(join(path, name))) problems.push(`${what}: ${path} has no ${name}`);
    }
    if (!readdirSync(path).some((name) => weights.test(name))) {
      problems.push(`${what}: ${path} holds no weights (*.safetensors or pytorch_model*.bin)`);
    }
  };
  const weights = /\.safetensors$|^pytorch_model.*\.bin$/;
  folder(choice.llama, 'LLaMA-2 folder', ['config.json', 'tokenizer.model'], weights);
  folder(choice.hubert, 'HuBERT folder', ['config.json'], weights);
  const file = (path: string | undefined, what: string) => {
    if (path !== undefined && !isFile(path)) problems.push(`${what}: ${path} is not a file`);
  };
  file(choice.eva, 'EVA-CLIP weights');
  file(
    choice.checkpoint,
    choice.adapter === 'mose' ? 'MoSEAR checkpoint' : 'Emotion-LLaMA checkpoint',
  );
  file(choice.minigptv2, 'MiniGPT-v2 checkpoint');
  if (extname(choice.out).toLowerCase() !== '.onnx') {
    problems.push(`output: ${choice.out} must end in .onnx`);
  } else if (!isDir(dirname(choice.out))) {
    problems.push(`output: the folder ${dirname(choice.out)} does not exist`);
  }
  return problems;
}
