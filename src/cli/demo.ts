// `npm run demo`: run a shipped checkpoint on a shipped sample clip's pre-decoded tensors, with
// the checkpoint's recommended intervention and without, and print what AR flagged and why.
// The engine issue replaces this with the real `mosear-lens` CLI.
import { readdir } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { RATIO_KIND_NAMES, type ArControls } from '../protocol/contract';
import { applyFlagRule } from '../core/ar/flagRule';
import { argmax, softmax } from '../core/analysis/probabilities';
import { ContractError } from '../core/contract/contractError';
import { defaultControls } from '../core/contract/controls';
import { countTokens } from '../core/contract/metadata';
import {
  closeContractModel,
  openContractModel,
  runContractModel,
  type ContractModel,
  type ContractOutputs,
} from '../core/inference/contractModel';
import { OnnxModelError } from '../core/onnx/modelProto';
import { TensorFileError, readFloat32File } from '../core/tensors/float32File';
import { textTable } from './textTable';

/** The repository root: dist/cli/demo.js lives two folders below it. */
const packageRoot = resolve(__dirname, '..', '..');
const DEFAULT_MODEL = join(packageRoot, 'models', 'checkpoints', 'mosear-tiny.onnx');
const SAMPLES_DIR = join(packageRoot, 'models', 'samples');

/** A mistake the user can fix: printed without a stack trace. */
class UsageError extends Error {}

interface DemoArgs {
  model: string;
  sample: string | undefined;
}

function parseArgs(argv: string[]): DemoArgs {
  const args: DemoArgs = { model: DEFAULT_MODEL, sample: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') {
      console.log('usage: npm run demo -- [--model <file.onnx>] [--sample <name | path base>]');
      console.log(`  --model   contract model (default ${relative(process.cwd(), DEFAULT_MODEL)})`);
      console.log('  --sample  <name> under models/samples, or a path without .frames.f32');
      process.exit(0);
    }
    if ((flag === '--model' || flag === '--sample') && value !== undefined) {
      if (flag === '--model') args.model = resolve(value);
      else args.sample = value;
      i++;
      continue;
    }
    throw new UsageError(`unknown or incomplete argument "${flag}" (try --help)`);
  }
  return args;
}

/** Resolves a sample to its tensor base path (without `.frames.f32`). */
async function findSample(sample: string | undefined): Promise<string> {
  if (sample !== undefined && (sample.includes('/') || sample.includes('\\'))) {
    return resolve(sample);
  }
  let names: string[];
  try {
    names = (await readdir(SAMPLES_DIR))
      .filter((f) => f.endsWith('.frames.f32'))
      .map((f) => f.slice(0, -'.frames.f32'.length))
      .sort();
  } catch {
    throw new UsageError(`no sample clips: ${relative(process.cwd(), SAMPLES_DIR)} is missing`);
  }
  if (names.length === 0) throw new UsageError(`no *.frames.f32 files in ${SAMPLES_DIR}`);
  if (sample === undefined) return join(SAMPLES_DIR, names[0] as string);
  if (!names.includes(sample)) {
    throw new UsageError(`no sample "${sample}"; available: ${names.join(', ')}`);
  }
  return join(SAMPLES_DIR, sample);
}

function describeControls(c: ArControls): string {
  const fmt = (v: number) => String(Number(v.toPrecision(4)));
  if (c.mode === 0) return 'no intervention';
  const layers = c.layers.flatMap((on, l) => (on > 0.5 ? [l] : [])).join(',');
  if (c.mode === 2) return `PAI-style, gain ${fmt(c.paiAlpha)}, layers ${layers}`;
  return (
    `AR, ratio ${RATIO_KIND_NAMES[c.ratioKind]}, τ [${c.tau.map(fmt).join(', ')}], ` +
    `margin ${fmt(c.headMargin)}, α ${fmt(c.alpha)}, layers ${layers}`
  );
}

function printPredictions(model: ContractModel, plain: ContractOutputs, ar: ContractOutputs) {
  const labels = model.metadata.labels;
  const pPlain = softmax(plain.logits.data);
  const pAr = softmax(ar.logits.data);
  const rows = [['', 'without AR', 'with AR']];
  rows.push([
    'prediction',
    labels[argmax(plain.logits.data)] ?? '?',
    labels[argmax(ar.logits.data)] ?? '?',
  ]);
  labels.forEach((label, i) => {
    rows.push([`  p(${label})`, (pPlain[i] ?? 0).toFixed(4), (pAr[i] ?? 0).toFixed(4)]);
  });
  console.log(textTable(rows, ['left', 'right', 'right']));
}

