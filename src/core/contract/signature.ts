// The session's inputs and outputs against the contract: the tensors v1 requires (shapes from the
// metadata) and a ContractError naming every missing or mismatched one.
import type { ContractMetadata } from '../../protocol/contract';
import { ContractError } from './contractError';
import { INPUT_NAMES, MOSE_OUTPUT, OUTPUT_NAMES } from './names';

/** A contract tensor: name, element type and shape (null = any size, e.g. a dynamic T). */
export interface TensorSpec {
  name: string;
  type: 'float32' | 'int64';
  shape: (number | null)[];
}

/** What a session reports about one input or output (onnxruntime's ValueMetadata, structurally). */
export interface ValueInfo {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

/** The part of an onnxruntime InferenceSession that the signature check reads. */
export interface SessionSignature {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueInfo[];
  readonly outputMetadata: readonly ValueInfo[];
}

/** The inputs contract v1 requires, with shapes taken from the metadata (CONTRACT.md §1, §3). */
export function expectedInputs(meta: ContractMetadata): TensorSpec[] {
  const { layers: L, heads: Hh } = meta.architecture;
  const T = meta.frames.dynamicCount ? null : meta.frames.count;
  const specs: Record<(typeof INPUT_NAMES)[number], Omit<TensorSpec, 'name'>> = {
    frames: { type: 'float32', shape: [1, T, 3, meta.frames.height, meta.frames.width] },
    audio: { type: 'float32', shape: [1, meta.audio.samples] },
    prompt_ids: { type: 'int64', shape: [1, meta.prompt.defaultIds.length] },
    ar_mode: { type: 'int64', shape: [] },
    ar_tau: { type: 'float32', shape: [L] },
    ar_ratio_kind: { type: 'int64', shape: [] },
    ar_head_margin: { type: 'float32', shape: [] },
    ar_alpha: { type: 'float32', shape: [] },
    pai_alpha: { type: 'float32', shape: [] },
    ar_layers: { type: 'float32', shape: [L] },
    ar_head_override: { type: 'float32', shape: [L, Hh] },
  };
  return INPUT_NAMES.map((name) => ({ name, ...specs[name] }));
}

/** The outputs contract v1 requires (`mose_gate` only when the architecture has MoSE). */
export function expectedOutputs(meta: ContractMetadata): TensorSpec[] {
  const { layers: L, heads: Hh } = meta.architecture;
  const N = meta.tokenLayout.total;
  const specs: Record<(typeof OUTPUT_NAMES)[number], TensorSpec['shape']> = {
    logits: [1, meta.labels.length],
    modality_mass: [L, Hh, 3],
    modality_mass_after: [L, Hh, 3],
    ar_flags: [L, Hh],
    token_attention_before: [L, Hh, N],
    token_attention: [L, Hh, N],
  };
  const outputs: TensorSpec[] = OUTPUT_NAMES.map((name) => ({
    name,
    type: 'float32',
    shape: specs[name],
  }));
  if (meta.architecture.mose) outputs.push({ name: MOSE_OUTPUT, type: 'float32', shape: [L] });
  return outputs;
}

/** Formats a shape for messages: [1, T, 3] with null as "?". */
export function formatShape(shape: ReadonlyArray<number | string | null>): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

function shapeMatches(declared: ReadonlyArray<number | string>, expected: (number | null)[]) {
  // onnxruntime reports an undeclared shape as []; only a declared rank can disagree.
  if (declared.length === 0 && expected.length > 0) return true;
  if (declared.length !== expected.length) return false;
  return declared.every(
    (d, i) => typeof d === 'string' || expected[i] === null || d === expected[i],
  );
}

function checkValue(
  kind: 'input' | 'output',
  spec: TensorSpec,
  info: ValueInfo | undefined,
  problems: string[],
): void {
  if (!info) return;
  if (!info.isTensor) {
    problems.push(`${kind} "${spec.name}" is not a tensor`);
    return;
  }
  if (info.type !== undefined && info.type !== spec.type) {
    problems.push(`${kind} "${spec.name}" has type ${info.type}, expected ${spec.type}`);
  }
  if (info.shape !== undefined && !shapeMatches(info.shape, spec.shape)) {
    problems.push(
      `${kind} "${spec.name}" has shape ${formatShape(info.shape)}, expected ${formatShape(spec.shape)}`,
    );
  }
}

/** Lists every way a session's inputs and outputs disagree with the contract and metadata. */
export function signatureProblems(meta: ContractMetadata, session: SessionSignature): string[] {
  const problems: string[] = [];
  const inputs = expectedInputs(meta);
  const outputs = expectedOutputs(meta);
  const inputInfo = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const outputInfo = new Map(session.outputMetadata.map((m) => [m.name, m]));
  for (const spec of inputs) {
    if (!session.inputNames.includes(spec.name)) problems.push(`missing input "${spec.name}"`);
    else checkValue('input', spec, inputInfo.get(spec.name), problems);
  }
  for (const name of session.inputNames) {
    if (!inputs.some((s) => s.name === name)) {
      problems.push(`unexpected input "${name}" (contract v1 has no such input)`);
    }
  }
  for (const spec of outputs) {
    if (!session.outputNames.includes(spec.name)) problems.push(`missing output "${spec.name}"`);
    else checkValue('output', spec, outputInfo.get(spec.name), problems);
  }
  if (!meta.architecture.mose && session.outputNames.includes(MOSE_OUTPUT)) {
    problems.push(`output "${MOSE_OUTPUT}" is present but mosear.architecture.mose is false`);
  }
  return problems;
}

/** Throws a ContractError naming every missing or mismatched input and output. */
export function validateSessionSignature(meta: ContractMetadata, session: SessionSignature): void {
  const problems = signatureProblems(meta, session);
  if (problems.length > 0) {
    throw new ContractError(`model does not follow contract v1: ${problems.join('; ')}`);
  }
}
