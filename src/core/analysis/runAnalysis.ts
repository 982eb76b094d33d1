// Everything the panels need from one session run, computed from its raw outputs: predictions,
// UAP, every ratio kind's statistics, the TypeScript flag rule's decisions, the small tensors as
// nested arrays (float32 values with the fewest digits that read back exactly) and the token rows
// as float32 blocks (never JSON numbers: they are ~90 % of a real model's result).
import type { RunAnalysis } from '../../protocol/analysisResult';
import type { ArControls, ContractMetadata } from '../../protocol/contract';
import { tokenRowsOf } from '../../protocol/tokenRows';
import { applyFlagRule, type FlagRuleResult } from '../../shared/flagRule';
import { countTokens } from '../contract/metadata';
import { argmax, softmax } from './probabilities';
import { ratioStatisticsByKind } from './ratioStatistics';
import { uapPerLayer } from './uap';

/** The float32 outputs one run produced (row-major data with its shape). */
export interface RunOutputs {
  logits: Float32Array;
  modalityMass: Float32Array;
  modalityMassAfter: Float32Array;
  arFlags: Float32Array;
  tokenAttentionBefore: Float32Array;
  tokenAttention: Float32Array;
  /** Absent for checkpoints without MoSE. */
  moseGate?: Float32Array | undefined;
  /** [L·C]: contract 1.1's `layer_logits`, when the graph has them. */
  layerLogits?: Float32Array | undefined;
}

/**
 * The shortest decimal that reads back as the same float32 (at most 9 significant digits), so
 * a saved result is compact and `Math.fround` of each value restores the tensor bit for bit.
 */
export function float32ForJson(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const target = Math.fround(value);
  // Five digits first: most attention weights need 7–9, and round values read back at 5.
  for (let digits = 5; digits < 9; digits++) {
    const candidate = Number(target.toPrecision(digits));
    if (Math.fround(candidate) === target) return candidate;
  }
  return Number(target.toPrecision(9));
}

/** Row-major float32 data as nested arrays of the given shape (each value via float32ForJson). */
export function nestedArray(data: ArrayLike<number>, dims: readonly number[]): unknown[] {
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new RangeError(`nestedArray: ${data.length} values for shape [${dims.join(', ')}]`);
  }
  const build = (offset: number, axis: number): unknown[] => {
    const length = dims[axis] as number;
    if (axis === dims.length - 1) {
      return Array.from({ length }, (_, i) => float32ForJson(data[offset + i] as number));
    }
    const stride = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length }, (_, i) => build(offset + i * stride, axis + 1));
  };
  return dims.length === 0 ? [] : build(0, 0);
}

/** The array itself when it owns its whole buffer, else a copy (so posting it sends no more). */
function owned(data: Float32Array): Float32Array {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
}

/** The TypeScript flag rule on a run's `modality_mass` with that run's controls. */
export function flagRuleForRun(
  meta: ContractMetadata,
  modalityMass: ArrayLike<number>,
  controls: ArControls,
): FlagRuleResult {
  return applyFlagRule({
    modalityMass,
    layers: meta.architecture.layers,
    heads: meta.architecture.heads,
    visualTokens: countTokens(meta.tokenLayout, 'visual'),
    audioTokens: countTokens(meta.tokenLayout, 'audio'),
    controls,
  });
}

/**
 * Analyses one run's outputs under the controls it ran with. `total` is the run's N (a 1.1
 * variable layout's, CONTRACT.md §3.3; default the metadata's).
 */
export function analyzeRun(
  meta: ContractMetadata,
  controls: ArControls,
  outputs: RunOutputs,
  total: number = meta.tokenLayout.total,
): RunAnalysis {
  const { layers: L, heads: Hh } = meta.architecture;
  const N = total;
  const probabilities = softmax(outputs.logits);
  const index = argmax(outputs.logits);
  const counts = {
    visualTokens: countTokens(meta.tokenLayout, 'visual'),
    audioTokens: countTokens(meta.tokenLayout, 'audio'),
  };
  return {
    controls: structuredClone(controls),
    logits: Array.from(outputs.logits, float32ForJson),
    probabilities,
    prediction: {
      index,
      label: meta.labels[index] ?? `#${index}`,
      probability: probabilities[index] ?? NaN,
    },
    modalityMass: nestedArray(outputs.modalityMass, [L, Hh, 3]) as number[][][],
    modalityMassAfter: nestedArray(outputs.modalityMassAfter, [L, Hh, 3]) as number[][][],
    arFlags: nestedArray(outputs.arFlags, [L, Hh]) as number[][],
    tokenAttentionBefore: tokenRowsOf(owned(outputs.tokenAttentionBefore), L, Hh, N),
    tokenAttention: tokenRowsOf(owned(outputs.tokenAttention), L, Hh, N),
    uapBefore: uapPerLayer(outputs.modalityMass, L, Hh),
    uapAfter: uapPerLayer(outputs.modalityMassAfter, L, Hh),
    ratioStatistics: ratioStatisticsByKind(outputs.modalityMass, L, Hh, counts),
    flagDecisions: flagRuleForRun(meta, outputs.modalityMass, controls).layers,
    moseGate: outputs.moseGate === undefined ? null : Array.from(outputs.moseGate, float32ForJson),
    ...(outputs.layerLogits === undefined
      ? {}
      : {
          layerLogits: nestedArray(outputs.layerLogits, [L, meta.labels.length]) as number[][],
        }),
  };
}