function printFlags(model: ContractModel, controls: ArControls, ar: ContractOutputs) {
  const meta = model.metadata;
  const { layers: L, heads: Hh } = meta.architecture;
  const rule = applyFlagRule({
    modalityMass: ar.modality_mass.data,
    layers: L,
    heads: Hh,
    visualTokens: countTokens(meta.tokenLayout, 'visual'),
    audioTokens: countTokens(meta.tokenLayout, 'audio'),
    controls,
  });
  const flagged: string[][] = [];
  const kind = RATIO_KIND_NAMES[controls.ratioKind];
  for (const d of rule.layers) {
    for (let h = 0; h < Hh; h++) {
      if ((ar.ar_flags.data[d.layer * Hh + h] ?? 0) < 0.5) continue;
      const reason = d.reasons[h] ?? '';
      flagged.push([
        String(d.layer),
        String(h),
        (d.headStatistics[h] ?? 0).toPrecision(4),
        `> ${d.headThreshold.toPrecision(4)}`,
        d.statistic.toPrecision(4),
        `${d.triggered ? '>' : '≤'} ${d.tau.toPrecision(4)}`,
        reason === 'automatic' ? '' : reason,
      ]);
    }
  }
  const total = ar.ar_flags.data.reduce((n, f) => n + (f > 0.5 ? 1 : 0), 0);
  console.log(`\nflagged heads: ${total} of ${L * Hh} (statistic: ${kind})`);
  if (controls.mode !== 1) {
    console.log('  (PAI-style acts on every head of the enabled layers)');
    return;
  }
  if (flagged.length === 0) return;
  const header = ['layer', 'head', 'head stat', 'vs (1+m)·mean', 'layer stat', 'vs τ', ''];
  const table = textTable(
    [header, ...flagged],
    ['right', 'right', 'right', 'left', 'right', 'left'],
  );
  console.log(table.replace(/^/gm, '  '));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const base = await findSample(args.sample);
  const model = await openContractModel(args.model);
  try {
    const meta = model.metadata;
    const { count: T, height: H, width: W } = meta.frames;
    const frames = await readFloat32File(`${base}.frames.f32`, T * 3 * H * W);
    const audio = await readFloat32File(`${base}.audio.f32`, meta.audio.samples);
    const withAr = defaultControls(meta);
    if (withAr.mode === 0) withAr.mode = 1; // the checkpoint recommends no intervention: show AR
    const withoutAr: ArControls = { ...withAr, mode: 0 };

    const started = performance.now();
    const plain = await runContractModel(model, { frames, audio }, withoutAr);
    const ar = await runContractModel(model, { frames, audio }, withAr);
    const ms = (performance.now() - started) / 2;

    const arch = meta.architecture;
    console.log(
      `model     ${meta.checkpoint.name} (${relative(process.cwd(), args.model)}; ` +
        `${arch.layers} layers × ${arch.heads} heads${arch.mose ? ', MoSE' : ''})`,
    );
    console.log(
      `clip      ${basename(base)} (${T} frames ${W}×${H}, ` +
        `${meta.audio.windowSeconds} s audio at ${meta.audio.sampleRateHz / 1000} kHz)`,
    );
    console.log(`with AR   ${describeControls(withAr)}`);
    console.log(
      `runtime   onnxruntime-node, ${model.executionProvider}, ${ms.toFixed(1)} ms per run\n`,
    );
    printPredictions(model, plain, ar);
    printFlags(model, withAr, ar);
  } finally {
    await closeContractModel(model);
  }
}

main().catch((error: unknown) => {
  const known =
    error instanceof UsageError ||
    error instanceof ContractError ||
    error instanceof OnnxModelError ||
    error instanceof TensorFileError ||
    (error instanceof Error && 'code' in error && error.code === 'ENOENT');
  const message = error instanceof Error ? error.message : String(error);
  console.error(`mosear-lens demo: ${message}`);
  if (!known && error instanceof Error && error.stack) console.error(error.stack);
  process.exitCode = 1;
});
