// The session's inputs and outputs against the contract: the tensors contract 1 or 1.1 requires
// (shapes from the metadata), 1.1's optional ones when declared, and a ContractError naming every
// missing or mismatched one.
import type { ContractMetadata } from '../../protocol/contract';
import { ContractError } from './contractError';
import {
  FEATURE_INPUTS,
  AUDIO_REPEAT_INPUT,
  GREEDY_TOKEN_OUTPUT,
  HEAD_GATE_INPUT,
  INPUT_NAMES,
  LABEL_PROBABILITY_OUTPUT,
  LAYER_LOGITS_OUTPUT,
  MOSE_OUTPUT,
  OUTPUT_NAMES,
  type FeatureInputName,
  type OutputName,
} from './names';

/** The optional outputs of §2a (checked only where the graph declares them). */
const optionalOutputNames: ReadonlySet<OutputName> = new Set([
  LAYER_LOGITS_OUTPUT,
  GREEDY_TOKEN_OUTPUT,
  LABEL_PROBABILITY_OUTPUT,
]);

/**
 * A contract tensor: name, element type and shape. A dimension is a number (fixed), null (any
 * size, e.g. a dynamic T or unknown metadata) or a name (1.1's variable S, P, N: the graph must
 * declare it symbolic).
 */
export interface TensorSpec {
  name: string;
  type: 'float32' | 'int64';
  shape: (number | string | null)[];
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

/**
 * The inputs contract v1 requires, with shapes taken from the metadata (CONTRACT.md §1, §3);
 * without metadata (it could not be read) every size is unknown and only names, types and ranks
 * remain.
 */
export function expectedInputs(meta?: ContractMetadata): TensorSpec[] {
  const L = meta?.architecture.layers ?? null;
  const Hh = meta?.architecture.heads ?? null;
  const T = meta === undefined || meta.frames.dynamicCount ? null : meta.frames.count;
  // 1.1: S and P are variable where the metadata says so (CONTRACT.md §1).
  const S = meta?.audio.length === 'variable' ? 'S' : (meta?.audio.samples ?? null);
  const P =
    meta?.tokenLayout.variableSegment !== undefined
      ? 'P'
      : (meta?.prompt.defaultIds.length ?? null);
  const specs: Record<(typeof INPUT_NAMES)[number], Omit<TensorSpec, 'name'>> = {
    frames: {
      type: 'float32',
      shape: [1, T, 3, meta?.frames.height ?? null, meta?.frames.width ?? null],
    },
    audio: { type: 'float32', shape: [1, S] },
    prompt_ids: { type: 'int64', shape: [1, P] },
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

/**
 * The optional inputs of a graph: `head_gate` (§1a) and the feature inputs (§1b, whose D is the
 * graph's own) from 1.1 on, `audio_repeat` (§1c) from 1.2 on; a contract-1 model has none.
 */
export function optionalInputs(meta?: ContractMetadata): TensorSpec[] {
  if (meta === undefined || meta.contract === '1') return [];
  const { layers: L, heads: Hh } = meta.architecture;
  const optional: TensorSpec[] = [
    { name: HEAD_GATE_INPUT, type: 'float32', shape: [L, Hh] },
    ...FEATURE_INPUTS.map((name): TensorSpec => ({ name, type: 'float32', shape: [1, null] })),
  ];
  if (meta.contract === '1.1') return optional;
  return [...optional, { name: AUDIO_REPEAT_INPUT, type: 'int64', shape: [] }];
}

/** D of a feature input's declared shape [1, D] (§1b); undefined unless a fixed D ≥ 1. */
export function featureDimOf(shape: ReadonlyArray<number | string>): number | undefined {
  const d = shape[1];
  return shape.length === 2 && typeof d === 'number' && Number.isInteger(d) && d >= 1
    ? d
    : undefined;
}

/** The feature inputs a graph declares, with their D (§1b; none for a contract-1 model). */
export function featureDimsOf(
  meta: ContractMetadata,
  inputs: readonly { readonly name: string; readonly shape?: ReadonlyArray<number | string> }[],
): Partial<Record<FeatureInputName, number>> {
  const dims: Partial<Record<FeatureInputName, number>> = {};
  if (meta.contract === '1') return dims;
  for (const name of FEATURE_INPUTS) {
    const shape = inputs.find((i) => i.name === name)?.shape;
    const d = shape === undefined ? undefined : featureDimOf(shape);
    if (d !== undefined) dims[name] = d;
  }
  return dims;
}

/** The section of CONTRACT.md that defines an optional input. */
function optionalInputSection(name: string): string | undefined {
  if (name === HEAD_GATE_INPUT) return '§1a';
  if (name === AUDIO_REPEAT_INPUT) return '§1c';
  return (FEATURE_INPUTS as readonly string[]).includes(name) ? '§1b' : undefined;
}

/** Contract 1.1's optional outputs (§2a, also in 1.2); a contract-1 model reads none. */
export function optionalOutputs(meta?: ContractMetadata): TensorSpec[] {
  if (meta === undefined || meta.contract === '1') return [];
  const L = meta.architecture.layers;
  return [
    { name: LAYER_LOGITS_OUTPUT, type: 'float32', shape: [L, meta.labels.length] },
    { name: GREEDY_TOKEN_OUTPUT, type: 'int64', shape: [1] },
    { name: LABEL_PROBABILITY_OUTPUT, type: 'float32', shape: [1] },
  ];
}

/**
 * The outputs contract v1 requires (`mose_gate` only when the architecture has MoSE; without
 * metadata it is left out, and sizes are unknown as in expectedInputs).
 */
export function expectedOutputs(meta?: ContractMetadata): TensorSpec[] {
  const L = meta?.architecture.layers ?? null;
  const Hh = meta?.architecture.heads ?? null;
  // With a varying frame count the number of visual tokens, and so N, varies with it; a 1.1
  // layout with a variable segment varies with the prompt, a 1.2 graph with `audio_repeat` with
  // k (the graph names N).
  const N =
    meta === undefined || meta.frames.dynamicCount
      ? null
      : meta.tokenLayout.variableSegment !== undefined || meta.audio.repeatMax !== undefined
        ? 'N'
        : meta.tokenLayout.total;
  const specs: Record<(typeof OUTPUT_NAMES)[number], TensorSpec['shape']> = {
    logits: [1, meta?.labels.length ?? null],
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
  if (meta?.architecture.mose === true) {
    outputs.push({ name: MOSE_OUTPUT, type: 'float32', shape: [L] });
  }
  return outputs;
}

/** Formats a shape for messages: [1, T, 3] with null as "?" (a name is a symbolic size). */
export function formatShape(shape: ReadonlyArray<number | string | null>): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** How declared shapes are compared with the contract's. */
interface ShapeRule {
  /**
   * True for a session (onnxruntime names a dimension it cannot infer, so any named one is let
   * through); false for the graph's own declaration, where a named dimension is allowed only
   * where the contract lets the size vary (T when `mosear.frames.dynamic_count` is true; 1.1's
   * variable S, P and N, which must be named).
   */
  symbolicAnywhere: boolean;
}

function shapeMatches(
  declared: ReadonlyArray<number | string>,
  expected: TensorSpec['shape'],
  rule: ShapeRule,
) {
  // onnxruntime reports an undeclared shape as []; only a declared rank can disagree.
  if (rule.symbolicAnywhere && declared.length === 0 && expected.length > 0) return true;
  if (declared.length !== expected.length) return false;
  return declared.every((d, i) => {
    const want = expected[i];
    if (want === null || want === undefined) return true;
    if (typeof want === 'string') return rule.symbolicAnywhere || typeof d === 'string';
    return typeof d === 'string' ? rule.symbolicAnywhere : d === want;
  });
}

/** One way a model's inputs or outputs break the contract, with the CONTRACT.md sections. */
export interface SignatureProblem {
  text: string;
  /** CONTRACT.md sections that state the rule, e.g. ["§2", "§3"]. */
  sections: string[];
}

function checkValue(
  kind: 'input' | 'output',
  spec: TensorSpec,
  info: ValueInfo | undefined,
  rule: ShapeRule,
  problems: SignatureProblem[],
): void {
  if (!info) return;
  const section =
    kind === 'input'
      ? (optionalInputSection(spec.name) ?? '§1')
      : optionalOutputNames.has(spec.name as OutputName)
        ? '§2a'
        : '§2';
  if (!info.isTensor) {
    problems.push({ text: `${kind} "${spec.name}" is not a tensor`, sections: [section] });
    return;
  }
  if (info.type !== undefined && info.type !== spec.type) {
    problems.push({
      text: `${kind} "${spec.name}" has type ${info.type}, expected ${spec.type}`,
      sections: [section],
    });
  }
  if (info.shape !== undefined && !shapeMatches(info.shape, spec.shape, rule)) {
    problems.push({
      text: `${kind} "${spec.name}" has shape ${formatShape(info.shape)}, expected ${formatShape(spec.shape)}`,
      sections: [section, '§3'],
    });
  }
}

/**
 * Every way declared inputs and outputs disagree with the contract and the metadata (all sizes
 * unknown when `meta` is undefined), each with the CONTRACT.md sections that state the rule.
 */
export function signatureProblemList(
  meta: ContractMetadata | undefined,
  signature: SessionSignature,
  rule: ShapeRule = { symbolicAnywhere: true },
): SignatureProblem[] {
  const problems: SignatureProblem[] = [];
  const inputs = expectedInputs(meta);
  const outputs = expectedOutputs(meta);
  const extraInputs = optionalInputs(meta);
  const version = meta?.contract ?? '1';
  const inputInfo = new Map(signature.inputMetadata.map((m) => [m.name, m]));
  const outputInfo = new Map(signature.outputMetadata.map((m) => [m.name, m]));
  for (const spec of inputs) {
    if (!signature.inputNames.includes(spec.name)) {
      problems.push({ text: `missing input "${spec.name}"`, sections: ['§1'] });
    } else checkValue('input', spec, inputInfo.get(spec.name), rule, problems);
  }
  for (const spec of extraInputs) {
    if (signature.inputNames.includes(spec.name)) {
      checkValue('input', spec, inputInfo.get(spec.name), rule, problems);
      const info = inputInfo.get(spec.name);
      const isFeature = (FEATURE_INPUTS as readonly string[]).includes(spec.name);
      // The engine feeds zeros of the graph's own D, so D must be declared (§1b).
      const shape = info?.shape;
      if (isFeature && shape?.length === 2 && featureDimOf(shape) === undefined) {
        problems.push({
          text: `input "${spec.name}" has shape ${formatShape(shape)}, expected [1, D] with a fixed D`,
          sections: ['§1b'],
        });
      }
    }
  }
  for (const name of signature.inputNames) {
    if (!inputs.some((s) => s.name === name) && !extraInputs.some((s) => s.name === name)) {
      problems.push({
        text: `unexpected input "${name}" (contract v${version} has no such input)`,
        sections:
          version === '1'
            ? ['§1']
            : version === '1.1'
              ? ['§1', '§1a', '§1b']
              : ['§1', '§1a', '§1b', '§1c'],
      });
    }
  }
  // 1.2: `audio_repeat` is declared in the graph exactly when the metadata gives its cap.
  if (meta?.contract === '1.2') {
    const declared = signature.inputNames.includes(AUDIO_REPEAT_INPUT);
    if (declared !== (meta.audio.repeatMax !== undefined)) {
      problems.push({
        text: declared
          ? `input "${AUDIO_REPEAT_INPUT}" is present but mosear.audio.repeat_max is not`
          : `mosear.audio.repeat_max is set but the graph has no input "${AUDIO_REPEAT_INPUT}"`,
        sections: ['§1c', '§3'],
      });
    }
  }
  for (const spec of outputs) {
    if (!signature.outputNames.includes(spec.name)) {
      problems.push({
        text: `missing output "${spec.name}"`,
        sections: spec.name === MOSE_OUTPUT ? ['§2', '§3'] : ['§2'],
      });
    } else checkValue('output', spec, outputInfo.get(spec.name), rule, problems);
  }
  // 1.1's optional outputs are checked when declared; any other unknown output is ignored.
  for (const spec of optionalOutputs(meta)) {
    if (signature.outputNames.includes(spec.name)) {
      checkValue('output', spec, outputInfo.get(spec.name), rule, problems);
    }
  }
  if (meta?.architecture.mose === false && signature.outputNames.includes(MOSE_OUTPUT)) {
    problems.push({
      text: `output "${MOSE_OUTPUT}" is present but mosear.architecture.mose is false`,
      sections: ['§2', '§3'],
    });
  }
  return problems;
}

/** Lists every way a session's inputs and outputs disagree with the contract and metadata. */
export function signatureProblems(meta: ContractMetadata, session: SessionSignature): string[] {
  return signatureProblemList(meta, session).map((p) => p.text);
}

/** Throws a ContractError naming every missing or mismatched input and output. */
export function validateSessionSignature(meta: ContractMetadata, session: SessionSignature): void {
  const problems = signatureProblems(meta, session);
  if (problems.length > 0) {
    throw new ContractError(
      `model does not follow contract v${meta.contract}: ${problems.join('; ')}`,
    );
  }
}
