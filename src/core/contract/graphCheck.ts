// A model file against contract 1 or 1.1 before any session exists: its metadata, and its graph's
// declared inputs and outputs (names, element types, shapes) against the metadata, every problem
// listed at once with the CONTRACT.md section that states the rule. Only what onnxruntime alone
// can judge (operators, IR version) is left to session creation.
import type { ContractMetadata } from '../../protocol/contract';
import type { ProviderAttempt } from '../../protocol/executionProviders';
import { readOnnxGraphSignature, type GraphSignature } from '../onnx/graphProto';
import { OnnxModelError, readOnnxModelInfo, type OnnxModelInfo } from '../onnx/modelProto';
import { ContractError } from './contractError';
import { parseContractMetadata } from './metadata';
import { CONTRACT_VERSION, KNOWN_CONTRACT_VERSIONS } from './names';
import { signatureProblemList, type SignatureProblem } from './signature';

/** Where the contract lives, for messages. */
export const CONTRACT_DOC = 'models/CONTRACT.md';

/** A model file whose metadata and graph signature follow contract v1. */
export interface CheckedModelFile {
  info: OnnxModelInfo;
  metadata: ContractMetadata;
  graph: GraphSignature;
}

/**
 * Every way a graph's declared inputs and outputs disagree with the contract and the metadata
 * (names, types and ranks only when the metadata could not be read). A named (symbolic) size is
 * accepted only where the contract lets the size vary.
 */
export function graphProblems(
  meta: ContractMetadata | undefined,
  graph: GraphSignature,
): SignatureProblem[] {
  return signatureProblemList(
    meta,
    {
      inputNames: graph.inputs.map((v) => v.name),
      outputNames: graph.outputs.map((v) => v.name),
      inputMetadata: graph.inputs,
      outputMetadata: graph.outputs,
    },
    { symbolicAnywhere: false },
  );
}

/** One message naming the file and listing every problem with its CONTRACT.md sections. */
export function describeContractProblems(
  path: string,
  problems: SignatureProblem[],
  version: string = CONTRACT_VERSION,
): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return [
    `${path} does not follow the MoSEAR model contract v${version} (${CONTRACT_DOC}), ${count}:`,
    ...problems.map((p) => `  - ${p.text} (${CONTRACT_DOC} ${p.sections.join(', ')})`),
  ].join('\n');
}

/**
 * Reads a model file's metadata and graph signature (the graph's nodes and initializers are
 * skipped by length, so this stays instant on a multi-gigabyte model) and checks both against
 * the contract version it declares. Throws OnnxModelError when the file is not ONNX, and one ContractError naming the
 * file and listing every problem found.
 */
export async function readCheckedModelFile(path: string): Promise<CheckedModelFile> {
  const info = await readOnnxModelInfo(path);
  const graph = await readOnnxGraphSignature(path);
  const problems: SignatureProblem[] = [];
  let metadata: ContractMetadata | undefined;
  try {
    metadata = parseContractMetadata(info.metadata);
  } catch (error) {
    if (!(error instanceof ContractError)) throw error;
    // Not a contract model, or an unknown version: its graph cannot be judged by our tables.
    if (!KNOWN_CONTRACT_VERSIONS.includes(info.metadata.get('mosear.contract') ?? '')) {
      const section = info.metadata.has('mosear.contract') ? '§7' : '§3';
      throw new ContractError(`${path}: ${error.message} (${CONTRACT_DOC} ${section})`);
    }
    problems.push({ text: error.message, sections: ['§3'] });
  }
  problems.push(...graphProblems(metadata, graph));
  if (metadata === undefined || problems.length > 0) {
    const version = info.metadata.get('mosear.contract') ?? CONTRACT_VERSION;
    throw new ContractError(describeContractProblems(path, problems, version));
  }
  return { info, metadata, graph };
}

/**
 * Why a checkpoint whose file passed readCheckedModelFile still cannot run, from the providers
 * tried on it: the cpu provider always exists, so when it opens no session the model is at fault
 * (operators or an IR version onnxruntime does not know, which only session creation judges).
 * Undefined when cpu opened a session or was not tried.
 */
export function unrunnableModelError(
  modelPath: string,
  attempts: readonly ProviderAttempt[],
): OnnxModelError | undefined {
  const cpu = attempts.find((a) => a.provider === 'cpu');
  if (cpu === undefined || cpu.ok) return undefined;
  return new OnnxModelError(
    `${modelPath} cannot be used: onnxruntime opens no session for it, not even on cpu ` +
      `(operators and IR version are checked by onnxruntime alone): ${cpu.reason ?? 'failed'}`,
  );
}
