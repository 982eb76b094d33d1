// The label lens (issue 18): contract 1.1's `layer_logits` [L][C] (each layer's label readout of
// the answer position, CONTRACT.md §2a) as per-layer probabilities, each layer's top label, the
// answer's probability, and the layer from which the answer leads to the end ("takes over").
// Pure: the Analysis panel's chart and the CLI's summary line both use it.

/** One run's lens. */
export interface LabelLens {
  /** [L][C]: softmax of each layer's readout. */
  probabilities: number[][];
  /** Per layer: the label with the largest readout (first on ties). */
  top: number[];
  /** Per layer: the answer's probability. */
  answerProbability: number[];
  /**
   * The first layer from which the answer is the top label at every later layer, or null when
   * the last layer's top label is not the answer.
   */
  takesOver: number | null;
}

function softmaxRow(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((x) => Math.exp(x - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

function argmaxRow(row: readonly number[]): number {
  let best = 0;
  row.forEach((x, i) => {
    if (x > (row[best] as number)) best = i;
  });
  return best;
}

/** The lens of one run's `layer_logits` for the answer label `answer`. */
export function labelLens(layerLogits: readonly (readonly number[])[], answer: number): LabelLens {
  const probabilities = layerLogits.map(softmaxRow);
  const top = layerLogits.map(argmaxRow);
  let takesOver: number | null = null;
  for (let l = top.length - 1; l >= 0 && top[l] === answer; l--) takesOver = l;
  return {
    probabilities,
    top,
    answerProbability: probabilities.map((p) => p[answer] ?? 0),
    takesOver,
  };
}
