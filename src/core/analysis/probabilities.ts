// Softmax and argmax over logits: the predictions of a run, in float64.
/** Softmax of logits, computed stably in float64. */
export function softmax(logits: ArrayLike<number>): number[] {
  const values = Array.from(logits);
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/** Index of the largest value (the first one on ties); -1 for an empty input. */
export function argmax(values: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    if (best < 0 || (values[i] as number) > (values[best] as number)) best = i;
  }
  return best;
}
